#!/usr/bin/env python3
"""Deterministic benchmark fixtures for benches/compare.sh.

Usage: gen_fixtures.py FIXTURE SCALE OUTDIR
       gen_fixtures.py --toolchain FIXTURE

FIXTURE is one of:
  a  per-tile BCL run folder (MiSeq/HiSeq layout), complete and structurally
     valid: 275 cycles x 40 tiles = 11,000 .bcl files of 88-104 KiB under
     Data/Intensities/BaseCalls/L001/C<cycle>.1/, 40 .filter files,
     RunInfo.xml with a FlowcellLayout, RTAComplete.txt (about 1 GiB)
  b  one 2 GiB file
  c  200,000 files of 4 KiB (many tiny files), 1,000 per directory
  d  NovaSeq-shaped CBCL run folder, complete and structurally valid:
     151 cycles x 2 surfaces = 302 .cbcl files of 8-32 MiB (16 tiles each),
     32 .filter files, s.locs, RunInfo.xml with a FlowcellLayout,
     RTAComplete.txt and CopyComplete.txt (about 6 GiB)
  e  one gzip FASTQ (4,140,000 Illumina-style records of 150 bp, about
     1.5 GB uncompressed) in gzip/, and the same FASTQ as BGZF in bgzf/
     (when bgzip is installed); fastq.tsv beside them gives the sizes

SCALE (a positive float) multiplies file counts (a: cycles, c, d: cycles),
the file size (b) or the number of FASTQ records (e), so that
`--scale 0.01` makes a quick smoke-test set.

Every random byte comes from `random.Random(seed)`, seeded from a BLAKE2b of
the fixture letter and the file's relative path, so the same arguments give
byte-identical trees. The compressed parts (CBCL blocks, .fastq.gz) also
depend on the compressor's version, which `--toolchain FIXTURE` prints
(compare.sh puts it in the fixture's stamp). The tree is written to
OUTDIR.tmp, by SEQPROV_BENCH_JOBS worker processes (default: one per CPU),
and renamed to OUTDIR when complete.
"""

import concurrent.futures
import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
CHUNK = 8 * MIB  # randbytes() is generated and written in chunks of this size

BASECALLS = "Data/Intensities/BaseCalls/L001"

# BCL byte: bits 0-1 base, bits 2-7 quality; 0 is a no-call. Bytes 1-7 are a
# called base with quality 0 or 1, which no instrument writes (the structure
# check notes them in lenient mode and refuses them in strict mode): setting
# bit 3 turns them into quality 2. Bytes 168-255 hold a quality above 41, which no
# instrument writes either (broken in every mode): clearing bit 7 turns them into
# qualities 10-31. The body stays random and is valid.
BCL_VALID = bytes(
    b | 8 if 1 <= b <= 7 else b & 0x7F if b >= 168 else b for b in range(256)
)
# .filter byte: 1 = passed filter (about 78 %), 0 = failed.
PF_BYTE = bytes(1 if b < 200 else 0 for b in range(256))
# FASTQ: uniform bases; NovaSeq-style binned qualities (F=Q37, :=Q25, ,=Q11, #=Q2).
BASES = bytes(b"ACGT"[b & 3] for b in range(256))
QUALS = b"F" * 218 + b":" * 26 + b"," * 10 + b"#" * 2
assert len(QUALS) == 256

# CBCL (fixture d): 2 bits per base call, 2 bits per quality, the four quality
# bins of NovaSeq files ((bin, Q) = (0, 0), (1, 11), (2, 25), (3, 37)).
CBCL_BINS = [(0, 0), (1, 11), (2, 25), (3, 37)]
D_SWATHS, D_TILES_PER_SWATH = 4, 4  # 16 tiles per surface and so per .cbcl file
D_CLUSTERS = 4 * MIB  # clusters per tile: 2 MiB of base calls per tile and cycle

# FASTQ (fixture e).
E_READS = 4_140_000  # x 362 bytes = about 1.5 GB
E_READ_LEN = 150
E_READS_PER_TILE = 8_000
E_NAME = "S1_L001_R1_001.fastq.gz"


