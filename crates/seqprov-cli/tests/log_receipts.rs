//! Offline receipt checks through the real `seqprov verify --policy` binary
//! (spec/log.md §7.2): a bundle's seal and custody event are logged in a real log
//! directory (seqprov-log's LogDir, checkpoints signed and cosigned with its note keys),
//! the receipts appended with the library, and each attack mounted on the bundle file:
//! a flipped proof hash, a log the policy does not list, a missing cosignature, a
//! receipt moved onto another message. Each case checks the exit code and the message.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use ed25519_dalek::SigningKey;
use predicates::str::contains;
use seqprov::custody::{EventDraft, EventKind};
use seqprov::format::log_receipt_record::LogReceiptRecord;
use seqprov::{NoProgress, Overwrite, PrivateKey, SealOptions};
use seqprov_log::checkpoint;
use seqprov_log::log_dir::LogDir;
use seqprov_log::note_keys::{LogSigner, WitnessSigner};
use seqprov_log::proof_text::TlogProof;
use seqprov_log::{Hash, LogError};
use tempfile::TempDir;

const ORIGIN: &str = "lab.example.org/seqprov";
const ROGUE: &str = "rogue.example.org/log";
const WITNESS: &str = "witness.example.org";

fn log_signer(origin: &str, seed: u8) -> LogSigner {
    LogSigner {
        origin: origin.into(),
        key: SigningKey::from_bytes(&[seed; 32]),
    }
}

fn witness() -> WitnessSigner {
    WitnessSigner {
        name: WITNESS.into(),
        key: SigningKey::from_bytes(&[0x77; 32]),
    }
}

struct Lab {
    _work: TempDir,
    root: PathBuf,
}

impl Lab {
    /// A sealed folder `run` with one custody event, bundle `run.seqprov`, and the core
    /// key trusted by the policies written with [`Lab::policy`].
    fn new() -> Lab {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().to_path_buf();
        let dir = root.join("run");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("a.fastq"), b"@r1\nACGT\n+\nIIII\n").unwrap();
        let core = core_key();
        let sealed =
            seqprov::seal_directory(&dir, &core, &SealOptions::default(), &NoProgress).unwrap();
        let bundle = root.join("run.seqprov");
        seqprov::write_atomically(&bundle, &sealed.bundle, Overwrite::Refuse).unwrap();
        let draft = EventDraft {
            kind: EventKind::Attest,
            signer_name: None,
            role: "qc".into(),
            meaning: "approval".into(),
            host: None,
            to: None,
            note: None,
            verification: None,
            derived: None,
            time: None,
        };
        seqprov::custody::append_event(&bundle, &core, &draft).unwrap();
        Lab { _work: work, root }
    }

    fn bundle_path(&self) -> PathBuf {
        self.root.join("run.seqprov")
    }

    /// Log every message of the bundle in a new log of `origin` signed by `signer`
    /// (cosigned by the witness when `cosign`), and return one receipt record per
    /// message, seal first.
    fn log_messages(&self, signer: &LogSigner, cosign: bool) -> Vec<LogReceiptRecord> {
        let dir = self.root.join(format!("log-{}", signer.key.to_bytes()[0]));
        LogDir::init(&dir, &signer.origin, &signer.key, Path::new("log.key")).unwrap();
        let mut log = LogDir::open(&dir).unwrap();
        let pending = seqprov::log_submission::submissions_of_bundle(&self.bundle_path()).unwrap();
        let entries: Vec<Vec<u8>> = pending.iter().map(|p| p.entry.encode()).collect();
        let mut publish = |size: u64, root: &Hash| -> Result<Vec<u8>, LogError> {
            let note = checkpoint::sign(signer, size, root);
            if !cosign {
                return Ok(note);
            }
            let body = checkpoint::body(&signer.origin, size, root);
            let line = witness().cosignature_line(body.as_bytes(), 1_700_000_000);
            checkpoint::add_signature_lines(&note, &[line])
        };
        let indexes = log.append(&entries, &mut publish).unwrap();
        pending
            .iter()
            .zip(indexes)
            .map(|(p, index)| LogReceiptRecord {
                covers: p.covers,
                entry: p.entry.encode(),
                proof: log.receipt(index).unwrap().to_text(),
            })
            .collect()
    }

    fn append(&self, records: &[LogReceiptRecord]) {
        seqprov::log_receipts::append_receipts(&self.bundle_path(), records).unwrap();
    }

    /// Append a record's bytes by hand (for records the library refuses to write).
    fn append_raw(&self, record: &LogReceiptRecord) {
        let mut bytes = fs::read(self.bundle_path()).unwrap();
        bytes.extend(record.to_cbor());
        fs::write(self.bundle_path(), bytes).unwrap();
    }

    /// Write `policy.toml` trusting the core key, the log `ORIGIN` (key seed 0x51), the
    /// witness, with the given quorum and `require_receipts`.
    fn policy(&self, quorum: u32, require: bool) {
        let text = format!(
            "version = 1\n\n[[signer]]\nname = \"core\"\npublic_key = \"\"\"\n{}\"\"\"\n\n\
             [log]\nkeys = [\"{}\"]\nwitnesses = [\"{}\"]\nwitness_quorum = {quorum}\n\
             require_receipts = {require}\n",
            core_key().public().to_pem(),
            log_signer(ORIGIN, 0x51).vkey(),
            witness().vkey(),
        );
        fs::write(self.root.join("policy.toml"), text).unwrap();
    }

    fn verify(&self, extra: &[&str]) -> assert_cmd::assert::Assert {
        Command::cargo_bin("seqprov")
            .unwrap()
            .current_dir(&self.root)
            .args(["verify", "run", "--policy", "policy.toml"])
            .args(extra)
            .assert()
    }
}

