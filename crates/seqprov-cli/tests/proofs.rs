//! Per-sample proofs through the real binary: what they prove, and what they do not
//! reveal.

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

fn seqprov() -> Command {
    Command::cargo_bin("seqprov").unwrap()
}

/// A FASTQ folder with two patients' samples, sealed with SHA-256, plus one custody event.
struct Samples {
    _work: TempDir,
    root: PathBuf,
}

const A_NAME: &str = "PATIENT-ALICE-1234_S1_R1_001.fastq";
const B_NAME: &str = "PATIENT-BOB-5678_S2_R1_001.fastq";

impl Samples {
    fn new() -> Samples {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().to_path_buf();
        fs::create_dir_all(root.join("fastq/project")).unwrap();
        fs::write(
            root.join("fastq/project").join(A_NAME),
            "@a1\nACGT\n+\nIIII\n",
        )
        .unwrap();
        fs::write(
            root.join("fastq/project")
                .join(A_NAME.replace("_R1_", "_R2_")),
            "@a1\nTTTT\n+\nIIII\n",
        )
        .unwrap();
        fs::write(
            root.join("fastq/project").join(B_NAME),
            "@b1\nGGGG\n+\nFFFF\n",
        )
        .unwrap();
        for i in 0..20 {
            fs::write(root.join(format!("fastq/other_{i}.txt")), format!("{i}")).unwrap();
        }
        for (name, full) in [
            ("core", "Core"),
            ("courier", "Courier"),
            ("mallory", "Mallory"),
        ] {
            seqprov()
                .current_dir(&root)
                .args(["keygen", "--out", name, "--name", full])
                .assert()
                .success();
        }
        seqprov()
            .current_dir(&root)
            .args(["seal", "fastq", "--key", "core.key", "--sha256"])
            .assert()
            .success();
        seqprov()
            .current_dir(&root)
            .args([
                "custody",
                "append",
                "fastq.seqprov",
                "--key",
                "courier.key",
                "--kind",
                "transfer",
                "--to",
                "LIS",
            ])
            .assert()
            .success();
        Samples { _work: work, root }
    }

    fn prove_alice(&self) -> PathBuf {
        seqprov()
            .current_dir(&self.root)
            .args([
                "prove",
                "fastq.seqprov",
                "--path",
                "**/PATIENT-ALICE-1234_*",
                "--out",
                "alice.seqprov-proof",
            ])
            .assert()
            .success()
            .stdout(predicates::str::contains("proof of 2 of 23 entries"));
        self.root.join("alice.seqprov-proof")
    }

    /// `seqprov prove fastq.seqprov --path GLOB --out OUT`, asserted on by the caller.
    fn prove(&self, glob: &str, out: &str) -> assert_cmd::assert::Assert {
        seqprov()
            .current_dir(&self.root)
            .args(["prove", "fastq.seqprov", "--path", glob, "--out", out])
            .assert()
    }

    fn alice_files(&self) -> Vec<String> {
        vec![
            format!("fastq/project/{A_NAME}"),
            format!("fastq/project/{}", A_NAME.replace("_R1_", "_R2_")),
        ]
    }

    fn verify(&self, files: &[String], extra: &[&str]) -> (Value, i32) {
        let out = seqprov()
            .current_dir(&self.root)
            .arg("verify")
            .args(files)
            .args(["--proof", "alice.seqprov-proof", "--json"])
            .args(extra)
            .output()
            .unwrap();
        let report = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (report, out.status.code().unwrap())
    }
}