def seed_for(fixture: str, rel: str) -> int:
    digest = hashlib.blake2b(f"seqprov-bench:{fixture}:{rel}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def open_new(root: str, rel: str):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return open(path, "wb")


def write_random(root: str, fixture: str, rel: str, size: int) -> None:
    rng = random.Random(seed_for(fixture, rel))
    with open_new(root, rel) as f:
        left = size
        while left > 0:
            n = min(left, CHUNK)
            f.write(rng.randbytes(n))
            left -= n


def write_text(root: str, rel: str, text: str) -> None:
    with open_new(root, rel) as f:
        f.write(text.encode())


def write_bcl(root: str, fixture: str, rel: str, clusters: int) -> None:
    """u32 cluster count, then one random (valid) byte per cluster."""
    rng = random.Random(seed_for(fixture, rel))
    with open_new(root, rel) as f:
        f.write(struct.pack("<I", clusters))
        f.write(rng.randbytes(clusters).translate(BCL_VALID))


def write_filter(root: str, fixture: str, rel: str, clusters: int) -> None:
    """u32 0, u32 version 3, u32 cluster count, then one byte (0 or 1) per cluster."""
    rng = random.Random(seed_for(fixture, rel))
    with open_new(root, rel) as f:
        f.write(struct.pack("<III", 0, 3, clusters))
        left = clusters
        while left > 0:
            n = min(left, CHUNK)
            f.write(rng.randbytes(n).translate(PF_BYTE))
            left -= n


def write_locs(root: str, fixture: str, rel: str, clusters: int) -> None:
    """u32 1, f32 1.0, u32 cluster count, then (f32 x, f32 y) per cluster."""
    rng = random.Random(seed_for(fixture, rel))
    coords = [rng.uniform(0.0, 32000.0) for _ in range(2 * clusters)]
    with open_new(root, rel) as f:
        f.write(struct.pack("<IfI", 1, 1.0, clusters))
        f.write(struct.pack(f"<{2 * clusters}f", *coords))


def write_cbcl(root: str, fixture: str, rel: str, tiles: list, clusters: int, target: int) -> None:
    """A version-1 CBCL with one gzip block per tile.

    Every tile has `clusters` clusters, so each block inflates to
    ceil(clusters * 4 / 8) bytes (2 bits base + 2 bits quality). The file size
    varies from cycle to cycle as real CBCLs do, by compressibility: each
    block is `k` random bytes followed by zeros, with `k` chosen so the file
    comes out at about `target` bytes. Blocks are deflated at level 1.
    """
    rng = random.Random(seed_for(fixture, rel))
    uncompressed = (clusters * 4 + 7) // 8
    header_size = 17 + 8 * len(CBCL_BINS) + 16 * len(tiles)
    per_tile = (target - header_size) // len(tiles) - 64  # 64: gzip framing and zeros
    k = max(0, min(uncompressed, per_tile))
    zeros = bytes(uncompressed - k)
    blocks = []
    for _ in tiles:
        z = zlib.compressobj(1, zlib.DEFLATED, 31)
        blocks.append(z.compress(rng.randbytes(k)) + z.compress(zeros) + z.flush())
    header = [struct.pack("<HIBBI", 1, header_size, 2, 2, len(CBCL_BINS))]
    header += [struct.pack("<II", *b) for b in CBCL_BINS]
    header.append(struct.pack("<I", len(tiles)))
    header += [struct.pack("<IIII", t, clusters, uncompressed, len(b)) for t, b in zip(tiles, blocks)]
    header.append(b"\x00")  # non-PF clusters not excluded: blocks hold every cluster
    with open_new(root, rel) as f:
        f.write(b"".join(header))
        for b in blocks:
            f.write(b)


def write_many_random(root: str, fixture: str, files: list) -> None:
    for rel, size in files:
        write_random(root, fixture, rel, size)


def write_many_bcl(root: str, fixture: str, files: list) -> None:
    for rel, clusters in files:
        write_bcl(root, fixture, rel, clusters)


def cpus() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else (os.cpu_count() or 1)


def run_jobs(jobs: list) -> None:
    """Run (function, args...) jobs in worker processes; each job writes its own files."""
    workers = int(os.environ.get("SEQPROV_BENCH_JOBS", "0")) or cpus()
    if workers <= 1 or len(jobs) <= 1:
        for fn, *args in jobs:
            fn(*args)
        return
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(fn, *args) for fn, *args in jobs]
        for fut in futures:
            fut.result()


