#!/usr/bin/env bash
# A stand-in for `sbatch` in tests: starts the job script Snakemake hands over (the last
# argument) as its own detached process, in a new session, and prints its process id as
# the job id. FAKE_SUBMIT_LOG, if set, gets one line per submitted job.
set -euo pipefail
jobscript="${!#}"
setsid bash "$jobscript" >>"${FAKE_SUBMIT_LOG:-/dev/null}" 2>&1 </dev/null &
pid=$!
if [ -n "${FAKE_SUBMIT_LOG:-}" ]; then
    echo "submitted $pid $jobscript" >>"$FAKE_SUBMIT_LOG.jobs"
fi
echo "$pid"
