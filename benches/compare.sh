#!/usr/bin/env bash
# Benchmark `seqprov seal` / `seqprov verify` against other hashing and
# directory-signing tools on five generated fixtures. See benches/README.md.
# Backquotes in single-quoted strings are Markdown for the report, not expansions:
# shellcheck disable=SC2016
set -euo pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
Usage: benches/compare.sh [--fixtures a,b,c,d,e] [--runs N] [--scale F] [--out FILE]
                          [--tools LIST] [--no-build]
       benches/compare.sh --install

Fixtures (generated deterministically, reused while their spec is unchanged):
  a  complete per-tile BCL run folder: 11,000 valid .bcl files of ~96 KiB, 40 .filter,
     RunInfo.xml, RTAComplete.txt (~1 GiB)
  b  one 2 GiB file
  c  200,000 files of 4 KiB
  d  complete NovaSeq-shaped CBCL run folder: 302 valid .cbcl files of 8-32 MiB, 32 .filter,
     s.locs, RunInfo.xml, RTAComplete.txt, CopyComplete.txt (~6 GiB)
  e  one gzip FASTQ of ~1.5 GB uncompressed (~0.36 GB compressed), and a BGZF copy

Options:
  --fixtures LIST  comma-separated subset of a,b,c,d,e (default: a,b,c,d,e)
  --runs N         timed runs of every tool per fixture, round-robin (default: 5)
  --scale F        multiply every fixture's size by F: cycles (a, d), bytes (b), files (c),
                   FASTQ records (e); e.g. 0.01 for a smoke test (default: 1)
  --out FILE       where to write the Markdown report (default: target/bench-results.md)
  --tools LIST     comma-separated subset of tool ids (default: all); tools that a chosen
                   one depends on (seal for verify, ms_sign for ms_verify, bagit_create
                   for bagit_validate) are added. Ids:
                     seal seal_nostruct seal_sha256 seal_nommap verify seal_content
                     seal_content_bgzf b3sum b3sum_par zcat_b3sum pigz_b3sum rhash hashdeep
                     sha256sum ms_sign ms_verify bagit_create bagit_validate
                   Each fixture runs the tools that apply to it (see benches/README.md).
  --no-build       do not run `cargo build --release -p seqprov-cli` first
  --install        install the comparison tools (apt: b3sum rhash hashdeep time openssl
                   pigz tabix, else `cargo install b3sum`; pip into a venv: model-signing
                   pyopenssl bagit) and exit
  -h, --help       this text

Environment:
  SEQPROV_BENCH_DIR   fixtures and scratch files (default: target/bench-fixtures)
  SEQPROV_BENCH_VENV  Python venv for model_signing and bagit.py (default: target/bench-venv)
  SEQPROV_BIN         seqprov binary to benchmark (default: target/release/seqprov, built)
EOF
}

die() {
	echo "compare.sh: $*" >&2
	exit 2
}
note() { echo "compare.sh: $*" >&2; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)

FIXTURES=a,b,c,d,e
RUNS=5
SCALE=1
OUT=
TOOLS=
BUILD=1
INSTALL=0

while (($#)); do
	case $1 in
	--fixtures) FIXTURES=${2:?--fixtures needs a value}; shift 2 ;;
	--fixtures=*) FIXTURES=${1#*=}; shift ;;
	--runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
	--runs=*) RUNS=${1#*=}; shift ;;
	--scale) SCALE=${2:?--scale needs a value}; shift 2 ;;
	--scale=*) SCALE=${1#*=}; shift ;;
	--out) OUT=${2:?--out needs a value}; shift 2 ;;
	--out=*) OUT=${1#*=}; shift ;;
	--tools) TOOLS=${2:?--tools needs a value}; shift 2 ;;
	--tools=*) TOOLS=${1#*=}; shift ;;
	--no-build) BUILD=0; shift ;;
	--install) INSTALL=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, got '$RUNS'"
[[ $SCALE =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]] || die "--scale must be a positive number, got '$SCALE'"
awk -v s="$SCALE" 'BEGIN { exit !(s > 0) }' || die "--scale must be > 0"
SCALE=$(awk -v s="$SCALE" 'BEGIN { printf "%g", s }')

abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac; }