def scaled(n: int, scale: float) -> int:
    return max(1, round(n * scale))


def run_info(root: str, fixture: str, version: int, instrument: str, cycles: int,
             surfaces: int, swaths: int, tiles_per_swath: int) -> None:
    """RunInfo.xml from which seqprov derives exactly the files the fixture holds."""
    text = (
        '<?xml version="1.0"?>\n'
        f'<RunInfo Version="{version}">\n'
        f'  <Run Id="BENCH_{fixture.upper()}" Number="1">\n'
        f"    <Flowcell>BENCH{fixture.upper()}XX</Flowcell>\n"
        f"    <Instrument>{instrument}</Instrument>\n"
        "    <Date>2024-01-02T03:04:05Z</Date>\n"
        f'    <Reads><Read Number="1" NumCycles="{cycles}" IsIndexedRead="N"/></Reads>\n'
        f'    <FlowcellLayout LaneCount="1" SurfaceCount="{surfaces}" SwathCount="{swaths}"'
        f' TileCount="{tiles_per_swath}">\n'
        '      <TileSet TileNamingConvention="FourDigit"/>\n'
        "    </FlowcellLayout>\n"
        "  </Run>\n"
        "</RunInfo>\n"
    )
    write_text(root, "RunInfo.xml", text)


def gen_a(root: str, scale: float) -> None:
    # 2 surfaces x 1 swath x 20 tiles = 40 tiles, 275 cycles: 11,000 BCL files.
    # A tile has the same number of clusters in every cycle and in its filter.
    cycles = scaled(275, scale)
    tiles = [s * 1000 + 100 + t for s in (1, 2) for t in range(1, 21)]
    rng = random.Random(seed_for("a", "sizes"))
    # ~96 KiB files: 4 + clusters uniform in [88 KiB, 104 KiB)
    clusters = {t: 96 * KIB + rng.randrange(-8 * KIB, 8 * KIB) - 4 for t in tiles}
    run_info(root, "a", 2, "M00001", cycles, 2, 1, 20)
    write_text(root, "RTAComplete.txt", "RTA 1.18.54 completed on 1/2/2024 4:05:06 AM\n")
    jobs = [(write_filter, root, "a", f"{BASECALLS}/s_1_{t}.filter", clusters[t]) for t in tiles]
    for cycle in range(1, cycles + 1):
        files = [(f"{BASECALLS}/C{cycle}.1/s_1_{t}.bcl", clusters[t]) for t in tiles]
        jobs.append((write_many_bcl, root, "a", files))
    run_jobs(jobs)


