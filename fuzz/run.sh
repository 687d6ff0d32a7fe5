#!/usr/bin/env bash
# Run every fuzz target for a bounded time (default 10 s each) on a scratch copy of the
# seed corpus, so the repository's corpus stays small. A crash leaves its reproducer in
# fuzz/artifacts/<target>/; commit it: tests/fuzz_corpus.rs replays every reproducer.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on the stable toolchain with
# RUSTC_BOOTSTRAP=1 and no sanitizer.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
seconds="${1:-10}"
export RUSTC_BOOTSTRAP=1
targets=(bundle proof policy run_info structure fastq)
cargo fuzz build -s none -O
status=0
for target in "${targets[@]}"; do
  scratch="scratch/$target"
  rm -rf "$scratch"
  mkdir -p "$scratch"
  echo "== fuzz $target for ${seconds}s"
  if ! cargo fuzz run -s none -O "$target" "$scratch" "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 2>"$scratch.log"; then
    echo "fuzz target $target FAILED; reproducer in fuzz/artifacts/$target/:"
    tail -40 "$scratch.log"
    status=1
  else
    grep -E "^stat::number_of_executed_units|^Done" "$scratch.log" | tail -2
  fi
done
exit "$status"
