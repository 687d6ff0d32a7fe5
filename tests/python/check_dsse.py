#!/usr/bin/env python3
"""Check a `seqprov export --format in-toto` envelope with securesystemslib.

The DSSE envelope is verified by securesystemslib's `Envelope.verify` with an `SSlibKey`
made from the signer's SPKI PEM public key (its keyid set to the seqprov key id, the
SHA-256 of the SPKI DER, which is what the envelope's `keyid` carries). Then the
in-toto Statement inside is checked against spec/export.md: statement and predicate
types, one subject whose digests are the seal's Merkle root (and `dirHash` when the
seal has SHA-256), and the seal's COSE_Sign1 carried in the predicate, which is verified
again with pycose.

    python3 check_dsse.py ENVELOPE.json KEY.pub [--bundle B] [--seal-key SEALER.pub]
                          [--expect-dirhash HEX]

Exit status: 0 when everything holds, 1 when anything does not, 2 for unreadable input.
"""

import argparse
import base64
import hashlib
import json
import sys
import traceback

from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey

import verify_bundle

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://seqprov.dev/provenance/seal/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"


def sslib_key(path):
    """An SSlibKey for an SPKI PEM Ed25519 key, with the seqprov key id as keyid."""
    with open(path, "rb") as f:
        text = f.read()
    public = load_pem_public_key(text[text.find(b"-----BEGIN") :])
    der = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    keyid = hashlib.sha256(der).hexdigest()
    return SSlibKey.from_crypto(public, keyid=keyid), public.public_bytes(
        Encoding.Raw, PublicFormat.Raw
    )


def check(envelope_json, key_path, bundle=None, seal_key_path=None, expect_dirhash=None):
    key, _ = sslib_key(key_path)
    envelope = Envelope.from_dict(envelope_json)
    if envelope.payload_type != PAYLOAD_TYPE:
        verify_bundle.fail(f"payloadType is {envelope.payload_type!r}")
    try:
        accepted = envelope.verify([key], 1)
    except VerificationError as e:
        verify_bundle.fail(f"DSSE envelope does not verify with {key_path}: {e}")
    print(f"dsse: signature valid (securesystemslib, keyid {list(accepted)[0]})")

    statement = json.loads(envelope.payload)
    if statement.get("_type") != STATEMENT_TYPE:
        verify_bundle.fail(f"_type is {statement.get('_type')!r}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        verify_bundle.fail(f"predicateType is {statement.get('predicateType')!r}")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1:
        verify_bundle.fail("the statement does not have exactly one subject")
    digest = subjects[0]["digest"]
    predicate = statement["predicate"]
    seal = predicate["seal"]
    if digest.get("seqprov-merkle-blake3") != seal["root"]:
        verify_bundle.fail("the subject's Merkle root is not the seal's root")
    has_sha256 = seal["digests"] == ["blake3", "sha256"]
    if has_sha256 != ("dirHash" in digest):
        verify_bundle.fail("dirHash must be present exactly when the seal has SHA-256")

    # The dirHash recomputed from the predicate's own entries.
    if "dirHash" in digest:
        files = sorted(
            (e for e in predicate["entries"] if e["kind"] == "file"),
            key=lambda e: e["path"].encode(),
        )
        lines = "".join(f"{e['sha256']}  {e['path']}\n" for e in files)
        recomputed = hashlib.sha256(lines.encode()).hexdigest()
        if digest["dirHash"] != recomputed:
            verify_bundle.fail("dirHash does not match the entries of the predicate")
        if expect_dirhash is not None and digest["dirHash"] != expect_dirhash:
            verify_bundle.fail(
                f"dirHash {digest['dirHash']} is not the expected {expect_dirhash}"
            )

    # The carried seal is the seal's exact COSE_Sign1: verify it again, independently.
    seal_raw = base64.b64decode(seal["cose_sign1"], validate=True)
    if seal_key_path is not None:
        seal_key = verify_bundle.load_public_key(seal_key_path)
        verify_bundle.verify_cose(seal_raw, seal_key, "the seal in the predicate")
    if bundle is not None:
        items = verify_bundle.split_sequence(bundle)
        if items[0][1] != seal_raw:
            verify_bundle.fail("the predicate's seal is not the bundle's seal")
        if len(predicate["custody"]) != len(items) - 2:
            verify_bundle.fail("the predicate does not list every custody event")
        for event, (_, raw, _) in zip(predicate["custody"], items[2:]):
            if base64.b64decode(event["cose_sign1"], validate=True) != raw:
                verify_bundle.fail(f"custody event {event['seq']} differs from the bundle's")
    print(
        f"statement: subject {subjects[0]['name']!r} digests {sorted(digest)}, "
        f"{len(predicate['entries'])} entries, {len(predicate['custody'])} custody events"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("envelope", help="the DSSE envelope (JSON)")
    parser.add_argument("public_key", help="public key (SPKI PEM) of the envelope signer")
    parser.add_argument("--bundle", help="the exported bundle, to compare the messages")
    parser.add_argument("--seal-key", help="the sealer's public key, to re-check the seal")
    parser.add_argument("--expect-dirhash", help="dirHash computed from the directory")
    args = parser.parse_args(argv)
    try:
        with open(args.envelope, "rb") as f:
            envelope_json = json.load(f)
        bundle = None
        if args.bundle:
            with open(args.bundle, "rb") as f:
                bundle = f.read()
    except (OSError, ValueError) as e:
        print(f"check_dsse: error: {e}", file=sys.stderr)
        return 2
    try:
        check(envelope_json, args.public_key, bundle, args.seal_key, args.expect_dirhash)
    except (verify_bundle.Failure, KeyError, TypeError, ValueError) as e:
        print(f"check_dsse: FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print("check_dsse: OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # a bug, not a verdict: never let it pass for a failed check
        traceback.print_exc()
        sys.exit(3)