if [[ -n ${SEQPROV_BENCH_DIR:-} ]]; then BENCH_DIR=$(abspath "$SEQPROV_BENCH_DIR"); else BENCH_DIR=$REPO_ROOT/target/bench-fixtures; fi
if [[ -n ${SEQPROV_BENCH_VENV:-} ]]; then VENV=$(abspath "$SEQPROV_BENCH_VENV"); else VENV=$REPO_ROOT/target/bench-venv; fi
if [[ -n $OUT ]]; then OUT=$(abspath "$OUT"); else OUT=$REPO_ROOT/target/bench-results.md; fi
NPROC=$(nproc)
# Where comparison tools are looked up: the bench venv first (model_signing,
# bagit.py), then PATH, then cargo's bin dir (b3sum from `cargo install`).
SEARCH_PATH=$VENV/bin:$PATH:${CARGO_HOME:-$HOME/.cargo}/bin

# --------------------------------------------------------------------------
# --install
# --------------------------------------------------------------------------
install_tools() {
	local sudo=() pkgs=() p
	if ((EUID != 0)); then
		if command -v sudo >/dev/null; then sudo=(sudo); else note "not root and no sudo: apt-get may fail"; fi
	fi
	if command -v apt-get >/dev/null; then
		"${sudo[@]}" apt-get update
		# pigz: gzip FASTQ fixture (e) and its `pigz -dc` row; tabix: bgzip, for its BGZF copy
		for p in b3sum rhash hashdeep time openssl pigz tabix; do
			# (no `grep -q` here: it would close the pipe early and, under
			# pipefail, make apt-cache's SIGPIPE look like "not available")
			if [[ $(apt-cache policy "$p" 2>/dev/null) =~ Candidate:\ [^\(] ]]; then
				pkgs+=("$p")
			else
				note "Debian package '$p' is not available here"
			fi
		done
		if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then pkgs+=(python3-venv); fi
		if ((${#pkgs[@]})); then
			# --no-upgrade: leave packages that are already installed as they are
			"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-upgrade "${pkgs[@]}"
		fi
	else
		note "no apt-get: install rhash, hashdeep, GNU time, pigz and bgzip (htslib) with your package manager"
	fi
	if ! PATH=$SEARCH_PATH command -v b3sum >/dev/null; then
		command -v cargo >/dev/null || die "b3sum not packaged here and cargo not found"
		cargo install b3sum
	fi
	if [[ ! -x $VENV/bin/pip ]]; then
		python3 -m venv "$VENV"
	fi
	"$VENV/bin/pip" install model-signing pyopenssl bagit
	note "installed; model_signing and bagit.py are in $VENV/bin (found there by compare.sh)"
}

if ((INSTALL)); then
	install_tools
	exit 0
fi

# --------------------------------------------------------------------------
# Prerequisites
# --------------------------------------------------------------------------
GNU_TIME=/usr/bin/time
if ! "$GNU_TIME" --version 2>&1 | grep -q 'GNU'; then
	die "GNU time is needed at /usr/bin/time (Debian package 'time'; or run benches/compare.sh --install)"
fi
command -v python3 >/dev/null || die "python3 is needed (fixture generator and report)"

if [[ -n ${SEQPROV_BIN:-} ]]; then
	SEQPROV=$(abspath "$SEQPROV_BIN")
else
	SEQPROV=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/seqprov
	if ((BUILD)); then
		note "building seqprov (cargo build --release -p seqprov-cli)"
		(cd "$REPO_ROOT" && cargo build --release -p seqprov-cli) >&2
	fi
fi
[[ -x $SEQPROV ]] || die "seqprov binary not found at $SEQPROV (build it or set SEQPROV_BIN)"

find_tool() { PATH=$SEARCH_PATH command -v "$1" 2>/dev/null || true; }
B3SUM=$(find_tool b3sum)
RHASH=$(find_tool rhash)
HASHDEEP=$(find_tool hashdeep)
SHA256SUM=$(find_tool sha256sum)
MODEL_SIGNING=$(find_tool model_signing)
BAGIT=$(find_tool bagit.py)
OPENSSL=$(find_tool openssl)
ZCAT=$(find_tool zcat)
PIGZ=$(find_tool pigz)
BGZIP=$(find_tool bgzip)

# --------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------
ALL_TOOLS=(seal seal_nostruct seal_sha256 seal_nommap verify seal_content seal_content_bgzf
	b3sum b3sum_par zcat_b3sum pigz_b3sum rhash hashdeep sha256sum
	ms_sign ms_verify bagit_create bagit_validate)
declare -A LABEL=(
	[seal]='`seqprov seal` (BLAKE3)'
	[seal_nostruct]='`seqprov seal --no-structure-check`'
	[seal_sha256]='`seqprov seal --sha256`'
	[seal_nommap]='`seqprov seal --no-mmap`'
	[verify]='`seqprov verify`'
	[seal_content]='`seqprov seal --content` (gzip)'
	[seal_content_bgzf]='`seqprov seal --content` (BGZF copy)'
	[b3sum]='`b3sum` (sequential)'
	[b3sum_par]="\`xargs -P$NPROC -n 64 b3sum --num-threads 1\`"
	[zcat_b3sum]='`zcat \| b3sum`'
	[pigz_b3sum]='`pigz -dc \| b3sum`'
	[rhash]='`rhash --sha256 -r`'
	[hashdeep]='`hashdeep -r -c sha256`'
	[sha256sum]='`sha256sum`'
	[ms_sign]='`model_signing sign key` (EC P-256)'
	[ms_verify]='`model_signing verify key`'
	[bagit_create]="\`bagit.py --processes $NPROC --sha256\` (create)"
	[bagit_validate]="\`bagit.py --validate --processes $NPROC\`"
)
declare -A DEP=([verify]=seal [ms_verify]=ms_sign [bagit_validate]=bagit_create)
# Tools whose stdout is a (possibly huge) hash listing: sent to /dev/null.
declare -A LISTS_HASHES=([b3sum]=1 [b3sum_par]=1 [zcat_b3sum]=1 [pigz_b3sum]=1 [rhash]=1 [hashdeep]=1
	[sha256sum]=1)

missing_reason() { # tool -> empty if runnable, else why not
	case $1 in
	seal | seal_nostruct | seal_sha256 | seal_nommap | verify | seal_content) ;;
	seal_content_bgzf) [[ -n $BGZIP ]] || echo "bgzip" ;;
	b3sum | b3sum_par) [[ -n $B3SUM ]] || echo "b3sum" ;;
	zcat_b3sum) if [[ -z $B3SUM ]]; then echo "b3sum"; elif [[ -z $ZCAT ]]; then echo "zcat"; fi ;;
	pigz_b3sum) if [[ -z $B3SUM ]]; then echo "b3sum"; elif [[ -z $PIGZ ]]; then echo "pigz"; fi ;;
	rhash) [[ -n $RHASH ]] || echo "rhash" ;;
	hashdeep) [[ -n $HASHDEEP ]] || echo "hashdeep" ;;
	sha256sum) [[ -n $SHA256SUM ]] || echo "sha256sum" ;;
	ms_sign | ms_verify)
		if [[ -z $MODEL_SIGNING ]]; then echo "model_signing"; elif [[ -z $OPENSSL ]]; then echo "openssl"; fi ;;
	bagit_create | bagit_validate) [[ -n $BAGIT ]] || echo "bagit.py" ;;
	*) die "unknown tool $1" ;;
	esac
}

