#!/usr/bin/env bash
# Quick start: build seqprov, make a key, seal the bundled example run folder, verify it,
# then show that a one-byte change is caught. Everything is written to a temporary folder.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cargo build --release --quiet -p seqprov-cli
seqprov="$here/../target/release/seqprov"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -R "$here/run-folder" "$work/261125_EXAMPLE_0001_AEXAMPLEXX"
cd "$work"
run=261125_EXAMPLE_0001_AEXAMPLEXX

echo "== seqprov keygen"
"$seqprov" keygen --out core --name "Example Sequencing Core"
echo "== seqprov seal"
"$seqprov" seal "$run" --key core.key --sha256 --role sequencing-core
echo "== seqprov show"
"$seqprov" show "$run.seqprov"
echo "== seqprov verify (untouched: exit 0)"
"$seqprov" verify "$run" --bundle "$run.seqprov" --trust core.pub
echo "== tamper with one base call, verify again (exit 1 expected)"
printf 'T' | dd of="$run/fastq/S1_R1.fastq" bs=1 seek=55 conv=notrunc status=none
set +e
"$seqprov" verify "$run" --bundle "$run.seqprov" --trust core.pub
status=$?
set -e
echo "exit code: $status"
test "$status" -eq 1
echo "quick start OK: the untouched run verified and the altered base was caught"
