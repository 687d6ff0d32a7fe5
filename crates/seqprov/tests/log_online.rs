//! `verify --log` in the library (spec/log.md §8), against real logs on disk read as a
//! directory: a run folder sealed and its messages appended to a `LogDir` with the
//! receipts stored in the bundle, then the attacks — an older copy of the bundle
//! (rollback), a second seal of the same run, a second history signed by the same log key
//! (fork), a log whose entries differ from what its checkpoint signs — each with the
//! finding and the verdict it must give.

use std::fs;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use seqprov::custody::{EventDraft, EventKind};
use seqprov::format::log_receipt_record::LogReceiptRecord;
use seqprov::log_online::{self, LogTrust, ReceiptStatus};
use seqprov::log_receipts::append_receipts;
use seqprov::log_submission::submissions_of_bundle;
use seqprov::report::Verdict;
use seqprov::{Error, NoProgress, Overwrite, Policy, PrivateKey, SealOptions, VerifyOptions};
use seqprov_log::checkpoint;
use seqprov_log::log_dir::LogDir;
use seqprov_log::note_keys::LogSigner;

const ORIGIN: &str = "lab.example.org/seqprov-test";

fn draft(to: &str) -> EventDraft {
    EventDraft {
        kind: EventKind::Transfer,
        signer_name: None,
        role: "custodian".into(),
        meaning: "responsibility".into(),
        host: None,
        to: Some(to.into()),
        note: None,
        verification: None,
        derived: None,
        time: None,
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

struct Lab {
    work: tempfile::TempDir,
    core: PrivateKey,
    log_key: SigningKey,
}

impl Lab {
    fn new() -> Lab {
        let work = tempfile::tempdir().unwrap();
        copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/run-folder"),
            &work.path().join("run"),
        );
        let lab = Lab {
            work,
            core: PrivateKey::from_seed(&[0x31; 32], Some("Core".into())),
            log_key: SigningKey::from_bytes(&[0x77; 32]),
        };
        lab.init_log("log");
        lab
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    fn signer(&self) -> LogSigner {
        LogSigner {
            origin: ORIGIN.into(),
            key: self.log_key.clone(),
        }
    }

    fn init_log(&self, name: &str) {
        LogDir::init(
            &self.path(name),
            ORIGIN,
            &self.log_key,
            &self.path("log.key"),
        )
        .unwrap();
    }

    /// Seal `dir` into `bundle`.
    fn seal(&self, dir: &str, bundle: &str) {
        let sealed = seqprov::seal_directory(
            &self.path(dir),
            &self.core,
            &SealOptions::default(),
            &NoProgress,
        )
        .unwrap();
        seqprov::write_atomically(&self.path(bundle), &sealed.bundle, Overwrite::Refuse).unwrap();
    }

    fn append_event(&self, bundle: &str, to: &str) {
        seqprov::custody::append_event(&self.path(bundle), &self.core, &draft(to)).unwrap();
    }

    /// Append every message of `bundle` not yet logged to the log `log` and store the
    /// receipts, as `seqprov log submit` does through a server.
    fn log(&self, bundle: &str, log: &str) {
        let mut dir = LogDir::open(&self.path(log)).unwrap();
        let signer = self.signer();
        let mut records = Vec::new();
        for p in submissions_of_bundle(&self.path(bundle)).unwrap() {
            if p.logged_by.iter().any(|o| o == ORIGIN) {
                continue;
            }
            let entry = p.entry.encode();
            let index = dir
                .append(std::slice::from_ref(&entry), &mut |size, root| {
                    Ok(checkpoint::sign(&signer, size, root))
                })
                .unwrap()[0];
            let proof = dir.receipt(index).unwrap().to_text();
            records.push(LogReceiptRecord {
                covers: p.covers,
                entry,
                proof,
            });
        }
        if !records.is_empty() {
            append_receipts(&self.path(bundle), &records).unwrap();
        }
    }

    fn policy(&self) -> Policy {
        let mut policy = Policy::trusting(vec![self.core.public()]);
        policy.log.keys = vec![self.signer().verifier()];
        policy
    }

    fn check(&self, bundle: &str, log: &str) -> seqprov::Result<log_online::OnlineCheck> {
        let policy = self.policy();
        let read = seqprov::read_bundle(&self.path(bundle)).unwrap();
        log_online::check_online(
            self.path(log).to_str().unwrap(),
            &read,
            LogTrust {
                logs: &policy.log.keys,
                witnesses: &[],
                witness_quorum: 0,
            },
        )
    }

    /// `verify` of the run folder with `bundle`, then the online check applied.
    fn verify_online(&self, bundle: &str, log: &str, one_seal_per_run: bool) -> seqprov::Report {
        let policy = self.policy();
        let read = seqprov::read_bundle(&self.path(bundle)).unwrap();
        let mut report = seqprov::verify_directory(
            &self.path("run"),
            &read,
            &policy,
            VerifyOptions::default(),
            &NoProgress,
        )
        .unwrap();
        assert_eq!(report.verdict, Verdict::Verified, "{:?}", report.errors);
        self.check(bundle, log)
            .unwrap()
            .apply_to(&mut report, one_seal_per_run, false);
        report
    }
}

#[test]
fn a_logged_bundle_is_consistent_with_its_log_and_stays_verified() {
    let lab = Lab::new();
    lab.seal("run", "run.seqprov");
    lab.append_event("run.seqprov", "Lab A");
    lab.log("run.seqprov", "log");
    let check = lab.check("run.seqprov", "log").unwrap();
    assert_eq!(check.origin, ORIGIN);
    assert_eq!(check.size, 2);
    assert!(check.seal_logged);
    assert_eq!(check.entries.len(), 2);
    assert_eq!(check.receipts.len(), 2);
    assert!(
        check
            .receipts
            .iter()
            .all(|r| r.status == ReceiptStatus::Consistent),
        "{:?}",
        check.receipts
    );
    assert!(check.rollback.is_empty() && check.other_seals.is_empty());
    // A later event logged after the receipts were stored: still consistent.
    lab.append_event("run.seqprov", "Lab B");
    lab.log("run.seqprov", "log");
    let report = lab.verify_online("run.seqprov", "log", true);
    assert_eq!(report.verdict, Verdict::Verified, "{:?}", report.errors);
    assert_eq!(report.exit_code, 0);
    assert_eq!(report.log_online[0].receipts.len(), 3);
}

#[test]
fn an_older_copy_missing_the_last_event_is_a_rollback() {
    let lab = Lab::new();
    lab.seal("run", "run.seqprov");
    lab.append_event("run.seqprov", "Lab A");
    lab.log("run.seqprov", "log");
    fs::copy(lab.path("run.seqprov"), lab.path("older.seqprov")).unwrap();
    lab.append_event("run.seqprov", "Lab B");
    lab.log("run.seqprov", "log");
    let report = lab.verify_online("older.seqprov", "log", false);
    assert_eq!(report.verdict, Verdict::IntegrityFailure);
    assert_eq!(report.exit_code, 1);
    let rollback = &report.log_online[0].rollback;
    assert_eq!(rollback.len(), 1);
    assert_eq!(rollback[0].entry.covers, 2);
    assert_eq!(rollback[0].entry.index, 2);
    assert!(
        report.errors.contains(&format!(
            "log {ORIGIN}: rollback: custody event 2 is in the log (entry 2) but not in this \
             bundle, which has 1 custody events"
        )),
        "{:?}",
        report.errors
    );
    // The newest copy is fine.
    assert_eq!(lab.verify_online("run.seqprov", "log", false).exit_code, 0);
}

#[test]
fn a_custody_event_replaced_by_another_with_the_same_seq_is_a_rollback() {
    let lab = Lab::new();
    lab.seal("run", "run.seqprov");
    fs::copy(lab.path("run.seqprov"), lab.path("other.seqprov")).unwrap();
    lab.append_event("run.seqprov", "Lab A");
    lab.log("run.seqprov", "log");
    // Another first event, never logged, in a copy of the same seal.
    lab.append_event("other.seqprov", "Somewhere else");
    let report = lab.verify_online("other.seqprov", "log", false);
    assert_eq!(report.exit_code, 1);
    assert!(
        report.errors.iter().any(|e| e.contains(
            "rollback: custody event 1 in the log (entry 1) is not this bundle's custody event 1"
        )),
        "{:?}",
        report.errors
    );
}

#[test]
fn a_second_seal_of_the_same_run_is_reported_and_fails_one_seal_per_run() {
    let lab = Lab::new();
    lab.seal("run", "run.seqprov");
    lab.log("run.seqprov", "log");
    lab.seal("run", "reseal.seqprov");
    lab.log("reseal.seqprov", "log");
    let reported = lab.verify_online("run.seqprov", "log", false);
    assert_eq!(reported.exit_code, 0);
    let others = &reported.log_online[0].other_seals;
    assert_eq!(others.len(), 1);
    assert_eq!(others[0].index, 1);
    assert_eq!(
        others[0].run.as_deref(),
        Some("261125_EXAMPLE_0001_AEXAMPLEXX")
    );
    assert_eq!(others[0].flowcell.as_deref(), Some("EXAMPLEXX"));
    let refused = lab.verify_online("run.seqprov", "log", true);
    assert_eq!(refused.verdict, Verdict::PolicyNotSatisfied);
    assert_eq!(refused.exit_code, 3);
    assert_eq!(refused.policy.len(), 1);
    assert_eq!(refused.policy[0].rule, "one_seal_per_run");
    assert_eq!(refused.policy[0].subject, "seal");
}

#[test]
fn a_second_history_signed_by_the_log_key_is_a_fork() {
    let lab = Lab::new();
    lab.seal("run", "run.seqprov");
    lab.log("run.seqprov", "log");
    // The same key and origin, other entries at the same indexes.
    copy_tree(&lab.path("run"), &lab.path("other"));
    fs::write(lab.path("other/extra.txt"), "another run\n").unwrap();
    lab.seal("other", "other.seqprov");
    lab.append_event("other.seqprov", "Lab A");
    lab.init_log("forked");
    lab.log("other.seqprov", "forked");
    let check = lab.check("run.seqprov", "forked").unwrap();
    assert_eq!(check.receipts.len(), 1);
    assert_eq!(check.receipts[0].status, ReceiptStatus::Fork);
    assert!(
        check.receipts[0]
            .detail
            .contains("does not extend the tree of 1 entries"),
        "{}",
        check.receipts[0].detail
    );
    let report = lab.verify_online("run.seqprov", "forked", false);
    assert_eq!(report.exit_code, 1);
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.starts_with(&format!("log {ORIGIN}: fork: "))),
        "{:?}",
        report.errors
    );
    // A second history shorter than the receipt's tree.
    lab.init_log("empty");
    let check = lab.check("run.seqprov", "empty").unwrap();
    assert_eq!(check.receipts[0].status, ReceiptStatus::Fork);
    assert!(
        check.receipts[0]
            .detail
            .contains("the log now serves only 0")
    );
    // Same size, other root.
    lab.init_log("same-size");
    lab.seal("other", "third.seqprov");
    lab.log("third.seqprov", "same-size");
    let check = lab.check("run.seqprov", "same-size").unwrap();
    assert_eq!(check.receipts[0].status, ReceiptStatus::Fork);
    assert!(check.receipts[0].detail.contains("different roots"));
}

