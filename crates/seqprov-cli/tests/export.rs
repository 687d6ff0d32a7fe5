//! `seqprov export`, through the real binary: outputs, refusals and exit codes.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn seqprov() -> Command {
    Command::cargo_bin("seqprov").unwrap()
}

fn vector(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../spec/vectors")
        .join(name)
}

/// Standard base64 (RFC 4648 §4), enough for the test.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            n |= u32::from(*d) << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// A work directory with a key pair `k` and a sealed directory `run` (SHA-256 on).
fn sealed() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    fs::create_dir_all(root.join("run/sub")).unwrap();
    fs::write(root.join("run/sub/a.txt"), "hello\n").unwrap();
    fs::write(root.join("run/b.txt"), "").unwrap();
    seqprov()
        .current_dir(root)
        .args(["keygen", "--out", "k", "--name", "Kim Key"])
        .assert()
        .success();
    seqprov()
        .current_dir(root)
        .args(["seal", "run", "--key", "k.key", "--sha256", "--quiet"])
        .assert()
        .success();
    work
}

#[test]
fn in_toto_envelope_verifies_over_the_pae_with_the_sealers_key() {
    let work = sealed();
    let out = seqprov()
        .current_dir(work.path())
        .args([
            "export",
            "run.seqprov",
            "--format",
            "in-toto",
            "--key",
            "k.key",
            "--trust",
            "k.pub",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(out.ends_with(b"}\n"));
    assert_eq!(
        out.iter().filter(|&&b| b == b'\n').count(),
        1,
        "one JSON line"
    );
    let envelope: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    let payload = base64_decode(envelope["payload"].as_str().unwrap());
    let sig = base64_decode(envelope["signatures"][0]["sig"].as_str().unwrap());
    let key = seqprov::PublicKey::load(&work.path().join("k.pub")).unwrap();
    assert_eq!(envelope["signatures"][0]["keyid"], key.id().to_hex());
    let pae = seqprov::export::pae("application/vnd.in-toto+json", &payload);
    key.verify_strict(&pae, &sig).unwrap();

    let statement: Value = serde_json::from_slice(&payload).unwrap();
    let bundle = seqprov::read_bundle(&work.path().join("run.seqprov")).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["subject"][0]["name"], "run");
    assert_eq!(
        statement["subject"][0]["digest"]["seqprov-merkle-blake3"],
        hex_of(&bundle.payload.root.0)
    );
    assert!(statement["subject"][0]["digest"]["dirHash"].is_string());
    assert_eq!(
        statement["predicate"]["entries"].as_array().unwrap().len(),
        2
    );
    assert_eq!(statement["predicate"]["trustChecked"], true);
    assert_eq!(statement["predicate"]["filesVerified"], false);
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn fhir_provenance_of_the_vector_starts_with_its_type_and_carries_the_seal() {
    let out = seqprov()
        .args(["export", "--format", "fhir", "--no-trust-check"])
        .arg(vector("valid.seqprov"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("{\n  \"resourceType\": \"Provenance\""));
    let resource: Value = serde_json::from_str(&text).unwrap();
    let bundle = fs::read(vector("valid.seqprov")).unwrap();
    let seal = base64_decode(resource["signature"][0]["data"].as_str().unwrap());
    assert!(bundle.starts_with(&seal), "the exact seal bytes");
    assert_eq!(resource["signature"][0]["sigFormat"], "application/cose");
    assert_eq!(resource["target"].as_array().unwrap().len(), 1 + 6);
    assert_eq!(
        resource["extension"][0]["url"],
        "https://seqprov.dev/fhir/StructureDefinition/trust-checked"
    );
    assert_eq!(resource["extension"][0]["valueBoolean"], false);
}

#[test]
fn broken_or_malformed_bundles_exit_1() {
    for name in [
        "payload-edited.seqprov",
        "entry-list-edited.seqprov",
        "truncated.seqprov",
        "garbage-appended.seqprov",
    ] {
        seqprov()
            .args(["export", "--format", "fhir", "--no-trust-check"])
            .arg(vector(name))
            .assert()
            .code(1)
            .stdout("");
    }
}

#[test]
fn out_is_written_once_and_never_over_the_bundle() {
    let work = sealed();
    let run = |args: &[&str]| seqprov().current_dir(work.path()).args(args).assert();
    run(&[
        "export",
        "run.seqprov",
        "--format",
        "fhir",
        "--trust",
        "k.pub",
        "--out",
        "p.json",
    ])
    .success();
    let first = fs::read(work.path().join("p.json")).unwrap();
    serde_json::from_slice::<Value>(&first).unwrap();
    // Exists: refused without --force (exit 2), untouched.
    fs::write(work.path().join("p.json"), "keep").unwrap();
    run(&[
        "export",
        "run.seqprov",
        "--format",
        "fhir",
        "--trust",
        "k.pub",
        "--out",
        "p.json",
    ])
    .code(2);
    assert_eq!(fs::read(work.path().join("p.json")).unwrap(), b"keep");
    run(&[
        "export",
        "run.seqprov",
        "--format",
        "fhir",
        "--trust",
        "k.pub",
        "--out",
        "p.json",
        "--force",
    ])
    .success();
    assert_eq!(fs::read(work.path().join("p.json")).unwrap(), first);
    // The bundle itself is never a destination, even with --force.
    let bundle = fs::read(work.path().join("run.seqprov")).unwrap();
    run(&[
        "export",
        "run.seqprov",
        "--format",
        "fhir",
        "--trust",
        "k.pub",
        "--out",
        "run.seqprov",
        "--force",
    ])
    .code(2);
    assert_eq!(fs::read(work.path().join("run.seqprov")).unwrap(), bundle);
}

#[test]
fn usage_errors_exit_2() {
    let work = sealed();
    let run = |args: &[&str]| seqprov().current_dir(work.path()).args(args).assert();
    run(&["export", "run.seqprov", "--format", "in-toto"]).code(2);
    run(&[
        "export",
        "run.seqprov",
        "--format",
        "fhir",
        "--key",
        "k.key",
    ])
    .code(2);
    run(&["export", "run.seqprov", "--format", "spdx"]).code(2);
    run(&[
        "export",
        "missing.seqprov",
        "--format",
        "fhir",
        "--trust",
        "k.pub",
    ])
    .code(2);
    fs::set_permissions(
        work.path().join("k.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    run(&[
        "export",
        "run.seqprov",
        "--format",
        "in-toto",
        "--key",
        "k.key",
        "--trust",
        "k.pub",
    ])
    .code(2);
    run(&[
        "export",
        "run.seqprov",
        "--format",
        "in-toto",
        "--key",
        "k.key",
        "--trust",
        "k.pub",
        "--allow-insecure-key-permissions",
    ])
    .success();
}

/// Issue 12 item 10: export judges trust like verify (exit 3 for an untrusted signer),
/// verifies the files of `--dir` (exit 1 when one changed), needs trust options (exit 2
/// without), and writes nothing in any of these cases; `--no-trust-check` exports and
/// says so in the statement.
#[test]
fn export_refuses_untrusted_or_unverified_bundles() {
    let work = sealed();
    let root = work.path();
    let run = |args: &[&str]| seqprov().current_dir(root).args(args).assert();
    run(&["keygen", "--out", "other", "--name", "Olga Other"]).success();
    let in_toto = [
        "export",
        "run.seqprov",
        "--format",
        "in-toto",
        "--key",
        "k.key",
    ];
    let with = |extra: &[&'static str]| [&in_toto[..], extra, &["--out", "e.json"]].concat();
    // Sealed by a key that is not trusted: exit 3, nothing written.
    run(&with(&["--trust", "other.pub"]))
        .code(3)
        .stderr(predicates::str::contains("nothing was written"));
    assert!(!root.join("e.json").exists());
    run(&[
        "export",
        "run.seqprov",
        "--format",
        "fhir",
        "--trust",
        "other.pub",
    ])
    .code(3)
    .stdout("");
    // No trust options at all: usage error.
    run(&with(&[])).code(2);
    assert!(!root.join("e.json").exists());
    // Trusted, but a file no longer verifies: exit 1, nothing written.
    run(&with(&["--trust", "k.pub", "--dir", "run"])).success();
    let exported: Value = serde_json::from_slice(&fs::read(root.join("e.json")).unwrap()).unwrap();
    let statement: Value =
        serde_json::from_slice(&base64_decode(exported["payload"].as_str().unwrap())).unwrap();
    assert_eq!(statement["predicate"]["trustChecked"], true);
    assert_eq!(statement["predicate"]["filesVerified"], true);
    fs::remove_file(root.join("e.json")).unwrap();
    fs::write(root.join("run/sub/a.txt"), "hellO\n").unwrap();
    run(&with(&["--trust", "k.pub", "--dir", "run"]))
        .code(1)
        .stderr(predicates::str::contains("sub/a.txt"));
    assert!(!root.join("e.json").exists());
    // The explicit escape hatch exports, and the statement says trust was not checked.
    run(&with(&["--no-trust-check"])).success();
    let exported: Value = serde_json::from_slice(&fs::read(root.join("e.json")).unwrap()).unwrap();
    let statement: Value =
        serde_json::from_slice(&base64_decode(exported["payload"].as_str().unwrap())).unwrap();
    assert_eq!(statement["predicate"]["trustChecked"], false);
    assert_eq!(statement["predicate"]["filesVerified"], false);
    // --no-trust-check does not mix with trust options.
    run(&[
        "export",
        "run.seqprov",
        "--format",
        "fhir",
        "--no-trust-check",
        "--trust",
        "k.pub",
    ])
    .code(2);
}
