//! Test vectors in `spec/vectors/`: regenerated from fixed inputs and compared byte for
//! byte. Set `SEQPROV_REGENERATE_VECTORS=1` to rewrite them after a deliberate format
//! change (and say so in the spec's changelog).

use std::fs;
use std::path::{Path, PathBuf};

use seqprov::format::manifest::Entry;
use seqprov::{Bundle, HashOptions, NoProgress, PrivateKey, SealOptions, VerifyOptions};
use serde_json::{Value, json};

const SIGNER_SEED: [u8; 32] = [0x5e; 32];
const OTHER_SEED: [u8; 32] = [0x07; 32];
const SALT_SEED: [u8; 32] = [0xa5; 32];
const TIME: &str = "2026-01-02T03:04:05Z";
const SUBJECT: &str = "vector-run";
const RUN_INFO: &str = "<?xml version=\"1.0\"?>\n<RunInfo Version=\"6\">\n  <Run Id=\"260102_M00001_0001_000000000-VECTR\" Number=\"1\">\n    <Flowcell>000000000-VECTR</Flowcell>\n    <Instrument>M00001</Instrument>\n    <Date>260102</Date>\n    <Reads>\n      <Read Number=\"1\" NumCycles=\"1\" IsIndexedRead=\"N\" />\n    </Reads>\n  </Run>\n</RunInfo>\n";

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/vectors")
}

fn tree() -> Value {
    let cbcl: Vec<u8> = (0..1024u32).map(|i| (i * 7 % 256) as u8).collect();
    json!([
        {"path": "RunInfo.xml", "kind": "file", "content_hex": hex::encode(RUN_INFO)},
        {"path": "Data/Intensities/BaseCalls/L001/C1.1/L001_1.cbcl", "kind": "file", "content_hex": hex::encode(&cbcl)},
        {"path": "a b/\u{fc}.txt", "kind": "file", "content_hex": hex::encode("h\u{e9}llo\n")},
        {"path": "empty.fastq", "kind": "file", "content_hex": ""},
        {"path": "Logs", "kind": "dir"},
        {"path": "RunInfo.link", "kind": "symlink", "target": "RunInfo.xml"},
    ])
}

fn materialise(tree: &Value, root: &Path) {
    fs::create_dir_all(root).unwrap();
    for node in tree.as_array().unwrap() {
        let path = root.join(node["path"].as_str().unwrap());
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        match node["kind"].as_str().unwrap() {
            "file" => fs::write(
                &path,
                hex::decode(node["content_hex"].as_str().unwrap()).unwrap(),
            )
            .unwrap(),
            "dir" => fs::create_dir_all(&path).unwrap(),
            "symlink" => {
                std::os::unix::fs::symlink(node["target"].as_str().unwrap(), &path).unwrap()
            }
            other => panic!("kind {other}"),
        }
    }
}

fn options() -> SealOptions {
    SealOptions {
        signer_name: Some("Vector Signer".into()),
        role: "sequencing-core".into(),
        meaning: "authorship".into(),
        hash: HashOptions {
            sha256: true,
            ..Default::default()
        },
        time: Some(
            time::OffsetDateTime::parse(TIME, &time::format_description::well_known::Rfc3339)
                .unwrap(),
        ),
        derived_from: None,
        salt_seed: Some(SALT_SEED),
        // The vector's CBCL bytes are not a real CBCL: no format checks.
        inspect: seqprov::inspect::InspectOptions::default(),
        ..SealOptions::default()
    }
}

/// Byte offset of the entry list (just after the seal item).
fn seal_len(bundle: &[u8]) -> usize {
    seqprov::format::cbor::decode_first(bundle).unwrap().1
}

struct Case {
    name: &'static str,
    description: &'static str,
    bytes: Vec<u8>,
    trust_other: bool,
    exit_code: u8,
    outcome: &'static str,
}