#[test]
fn entries_that_do_not_hash_to_the_signed_root_are_an_integrity_failure() {
    let lab = Lab::new();
    lab.seal("run", "run.seqprov");
    lab.log("run.seqprov", "log");
    // Flip a byte of the entry bundle the checkpoint covers.
    let tile = lab.path("log/public/tile/entries/000.p/1");
    let mut bytes = fs::read(&tile).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&tile, bytes).unwrap();
    let error = lab.check("run.seqprov", "log").unwrap_err();
    assert!(matches!(error, Error::Integrity(_)), "{error}");
    assert_eq!(error.exit_status().code(), 1);
}

#[test]
fn a_log_the_policy_does_not_trust_or_that_cannot_be_read_is_exit_2() {
    let lab = Lab::new();
    lab.seal("run", "run.seqprov");
    let read = seqprov::read_bundle(&lab.path("run.seqprov")).unwrap();
    let untrusted = log_online::check_online(
        lab.path("log").to_str().unwrap(),
        &read,
        LogTrust {
            logs: &[],
            witnesses: &[],
            witness_quorum: 0,
        },
    )
    .unwrap_err();
    assert!(matches!(untrusted, Error::Log { .. }), "{untrusted}");
    assert!(untrusted.to_string().contains("whose key is not trusted"));
    let missing = lab.check("run.seqprov", "no-such-log").unwrap_err();
    assert_eq!(missing.exit_status().code(), 2, "{missing}");
    // A checkpoint signed by another key under the trusted origin: exit 1.
    let other = LogSigner {
        origin: ORIGIN.into(),
        key: SigningKey::from_bytes(&[0x78; 32]),
    };
    LogDir::init(
        &lab.path("impostor"),
        ORIGIN,
        &other.key,
        &lab.path("x.key"),
    )
    .unwrap();
    let impostor = lab.check("run.seqprov", "impostor").unwrap_err();
    assert!(matches!(impostor, Error::Integrity(_)), "{impostor}");
}

#[test]
fn log_show_lists_the_entries_of_one_run() {
    let lab = Lab::new();
    lab.seal("run", "run.seqprov");
    lab.append_event("run.seqprov", "Lab A");
    lab.log("run.seqprov", "log");
    let policy = lab.policy();
    let trust = LogTrust {
        logs: &policy.log.keys,
        witnesses: &[],
        witness_quorum: 0,
    };
    let log = lab.path("log");
    let all = log_online::list_entries(log.to_str().unwrap(), trust, None).unwrap();
    assert_eq!(all.entries.len(), 2);
    let run = log_online::list_entries(
        log.to_str().unwrap(),
        trust,
        Some("261125_EXAMPLE_0001_AEXAMPLEXX"),
    )
    .unwrap();
    assert_eq!(run.entries.len(), 2);
    assert_eq!(run.entries[1].kind, "custody");
    let none = log_online::list_entries(log.to_str().unwrap(), trust, Some("OTHER")).unwrap();
    assert!(none.entries.is_empty());
}
