#!/usr/bin/env bash
# The cost of sealing through parts under Snakemake against one `seqprov seal`, on this
# machine (spec/sharded.md; numbers in benches/README.md, "One seal on many nodes").
#
#   benches/sharded_seal.sh [--runs 5] [--gib 2] [--parts 4]
#
# Environment: SEQPROV_BIN (default target/release/seqprov; built if absent),
# SNAKEMAKE (default: snakemake from a venv made under the target directory with
# examples/snakemake/sharded-seal/requirements.txt).
#
# The tree is generated once (GIB GiB: 24 files of 32 MiB, two of a quarter of the rest,
# and 2,000 files of 4 KiB), read once to warm the page cache, and then each way is timed
# RUNS times, alternating, with the median printed: single = `seqprov seal`; pipeline =
# plan, hash-part x PARTS run two at a time, seal --from-parts --recheck 0.01, by hand;
# snakemake = the example workflow with the local executor and --cores 2.
set -euo pipefail
runs=5 gib=2 parts=4
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --gib) gib="$2"; shift 2 ;;
        --parts) parts="$2"; shift 2 ;;
        *) echo "usage: $0 [--runs N] [--gib N] [--parts N]" >&2; exit 2 ;;
    esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
seqprov="${SEQPROV_BIN:-$target/release/seqprov}"
[ -x "$seqprov" ] || (cd "$root" && cargo build --release -q -p seqprov-cli)
if [ -z "${SNAKEMAKE:-}" ]; then
    venv="$target/snakemake-venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$root/examples/snakemake/sharded-seal/requirements.txt"
    SNAKEMAKE="$venv/bin/snakemake"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tree="$work/run"
mkdir -p "$tree/small"
total=$((gib << 30))
for i in $(seq 1 24); do head -c $((32 << 20)) /dev/urandom >"$tree/f$i.bin"; done
rest=$(( (total - (24 << 25)) / 2 ))
for i in 1 2; do head -c "$rest" /dev/urandom >"$tree/big$i.bin"; done
for i in $(seq 1 2000); do head -c 4096 /dev/urandom >"$tree/small/s$i"; done
cat "$tree"/*.bin "$tree"/small/* >/dev/null
"$seqprov" keygen --out "$work/k" >/dev/null
cat >"$work/cfg.yaml" <<CFG
dir: $tree
bundle: $work/sm/run.seqprov
key: $work/k.key
parts: $parts
work: $work/sm/work
seqprov: $seqprov
seal_args: "--recheck 0.01 --no-nodes-event"
hash_threads: 1
CFG
now() { date +%s.%N; }
single() {
    rm -f "$work/single.seqprov"
    local t0; t0=$(now)
    "$seqprov" seal "$tree" --key "$work/k.key" --out "$work/single.seqprov" -q
    echo "$(now) - $t0" | bc
}
pipeline() {
    rm -rf "$work/pl"; mkdir "$work/pl"
    local t0; t0=$(now)
    "$seqprov" plan "$tree" --parts "$parts" --out "$work/pl/plan" >/dev/null
    seq 0 $((parts - 1)) | xargs -P 2 -I{} env RAYON_NUM_THREADS=1 \
        "$seqprov" hash-part "$work/pl/plan" --part {} --out "$work/pl/part{}" -q
    "$seqprov" seal "$tree" --key "$work/k.key" --out "$work/pl/run.seqprov" -q \
        --plan "$work/pl/plan" --recheck 0.01 --no-nodes-event --from-parts "$work"/pl/part*
    echo "$(now) - $t0" | bc
}
snakemake() {
    rm -rf "$work/sm"
    local t0; t0=$(now)
    XDG_CACHE_HOME="$work/cache" "$SNAKEMAKE" -s "$root/examples/snakemake/sharded-seal/Snakefile" \
        --configfile "$work/cfg.yaml" --cores 2 --directory "$work/sm/snakemake" -q >/dev/null 2>&1
    echo "$(now) - $t0" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$work/single.t"; : >"$work/pipeline.t"; : >"$work/snakemake.t"
for _ in $(seq 1 "$runs"); do
    single >>"$work/single.t"
    pipeline >>"$work/pipeline.t"
    snakemake >>"$work/snakemake.t"
done
s=$(median <"$work/single.t"); p=$(median <"$work/pipeline.t"); k=$(median <"$work/snakemake.t")
bytes=$(du -sb "$tree" | cut -f1)
echo "tree: $bytes bytes, $(find "$tree" -type f | wc -l) files; parts: $parts; runs: $runs; cores: $(nproc)"
printf '| way | median s | runs (s) | MB/s | vs single |\n|---|---|---|---|---|\n'
for way in single pipeline snakemake; do
    m=$(median <"$work/$way.t")
    printf '| %s | %.2f | %s | %.0f | %.2f |\n' "$way" "$m" "$(tr '\n' ' ' <"$work/$way.t")" \
        "$(echo "$bytes / $m / 1000000" | bc -l)" "$(echo "$m / $s" | bc -l)"
done
