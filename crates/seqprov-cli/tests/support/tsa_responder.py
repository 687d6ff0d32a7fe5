"""A loopback RFC 3161 Time-Stamp Authority for seqprov's tests: every POSTed
application/timestamp-query is answered by `openssl ts -reply` (a real TSA
implementation) with the configuration and section the test names.

Usage: tsa_responder.py CONFIG SECTION PORT_FILE [--replay FILE] [--save FILE]
  Listens on 127.0.0.1 on a free port, writes the port to PORT_FILE, serves until
  killed. --save keeps the last reply in FILE; --replay answers every request with
  FILE's bytes instead (a replayed answer: its nonce is not the request's).
"""

import http.server
import subprocess
import sys
import tempfile
import os

config, section, port_file = sys.argv[1], sys.argv[2], sys.argv[3]
options = dict(zip(sys.argv[4::2], sys.argv[5::2]))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        query = self.rfile.read(min(length, 1 << 16))
        if self.headers.get("Content-Type") != "application/timestamp-query":
            self.send_error(415)
            return
        if "--replay" in options:
            with open(options["--replay"], "rb") as f:
                reply = f.read()
        else:
            with tempfile.TemporaryDirectory() as work:
                query_path = os.path.join(work, "query.tsq")
                reply_path = os.path.join(work, "reply.tsr")
                with open(query_path, "wb") as f:
                    f.write(query)
                subprocess.run(
                    ["openssl", "ts", "-reply", "-config", config, "-section", section,
                     "-queryfile", query_path, "-out", reply_path],
                    check=True, capture_output=True, cwd=os.path.dirname(config))
                with open(reply_path, "rb") as f:
                    reply = f.read()
        if "--save" in options:
            with open(options["--save"], "wb") as f:
                f.write(reply)
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
