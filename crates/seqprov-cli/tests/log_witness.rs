//! `seqprov log witness` through the real binary (spec/log.md §6): it prints its vkey,
//! cosigns a log's checkpoint over loopback HTTP (the cosignature verifies with that
//! vkey), refuses a checkpoint signed by another key (403) and a stale old size (409),
//! keeps its state across a restart, refuses a bad --log-key (exit 2, one line), and
//! exits 0 on SIGTERM. In pull mode (`--log URL_OR_DIR`) it cosigns a log it reads
//! itself and refuses a fork (1), a rollback (1) and a forged log (3). And `log serve
//! --witness` publishes checkpoints carrying that witness's cosignature.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::Output;
use std::process::{Child, Command as Process, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use seqprov::{PermissionCheck, PrivateKey};
use seqprov_log::checkpoint;
use seqprov_log::log_dir::LogDir;
use seqprov_log::note_keys::{LogSigner, LogVerifier, WitnessVerifier};

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("seqprov")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running `seqprov log witness`, killed when dropped.
struct Witness {
    child: Child,
    vkey: String,
    url: String,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_witness(dir: &Path, log_vkey: &str) -> Witness {
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("seqprov"))
        .current_dir(dir)
        .args([
            "log",
            "witness",
            "--key",
            "wkey.key",
            "--name",
            "witness.example/w1",
            "--log-key",
            log_vkey,
            "--state",
            "state",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let vkey = lines.next().unwrap().unwrap();
    let listening = lines.next().unwrap().unwrap();
    let addr = listening.strip_prefix("listening on ").unwrap().to_string();
    Witness {
        child,
        vkey,
        url: format!("http://{addr}"),
    }
}

fn post(url: &str, body: &[u8]) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!("{url}/add-checkpoint"))
        .send(body)
        .unwrap();
    let content_type = response
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (
        response.status().as_u16(),
        content_type,
        response.body_mut().read_to_string().unwrap(),
    )
}

fn body(old: u64, proof: &[[u8; 32]], note: &[u8]) -> Vec<u8> {
    seqprov_log_server::witness_push::request_body(old, proof, note)
}

#[test]
fn log_witness_cosigns_refuses_and_stops() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let log_vkey = keygen_and_init(dir);
    // The log grows to 3, then 5 entries (signed with its key, through the library).
    let signer = log_signer(dir, "logkey.key");
    let mut log_dir = LogDir::open(&dir.join("log")).unwrap();
    let mut publish = |size: u64, root: &[u8; 32]| Ok(checkpoint::sign(&signer, size, root));
    let entries = |range: std::ops::Range<u32>| -> Vec<Vec<u8>> {
        range.map(|i| format!("entry {i}").into_bytes()).collect()
    };
    log_dir.append(&entries(0..3), &mut publish).unwrap();
    let note3 = log_dir.checkpoint().to_vec();
    log_dir.append(&entries(3..5), &mut publish).unwrap();
    let note5 = log_dir.checkpoint().to_vec();
    let proof = log_dir.consistency_proof(3).unwrap();
    drop(log_dir);
    // The same origin signed by another key: a forgery.
    let forger = log_signer(dir, "otherkey.key");
    let forged = checkpoint::sign(&forger, 3, &[7u8; 32]);

    let mut witness = start_witness(dir, &log_vkey);
    let witness_key = WitnessVerifier::from_vkey(&witness.vkey).expect("a witness vkey");
    assert_eq!(witness_key.name, "witness.example/w1");
    let (status, _, text) = post(&witness.url, &body(0, &[], &forged));
    assert_eq!(status, 403, "{text}");
    assert!(
        text.starts_with("the checkpoint carries no signature by the log key"),
        "{text}"
    );
    // The log's checkpoint: 200 and a cosignature that verifies with the printed vkey.
    let (status, _, lines) = post(&witness.url, &body(0, &[], &note3));
    assert_eq!(status, 200, "{lines}");
    let lines: Vec<String> = lines.lines().map(|l| format!("{l}\n")).collect();
    let cosigned = checkpoint::add_signature_lines(&note3, &lines).unwrap();
    let log = LogVerifier::from_vkey(&log_vkey).unwrap();
    let opened = checkpoint::open(&cosigned, &log, std::slice::from_ref(&witness_key)).unwrap();
    assert_eq!(opened.witnesses.len(), 1);
    assert!(opened.witnesses[0].1 > 1_700_000_000);

    // SIGTERM: exit 0.
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&witness.child),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    assert_eq!(witness.child.wait().unwrap().code(), Some(0));
    drop(witness);

    // Restarted, it remembers size 3: a request from 0 is 409 with "3".
    let witness = start_witness(dir, &log_vkey);
    let (status, content_type, text) = post(&witness.url, &body(0, &[], &note5));
    assert_eq!(
        (status, content_type.as_str(), text.as_str()),
        (409, "text/x.tlog.size", "3\n")
    );
    let (status, _, text) = post(&witness.url, &body(3, &proof, &note5));
    assert_eq!(status, 200, "{text}");
    drop(witness);

    // A bad --log-key: exit 2, one line.
    let (code, _, err) = run(
        dir,
        &[
            "log",
            "witness",
            "--key",
            "wkey.key",
            "--name",
            "witness.example/w1",
            "--log-key",
            "not a vkey",
            "--state",
            "state",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--log-key"), "{err}");
}

fn keygen_and_init(dir: &Path) -> String {
    for name in ["logkey", "otherkey", "wkey"] {
        assert_eq!(run(dir, &["keygen", "--out", name]).0, 0);
    }
    let (code, log_vkey, err) = run(
        dir,
        &[
            "log",
            "init",
            "log",
            "--key",
            "logkey.key",
            "--origin",
            "lab.example/seqprov",
        ],
    );
    assert_eq!(code, 0, "{err}");
    log_vkey.trim().to_string()
}

fn log_signer(dir: &Path, key: &str) -> LogSigner {
    LogSigner {
        origin: "lab.example/seqprov".to_string(),
        key: PrivateKey::load(&dir.join(key), PermissionCheck::Strict)
            .unwrap()
            .signing_key()
            .clone(),
    }
}

/// Appends entries named `prefix i` for `range` to the log directory `log`, each
/// checkpoint signed by `signer` (a copy of the log made with another history is a fork).
fn append(log: &Path, signer: &LogSigner, prefix: &str, range: std::ops::Range<u32>) {
    let mut log_dir = LogDir::open(log).unwrap();
    let entries: Vec<Vec<u8>> = range
        .map(|i| format!("{prefix} {i}").into_bytes())
        .collect();
    log_dir
        .append(&entries, &mut |size, root| {
            Ok(checkpoint::sign(signer, size, root))
        })
        .unwrap();
}

/// `seqprov log witness --log LOG` in pull mode: (exit code, stdout, stderr).
fn pull(dir: &Path, log_vkey: &str, log: &str) -> (i32, String, String) {
    run(
        dir,
        &[
            "log",
            "witness",
            "--key",
            "wkey.key",
            "--name",
            "witness.example/w1",
            "--log-key",
            log_vkey,
            "--state",
            "state",
            "--log",
            log,
        ],
    )
}

fn witness_verifier(dir: &Path) -> WitnessVerifier {
    let key = PrivateKey::load(&dir.join("wkey.key"), PermissionCheck::Strict).unwrap();
    let signer = seqprov_log::note_keys::WitnessSigner {
        name: "witness.example/w1".to_string(),
        key: key.signing_key().clone(),
    };
    WitnessVerifier::from_vkey(&signer.vkey()).unwrap()
}

#[test]
fn log_witness_pull_cosigns_what_extends_and_refuses_fork_rollback_and_forgery() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let log_vkey = keygen_and_init(dir);
    let signer = log_signer(dir, "logkey.key");
    let log = LogVerifier::from_vkey(&log_vkey).unwrap();
    let witness_key = witness_verifier(dir);
    append(&dir.join("log"), &signer, "entry", 0..3);
    // Copies of the log at 3 entries, to grow into other histories later.
    for copy in ["fork", "stale"] {
        let status = Process::new("cp")
            .args(["-a", "log", copy])
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(status.success());
    }

    // First pull: the checkpoint of 3, cosigned, printed in full.
    let (code, out, err) = pull(dir, &log_vkey, "log");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.trim(),
        "cosigned lab.example/seqprov: 3 entries (was 0)"
    );
    let opened =
        checkpoint::open(out.as_bytes(), &log, std::slice::from_ref(&witness_key)).unwrap();
    assert_eq!((opened.size, opened.witnesses.len()), (3, 1));
    assert!(opened.witnesses[0].1 > 1_700_000_000);

    // The log grows to 5: the consistency proof from 3 is read from its tiles.
    append(&dir.join("log"), &signer, "entry", 3..5);
    let (code, out, err) = pull(dir, &log_vkey, "log");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.trim(),
        "cosigned lab.example/seqprov: 5 entries (was 3)"
    );
    let opened =
        checkpoint::open(out.as_bytes(), &log, std::slice::from_ref(&witness_key)).unwrap();
    assert_eq!((opened.size, opened.witnesses.len()), (5, 1));

    // A fork: the log key signs another history of 6 entries from the copy at 3.
    append(&dir.join("fork"), &signer, "other", 3..6);
    let (code, out, err) = pull(dir, &log_vkey, "fork");
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("does not extend the cosigned tree of size 5"),
        "{err}"
    );

    // A rollback: the stale copy's 3 entries (genuinely signed) after 5 were cosigned.
    let (code, out, err) = pull(dir, &log_vkey, "stale");
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("a tree of 3 entries, smaller than the 5 this witness cosigned"),
        "{err}"
    );

    // A forgery: the same origin signed by another key. Not cosigned, exit 3.
    let forged = tempfile::tempdir_in(dir).unwrap();
    let forged_log = forged.path().join("log");
    let other = log_signer(dir, "otherkey.key");
    let (code, _, err) = run(
        dir,
        &[
            "log",
            "init",
            forged_log.to_str().unwrap(),
            "--key",
            "otherkey.key",
            "--origin",
            "lab.example/seqprov",
        ],
    );
    assert_eq!(code, 0, "{err}");
    append(&forged_log, &other, "entry", 0..7);
    let (code, out, err) = pull(dir, &log_vkey, forged_log.to_str().unwrap());
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("does not verify with the log key"), "{err}");

    // Nothing refused moved the witness: the log at 5 is cosigned again from 5.
    let (code, _, err) = pull(dir, &log_vkey, "log");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.trim(),
        "cosigned lab.example/seqprov: 5 entries (was 5)"
    );

    // A log that cannot be read: exit 2, one line.
    let (code, out, err) = pull(dir, &log_vkey, "no-such-log");
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// A `seqprov log serve` child, killed when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn log_serve_with_witness_publishes_cosigned_checkpoints_and_pull_reads_it_over_http() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let log_vkey = keygen_and_init(dir);
    let log = LogVerifier::from_vkey(&log_vkey).unwrap();
    let witness = start_witness(dir, &log_vkey);
    let witness_key = WitnessVerifier::from_vkey(&witness.vkey).unwrap();
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("seqprov"))
        .current_dir(dir)
        .args([
            "log",
            "serve",
            "log",
            "--listen",
            "127.0.0.1:0",
            "--witness",
            &witness.url,
            "--witness-key",
            &witness.vkey,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let listening = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let server = Served(child);
    let url = format!(
        "http://{}",
        listening.strip_prefix("listening on ").unwrap()
    );

    // A sealed example: a seal submission goes in through POST /add.
    assert_eq!(run(dir, &["keygen", "--out", "core"]).0, 0);
    let bundle = seal_example(dir);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into();
    let submission = seqprov::log_submission::Submission {
        seal: bundle.seal.raw.clone(),
        event: None,
        token: None,
        chain: Vec::new(),
    }
    .encode();
    let mut response = agent
        .post(&format!("{url}/add"))
        .header("Content-Type", "application/cbor")
        .send(&submission)
        .unwrap();
    let answer = response.body_mut().read_to_string().unwrap();
    assert_eq!(response.status().as_u16(), 200, "{answer}");

    // The published checkpoint of 1 entry carries the witness's cosignature.
    let note = agent
        .get(&format!("{url}/checkpoint"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    let opened = checkpoint::open(&note, &log, std::slice::from_ref(&witness_key)).unwrap();
    assert_eq!(opened.size, 1);
    assert_eq!(
        opened
            .witnesses
            .iter()
            .map(|w| w.0.as_str())
            .collect::<Vec<_>>(),
        ["witness.example/w1"]
    );
    drop(witness);

    // Pull mode reads the same log over HTTP, with its own state: cosigned at 1.
    let (code, out, err) = pull(dir, &log_vkey, &url);
    assert_eq!(code, 0, "{err}");
    let opened =
        checkpoint::open(out.as_bytes(), &log, std::slice::from_ref(&witness_key)).unwrap();
    assert_eq!(opened.size, 1);
    drop(server);
}

/// Seals a copy of the example run folder with `core.key`; returns the bundle.
fn seal_example(dir: &Path) -> seqprov_format::Bundle {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/run-folder");
    let status = Process::new("cp")
        .arg("-r")
        .arg(&from)
        .arg(dir.join("run"))
        .status()
        .unwrap();
    assert!(status.success());
    let Output { status, stderr, .. } = Process::new(assert_cmd::cargo::cargo_bin("seqprov"))
        .current_dir(dir)
        .args(["seal", "run", "--key", "core.key", "-q"])
        .output()
        .unwrap();
    assert!(status.success(), "{}", String::from_utf8_lossy(&stderr));
    seqprov::read_bundle(&dir.join("run.seqprov")).unwrap()
}