fn core_key() -> PrivateKey {
    PrivateKey::from_seed(&[0x21; 32], Some("Core".into()))
}

#[test]
fn valid_witnessed_receipts_for_every_message_verify() {
    let lab = Lab::new();
    lab.policy(1, true);
    // Before any receipt, require_receipts fails for both messages.
    lab.verify(&[])
        .code(3)
        .stdout(contains("POLICY       log_receipt_required (seal)"))
        .stdout(contains(
            "POLICY       log_receipt_required (custody event 1)",
        ));
    let records = lab.log_messages(&log_signer(ORIGIN, 0x51), true);
    lab.append(&records);
    lab.verify(&[])
        .code(0)
        .stdout(contains(format!(
            "LOG          seal (seal): log {ORIGIN} at index 0 of 2, witnessed by {WITNESS}: counted"
        )))
        .stdout(contains(format!(
            "LOG          custody event 1 (custody): log {ORIGIN} at index 1 of 2, witnessed by {WITNESS}: counted"
        )));
    let out = lab.verify(&["--json"]).code(0).get_output().stdout.clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let receipts = report["log_receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 2);
    assert_eq!(receipts[0]["status"], "counted");
    assert_eq!(receipts[1]["witnesses"][0], WITNESS);
}

#[test]
fn a_flipped_proof_hash_is_an_integrity_failure() {
    let lab = Lab::new();
    lab.policy(0, false);
    let mut records = lab.log_messages(&log_signer(ORIGIN, 0x51), false);
    let mut proof = TlogProof::parse(records[0].proof.as_bytes()).unwrap();
    assert_eq!(proof.path.len(), 1, "a tree of two: one sibling hash");
    proof.path[0][5] ^= 1;
    records[0].proof = proof.to_text();
    lab.append(&records);
    lab.verify(&[])
        .code(1)
        .stdout(contains(
            "BUNDLE       log receipt 1 (seal): its inclusion proof does not verify",
        ))
        .stdout(contains(
            "seal (seal): log lab.example.org/seqprov at index 0 of 2: INVALID",
        ));
}

#[test]
fn a_receipt_of_a_log_the_policy_does_not_list_is_reported_and_not_counted() {
    let lab = Lab::new();
    lab.policy(0, false);
    let records = lab.log_messages(&log_signer(ROGUE, 0x52), false);
    lab.append(&records);
    lab.verify(&[])
        .code(0)
        .stdout(contains(format!(
            "WARNING      log receipt 1 (seal): from the log \"{ROGUE}\", which the policy does not list; ignored"
        )))
        .stdout(contains(format!(
            "LOG          seal (seal): log {ROGUE}: untrusted log (ignored)"
        )));
    lab.policy(0, true);
    lab.verify(&[])
        .code(3)
        .stdout(contains("POLICY       log_receipt_required (seal)"))
        .stdout(contains(
            "POLICY       log_receipt_required (custody event 1)",
        ));
}

#[test]
fn a_checkpoint_signed_by_another_key_under_a_trusted_origin_is_an_integrity_failure() {
    let lab = Lab::new();
    lab.policy(0, false);
    // The trusted origin, signed with a key the policy does not trust for it.
    let records = lab.log_messages(&log_signer(ORIGIN, 0x53), false);
    lab.append(&records);
    lab.verify(&[]).code(1).stdout(contains(
        "BUNDLE       log receipt 1 (seal): its checkpoint does not verify",
    ));
}

#[test]
fn a_quorum_of_one_without_a_cosignature_is_not_counted() {
    let lab = Lab::new();
    lab.policy(1, true);
    let records = lab.log_messages(&log_signer(ORIGIN, 0x51), false);
    lab.append(&records);
    lab.verify(&[])
        .code(3)
        .stdout(contains(
            "WARNING      log receipt 1 (seal): 0 trusted cosignature(s), the policy needs 1: not counted",
        ))
        .stdout(contains("POLICY       log_receipt_required (seal)"))
        .stdout(contains("unwitnessed (not counted)"));
    // Without require_receipts the same bundle verifies, with the warning.
    lab.policy(1, false);
    lab.verify(&[])
        .code(0)
        .stdout(contains("0 trusted cosignature(s), the policy needs 1"));
}

#[test]
fn the_entry_of_another_message_is_a_modified_bundle() {
    let lab = Lab::new();
    lab.policy(0, false);
    let records = lab.log_messages(&log_signer(ORIGIN, 0x51), false);
    // The seal's receipt (entry and proof both valid) standing for custody event 1.
    let moved = LogReceiptRecord {
        covers: 1,
        ..records[0].clone()
    };
    lab.append_raw(&moved);
    lab.verify(&[])
        .code(1)
        .stdout(contains(
            "BUNDLE       log receipt 1 (custody event 1): its entry is not the entry of the message it covers (the entry or the bundle was modified)",
        ))
        .stdout(contains("MODIFIED"));
}

#[test]
fn hostile_receipt_records_are_refused_or_shown_escaped_with_one_line() {
    let lab = Lab::new();
    lab.policy(0, false);
    let original = fs::read(lab.bundle_path()).unwrap();
    let records = lab.log_messages(&log_signer(ORIGIN, 0x51), false);
    // A proof over the limit: the bundle is malformed when read (exit 1, one line).
    let long = LogReceiptRecord {
        proof: "p".repeat(65_537),
        ..records[0].clone()
    };
    lab.append_raw(&long);
    let out = lab.verify(&[]).code(1).get_output().clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("log receipt proof is 65537 bytes; a proof holds 1 to 65536 bytes"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // A receipt whose checkpoint names an origin with a terminal escape: not a log the
    // policy lists, reported with the escape shown, never sent to the terminal.
    fs::write(lab.bundle_path(), &original).unwrap();
    let hostile = LogReceiptRecord {
        proof: "c2sp.org/tlog-proof@v1\nindex 0\n\nevil\u{1b}[2J.example\n1\nAAAA\n".into(),
        ..records[0].clone()
    };
    lab.append_raw(&hostile);
    let out = lab.verify(&[]).code(0).get_output().clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(stdout.contains("untrusted log (ignored)"), "{stdout}");
    // A receipt record covering a message after it: malformed (exit 1).
    fs::write(lab.bundle_path(), &original).unwrap();
    lab.append_raw(&LogReceiptRecord {
        covers: 2,
        ..records[0].clone()
    });
    lab.verify(&[])
        .code(1)
        .stderr(contains("covers message 2, which does not precede it"));
}
