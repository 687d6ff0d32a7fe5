//! Fresh cosignatures without new entries (spec/log.md §6, `--witness-refresh`): the
//! witness cosigns the same tree again (old size = new size, same root, empty proof) with
//! a new time, and a log service whose published checkpoint's newest cosignature is older
//! than its refresh period publishes the same checkpoint (same size, same root, same log
//! signature) with the fresh cosignature, durably, and nothing else changes.

mod support;

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use seqprov_log::checkpoint;
use seqprov_log::log_dir::LogDir;
use seqprov_log::note_keys::WitnessSigner;
use seqprov_log_server::log_service::{self, ServeOptions};
use seqprov_log_server::witness_push::{WitnessEndpoint, carry_over_cosignatures, request_body};
use seqprov_log_server::witness_service::{self, WitnessConfig, WitnessedTree};
use support::{Outcome, get, log_signer, new_log, serve_log, short_limits};

fn witness_signer() -> WitnessSigner {
    WitnessSigner {
        name: "witness.example.org/refresh".into(),
        key: SigningKey::from_bytes(&[0x77; 32]),
    }
}

fn start_witness(state: &std::path::Path) -> witness_service::WitnessHandle {
    witness_service::serve(
        "127.0.0.1:0",
        WitnessConfig {
            signer: witness_signer(),
            logs: vec![log_signer().verifier()],
            state_dir: state.to_path_buf(),
            http: short_limits(),
        },
    )
    .expect("witness")
}

#[test]
fn the_witness_cosigns_the_same_tree_again_with_a_new_time() {
    let temp = tempfile::tempdir().unwrap();
    let handle = start_witness(&temp.path().join("state"));
    let witness = handle.witness();
    let root = [0x11; 32];
    let note = checkpoint::sign(&log_signer(), 5, &root);
    let first = witness.add_checkpoint(&request_body(0, &[], &note), 1_000);
    assert_eq!(first.status, 200, "{first:?}");
    let again = witness.add_checkpoint(&request_body(5, &[], &note), 2_000);
    assert_eq!(again.status, 200, "{again:?}");
    assert_ne!(first.body, again.body);
    let verifier = witness_signer().verifier();
    let cosigned =
        checkpoint::add_signature_lines(&note, std::slice::from_ref(&again.body)).unwrap();
    let opened = checkpoint::open(&cosigned, &log_signer().verifier(), &[verifier]).unwrap();
    assert_eq!(opened.witnesses, vec![(witness_signer().name, 2_000)]);
    assert_eq!(
        witness.witnessed(support::ORIGIN),
        Some(WitnessedTree { size: 5, root })
    );
    // Another root at the same size is still a fork.
    let fork = checkpoint::sign(&log_signer(), 5, &[0x12; 32]);
    let refused = witness.add_checkpoint(&request_body(5, &[], &fork), 3_000);
    assert_eq!(refused.status, 422, "{refused:?}");
}

fn served_checkpoint(addr: std::net::SocketAddr) -> Vec<u8> {
    match get(addr, "/checkpoint") {
        Outcome::Answer { status: 200, text } => text
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.as_bytes().to_vec())
            .expect("a body"),
        other => panic!("GET /checkpoint: {other:?}"),
    }
}

