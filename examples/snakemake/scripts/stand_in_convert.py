#!/usr/bin/env python3
"""A stand-in for the core's BCL-to-FASTQ conversion (bcl-convert, bcl2fastq), so the
Snakemake example runs anywhere: for each sample of the run's SampleSheet.csv it writes
SAMPLE_S<n>_R1_001.fastq.gz with a few reads whose names follow Illumina's convention for
this run (instrument, run number, flow cell from RunInfo.xml; lane 1, tile 1101) and whose
length is the run's first read's cycle count. It reads nothing else and is deterministic
(gzip header time 0), so sealing its output is reproducible.

    stand_in_convert.py RUN_DIR OUT_DIR
"""
import csv
import gzip
import os
import sys
import xml.etree.ElementTree as ET

READS_PER_SAMPLE = 4


def main(run_dir: str, out_dir: str) -> None:
    run = ET.parse(os.path.join(run_dir, "RunInfo.xml")).getroot().find("Run")
    instrument = run.findtext("Instrument")
    flowcell = run.findtext("Flowcell")
    number = run.get("Number")
    cycles = int(run.find("Reads/Read").get("NumCycles"))

    with open(os.path.join(run_dir, "SampleSheet.csv"), newline="") as sheet:
        lines = sheet.read().splitlines()
    data = lines[lines.index("[Data]") + 1 :]
    samples = [row for row in csv.DictReader(data) if row.get("Sample_ID")]
    if not samples:
        sys.exit(f"stand_in_convert: no samples in {run_dir}/SampleSheet.csv")

    os.makedirs(out_dir)
    for n, sample in enumerate(samples, start=1):
        name = f"{sample['Sample_ID']}_S{n}_R1_001.fastq.gz"
        index = sample.get("index", "")
        records = []
        for i in range(READS_PER_SAMPLE):
            bases = "ACGT"[i % 4] * cycles
            records.append(
                f"@{instrument}:{number}:{flowcell}:1:1101:{1000 + i}:{1000 + n} 1:N:0:{index}\n"
                f"{bases}\n+\n{'F' * cycles}\n"
            )
        with open(os.path.join(out_dir, name), "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
                out.write("".join(records).encode())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
