//! Chain of custody, derivation links and lab policy, through the real binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

fn seqprov() -> Command {
    Command::cargo_bin("seqprov").unwrap()
}

/// A sealed run `run` with keys `core` (sealer), `courier`, `lab`, `qc` and `mallory`.
struct Lab {
    _work: TempDir,
    root: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().to_path_buf();
        fs::create_dir_all(root.join("run/Data")).unwrap();
        fs::write(root.join("run/Summary.xml"), "<RunInfo/>\n").unwrap();
        fs::write(root.join("run/Data/s_1_1101.bcl"), [2, 0, 0, 0, 7, 9]).unwrap();
        for (name, full) in [
            ("core", "Core Facility"),
            ("courier", "Carl Courier"),
            ("lab", "Lena Lab"),
            ("qc", "Quinn QC"),
            ("mallory", "Mallory"),
        ] {
            seqprov()
                .current_dir(&root)
                .args(["keygen", "--out", name, "--name", full])
                .assert()
                .success();
        }
        let lab = Lab { _work: work, root };
        lab.run(&[
            "seal",
            "run",
            "--key",
            "core.key",
            "--role",
            "sequencing-core",
        ])
        .success();
        lab
    }

    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        seqprov().current_dir(&self.root).args(args).assert()
    }

    fn bundle(&self) -> PathBuf {
        self.root.join("run.seqprov")
    }

    fn transfer(&self, key: &str, to: &str) {
        self.run(&[
            "custody",
            "append",
            "run.seqprov",
            "--key",
            key,
            "--kind",
            "transfer",
            "--to",
            to,
        ])
        .success();
    }

    fn receive(&self, key: &str) -> assert_cmd::assert::Assert {
        self.run(&[
            "receive",
            "run",
            "--key",
            key,
            "--role",
            "lab",
            "--trust",
            "core.pub",
            "--trust",
            "courier.pub",
            "--trust",
            "qc.pub",
        ])
    }

    /// `verify --json` with extra arguments; returns the report and exit code.
    fn verify(&self, extra: &[&str]) -> (Value, i32) {
        let out = seqprov()
            .current_dir(&self.root)
            .args(["verify", "run", "--json"])
            .args(extra)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
        (report, out.status.code().unwrap())
    }

    fn write_policy(&self, body: &str) -> PathBuf {
        let path = self.root.join("lab.toml");
        fs::write(&path, format!("version = 1\n{body}")).unwrap();
        path
    }

    /// A policy trusting core (sealer), courier, lab and qc in their roles.
    fn standard_policy(&self, requirements: &str) -> PathBuf {
        self.write_policy(&format!(
            r#"
[[signer]]
name = "Core"
key = "core.pub"
roles = ["sequencing-core"]

[[signer]]
name = "Courier"
key = "courier.pub"
roles = ["custodian"]

[[signer]]
name = "Lab"
key = "lab.pub"
roles = ["lab"]

[[signer]]
name = "QC"
key = "qc.pub"
roles = ["reviewer"]

[requirements]
seal_roles = ["sequencing-core"]
{requirements}
"#
        ))
    }
}

/// A transfer event by a custodian, claiming the given time (the CLI has no clock
/// switch, so tests that need another time sign through the library).
fn transfer_at(at: time::OffsetDateTime) -> seqprov::custody::EventDraft {
    seqprov::custody::EventDraft {
        kind: seqprov::format::event::EventKind::Transfer,
        signer_name: None,
        role: "custodian".into(),
        meaning: "responsibility".into(),
        host: None,
        to: Some("far away".into()),
        note: None,
        verification: None,
        derived: None,
        time: Some(at),
    }
}

/// Split bundle bytes into CBOR items (seal, entry list, events...).
fn items(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (_, used) = seqprov::format::cbor::decode_first(&bytes[at..]).unwrap();
        out.push(bytes[at..at + used].to_vec());
        at += used;
    }
    out
}