#[test]
fn the_log_publishes_the_same_checkpoint_with_fresh_cosignatures_when_idle() {
    let (temp, dir) = new_log();
    {
        let mut log = LogDir::open(&dir).expect("open");
        let entries: Vec<Vec<u8>> = (0..3).map(|i| format!("entry {i}").into_bytes()).collect();
        log.append(&entries, &mut |size, root| {
            Ok(checkpoint::sign(&log_signer(), size, root))
        })
        .expect("append");
    }
    let before = std::fs::read(dir.join("public/checkpoint")).unwrap();
    let witness = start_witness(&temp.path().join("witness-state"));
    let endpoint = WitnessEndpoint {
        url: witness.url(),
        verifier: witness_signer().verifier(),
        timeout: Duration::from_secs(5),
    };
    let server = serve_log(temp, dir.clone(), move |dir| ServeOptions {
        cosign: Some(log_service::witness_cosigner(&dir, vec![endpoint])),
        dir,
        listen: "127.0.0.1:0".parse().unwrap(),
        allow: None,
        witness_keys: vec![witness_signer().verifier()],
        workers: 2,
        http: short_limits(),
        witness_refresh: Some(Duration::from_secs(1)),
    });
    let verifier = log_signer().verifier();
    let witnesses = [witness_signer().verifier()];
    let open = |note: &[u8]| checkpoint::open(note, &verifier, &witnesses).expect("open");
    let unchanged = open(&before);
    assert!(unchanged.witnesses.is_empty());

    // Without any submission, the checkpoint gets a cosignature, then a newer one.
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "cosignature times seen: {times:?}"
        );
        let note = served_checkpoint(server.addr);
        let opened = open(&note);
        assert_eq!((opened.size, opened.root), (3, unchanged.root));
        assert!(opened.witnesses.len() <= 1, "{opened:?}");
        if let Some((_, time)) = opened.witnesses.first()
            && times.last() != Some(time)
        {
            times.push(*time);
            // What is served is what is on disk, and it keeps the log's signature line.
            assert_eq!(std::fs::read(dir.join("public/checkpoint")).unwrap(), note);
            assert!(note.starts_with(&before));
            let cosignature_lines = String::from_utf8_lossy(&note[before.len()..])
                .lines()
                .count();
            assert_eq!(cosignature_lines, 1, "{}", String::from_utf8_lossy(&note));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(times[1] > times[0], "{times:?}");
    assert_eq!(
        witness.witness().witnessed(support::ORIGIN),
        Some(WitnessedTree {
            size: 3,
            root: unchanged.root
        })
    );
    drop(server);
}

#[test]
fn a_witness_that_gives_no_fresh_cosignature_keeps_its_old_one() {
    let root = [0x21; 32];
    let signed = checkpoint::sign(&log_signer(), 7, &root);
    let body = checkpoint::body(support::ORIGIN, 7, &root);
    let w = witness_signer();
    let other = WitnessSigner {
        name: "witness.example.org/other".into(),
        key: SigningKey::from_bytes(&[0x78; 32]),
    };
    let keys = [w.verifier(), other.verifier()];
    let old = checkpoint::add_signature_lines(
        &signed,
        &[
            w.cosignature_line(body.as_bytes(), 100),
            other.cosignature_line(body.as_bytes(), 100),
        ],
    )
    .unwrap();
    // Only `w` answered the refresh: `other`'s old line is kept, `w`'s is the new one.
    let fresh =
        checkpoint::add_signature_lines(&signed, &[w.cosignature_line(body.as_bytes(), 200)])
            .unwrap();
    let merged = carry_over_cosignatures(&old, &fresh, &keys).unwrap();
    let opened = checkpoint::open(&merged, &log_signer().verifier(), &keys).unwrap();
    let mut seen = opened.witnesses.clone();
    seen.sort();
    assert_eq!(seen, vec![(other.name.clone(), 100), (w.name.clone(), 200)]);
    assert_eq!(
        String::from_utf8_lossy(&merged[signed.len()..])
            .lines()
            .count(),
        2
    );
    // No witness answered: the old cosignatures stay.
    let merged = carry_over_cosignatures(&old, &signed, &keys).unwrap();
    assert_eq!(
        checkpoint::open(&merged, &log_signer().verifier(), &keys)
            .unwrap()
            .witnesses
            .len(),
        2
    );
    // Another tree: nothing is carried over.
    let other_tree = checkpoint::sign(&log_signer(), 8, &root);
    assert_eq!(
        carry_over_cosignatures(&old, &other_tree, &keys).unwrap(),
        other_tree
    );
    // A line that does not verify is not carried over.
    let forged =
        checkpoint::add_signature_lines(&signed, &[w.cosignature_line(b"another body\n", 100)])
            .unwrap();
    assert_eq!(
        carry_over_cosignatures(&forged, &signed, &keys).unwrap(),
        signed
    );
}