declare -A SELECTED=()
if [[ -z $TOOLS ]]; then
	for t in "${ALL_TOOLS[@]}"; do SELECTED[$t]=1; done
else
	IFS=, read -r -a wanted <<<"$TOOLS"
	for t in "${wanted[@]}"; do
		[[ -n ${LABEL[$t]+x} ]] || die "unknown tool id '$t' (see --help)"
		SELECTED[$t]=1
		if [[ -n ${DEP[$t]+x} ]]; then SELECTED[${DEP[$t]}]=1; fi
	done
fi

declare -A STATE=()
for t in "${ALL_TOOLS[@]}"; do
	if [[ -z ${SELECTED[$t]+x} ]]; then
		STATE[$t]=deselected
	elif [[ -n $(missing_reason "$t") ]]; then
		STATE[$t]=missing
	else
		STATE[$t]=ok
	fi
done

# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------
declare -A FX_NAME=([a]=a-runfolder [b]=b-bigfile [c]=c-tinyfiles [d]=d-novaseq [e]=e-fastq)
declare -A FX_LABEL=([a]='run folder (per-tile BCL)' [b]='one large file' [c]='many tiny files'
	[d]='NovaSeq-shaped run folder (CBCL)' [e]='one gzip FASTQ')
FX_LIST=()
IFS=, read -r -a fx_wanted <<<"$FIXTURES"
for fx in "${fx_wanted[@]}"; do
	[[ -n ${FX_NAME[$fx]+x} ]] || die "unknown fixture '$fx' (choose from a,b,c,d,e)"
	[[ " ${FX_LIST[*]} " == *" $fx "* ]] || FX_LIST+=("$fx")
