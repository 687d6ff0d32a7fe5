#!/usr/bin/env bash
# A stand-in for `sbatch` that the pipeline tier hands to Snakemake's cluster-generic
# executor (--cluster-generic-submit-cmd): it runs the job script Snakemake gives it (the
# last argument) in the background on this machine, as a scheduler would on a node, and
# prints a job id. Every submission is recorded in cluster-jobs/submitted.log (in the
# working directory, Snakemake's), with the job's output in cluster-jobs/JOBID.out, so a
# test can see that the jobs went this way.
set -euo pipefail
jobscript="${!#}"
mkdir -p cluster-jobs
id="fake-$(date +%s%N)-$RANDOM"
nohup bash "$jobscript" > "cluster-jobs/$id.out" 2>&1 < /dev/null &
printf '%s %s\n' "$id" "$*" >> cluster-jobs/submitted.log
echo "$id"
