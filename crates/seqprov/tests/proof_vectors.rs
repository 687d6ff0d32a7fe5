//! Proof test vectors in `spec/vectors/` (issue 12 item 14: spec, code and vectors agree
//! that an inclusion path whose index lies past the signed entry count is a root
//! mismatch, exit 1, not a malformed proof): proofs of the reference bundle
//! `valid.seqprov`, regenerated from it and compared byte for byte, with the outcome each
//! must reach. Set `SEQPROV_REGENERATE_VECTORS=1` to rewrite them after a deliberate
//! format change.

use std::fs;
use std::path::{Path, PathBuf};

use seqprov::format::proof;
use seqprov::{Bundle, NoProgress, PrivateKey, VerifyOptions};
use serde_json::json;

const SIGNER_SEED: [u8; 32] = [0x5e; 32];
/// The disclosed entry and its content, from `vectors.json`'s tree.
const DISCLOSED: &str = "a b/\u{fc}.txt";
const CONTENT: &str = "h\u{e9}llo\n";

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/vectors")
}

/// `bytes` with the one disclosed item's index replaced by `index` (< 24: one byte).
fn with_index(bytes: &[u8], from: u64, index: u8) -> Vec<u8> {
    let needle = [&[0x65][..], b"index", &[from as u8]].concat();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the item's index");
    let mut out = bytes.to_vec();
    out[at + needle.len() - 1] = index;
    out
}

/// (exit code, outcome) of `verify FILE --proof` for the disclosed file with `content`,
/// trusting the signer key.
fn outcome(proof_bytes: &[u8], content: &str) -> (u8, String) {
    let parsed = match proof::parse_bundle(proof_bytes) {
        Ok(p) => p,
        Err(e) => {
            return (
                seqprov::Error::from(e).exit_status().code(),
                "malformed".into(),
            );
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("\u{fc}.txt");
    fs::write(&file, content).unwrap();
    let signer = PrivateKey::from_seed(&SIGNER_SEED, None).public();
    let report = seqprov::verify_files(
        &[file],
        &[],
        &parsed,
        &seqprov::Policy::trusting(vec![signer]),
        VerifyOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let name = match (report.root, report.verdict) {
        (seqprov::report::RootStatus::Mismatch, _) => "root_mismatch",
        (_, seqprov::Verdict::Verified) => "verified",
        (_, seqprov::Verdict::IntegrityFailure) => "integrity_failure",
        (_, v) => panic!("unexpected verdict {v:?}"),
    };
    (report.exit_code, name.into())
}

#[test]
fn proof_vectors_regenerate_byte_for_byte_and_reach_their_outcomes() {
    let dir = vectors_dir();
    let valid = fs::read(dir.join("valid.seqprov")).unwrap();
    let bundle = Bundle::parse(&valid).unwrap();
    let entries = bundle.payload.entries;
    let index = bundle
        .entries
        .iter()
        .position(|e| e.path() == DISCLOSED)
        .expect("the disclosed entry") as u64;
    let good = proof::prove(&bundle, &["a b/*".to_string()]).unwrap();
    let past = with_index(&good, index, entries as u8);
    let cases = [
        (
            "proof-valid",
            &good,
            CONTENT,
            0u8,
            "verified",
            "a proof of the entry `a b/ü.txt` of valid.seqprov (`seqprov prove valid.seqprov --path 'a b/*'`); the file `ü.txt` with the tree's content verifies against it",
        ),
        (
            "proof-valid-file-modified",
            &good,
            "h\u{e9}llo!\n",
            1,
            "integrity_failure",
            "the same proof; a file `ü.txt` with other content is modified",
        ),
        (
            "proof-index-past-count",
            &past,
            CONTENT,
            1,
            "root_mismatch",
            "the same proof with the item's index set to the signed entry count (6): an index past the count is a root mismatch (proof.md §3, §4.2), not a malformed proof",
        ),
    ];
    let mut case_json = Vec::new();
    for (name, bytes, content, code, what, description) in &cases {
        assert_eq!(
            outcome(bytes, content),
            (*code, what.to_string()),
            "case {name}: {description}"
        );
        case_json.push(json!({
            "name": name,
            "description": description,
            "proof_file": if std::ptr::eq(*bytes, &good) {
                "proof-valid.seqprov-proof"
            } else {
                "proof-index-past-count.seqprov-proof"
            },
            "file_name": "\u{fc}.txt",
            "file_content_hex": hex::encode(content),
            "trusted_keys": ["signer"],
            "expected_exit_code": code,
            "expected_outcome": what,
        }));
    }
    let document = json!({
        "description": "seqprov proof format version 1 test vectors: proofs of the reference bundle valid.seqprov (vectors.json). Each case gives a proof file, one file to check against it (its name and content) and the outcome `seqprov verify FILE --proof PROOF --trust signer.pub` must reach. Regenerate with: SEQPROV_REGENERATE_VECTORS=1 cargo test -p seqprov --test proof_vectors",
        "format_version": 1,
        "bundle_file": "valid.seqprov",
        "disclosed_entry": DISCLOSED,
        "disclosed_index": index,
        "signed_entry_count": entries,
        "cases": case_json,
    });
    let text = serde_json::to_string_pretty(&document).unwrap() + "\n";
    let files: Vec<(PathBuf, Vec<u8>)> = vec![
        (dir.join("proofs.json"), text.into_bytes()),
        (dir.join("proof-valid.seqprov-proof"), good.clone()),
        (
            dir.join("proof-index-past-count.seqprov-proof"),
            past.clone(),
        ),
    ];
    if std::env::var_os("SEQPROV_REGENERATE_VECTORS").is_some() {
        for (path, bytes) in &files {
            fs::write(path, bytes).unwrap();
        }
    }
    for (path, bytes) in &files {
        let committed = fs::read(path)
            .unwrap_or_else(|e| panic!("{}: {e} (regenerate the vectors?)", path.display()));
        assert!(
            committed == *bytes,
            "{} differs from what the library produces now",
            path.display()
        );
    }
}
