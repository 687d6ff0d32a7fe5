#!/usr/bin/env bash
# The transparency log's load and latency numbers (benches/README.md, "Transparency log"):
#
#   bash benches/log_load.sh
#
# 1. 16 concurrent clients x 1,000 submissions to `seqprov log serve` on loopback
#    (crates/seqprov-cli/tests/log_server.rs, the ignored test): nothing lost or
#    duplicated; prints appends/s and add p50/p99.
# 2. crates/seqprov-log-server/examples/log_million.rs: a log of 1,000,000 entries built
#    through LogDir::append, then p50/p99 of an inclusion proof (LogDir::receipt), of
#    POST /add (16 clients, at saturation, then at an offered 1,000/s: LOG_MILLION_RATE)
#    and of GETting one proof's tiles over HTTP.
#    LOG_MILLION_ENTRIES=N picks another size.
# Release builds. Run it three times and record the medians.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo test --release -p seqprov-cli --test log_server -- --ignored --nocapture \
    sixteen_clients_a_thousand_submissions_each 2>&1 | grep -E '^load:|test result'
cargo run --release -q -p seqprov-log-server --example log_million
