#!/usr/bin/env python3
"""Deterministic benchmark fixtures for benches/compare.sh.

Usage: gen_fixtures.py FIXTURE SCALE OUTDIR

FIXTURE is one of:
  a  run-folder-shaped tree: ~11,000 files of ~96 KiB under
     Data/Intensities/BaseCalls/L001/C<cycle>.1/ (about 1 GiB)
  b  one 2 GiB file
  c  200,000 files of 4 KiB (many tiny files), 1,000 per directory
  d  NovaSeq-shaped tree: 151 cycles x 2 surfaces = 302 CBCL-sized files
     of 8-32 MiB (about 6 GiB)

SCALE (a positive float) multiplies file counts (a, c, d) or the file size
(b), so that `--scale 0.01` makes a quick smoke-test set.

Every file's bytes come from `random.Random(seed).randbytes`, seeded from a
BLAKE2b of the fixture letter and the file's relative path, so the same
arguments always give byte-identical trees (not all zeros, not compressible).
The tree is written to OUTDIR.tmp and renamed to OUTDIR when complete.
"""

import hashlib
import os
import random
import shutil
import sys

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
CHUNK = 8 * MIB  # randbytes() is generated and written in chunks of this size


def seed_for(fixture: str, rel: str) -> int:
    digest = hashlib.blake2b(f"seqprov-bench:{fixture}:{rel}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def write_file(root: str, fixture: str, rel: str, size: int) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = random.Random(seed_for(fixture, rel))
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, CHUNK)
            f.write(rng.randbytes(n))
            left -= n


def scaled(n: int, scale: float) -> int:
    return max(1, round(n * scale))


def run_info(root: str, fixture: str, cycles: int, instrument: str) -> None:
    text = (
        '<?xml version="1.0"?>\n'
        f'<RunInfo Version="5"><Run Id="BENCH_{fixture.upper()}" Number="1">'
        f"<Instrument>{instrument}</Instrument>"
        f'<Reads><Read Number="1" NumCycles="{cycles}" IsIndexedRead="N"/></Reads>'
        "</Run></RunInfo>\n"
    )
    with open(os.path.join(root, "RunInfo.xml"), "w") as f:
        f.write(text)


def gen_a(root: str, scale: float) -> None:
    # 275 cycles x 40 tiles (2 surfaces x 20 tiles) = 11,000 BCL files.
    cycles = scaled(275, scale)
    tiles = [f"{surface}1{tile:02d}" for surface in (1, 2) for tile in range(1, 21)]
    rng = random.Random(seed_for("a", "sizes"))
    run_info(root, "a", cycles, "M00001")
    base = "Data/Intensities/BaseCalls/L001"
    for tile in tiles:
        write_file(root, "a", f"{base}/s_1_{tile}.filter", 4 * KIB + rng.randrange(0, 1024))
    for cycle in range(1, cycles + 1):
        for tile in tiles:
            # ~96 KiB: uniform in [88 KiB, 104 KiB)
            size = 96 * KIB + rng.randrange(-8 * KIB, 8 * KIB)
            write_file(root, "a", f"{base}/C{cycle}.1/s_1_{tile}.bcl", size)


def gen_b(root: str, scale: float) -> None:
    size = max(4 * KIB, int(2 * GIB * scale) // (4 * KIB) * (4 * KIB))
    write_file(root, "b", "big.bin", size)


def gen_c(root: str, scale: float) -> None:
    total = scaled(200_000, scale)
    for i in range(total):
        write_file(root, "c", f"d{i // 1000:03d}/f{i % 1000:04d}.bin", 4 * KIB)


def gen_d(root: str, scale: float) -> None:
    cycles = scaled(151, scale)
    rng = random.Random(seed_for("d", "sizes"))
    run_info(root, "d", cycles, "A00001")
    write_file(root, "d", "Data/Intensities/s.locs", 1 * MIB)
    base = "Data/Intensities/BaseCalls/L001"
    for cycle in range(1, cycles + 1):
        for surface in (1, 2):
            size = rng.randint(8 * MIB, 32 * MIB)
            write_file(root, "d", f"{base}/C{cycle}.1/L001_{surface}.cbcl", size)


GENERATORS = {"a": gen_a, "b": gen_b, "c": gen_c, "d": gen_d}


def main() -> int:
    if len(sys.argv) != 4 or sys.argv[1] not in GENERATORS:
        print(__doc__, file=sys.stderr)
        return 2
    fixture, scale, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    if not scale > 0:
        print("SCALE must be > 0", file=sys.stderr)
        return 2
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    GENERATORS[fixture](tmp, scale)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
