//! Bundles signed by a *trusted* key with the library's own signing code whose entry
//! lists are hostile: paths that escape the tree, paths that are not in the one spelling
//! the format allows, duplicates, unsorted lists. A trusted signer is not trusted to
//! name files outside the sealed directory: each bundle must be rejected (exit status 1)
//! with a message naming the offending path, whether at parse time or at verification.
//!
//! Each bundle is checked against a temporary directory that matches it as far as the
//! file system allows (for `../x` and absolute paths the file really exists where a
//! naive `root.join(path)` would look), so that a rejection cannot come from a missing
//! file instead of the path check.

use std::fs;
use std::path::Path;

use seqprov::format::manifest::{Bytes32, Entry, EntryKind};
use seqprov::seal::{SealOptions, sign_entries};
use seqprov::{Bundle, NoProgress, Policy, PrivateKey, VerifyOptions, verify_directory};

const CONTENT: &[u8] = b"@r1\nACGT\n+\nIIII\n";

fn key() -> PrivateKey {
    PrivateKey::from_seed(&[0x11; 32], Some("Core".into()))
}

fn file(path: &str) -> Entry {
    Entry {
        path: path.into(),
        kind: EntryKind::File,
        salt: Bytes32(*blake3::hash(path.as_bytes()).as_bytes()),
        size: Some(CONTENT.len() as u64),
        blake3: Some(Bytes32(*blake3::hash(CONTENT).as_bytes())),
        sha256: None,
        target: None,
        content: None,
    }
}

fn dir(path: &str) -> Entry {
    Entry {
        kind: EntryKind::Dir,
        size: None,
        blake3: None,
        ..file(path)
    }
}

fn symlink(path: &str, target: &str) -> Entry {
    Entry {
        kind: EntryKind::Symlink,
        size: None,
        blake3: None,
        target: Some(target.into()),
        content: None,
        ..file(path)
    }
}

/// A work directory with `run/` (the sealed directory) holding `S1.fastq`, and
/// `outside.fastq` beside it, all with [`CONTENT`].
fn workspace() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    fs::create_dir(work.path().join("run")).unwrap();
    fs::write(work.path().join("run/S1.fastq"), CONTENT).unwrap();
    fs::write(work.path().join("outside.fastq"), CONTENT).unwrap();
    work
}

/// How the library answered a bundle made of `entries`, checked against `run`.
enum Answer {
    /// `Bundle::parse` refused it.
    ParseError(seqprov::Error),
    /// It parsed; `verify_directory` returned an error.
    VerifyError(seqprov::Error),
    /// It parsed and `verify_directory` produced a report (exit code, JSON).
    Report(u8, String),
}

fn answer(entries: Vec<Entry>, run: &Path) -> Answer {
    let key = key();
    let sealed = sign_entries(entries, "run", &key, &SealOptions::default()).unwrap();
    let bundle = match Bundle::parse(&sealed.bundle) {
        Err(e) => return Answer::ParseError(e.into()),
        Ok(bundle) => bundle,
    };
    let policy = Policy::trusting(vec![key.public()]);
    match verify_directory(run, &bundle, &policy, VerifyOptions::default(), &NoProgress) {
        Err(e) => Answer::VerifyError(e),
        Ok(report) => Answer::Report(report.exit_code, report.to_json()),
    }
}

/// The bundle must be refused with exit status 1 and a message naming `path` (as
/// written, or in the escaped form `{:?}` gives for control characters and backslashes).
fn assert_rejected(case: &str, entries: Vec<Entry>, run: &Path, path: &str) {
    let err = match answer(entries, run) {
        Answer::ParseError(e) | Answer::VerifyError(e) => e,
        Answer::Report(code, json) => panic!(
            "{case}: accepted by Bundle::parse and verify_directory (exit {code}), \
             expected an error naming {path:?}:\n{json}"
        ),
    };
    let message = err.to_string();
    assert_eq!(err.exit_status().code(), 1, "{case}: {message}");
    let escaped = format!("{path:?}");
    assert!(
        message.contains(path) || message.contains(&escaped),
        "{case}: the message does not name {escaped}: {message}"
    );
}

/// Control: the same construction with only well-formed entries verifies (exit 0), so
/// the rejections below are due to the hostile entry alone.
#[test]
fn well_formed_bundle_from_sign_entries_verifies() {
    let work = workspace();
    let run = work.path().join("run");
    fs::create_dir(run.join("Logs")).unwrap();
    std::os::unix::fs::symlink("S1.fastq", run.join("S1.link")).unwrap();
    let entries = vec![
        dir("Logs"),
        file("S1.fastq"),
        symlink("S1.link", "S1.fastq"),
    ];
    match answer(entries, &run) {
        Answer::Report(0, _) => {}
        Answer::Report(code, json) => panic!("exit {code}: {json}"),
        Answer::ParseError(e) | Answer::VerifyError(e) => panic!("{e}"),
    }
}