#[test]
fn a_sample_proof_verifies_its_files_and_custody() {
    let s = Samples::new();
    s.prove_alice();
    let (report, code) = s.verify(
        &s.alice_files(),
        &["--trust", "core.pub", "--trust", "courier.pub"],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["ok"], 2);
    assert_eq!(report["custody"].as_array().unwrap().len(), 1);
    // Every given file is listed with the entry it was checked as.
    for f in report["files"].as_array().unwrap() {
        assert_eq!(f["class"], "ok", "{f}");
        let given = f["file"].as_str().unwrap();
        let entry = f["path"].as_str().unwrap();
        assert!(given.ends_with(entry.rsplit('/').next().unwrap()), "{f}");
    }
    // Files elsewhere under other names are not taken by content, unless named with --as
    // or the caller gives up names explicitly.
    let moved = s.root.join("lis-inbox");
    fs::create_dir_all(&moved).unwrap();
    for (i, f) in s.alice_files().iter().enumerate() {
        fs::copy(s.root.join(f), moved.join(format!("incoming_{i}.fq"))).unwrap();
    }
    let incoming: Vec<String> = vec![
        "lis-inbox/incoming_0.fq".into(),
        "lis-inbox/incoming_1.fq".into(),
    ];
    let trust = ["--trust", "core.pub", "--trust", "courier.pub"];
    let (report, code) = s.verify(&incoming, &trust);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["summary"]["extra"], 2);
    assert_eq!(report["summary"]["missing"], 2);
    let as_r1 = format!("lis-inbox/incoming_0.fq=project/{A_NAME}");
    let as_r2 = format!(
        "lis-inbox/incoming_1.fq=project/{}",
        A_NAME.replace("_R1_", "_R2_")
    );
    let (report, code) = s.verify(
        &incoming,
        &[&trust[..], &["--as", &as_r1, "--as", &as_r2]].concat(),
    );
    assert_eq!(code, 0, "{report:#}");
    let (report, code) = s.verify(
        &incoming,
        &[&trust[..], &["--match-content-ignoring-names"]].concat(),
    );
    assert_eq!(code, 0, "{report:#}");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("names were not checked"), "{warnings}");
    let taken: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        taken,
        [
            format!("project/{A_NAME}"),
            format!("project/{}", A_NAME.replace("_R1_", "_R2_"))
        ]
    );
    // Untrusted sealer: exit 3.
    let (_, code) = s.verify(&s.alice_files(), &["--trust", "mallory.pub"]);
    assert_eq!(code, 3);
}

#[test]
fn a_proof_for_one_sample_reveals_nothing_about_another() {
    let s = Samples::new();
    let proof = fs::read(s.prove_alice()).unwrap();
    let bundle = seqprov::read_bundle(&s.root.join("fastq.seqprov")).unwrap();
    let b = bundle
        .entries
        .iter()
        .find(|e| e.path().ends_with(B_NAME))
        .unwrap();
    let contains = |needle: &[u8]| proof.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(B_NAME.as_bytes()), "B's name is in A's proof");
    assert!(!contains(b"PATIENT-BOB"), "B's patient id is in A's proof");
    assert!(
        !contains(&b.blake3().unwrap().0),
        "B's BLAKE3 is in A's proof"
    );
    assert!(
        !contains(&b.sha256().unwrap().0),
        "B's SHA-256 is in A's proof"
    );
    assert!(!contains(&b.salt().0), "B's salt is in A's proof");
    // B's leaf hash may stand in A's proof as a sibling: it is BLAKE3 over B's entry with
    // B's random salt, which the proof does not carry, so it cannot be tested against a
    // guessed name or digest.
    for other in bundle
        .entries
        .iter()
        .filter(|e| e.path().contains("other_"))
    {
        assert!(!contains(other.path().as_bytes()));
    }
    assert!(contains(A_NAME.as_bytes()));
}

#[test]
fn altered_or_wrong_files_fail_against_the_proof() {
    let s = Samples::new();
    s.prove_alice();
    let trust = ["--trust", "core.pub", "--trust", "courier.pub"];
    // One base changed: same name, other content.
    fs::write(
        s.root.join("fastq/project").join(A_NAME),
        "@a1\nACGA\n+\nIIII\n",
    )
    .unwrap();
    let (report, code) = s.verify(&s.alice_files(), &trust);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["modified"], 1);
    // Bob's file handed over instead of Alice's R1: Alice's R1 is missing, Bob's is extra.
    let files = vec![
        format!("fastq/project/{B_NAME}"),
        s.alice_files()[1].clone(),
    ];
    let (report, code) = s.verify(&files, &trust);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["missing"], 1);
    assert_eq!(report["summary"]["extra"], 1);
}

