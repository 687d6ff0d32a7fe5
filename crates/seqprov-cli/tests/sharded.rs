//! One seal hashed on many nodes (spec/sharded.md), through the real binary: `plan`,
//! `hash-part` and `seal --from-parts` give a bundle byte for byte equal to `seal`'s with
//! the same salt seed and time, on a run folder and on a tree whose files are cut into
//! ranges; `verify --from-parts`; and every hostile or mismatched plan and part is refused
//! with its exact exit code and message: a forged chaining value (named by the recheck), a
//! part of another plan, a duplicated or missing part, overlapping ranges, a file changed
//! since the plan, garbage and oversized files.
#![cfg(unix)]

mod tree_copy;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use tree_copy::copy_tree;

use assert_cmd::Command;
use seqprov::format::shard::{Part, Plan};
use tempfile::TempDir;

const SEED: &str = "0707070707070707070707070707070707070707070707070707070707070707";
const TIME: &str = "2026-01-02T03:04:05Z";
const MIB: usize = 1 << 20;

fn seqprov() -> Command {
    let mut cmd = Command::cargo_bin("seqprov").unwrap();
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// Bytes that differ everywhere (so a range swapped for another gives another digest).
fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64).wrapping_mul(2654435761).to_le_bytes()[1] ^ salt ^ (i / 4093) as u8)
        .collect()
}

