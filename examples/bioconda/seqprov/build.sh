#!/bin/bash
set -euxo pipefail

# The licences of every crate linked in, for about.license_file.
cargo-bundle-licenses --format yaml --output THIRDPARTY.yml

# The seqprov binary into $PREFIX/bin, with the locked dependency versions.
cargo install --no-track --locked --verbose --root "${PREFIX}" --path crates/seqprov-cli