done
((${#FX_LIST[@]})) || die "no fixture selected"

GEN=$SCRIPT_DIR/gen_fixtures.py
GEN_HASH=$(sha256sum "$GEN" | cut -c1-64)

# applies FX TOOL: does the tool belong in fixture FX's table?
applies() {
	case $2 in
	seal | b3sum) return 0 ;;
	seal_nostruct) [[ $1 == a || $1 == d ]] ;;
	seal_content | seal_content_bgzf | zcat_b3sum | pigz_b3sum) [[ $1 == e ]] ;;
	*) [[ $1 != e ]] ;;
	esac
}

ensure_fixture() { # fx -> sets FX_DIR
	local fx=$1 spec stamp
	FX_DIR=$BENCH_DIR/${FX_NAME[$fx]}-x$SCALE
	stamp=$FX_DIR.stamp
	# The compressors' versions (zlib for d, pigz/gzip and bgzip for e) decide the bytes too.
	spec="fixture=$fx scale=$SCALE generator-sha256=$GEN_HASH toolchain=$(python3 "$GEN" --toolchain "$fx")"
	if [[ -d $FX_DIR && -f $stamp && $(<"$stamp") == "$spec" ]]; then
		note "fixture ($fx) up to date: $FX_DIR"
		return
	fi
	note "generating fixture ($fx) at scale $SCALE in $FX_DIR ..."
	rm -f "$stamp"
	nice -n 10 python3 "$GEN" "$fx" "$SCALE" "$FX_DIR"
	printf '%s\n' "$spec" >"$stamp"
}

warm_cache() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }

# fixture_inputs FX: sets SUBJECT (the folder the tools run on) and, for (e), E_FILE
# (the .fastq.gz), E_BGZF_DIR (the folder of its BGZF copy, or empty) and E_RAW (bytes of
# FASTQ text in it).
fixture_inputs() {
	E_FILE='' E_BGZF_DIR='' E_RAW=''
	if [[ $1 != e ]]; then
		SUBJECT=$FX_DIR
		return
	fi
	SUBJECT=$FX_DIR/gzip
	local name
	name=$(awk -F'\t' '$1 == "file" { print $2 }' "$FX_DIR/fastq.tsv")
	E_RAW=$(awk -F'\t' '$1 == "fastq_bytes" { print $2 }' "$FX_DIR/fastq.tsv")
	E_FILE=$SUBJECT/$name
	[[ -n $name && -f $E_FILE && -n $E_RAW ]] || die "fixture (e) is incomplete: $FX_DIR (delete it to regenerate)"
	if [[ -f $FX_DIR/bgzf/$name ]]; then E_BGZF_DIR=$FX_DIR/bgzf; fi
}

file_size() { stat -c %s -- "$1"; }

# --------------------------------------------------------------------------
# Scratch area, keys
# --------------------------------------------------------------------------
mkdir -p "$BENCH_DIR"
W=$BENCH_DIR/scratch
rm -rf "$W"
mkdir -p "$W/keys" "$W/out" "$W/logs"
: >"$W/results.tsv"

"$SEQPROV" keygen --out "$W/keys/seqprov" --name "seqprov bench" >/dev/null
if [[ ${STATE[ms_sign]} == ok ]]; then
	"$OPENSSL" ecparam -name prime256v1 -genkey -noout -out "$W/keys/ec.pem"
	"$OPENSSL" ec -in "$W/keys/ec.pem" -pubout -out "$W/keys/ec.pub.pem" 2>/dev/null
fi