#[test]
fn dot_dot_component_is_rejected() {
    let work = workspace();
    let run = work.path().join("run");
    assert_rejected(
        "../ file",
        vec![file("../outside.fastq"), file("S1.fastq")],
        &run,
        "../outside.fastq",
    );
    fs::create_dir(run.join("sub")).unwrap();
    fs::write(run.join("sub/x"), CONTENT).unwrap();
    assert_rejected(
        "inner ..",
        vec![file("S1.fastq"), file("sub/../../outside.fastq")],
        &run,
        "sub/../../outside.fastq",
    );
    assert_rejected(
        "trailing ..",
        vec![file("S1.fastq"), dir("sub/..")],
        &run,
        "sub/..",
    );
    assert_rejected(
        ".. symlink entry",
        vec![file("S1.fastq"), symlink("../link", "S1.fastq")],
        &run,
        "../link",
    );
}

#[test]
fn absolute_path_is_rejected() {
    let work = workspace();
    let run = work.path().join("run");
    // Exists: a verifier that joins it onto the root would read it and call it ok.
    let absolute = work.path().join("outside.fastq");
    let absolute = absolute.to_str().unwrap();
    assert!(absolute.starts_with('/'));
    assert_rejected(
        "absolute file",
        vec![file(absolute), file("S1.fastq")],
        &run,
        absolute,
    );
    assert_rejected("absolute dir", vec![dir("/"), file("S1.fastq")], &run, "/");
}

#[test]
fn empty_component_is_rejected() {
    let work = workspace();
    let run = work.path().join("run");
    fs::create_dir(run.join("a")).unwrap();
    fs::write(run.join("a/b"), CONTENT).unwrap();
    assert_rejected("a//b", vec![file("S1.fastq"), file("a//b")], &run, "a//b");
}

#[test]
fn trailing_slash_is_rejected() {
    let work = workspace();
    let run = work.path().join("run");
    fs::create_dir(run.join("Logs")).unwrap();
    assert_rejected(
        "dir with trailing slash",
        vec![dir("Logs/"), file("S1.fastq")],
        &run,
        "Logs/",
    );
    assert_rejected(
        "file with trailing slash",
        vec![file("S1.fastq/")],
        &run,
        "S1.fastq/",
    );
}

#[test]
fn backslash_is_rejected() {
    let work = workspace();
    let run = work.path().join("run");
    // A file really named `a\b` (legal on Linux) matches the entry byte for byte.
    fs::write(run.join("a\\b"), CONTENT).unwrap();
    assert_rejected(
        "backslash",
        vec![file("S1.fastq"), file("a\\b")],
        &run,
        "a\\b",
    );
    assert_rejected(
        "backslash traversal",
        vec![file("..\\outside.fastq"), file("S1.fastq")],
        &run,
        "..\\outside.fastq",
    );
}

#[test]
fn nul_is_rejected() {
    let work = workspace();
    let run = work.path().join("run");
    assert_rejected(
        "NUL",
        vec![file("S1.fastq"), file("S1.fastq\0.txt")],
        &run,
        "S1.fastq\0.txt",
    );
}

#[test]
fn duplicate_paths_are_rejected() {
    let work = workspace();
    let run = work.path().join("run");
    assert_rejected(
        "same entry twice",
        vec![file("S1.fastq"), file("S1.fastq")],
        &run,
        "S1.fastq",
    );
    // Same path, different kinds and contents: which one would a verifier check?
    let mut other = file("S1.fastq");
    other.size = Some(1);
    assert_rejected(
        "same path, other content",
        vec![file("S1.fastq"), other],
        &run,
        "S1.fastq",
    );
    assert_rejected(
        "same path as file and symlink",
        vec![file("S1.fastq"), symlink("S1.fastq", "elsewhere")],
        &run,
        "S1.fastq",
    );
}

#[test]
fn unsorted_entries_are_rejected() {
    let work = workspace();
    let run = work.path().join("run");
    fs::write(run.join("A.fastq"), CONTENT).unwrap();
    assert_rejected(
        "unsorted",
        vec![file("S1.fastq"), file("A.fastq")],
        &run,
        "A.fastq",
    );
    // Sorted case-insensitively ("b" before "S1") but not by bytes ('S' is 0x53, 'b' 0x62).
    fs::write(run.join("b"), CONTENT).unwrap();
    assert_rejected(
        "case-insensitively sorted",
        vec![file("b"), file("S1.fastq")],
        &run,
        "S1.fastq",
    );
}

