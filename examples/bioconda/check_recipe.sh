#!/usr/bin/env bash
# Run the example bioconda recipe's build and test commands (seqprov/build.sh and the
# `test: commands:` of seqprov/meta.yaml) on this checkout, the way conda-build would
# run them in its build and test environments, without conda: PREFIX is a temporary
# directory, the source is this repository, the Rust toolchain is the one on PATH.
#
#   bash examples/bioconda/check_recipe.sh
#
# What this does NOT check (needs conda-build/bioconda-utils and the network): the
# Jinja rendering and the recipe's schema, the source URL and sha256 (placeholders
# until a release), the conda compilers, and `cargo-bundle-licenses` unless it is
# installed (then its step runs too; otherwise it is skipped, and said so).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PREFIX="$work/prefix"
mkdir -p "$PREFIX"

# The build script, from the source tree (conda-build runs it in the unpacked source).
build="$work/build.sh"
if command -v cargo-bundle-licenses >/dev/null; then
    cp "$here/seqprov/build.sh" "$build"
else
    echo "check_recipe: cargo-bundle-licenses is not installed: skipping its step" >&2
    grep -v '^cargo-bundle-licenses' "$here/seqprov/build.sh" > "$build"
fi
(cd "$root" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" bash "$build")
test -x "$PREFIX/bin/seqprov"

# The recipe's test commands, in an empty directory with only $PREFIX/bin on PATH first.
tests="$work/tests"
mkdir -p "$tests"
sed -n '/^test:/,/^[a-z]/p' "$here/seqprov/meta.yaml" \
    | sed -n 's/^    - //p' > "$work/test_commands"
count=0
while IFS= read -r command; do
    (cd "$tests" && PATH="$PREFIX/bin:$PATH" bash -euo pipefail -c "$command") \
        || { echo "check_recipe: test command failed: $command" >&2; exit 1; }
    count=$((count + 1))
done < "$work/test_commands"
[ "$count" -ge 3 ] || { echo "check_recipe: found only $count test commands" >&2; exit 1; }
"$PREFIX/bin/seqprov" --version
echo "check_recipe: built into \$PREFIX/bin and ran $count test commands"