# build_cmd TOOL DIR: sets CMD (the timed argv).
build_cmd() {
	local t=$1 d=$2
	case $t in
	seal) CMD=("$SEQPROV" seal "$d" --key "$W/keys/seqprov.key" --out "$W/out/b3.seqprov" --force --quiet) ;;
	seal_nostruct) CMD=("$SEQPROV" seal "$d" --key "$W/keys/seqprov.key" --out "$W/out/nostruct.seqprov" --force --quiet --no-structure-check) ;;
	seal_sha256) CMD=("$SEQPROV" seal "$d" --key "$W/keys/seqprov.key" --out "$W/out/sha256.seqprov" --force --quiet --sha256) ;;
	seal_nommap) CMD=("$SEQPROV" seal "$d" --key "$W/keys/seqprov.key" --out "$W/out/nommap.seqprov" --force --quiet --no-mmap) ;;
	verify) CMD=("$SEQPROV" verify "$d" --bundle "$W/out/b3.seqprov" --trust "$W/keys/seqprov.pub" --quiet) ;;
	seal_content) CMD=("$SEQPROV" seal "$d" --key "$W/keys/seqprov.key" --out "$W/out/content.seqprov" --force --quiet --content) ;;
	seal_content_bgzf) CMD=("$SEQPROV" seal "$E_BGZF_DIR" --key "$W/keys/seqprov.key" --out "$W/out/content-bgzf.seqprov" --force --quiet --content) ;;
	b3sum) CMD=(bash -c 'set -o pipefail; find "$1" -type f -print0 | xargs -0 "$2"' _ "$d" "$B3SUM") ;;
	b3sum_par) CMD=(bash -c 'set -o pipefail; find "$1" -type f -print0 | xargs -0 -P "$3" -n 64 "$2" --num-threads 1' _ "$d" "$B3SUM" "$NPROC") ;;
	zcat_b3sum) CMD=(bash -c 'set -o pipefail; "$2" -- "$1" | "$3"' _ "$E_FILE" "$ZCAT" "$B3SUM") ;;
	pigz_b3sum) CMD=(bash -c 'set -o pipefail; "$2" -dc -- "$1" | "$3"' _ "$E_FILE" "$PIGZ" "$B3SUM") ;;
	rhash) CMD=("$RHASH" --sha256 -r "$d") ;;
	hashdeep) CMD=("$HASHDEEP" -r -c sha256 "$d") ;;
	sha256sum) CMD=(bash -c 'set -o pipefail; find "$1" -type f -print0 | xargs -0 "$2"' _ "$d" "$SHA256SUM") ;;
	ms_sign) CMD=("$MODEL_SIGNING" sign key "$d" --private_key "$W/keys/ec.pem" --signature "$W/out/model.sig") ;;
	ms_verify) CMD=("$MODEL_SIGNING" verify key "$d" --public_key "$W/keys/ec.pub.pem" --signature "$W/out/model.sig") ;;
	bagit_create) CMD=("$BAGIT" --quiet --processes "$NPROC" --sha256 "$W/bag") ;;
	bagit_validate) CMD=("$BAGIT" --quiet --validate --processes "$NPROC" "$W/bag") ;;
	esac
}

# prepare TOOL DIR: untimed set-up before a timed run.
prepare() {
	local t=$1 d=$2
	case $t in
	seal) rm -f "$W/out/b3.seqprov" ;;
	seal_nostruct) rm -f "$W/out/nostruct.seqprov" ;;
	seal_content) rm -f "$W/out/content.seqprov" ;;
	seal_content_bgzf) rm -f "$W/out/content-bgzf.seqprov" ;;
	seal_sha256) rm -f "$W/out/sha256.seqprov" ;;
	seal_nommap) rm -f "$W/out/nommap.seqprov" ;;
	ms_sign) rm -f "$W/out/model.sig" ;;
	bagit_create)
		# bagit.py bags in place (moves the payload into data/): give it a
		# hard-linked copy (same inodes, so the same warm page cache), or a
		# real copy where hard links are impossible.
		rm -rf "$W/bag"
		cp -al "$d" "$W/bag" 2>/dev/null || { rm -rf "$W/bag"; cp -a "$d" "$W/bag"; }
		;;
	esac
}

declare -A RUN_STATUS=()

