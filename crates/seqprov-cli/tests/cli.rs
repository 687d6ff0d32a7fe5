//! End-to-end tests through the real `seqprov` binary: every tamper scenario of the core
//! issue, the exit codes, the JSON report, keys and bundle-writing safety.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// Size of the large file: above the memory-map and parallel-hash thresholds.
const LARGE: usize = 24 << 20;

fn seqprov() -> Command {
    Command::cargo_bin("seqprov").unwrap()
}

struct Fixture {
    _work: TempDir,
    root: PathBuf,
    run: PathBuf,
    bundle: PathBuf,
}

impl Fixture {
    /// A run-like tree with a large file, small files, a symlink and an empty directory,
    /// plus a key pair `alice`, sealed into `run.seqprov`.
    fn sealed() -> Fixture {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().to_path_buf();
        let run = root.join("run");
        fs::create_dir_all(run.join("Data/Intensities/BaseCalls/L001/C1.1")).unwrap();
        fs::create_dir_all(run.join("Logs")).unwrap();
        let large: Vec<u8> = (0..LARGE)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        fs::write(
            run.join("Data/Intensities/BaseCalls/L001/C1.1/L001_1.dat"),
            large,
        )
        .unwrap();
        fs::write(run.join("Summary.xml"), "<RunInfo/>\n").unwrap();
        fs::write(run.join("SampleSheet.csv"), "[Data]\nSample_ID\nS1\n").unwrap();
        fs::write(run.join("S1_R1.fastq"), "@r1\nACGT\n+\nIIII\n").unwrap();
        std::os::unix::fs::symlink("Summary.xml", run.join("Summary.link")).unwrap();
        keygen(&root, "alice");
        let bundle = root.join("run.seqprov");
        seqprov()
            .current_dir(&root)
            .args(["seal", "run", "--key", "alice.key"])
            .assert()
            .success();
        assert!(bundle.exists());
        Fixture {
            _work: work,
            root,
            run,
            bundle,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.run.join(rel)
    }

    fn verify(&self, trust: &str) -> assert_cmd::assert::Assert {
        seqprov()
            .current_dir(&self.root)
            .args(["verify", "run", "--bundle", "run.seqprov", "--trust", trust])
            .assert()
    }

    /// Run `verify --json` and return the report and exit code.
    fn verify_json(&self, trust: &str) -> (Value, i32) {
        let out = seqprov()
            .current_dir(&self.root)
            .args([
                "verify",
                "run",
                "--bundle",
                "run.seqprov",
                "--json",
                "--trust",
                trust,
            ])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        (report, out.status.code().unwrap())
    }
}

fn keygen(dir: &Path, name: &str) {
    seqprov()
        .current_dir(dir)
        .args(["keygen", "--out", name, "--name", "Alice Analyst"])
        .assert()
        .success();
}

/// The single file finding of a report, as (path, class, from).
fn only_finding(report: &Value) -> (String, String, Option<String>) {
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "expected one finding: {report:#}");
    let f = &files[0];
    (
        f["path"].as_str().unwrap().to_string(),
        f["class"].as_str().unwrap().to_string(),
        f["from"].as_str().map(str::to_string),
    )
}

fn assert_one(fx: &Fixture, path: &str, class: &str) {
    let (report, code) = fx.verify_json("alice.pub");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["verdict"], "integrity_failure");
    let (p, c, _) = only_finding(&report);
    assert_eq!((p.as_str(), c.as_str()), (path, class), "{report:#}");
}

#[test]
fn untouched_tree_verifies_with_exit_0() {
    let fx = Fixture::sealed();
    fx.verify("alice.pub")
        .code(0)
        .stdout(predicates::str::contains("verified: 6 entries ok"));
    let (report, code) = fx.verify_json("alice.pub");
    assert_eq!(code, 0);
    assert_eq!(report["verdict"], "verified");
    assert_eq!(report["report_version"], 1);
    assert_eq!(report["summary"]["ok"], 6);
    assert_eq!(report["files"].as_array().unwrap().len(), 0);
}