fn cases(valid: &[u8], other_signed: &[u8], dotdot: &[u8]) -> Vec<Case> {
    let split = seal_len(valid);
    let mut payload_edit = valid.to_vec();
    // The subject name is in the signed payload: change one of its letters.
    let at = payload_edit[..split]
        .windows(SUBJECT.len())
        .position(|w| w == SUBJECT.as_bytes())
        .unwrap();
    payload_edit[at] = b'W';
    let mut entry_edit = valid.to_vec();
    // Flip one bit of the last byte of the last entry (the SHA-256 digest of `empty.fastq`).
    let last = entry_edit.len() - 1;
    entry_edit[last] ^= 0x01;
    let mut non_canonical = valid[..split].to_vec();
    // The entry list's head 0x86 (array of 6) rewritten as 0x98 0x06 (same length, long form).
    assert_eq!(valid[split], 0x86);
    non_canonical.extend_from_slice(&[0x98, 0x06]);
    non_canonical.extend_from_slice(&valid[split + 1..]);
    let mut garbage = valid.to_vec();
    garbage.extend_from_slice(b"garbage\n");
    vec![
        Case {
            name: "valid",
            description: "the bundle as sealed",
            bytes: valid.to_vec(),
            trust_other: false,
            exit_code: 0,
            outcome: "verified",
        },
        Case {
            name: "untrusted-signer",
            description: "the same tree sealed by another key; only the first key is trusted",
            bytes: other_signed.to_vec(),
            trust_other: false,
            exit_code: 3,
            outcome: "untrusted",
        },
        Case {
            name: "other-key-trusted",
            description: "the same tree sealed by another key, which is trusted",
            bytes: other_signed.to_vec(),
            trust_other: true,
            exit_code: 0,
            outcome: "verified",
        },
        Case {
            name: "payload-edited",
            description: "one byte of the subject name in the signed payload changed",
            bytes: payload_edit,
            trust_other: false,
            exit_code: 1,
            outcome: "bad_signature",
        },
        Case {
            name: "entry-list-edited",
            description: "one bit of the last entry (the SHA-256 digest of empty.fastq) flipped",
            bytes: entry_edit,
            trust_other: false,
            exit_code: 1,
            outcome: "root_mismatch",
        },
        Case {
            name: "truncated",
            description: "the last 10 bytes removed",
            bytes: valid[..valid.len() - 10].to_vec(),
            trust_other: false,
            exit_code: 1,
            outcome: "malformed",
        },
        Case {
            name: "garbage-appended",
            description: "the bytes `garbage\\n` appended",
            bytes: garbage,
            trust_other: false,
            exit_code: 1,
            outcome: "malformed",
        },
        Case {
            name: "non-canonical-entry-list",
            description: "entry list head written in a longer form than necessary",
            bytes: non_canonical,
            trust_other: false,
            exit_code: 1,
            outcome: "malformed",
        },
        Case {
            name: "dotdot-path-signed",
            description: "a file entry with path `../escape` signed by the trusted key",
            bytes: dotdot.to_vec(),
            trust_other: false,
            exit_code: 1,
            outcome: "malformed",
        },
    ]
}