def gen_b(root: str, scale: float) -> None:
    size = max(4 * KIB, int(2 * GIB * scale) // (4 * KIB) * (4 * KIB))
    write_random(root, "b", "big.bin", size)


def gen_c(root: str, scale: float) -> None:
    total = scaled(200_000, scale)
    jobs = []
    for d in range(0, total, 1000):
        files = [(f"d{i // 1000:03d}/f{i % 1000:04d}.bin", 4 * KIB) for i in range(d, min(total, d + 1000))]
        jobs.append((write_many_random, root, "c", files))
    run_jobs(jobs)


def gen_d(root: str, scale: float) -> None:
    cycles = scaled(151, scale)
    rng = random.Random(seed_for("d", "sizes"))
    run_info(root, "d", 5, "A00001", cycles, 2, D_SWATHS, D_TILES_PER_SWATH)
    write_text(root, "RTAComplete.txt", "2024-01-02T04:05:06Z\n")
    write_text(root, "CopyComplete.txt", "")
    surfaces = {
        s: [s * 1000 + w * 100 + t for w in range(1, D_SWATHS + 1) for t in range(1, D_TILES_PER_SWATH + 1)]
        for s in (1, 2)
    }
    jobs = [(write_locs, root, "d", "Data/Intensities/s.locs", (MIB - 12) // 8)]
    for tiles in surfaces.values():
        jobs += [(write_filter, root, "d", f"{BASECALLS}/s_1_{t}.filter", D_CLUSTERS) for t in tiles]
    for cycle in range(1, cycles + 1):
        for s, tiles in surfaces.items():
            target = rng.randint(8 * MIB, 32 * MIB)
            jobs.append((write_cbcl, root, "d", f"{BASECALLS}/C{cycle}.1/L001_{s}.cbcl", tiles, D_CLUSTERS, target))
    run_jobs(jobs)


def e_compressors() -> tuple:
    """(gzip argv, bgzf argv or None): pigz -6 if installed, else gzip -6; bgzip -l 6."""
    threads = str(cpus())
    gz = ["pigz", "-6", "-n", "-c", "-p", threads] if shutil.which("pigz") else ["gzip", "-6", "-n", "-c"]
    bgzf = ["bgzip", "-c", "-l", "6", "-@", threads] if shutil.which("bgzip") else None
    return gz, bgzf


def fastq_records(scale: float):
    """Yield the FASTQ bytes a tile at a time."""
    total = scaled(E_READS, scale)
    rng = random.Random(seed_for("e", E_NAME))
    tiles = [s * 1000 + w * 100 + t for s in (1, 2) for w in range(1, 5) for t in range(1, 79)]
    done, index = 0, 0
    while done < total:
        lane, tile = 1 + index // len(tiles), tiles[index % len(tiles)]
        n = min(E_READS_PER_TILE, total - done)
        seq = rng.randbytes(E_READ_LEN * n).translate(BASES)
        qual = rng.randbytes(E_READ_LEN * n).translate(QUALS)
        step = 36000 // n
        parts = []
        for i in range(n):
            x = rng.randrange(1000, 32000)
            y = 1000 + i * step + rng.randrange(step)
            a, b = i * E_READ_LEN, (i + 1) * E_READ_LEN
            parts.append(b"@A00111:296:HJCWWDSXX:%d:%d:%d:%d 1:N:0:ACGTACGT\n%s\n+\n%s\n"
                         % (lane, tile, x, y, seq[a:b], qual[a:b]))
        done += n
        index += 1
        yield b"".join(parts), n


def gen_e(root: str, scale: float) -> None:
    gz_cmd, bgzf_cmd = e_compressors()
    targets = [(gz_cmd, "gzip")] + ([(bgzf_cmd, "bgzf")] if bgzf_cmd else [])
    procs = []
    for cmd, sub in targets:
        os.makedirs(os.path.join(root, sub))
        with open(os.path.join(root, sub, E_NAME), "wb") as out:
            procs.append((cmd, subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out)))
    nbytes = reads = 0
    for chunk, n in fastq_records(scale):
        nbytes += len(chunk)
        reads += n
        for _, p in procs:
            p.stdin.write(chunk)
    for cmd, p in procs:
        p.stdin.close()
        if p.wait() != 0:
            raise SystemExit(f"{' '.join(cmd)} failed with exit code {p.returncode}")
    info = (f"file\t{E_NAME}\nfastq_bytes\t{nbytes}\nreads\t{reads}\ngzip\t{' '.join(gz_cmd[:3])}\n"
            f"bgzf\t{' '.join(bgzf_cmd[:4]) if bgzf_cmd else 'none (bgzip not installed)'}\n")
    write_text(root, "fastq.tsv", info)


def tool_version(argv: list) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError:
        return "none"
    lines = (out.stdout + out.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def toolchain(fixture: str) -> str:
    """What besides this script decides the fixture's bytes (one line, for the stamp)."""
    if fixture == "d":
        return f"zlib-{zlib.ZLIB_RUNTIME_VERSION}"
    if fixture == "e":
        gz, bgzf = e_compressors()
        parts = [tool_version([gz[0], "--version"])]
        parts.append(tool_version(["bgzip", "--version"]) if bgzf else "no-bgzip")
        return "/".join(p.replace(" ", "-") for p in parts)
    return "-"


GENERATORS = {"a": gen_a, "b": gen_b, "c": gen_c, "d": gen_d, "e": gen_e}


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--toolchain" and sys.argv[2] in GENERATORS:
        print(toolchain(sys.argv[2]))
        return 0
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
