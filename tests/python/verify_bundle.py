#!/usr/bin/env python3
"""Verify a seqprov bundle with nothing but Python and public packages.

This is the recipe of spec/verify-in-python.md. It shares no code with seqprov: it
reads the bundle (an RFC 8742 CBOR sequence) with cbor2, checks the seal's COSE_Sign1
with pycose against a public key given as an SPKI PEM file, recomputes every Merkle leaf
and the Merkle root exactly as spec/bundle.md section 9 defines them and compares the
root with the one the seal signs, then checks every custody event: its COSE signature
(pycose, with the key its payload names) and its links (`prev`, `seq`, `root`) as
spec/custody.md section 5 defines them. With --dir it also re-hashes the sealed files.

Exit status: 0 when everything holds, 1 when anything does not (the message says what),
2 for usage errors and unreadable files.

    python3 verify_bundle.py BUNDLE KEY.pub [--dir DIR]

Packages: cbor2 (<6), pycose, cryptography, blake3.
"""

import argparse
import hashlib
import io
import os
import stat
import sys
import traceback

import blake3
import cbor2
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pycose import headers
from pycose.algorithms import EdDSA
from pycose.keys.curves import Ed25519
from pycose.keys.okp import OKPKey
from pycose.messages import CoseMessage, Sign1Message

SEAL_CONTENT_TYPE = "application/vnd.seqprov.seal+cbor"
EVENT_CONTENT_TYPE = "application/vnd.seqprov.event+cbor"
# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the key id is the SHA-256
# of this prefix followed by the 32-byte public key (spec/bundle.md section 10.1).
SPKI_ED25519_PREFIX = bytes.fromhex("302a300506032b6570032100")
COSE_SIGN1_TAG = 18


class Failure(Exception):
    """The bundle does not verify; the message says why."""


def fail(message):
    raise Failure(message)


# --- keys -------------------------------------------------------------------------------


def load_public_key(path):
    """The raw 32-byte Ed25519 public key of an SPKI PEM file.

    seqprov key files may carry a `Signer: NAME` line before the PEM block; only the
    block is given to the PEM parser.
    """
    with open(path, "rb") as f:
        text = f.read()
    start = text.find(b"-----BEGIN")
    if start < 0:
        raise ValueError(f"{path}: no PEM block")
    key = load_pem_public_key(text[start:])
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_key):
    """seqprov key id: SHA-256 of the SPKI DER encoding of the public key."""
    return hashlib.sha256(SPKI_ED25519_PREFIX + public_key).digest()


# --- CBOR -------------------------------------------------------------------------------


def split_sequence(data):
    """Split a CBOR sequence into (offset, exact bytes, decoded item) triples."""
    stream = io.BytesIO(data)
    items = []
    while stream.tell() < len(data):
        start = stream.tell()
        try:
            item = cbor2.CBORDecoder(stream).decode()
        except Exception as e:  # cbor2 raises several types for truncated or bad input
            fail(f"byte {start}: not a complete CBOR item (a torn write or garbage): {e}")
        items.append((start, data[start : stream.tell()], item))
    return items


def require_canonical(raw, item, what):
    """Deterministic encoding (RFC 8949 section 4.2.1): re-encoding gives the same bytes.

    This only rejects non-canonical input; the bytes that are hashed and verified are
    always the bytes as found, never the re-encoding.
    """
    if cbor2.dumps(item, canonical=True) != raw:
        fail(f"{what} is not in deterministic CBOR encoding")


def array_head_length(buf):
    """Length in bytes of the definite-length array head at the start of `buf`."""
    if not buf or buf[0] >> 5 != 4:
        fail("the entry list is not a CBOR array")
    info = buf[0] & 0x1F
    if info < 24:
        return 1
    if info in (24, 25, 26, 27):
        return 1 + (1 << (info - 24))
    fail("the entry list is not a definite-length array")


# --- COSE_Sign1 -------------------------------------------------------------------------


def parse_sign1(raw, item, what, content_type):
    """Check the fixed COSE_Sign1 shape of spec/bundle.md section 5; return
    (protected header, payload bytes, payload)."""
    if not isinstance(item, cbor2.CBORTag) or item.tag != COSE_SIGN1_TAG:
        fail(f"{what} is not a tagged COSE_Sign1 (tag 18)")
    require_canonical(raw, item, what)
    if not isinstance(item.value, list) or len(item.value) != 4:
        fail(f"{what} is not a COSE_Sign1 array of four items")
    protected_bytes, unprotected, payload_bytes, signature = item.value
    if not isinstance(protected_bytes, bytes) or not isinstance(payload_bytes, bytes):
        fail(f"{what}: protected header or payload is not a byte string")
    if unprotected != {}:
        fail(f"{what}: the unprotected header is not empty")
    if not isinstance(signature, bytes):
        fail(f"{what}: the signature is not a byte string")
    protected = cbor2.loads(protected_bytes)
    require_canonical(protected_bytes, protected, f"{what}: protected header")
    if set(protected) != {1, 3, 4} or protected[1] != -8:
        fail(f"{what}: protected header is not exactly {{1: -8, 3: type, 4: kid}}")
    if protected[3] != content_type:
        fail(f"{what}: content type is {protected[3]!r}, not {content_type!r}")
    if not isinstance(protected[4], bytes) or len(protected[4]) != 32:
        fail(f"{what}: kid is not 32 bytes")
    payload = cbor2.loads(payload_bytes)
    require_canonical(payload_bytes, payload, f"{what}: payload")
    if not isinstance(payload, dict):
        fail(f"{what}: payload is not a map")
    return protected, payload


