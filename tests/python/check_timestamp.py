"""Interop check of a seqprov timestamp token with Trail of Bits' rfc3161-client.

Usage: check_timestamp.py RESPONSE.tsr ROOT.pem MESSAGE
  RESPONSE.tsr  a DER TimeStampResp wrapping the token (`openssl ts -reply -token_in`)
  ROOT.pem      the TSA root certificate to verify against
  MESSAGE       the exact bytes of the stamped message (a seal or custody event)
Exits 0 when the token verifies against the message, 1 otherwise.
"""

import sys

from cryptography import x509
from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

with open(sys.argv[1], "rb") as f:
    response = decode_timestamp_response(f.read())
with open(sys.argv[2], "rb") as f:
    root = x509.load_pem_x509_certificate(f.read())
with open(sys.argv[3], "rb") as f:
    message = f.read()
try:
    ok = VerifierBuilder(roots=[root]).build().verify_message(response, message)
except VerificationError as e:
    print(f"rfc3161-client: {e}")
    sys.exit(1)
print(f"rfc3161-client: verified={ok}")
sys.exit(0 if ok else 1)
