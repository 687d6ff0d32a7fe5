#!/usr/bin/env python3
"""Turn the raw timings of benches/compare.sh into Markdown tables.

Usage: report.py WORKDIR

WORKDIR (written by compare.sh) holds:
  results.tsv        fixture  tool  run  status  wall_s  peak_rss_kib  log  gnu_time_e_s
  fixtures.tsv       fixture  label  path  bytes  files  [fastq_bytes  bgzf_bytes]
  fixture_tools.tsv  fixture  tool   (the tools that belong in each fixture's table;
                     without this file every tool is listed everywhere)
  inputs.tsv         fixture  tool  bytes  [fastq_bytes]   (what a tool reads, where it
                     differs from the fixture's bytes; fastq_bytes: what it inflates to)
  tools.tsv          tool  label  state(ok|missing|deselected)  detail
  meta.tsv           key  value   (runs, nproc, sha_core_bps, sha_limit_bps, ...)
  env.md             free Markdown lines describing the machine and tool versions

The report goes to stdout. MB/s means 10^6 bytes per second, as in
`openssl speed`; peak RSS is GNU time's %M (the largest single process of
the command's tree), the maximum over all runs. For the FASTQ fixture there
are two rates: of the compressed bytes read and of the FASTQ text they
inflate to.
"""

import csv
import os
import statistics
import sys

MIB = 1024 * 1024


def read_tsv(path):
    with open(path, newline="") as f:
        return [row for row in csv.reader(f, delimiter="\t") if row]


class Data:
    def __init__(self, work):
        self.meta = dict(read_tsv(os.path.join(work, "meta.tsv")))
        self.fixtures = {}
        self.fixture_order = []
        for fx, label, path, nbytes, files, *extra in read_tsv(os.path.join(work, "fixtures.tsv")):
            extra += ["", ""]
            self.fixtures[fx] = {"label": label, "path": path, "bytes": int(nbytes), "files": int(files),
                                 "fastq_bytes": int(extra[0]) if extra[0] else None,
                                 "bgzf_bytes": int(extra[1]) if extra[1] else None}
            self.fixture_order.append(fx)
        self.fixture_tools = None  # fixture -> tools in its table; None: every tool
        path = os.path.join(work, "fixture_tools.tsv")
        if os.path.exists(path):
            self.fixture_tools = {}
            for fx, tool in read_tsv(path):
                self.fixture_tools.setdefault(fx, set()).add(tool)
        self.inputs = {}  # (fixture, tool) -> (bytes read, FASTQ bytes inflated or None)
        path = os.path.join(work, "inputs.tsv")
        if os.path.exists(path):
            for fx, tool, nbytes, *raw in read_tsv(path):
                raw = raw[0] if raw else ""
                self.inputs[(fx, tool)] = (int(nbytes), int(raw) if raw else None)
        self.tools = {}
        self.tool_order = []
        for tool, label, state, detail in read_tsv(os.path.join(work, "tools.tsv")):
            self.tools[tool] = {"label": label, "state": state, "detail": detail}
            self.tool_order.append(tool)
        self.runs = {}  # (fixture, tool) -> list of dict
        path = os.path.join(work, "results.tsv")
        if os.path.exists(path):
            for fx, tool, run, status, wall, rss, log, *_ in read_tsv(path):
                self.runs.setdefault((fx, tool), []).append(
                    {"run": int(run), "status": status, "wall": float(wall) if wall else None,
                     "rss": int(rss) if rss else None, "log": log})
        env = os.path.join(work, "env.md")
        self.env = open(env).read().rstrip("\n") if os.path.exists(env) else ""

    def stats(self, fx, tool):
        """None if never run; else dict(ok, failed, median, min, rss_kib, logs)."""
        runs = self.runs.get((fx, tool))
        if not runs:
            return None
        ok = [r for r in runs if r["status"] == "ok"]
        bad = [r for r in runs if r["status"] != "ok"]
        out = {"ok": len(ok), "failed": len(bad), "runs": len(runs),
               "statuses": sorted({r["status"] for r in bad}),
               "logs": sorted({r["log"] for r in bad if r["log"]})}
        if ok:
            walls = [r["wall"] for r in ok]
            out["median"] = statistics.median(walls)
            out["min"] = min(walls)
            rss = [r["rss"] for r in ok if r["rss"] is not None]
            out["rss_kib"] = max(rss) if rss else None
        return out

    def tools_of(self, fx):
        """The tools in fixture fx's table, in the tools' order."""
        wanted = None if self.fixture_tools is None else self.fixture_tools.get(fx, set())
        return [t for t in self.tool_order if wanted is None or t in wanted]

    def median(self, fx, tool):
        s = self.stats(fx, tool)
        if s is None or s["failed"] or "median" not in s:
            return None
        return s["median"]


