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
use seqprov_log::note_keys::{LogSigner, WitnessSigner};

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
        self.log_cosigned(bundle, log, None);
    }

    /// [`Lab::log`], each new checkpoint cosigned by `witness` at the POSIX time given.
    fn log_cosigned(&self, bundle: &str, log: &str, witness: Option<(&WitnessSigner, u64)>) {
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
                    let note = checkpoint::sign(&signer, size, root);
                    match witness {
                        None => Ok(note),
                        Some((w, time)) => {
                            let body = checkpoint::body(ORIGIN, size, root);
                            checkpoint::add_signature_lines(
                                &note,
                                &[w.cosignature_line(body.as_bytes(), time)],
                            )
                        }
                    }
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
        self.check_with(bundle, log, &self.policy())
    }

    fn check_with(
        &self,
        bundle: &str,
        log: &str,
        policy: &Policy,
    ) -> seqprov::Result<log_online::OnlineCheck> {
        let read = seqprov::read_bundle(&self.path(bundle)).unwrap();
        log_online::check_online(
            self.path(log).to_str().unwrap(),
            &read,
            LogTrust::of(policy),
        )
    }

    /// `verify` of the run folder with `bundle`, then the online check applied.
    fn verify_online(&self, bundle: &str, log: &str, one_seal_per_run: bool) -> seqprov::Report {
        let mut policy = self.policy();
        policy.log.one_seal_per_run = one_seal_per_run;
        self.verify_online_with(bundle, log, &policy)
    }

    /// `verify` of the run folder with `bundle` under `policy`, then the online check.
    fn verify_online_with(&self, bundle: &str, log: &str, policy: &Policy) -> seqprov::Report {
        let read = seqprov::read_bundle(&self.path(bundle)).unwrap();
        let mut report = seqprov::verify_directory(
            &self.path("run"),
            &read,
            policy,
            VerifyOptions::default(),
            &NoProgress,
        )
        .unwrap();
        assert_eq!(report.verdict, Verdict::Verified, "{:?}", report.errors);
        self.check_with(bundle, log, policy).unwrap().apply_to(
            &mut report,
            policy.log.one_seal_per_run,
            false,
        );
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
    let policy = lab.policy();
    let untrusted = log_online::check_online(
        lab.path("log").to_str().unwrap(),
        &read,
        LogTrust {
            logs: &[],
            ..LogTrust::of(&policy)
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
    let trust = LogTrust::of(&policy);
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

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn witness_signer(seed: u8, name: &str) -> WitnessSigner {
    WitnessSigner {
        name: name.into(),
        key: SigningKey::from_bytes(&[seed; 32]),
    }
}

/// F1(a): the log serves an older genuine checkpoint (with its tiles) that predates the
/// entry of the custody event the bundle was rolled back by.
#[test]
fn a_stale_checkpoint_hiding_a_rollback_fails_log_checkpoint_fresh_or_is_warned_about() {
    let lab = Lab::new();
    let witness = witness_signer(0x55, "witness.example.org/w1");
    let two_hours_ago = now() - 7200;
    lab.seal("run", "run.seqprov");
    lab.append_event("run.seqprov", "Lab A");
    lab.log_cosigned("run.seqprov", "log", Some((&witness, two_hours_ago)));
    // What the attacker replays: the log and the bundle as they were then.
    copy_tree(&lab.path("log"), &lab.path("stale"));
    fs::copy(lab.path("run.seqprov"), lab.path("older.seqprov")).unwrap();
    lab.append_event("run.seqprov", "Lab B");
    lab.log_cosigned("run.seqprov", "log", Some((&witness, now())));

    let mut policy = lab.policy();
    policy.log.witnesses = vec![witness.verifier()];
    // Without max_checkpoint_age the stale log hides the rollback: exit 0, but the report
    // says that freshness was not proven.
    let hidden = lab.verify_online_with("older.seqprov", "stale", &policy);
    assert_eq!(hidden.exit_code, 0, "{:?}", hidden.errors);
    assert_eq!(
        hidden.log_online[0].freshness.status,
        log_online::FreshnessStatus::NotRequired
    );
    assert!(
        hidden.warnings.contains(&format!(
            "log {ORIGIN}: the freshness of its checkpoint (2 entries) was not proven (the \
             policy sets no [log] max_checkpoint_age): a stale checkpoint would hide later \
             events"
        )),
        "{:?}",
        hidden.warnings
    );
    // With it: the stale checkpoint fails the rule, exit 3.
    policy.log.max_checkpoint_age = Some(time::Duration::hours(1));
    let stale = lab.verify_online_with("older.seqprov", "stale", &policy);
    assert_eq!(stale.verdict, Verdict::PolicyNotSatisfied);
    assert_eq!(stale.exit_code, 3);
    assert_eq!(stale.policy.len(), 1, "{:?}", stale.policy);
    assert_eq!(stale.policy[0].rule, "log_checkpoint_fresh");
    assert_eq!(stale.policy[0].subject, "log");
    assert!(
        stale.policy[0].detail.starts_with(&format!(
            "log {ORIGIN}: its checkpoint (2 entries) carries 0 trusted cosignature(s) at most \
             3600 s old, the policy needs 1 (the newest is 72"
        )),
        "{}",
        stale.policy[0].detail
    );
    assert_eq!(
        stale.log_online[0].freshness.status,
        log_online::FreshnessStatus::NotProven
    );
    assert_eq!(
        stale.log_online[0].freshness.cosignatures[0].time,
        two_hours_ago
    );
    // The current checkpoint, freshly cosigned: the rollback shows, exit 1.
    let current = lab.verify_online_with("older.seqprov", "log", &policy);
    assert_eq!(current.exit_code, 1);
    assert_eq!(
        current.log_online[0].freshness.status,
        log_online::FreshnessStatus::Proven
    );
    assert_eq!(
        current.log_online[0].freshness.fresh_witnesses,
        vec!["witness.example.org/w1".to_string()]
    );
    // The newest bundle against the fresh checkpoint: verified, no warning.
    let newest = lab.verify_online_with("run.seqprov", "log", &policy);
    assert_eq!(
        newest.exit_code, 0,
        "{:?} {:?}",
        newest.errors, newest.policy
    );
    assert!(newest.warnings.is_empty(), "{:?}", newest.warnings);
    // A cosignature dated an hour ahead of the verifier's clock is not fresh either.
    let note = fs::read(lab.path("stale/public/checkpoint")).unwrap();
    let (_, size, root) = checkpoint::parse_unverified(&note).unwrap();
    let body = checkpoint::body(ORIGIN, size, &root);
    let future = checkpoint::add_signature_lines(
        &checkpoint::sign(&lab.signer(), size, &root),
        &[witness.cosignature_line(body.as_bytes(), now() + 3600)],
    )
    .unwrap();
    fs::write(lab.path("stale/public/checkpoint"), future).unwrap();
    let ahead = lab.verify_online_with("older.seqprov", "stale", &policy);
    assert_eq!(ahead.exit_code, 3);
    assert!(
        ahead.policy[0].detail.contains("in the future"),
        "{}",
        ahead.policy[0].detail
    );
}

#[test]
fn max_checkpoint_age_parses_as_a_duration_and_needs_a_witness() {
    let witness = witness_signer(0x55, "witness.example.org/w1").verifier();
    let log = LogSigner {
        origin: ORIGIN.into(),
        key: SigningKey::from_bytes(&[0x77; 32]),
    }
    .verifier();
    let base = format!(
        "version = 1\n[log]\nkeys = [\"{}\"]\nwitnesses = [\"{}\"]\n",
        log.vkey(),
        witness.vkey()
    );
    let policy = Policy::parse(
        &format!("{base}max_checkpoint_age = \"2h\"\n"),
        Path::new("."),
    )
    .unwrap();
    assert_eq!(
        policy.log.max_checkpoint_age,
        Some(time::Duration::hours(2))
    );
    for (text, error) in [
        (
            "max_checkpoint_age = 3600\n",
            "invalid type: integer `3600`, expected a string",
        ),
        ("max_checkpoint_age = \"1 h\"\n", "log.max_checkpoint_age"),
        (
            "max_checkpoint_age = \"0s\"\n",
            "log.max_checkpoint_age: must be more than 0s",
        ),
    ] {
        let err = Policy::parse(&format!("{base}{text}"), Path::new(".")).unwrap_err();
        assert!(err.contains(error), "{text}: {err}");
    }
    let err = Policy::parse(
        &format!(
            "version = 1\n[log]\nkeys = [\"{}\"]\nmax_checkpoint_age = \"1h\"\n",
            log.vkey()
        ),
        Path::new("."),
    )
    .unwrap_err();
    assert!(
        err.contains("log.max_checkpoint_age: set, but log.witnesses lists no trusted witness"),
        "{err}"
    );
}

/// F1(b): a second trusted log's checkpoint is served where the first one's was expected:
/// the bundle's receipts of the first log must not go unchecked silently.
#[test]
fn receipts_of_a_trusted_log_no_source_served_are_named_and_exit_2() {
    let lab = Lab::new();
    lab.seal("run", "run.seqprov");
    lab.append_event("run.seqprov", "Lab A");
    lab.log("run.seqprov", "log");
    let other = LogSigner {
        origin: "other.example.org/log".into(),
        key: SigningKey::from_bytes(&[0x79; 32]),
    };
    LogDir::init(
        &lab.path("other"),
        &other.origin,
        &other.key,
        &lab.path("other.key"),
    )
    .unwrap();
    let mut policy = lab.policy();
    policy.log.keys.push(other.verifier());
    let mut report = lab.verify_online_with("run.seqprov", "other", &policy);
    assert_eq!(report.exit_code, 0);
    assert!(report.log_online[0].receipts.is_empty());
    let read = seqprov::read_bundle(&lab.path("run.seqprov")).unwrap();
    let unchecked = log_online::receipts_not_checked(&read, &policy.log.keys, &report.log_online);
    assert_eq!(
        unchecked,
        vec![
            log_online::UncheckedReceipt {
                covers: 0,
                log: ORIGIN.into()
            },
            log_online::UncheckedReceipt {
                covers: 1,
                log: ORIGIN.into()
            }
        ]
    );
    report.apply_unchecked_receipts(unchecked);
    assert_eq!(report.verdict, Verdict::Error);
    assert_eq!(report.exit_code, 2);
    assert_eq!(
        report.errors,
        vec![format!(
            "receipts of log {ORIGIN} were not checked online: no --log served it"
        )]
    );
    assert_eq!(report.log_unchecked.len(), 2);
    // Served by the right log: nothing is left unchecked.
    let checked = lab.verify_online_with("run.seqprov", "log", &policy);
    assert!(
        log_online::receipts_not_checked(&read, &policy.log.keys, &checked.log_online).is_empty()
    );
}

/// F2: an open log takes entries from anyone; an entry by a key the policy does not trust
/// that names this bundle's seal is neither a rollback nor another seal of the run.
#[test]
fn entries_signed_by_untrusted_keys_are_listed_not_counted() {
    let lab = Lab::new();
    let stranger = PrivateKey::from_seed(&[0x44; 32], Some("Stranger".into()));
    lab.seal("run", "run.seqprov");
    lab.log("run.seqprov", "log");
    // A custody event naming the seal, signed by a fresh key, logged (as an open log
    // would) though the honest bundle does not hold it.
    fs::copy(lab.path("run.seqprov"), lab.path("forged.seqprov")).unwrap();
    seqprov::custody::append_event(&lab.path("forged.seqprov"), &stranger, &draft("Nowhere"))
        .unwrap();
    lab.log("forged.seqprov", "log");
    // And a seal of the same run by the fresh key.
    let sealed = seqprov::seal_directory(
        &lab.path("run"),
        &stranger,
        &SealOptions::default(),
        &NoProgress,
    )
    .unwrap();
    seqprov::write_atomically(
        &lab.path("stranger.seqprov"),
        &sealed.bundle,
        Overwrite::Refuse,
    )
    .unwrap();
    lab.log("stranger.seqprov", "log");

    let mut policy = lab.policy();
    policy.log.one_seal_per_run = true;
    let report = lab.verify_online_with("run.seqprov", "log", &policy);
    assert_eq!(
        report.exit_code, 0,
        "{:?} {:?}",
        report.errors, report.policy
    );
    let online = &report.log_online[0];
    assert!(online.rollback.is_empty() && online.other_seals.is_empty());
    let untrusted: Vec<(u64, &str, u64)> = online
        .untrusted_entries
        .iter()
        .map(|e| (e.index, e.kind.as_str(), e.covers))
        .collect();
    assert_eq!(untrusted, vec![(1, "custody", 1), (2, "seal", 0)]);
    assert_eq!(
        online.untrusted_entries[0].signer,
        hex::encode(stranger.public().id().0)
    );
    // The same entries by a trusted key count: a rollback (exit 1) ...
    policy
        .signers
        .extend(Policy::trusting(vec![stranger.public()]).signers);
    let report = lab.verify_online_with("run.seqprov", "log", &policy);
    assert_eq!(report.exit_code, 1);
    assert!(
        report.errors.contains(&format!(
            "log {ORIGIN}: rollback: custody event 1 is in the log (entry 1) but not in this \
             bundle, which has 0 custody events"
        )),
        "{:?}",
        report.errors
    );
    assert_eq!(report.log_online[0].other_seals.len(), 1);
    assert!(report.log_online[0].untrusted_entries.is_empty());
    // ... and another seal of the run (exit 3) when nothing worse is found.
    let check = lab.check_with("stranger.seqprov", "log", &policy).unwrap();
    assert_eq!(check.other_seals.len(), 1);
    assert_eq!(check.rule_failures(true, false)[0].rule, "one_seal_per_run");
}

/// F9: one witness key listed under two names counts once toward witness_quorum.
#[test]
fn one_witness_key_under_two_names_does_not_meet_a_quorum_of_two() {
    let lab = Lab::new();
    let witness = witness_signer(0x55, "witness.example.org/w1");
    let alias = witness_signer(0x55, "witness.example.org/alias");
    lab.seal("run", "run.seqprov");
    lab.log("run.seqprov", "log");
    // The one cosignature, copied under the second name (it does not sign the name).
    let note = fs::read(lab.path("log/public/checkpoint")).unwrap();
    let (_, size, root) = checkpoint::parse_unverified(&note).unwrap();
    let body = checkpoint::body(ORIGIN, size, &root);
    let cosigned = checkpoint::add_signature_lines(
        &note,
        &[
            witness.cosignature_line(body.as_bytes(), now()),
            alias.cosignature_line(body.as_bytes(), now()),
        ],
    )
    .unwrap();
    fs::write(lab.path("log/public/checkpoint"), cosigned).unwrap();
    let mut policy = lab.policy();
    policy.log.witnesses = vec![witness.verifier(), alias.verifier()];
    policy.log.witness_quorum = 2;
    let error = lab.check_with("run.seqprov", "log", &policy).unwrap_err();
    assert_eq!(error.exit_status().code(), 1);
    // A policy file that says so is refused when loaded.
    let text = format!(
        "version = 1\n[log]\nwitnesses = [\"{}\", \"{}\"]\nwitness_quorum = 2\n",
        witness.verifier().vkey(),
        alias.verifier().vkey()
    );
    let refused = Policy::parse(&text, Path::new(".")).unwrap_err();
    assert!(
        refused.contains(
            "log.witness_quorum: 2 is more than the 1 distinct witness keys listed (one key is \
             listed under several names; it counts once)"
        ),
        "{refused}"
    );
    assert!(
        error.to_string().contains(
            "carries 1 cosignatures of distinct trusted witness keys, fewer than the 2 the \
             policy requires"
        ),
        "{error}"
    );
    // Two keys: met.
    let second = witness_signer(0x56, "witness.example.org/w2");
    let note = fs::read(lab.path("log/public/checkpoint")).unwrap();
    let cosigned =
        checkpoint::add_signature_lines(&note, &[second.cosignature_line(body.as_bytes(), now())])
            .unwrap();
    fs::write(lab.path("log/public/checkpoint"), cosigned).unwrap();
    policy.log.witnesses.push(second.verifier());
    let check = lab.check_with("run.seqprov", "log", &policy).unwrap();
    assert_eq!(check.witnesses.len(), 2);
}

/// Regression (hostile review, stop 21): a custody event signed by a key the policy
/// revokes from a time on (`[[revoked.key]]` with `revoked_at`) was listed in
/// `untrusted_entries` only, so an older copy without it verified (exit 0) though the
/// event may have been signed before the revocation. The log entry carries no time, and
/// the key's thief could log such an event too (hostile review 2: an exit 1 would let the
/// thief fail honest bundles), so it fails the rule `log_revoked_signer_event`: exit 3.
#[test]
fn dropping_an_event_by_a_key_revoked_later_is_not_verified() {
    let lab = Lab::new();
    lab.seal("run", "run.seqprov");
    fs::copy(lab.path("run.seqprov"), lab.path("older.seqprov")).unwrap();
    let courier = PrivateKey::from_seed(&[0x42; 32], Some("Courier".into()));
    seqprov::custody::append_event(&lab.path("run.seqprov"), &courier, &draft("Lab A")).unwrap();
    lab.log("run.seqprov", "log");

    let mut policy = lab.policy();
    policy
        .signers
        .extend(Policy::trusting(vec![courier.public()]).signers);
    let revoked_at = time::OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
    policy.revoked_at.insert(courier.public().id(), revoked_at);
    let report = lab.verify_online_with("older.seqprov", "log", &policy);
    assert_eq!(
        report.verdict,
        Verdict::PolicyNotSatisfied,
        "{:?}",
        report.errors
    );
    assert_eq!(report.exit_code, 3);
    let online = &report.log_online[0];
    assert!(online.rollback.is_empty(), "{:?}", online.rollback);
    assert_eq!(online.untrusted_entries.len(), 1);
    assert_eq!(report.policy.len(), 1, "{:?}", report.policy);
    assert_eq!(report.policy[0].rule, "log_revoked_signer_event");
    assert_eq!(report.policy[0].subject, "custody event 1");
    let expected = format!(
        "log {ORIGIN}: custody event 1 is in the log (entry 1) but not in this bundle, which \
         has 0 custody events; it is signed by key {}, revoked from 2030-03-17T17:46:40Z: the \
         log entry carries no time, so it may be an event signed before the revocation (a \
         rollback) or after it",
        hex::encode(courier.public().id().0)
    );
    assert_eq!(report.policy[0].detail, expected);

    // The bundle that holds the event: no finding about it.
    let check = lab.check_with("run.seqprov", "log", &policy).unwrap();
    assert!(check.revoked_signer_events.is_empty());
    assert!(check.rule_failures(false, false).is_empty());

    // Revoked outright ([revoked] key_ids): its entries stay information only.
    let mut policy = lab.policy();
    policy
        .signers
        .extend(Policy::trusting(vec![courier.public()]).signers);
    policy.revoked.insert(courier.public().id());
    let report = lab.verify_online_with("older.seqprov", "log", &policy);
    assert_eq!(report.exit_code, 0, "{:?}", report.errors);
    assert_eq!(report.log_online[0].untrusted_entries.len(), 1);
}