struct Work {
    _dir: TempDir,
    root: PathBuf,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let w = Work { _dir: dir, root };
        let out = w.cmd(&["keygen", "--out", "k", "--name", "Shard Sealer"]);
        assert!(out.status.success());
        w
    }

    /// A tree with files larger than a 1 MiB part: 5 MiB (five ranges), 3 MiB + 5 bytes
    /// (four ranges, the last short), and small files, a symlink and an empty directory.
    fn big_tree(&self) -> PathBuf {
        let run = self.root.join("run");
        fs::create_dir_all(run.join("sub/empty")).unwrap();
        fs::write(run.join("big.bin"), pattern(5 * MIB, 1)).unwrap();
        fs::write(run.join("sub/odd.bin"), pattern(3 * MIB + 5, 2)).unwrap();
        fs::write(run.join("sub/small.txt"), b"small\n").unwrap();
        fs::write(run.join("zero"), b"").unwrap();
        std::os::unix::fs::symlink("sub/small.txt", run.join("link")).unwrap();
        run
    }

    /// The example run folder (RunInfo.xml, BCL and filter files that are structure
    /// checked, a FASTQ) and a 5 MiB file that is cut.
    fn run_folder(&self) -> PathBuf {
        let run = self.root.join("run");
        copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/run-folder"),
            &run,
        );
        fs::write(run.join("big.bin"), pattern(5 * MIB, 3)).unwrap();
        run
    }

    fn cmd(&self, args: &[&str]) -> Output {
        seqprov()
            .current_dir(&self.root)
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.cmd(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.root.join(name)).unwrap()
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        fs::write(self.root.join(name), bytes).unwrap()
    }

    /// `plan` with `extra` options and `hash-part` of every part (node names n0, n1, …);
    /// returns the part file names.
    fn plan_and_hash(&self, parts: usize, extra: &[&str]) -> Vec<String> {
        let parts_text = parts.to_string();
        let mut args = vec![
            "plan",
            "run",
            "--parts",
            &parts_text,
            "--out",
            "p.plan",
            "--test-salt-seed",
            SEED,
        ];
        args.extend_from_slice(extra);
        self.ok(&args);
        (0..parts)
            .map(|i| {
                let name = format!("p{i}.part");
                self.ok(&[
                    "hash-part",
                    "p.plan",
                    "--part",
                    &i.to_string(),
                    "--out",
                    &name,
                    "--node",
                    &format!("n{i}"),
                    "-q",
                ]);
                name
            })
            .collect()
    }

    fn seal_from_parts(&self, out: &str, parts: &[String], extra: &[&str]) -> Output {
        let mut args = vec![
            "seal", "run", "--key", "k.key", "--out", out, "--plan", "p.plan",
        ];
        args.extend_from_slice(extra);
        args.push("--from-parts");
        args.extend(parts.iter().map(String::as_str));
        self.cmd(&args)
    }

    fn single_seal(&self, out: &str, extra: &[&str]) {
        let mut args = vec![
            "seal",
            "run",
            "--key",
            "k.key",
            "--out",
            out,
            "--test-time",
            TIME,
            "--test-salt-seed",
            SEED,
            "-q",
        ];
        args.extend_from_slice(extra);
        self.ok(&args);
    }

    fn plan(&self) -> Plan {
        Plan::from_cbor(&self.read("p.plan")).unwrap()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The error line, checked to be the only line (no backtrace, no panic).
fn one_error_line(out: &Output) -> String {
    let text = stderr(out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(!text.contains("panicked"), "{text}");
    lines[0].to_string()
}

/// The pieces of `path` in the plan: (part, start, len).
fn pieces_of(plan: &Plan, path: &str) -> Vec<(usize, u64, u64)> {
    let file = plan.entries.iter().position(|e| e.path == path).unwrap() as u64;
    let mut found: Vec<(usize, u64, u64)> = plan
        .parts
        .iter()
        .enumerate()
        .flat_map(|(i, part)| {
            part.iter()
                .filter(|p| p.file == file)
                .map(move |p| (i, p.start, p.len))
        })
        .collect();
    found.sort_by_key(|p| p.1);
    found
}

#[test]
fn a_sealed_run_folder_from_parts_is_byte_identical_to_a_single_machine_seal() {
    let w = Work::new();
    w.run_folder();
    let parts = w.plan_and_hash(3, &["--range-len", "1048576"]);
    // The BCL and filter files are structure checked, so they stay whole; big.bin is cut.
    let plan = w.plan();
    assert_eq!(plan.checks, "lenient");
    assert_eq!(pieces_of(&plan, "big.bin").len(), 5);
    let bcl = pieces_of(&plan, "Data/Intensities/BaseCalls/L001/C1.1/s_1_1101.bcl");
    assert_eq!(bcl.len(), 1);
    let out = w.seal_from_parts(
        "parts.seqprov",
        &parts,
        &[
            "--test-time",
            TIME,
            "--no-nodes-event",
            "--recheck",
            "1",
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    w.single_seal("single.seqprov", &[]);
    let (from_parts, single) = (w.read("parts.seqprov"), w.read("single.seqprov"));
    assert_eq!(from_parts, single, "the bundles differ");
    // The same, recording the nodes: the single-machine bundle, then one custody event.
    let out = w.seal_from_parts("nodes.seqprov", &parts, &["--test-time", TIME, "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let with_nodes = w.read("nodes.seqprov");
    assert!(with_nodes.len() > single.len());
    assert_eq!(&with_nodes[..single.len()], &single[..]);
    let shown = w.ok(&[
        "custody",
        "show",
        "nodes.seqprov",
        "--json",
        "--trust",
        "k.pub",
    ]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("n0: part 0; n1: part 1; n2: part 2;"),
        "{text}"
    );
    let verified = w.cmd(&[
        "verify",
        "run",
        "--bundle",
        "nodes.seqprov",
        "--trust",
        "k.pub",
    ]);
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
}

#[test]
fn files_larger_than_a_part_are_cut_into_ranges_and_the_seal_is_byte_identical() {
    let w = Work::new();
    w.big_tree();
    let parts = w.plan_and_hash(4, &["--range-len", "1048576", "--no-structure-check"]);
    let plan = w.plan();
    let big = pieces_of(&plan, "big.bin");
    assert_eq!(
        big.iter().map(|p| (p.1, p.2)).collect::<Vec<_>>(),
        (0..5u64).map(|k| (k << 20, 1 << 20)).collect::<Vec<_>>()
    );
    let odd = pieces_of(&plan, "sub/odd.bin");
    assert_eq!(odd.last().map(|p| (p.1, p.2)), Some((3 << 20, 5)));
    // The ranges of one file are spread over several parts.
    let parts_of_big: std::collections::BTreeSet<usize> = big.iter().map(|p| p.0).collect();
    assert!(parts_of_big.len() >= 3, "{big:?}");
    let out = w.seal_from_parts(
        "parts.seqprov",
        &parts,
        &["--test-time", TIME, "--no-nodes-event", "--recheck", "1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    w.single_seal("single.seqprov", &["--no-structure-check"]);
    assert_eq!(w.read("parts.seqprov"), w.read("single.seqprov"));

    // verify --from-parts: verified from the parts; a file changed afterwards is read here
    // and reported modified.
    let mut verify = vec![
        "verify",
        "run",
        "--bundle",
        "single.seqprov",
        "--trust",
        "k.pub",
        "--plan",
        "p.plan",
        "--recheck",
        "1",
        "--from-parts",
    ];
    verify.extend(parts.iter().map(String::as_str));
    let out = w.cmd(&verify);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut changed = pattern(5 * MIB, 1);
    changed[3 * MIB + 7] ^= 1;
    fs::write(w.root.join("run/big.bin"), changed).unwrap();
    let out = w.cmd(&verify);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("MODIFIED     big.bin"), "{text}");
}

#[test]
fn with_sha256_files_stay_whole_and_the_seal_is_byte_identical() {
    let w = Work::new();
    w.big_tree();
    let parts = w.plan_and_hash(3, &["--range-len", "1048576", "--sha256"]);
    assert_eq!(
        pieces_of(&w.plan(), "big.bin"),
        vec![(pieces_of(&w.plan(), "big.bin")[0].0, 0, 5 << 20)]
    );
    let out = w.seal_from_parts(
        "parts.seqprov",
        &parts,
        &["--test-time", TIME, "--no-nodes-event", "--recheck", "1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    w.single_seal("single.seqprov", &["--sha256"]);
    assert_eq!(w.read("parts.seqprov"), w.read("single.seqprov"));
}

/// The attack a worker can mount: a chaining value for bytes it never read. The recheck
/// re-hashes the range on the sealing host and refuses, naming the part and its node.
#[test]
fn a_forged_chaining_value_is_refused_naming_the_part() {
    let w = Work::new();
    w.big_tree();
    let parts = w.plan_and_hash(4, &["--range-len", "1048576", "--no-structure-check"]);
    let plan = w.plan();
    let (victim, start, len) = pieces_of(&plan, "big.bin")[2];
    let name = &parts[victim];
    let mut part = Part::from_cbor(&w.read(name)).unwrap();
    let forged = part
        .pieces
        .iter_mut()
        .find(|p| p.start == start && plan.entries[p.file as usize].path == "big.bin")
        .unwrap();
    forged.blake3.0[0] ^= 1;
    w.write(name, &part.to_cbor());
    let out = w.seal_from_parts("forged.seqprov", &parts, &["--recheck", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        one_error_line(&out),
        format!(
            "seqprov: error: sealing run failed: integrity failure: part {victim} (node \"n{victim}\", \
             {name}): its result for bytes {start}..{} of big.bin differs from the bytes on disk \
             when re-hashed here; the seal is refused",
            start + len
        )
    );
    assert!(!w.root.join("forged.seqprov").exists());
    // verify --from-parts refuses the same forged part (and concludes nothing: it does not
    // fall back to calling the file modified).
    w.single_seal("single.seqprov", &["--no-structure-check"]);
    let mut verify = vec![
        "verify",
        "run",
        "--bundle",
        "single.seqprov",
        "--trust",
        "k.pub",
        "--plan",
        "p.plan",
        "--recheck",
        "1",
        "--from-parts",
    ];
    verify.extend(parts.iter().map(String::as_str));
    let out = w.cmd(&verify);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        one_error_line(&out).ends_with(&format!(
            "its result for bytes {start}..{} of big.bin differs from the bytes on disk when \
             re-hashed here; the parts are refused",
            start + len
        )),
        "{}",
        stderr(&out)
    );
    // Without the recheck of that range, the forged value would give another digest: the
    // seal would not verify. A forged whole-file result is named as a file.
    let mut part = Part::from_cbor(&w.read(name)).unwrap();
    let whole = part
        .pieces
        .iter_mut()
        .find(|p| plan.is_whole(&seqprov::format::shard::Piece::of(p)));
    if let Some(whole) = whole {
        whole.blake3.0[0] ^= 1;
        let path = plan.entries[whole.file as usize].path.clone();
        // Undo the range forgery so the file result is the first mismatch.
        for p in part.pieces.iter_mut() {
            if p.start == start && plan.entries[p.file as usize].path == "big.bin" {
                p.blake3.0[0] ^= 1;
            }
        }
        w.write(name, &part.to_cbor());
        let out = w.seal_from_parts("forged.seqprov", &parts, &["--recheck", "1"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            one_error_line(&out).contains(&format!("its result for file {path} differs")),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn a_part_of_another_plan_a_duplicated_or_missing_part_is_refused() {
    let w = Work::new();
    w.big_tree();
    let parts = w.plan_and_hash(3, &["--range-len", "1048576"]);
    let digest = hex(&seqprov::format::shard::plan_digest(&w.read("p.plan")));
    // Another plan of the same tree (another seed): its part 1 does not belong here.
    w.ok(&[
        "plan",
        "run",
        "--parts",
        "3",
        "--out",
        "other.plan",
        "--range-len",
        "1048576",
    ]);
    w.ok(&[
        "hash-part",
        "other.plan",
        "--part",
        "1",
        "--out",
        "other1.part",
        "-q",
    ]);
    let other_digest = hex(&seqprov::format::shard::plan_digest(&w.read("other.plan")));
    let mixed = vec![
        parts[0].clone(),
        "other1.part".to_string(),
        parts[2].clone(),
    ];
    let out = w.seal_from_parts("x.seqprov", &mixed, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        format!(
            "seqprov: error: sealing run failed: part other1.part: it belongs to another plan \
             (plan digest {other_digest}, not {digest})"
        )
    );
    let twice = vec![parts[0].clone(), parts[1].clone(), parts[0].clone()];
    let out = w.seal_from_parts("x.seqprov", &twice, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        "seqprov: error: sealing run failed: p0.part and p0.part are both part 0 of the plan: \
         give each part once"
    );
    let out = w.seal_from_parts("x.seqprov", &parts[..2], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        "seqprov: error: sealing run failed: 1 of the plan's 3 parts are missing: part 2"
    );
    // A part file claiming to be another part of the plan.
    let mut relabelled = Part::from_cbor(&w.read(&parts[1])).unwrap();
    relabelled.part = 2;
    w.write("relabelled.part", &relabelled.to_cbor());
    let out = w.seal_from_parts(
        "x.seqprov",
        &[parts[0].clone(), parts[1].clone(), "relabelled.part".into()],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        "seqprov: error: sealing run failed: part relabelled.part: its pieces are not those of \
         part 2 of the plan"
    );
    assert!(!w.root.join("x.seqprov").exists());
}

#[test]
fn a_plan_with_overlapping_ranges_is_refused() {
    let w = Work::new();
    w.big_tree();
    w.plan_and_hash(2, &["--range-len", "1048576"]);
    let mut plan = w.plan();
    let file = plan
        .entries
        .iter()
        .position(|e| e.path == "big.bin")
        .unwrap() as u64;
    let piece = plan
        .parts
        .iter_mut()
        .flatten()
        .find(|p| p.file == file && p.start == 2 << 20)
        .unwrap();
    piece.start -= 4096;
    w.write("overlap.plan", &plan.to_cbor());
    let out = w.cmd(&[
        "hash-part",
        "overlap.plan",
        "--part",
        "0",
        "--out",
        "o.part",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        "seqprov: error: hashing part 0 failed: plan overlap.plan: the pieces of \"big.bin\" \
         overlap, leave a gap or are not cut on the plan's 1048576-byte range boundaries"
    );
    // The same piece given twice.
    let mut plan = w.plan();
    let first = plan.parts[0][0];
    plan.parts[1].push(first);
    w.write("twice.plan", &plan.to_cbor());
    let out = w.cmd(&["hash-part", "twice.plan", "--part", "0", "--out", "o.part"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        one_error_line(&out).contains("is covered twice"),
        "{}",
        stderr(&out)
    );
    assert!(!w.root.join("o.part").exists());
}

#[test]
fn a_file_changed_since_the_plan_is_refused_by_hash_part_and_by_the_seal() {
    let w = Work::new();
    let run = w.big_tree();
    let parts = w.plan_and_hash(2, &["--range-len", "1048576"]);
    fs::write(run.join("sub/small.txt"), b"small and longer\n").unwrap();
    let out = w.cmd(&["hash-part", "p.plan", "--part", "0", "--out", "again0.part"]);
    let out2 = w.cmd(&["hash-part", "p.plan", "--part", "1", "--out", "again1.part"]);
    // Whichever part holds the file refuses it.
    let refused = if out.status.success() { out2 } else { out };
    assert_eq!(refused.status.code(), Some(2));
    let line = one_error_line(&refused);
    let expected = format!(
        "{}: changed since the plan was made (size went from 6 to 17 bytes); make a new plan",
        run.join("sub/small.txt").display()
    );
    assert!(line.ends_with(&expected), "{line}");
    let out = w.seal_from_parts("x.seqprov", &parts, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        format!(
            "seqprov: error: sealing run failed: run/sub/small.txt: changed since the plan was \
             made (size went from 6 to 17 bytes); make a new plan"
        )
    );
    // A new file is named too.
    fs::write(run.join("sub/small.txt"), b"small\n").unwrap();
    let out = w.seal_from_parts("x.seqprov", &parts, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        one_error_line(&out).contains(
            "run/sub/small.txt: changed since the plan was made (its \
             modification or change time moved)"
        ),
        "{}",
        stderr(&out)
    );
    fs::write(run.join("new.txt"), b"n").unwrap();
    let plan_ok = w.cmd(&["plan", "run", "--parts", "1", "--out", "fresh.plan"]);
    assert!(plan_ok.status.success());
    assert!(!w.root.join("x.seqprov").exists());
}

#[test]
fn hostile_plan_and_part_files_get_one_error_line() {
    let w = Work::new();
    w.big_tree();
    let parts = w.plan_and_hash(2, &["--range-len", "1048576"]);
    w.write("garbage.plan", b"\xff\x00 not cbor");
    let out = w.cmd(&[
        "hash-part",
        "garbage.plan",
        "--part",
        "0",
        "--out",
        "g.part",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        "seqprov: error: hashing part 0 failed: plan garbage.plan: the plan: invalid type: break, expected map"
    );
    // Truncated plan.
    let plan = w.read("p.plan");
    w.write("cut.plan", &plan[..plan.len() / 2]);
    let out = w.cmd(&["hash-part", "cut.plan", "--part", "0", "--out", "g.part"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        "seqprov: error: hashing part 0 failed: plan cut.plan: the plan is truncated"
    );
    // A plan longer than the limit is refused before it is read (a sparse file).
    let huge = fs::File::create(w.root.join("huge.plan")).unwrap();
    huge.set_len(seqprov::format::shard::MAX_PLAN_BYTES + 1)
        .unwrap();
    let out = w.cmd(&["hash-part", "huge.plan", "--part", "0", "--out", "g.part"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        format!(
            "seqprov: error: huge.plan: {} bytes, more than the limit of {}",
            seqprov::format::shard::MAX_PLAN_BYTES + 1,
            seqprov::format::shard::MAX_PLAN_BYTES
        )
    );
    // A part index the plan does not have.
    let out = w.cmd(&["hash-part", "p.plan", "--part", "9", "--out", "g.part"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        "seqprov: error: hashing part 9 failed: --part 9: the plan has parts 0 to 1"
    );
    // A garbage part and a part with an unknown field.
    w.write("garbage.part", b"\xa1\x61x\x01");
    let out = w.seal_from_parts("x.seqprov", &[parts[0].clone(), "garbage.part".into()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let line = one_error_line(&out);
    assert!(
        line.starts_with("seqprov: error: sealing run failed: part garbage.part: the part: "),
        "{line}"
    );
    // A node name with a terminal escape is refused, not printed.
    let mut part = Part::from_cbor(&w.read(&parts[0])).unwrap();
    part.node = "evil\u{1b}]0;x\u{7}".into();
    w.write("escape.part", &part.to_cbor());
    let out = w.seal_from_parts("x.seqprov", &["escape.part".into(), parts[1].clone()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        "seqprov: error: sealing run failed: part escape.part: the part's node name holds a \
         control character"
    );
    // Options the plan decides cannot be given with --from-parts.
    let out = w.seal_from_parts("x.seqprov", &parts, &["--sha256"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!w.root.join("x.seqprov").exists());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Without --range-len, ranges are at least 1 MiB and at most an eighth of a part, and
/// the parts' bytes end within one piece of each other.
#[test]
fn parts_are_balanced_by_bytes() {
    let w = Work::new();
    w.big_tree();
    w.ok(&["plan", "run", "--parts", "4", "--out", "p.plan"]);
    let plan = w.plan();
    assert_eq!(plan.range_len, 1 << 20);
    let loads: Vec<u64> = plan
        .parts
        .iter()
        .map(|part| part.iter().map(|p| p.len).sum())
        .collect();
    let longest = plan.parts.iter().flatten().map(|p| p.len).max().unwrap();
    let (min, max) = (*loads.iter().min().unwrap(), *loads.iter().max().unwrap());
    assert!(max - min <= longest, "{loads:?}");
    assert_eq!(
        loads.iter().sum::<u64>(),
        (5 << 20) + (3 << 20) + 5 + 6,
        "every byte is in exactly one part"
    );
}

/// A plan or a part written into the planned directory would change it: refused, exit 2,
/// nothing written.
#[test]
fn a_plan_or_part_inside_the_planned_directory_is_refused() {
    let w = Work::new();
    let run = w.big_tree();
    let out = w.cmd(&["plan", "run", "--parts", "2", "--out", "run/p.plan"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        "seqprov: error: the plan run/p.plan would be written inside the planned directory \
         run; choose another --out"
    );
    assert!(!run.join("p.plan").exists());
    w.plan_and_hash(2, &[]);
    let out = w.cmd(&[
        "hash-part",
        "p.plan",
        "--part",
        "0",
        "--out",
        "run/sub/p0.part",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_error_line(&out),
        format!(
            "seqprov: error: the part run/sub/p0.part would be written inside the planned \
             directory {}; choose another --out",
            run.display()
        )
    );
    assert!(!run.join("sub/p0.part").exists());
}
