//! Log submissions and receipt records on a real bundle (spec/log.md §2, §5, §7.1):
//! a sealed folder with two custody events gives one submission per message, each
//! accepted with the entry the bundle derives; forged submissions are refused with the
//! status the contract names; receipt records append under the lock, re-read, and leave
//! a bundle the existing verification still accepts.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use seqprov::custody::{EventDraft, EventKind};
use seqprov::format::log_entry::{LogEntry, LogEntryKind};
use seqprov::format::log_receipt_record::LogReceiptRecord;
use seqprov::log_receipts::append_receipts;
use seqprov::log_submission::{
    Submission, check_submission, entries_of_bundle, seal_digest, submissions_of_bundle,
};
use seqprov::{NoProgress, Overwrite, Policy, PrivateKey, SealOptions, VerifyOptions};

fn draft(role: &str) -> EventDraft {
    EventDraft {
        kind: EventKind::Attest,
        signer_name: None,
        role: role.into(),
        meaning: "approval".into(),
        host: None,
        to: None,
        note: None,
        verification: None,
        derived: None,
        time: None,
    }
}

struct Lab {
    _work: tempfile::TempDir,
    dir: PathBuf,
    bundle: PathBuf,
    core: PrivateKey,
    qc: PrivateKey,
}

fn new_lab(seed: u8) -> Lab {
    lab_of(seed, true)
}

/// A lab whose folder holds one FASTQ file, or (`with_file` false) nothing: seals of empty
/// folders share the root of the empty tree.
fn lab_of(seed: u8, with_file: bool) -> Lab {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("run");
    fs::create_dir(&dir).unwrap();
    if with_file {
        fs::write(dir.join("a.fastq"), b"@r1\nACGT\n+\nIIII\n").unwrap();
    }
    let core = PrivateKey::from_seed(&[seed; 32], Some("Core".into()));
    let qc = PrivateKey::from_seed(&[seed + 1; 32], Some("QC".into()));
    let sealed =
        seqprov::seal_directory(&dir, &core, &SealOptions::default(), &NoProgress).unwrap();
    let bundle = work.path().join("run.seqprov");
    seqprov::write_atomically(&bundle, &sealed.bundle, Overwrite::Refuse).unwrap();
    seqprov::custody::append_event(&bundle, &qc, &draft("qc")).unwrap();
    seqprov::custody::append_event(&bundle, &core, &draft("core")).unwrap();
    Lab {
        _work: work,
        dir,
        bundle,
        core,
        qc,
    }
}

fn receipt_text(origin: &str) -> String {
    format!(
        "c2sp.org/tlog-proof@v1\nindex 0\n\n{origin}\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} {origin} AAAAAAAA\n"
    )
}

fn verify_exit(lab: &Lab, path: &Path) -> u8 {
    let bundle = seqprov::read_bundle(path).unwrap();
    let policy = Policy::trusting(vec![lab.core.public(), lab.qc.public()]);
    seqprov::verify_directory(
        &lab.dir,
        &bundle,
        &policy,
        VerifyOptions::default(),
        &NoProgress,
    )
    .unwrap()
    .exit_code
}

#[test]
fn every_message_of_a_real_bundle_is_accepted_with_the_entry_the_bundle_derives() {
    let lab = new_lab(0x41);
    let pending = submissions_of_bundle(&lab.bundle).unwrap();
    assert_eq!(pending.len(), 3, "the seal and two custody events");
    let bundle = seqprov::read_bundle(&lab.bundle).unwrap();
    let derived = entries_of_bundle(&bundle).unwrap();
    let digest = seal_digest(&bundle.seal.raw);
    for (i, p) in pending.iter().enumerate() {
        assert_eq!(p.covers, i as u64);
        assert!(p.logged_by.is_empty());
        // Through the wire form, as a log receives it.
        let received = Submission::decode(&p.submission.encode()).unwrap();
        let entry = check_submission(&received, None).unwrap();
        assert_eq!(entry, p.entry);
        assert_eq!(entry, derived[i]);
        assert_eq!(entry.seal, digest);
        assert_eq!(LogEntry::decode(&entry.encode()).unwrap(), entry);
    }
    assert_eq!(pending[0].entry.kind, LogEntryKind::Seal);
    assert_eq!(pending[1].entry.kind, LogEntryKind::Custody);
    assert_eq!(pending[1].entry.signer, lab.qc.public().id().0);
    assert_eq!(pending[2].entry.signer, lab.core.public().id().0);
    // With an allow-list policy holding both signers, all are accepted.
    let both = Policy::trusting(vec![lab.core.public(), lab.qc.public()]);
    for p in &pending {
        assert_eq!(
            check_submission(&p.submission, Some(&both)).unwrap(),
            p.entry
        );
    }
}