def fmt_s(x):
    return f"{x:.3f}" if x < 10 else f"{x:.2f}"


def human_bytes(n):
    for unit, div in (("GiB", 1024 ** 3), ("MiB", MIB), ("KiB", 1024)):
        if n >= div:
            return f"{n / div:.2f} {unit}"
    return f"{n} B"


def rate(nbytes, seconds):
    if nbytes is None:
        return "-"
    return f"{nbytes / seconds / 1e6:,.0f}" if seconds > 0 else "inf"


def fixture_table(d, fx):
    info = d.fixtures[fx]
    title = (f"### ({fx}) {info['label']}: {info['files']:,} file{'s' if info['files'] != 1 else ''},"
             f" {human_bytes(info['bytes'])}")
    fastq = info["fastq_bytes"]
    if fastq is not None:
        title += f" ({fastq / 1e6:,.1f} MB of FASTQ text"
        if info["bgzf_bytes"] is not None:
            title += f"; BGZF copy {human_bytes(info['bgzf_bytes'])}"
        title += ")"
    # Two rates where tools inflate: compressed bytes read, FASTQ bytes produced.
    two_rates = fastq is not None
    empty = "| | | | |" + (" |" if two_rates else "")
    lines = [title, "", f"Fixture: `{info['path']}`", ""]
    if two_rates:
        lines += ["| tool | median s | min s | MB/s compressed | MB/s FASTQ | peak RSS MiB | ratio to `seqprov seal` |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    else:
        lines += ["| tool | median s | min s | MB/s | peak RSS MiB | ratio to `seqprov seal` |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
    seal = d.median(fx, "seal")
    for tool in d.tools_of(fx):
        t = d.tools[tool]
        label = t["label"]
        if t["state"] == "deselected":
            continue
        if t["state"] == "missing":
            lines.append(f"| {label} | not installed ({t['detail']}) {empty}")
            continue
        s = d.stats(fx, tool)
        if s is None:
            lines.append(f"| {label} | not run {empty}")
            continue
        if s["failed"]:
            what = ", ".join(s["statuses"])
            if all(st.startswith("skipped") for st in s["statuses"]):
                lines.append(f"| {label} | {what} {empty}")
                continue
            logs = "; ".join(f"`{p}`" for p in s["logs"]) or "-"
            lines.append(f"| {label} | FAILED in {s['failed']}/{s['runs']} runs ({what}); log: {logs} {empty}")
            continue
        med = s["median"]
        nbytes, raw = d.inputs.get((fx, tool), (info["bytes"], None))
        rates = f"{rate(nbytes, med)} | {rate(raw, med)}" if two_rates else rate(nbytes, med)
        rss = f"{s['rss_kib'] / 1024:.1f}" if s.get("rss_kib") is not None else "-"
        ratio = f"{med / seal:.2f}" if seal and seal > 0 else "-"
        lines.append(f"| {label} | {fmt_s(med)} | {fmt_s(s['min'])} | {rates} | {rss} | {ratio} |")
    return lines


def targets(d):
    out = []
    limit = float(d.meta.get("sha_limit_bps", "0") or 0)

    def have(fx):
        return fx in d.fixtures

    def label(tool):
        return d.tools[tool]["label"] if tool in d.tools else tool

    def ratio_target(fx, lhs, rhs, factor, text):
        if not have(fx):
            out.append(f"- SKIP ({fx}) {text}: fixture not run")
            return
        a, b = d.median(fx, lhs), d.median(fx, rhs)
        if a is None or b is None:
            missing = [label(t) for t, v in ((lhs, a), (rhs, b)) if v is None]
            out.append(f"- SKIP ({fx}) {text}: no result for {', '.join(missing)}")
            return
        if b <= 0:
            out.append(f"- SKIP ({fx}) {text}: {label(rhs)} took 0 s (fixture too small to time)")
            return
        r = a / b
        verdict = "PASS" if r <= factor else "FAIL"
        out.append(f"- {verdict} ({fx}) {text}: {label(lhs)} {fmt_s(a)} s / {label(rhs)} {fmt_s(b)} s"
                   f" = {r:.2f} (limit {factor:g})")

    for who in ("seal", "verify"):
        ratio_target("a", who, "b3sum", 0.6, f"`seqprov {who}` <= 0.6 x sequential `b3sum`")
        ratio_target("a", who, "b3sum_par", 1.0, f"`seqprov {who}` no slower than `xargs -P{d.meta.get('nproc', 'N')} b3sum`")
    ratio_target("a", "seal", "seal_nostruct", 1.05,
                 "`seqprov seal` (structure checks on) <= 1.05 x `seqprov seal --no-structure-check`")
    ratio_target("b", "seal", "b3sum", 1.05, "`seqprov seal` <= 1.05 x `b3sum`")
    ratio_target("a", "seal", "ms_sign", 0.2, "`seqprov seal` <= 0.2 x Model Signing `sign key`")
    ratio_target("a", "verify", "ms_verify", 0.2, "`seqprov verify` <= 0.2 x Model Signing `verify key`")
    ratio_target("a", "seal", "bagit_create", 0.25, "`seqprov seal` <= 0.25 x bagit-python create")
    ratio_target("a", "verify", "bagit_validate", 0.25, "`seqprov verify` <= 0.25 x bagit-python `--validate`")
    ratio_target("c", "seal", "b3sum", 0.6, "`seqprov seal` <= 0.6 x sequential `b3sum`")

    for fx in ("a", "d"):
        text = "`seqprov seal --sha256` >= 80 % of the CPU SHA-256 limit"
        if not have(fx):
            out.append(f"- SKIP ({fx}) {text}: fixture not run")
        elif not limit:
            out.append(f"- SKIP ({fx}) {text}: SHA-256 limit unknown (openssl speed failed)")
        else:
            m = d.median(fx, "seal_sha256")
            if m is None or m <= 0:
                out.append(f"- SKIP ({fx}) {text}: no result for {label('seal_sha256')}")
            else:
                bps = d.fixtures[fx]["bytes"] / m
                frac = bps / limit
                verdict = "PASS" if frac >= 0.8 else "FAIL"
                out.append(f"- {verdict} ({fx}) {text}: {bps / 1e6:,.0f} MB/s of {limit / 1e6:,.0f} MB/s"
                           f" = {frac * 100:.0f} %")
        ratio_target(fx, "seal_sha256", "rhash", 0.5, "`seqprov seal --sha256` >= 2 x faster than `rhash --sha256`")

    text = "peak RSS of `seqprov seal --no-mmap` < 64 MiB"
    if not have("b"):
        out.append(f"- SKIP (b) {text}: fixture not run")
    else:
        s = d.stats("b", "seal_nommap")
        if s is None or s["failed"] or s.get("rss_kib") is None:
            out.append(f"- SKIP (b) {text}: no result for {label('seal_nommap')}")
        else:
            mib = s["rss_kib"] / 1024
            out.append(f"- {'PASS' if mib < 64 else 'FAIL'} (b) {text}: {mib:.1f} MiB")
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    d = Data(sys.argv[1])
    lines = ["# seqprov benchmark", ""]
    if d.env:
        lines += [d.env, ""]
    core = float(d.meta.get("sha_core_bps", "0") or 0)
    nproc = d.meta.get("nproc", "?")
    if core:
        lines.append(f"CPU SHA-256 limit: {nproc} cores x {core / 1e6:,.0f} MB/s single-core"
                     f" (`openssl speed -evp sha256 -bytes 16384 -seconds 1`)"
                     f" = {float(d.meta['sha_limit_bps']) / 1e6:,.0f} MB/s")
    else:
        lines.append("CPU SHA-256 limit: unknown (`openssl speed` unavailable or unparsable)")
    lines += ["", f"Runs per tool: {d.meta.get('runs', '?')} (round-robin, page cache warmed first);"
              " median and min wall seconds (bash `$EPOCHREALTIME` around `/usr/bin/time -f '%e %M'`);"
              " MB/s = fixture bytes / median / 10^6 (for the FASTQ fixture: compressed bytes read, and FASTQ"
              " bytes inflated, / median / 10^6); peak RSS = GNU time `%M` (largest process of the"
              " command), max over runs; ratio = tool median / `seqprov seal` median.", ""]
    lines += ["## Results", ""]
    for fx in d.fixture_order:
        lines += fixture_table(d, fx) + [""]
    lines += ["## Targets", ""]
    if float(d.meta.get("scale", "1")) != 1:
        lines += [f"Fixtures shrunk by `--scale {d.meta['scale']}`: these verdicts only check the harness;"
                  " the targets are meant for scale 1.", ""]
    lines += targets(d) + [""]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
