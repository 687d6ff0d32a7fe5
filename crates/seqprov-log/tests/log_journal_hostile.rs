//! Hostile review of the append journal (spec/log.md §3): someone who can write the log
//! directory but holds no log key, and nature (a crash at any moment, a full disk), try to
//! make the log publish a tree its key did not sign into the journal, lose an acknowledged
//! entry, hang or allocate without bound on a hostile journal, or write outside the log
//! directory. Each test mounts one attack and checks the exact outcome.

use std::path::Path;

use ed25519_dalek::SigningKey;
use seqprov_log::checkpoint;
use seqprov_log::journal::{self, JOURNAL_FILE};
use seqprov_log::log_dir::VKEY_FILE;
use seqprov_log::note_keys::{LogSigner, LogVerifier};

mod log_fixture;
use log_fixture::{ORIGIN, entries, log_of, naive_root, open, sign, signer};

fn verifier(dir: &Path) -> LogVerifier {
    let vkey = std::fs::read_to_string(dir.join(VKEY_FILE)).unwrap();
    LogVerifier::from_vkey(vkey.trim_end()).unwrap()
}

/// Regression: a journal hard-linked to a file elsewhere (a link is not a symbolic link:
/// `O_NOFOLLOW` does not see it) was opened for appending as it was, so every batch record
/// was appended to the other file as well, a write outside the log directory. The log now
/// writes a journal of its own (a fresh file) when the one it finds has another name.
#[test]
fn a_hard_link_at_the_journal_is_never_appended_through() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    log_of(&dir, 4);
    let outside = tmp.path().join("outside");
    std::fs::rename(dir.join(JOURNAL_FILE), &outside).unwrap();
    std::fs::hard_link(&outside, dir.join(JOURNAL_FILE)).unwrap();
    let before = std::fs::read(&outside).unwrap();
    let mut log = open(&dir).unwrap();
    log.append(&entries(4..6), &mut sign).unwrap();
    drop(log);
    assert!(
        std::fs::read(&outside).unwrap() == before,
        "a batch record was written through a hard link to a file outside the log"
    );
    let log = open(&dir).unwrap();
    assert_eq!(log.size(), 6);
    assert_eq!(log.root_hash(), naive_root(&entries(0..6)));
}

/// Regression: the note of a batch was checked for its origin, size and root only, not
/// for the log key's signature, and journaled: an append with a note the log key did not
/// sign (a key file that is not the key of `log.vkey`) was acknowledged, and opening the
/// log then failed on that record ("the log is corrupt"): the acknowledged batch could
/// not be replayed and the log could not be opened. The note must now open with the log
/// key before it is journaled, as replaying requires.
#[test]
fn a_batch_note_the_log_key_did_not_sign_is_refused_before_the_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    log_of(dir, 3);
    let journal_before = std::fs::read(dir.join(JOURNAL_FILE)).unwrap();
    let other = LogSigner {
        origin: ORIGIN.to_string(),
        key: SigningKey::from_bytes(&[12; 32]),
    };
    let mut log = open(dir).unwrap();
    let err = log
        .append(&entries(3..4), &mut |size, root| {
            Ok(checkpoint::sign(&other, size, root))
        })
        .expect_err("a batch whose note the log key did not sign was acknowledged");
    assert!(err.to_string().contains("signature"), "{err}");
    assert_eq!(log.size(), 3);
    assert_eq!(
        std::fs::read(dir.join(JOURNAL_FILE)).unwrap(),
        journal_before,
        "the refused batch reached the journal"
    );
    // Refused before the journal: the log goes on appending.
    log.append(&entries(3..5), &mut sign).unwrap();
    drop(log);
    let log = open(dir).unwrap();
    assert_eq!(log.size(), 5);
    assert_eq!(log.root_hash(), naive_root(&entries(0..5)));
}

/// Regression: a cosigned note was published when it stated the log's origin, size and
/// root, even if it no longer opened with the log key (a signature line naming the log's
/// key that does not verify); readers then refused the published checkpoint, and a
/// compaction would write it as the journal's base, which opening refuses. A cosigned
/// note that does not open with the log key is now left out (the log-signed note is
/// published, as when cosigning fails).
#[test]
fn a_cosigned_note_that_does_not_open_with_the_log_key_is_not_published() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    log_of(dir, 2);
    let mut log = open(dir).unwrap();
    // A well-formed signature line of the log's key name and id, over another body.
    let bogus = signer().signature_line(b"another body\n");
    let mut cosign =
        |note: &[u8]| checkpoint::add_signature_lines(note, std::slice::from_ref(&bogus));
    log.append_cosigned(&entries(2..3), &mut sign, &mut cosign)
        .unwrap();
    let published = std::fs::read(dir.join("public/checkpoint")).unwrap();
    let opened = checkpoint::open(&published, &verifier(dir), &[])
        .expect("the published checkpoint does not open with the log key");
    assert_eq!(opened.size, 3);
    assert_eq!(log.checkpoint(), published.as_slice());
    // The same for a checkpoint published again (fresh cosignatures).
    let again =
        checkpoint::add_signature_lines(log.checkpoint(), std::slice::from_ref(&bogus)).unwrap();
    assert!(log.replace_checkpoint(&again).is_err());
    assert_eq!(
        std::fs::read(dir.join("public/checkpoint")).unwrap(),
        published
    );
    drop(log);
    assert_eq!(open(dir).unwrap().size(), 3);
}

/// `journal` with `record` appended.
fn journal_with(journal: &[u8], record: &[u8]) -> Vec<u8> {
    let mut bytes = journal.to_vec();
    bytes.extend_from_slice(record);
    bytes
}