#[test]
fn forged_foreign_unlisted_and_garbage_submissions_are_refused_with_their_status() {
    let lab = new_lab(0x51);
    let pending = submissions_of_bundle(&lab.bundle).unwrap();
    // A flipped byte in the seal's signature (its last byte): 422.
    let mut forged = pending[0].submission.clone();
    let last = forged.seal.len() - 1;
    forged.seal[last] ^= 1;
    let refusal = check_submission(&forged, None).unwrap_err();
    assert_eq!(refusal.status, 422, "{refusal}");
    assert_eq!(
        refusal.reason,
        "the seal's signature does not verify under the key it names"
    );
    // A flipped byte in an event's signature: 422.
    let mut forged = pending[1].submission.clone();
    let event = forged.event.as_mut().unwrap();
    let last = event.len() - 1;
    event[last] ^= 1;
    let refusal = check_submission(&forged, None).unwrap_err();
    assert_eq!(refusal.status, 422, "{refusal}");
    assert!(
        refusal
            .reason
            .starts_with("the custody event's signature does not verify"),
        "{refusal}"
    );
    // An event of another seal (another folder sealed by the same key): 422.
    let other = new_lab(0x61);
    let theirs = submissions_of_bundle(&other.bundle).unwrap();
    let foreign = Submission {
        seal: pending[0].submission.seal.clone(),
        event: theirs[1].submission.event.clone(),
        token: None,
        chain: Vec::new(),
    };
    let refusal = check_submission(&foreign, None).unwrap_err();
    assert_eq!(refusal.status, 422, "{refusal}");
    assert!(
        refusal.reason.contains("does not belong to its seal"),
        "{refusal}"
    );
    // A policy without the event's signer: 403; the seal's signer is still allowed.
    let core_only = Policy::trusting(vec![lab.core.public()]);
    let refusal = check_submission(&pending[1].submission, Some(&core_only)).unwrap_err();
    assert_eq!(refusal.status, 403, "{refusal}");
    assert!(refusal.reason.contains("not a trusted signer"), "{refusal}");
    assert!(check_submission(&pending[0].submission, Some(&core_only)).is_ok());
    // Garbage: 400, as a body and as a seal; a token that is not DER: 422.
    assert_eq!(
        Submission::decode(b"\xff\x00garbage").unwrap_err().status,
        400
    );
    let garbage = Submission {
        seal: b"not a seal".to_vec(),
        event: None,
        token: None,
        chain: Vec::new(),
    };
    assert_eq!(check_submission(&garbage, None).unwrap_err().status, 400);
    let bad_token = Submission {
        token: Some(vec![0x30, 0x00]),
        chain: Vec::new(),
        ..pending[0].submission.clone()
    };
    assert_eq!(check_submission(&bad_token, None).unwrap_err().status, 422);
}