/// What the library concludes for a bundle, as (exit code, outcome name).
fn outcome(bytes: &[u8], tree: &Path, trusted: &[seqprov::PublicKey]) -> (u8, String) {
    let bundle = match Bundle::parse(bytes) {
        Ok(b) => b,
        Err(e) => {
            return (
                seqprov::Error::from(e).exit_status().code(),
                "malformed".into(),
            );
        }
    };
    let report = seqprov::verify_directory(
        tree,
        &bundle,
        &seqprov::Policy::trusting(trusted.to_vec()),
        VerifyOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let name = match (report.signature, report.root, report.verdict) {
        (seqprov::report::SignatureStatus::Invalid, _, _) => "bad_signature",
        (_, seqprov::report::RootStatus::Mismatch, _) => "root_mismatch",
        (_, _, v) => match v {
            seqprov::Verdict::Verified => "verified",
            seqprov::Verdict::RangeVerified => "range_verified",
            seqprov::Verdict::Untrusted => "untrusted",
            seqprov::Verdict::PolicyNotSatisfied => "policy_not_satisfied",
            seqprov::Verdict::IntegrityFailure => "integrity_failure",
            seqprov::Verdict::Error => "error",
        },
    };
    (report.exit_code, name.into())
}

#[test]
fn vectors_regenerate_byte_for_byte() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join(SUBJECT);
    let tree = tree();
    materialise(&tree, &root);
    let signer = PrivateKey::from_seed(&SIGNER_SEED, None);
    let other = PrivateKey::from_seed(&OTHER_SEED, None);
    let sealed = seqprov::seal_directory(&root, &signer, &options(), &NoProgress).unwrap();
    let other_sealed = seqprov::seal_directory(&root, &other, &options(), &NoProgress).unwrap();
    let mut hostile: Vec<Entry> = sealed.entries.clone();
    hostile[0].path = "../escape".into();
    let dotdot = seqprov::seal::sign_entries(hostile, SUBJECT, &signer, &options()).unwrap();

    let split = seal_len(&sealed.bundle);
    let seal_msg = seqprov::format::cose::parse(&sealed.bundle[..split]).unwrap();
    let entries: Vec<Value> = sealed
        .entries
        .iter()
        .map(|e| {
            let cbor = e.to_cbor();
            json!({
                "path": e.path,
                "cbor_hex": hex::encode(&cbor),
                "leaf_hash_hex": hex::encode(seqprov::format::merkle::leaf_hash(&cbor)),
            })
        })
        .collect();
    let cases = cases(&sealed.bundle, &other_sealed.bundle, &dotdot.bundle);
    let trusted_first = [signer.public()];
    let trusted_both = [signer.public(), other.public()];
    let mut case_json = Vec::new();
    for case in &cases {
        let trust = if case.trust_other {
            &trusted_both[..]
        } else {
            &trusted_first[..]
        };
        let (code, name) = outcome(&case.bytes, &root, trust);
        assert_eq!(
            (code, name.as_str()),
            (case.exit_code, case.outcome),
            "case {}",
            case.name
        );
        case_json.push(json!({
            "name": case.name,
            "description": case.description,
            "bundle_file": format!("{}.seqprov", case.name),
            "trusted_keys": if case.trust_other { json!(["signer", "other"]) } else { json!(["signer"]) },
            "expected_exit_code": case.exit_code,
            "expected_outcome": case.outcome,
        }));
    }
    let document = json!({
        "description": "seqprov bundle format version 1 test vectors. Materialise `tree` in a directory named `subject_name`, seal it with the signer key (Ed25519 seed below), `time` and `salt_seed_hex`, and the bundle must equal valid.seqprov byte for byte. Each case states the outcome a verifier must reach for its bundle against that tree. Regenerate with: SEQPROV_REGENERATE_VECTORS=1 cargo test -p seqprov --test vectors",
        "format_version": 1,
        "signer": {
            "ed25519_seed_hex": hex::encode(SIGNER_SEED),
            "public_key_hex": hex::encode(signer.public().to_bytes()),
            "key_id_hex": signer.public().id().to_hex(),
            "spki_pem": signer.public().to_pem(),
        },
        "other": {
            "ed25519_seed_hex": hex::encode(OTHER_SEED),
            "public_key_hex": hex::encode(other.public().to_bytes()),
            "key_id_hex": other.public().id().to_hex(),
        },
        "seal_options": {
            "signer_name": "Vector Signer",
            "role": "sequencing-core",
            "meaning": "authorship",
            "sha256": true,
            "time": TIME,
            "format_checks": false,
            "salt_seed_hex": hex::encode(SALT_SEED),
            "salt_rule": "salt = BLAKE3 keyed hash (key = salt seed) of the entry path's UTF-8 bytes",
        },
        "subject_name": SUBJECT,
        "tree": tree,
        "expected": {
            "seal_payload_hex": hex::encode(seal_msg.payload()),
            "seal_cose_sign1_hex": hex::encode(&sealed.bundle[..split]),
            "entries": entries,
            "root_hex": hex::encode(sealed.payload.root.0),
            "bundle_file": "valid.seqprov",
            "bundle_blake3_hex": blake3::hash(&sealed.bundle).to_hex().to_string(),
        },
        "cases": case_json,
    });
    let text = serde_json::to_string_pretty(&document).unwrap() + "\n";

    let dir = vectors_dir();
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![(dir.join("vectors.json"), text.into_bytes())];
    for case in &cases {
        files.push((
            dir.join(format!("{}.seqprov", case.name)),
            case.bytes.clone(),
        ));
    }
    if std::env::var_os("SEQPROV_REGENERATE_VECTORS").is_some() {
        fs::create_dir_all(&dir).unwrap();
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