def verify_cose(raw, public_key, what):
    """Verify a COSE_Sign1 (pure Ed25519, empty external AAD) with pycose.

    pycose builds the Sig_structure from the protected header bytes exactly as found.
    """
    message = CoseMessage.decode(raw)
    if not isinstance(message, Sign1Message):
        fail(f"{what} is not a COSE_Sign1")
    if message.get_attr(headers.Algorithm) is not EdDSA:
        fail(f"{what}: algorithm is not EdDSA")
    if message.get_attr(headers.KID) != key_id(public_key):
        fail(f"{what}: the kid in the header is not the key id of {public_key.hex()}")
    message.key = OKPKey(crv=Ed25519, x=public_key)
    try:
        valid = message.verify_signature()
    except Exception as e:  # malformed signature bytes
        fail(f"{what}: signature does not verify ({e})")
    if not valid:
        fail(f"{what}: signature does not verify")


# --- entries and the Merkle tree (spec/bundle.md sections 7, 9 and 11) -------------------


def check_path(path):
    if not isinstance(path, str) or path == "":
        fail(f"entry path {path!r} is empty or not text")
    if path.startswith("/") or "\0" in path or "\\" in path:
        fail(f"entry path {path!r} is absolute or holds NUL or a backslash")
    for component in path.split("/"):
        if component in ("", ".", ".."):
            fail(f"entry path {path!r} has an empty, `.` or `..` component")


def check_entry(entry, with_sha256):
    if not isinstance(entry, dict):
        fail("an entry is not a map")
    check_path(entry.get("path"))
    path = entry["path"]
    salt = entry.get("salt")
    if not isinstance(salt, bytes) or len(salt) != 32:
        fail(f"{path}: salt is not 32 bytes")
    kind = entry.get("kind")
    if kind == "file":
        if not isinstance(entry.get("size"), int) or entry["size"] < 0:
            fail(f"{path}: file entry without a size")
        for name in ["blake3"] + (["sha256"] if with_sha256 else []):
            if not isinstance(entry.get(name), bytes) or len(entry[name]) != 32:
                fail(f"{path}: file entry without a 32-byte {name}")
        if not with_sha256 and "sha256" in entry:
            fail(f"{path}: sha256 present although the seal does not list it")
        if "target" in entry:
            fail(f"{path}: file entry with a target")
    elif kind == "symlink":
        if not isinstance(entry.get("target"), str):
            fail(f"{path}: symlink entry without a target")
        if {"size", "blake3", "sha256"} & set(entry):
            fail(f"{path}: symlink entry with file fields")
    elif kind == "dir":
        if {"size", "blake3", "sha256", "target"} & set(entry):
            fail(f"{path}: dir entry with file or symlink fields")
    else:
        fail(f"{path}: unknown kind {kind!r}")


def leaf_hash(entry_bytes):
    return blake3.blake3(b"\x00" + entry_bytes).digest()


def node_hash(left, right):
    return blake3.blake3(b"\x01" + left + right).digest()


def merkle_root(leaves):
    """RFC 6962 shape: split at the largest power of two below n; one leaf is its own
    root; no leaves give BLAKE3(0x02)."""
    if not leaves:
        return blake3.blake3(b"\x02").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def entries_with_bytes(list_raw):
    """Each entry of the entry list with its exact encoded bytes (the leaf input)."""
    stream = io.BytesIO(list_raw)
    stream.seek(array_head_length(list_raw))
    out = []
    while stream.tell() < len(list_raw):
        start = stream.tell()
        entry = cbor2.CBORDecoder(stream).decode()
        out.append((entry, list_raw[start : stream.tell()]))
    return out


# --- the sealed directory (optional) -----------------------------------------------------


def file_digests(path):
    b3, sha = blake3.blake3(), hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            b3.update(chunk)
            sha.update(chunk)
            size += len(chunk)
    return size, b3.digest(), sha.digest()


def check_directory(directory, entries):
    """Compare every sealed entry with the directory (files not in the seal are not
    looked for: `seqprov verify` does that)."""
    problems = []
    for entry in entries:
        path = entry["path"]
        full = os.path.join(directory, *path.split("/"))
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            problems.append(f"{path}: missing")
            continue
        kind = entry["kind"]
        if kind == "file":
            if not stat.S_ISREG(st.st_mode):
                problems.append(f"{path}: no longer a regular file")
                continue
            size, b3, sha = file_digests(full)
            if size != entry["size"] or b3 != entry["blake3"]:
                problems.append(f"{path}: modified")
            elif "sha256" in entry and sha != entry["sha256"]:
                problems.append(f"{path}: modified (SHA-256 differs)")
        elif kind == "symlink":
            if not stat.S_ISLNK(st.st_mode):
                problems.append(f"{path}: no longer a symbolic link")
            elif os.readlink(os.fsencode(full)) != entry["target"].encode():
                problems.append(f"{path}: link target changed")
        elif not stat.S_ISDIR(st.st_mode):
            problems.append(f"{path}: no longer a directory")
    if problems:
        fail("the directory does not match the seal: " + "; ".join(problems))