/// Regression (hostile review 2, stop 21, F7): a custody event of seq >= 2 was tied to its
/// seal by the root alone, so a real event of one seal's history could be logged under
/// another seal of the same data (same root) by anyone, and that seal's honest bundles then
/// failed `verify --log` as rolled back. Its `prev` chain must now lead to the seal.
#[test]
fn an_event_of_another_seal_of_the_same_data_is_refused_without_its_own_chain() {
    let lab = lab_of(0x81, false);
    let twin = lab_of(0x91, false);
    let ours = seqprov::read_bundle(&lab.bundle).unwrap();
    let theirs = seqprov::read_bundle(&twin.bundle).unwrap();
    assert_eq!(
        ours.payload.root, theirs.payload.root,
        "the same data, one root"
    );
    assert_ne!(ours.seal.raw, theirs.seal.raw);
    let their_pending = submissions_of_bundle(&twin.bundle).unwrap();
    let their_event_2 = their_pending[2].submission.clone();
    assert_eq!(their_event_2.chain.len(), 1, "event 2 goes with event 1");
    assert!(check_submission(&their_event_2, None).is_ok());
    // Their event 2 under our seal: with no chain, with their chain, with ours.
    let our_event_1 = ours.events[0].raw.clone();
    for (chain, expected) in [
        (vec![], "needs the 1 events before it (chain), not 0"),
        (
            their_event_2.chain.clone(),
            "event 1 of the chain does not link to it",
        ),
        (vec![our_event_1.clone()], "event 2 does not link to it"),
        (
            vec![our_event_1.clone(), our_event_1.clone()],
            "needs the 1 events before it (chain), not 2",
        ),
    ] {
        let replayed = Submission {
            seal: ours.seal.raw.clone(),
            chain,
            ..their_event_2.clone()
        };
        let refusal =
            check_submission(&Submission::decode(&replayed.encode()).unwrap(), None).unwrap_err();
        assert_eq!(refusal.status, 422, "{refusal}");
        assert!(refusal.reason.contains(expected), "{expected}: {refusal}");
    }
    // A chain with no event is malformed; a chain member that is not an event too.
    let seal_only = Submission {
        chain: vec![our_event_1],
        ..submissions_of_bundle(&lab.bundle).unwrap()[0]
            .submission
            .clone()
    };
    assert_eq!(check_submission(&seal_only, None).unwrap_err().status, 400);
    let mut garbage_link = submissions_of_bundle(&lab.bundle).unwrap()[2]
        .submission
        .clone();
    garbage_link.chain[0] = b"not an event".to_vec();
    let refusal = check_submission(&garbage_link, None).unwrap_err();
    assert_eq!(refusal.status, 400, "{refusal}");
    assert!(
        refusal.reason.starts_with("an event of the chain"),
        "{refusal}"
    );
    // A chain present but empty is not the single encoding: 400.
    let mut body = submissions_of_bundle(&lab.bundle).unwrap()[1]
        .submission
        .encode();
    assert_eq!(body[0], 0xa4, "a map of four fields");
    body[0] = 0xa5;
    body.extend_from_slice(b"\x65chain\x80");
    assert_eq!(Submission::decode(&body).unwrap_err().status, 400);
}

#[test]
fn receipt_records_append_under_the_lock_reread_and_keep_the_bundle_verifiable() {
    let lab = new_lab(0x71);
    fs::set_permissions(&lab.bundle, fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(verify_exit(&lab, &lab.bundle), 0);
    let pending = submissions_of_bundle(&lab.bundle).unwrap();
    let records: Vec<LogReceiptRecord> = pending
        .iter()
        .map(|p| LogReceiptRecord {
            covers: p.covers,
            entry: p.entry.encode(),
            proof: receipt_text("lab.example.org/seqprov"),
        })
        .collect();
    assert_eq!(append_receipts(&lab.bundle, &records).unwrap(), 3);
    // Appending the same records again adds nothing.
    assert_eq!(append_receipts(&lab.bundle, &records).unwrap(), 0);
    let mode = fs::metadata(&lab.bundle).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "permission bits kept");
    let bundle = seqprov::read_bundle(&lab.bundle).unwrap();
    assert_eq!(bundle.log_receipts, records);
    assert_eq!(bundle.events.len(), 2);
    let again = submissions_of_bundle(&lab.bundle).unwrap();
    for p in &again {
        assert_eq!(p.logged_by, vec!["lab.example.org/seqprov".to_string()]);
    }
    // The existing verification accepts a bundle with receipts (exit 0).
    assert_eq!(verify_exit(&lab, &lab.bundle), 0);
    // A custody event appends after receipts; the receipts stay where they were.
    seqprov::custody::append_event(&lab.bundle, &lab.qc, &draft("qc")).unwrap();
    let bundle = seqprov::read_bundle(&lab.bundle).unwrap();
    assert_eq!(bundle.events.len(), 3);
    assert_eq!(bundle.log_receipts.len(), 3);
    assert_eq!(verify_exit(&lab, &lab.bundle), 0);
}

