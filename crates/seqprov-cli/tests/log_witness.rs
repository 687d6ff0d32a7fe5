//! `seqprov log witness` through the real binary (spec/log.md §6): it prints its vkey,
//! cosigns a log's checkpoint over loopback HTTP (the cosignature verifies with that
//! vkey), refuses a checkpoint signed by another key (403) and a stale old size (409),
//! keeps its state across a restart, refuses a bad --log-key (exit 2, one line), and
//! exits 0 on SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
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
    let log_vkey = log_vkey.trim().to_string();
    // The log grows to 3, then 5 entries (signed with its key, through the library).
    let load = |name: &str| {
        PrivateKey::load(&dir.join(name), PermissionCheck::Strict)
            .unwrap()
            .signing_key()
            .clone()
    };
    let signer = LogSigner {
        origin: "lab.example/seqprov".to_string(),
        key: load("logkey.key"),
    };
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
    let forger = LogSigner {
        origin: "lab.example/seqprov".to_string(),
        key: load("otherkey.key"),
    };
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