# run_timed FX TOOL RUN DIR: one timed run, appended to results.tsv.
run_timed() {
	local fx=$1 t=$2 run=$3 d=$4
	local log=$W/logs/$fx-$t.log tf=$W/time.out rc=0 status wall='' rss='' time_e='' last t0 t1
	local dep=${DEP[$t]:-} why=''
	if [[ -n $dep && ${RUN_STATUS[$dep]:-} != ok ]]; then
		why="$dep did not succeed"
	elif [[ $t == seal_content_bgzf && -z $E_BGZF_DIR ]]; then
		why="the fixture has no BGZF copy"
	fi
	if [[ -n $why ]]; then
		status="skipped: $why"
		RUN_STATUS[$t]=$status
		printf '%s\t%s\t%s\t%s\t\t\t%s\t\n' "$fx" "$t" "$run" "$status" "$log" >>"$W/results.tsv"
		note "($fx) run $run/$RUNS $t: $status"
		return
	fi
	prepare "$t" "$d"
	build_cmd "$t" "$d"
	printf '=== run %s: %s\n' "$run" "${CMD[*]}" >>"$log"
	rm -f "$tf"
	t0=${EPOCHREALTIME:-}
	if [[ -n ${LISTS_HASHES[$t]+x} ]]; then
		"$GNU_TIME" -f '%e %M' -o "$tf" "${CMD[@]}" >/dev/null 2>>"$log" || rc=$?
	else
		"$GNU_TIME" -f '%e %M' -o "$tf" "${CMD[@]}" >>"$log" 2>&1 || rc=$?
	fi
	t1=${EPOCHREALTIME:-}
	if [[ -f $tf ]]; then
		last=$(tail -n 1 "$tf")
		if [[ $last =~ ^([0-9.]+)\ ([0-9]+)$ ]]; then
			time_e=${BASH_REMATCH[1]}
			rss=${BASH_REMATCH[2]}
		fi
	fi
	# GNU time's %e has 10 ms resolution; bash >= 5 gives microseconds.
	if [[ -n $t0 && -n $t1 ]]; then
		wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	else
		wall=$time_e
	fi
	if ((rc == 0)) && [[ -n $time_e ]]; then status=ok; else status="exit $rc"; fi
	RUN_STATUS[$t]=$status
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$fx" "$t" "$run" "$status" "$wall" "$rss" "$log" "$time_e" >>"$W/results.tsv"
	if [[ $status == ok ]]; then
		note "($fx) run $run/$RUNS $t: $wall s, $rss KiB peak RSS"
	else
		note "($fx) run $run/$RUNS $t: FAILED ($status), see $log"
	fi
}

# --------------------------------------------------------------------------
# Machine facts, SHA-256 limit
# --------------------------------------------------------------------------
SHA_CORE_BPS=0
if [[ -n $OPENSSL ]]; then
	SHA_CORE_BPS=$("$OPENSSL" speed -evp sha256 -bytes 16384 -seconds 1 2>/dev/null |
		awk 'tolower($1) == "sha256" && $NF ~ /k$/ { v = $NF; sub(/k$/, "", v); printf "%.0f\n", v * 1000 }' |
		tail -n 1) || SHA_CORE_BPS=0
	SHA_CORE_BPS=${SHA_CORE_BPS:-0}
fi
SHA_LIMIT_BPS=$((SHA_CORE_BPS * NPROC))

version_of() { # tool path -> one line
	local out
	case $1 in
	hashdeep) out=$("$2" -V 2>&1 | head -n 1) ;;
	openssl) out=$("$2" version 2>&1 | head -n 1) ;;
	*) out=$("$2" --version 2>&1 | head -n 1) ;;
	esac
	printf '%s' "${out:-unknown}"
}