#[test]
fn dot_path_is_rejected() {
    let work = workspace();
    let run = work.path().join("run");
    assert_rejected(
        "the root itself as `.`",
        vec![dir("."), file("S1.fastq")],
        &run,
        ".",
    );
    assert_rejected("./S1.fastq", vec![file("./S1.fastq")], &run, "./S1.fastq");
    fs::create_dir(run.join("sub")).unwrap();
    fs::write(run.join("sub/x"), CONTENT).unwrap();
    assert_rejected(
        "sub/./x",
        vec![file("S1.fastq"), file("sub/./x")],
        &run,
        "sub/./x",
    );
    assert_rejected(
        "trailing /.",
        vec![file("S1.fastq"), dir("sub/.")],
        &run,
        "sub/.",
    );
}

#[test]
fn empty_path_is_rejected() {
    let work = workspace();
    let run = work.path().join("run");
    // The empty path sorts first; the message names it as `""`.
    let Answer::ParseError(err) = answer(vec![dir(""), file("S1.fastq")], &run) else {
        panic!("a bundle with an empty path parsed");
    };
    let message = err.to_string();
    assert_eq!(err.exit_status().code(), 1, "{message}");
    assert!(message.contains("\"\""), "{message}");
}

/// "é" precomposed (U+00E9, NFC) and decomposed ("e" + U+0301, NFD) are different bytes,
/// so they sort apart and pass the byte rules, but on macOS file systems and in most
/// people's eyes they are one name: a bundle holding both is ambiguous.
#[test]
fn paths_equal_after_unicode_normalisation_are_rejected() {
    let work = workspace();
    let run = work.path().join("run");
    let nfc = "\u{e9}.fastq";
    let nfd = "e\u{301}.fastq";
    // Linux keeps both as distinct files, so the directory matches the bundle exactly.
    fs::write(run.join(nfc), CONTENT).unwrap();
    fs::write(run.join(nfd), CONTENT).unwrap();
    let mut entries = vec![file("S1.fastq"), file(nfc), file(nfd)];
    entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let err = match answer(entries, &run) {
        Answer::ParseError(e) | Answer::VerifyError(e) => e,
        Answer::Report(code, json) => {
            panic!("two spellings of one name were accepted (exit {code}):\n{json}")
        }
    };
    let message = err.to_string();
    assert_eq!(err.exit_status().code(), 1, "{message}");
    assert!(
        [nfc, nfd]
            .iter()
            .any(|p| message.contains(p) || message.contains(&format!("{p:?}"))),
        "the message names neither spelling: {message}"
    );
}

/// File sizes are attacker-controlled: two entries whose sizes sum past `u64::MAX` must
/// make `Bundle::parse` return an error (exit 1), not panic on overflow (debug builds)
/// or wrap around to a total the seal could match (release builds). No key is needed to
/// make such a bundle, and parsing happens before any signature is checked.
#[test]
fn sizes_summing_past_u64_max_are_an_error_not_a_panic() {
    let mut huge = file("a.fastq");
    huge.size = Some(u64::MAX);
    let mut empty = file("b.fastq");
    empty.size = Some(0);
    let sealed = sign_entries(vec![huge, empty], "run", &key(), &SealOptions::default()).unwrap();
    // b.fastq's size 0 -> 1: same length, so only the sum (and the root) change.
    let mut bytes = sealed.bundle;
    let needle = b"\x64size\x00";
    let at = bytes
        .windows(needle.len())
        .rposition(|w| w == needle)
        .expect("b.fastq's size field");
    bytes[at + needle.len() - 1] = 0x01;
    let outcome = std::panic::catch_unwind(|| Bundle::parse(&bytes).map(|_| ()));
    match outcome {
        Err(_) => panic!("Bundle::parse panicked on a hostile size sum"),
        Ok(Ok(())) => panic!("Bundle::parse accepted a size sum past u64::MAX"),
        Ok(Err(e)) => assert_eq!(
            seqprov::Error::from(e.clone()).exit_status().code(),
            1,
            "{e}"
        ),
    }
}