#[test]
fn a_tampered_proof_is_rejected() {
    let s = Samples::new();
    let path = s.prove_alice();
    let bytes = fs::read(&path).unwrap();
    let trust = ["--trust", "core.pub", "--trust", "courier.pub"];
    // Flip one bit of a sibling hash, of the disclosed entry's digest, and of the seal.
    let seal_len = seqprov::format::cbor::decode_first(&bytes).unwrap().1;
    let body_at = seal_len + 20;
    for (name, at) in [
        ("inclusion path", body_at),
        ("entry", bytes.len() / 2 + 40),
        ("seal", seal_len / 2),
    ] {
        let mut altered = bytes.clone();
        altered[at] ^= 0x10;
        fs::write(&path, &altered).unwrap();
        let out = seqprov()
            .current_dir(&s.root)
            .arg("verify")
            .args(s.alice_files())
            .args(["--proof", "alice.seqprov-proof"])
            .args(trust)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn prove_refuses_patterns_that_match_nothing() {
    let s = Samples::new();
    s.prove("nothing/*", "x.seqprov-proof")
        .code(2)
        .stderr(predicates::str::contains("no sealed file matches"));
}

/// Issue 12 item 15: a `--path` glob outside the grammar is refused (exit 2) with a
/// message that names `--path`, not "exclude pattern"; so is `**` inside a component.
#[test]
fn a_bad_path_glob_is_named_as_a_path_glob() {
    let s = Samples::new();
    for (glob, why) in [
        ("a[", "`[` without `]`"),
        ("**.fastq", "`**` must be a whole path component"),
    ] {
        let out = seqprov()
            .current_dir(&s.root)
            .args([
                "prove",
                "fastq.seqprov",
                "--path",
                glob,
                "--out",
                "x.seqprov-proof",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("--path glob \"{glob}\": {why}")),
            "{err}"
        );
        assert!(!err.contains("exclude"), "{err}");
        assert!(!s.root.join("x.seqprov-proof").exists());
    }
}

#[test]
fn a_byte_range_of_a_large_file_is_checked_without_reading_it_all() {
    let s = Samples::new();
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    fs::write(s.root.join("fastq/project/big.bam"), &big).unwrap();
    seqprov()
        .current_dir(&s.root)
        .args([
            "seal",
            "fastq",
            "--key",
            "core.key",
            "--force",
            "--outboard",
        ])
        .assert()
        .success();
    let tree_dir = s.root.join("fastq.seqprov.outboard");
    let trees: Vec<_> = fs::read_dir(&tree_dir).unwrap().collect();
    assert_eq!(trees.len(), 1, "one file of 1 MiB or more");
    let tree_len = trees[0].as_ref().unwrap().metadata().unwrap().len();
    assert!(
        tree_len < big.len() as u64 / 15,
        "outboard is about 6.25 % ({tree_len} bytes)"
    );
    let range = |extra: &[&str]| {
        seqprov()
            .current_dir(&s.root)
            .args([
                "verify",
                "fastq/project/big.bam",
                "--range",
                "2000000:4096",
                "--trust",
                "core.pub",
                "--json",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = range(&["--bundle", "fastq.seqprov"]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "range_verified", "{report:#}");
    // The report names the file given and the entry it was checked as (issue 12 item 1).
    assert_eq!(report["files"][0]["class"], "ok", "{report:#}");
    assert_eq!(report["files"][0]["path"], "project/big.bam");
    assert_eq!(report["files"][0]["file"], "fastq/project/big.bam");
    // Through a proof of that file, with the tree directory named.
    s.prove("**/big.bam", "big.seqprov-proof").success();
    let via_proof = range(&[
        "--proof",
        "big.seqprov-proof",
        "--outboard",
        "fastq.seqprov.outboard",
    ]);
    assert_eq!(
        via_proof.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&via_proof.stderr)
    );
    // A byte changed inside the range is caught; outside it, by design, is not looked at.
    let mut altered = big.clone();
    altered[2_001_000] ^= 1;
    fs::write(s.root.join("fastq/project/big.bam"), &altered).unwrap();
    let out = range(&["--bundle", "fastq.seqprov"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["files"][0]["class"], "modified");
    let mut outside = big.clone();
    outside[10] ^= 1;
    fs::write(s.root.join("fastq/project/big.bam"), &outside).unwrap();
    assert_eq!(range(&["--bundle", "fastq.seqprov"]).status.code(), Some(0));
    // Regression (issue 12 item 4): a truncated or extended file was "verified" because
    // only the range was read. The size is compared first.
    let mut extended = big.clone();
    extended.push(0);
    fs::write(s.root.join("fastq/project/big.bam"), &extended).unwrap();
    let out = range(&["--bundle", "fastq.seqprov"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["files"][0]["class"], "modified");
    assert!(
        report["files"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("size changed"),
        "{report:#}"
    );
    fs::write(s.root.join("fastq/project/big.bam"), &big[..2_100_000]).unwrap();
    assert_eq!(range(&["--bundle", "fastq.seqprov"]).status.code(), Some(1));
    let text = seqprov()
        .current_dir(&s.root)
        .args(["verify", "fastq/project/big.bam", "--range", "2000000:4096"])
        .args(["--trust", "core.pub", "--bundle", "fastq.seqprov"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&text.stdout).contains("verified: "));
    fs::write(s.root.join("fastq/project/big.bam"), &big).unwrap();
    let text = seqprov()
        .current_dir(&s.root)
        .args(["verify", "fastq/project/big.bam", "--range", "2000000:4096"])
        .args(["--trust", "core.pub", "--bundle", "fastq.seqprov"])
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("range verified:"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    // A file is accepted only as the entry whose name it bears (issue 12 item 1), also
    // with --range: naming another entry with --entry is refused unless names are given up.
    fs::copy(
        s.root.join("fastq/project/big.bam"),
        s.root.join("other.bin"),
    )
    .unwrap();
    let renamed = |extra: &[&str]| {
        seqprov()
            .current_dir(&s.root)
            .args(["verify", "other.bin", "--range", "2000000:4096"])
            .args(["--entry", "project/big.bam", "--bundle", "fastq.seqprov"])
            .args([
                "--outboard",
                "fastq.seqprov.outboard",
                "--trust",
                "core.pub",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = renamed(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is named \"other.bin\""));
    // Regression (issue 12 item 1): with names given up the range verified without the
    // report saying that the name was not checked.
    let out = renamed(&["--match-content-ignoring-names", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["warnings"].as_array().unwrap().iter().any(|w| {
            let w = w.as_str().unwrap();
            w.starts_with("names were not checked") && w.contains("project/big.bam")
        }),
        "{report:#}"
    );
    assert_eq!(report["files"][0]["file"], "other.bin");
    assert_eq!(report["files"][0]["path"], "project/big.bam");
    // Without its tree: an I/O error, not a verdict.
    fs::remove_dir_all(&tree_dir).unwrap();
    assert_eq!(range(&["--bundle", "fastq.seqprov"]).status.code(), Some(2));
}

/// With `--sha256`, large files are hashed two per thread; each file's outboard tree must
/// still be built from its own bytes alone, so a range of either checks out.
#[test]
fn outboard_trees_of_files_hashed_in_pairs_check_out() {
    let s = Samples::new();
    for (name, salt) in [("a.bam", 1u32), ("b.bam", 2), ("c.bam", 3)] {
        let data: Vec<u8> = (0..(2_000_000 + salt * 70_001))
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(salt) >> 11) as u8)
            .collect();
        fs::write(s.root.join("fastq/project").join(name), data).unwrap();
    }
    seqprov()
        .current_dir(&s.root)
        .args([
            "seal",
            "fastq",
            "--key",
            "core.key",
            "--force",
            "--outboard",
            "--sha256",
        ])
        .assert()
        .success();
    let trees = fs::read_dir(s.root.join("fastq.seqprov.outboard"))
        .unwrap()
        .count();
    assert_eq!(trees, 3, "one tree per file of 1 MiB or more");
    for name in ["a.bam", "b.bam", "c.bam"] {
        let out = seqprov()
            .current_dir(&s.root)
            .args(["verify", &format!("fastq/project/{name}")])
            .args(["--range", "1500000:65536", "--bundle", "fastq.seqprov"])
            .args(["--trust", "core.pub", "--json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    seqprov()
        .current_dir(&s.root)
        .args(["verify", "fastq", "--trust", "core.pub"])
        .assert()
        .code(0);
}

#[test]
fn a_proof_exports_to_fhir_with_only_its_files() {
    let s = Samples::new();
    s.prove_alice();
    let out = seqprov()
        .current_dir(&s.root)
        .args([
            "export",
            "alice.seqprov-proof",
            "--format",
            "fhir",
            "--trust",
            "core.pub",
            "--trust",
            "courier.pub",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let fhir: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(fhir["resourceType"], "Provenance");
    assert!(text.contains("PATIENT-ALICE-1234"));
    assert!(
        !text.contains("PATIENT-BOB"),
        "the other patient's name is in the export"
    );
}

#[test]
fn a_proof_verifies_under_a_policy_file() {
    let s = Samples::new();
    s.prove_alice();
    fs::write(
        s.root.join("lis.toml"),
        "version = 1\n[[signer]]\nname = \"Core\"\nkey = \"core.pub\"\nroles = [\"sealer\"]\n\
         [[signer]]\nname = \"Courier\"\nkey = \"courier.pub\"\nroles = [\"custodian\"]\n\
         [requirements]\nrequired_events = [{ kind = \"transfer\", role = \"custodian\" }]\n",
    )
    .unwrap();
    let (report, code) = s.verify(&s.alice_files(), &["--policy", "lis.toml"]);
    assert_eq!(code, 0, "{report:#}");
    fs::write(
        s.root.join("strict.toml"),
        "version = 1\n[[signer]]\nname = \"Core\"\nkey = \"core.pub\"\nroles = [\"sealer\"]\n\
         [requirements]\nrequired_events = [{ kind = \"receive\" }]\n",
    )
    .unwrap();
    let (report, code) = s.verify(&s.alice_files(), &["--policy", "strict.toml"]);
    assert_eq!(code, 3);
    let rules: Vec<&str> = report["policy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"required_event"), "{rules:?}");
}

#[test]
fn prove_warns_when_the_seal_names_broken_or_missing_files() {
    let s = Samples::new();
    fs::write(s.root.join("fastq/project/x.bcl"), [9, 0, 0, 0, 1]).unwrap();
    seqprov()
        .current_dir(&s.root)
        .args([
            "seal",
            "fastq",
            "--key",
            "core.key",
            "--force",
            "--allow-broken",
        ])
        .assert()
        .success();
    s.prove("**/PATIENT-ALICE-1234_*", "a.seqprov-proof")
        .success()
        .stderr(predicates::str::contains("those names are disclosed too"));
}

/// Regression (issue 12 item 1): a proof for one patient accepted another patient's
/// files copied under this patient's names, and R1 and R2 swapped, because files were
/// matched by content whatever their name.
#[test]
fn a_file_is_accepted_only_as_the_entry_whose_name_it_bears() {
    let s = Samples::new();
    // A proof of BOB's sample, sent as if it were ALICE's.
    s.prove("**/PATIENT-BOB-5678_*", "alice.seqprov-proof")
        .success();
    fs::create_dir_all(s.root.join("inbox")).unwrap();
    fs::copy(
        s.root.join("fastq/project").join(B_NAME),
        s.root.join("inbox").join(A_NAME),
    )
    .unwrap();
    let (report, code) = s.verify(&[format!("inbox/{A_NAME}")], &["--trust", "core.pub"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["summary"]["ok"], 0, "{report:#}");
    assert_eq!(report["summary"]["extra"], 1);
    assert_eq!(report["summary"]["missing"], 1);

    // R1 and R2 of one patient swapped.
    fs::remove_file(s.root.join("alice.seqprov-proof")).unwrap();
    s.prove_alice();
    let r1 = format!("fastq/project/{A_NAME}");
    let r2 = format!("fastq/project/{}", A_NAME.replace("_R1_", "_R2_"));
    let swap = s.root.join("swap");
    fs::create_dir_all(&swap).unwrap();
    fs::copy(s.root.join(&r1), swap.join(A_NAME.replace("_R1_", "_R2_"))).unwrap();
    fs::copy(s.root.join(&r2), swap.join(A_NAME)).unwrap();
    let swapped = vec![
        format!("swap/{A_NAME}"),
        format!("swap/{}", A_NAME.replace("_R1_", "_R2_")),
    ];
    let (report, code) = s.verify(&swapped, &["--trust", "core.pub"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["summary"]["modified"], 2, "{report:#}");
    for f in report["files"].as_array().unwrap() {
        let given = f["file"].as_str().unwrap();
        let entry = f["path"].as_str().unwrap();
        assert!(given.ends_with(entry.rsplit('/').next().unwrap()), "{f}");
    }
}

/// Regression (issue 12 item 21): the outcome depended on the order of the files given.
#[test]
fn file_order_does_not_change_the_report() {
    let s = Samples::new();
    s.prove_alice();
    let r2 = s
        .root
        .join("fastq/project")
        .join(A_NAME.replace("_R1_", "_R2_"));
    fs::write(&r2, "@a1\nTTTA\n+\nIIII\n").unwrap();
    let files = s.alice_files();
    let reversed: Vec<String> = files.iter().rev().cloned().collect();
    let (forward, code_forward) = s.verify(&files, &["--trust", "core.pub"]);
    let (backward, code_backward) = s.verify(&reversed, &["--trust", "core.pub"]);
    assert_eq!(code_forward, 1);
    assert_eq!(code_forward, code_backward);
    assert_eq!(forward["files"], backward["files"]);
    assert_eq!(forward["summary"], backward["summary"]);
}

/// Regression (issue 12 item 19): a proof that disclosed a directory or a symlink could
/// never verify. `prove` discloses regular files only and says what it left out.
#[test]
fn prove_discloses_regular_files_only() {
    let s = Samples::new();
    std::os::unix::fs::symlink(A_NAME, s.root.join("fastq/project/PATIENT-ALICE-1234_link"))
        .unwrap();
    fs::create_dir_all(s.root.join("fastq/project/PATIENT-ALICE-1234_empty")).unwrap();
    seqprov()
        .current_dir(&s.root)
        .args(["seal", "fastq", "--key", "core.key", "--force"])
        .assert()
        .success();
    s.prove("**/PATIENT-ALICE-1234_*", "alice.seqprov-proof")
        .success()
        .stderr(predicates::str::contains(
            "not disclosed: 2 directory or symlink entries",
        ))
        .stdout(predicates::str::contains("proof of 2 of"));
    let (report, code) = s.verify(&s.alice_files(), &["--trust", "core.pub"]);
    assert_eq!(code, 0, "{report:#}");
    s.prove("**/PATIENT-ALICE-1234_link", "link.seqprov-proof")
        .code(2)
        .stderr(predicates::str::contains("no sealed file matches"));
}
