#!/usr/bin/env bash
# Create (or bring up to date) the Python virtual environment with the workflow tools the
# pipeline tier runs: Snakemake with the cluster-generic executor plugin, and MultiQC,
# at the versions pinned in requirements.txt. Needs python3 with venv and access to PyPI.
#
#   bash tests/pipeline/setup_venv.sh      # prints the environment's directory
#
# Where: SEQPROV_PIPELINE_VENV, else $CARGO_TARGET_DIR/pipeline/venv, else
# target/pipeline/venv (where the tests look too).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${SEQPROV_PIPELINE_VENV:-${CARGO_TARGET_DIR:-$root/target}/pipeline/venv}"
if [ ! -x "$venv/bin/python" ]; then
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
"$venv/bin/snakemake" --version >&2
"$venv/bin/multiqc" --version >&2
echo "$venv"