#[test]
fn a_receipt_for_another_entry_or_past_the_limit_is_refused_and_nothing_is_written() {
    let lab = new_lab(0x31);
    let before = fs::read(&lab.bundle).unwrap();
    let pending = submissions_of_bundle(&lab.bundle).unwrap();
    // The entry of event 1 offered as the receipt of event 2.
    let wrong = LogReceiptRecord {
        covers: 2,
        entry: pending[1].entry.encode(),
        proof: receipt_text("lab.example.org/seqprov"),
    };
    let good = LogReceiptRecord {
        covers: 0,
        entry: pending[0].entry.encode(),
        proof: receipt_text("lab.example.org/seqprov"),
    };
    let err = append_receipts(&lab.bundle, &[good.clone(), wrong])
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not the entry of message 2"), "{err}");
    assert_eq!(fs::read(&lab.bundle).unwrap(), before, "nothing written");
    // Sixteen receipts per message at most.
    let many: Vec<LogReceiptRecord> = (0..17)
        .map(|i| LogReceiptRecord {
            proof: receipt_text(&format!("log{i}.example.org")),
            ..good.clone()
        })
        .collect();
    let err = append_receipts(&lab.bundle, &many).unwrap_err().to_string();
    assert!(err.contains("already has 16 log receipts"), "{err}");
    assert_eq!(fs::read(&lab.bundle).unwrap(), before, "nothing written");
    assert_eq!(append_receipts(&lab.bundle, &many[..16]).unwrap(), 16);
    // A seventeenth record written by hand makes the bundle malformed.
    let mut bytes = fs::read(&lab.bundle).unwrap();
    bytes.extend(many[16].to_cbor());
    let err = seqprov::format::Bundle::parse(&bytes)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("more than 16 receipt records cover message 0"),
        "{err}"
    );
    // A receipt before the event it covers is malformed.
    let mut early = before.clone();
    let bundle = seqprov::read_bundle(&lab.bundle).unwrap();
    let seal_and_list = before.len() - bundle.events.iter().map(|e| e.raw.len()).sum::<usize>();
    let record = LogReceiptRecord {
        covers: 1,
        entry: pending[1].entry.encode(),
        proof: receipt_text("x"),
    };
    early.splice(seal_and_list..seal_and_list, record.to_cbor());
    let err = seqprov::format::Bundle::parse(&early)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "log receipt record at byte {seal_and_list} covers message 1, which does not precede it"
        )),
        "{err}"
    );
}

/// Hostile review 2 of F7: chains that are the event itself, a chain given with an event of
/// seq 1, and an empty `chain` in its canonical place (the test above appends `chain`
/// after `version`, which is refused for its key order before its emptiness is looked at).
#[test]
fn a_chain_that_is_the_event_itself_or_goes_with_event_1_or_is_empty_is_refused() {
    let lab = new_lab(0xa1);
    let pending = submissions_of_bundle(&lab.bundle).unwrap();
    let event_1 = pending[1].submission.clone();
    let event_2 = pending[2].submission.clone();
    assert!(event_1.chain.is_empty());
    assert_eq!(event_2.chain, vec![event_1.event.clone().unwrap()]);
    for (submission, status, expected) in [
        (
            Submission {
                chain: vec![event_2.event.clone().unwrap()],
                ..event_2.clone()
            },
            422,
            "event 1 of the chain does not link to it",
        ),
        (
            Submission {
                chain: vec![event_1.event.clone().unwrap()],
                ..event_1.clone()
            },
            422,
            "needs the 0 events before it (chain), not 1",
        ),
    ] {
        let refusal =
            check_submission(&Submission::decode(&submission.encode()).unwrap(), None).unwrap_err();
        assert_eq!(refusal.status, status, "{refusal}");
        assert!(refusal.reason.contains(expected), "{expected}: {refusal}");
    }
    // `chain: []` where the single encoding would put a chain: between `seal` and `event`.
    let body = event_1.encode();
    let at = body
        .windows(6)
        .position(|w| w == b"\x65event")
        .expect("the event key");
    let mut with_empty = body[..at].to_vec();
    with_empty.extend_from_slice(b"\x65chain\x80");
    with_empty.extend_from_slice(&body[at..]);
    with_empty[0] += 1;
    let refusal = Submission::decode(&with_empty).unwrap_err();
    assert_eq!(refusal.status, 400, "{refusal}");
    assert!(
        refusal.reason.contains("single encoding"),
        "refused as the empty chain, not for its key order: {refusal}"
    );
}