fn errors_text(report: &Value) -> String {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn rules(report: &Value) -> Vec<String> {
    report["policy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn full_chain_verifies_and_timeline_shows_it() {
    let lab = Lab::new();
    lab.transfer("courier.key", "Genomics Lab, Building 4");
    lab.receive("lab.key")
        .success()
        .stdout(predicates::str::contains(
            "appended custody event 2 (receive)",
        ));
    lab.run(&[
        "custody",
        "append",
        "run.seqprov",
        "--key",
        "qc.key",
        "--kind",
        "attest",
        "--meaning",
        "approval: QC passed",
        "--note",
        "Q30 92%",
    ])
    .success();
    let policy = lab.standard_policy(
        "required_events = [{ kind = \"receive\", role = \"lab\" }]\nmax_custody_gap = \"1h\"",
    );
    let (report, code) = lab.verify(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["custody"].as_array().unwrap().len(), 3);
    assert_eq!(report["custody"][1]["kind"], "receive");

    let out = seqprov()
        .current_dir(&lab.root)
        .args([
            "custody",
            "show",
            "run.seqprov",
            "--json",
            "--policy",
            "lab.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let timeline: Value = serde_json::from_slice(&out.stdout).unwrap();
    let events = timeline["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["kind"], "transfer");
    assert_eq!(events[0]["to"], "Genomics Lab, Building 4");
    assert_eq!(events[0]["signer"], "Carl Courier");
    assert_eq!(events[2]["meaning"], "approval: QC passed");
    assert!(
        events
            .iter()
            .all(|e| e["signature"] == "valid" && e["linked"] == true)
    );
    assert!(events[0]["gap_seconds"].as_i64().unwrap() >= 0);
    lab.run(&["custody", "show", "run.seqprov"])
        .success()
        .stdout(predicates::str::contains(
            "transfer  Carl Courier (custodian)",
        ))
        .stdout(predicates::str::contains("chain intact"));
}

#[test]
fn event_removed_from_the_middle_breaks_the_chain() {
    let lab = Lab::new();
    lab.transfer("courier.key", "A");
    lab.transfer("courier.key", "B");
    lab.transfer("courier.key", "C");
    let parts = items(&fs::read(lab.bundle()).unwrap());
    assert_eq!(parts.len(), 5);
    let without_second: Vec<u8> = [&parts[0], &parts[1], &parts[2], &parts[4]]
        .iter()
        .flat_map(|p| p.iter().copied())
        .collect();
    fs::write(lab.bundle(), without_second).unwrap();
    let (report, code) = lab.verify(&["--trust", "core.pub", "--trust", "courier.pub"]);
    assert_eq!(code, 1);
    assert!(
        errors_text(&report).contains("custody event 2: does not link to the previous message"),
        "{report:#}"
    );
}

#[test]
fn swapped_events_break_the_chain() {
    let lab = Lab::new();
    lab.transfer("courier.key", "A");
    lab.transfer("courier.key", "B");
    let parts = items(&fs::read(lab.bundle()).unwrap());
    let swapped: Vec<u8> = [&parts[0], &parts[1], &parts[3], &parts[2]]
        .iter()
        .flat_map(|p| p.iter().copied())
        .collect();
    fs::write(lab.bundle(), swapped).unwrap();
    let (report, code) = lab.verify(&["--trust", "core.pub", "--trust", "courier.pub"]);
    assert_eq!(code, 1);
    let errors = errors_text(&report);
    assert!(errors.contains("custody event 1"), "{errors}");
    assert!(errors.contains("stands at position"), "{errors}");
}

#[test]
fn event_copied_from_another_bundle_is_rejected() {
    let lab = Lab::new();
    // A second sealed run with its own transfer event.
    fs::create_dir_all(lab.root.join("other")).unwrap();
    fs::write(lab.root.join("other/Summary.xml"), "<RunInfo/>\n").unwrap();
    lab.run(&[
        "seal",
        "other",
        "--key",
        "core.key",
        "--role",
        "sequencing-core",
    ])
    .success();
    lab.run(&[
        "custody",
        "append",
        "other.seqprov",
        "--key",
        "courier.key",
        "--kind",
        "transfer",
        "--to",
        "X",
    ])
    .success();
    let other = items(&fs::read(lab.root.join("other.seqprov")).unwrap());
    let mut bytes = fs::read(lab.bundle()).unwrap();
    bytes.extend_from_slice(&other[2]);
    fs::write(lab.bundle(), bytes).unwrap();
    let (report, code) = lab.verify(&["--trust", "core.pub", "--trust", "courier.pub"]);
    assert_eq!(code, 1);
    let errors = errors_text(&report);
    assert!(errors.contains("copied from another bundle"), "{errors}");
    assert!(errors.contains("different Merkle root"), "{errors}");
}

#[test]
fn duplicated_event_is_rejected() {
    let lab = Lab::new();
    lab.transfer("courier.key", "A");
    let parts = items(&fs::read(lab.bundle()).unwrap());
    let mut bytes = fs::read(lab.bundle()).unwrap();
    bytes.extend_from_slice(&parts[2]);
    fs::write(lab.bundle(), bytes).unwrap();
    let (_, code) = lab.verify(&["--trust", "core.pub", "--trust", "courier.pub"]);
    assert_eq!(code, 1);
}

#[test]
fn event_signed_by_revoked_key_fails_policy() {
    let lab = Lab::new();
    lab.transfer("courier.key", "A");
    let courier = seqprov::PublicKey::load(&lab.root.join("courier.pub")).unwrap();
    let policy = lab.standard_policy("");
    let mut text = fs::read_to_string(&policy).unwrap();
    text.push_str(&format!("\n[revoked]\nkey_ids = [\"{}\"]\n", courier.id()));
    fs::write(&policy, text).unwrap();
    let (report, code) = lab.verify(&["--policy", "lab.toml"]);
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(rules(&report), ["revoked_key"]);
    assert_eq!(report["policy"][0]["subject"], "custody event 1");
    assert_eq!(report["verdict"], "policy_not_satisfied");
}

#[test]
fn event_signed_outside_validity_window_fails_policy() {
    let lab = Lab::new();
    lab.transfer("courier.key", "A");
    let policy = lab.standard_policy("");
    let text = fs::read_to_string(&policy).unwrap().replace(
        "key = \"courier.pub\"\n",
        "key = \"courier.pub\"\nvalid_until = 2020-01-01T00:00:00Z\n",
    );
    fs::write(&policy, text).unwrap();
    let (report, code) = lab.verify(&["--policy", "lab.toml"]);
    assert_eq!(code, 3);
    assert_eq!(rules(&report), ["outside_validity"]);
}

#[test]
fn event_signed_in_a_role_the_key_does_not_hold_fails_policy() {
    let lab = Lab::new();
    lab.run(&[
        "custody",
        "append",
        "run.seqprov",
        "--key",
        "courier.key",
        "--kind",
        "attest",
        "--role",
        "clinician",
    ])
    .success();
    let policy = lab.standard_policy("");
    let (report, code) = lab.verify(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert_eq!(rules(&report), ["role_not_allowed"]);
}

#[test]
fn seal_by_a_role_not_allowed_to_seal_fails_policy() {
    let lab = Lab::new();
    lab.run(&[
        "seal",
        "run",
        "--key",
        "courier.key",
        "--role",
        "custodian",
        "--force",
    ])
    .success();
    let policy = lab.standard_policy("");
    let (report, code) = lab.verify(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert_eq!(rules(&report), ["seal_role"]);
}

#[test]
fn missing_required_receive_fails_policy() {
    let lab = Lab::new();
    lab.transfer("courier.key", "A");
    let policy = lab.standard_policy("required_events = [{ kind = \"receive\", role = \"lab\" }]");
    let (report, code) = lab.verify(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert_eq!(rules(&report), ["required_event"]);
    // A receive by an untrusted key does not count.
    lab.run(&[
        "receive",
        "run",
        "--key",
        "mallory.key",
        "--role",
        "lab",
        "--trust",
        "core.pub",
        "--trust",
        "courier.pub",
    ])
    .success();
    let (report, code) = lab.verify(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert_eq!(rules(&report), ["untrusted_signer", "required_event"]);
    // The lab trusts mallory's key for this one receive, so its own event can follow.
    lab.run(&[
        "receive",
        "run",
        "--key",
        "lab.key",
        "--role",
        "lab",
        "--trust",
        "core.pub",
        "--trust",
        "courier.pub",
        "--trust",
        "mallory.pub",
    ])
    .success();
    let (report, code) = lab.verify(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(
        code, 3,
        "mallory's event is still untrusted under the policy"
    );
    assert_eq!(rules(&report), ["untrusted_signer"]);
}

#[test]
fn custody_gap_over_the_limit_fails_policy() {
    let lab = Lab::new();
    // Sign an event five days after the seal with the library (the CLI has no clock switch).
    let key = seqprov::PrivateKey::load(
        &lab.root.join("courier.key"),
        seqprov::PermissionCheck::Strict,
    )
    .unwrap();
    let bundle = seqprov::read_bundle(&lab.bundle()).unwrap();
    let sealed_at = seqprov::format::manifest::parse_time(&bundle.payload.time).unwrap();
    let draft = transfer_at(sealed_at + time::Duration::days(5));
    seqprov::custody::append_event(&lab.bundle(), &key, &draft).unwrap();
    let policy = lab.standard_policy("max_custody_gap = \"72h\"");
    let (report, code) = lab.verify(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert_eq!(rules(&report), ["custody_gap"]);
    assert!(
        report["policy"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("5d")
    );
    let relaxed = lab.standard_policy("max_custody_gap = \"6d\"");
    assert_eq!(lab.verify(&["--policy", relaxed.to_str().unwrap()]).1, 0);
}

#[test]
fn receive_appends_nothing_when_files_do_not_verify() {
    let lab = Lab::new();
    fs::write(lab.root.join("run/Summary.xml"), "<RunInfo tampered/>\n").unwrap();
    let before = fs::read(lab.bundle()).unwrap();
    lab.receive("lab.key")
        .code(1)
        .stderr(predicates::str::contains("no receive event was appended"));
    assert_eq!(fs::read(lab.bundle()).unwrap(), before);
}

#[test]
fn append_refuses_a_broken_chain() {
    let lab = Lab::new();
    lab.transfer("courier.key", "A");
    lab.transfer("courier.key", "B");
    let parts = items(&fs::read(lab.bundle()).unwrap());
    let broken: Vec<u8> = [&parts[0], &parts[1], &parts[3]]
        .iter()
        .flat_map(|p| p.iter().copied())
        .collect();
    fs::write(lab.bundle(), broken).unwrap();
    lab.run(&[
        "custody",
        "append",
        "run.seqprov",
        "--key",
        "courier.key",
        "--kind",
        "transfer",
        "--to",
        "C",
    ])
    .code(1)
    .stderr(predicates::str::contains("refusing to append"));
}

#[test]
fn two_concurrent_appenders_lose_no_event() {
    let lab = Lab::new();
    let bin = assert_cmd::cargo::cargo_bin("seqprov");
    for round in 0..3 {
        let children: Vec<_> = ["courier", "qc"]
            .iter()
            .map(|who| {
                std::process::Command::new(&bin)
                    .current_dir(&lab.root)
                    .args([
                        "custody",
                        "append",
                        "run.seqprov",
                        "--key",
                        &format!("{who}.key"),
                        "--kind",
                        "attest",
                        "--note",
                        &format!("{who} {round}"),
                    ])
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
    }
    let (report, code) = lab.verify(&[
        "--trust",
        "core.pub",
        "--trust",
        "courier.pub",
        "--trust",
        "qc.pub",
    ]);
    assert_eq!(code, 0, "{report:#}");
    let notes: Vec<&str> = report["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["note"].as_str().unwrap())
        .collect();
    assert_eq!(notes.len(), 6, "{notes:?}");
    for round in 0..3 {
        assert!(notes.contains(&format!("courier {round}").as_str()));
        assert!(notes.contains(&format!("qc {round}").as_str()));
    }
}

#[test]
fn killed_appender_leaves_a_bundle_that_still_verifies() {
    let lab = Lab::new();
    lab.transfer("courier.key", "first");
    let bin = assert_cmd::cargo::cargo_bin("seqprov");
    let mut delay_us = 0u64;
    for _ in 0..25 {
        let mut child = std::process::Command::new(&bin)
            .current_dir(&lab.root)
            .args([
                "custody",
                "append",
                "run.seqprov",
                "--key",
                "qc.key",
                "--kind",
                "attest",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(delay_us));
        let _ = child.kill();
        let _ = child.wait();
        delay_us += 400;
        let bundle = seqprov::read_bundle(&lab.bundle()).expect("the bundle is always whole");
        let checks = seqprov::chain::check(&bundle);
        assert!(
            checks.integrity_problems().is_empty(),
            "{:?}",
            checks.integrity_problems()
        );
        assert!(!bundle.events.is_empty(), "the earlier event is never lost");
    }
    let (report, code) = lab.verify(&[
        "--trust",
        "core.pub",
        "--trust",
        "courier.pub",
        "--trust",
        "qc.pub",
    ]);
    assert_eq!(code, 0, "{report:#}");
}

/// A FASTQ folder derived from the run, sealed with a link to the run's bundle.
fn derived_fastqs(lab: &Lab) -> PathBuf {
    fs::create_dir_all(lab.root.join("fastq")).unwrap();
    fs::write(lab.root.join("fastq/S1_R1.fastq"), "@r1\nACGT\n+\nIIII\n").unwrap();
    fs::write(lab.root.join("SampleSheet.csv"), "[Data]\nS1\n").unwrap();
    lab.run(&[
        "seal",
        "fastq",
        "--key",
        "core.key",
        "--role",
        "sequencing-core",
        "--derived-from",
        "run.seqprov",
        "--step",
        "bcl-convert 4.2.7 --sample-sheet SampleSheet.csv",
        "--sample-sheet",
        "SampleSheet.csv",
    ])
    .success();
    lab.root.join("fastq.seqprov")
}

fn verify_fastq(lab: &Lab, extra: &[&str]) -> (Value, i32) {
    let out = seqprov()
        .current_dir(&lab.root)
        .args(["verify", "fastq", "--json", "--trust", "core.pub"])
        .args(extra)
        .output()
        .unwrap();
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

#[test]
fn derived_bundle_lineage_verifies_against_its_run() {
    let lab = Lab::new();
    derived_fastqs(&lab);
    let (report, code) = verify_fastq(
        &lab,
        &["--derived-from", "run.seqprov", "--require-lineage"],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["lineage"]["status"], "verified");
    assert_eq!(report["lineage"]["subject"], "run");
    assert_eq!(
        report["lineage"]["step"],
        "bcl-convert 4.2.7 --sample-sheet SampleSheet.csv"
    );
    // Required but not given: policy failure.
    let (report, code) = verify_fastq(&lab, &["--require-lineage"]);
    assert_eq!(code, 3);
    assert_eq!(rules(&report), ["lineage"]);
}

#[test]
fn derived_bundle_whose_run_bundle_was_tampered_with_fails() {
    let lab = Lab::new();
    derived_fastqs(&lab);
    // Edit the run bundle's entry list (one letter of a path).
    let mut bytes = fs::read(lab.bundle()).unwrap();
    let start = items(&bytes)[0].len();
    let at = start
        + bytes[start..]
            .windows(11)
            .position(|w| w == b"Summary.xml")
            .unwrap();
    bytes[at] = b'X';
    fs::write(lab.bundle(), bytes).unwrap();
    let (report, code) = verify_fastq(
        &lab,
        &["--derived-from", "run.seqprov", "--require-lineage"],
    );
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["lineage"]["status"], "failed");
    assert!(errors_text(&report).contains("lineage"));
    // Another, valid, bundle given in its place does not match the recorded digest.
    lab.run(&[
        "seal",
        "run",
        "--key",
        "core.key",
        "--role",
        "sequencing-core",
        "--force",
    ])
    .success();
    let (report, code) = verify_fastq(&lab, &["--derived-from", "run.seqprov"]);
    assert_eq!(code, 1);
    assert!(errors_text(&report).contains("recorded seal digest"));
}

#[test]
fn deriving_from_a_broken_bundle_is_refused() {
    let lab = Lab::new();
    let mut bytes = fs::read(lab.bundle()).unwrap();
    let start = items(&bytes)[0].len();
    let at = start
        + bytes[start..]
            .windows(11)
            .position(|w| w == b"Summary.xml")
            .unwrap();
    bytes[at] = b'X';
    fs::write(lab.bundle(), bytes).unwrap();
    fs::create_dir_all(lab.root.join("fastq")).unwrap();
    lab.run(&[
        "seal",
        "fastq",
        "--key",
        "core.key",
        "--derived-from",
        "run.seqprov",
        "--step",
        "x",
    ])
    .code(1);
    assert!(!lab.root.join("fastq.seqprov").exists());
}

#[test]
fn policy_examples_in_the_repository_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policy");
    let mut seen = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            seqprov::Policy::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen += 1;
        }
    }
    assert!(seen >= 2);
}

#[test]
fn forked_chain_is_rejected() {
    let lab = Lab::new();
    let sealed = fs::read(lab.bundle()).unwrap();
    lab.transfer("courier.key", "branch A");
    let branch_a = items(&fs::read(lab.bundle()).unwrap());
    fs::write(lab.bundle(), &sealed).unwrap();
    lab.transfer("courier.key", "branch B");
    let branch_b = items(&fs::read(lab.bundle()).unwrap());
    // Both events claim to be event 1 after the same seal: splice them into one bundle.
    let forked: Vec<u8> = [&branch_a[0], &branch_a[1], &branch_a[2], &branch_b[2]]
        .iter()
        .flat_map(|p| p.iter().copied())
        .collect();
    fs::write(lab.bundle(), forked).unwrap();
    let (report, code) = lab.verify(&["--trust", "core.pub", "--trust", "courier.pub"]);
    assert_eq!(code, 1);
    let errors = errors_text(&report);
    assert!(
        errors.contains("custody event 2: does not link"),
        "{errors}"
    );
    assert!(errors.contains("says it is event 1"), "{errors}");
}

#[test]
fn extra_files_are_warnings_when_policy_says_so() {
    let lab = Lab::new();
    fs::write(lab.root.join("run/notes.txt"), "added later").unwrap();
    let strict = lab.standard_policy("");
    let (_, code) = lab.verify(&["--policy", strict.to_str().unwrap()]);
    assert_eq!(code, 1);
    let lenient = lab.standard_policy("extra_files = \"warning\"");
    let (report, code) = lab.verify(&["--policy", lenient.to_str().unwrap()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["files"][0]["class"], "extra");
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("notes.txt")
    );
}

/// Regression: a policy requiring a `receive` could never be met, because `receive` only
/// appended after a fully satisfied verification.
#[test]
fn receive_can_meet_a_policy_that_requires_it() {
    let lab = Lab::new();
    lab.transfer("courier.key", "Genomics lab");
    let policy = lab.standard_policy("required_events = [{ kind = \"receive\", role = \"lab\" }]");
    let (_, code) = lab.verify(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 3);
    lab.run(&[
        "receive", "run", "--key", "lab.key", "--role", "lab", "--policy", "lab.toml", "--json",
    ])
    .success();
    let (report, code) = lab.verify(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["custody"][1]["verification"]["files"], 2);
}

#[test]
fn receive_refuses_when_a_signer_is_untrusted() {
    let lab = Lab::new();
    lab.run(&[
        "custody",
        "append",
        "run.seqprov",
        "--key",
        "mallory.key",
        "--kind",
        "attest",
    ])
    .success();
    let policy = lab.standard_policy("required_events = [{ kind = \"receive\", role = \"lab\" }]");
    let before = fs::read(lab.bundle()).unwrap();
    lab.run(&[
        "receive",
        "run",
        "--key",
        "lab.key",
        "--role",
        "lab",
        "--policy",
        policy.to_str().unwrap(),
    ])
    .code(3);
    assert_eq!(fs::read(lab.bundle()).unwrap(), before);
}

/// Regression: appending through a symlink to the bundle looped forever; then (hostile
/// review round 2) it wrote through the link, into a sealed folder when the link pointed
/// there. A symlinked bundle path is refused promptly, and the bundle behind it unchanged.
#[test]
fn append_through_a_symlinked_bundle_path_is_refused() {
    let lab = Lab::new();
    std::os::unix::fs::symlink("run.seqprov", lab.root.join("link.seqprov")).unwrap();
    let before = fs::read(lab.bundle()).unwrap();
    seqprov()
        .current_dir(&lab.root)
        .args([
            "custody",
            "append",
            "link.seqprov",
            "--key",
            "courier.key",
            "--kind",
            "transfer",
            "--to",
            "A",
        ])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is a symbolic link"));
    assert_eq!(fs::read(lab.bundle()).unwrap(), before);
}

/// Regression: appending to a bundle whose seal or entry list was altered succeeded.
#[test]
fn append_refuses_a_bundle_whose_entry_list_was_edited() {
    let lab = Lab::new();
    let mut bytes = fs::read(lab.bundle()).unwrap();
    let start = items(&bytes)[0].len();
    let at = start
        + bytes[start..]
            .windows(11)
            .position(|w| w == b"Summary.xml")
            .unwrap();
    bytes[at] = b'X';
    fs::write(lab.bundle(), &bytes).unwrap();
    lab.run(&[
        "custody",
        "append",
        "run.seqprov",
        "--key",
        "courier.key",
        "--kind",
        "transfer",
        "--to",
        "A",
    ])
    .code(1)
    .stderr(predicates::str::contains("does not match the signed root"));
    assert_eq!(fs::read(lab.bundle()).unwrap(), bytes);
}

/// Regression: the appended bundle's mode depended on the umask.
#[test]
fn append_keeps_the_bundle_mode() {
    use std::os::unix::fs::PermissionsExt;
    let lab = Lab::new();
    fs::set_permissions(lab.bundle(), fs::Permissions::from_mode(0o664)).unwrap();
    lab.transfer("courier.key", "A");
    assert_eq!(
        fs::metadata(lab.bundle()).unwrap().permissions().mode() & 0o777,
        0o664
    );
}

#[test]
fn one_line_fields_are_checked() {
    let lab = Lab::new();
    lab.run(&[
        "custody",
        "append",
        "run.seqprov",
        "--key",
        "courier.key",
        "--kind",
        "transfer",
        "--to",
        "a\nb",
    ])
    .code(2)
    .stderr(predicates::str::contains("--to"));
    lab.run(&[
        "custody",
        "append",
        "run.seqprov",
        "--key",
        "courier.key",
        "--kind",
        "attest",
        "--to",
        "x",
    ])
    .code(2)
    .stderr(predicates::str::contains("--to goes with --kind transfer"));
}

#[test]
fn policy_errors_are_one_line_and_name_the_problem() {
    let lab = Lab::new();
    let bad = lab.write_policy("[[signer]\nname = 1\n");
    let out = seqprov()
        .current_dir(&lab.root)
        .args(["verify", "run", "--policy", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    let window = lab.write_policy("[[signer]]\nname = \"c\"\nkey = \"core.pub\"\nvalid_from = 2027-01-01T00:00:00Z\nvalid_until = 2026-01-01T00:00:00Z\n");
    lab.run(&["verify", "run", "--policy", window.to_str().unwrap()])
        .code(2)
        .stderr(predicates::str::contains(
            "valid_from is not before valid_until",
        ));
}

#[test]
fn a_bad_seal_still_lists_its_events() {
    let lab = Lab::new();
    lab.transfer("courier.key", "A");
    let mut bytes = fs::read(lab.bundle()).unwrap();
    let end = items(&bytes)[0].len();
    let at = bytes[..end]
        .windows(13)
        .position(|w| w == b"Core Facility")
        .unwrap();
    bytes[at] = b'K';
    fs::write(lab.bundle(), bytes).unwrap();
    let (report, code) = lab.verify(&["--trust", "core.pub"]);
    assert_eq!(code, 1);
    assert_eq!(report["custody"].as_array().unwrap().len(), 1);
}

#[test]
fn lineage_records_the_sample_sheet_and_judges_the_input_signer() {
    let lab = Lab::new();
    let fastq_bundle = derived_fastqs(&lab);
    let derived = seqprov::read_bundle(&fastq_bundle).unwrap();
    let recorded = derived.payload.derived_from.as_ref().unwrap();
    let sheet = fs::read(lab.root.join("SampleSheet.csv")).unwrap();
    assert_eq!(
        recorded.sample_sheet.unwrap().0,
        *blake3::hash(&sheet).as_bytes()
    );
    assert_eq!(
        recorded.seal.0,
        seqprov::format::event::message_digest(
            &seqprov::read_bundle(&lab.bundle()).unwrap().seal.raw
        )
    );
    // The run was sealed by core; trusting only a key that signed the FASTQs is not enough.
    lab.run(&[
        "seal",
        "fastq",
        "--key",
        "qc.key",
        "--force",
        "--derived-from",
        "run.seqprov",
        "--step",
        "x",
    ])
    .success();
    let out = seqprov()
        .current_dir(&lab.root)
        .args([
            "verify",
            "fastq",
            "--json",
            "--trust",
            "qc.pub",
            "--derived-from",
            "run.seqprov",
            "--require-lineage",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["lineage"]["status"], "untrusted");
    assert_eq!(report["policy"][0]["subject"], "lineage seal");
}

#[test]
fn require_lineage_in_a_policy_file_is_enforced() {
    let lab = Lab::new();
    derived_fastqs(&lab);
    let policy = lab.standard_policy("require_lineage = true");
    let verify = |extra: &[&str]| {
        seqprov()
            .current_dir(&lab.root)
            .args([
                "verify",
                "fastq",
                "--json",
                "--policy",
                policy.to_str().unwrap(),
            ])
            .args(extra)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(verify(&[]), Some(3));
    assert_eq!(verify(&["--derived-from", "run.seqprov"]), Some(0));
}

/// A key is judged at the time of the event it signed: an event signed while the key was
/// valid still passes after the key's window has closed.
#[test]
fn a_key_is_judged_at_the_time_it_signed() {
    let lab = Lab::new();
    let key = seqprov::PrivateKey::load(
        &lab.root.join("courier.key"),
        seqprov::PermissionCheck::Strict,
    )
    .unwrap();
    let bundle = seqprov::read_bundle(&lab.bundle()).unwrap();
    let sealed_at = seqprov::format::manifest::parse_time(&bundle.payload.time).unwrap();
    let draft = transfer_at(sealed_at + time::Duration::minutes(1));
    seqprov::custody::append_event(&lab.bundle(), &key, &draft).unwrap();
    // The courier's key expired an hour after the seal: long before this verification.
    let until = seqprov::format::manifest::format_time(sealed_at + time::Duration::hours(1));
    let policy = lab.standard_policy("");
    let text = fs::read_to_string(&policy).unwrap().replace(
        "key = \"courier.pub\"\n",
        &format!("key = \"courier.pub\"\nvalid_until = \"{until}\"\n"),
    );
    fs::write(&policy, text).unwrap();
    let (report, code) = lab.verify(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 0, "{report:#}");
}

/// Issue 12 item 2: `receive` verified one bundle; another swapped in before the append
/// must not get the receiver's signature (exit 2, the swapped-in bundle byte-identical).
/// The binary's test hook pauses it between verifying and appending.
#[test]
fn receive_refuses_a_bundle_swapped_after_verification() {
    use std::os::unix::fs::OpenOptionsExt;
    if !cfg!(debug_assertions) {
        // The hook exists only in debug builds (the binary is built with this profile).
        eprintln!("skipped: the test hook needs a debug build");
        return;
    }
    let lab = Lab::new();
    lab.run(&[
        "seal",
        "run",
        "--key",
        "mallory.key",
        "--role",
        "sequencing-core",
        "--out",
        "swapped.seqprov",
    ])
    .success();
    let fifo = lab.root.join("pause.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("seqprov"))
        .current_dir(&lab.root)
        .args([
            "receive", "run", "--key", "lab.key", "--role", "lab", "--trust", "core.pub",
        ])
        .env("SEQPROV_TEST_PAUSE_BEFORE_APPEND", &fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Opening the FIFO for writing succeeds once the binary has verified and waits.
    let pipe = loop {
        match fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
        {
            Ok(pipe) => break pipe,
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                if child.try_wait().unwrap().is_some() {
                    let out = child.wait_with_output().unwrap();
                    panic!(
                        "receive ended before the hook: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("{e}"),
        }
    };
    fs::rename(lab.root.join("swapped.seqprov"), lab.bundle()).unwrap();
    let swapped = fs::read(lab.bundle()).unwrap();
    std::io::Write::write_all(&mut &pipe, b"go\n").unwrap();
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("changed since it was verified"), "{stderr}");
    assert!(stderr.contains("not received"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.lines().any(|l| l.starts_with("verified:")),
        "a refused receive must not read as verified: {stdout}"
    );
    assert_eq!(
        fs::read(lab.bundle()).unwrap(),
        swapped,
        "the swapped-in bundle is unchanged"
    );
}

/// Issue 12 item 2: a receive event whose recorded verification is of another root (signed
/// by a trusted key) breaks the chain.
#[test]
fn receive_event_with_another_root_breaks_the_chain() {
    let lab = Lab::new();
    let key =
        seqprov::PrivateKey::load(&lab.root.join("lab.key"), seqprov::PermissionCheck::Strict)
            .unwrap();
    let bundle = seqprov::read_bundle(&lab.bundle()).unwrap();
    let draft = seqprov::custody::EventDraft {
        kind: seqprov::format::event::EventKind::Receive,
        signer_name: None,
        role: "lab".into(),
        meaning: "responsibility: received and verified intact".into(),
        host: None,
        to: None,
        note: None,
        verification: Some(seqprov::format::event::ReceiveSummary {
            ok: 2,
            files: 2,
            bytes: 17,
            root: seqprov::format::manifest::Bytes32([7; 32]),
        }),
        derived: None,
        time: None,
    };
    let (_, raw) = seqprov::custody::sign_next_event(&bundle, &key, &draft).unwrap();
    let mut bytes = fs::read(lab.bundle()).unwrap();
    bytes.extend_from_slice(&raw);
    fs::write(lab.bundle(), bytes).unwrap();
    let (report, code) = lab.verify(&["--trust", "core.pub", "--trust", "lab.pub"]);
    assert_eq!(code, 1, "{report:#}");
    let errors = errors_text(&report);
    assert!(
        errors.contains("different Merkle root than the seal's"),
        "{errors}"
    );
}