#[test]
fn byte_flipped_in_middle_of_large_file_is_modified() {
    let fx = Fixture::sealed();
    let path = fx.path("Data/Intensities/BaseCalls/L001/C1.1/L001_1.dat");
    let mut data = fs::read(&path).unwrap();
    data[LARGE / 2] ^= 0x01;
    fs::write(&path, data).unwrap();
    assert_one(
        &fx,
        "Data/Intensities/BaseCalls/L001/C1.1/L001_1.dat",
        "modified",
    );
    fx.verify("alice.pub")
        .code(1)
        .stdout(predicates::str::contains(
            "MODIFIED     Data/Intensities/BaseCalls/L001/C1.1/L001_1.dat",
        ));
}

#[test]
fn byte_flipped_is_found_without_mmap_too() {
    let fx = Fixture::sealed();
    let path = fx.path("Data/Intensities/BaseCalls/L001/C1.1/L001_1.dat");
    let mut data = fs::read(&path).unwrap();
    data[LARGE / 2 + 1] ^= 0x80;
    fs::write(&path, data).unwrap();
    seqprov()
        .current_dir(&fx.root)
        .args(["verify", "run", "--no-mmap", "--trust", "alice.pub"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("MODIFIED"));
}

#[test]
fn truncated_file_is_modified_with_size_detail() {
    let fx = Fixture::sealed();
    let file = fs::OpenOptions::new()
        .write(true)
        .open(fx.path("Summary.xml"))
        .unwrap();
    file.set_len(3).unwrap();
    assert_one(&fx, "Summary.xml", "modified");
    let (report, _) = fx.verify_json("alice.pub");
    assert!(
        report["files"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("size changed from 11 to 3")
    );
}

#[test]
fn deleted_file_is_missing() {
    let fx = Fixture::sealed();
    fs::remove_file(fx.path("SampleSheet.csv")).unwrap();
    assert_one(&fx, "SampleSheet.csv", "missing");
}

#[test]
fn added_file_is_extra() {
    let fx = Fixture::sealed();
    fs::write(fx.path("Data/new.bin"), b"intruder").unwrap();
    assert_one(&fx, "Data/new.bin", "extra");
}

#[test]
fn renamed_file_is_moved_not_missing_and_extra() {
    let fx = Fixture::sealed();
    fs::rename(fx.path("S1_R1.fastq"), fx.path("S2_R1.fastq")).unwrap();
    let (report, code) = fx.verify_json("alice.pub");
    assert_eq!(code, 1);
    let (path, class, from) = only_finding(&report);
    assert_eq!(
        (path.as_str(), class.as_str(), from.as_deref()),
        ("S2_R1.fastq", "moved", Some("S1_R1.fastq"))
    );
    assert_eq!(report["summary"]["missing"], 0);
    assert_eq!(report["summary"]["extra"], 0);
    fx.verify("alice.pub")
        .code(1)
        .stdout(predicates::str::contains(
            "MOVED        S1_R1.fastq -> S2_R1.fastq",
        ));
}

#[test]
fn renamed_large_file_is_moved() {
    let fx = Fixture::sealed();
    fs::rename(
        fx.path("Data/Intensities/BaseCalls/L001/C1.1/L001_1.dat"),
        fx.path("Data/Intensities/BaseCalls/L001/C1.1/L001_2.dat"),
    )
    .unwrap();
    let (report, _) = fx.verify_json("alice.pub");
    let (path, class, from) = only_finding(&report);
    assert_eq!(class, "moved");
    assert_eq!(path, "Data/Intensities/BaseCalls/L001/C1.1/L001_2.dat");
    assert_eq!(
        from.as_deref(),
        Some("Data/Intensities/BaseCalls/L001/C1.1/L001_1.dat")
    );
}

#[test]
fn file_replaced_by_symlink_is_type_changed() {
    let fx = Fixture::sealed();
    fs::write(fx.root.join("outside.xml"), "<RunInfo/>\n").unwrap();
    fs::remove_file(fx.path("Summary.xml")).unwrap();
    std::os::unix::fs::symlink("../outside.xml", fx.path("Summary.xml")).unwrap();
    assert_one(&fx, "Summary.xml", "type_changed");
}

#[test]
fn symlink_retargeted_is_modified() {
    let fx = Fixture::sealed();
    fs::remove_file(fx.path("Summary.link")).unwrap();
    std::os::unix::fs::symlink("SampleSheet.csv", fx.path("Summary.link")).unwrap();
    assert_one(&fx, "Summary.link", "modified");
}

#[test]
fn file_created_in_directory_sealed_empty_is_extra() {
    let fx = Fixture::sealed();
    fs::write(fx.path("Logs/planted.log"), "x").unwrap();
    assert_one(&fx, "Logs/planted.log", "extra");
}

#[test]
fn directory_sealed_empty_and_removed_is_missing() {
    let fx = Fixture::sealed();
    fs::remove_dir(fx.path("Logs")).unwrap();
    assert_one(&fx, "Logs", "missing");
}

/// Byte range of the entry list: after the seal item (found with the library's decoder).
fn entry_list_offset(bundle: &[u8]) -> usize {
    seqprov::format::cbor::decode_first(bundle).unwrap().1
}

#[test]
fn edited_entry_list_is_root_mismatch_exit_1() {
    let fx = Fixture::sealed();
    let mut bytes = fs::read(&fx.bundle).unwrap();
    // Change one letter of a path inside the entry list: still well-formed CBOR.
    let start = entry_list_offset(&bytes);
    let at = start
        + bytes[start..]
            .windows(11)
            .position(|w| w == b"Summary.xml")
            .unwrap();
    bytes[at] = b'X';
    fs::write(&fx.bundle, bytes).unwrap();
    let (report, code) = fx.verify_json("alice.pub");
    assert_eq!(code, 1);
    assert_eq!(report["root"], "mismatch");
    assert_eq!(report["signature"], "valid");
    assert!(
        report["errors"][0]
            .as_str()
            .unwrap()
            .contains("Merkle root")
    );
}

#[test]
fn edited_seal_payload_is_signature_failure_exit_1() {
    let fx = Fixture::sealed();
    let mut bytes = fs::read(&fx.bundle).unwrap();
    let end = entry_list_offset(&bytes);
    let at = bytes[..end]
        .windows(13)
        .position(|w| w == b"Alice Analyst")
        .unwrap();
    bytes[at] = b'M';
    fs::write(&fx.bundle, bytes).unwrap();
    let (report, code) = fx.verify_json("alice.pub");
    assert_eq!(code, 1);
    assert_eq!(report["signature"], "invalid");
    assert_eq!(report["verdict"], "integrity_failure");
    fx.verify("alice.pub")
        .code(1)
        .stdout(predicates::str::contains("signature does not verify"));
}

#[test]
fn seal_by_another_key_is_exit_3_when_only_the_first_is_trusted() {
    let fx = Fixture::sealed();
    keygen(&fx.root, "mallory");
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run", "--key", "mallory.key", "--force"])
        .assert()
        .success();
    let (report, code) = fx.verify_json("alice.pub");
    assert_eq!(code, 3);
    assert_eq!(report["verdict"], "untrusted");
    assert_eq!(report["signature"], "valid");
    assert_eq!(report["trusted"], false);
    fx.verify("alice.pub")
        .code(3)
        .stdout(predicates::str::contains("NOT TRUSTED"));
    fx.verify("mallory.pub").code(0);
}

#[test]
fn tampered_content_outranks_untrusted_key() {
    let fx = Fixture::sealed();
    keygen(&fx.root, "mallory");
    fs::remove_file(fx.path("S1_R1.fastq")).unwrap();
    let (_, code) = fx.verify_json("mallory.pub");
    assert_eq!(code, 1);
}

#[test]
fn garbage_appended_to_bundle_is_exit_1() {
    let fx = Fixture::sealed();
    let mut bytes = fs::read(&fx.bundle).unwrap();
    bytes.extend_from_slice(b"\x00\x01garbage");
    fs::write(&fx.bundle, bytes).unwrap();
    let (report, code) = fx.verify_json("alice.pub");
    assert_eq!(code, 1);
    assert!(
        report["errors"][0].as_str().unwrap().contains("garbage"),
        "{report:#}"
    );
    fx.verify("alice.pub")
        .code(1)
        .stderr(predicates::str::contains("malformed bundle"));
}

#[test]
fn truncated_bundle_is_exit_1() {
    let fx = Fixture::sealed();
    let bytes = fs::read(&fx.bundle).unwrap();
    for cut in [bytes.len() - 1, bytes.len() / 2, 10] {
        fs::write(&fx.bundle, &bytes[..cut]).unwrap();
        let (report, code) = fx.verify_json("alice.pub");
        assert_eq!(code, 1, "cut at {cut}: {report:#}");
        assert!(
            report["errors"][0].as_str().unwrap().contains("truncated"),
            "{report:#}"
        );
    }
}

#[test]
fn empty_bundle_is_exit_1() {
    let fx = Fixture::sealed();
    fs::write(&fx.bundle, b"").unwrap();
    fx.verify("alice.pub").code(1);
}

#[test]
fn missing_bundle_is_exit_2() {
    let fx = Fixture::sealed();
    fs::remove_file(&fx.bundle).unwrap();
    fx.verify("alice.pub")
        .code(2)
        .stderr(predicates::str::contains("run.seqprov"));
    let (report, code) = fx.verify_json("alice.pub");
    assert_eq!(code, 2);
    assert_eq!(report["verdict"], "error");
}

#[test]
fn usage_errors_are_exit_2() {
    seqprov().args(["verify"]).assert().code(2);
    seqprov().args(["seal", "--bogus"]).assert().code(2);
    seqprov().args(["frobnicate"]).assert().code(2);
}

#[test]
fn show_prints_what_the_bundle_says() {
    let fx = Fixture::sealed();
    seqprov()
        .current_dir(&fx.root)
        .args(["show", "run.seqprov"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("Alice Analyst"))
        .stdout(predicates::str::contains("6 entries, 4 files"));
    let out = seqprov()
        .current_dir(&fx.root)
        .args(["show", "run.seqprov", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seal"]["signer"], "Alice Analyst");
    assert_eq!(v["seal"]["files"], 4);
    assert_eq!(v["seal"]["bytes"], (LARGE + 11 + 20 + 16) as u64);
    assert_eq!(v["seal"]["digests"], serde_json::json!(["blake3"]));
    assert_eq!(v["seal"]["root"].as_str().unwrap().len(), 64);
    assert_eq!(v["seal"]["key_id"].as_str().unwrap().len(), 64);
    assert_eq!(v["signature"], "valid");
}

#[test]
fn sha256_seal_records_and_checks_both_digests() {
    let fx = Fixture::sealed();
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run", "--key", "alice.key", "--sha256", "--force"])
        .assert()
        .success();
    let out = seqprov()
        .current_dir(&fx.root)
        .args(["show", "run.seqprov", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["seal"]["digests"],
        serde_json::json!(["blake3", "sha256"])
    );
    fx.verify("alice.pub").code(0);
    fs::write(fx.path("Summary.xml"), "<RunInfX/>\n").unwrap();
    assert_one(&fx, "Summary.xml", "modified");
}

#[test]
fn seal_refuses_to_overwrite_without_force() {
    let fx = Fixture::sealed();
    let before = fs::read(&fx.bundle).unwrap();
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run", "--key", "alice.key"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--force"));
    assert_eq!(fs::read(&fx.bundle).unwrap(), before);
}

/// `SEQPROV_TIMINGS` adds one line naming every phase; without it there is no such line.
#[test]
fn timings_line_names_each_phase_only_when_asked() {
    let fx = Fixture::sealed();
    let out = seqprov()
        .current_dir(&fx.root)
        .env("SEQPROV_TIMINGS", "1")
        .args(["seal", "run", "--key", "alice.key", "--force", "--quiet"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("seqprov: timings: "))
        .unwrap_or_else(|| panic!("no timings line in {stderr:?}"));
    for phase in [
        "walk ", "checks ", "hash ", "entries ", "encode ", "merkle ", "sign ", "write ", "total ",
    ] {
        assert!(line.contains(phase), "{phase:?} missing from {line:?}");
    }
    let out = seqprov()
        .current_dir(&fx.root)
        .env("SEQPROV_TIMINGS", "1")
        .args(["verify", "run", "--trust", "alice.pub", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("seqprov: timings: walk "), "{stderr:?}");
    assert!(stderr.contains(" compare "), "{stderr:?}");
    let out = seqprov()
        .current_dir(&fx.root)
        .env_remove("SEQPROV_TIMINGS")
        .args(["seal", "run", "--key", "alice.key", "--force", "--quiet"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("timings"));
}

#[test]
fn seal_never_writes_inside_the_directory() {
    let fx = Fixture::sealed();
    seqprov()
        .current_dir(&fx.root)
        .args([
            "seal",
            "run",
            "--key",
            "alice.key",
            "--out",
            "run/Logs/x.seqprov",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("inside the sealed directory"));
    assert!(!fx.path("Logs/x.seqprov").exists());
    // Default path with a trailing slash lands beside the directory.
    fs::remove_file(&fx.bundle).unwrap();
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run/", "--key", "alice.key"])
        .assert()
        .success();
    assert!(fx.bundle.exists());
    let names: Vec<_> = fs::read_dir(&fx.run)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.to_string_lossy().contains("seqprov")),
        "{names:?}"
    );
}

/// Issue 12 item 9: `--out` in a directory that is a symlink into the sealed folder is
/// refused (the directory is opened once and judged by its handle, not its path).
#[test]
fn seal_out_into_a_symlink_into_the_folder_is_refused() {
    let fx = Fixture::sealed();
    std::os::unix::fs::symlink("run/Logs", fx.root.join("outdir")).unwrap();
    let before: Vec<_> = fs::read_dir(fx.path("Logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    seqprov()
        .current_dir(&fx.root)
        .args([
            "seal",
            "run",
            "--key",
            "alice.key",
            "--out",
            "outdir/x.seqprov",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("inside the sealed directory"));
    let after: Vec<_> = fs::read_dir(fx.path("Logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "nothing written inside the folder");
}

#[test]
fn seal_is_quiet_on_stderr_when_not_a_terminal() {
    let fx = Fixture::sealed();
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run", "--key", "alice.key", "--force"])
        .assert()
        .success()
        .stderr("");
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run", "--key", "alice.key", "--force", "--quiet"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
}

#[test]
fn seal_refuses_special_files_and_writes_nothing() {
    let fx = Fixture::sealed();
    fs::remove_file(&fx.bundle).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(fx.path("pipe"))
        .status()
        .unwrap();
    assert!(made.success());
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run", "--key", "alice.key"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("fifo"));
    assert!(!fx.bundle.exists());
}

#[test]
fn file_changing_while_sealed_gives_error_and_no_bundle() {
    let fx = Fixture::sealed();
    fs::remove_file(&fx.bundle).unwrap();
    let target = fx.path("Data/Intensities/BaseCalls/L001/C1.1/L001_1.dat");
    // The writer appends one byte at a time, so the size grows with every write: a write
    // anywhere between the walk's stat and the check after hashing is always visible
    // (same-size rewrites within one tick of the kernel's coarse clock are not, which is
    // why times alone would make this test flaky on a loaded machine).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let writer = {
        let stop = stop.clone();
        let writes = writes.clone();
        let target = target.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut file = fs::OpenOptions::new().append(true).open(&target).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                file.write_all(b"x").unwrap();
                writes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        })
    };
    while writes.load(std::sync::atomic::Ordering::Relaxed) < 100 {
        std::thread::yield_now();
    }
    // On a loaded machine the writer may not be scheduled at all while the few
    // milliseconds of hashing run; then the file really did not change during the seal,
    // and exit 0 is right. Retry until the writer did run across a seal (a seal that
    // succeeds while the file changes under it would fail on every attempt).
    let mut out = None;
    for _attempt in 0..10 {
        let attempt = seqprov()
            .current_dir(&fx.root)
            .args(["seal", "run", "--key", "alice.key"])
            .output()
            .unwrap();
        if attempt.status.code() != Some(0) {
            out = Some(attempt);
            break;
        }
        fs::remove_file(&fx.bundle).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    let out = out.expect("ten seals of a file being appended to all succeeded");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("changed while it was being read"));
    assert!(!fx.bundle.exists());
    let leftovers: Vec<_> = fs::read_dir(&fx.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("seqprov"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn keygen_writes_0600_key_and_refuses_to_overwrite() {
    let work = tempfile::tempdir().unwrap();
    keygen(work.path(), "k");
    let key = work.path().join("k.key");
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let before = fs::read(&key).unwrap();
    seqprov()
        .current_dir(work.path())
        .args(["keygen", "--out", "k"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("already exists"));
    assert_eq!(fs::read(&key).unwrap(), before);
}

#[test]
fn group_readable_key_is_refused_for_sealing() {
    let fx = Fixture::sealed();
    fs::set_permissions(fx.root.join("alice.key"), fs::Permissions::from_mode(0o644)).unwrap();
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run", "--key", "alice.key", "--force"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("chmod 600"));
    seqprov()
        .current_dir(&fx.root)
        .args([
            "seal",
            "run",
            "--key",
            "alice.key",
            "--force",
            "--allow-insecure-key-permissions",
        ])
        .assert()
        .success()
        .stderr(predicates::str::contains("warning"));
}

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl must be installed for the interoperability tests (.ci/run installs it)")
}

#[test]
fn openssl_keys_work_for_seal_and_verify() {
    let fx = Fixture::sealed();
    let generated = openssl(
        &fx.root,
        &["genpkey", "-algorithm", "ed25519", "-out", "ossl.key"],
    );
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    fs::set_permissions(fx.root.join("ossl.key"), fs::Permissions::from_mode(0o600)).unwrap();
    let public = openssl(
        &fx.root,
        &["pkey", "-in", "ossl.key", "-pubout", "-out", "ossl.pub"],
    );
    assert!(public.status.success());
    seqprov()
        .current_dir(&fx.root)
        .args([
            "seal",
            "run",
            "--key",
            "ossl.key",
            "--force",
            "--signer",
            "OpenSSL User",
        ])
        .assert()
        .success();
    fx.verify("ossl.pub").code(0);
    fx.verify("alice.pub").code(3);
}

#[test]
fn our_keys_load_in_openssl_and_match() {
    let fx = Fixture::sealed();
    let text = openssl(&fx.root, &["pkey", "-in", "alice.key", "-noout", "-text"]);
    assert!(
        text.status.success(),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    assert!(String::from_utf8_lossy(&text.stdout).contains("ED25519"));
    let derived = openssl(&fx.root, &["pkey", "-in", "alice.key", "-pubout"]);
    let ours = openssl(&fx.root, &["pkey", "-pubin", "-in", "alice.pub"]);
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    assert_eq!(derived.stdout, ours.stdout);
}

/// Regression: a directory emptied by removing its sealed files was also reported extra.
#[test]
fn emptied_directory_is_not_reported_extra() {
    let fx = Fixture::sealed();
    fs::remove_file(fx.path("Data/Intensities/BaseCalls/L001/C1.1/L001_1.dat")).unwrap();
    assert_one(
        &fx,
        "Data/Intensities/BaseCalls/L001/C1.1/L001_1.dat",
        "missing",
    );
}

#[test]
fn symlink_with_non_utf8_target_is_refused_at_seal() {
    use std::os::unix::ffi::OsStrExt;
    let fx = Fixture::sealed();
    let target = std::ffi::OsStr::from_bytes(b"bad\xfftarget");
    std::os::unix::fs::symlink(target, fx.path("odd.link")).unwrap();
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run", "--key", "alice.key", "--force"])
        .assert()
        .code(2)
        // The library escapes the byte as `\xff`; the terminal line doubles that backslash
        // so that it cannot be confused with an escape of a control character.
        .stderr(predicates::str::contains("bad\\\\xfftarget"));
}

#[test]
fn non_utf8_file_name_is_refused_at_seal_and_extra_at_verify() {
    use std::os::unix::ffi::OsStrExt;
    let fx = Fixture::sealed();
    let name = std::ffi::OsStr::from_bytes(b"sample\xfe.fastq");
    fs::write(fx.run.join(name), b"x").unwrap();
    let (report, code) = fx.verify_json("alice.pub");
    assert_eq!(code, 1);
    assert_eq!(report["files"][0]["class"], "extra");
    assert_eq!(report["files"][0]["path"], "sample\\xfe.fastq");
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run", "--key", "alice.key", "--force"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not valid UTF-8"));
}

#[test]
fn names_equal_after_unicode_normalisation_are_refused_at_seal() {
    let fx = Fixture::sealed();
    fs::write(fx.path("caf\u{e9}.fastq"), "a").unwrap();
    fs::write(fx.path("cafe\u{301}.fastq"), "b").unwrap();
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run", "--key", "alice.key", "--force"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("Unicode normalisation"));
}

#[test]
fn encrypted_keys_work_with_a_passphrase_and_in_openssl() {
    let fx = Fixture::sealed();
    seqprov()
        .current_dir(&fx.root)
        .env("SEQPROV_PASSPHRASE", "correct horse battery")
        .args([
            "keygen",
            "--out",
            "enc",
            "--encrypt",
            "--name",
            "Enc Rypted",
        ])
        .assert()
        .success();
    let text = fs::read_to_string(fx.root.join("enc.key")).unwrap();
    assert!(
        text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{text}"
    );
    // OpenSSL opens it with the same passphrase, and derives the same public key.
    let ours = openssl(
        &fx.root,
        &[
            "pkey",
            "-in",
            "enc.key",
            "-passin",
            "pass:correct horse battery",
            "-pubout",
        ],
    );
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let public = openssl(&fx.root, &["pkey", "-pubin", "-in", "enc.pub"]);
    assert_eq!(ours.stdout, public.stdout);
    let seal = |pass: Option<&str>| {
        let mut cmd = seqprov();
        cmd.current_dir(&fx.root)
            .args(["seal", "run", "--key", "enc.key", "--force"]);
        cmd.env_remove("SEQPROV_PASSPHRASE");
        if let Some(p) = pass {
            cmd.env("SEQPROV_PASSPHRASE", p);
        }
        cmd.assert()
    };
    seal(Some("correct horse battery")).success();
    fx.verify("enc.pub").code(0);
    seal(Some("wrong horse battery"))
        .code(2)
        .stderr(predicates::str::contains("wrong passphrase"));
    seal(None)
        .code(2)
        .stderr(predicates::str::contains("SEQPROV_PASSPHRASE"));
    // A key OpenSSL encrypted works too.
    let made = openssl(
        &fx.root,
        &[
            "genpkey",
            "-algorithm",
            "ed25519",
            "-aes-256-cbc",
            "-pass",
            "pass:openssl pass",
            "-out",
            "ossl-enc.key",
        ],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    fs::set_permissions(
        fx.root.join("ossl-enc.key"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    seqprov()
        .current_dir(&fx.root)
        .env("SEQPROV_PASSPHRASE", "openssl pass")
        .args(["seal", "run", "--key", "ossl-enc.key", "--force"])
        .assert()
        .success();
    // Too short a passphrase for a new key is refused.
    seqprov()
        .current_dir(&fx.root)
        .env("SEQPROV_PASSPHRASE", "short")
        .args(["keygen", "--out", "weak", "--encrypt"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("at least 8"));
    assert!(!fx.root.join("weak.key").exists());
}

/// The progress bar appears on a terminal (a pseudo-terminal made by `script`), and not
/// with --quiet.
#[test]
fn progress_bar_shows_on_a_terminal_only() {
    let fx = Fixture::sealed();
    let bin = assert_cmd::cargo::cargo_bin("seqprov");
    let on_terminal = |args: &str| {
        let out = std::process::Command::new("script")
            .current_dir(&fx.root)
            .args(["-qec", &format!("{} {args}", bin.display()), "/dev/null"])
            .output()
            .expect("`script` (util-linux) runs a command on a pseudo-terminal");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let seal = on_terminal("seal run --key alice.key --force");
    assert!(seal.contains("sealing ["), "{seal}");
    assert!(seal.contains("MiB"), "{seal}");
    let verify = on_terminal("verify run --trust alice.pub");
    assert!(verify.contains("verifying ["), "{verify}");
    let quiet = on_terminal("seal run --key alice.key --force --quiet");
    assert!(!quiet.contains("sealing ["), "{quiet}");
}

/// Rewrap the PEM body of a key file at `width` columns (`0`: one line), CRLF ends.
fn rewrap_pem(text: &str, width: usize) -> String {
    let begin = text.find("-----BEGIN").unwrap();
    let (preamble, block) = text.split_at(begin);
    let lines: Vec<&str> = block.lines().collect();
    let (first, rest) = lines.split_first().unwrap();
    let (last, body) = rest.split_last().unwrap();
    let body: String = body.concat();
    let width = if width == 0 { body.len() } else { width };
    let mut out = preamble.replace('\n', "\r\n");
    out.push_str(first);
    out.push_str("\r\n");
    for chunk in body.as_bytes().chunks(width) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push_str("\r\n");
    }
    out.push_str(last);
    out.push_str("\r\n");
    out
}

/// Regression (issue 12 item 18): a valid key wrapped at other than 64 columns was
/// refused with "PEM preamble contains invalid data (NUL byte)", and `--key k.pub` talked
/// about permissions instead of saying it is a public key.
#[test]
fn keys_wrapped_at_other_widths_load_and_a_public_key_is_named_as_such() {
    let fx = Fixture::sealed();
    for (width, name) in [(76usize, "wide"), (0, "oneline")] {
        keygen(&fx.root, name);
        for suffix in ["key", "pub"] {
            let path = fx.root.join(format!("{name}.{suffix}"));
            let text = fs::read_to_string(&path).unwrap();
            let rewrapped = rewrap_pem(&text, width);
            assert_ne!(rewrapped, text);
            fs::write(&path, rewrapped).unwrap();
        }
        seqprov()
            .current_dir(&fx.root)
            .args(["seal", "run", "--key", &format!("{name}.key"), "--force"])
            .assert()
            .success();
        fx.verify(&format!("{name}.pub")).code(0);
    }
    let out = seqprov()
        .current_dir(&fx.root)
        .args(["seal", "run", "--key", "wide.pub", "--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("this is a public key"), "{stderr}");
    assert!(!stderr.contains("chmod"), "{stderr}");
    fx.verify("wide.key")
        .code(2)
        .stderr(predicates::str::contains("not a PEM public key"));
}

/// The bundled example run folder (the README's quick start) seals without
/// `--allow-broken` and verifies: a change to the checks (issue 12 item 23 refused its
/// impossible BCL qualities) must not leave the quick start broken.
#[test]
fn the_bundled_example_run_folder_seals_and_verifies() {
    let work = tempfile::tempdir().unwrap();
    let run = work.path().join("261125_EXAMPLE_0001_AEXAMPLEXX");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/run-folder");
    let status = std::process::Command::new("cp")
        .arg("-R")
        .arg(&example)
        .arg(&run)
        .status()
        .unwrap();
    assert!(status.success());
    keygen(work.path(), "core");
    seqprov()
        .current_dir(work.path())
        .args([
            "seal",
            "261125_EXAMPLE_0001_AEXAMPLEXX",
            "--key",
            "core.key",
            "--sha256",
            // Its completion marker is there: waiting ends at once. (Its RunInfo.xml said
            // version 5, which made the run a CBCL one waiting for CopyComplete.txt
            // forever, under `seal --wait` and `watch`, while its files are per-tile BCL.)
            "--wait",
            "--wait-timeout",
            "30s",
        ])
        .assert()
        .success();
    seqprov()
        .current_dir(work.path())
        .args([
            "verify",
            "261125_EXAMPLE_0001_AEXAMPLEXX",
            "--trust",
            "core.pub",
        ])
        .assert()
        .code(0);
}