/// Regression (issue 12 item 12): the proof parser marked a failed inclusion path with an
/// all-zero "computed root", so a seal signing the all-zero root accepted any path. A
/// validly signed seal with a zero root and a bogus inclusion path must not verify.
#[test]
fn a_zero_root_seal_does_not_accept_any_inclusion_path() {
    use seqprov::format::{cbor, cose, manifest::SEAL_CONTENT_TYPE, proof};
    let key = key();
    let sealed = sign_entries(
        vec![file("a.fastq"), file("b.fastq")],
        "run",
        &key,
        &SealOptions::default(),
    )
    .unwrap();
    let bundle = Bundle::parse(&sealed.bundle).unwrap();
    let real_proof = proof::prove(&bundle, &["a.fastq".to_string()]).unwrap();
    let (_, seal_len) = cbor::decode_first(&real_proof).unwrap();
    let mut payload = bundle.payload.clone();
    payload.root = Bytes32([0; 32]);
    let mut forged = cose::sign(payload.to_cbor(), SEAL_CONTENT_TYPE, &key).unwrap();
    forged.extend_from_slice(&real_proof[seal_len..]);
    let (parsed, items) = proof::parse(&forged).unwrap();
    assert_eq!(items.len(), 1);
    assert!(
        !parsed.root_matches(),
        "an inclusion path that leads to another root matched a zero signed root"
    );
    let policy = Policy::trusting(vec![key.public()]);
    let work = tempfile::tempdir().unwrap();
    let given = work.path().join("a.fastq");
    fs::write(&given, CONTENT).unwrap();
    let report = seqprov::verify_files(
        &[given],
        &[],
        &parsed,
        &policy,
        VerifyOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.exit_code, 1, "{:?}", report.errors);
    assert_eq!(report.root, seqprov::report::RootStatus::Mismatch);
}

/// Issue 12 item 13: proofs stop at 100,000 custody events, as bundles do (the spec
/// said they had no cap of their own; spec and code now agree on the cap).
#[test]
fn a_proof_with_more_than_100000_events_is_malformed() {
    use seqprov::format::{bundle::MAX_EVENTS, proof};
    let key = key();
    let sealed = sign_entries(vec![file("a.fastq")], "run", &key, &SealOptions::default()).unwrap();
    let bundle = Bundle::parse(&sealed.bundle).unwrap();
    let draft = seqprov::custody::EventDraft {
        kind: seqprov::custody::EventKind::Attest,
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
    let (_, event) = seqprov::custody::sign_next_event(&bundle, &key, &draft).unwrap();
    let proof_bytes = proof::prove(&bundle, &["a.fastq".to_string()]).unwrap();
    let mut at_cap = proof_bytes.clone();
    for _ in 0..MAX_EVENTS {
        at_cap.extend_from_slice(&event);
    }
    assert!(
        proof::parse(&at_cap).is_ok(),
        "{MAX_EVENTS} events are accepted"
    );
    at_cap.extend_from_slice(&event);
    let err = proof::parse(&at_cap).unwrap_err().to_string();
    assert!(err.contains("more than 100000 custody events"), "{err}");
}

/// Issue 12 item 14: an inclusion path whose index is not less than the signed entry
/// count is a root mismatch (exit 1), not a malformed proof, as spec/proof.md §3 says.
#[test]
fn a_proof_index_past_the_entry_count_is_a_root_mismatch() {
    use seqprov::format::proof;
    let key = key();
    let sealed = sign_entries(
        vec![file("a.fastq"), file("b.fastq"), file("c.fastq")],
        "run",
        &key,
        &SealOptions::default(),
    )
    .unwrap();
    let bundle = Bundle::parse(&sealed.bundle).unwrap();
    let mut bytes = proof::prove(&bundle, &["b.fastq".to_string()]).unwrap();
    // The body's one item holds `"index": 1` (text key, then the uint 1).
    let needle = [&[0x65][..], b"index", &[0x01]].concat();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the item's index");
    bytes[at + needle.len() - 1] = 0x07;
    let (parsed, items) = proof::parse(&bytes).expect("not malformed");
    assert_eq!(items[0].index, 7);
    assert!(!parsed.root_matches());
}

/// Issue 12 item 11: the signed count of symlinks leading outside the folder must match
/// the entry list, so a seal cannot hide them (or invent them).
#[test]
fn a_wrong_external_symlink_count_is_malformed() {
    use seqprov::format::{cbor, cose, manifest::SEAL_CONTENT_TYPE};
    let key = key();
    let sealed = sign_entries(
        vec![
            file("a.fastq"),
            symlink("d/in", "../a.fastq"),
            symlink("d/out", "../../x"),
            symlink("l", "/etc/passwd"),
        ],
        "run",
        &key,
        &SealOptions::default(),
    )
    .unwrap();
    let bundle = Bundle::parse(&sealed.bundle).unwrap();
    assert_eq!(bundle.payload.external_symlinks, 2);
    let (_, seal_len) = cbor::decode_first(&sealed.bundle).unwrap();
    for count in [0, 1, 3] {
        let mut payload = bundle.payload.clone();
        payload.external_symlinks = count;
        let mut forged = cose::sign(payload.to_cbor(), SEAL_CONTENT_TYPE, &key).unwrap();
        forged.extend_from_slice(&sealed.bundle[seal_len..]);
        let err = Bundle::parse(&forged).unwrap_err().to_string();
        assert!(err.contains("outside the folder"), "{count}: {err}");
    }
}
