#!/usr/bin/env python3
"""Write tampered copies of a bundle for the negative checks of run_interop.sh.

    python3 tamper_bundle.py BUNDLE OUTDIR

Writes into OUTDIR (each must then fail verification):
  seal-payload.seqprov   one bit of the Merkle root in the seal's signed payload flipped
  entry-list.seqprov     the last byte of the entry list changed (a digest or target)
  event-payload.seqprov  one byte of the last custody event's signed payload changed
  event-removed.seqprov  the first custody event removed (the next no longer links)
  events-swapped.seqprov the first two custody events swapped
  torn.seqprov           the last 5 bytes cut off (a torn append)
"""

import os
import sys

import verify_bundle


def flip_inside(raw, needle_item, what):
    """Flip the last byte of the first occurrence of `needle_item` (bytes) in `raw`."""
    at = raw.find(needle_item)
    if at < 0:
        raise SystemExit(f"tamper_bundle: {what} not found")
    out = bytearray(raw)
    out[at + len(needle_item) - 1] ^= 0x01
    return bytes(out)


def main(bundle_path, out_dir):
    with open(bundle_path, "rb") as f:
        data = f.read()
    items = verify_bundle.split_sequence(data)
    if len(items) < 4:
        raise SystemExit("tamper_bundle: the bundle needs at least two custody events")
    seal_raw, list_raw = items[0][1], items[1][1]
    events = [raw for _, raw, _ in items[2:]]
    signed_root = verify_bundle.cbor2.loads(items[0][2].value[2])["root"]
    last_event_payload = items[-1][2].value[2]

    copies = {
        "seal-payload.seqprov": flip_inside(seal_raw, signed_root, "signed root")
        + list_raw
        + b"".join(events),
        "entry-list.seqprov": seal_raw
        + list_raw[:-1]
        + bytes([list_raw[-1] ^ 0x01])
        + b"".join(events),
        "event-payload.seqprov": seal_raw
        + list_raw
        + b"".join(events[:-1])
        + flip_inside(events[-1], last_event_payload, "event payload"),
        "event-removed.seqprov": seal_raw + list_raw + b"".join(events[1:]),
        "events-swapped.seqprov": seal_raw
        + list_raw
        + events[1]
        + events[0]
        + b"".join(events[2:]),
        "torn.seqprov": data[:-5],
    }
    os.makedirs(out_dir, exist_ok=True)
    for name, content in copies.items():
        assert content != data, name
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(content)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