/// A framed record of any payload (the journal's framing is not keyed: anyone can frame).
fn frame(payload: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut out = (payload.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out.extend_from_slice(&sha2::Sha256::digest(payload));
    out
}

/// Stopped: hostile journals are errors or torn tails, never a panic, a hang or an
/// allocation beyond what the file holds, and nothing of them is published.
#[test]
fn hostile_journals_are_refused_or_cut_without_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    log_of(dir, 5);
    let clean = std::fs::read(dir.join(JOURNAL_FILE)).unwrap();
    let published = std::fs::read(dir.join("public/checkpoint")).unwrap();
    let note5 = published.clone();
    let refuse = |bytes: &[u8], expected: &str| {
        std::fs::write(dir.join(JOURNAL_FILE), bytes).unwrap();
        let err = open(dir)
            .err()
            .expect("a hostile journal opened")
            .to_string();
        assert!(err.contains(expected), "{expected}: {err}");
        assert_eq!(
            std::fs::read(dir.join("public/checkpoint")).unwrap(),
            published
        );
    };
    // A first record declaring the largest lengths, with nothing behind them.
    for len in [u32::MAX, 268_455_953, 268_455_954, 1 << 20] {
        refuse(&len.to_be_bytes(), "does not start with a base");
    }
    refuse(b"", "does not start with a base");
    refuse(&[0, 0, 0], "does not start with a base");
    // A batch record first.
    let batch = journal::encode_batch(0, &[b"x"], &note5).unwrap();
    refuse(&batch, "does not start with a base");
    // A second base, after the first.
    refuse(
        &journal_with(&clean, &journal::encode_base(&note5)),
        "second base",
    );
    // Well hashed records whose fields lie: count, len, kind, an empty payload, a
    // checkpoint over its limit.
    let lie = |count: u32, len: u32, bundle: &[u8], note: &[u8]| {
        let mut p = vec![1u8];
        p.extend_from_slice(&5u64.to_be_bytes());
        p.extend_from_slice(&count.to_be_bytes());
        p.extend_from_slice(&len.to_be_bytes());
        p.extend_from_slice(bundle);
        p.extend_from_slice(note);
        frame(&p)
    };
    for record in [
        lie(0, 3, b"\0\x01a", &note5),
        lie(4097, 3, b"\0\x01a", &note5),
        lie(1, u32::MAX, b"\0\x01a", &note5),
        lie(2, 3, b"\0\x01a", &note5),
        lie(1, 3, b"\0\x05a", &note5),
        lie(1, 3, b"\0\x01a", b""),
        lie(1, 3, b"\0\x01a", &vec![b'n'; 16_385]),
        frame(&[]),
        frame(&[7, 1, 2, 3]),
        frame(&[1, 0, 0]),
    ] {
        refuse(&journal_with(&clean, &record), "log journal");
    }
    // A batch whose note is an old note of the log (signed, but for another tree).
    refuse(
        &journal_with(&clean, &journal::encode_batch(5, &[b"x"], &note5).unwrap()),
        "not the root",
    );
    // A torn tail of any length and content: cut, the log opens at 5.
    for tail in [&[0u8][..], &[0, 0, 0, 0], &[0xff; 40], &[0, 0, 0, 1, 1]] {
        std::fs::write(dir.join(JOURNAL_FILE), journal_with(&clean, tail)).unwrap();
        assert_eq!(open(dir).unwrap().size(), 5);
        assert_eq!(std::fs::read(dir.join(JOURNAL_FILE)).unwrap(), clean);
    }
    // A directory, a FIFO or a symbolic link at the journal: refused, never followed.
    std::fs::remove_file(dir.join(JOURNAL_FILE)).unwrap();
    std::fs::create_dir(dir.join(JOURNAL_FILE)).unwrap();
    let err = open(dir).err().expect("opened").to_string();
    assert!(err.contains("is a directory"), "{err}");
    std::fs::remove_dir(dir.join(JOURNAL_FILE)).unwrap();
    std::fs::write(dir.join(JOURNAL_FILE), &clean).unwrap();
    assert_eq!(open(dir).unwrap().size(), 5);
}

/// Stopped: a symbolic link (or a FIFO) planted at the journal's temporary name is
/// removed, never written through, when the journal is written afresh.
#[test]
fn a_link_at_the_journal_temporary_name_is_replaced_never_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    log_of(&dir, 3);
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, b"precious\n").unwrap();
    // A batch to replay, so that opening writes the journal afresh.
    open(&dir)
        .unwrap()
        .append(&entries(3..4), &mut sign)
        .unwrap();
    std::os::unix::fs::symlink(&victim, dir.join(".journal.tmp")).unwrap();
    let log = open(&dir).unwrap();
    assert_eq!(log.size(), 4);
    drop(log);
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
    assert!(
        !dir.join(".journal.tmp")
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
    );
    // A symbolic link in place of the journal while the log is open: the compaction or
    // the next opening never follows it.
    let mut log = open(&dir).unwrap();
    std::fs::rename(dir.join(JOURNAL_FILE), tmp.path().join("journal.aside")).unwrap();
    std::os::unix::fs::symlink(&victim, dir.join(JOURNAL_FILE)).unwrap();
    // The open handle still appends to the journal it opened (now named journal.aside).
    log.append(&entries(4..5), &mut sign).unwrap();
    drop(log);
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
    let err = open(&dir).err().expect("opened").to_string();
    assert!(err.contains("is a symbolic link"), "{err}");
}