{
	printf -- '- Date: %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf -- '- CPU: %s; %s cores (nproc); memory: %s\n' \
		"$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)" "$NPROC" \
		"$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || echo unknown)"
	printf -- '- Kernel: %s; fixtures in `%s` (scale %s)\n' "$(uname -sr)" "$BENCH_DIR" "$SCALE"
	printf -- '- Versions: `%s`' "$(version_of seqprov "$SEQPROV")"
	for pair in "b3sum:$B3SUM" "rhash:$RHASH" "hashdeep:$HASHDEEP" "sha256sum:$SHA256SUM" \
		"model_signing:$MODEL_SIGNING" "bagit:$BAGIT" "openssl:$OPENSSL" "zcat:$ZCAT" "pigz:$PIGZ" \
		"bgzip:$BGZIP"; do
		name=${pair%%:*}
		path=${pair#*:}
		if [[ -n $path ]]; then
			printf ', %s `%s`' "$name" "$(version_of "$name" "$path")"
		else
			printf ', %s not installed' "$name"
		fi
	done
	printf '\n'
} >"$W/env.md"

{
	printf 'runs\t%s\n' "$RUNS"
	printf 'nproc\t%s\n' "$NPROC"
	printf 'scale\t%s\n' "$SCALE"
	printf 'sha_core_bps\t%s\n' "$SHA_CORE_BPS"
	printf 'sha_limit_bps\t%s\n' "$SHA_LIMIT_BPS"
} >"$W/meta.tsv"

{
	for t in "${ALL_TOOLS[@]}"; do
		detail=
		if [[ ${STATE[$t]} == missing ]]; then
			detail="\`$(missing_reason "$t")\` not found; see benches/README.md or run benches/compare.sh --install"
		fi
		printf '%s\t%s\t%s\t%s\n' "$t" "${LABEL[$t]}" "${STATE[$t]}" "$detail"
	done
} >"$W/tools.tsv"

for t in "${ALL_TOOLS[@]}"; do
	if [[ ${STATE[$t]} == missing ]]; then note "$t: $(missing_reason "$t") not installed, skipped"; fi
done

# --------------------------------------------------------------------------
# Benchmark
# --------------------------------------------------------------------------
: >"$W/fixtures.tsv"
: >"$W/fixture_tools.tsv"
: >"$W/inputs.tsv"
for fx in "${FX_LIST[@]}"; do
	ensure_fixture "$fx"
	fixture_inputs "$fx"
	read -r fx_bytes fx_files < <(find "$SUBJECT" -type f -printf '%s\n' | awk '{ s += $1; n++ } END { printf "%.0f %d\n", s, n }')
	bgzf_bytes=
	if [[ -n $E_BGZF_DIR ]]; then bgzf_bytes=$(file_size "$E_BGZF_DIR/${E_FILE##*/}"); fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$fx" "${FX_LABEL[$fx]}" "$SUBJECT" "$fx_bytes" "$fx_files" \
		"$E_RAW" "$bgzf_bytes" >>"$W/fixtures.tsv"
	fx_tools=()
	for t in "${ALL_TOOLS[@]}"; do
		if [[ ${STATE[$t]} != deselected ]] && applies "$fx" "$t"; then
			printf '%s\t%s\n' "$fx" "$t" >>"$W/fixture_tools.tsv"
			if [[ ${STATE[$t]} == ok ]]; then fx_tools+=("$t"); fi
		fi
	done
	if [[ $fx == e ]]; then
		# What each tool reads (compressed bytes) and, for those that inflate, the FASTQ
		# bytes that come out: the report gives MB/s of both.
		gz_bytes=$(file_size "$E_FILE")
		for t in "${fx_tools[@]}"; do
			case $t in
			seal_content | zcat_b3sum | pigz_b3sum) printf 'e\t%s\t%s\t%s\n' "$t" "$gz_bytes" "$E_RAW" ;;
			seal_content_bgzf) if [[ -n $bgzf_bytes ]]; then printf 'e\t%s\t%s\t%s\n' "$t" "$bgzf_bytes" "$E_RAW"; fi ;;
			*) printf 'e\t%s\t%s\t\n' "$t" "$gz_bytes" ;;
			esac
		done >>"$W/inputs.tsv"
	fi
	note "($fx) $fx_files files, $fx_bytes bytes; warming the page cache"
	warm_cache "$FX_DIR"
	for ((run = 1; run <= RUNS; run++)); do
		RUN_STATUS=()
		for t in "${fx_tools[@]}"; do
			run_timed "$fx" "$t" "$run" "$SUBJECT"
		done
	done
	rm -rf "$W/bag"
done

mkdir -p "$(dirname "$OUT")"
python3 "$SCRIPT_DIR/report.py" "$W" >"$OUT"
cat "$OUT"
note "report written to $OUT (raw timings: $W/results.tsv, logs: $W/logs/)"
