#!/usr/bin/env python3
"""A stand-in for the analysis that must only ever see verified FASTQs: counts the reads
and bases of every FASTQ in a folder and prints a table (file, reads, bases).

    stand_in_analysis.py FASTQ_DIR > counts.tsv
"""
import gzip
import os
import sys


def main(fastq_dir: str) -> None:
    print("file\treads\tbases")
    for name in sorted(os.listdir(fastq_dir)):
        if not name.endswith((".fastq.gz", ".fq.gz")):
            continue
        reads = bases = 0
        with gzip.open(os.path.join(fastq_dir, name), "rt") as fastq:
            for i, line in enumerate(fastq):
                if i % 4 == 1:
                    reads += 1
                    bases += len(line.strip())
        print(f"{name}\t{reads}\t{bases}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