# --- the whole check --------------------------------------------------------------------


def verify_bundle(data, public_key, directory=None, out=print):
    items = split_sequence(data)
    if len(items) < 2:
        fail("the bundle holds no entry list after the seal")

    # 1. The seal: shape, key, signature.
    _, seal_raw, seal_item = items[0]
    protected, payload = parse_sign1(seal_raw, seal_item, "seal", SEAL_CONTENT_TYPE)
    if payload.get("format") != "seqprov.seal" or payload.get("version") != 1:
        fail("the seal payload is not seqprov.seal version 1")
    signer = payload.get("signer") or {}
    if signer.get("public_key") != public_key:
        fail(
            f"the seal was made by key {bytes(signer.get('public_key', b'')).hex()}, "
            f"not by the given key {public_key.hex()}"
        )
    verify_cose(seal_raw, public_key, "seal")
    out(f"seal: signature valid ({signer.get('name')}, {signer.get('role')}, {payload.get('time')})")

    # 2. The entry list: every leaf from the exact entry bytes, then the root.
    _, list_raw, list_item = items[1]
    if not isinstance(list_item, list):
        fail("the second item is not the entry list (an array)")
    require_canonical(list_raw, list_item, "entry list")
    with_sha256 = payload.get("digests") == ["blake3", "sha256"]
    if payload.get("digests") not in (["blake3"], ["blake3", "sha256"]):
        fail(f"unsupported digest list {payload.get('digests')!r}")
    entries = entries_with_bytes(list_raw)
    previous = None
    for entry, _ in entries:
        check_entry(entry, with_sha256)
        key = entry["path"].encode()
        if previous is not None and previous >= key:
            fail(f"entries are not sorted by path bytes at {entry['path']!r}")
        previous = key
    files = [e for e, _ in entries if e["kind"] == "file"]
    counts = (len(entries), len(files), sum(e["size"] for e in files))
    if counts != (payload.get("entries"), payload.get("files"), payload.get("bytes")):
        fail(f"the entry list (entries, files, bytes) = {counts} does not match the seal")
    root = merkle_root([leaf_hash(raw) for _, raw in entries])
    if root != payload.get("root"):
        fail(
            f"Merkle root mismatch: the entries hash to {root.hex()}, "
            f"the seal signs {bytes(payload.get('root', b'')).hex()}"
        )
    out(f"entries: {counts[0]} ({counts[1]} files, {counts[2]} bytes), root {root.hex()} matches")

    # 3. Custody events: signature by the key each names, and the hash chain.
    previous_raw = seal_raw
    for position, (offset, raw, item) in enumerate(items[2:], start=1):
        what = f"custody event {position} (byte {offset})"
        _, event = parse_sign1(raw, item, what, EVENT_CONTENT_TYPE)
        if event.get("format") != "seqprov.event" or event.get("version") != 1:
            fail(f"{what}: payload is not seqprov.event version 1")
        event_key = (event.get("signer") or {}).get("public_key")
        if not isinstance(event_key, bytes) or len(event_key) != 32:
            fail(f"{what}: signer.public_key is not 32 bytes")
        verify_cose(raw, event_key, what)
        if event.get("prev") != blake3.blake3(previous_raw).digest():
            fail(f"{what}: does not link to the previous message (prev)")
        if event.get("seq") != position:
            fail(f"{what}: says it is event {event.get('seq')}")
        if event.get("root") != payload["root"]:
            fail(f"{what}: attests another Merkle root")
        s = event["signer"]
        out(
            f"custody event {position}: {event.get('kind')} at {event.get('time')} by "
            f"{s.get('name')} ({s.get('role')}; key id {key_id(event_key).hex()[:16]}): "
            "signature valid, linked"
        )
        previous_raw = raw

    # 4. Optionally, the files themselves.
    if directory is not None:
        check_directory(directory, [e for e, _ in entries])
        out(f"directory: every sealed entry of {directory} matches")
    return payload


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", help="the .seqprov bundle")
    parser.add_argument("public_key", help="the sealer's public key (SPKI PEM)")
    parser.add_argument("--dir", help="also re-hash the sealed directory")
    args = parser.parse_args(argv)
    try:
        with open(args.bundle, "rb") as f:
            data = f.read()
        public_key = load_public_key(args.public_key)
    except (OSError, ValueError) as e:
        print(f"verify_bundle: error: {e}", file=sys.stderr)
        return 2
    try:
        verify_bundle(data, public_key, args.dir)
    except Failure as e:
        print(f"verify_bundle: FAILED: {e}", file=sys.stderr)
        return 1
    print("verify_bundle: OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # a bug, not a verdict: never let it pass for a failed check
        traceback.print_exc()
        sys.exit(3)
