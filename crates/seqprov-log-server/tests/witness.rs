//! The witness (spec/log.md §6, c2sp.org/tlog-witness) over loopback HTTP: it cosigns a
//! log's growing tree, refuses a fork (the log key signing two different trees) with 422,
//! answers 409 with its stored size, keeps its state across a restart, and the log's
//! push side follows a 409 and keeps only verified cosignatures.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

use seqprov_log::Hash;
use seqprov_log::checkpoint;
use seqprov_log::note_keys::{LogSigner, WitnessSigner};
use seqprov_log_server::witness_push::{self, PushError, WitnessEndpoint};
use seqprov_log_server::witness_service::{self, WitnessConfig, WitnessHandle};

const ORIGIN: &str = "lab.example.org/witness-test";

fn leaf(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(entry);
    hasher.finalize().into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// RFC 6962 §2.1 MTH, written out here independently of seqprov_log::merkle.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split_point(n);
            node(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// The largest power of two below n (n >= 2).
fn split_point(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 6962 §2.1.2 SUBPROOF.
fn subproof(m: usize, leaves: &[Hash], complete: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if complete { vec![] } else { vec![mth(leaves)] };
    }
    let k = split_point(n);
    if m <= k {
        let mut proof = subproof(m, &leaves[..k], complete);
        proof.push(mth(&leaves[k..]));
        proof
    } else {
        let mut proof = subproof(m - k, &leaves[k..], false);
        proof.push(mth(&leaves[..k]));
        proof
    }
}

fn leaves(prefix: &str, n: usize) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf(format!("{prefix} {i}").as_bytes()))
        .collect()
}

struct Setup {
    _dir: tempfile::TempDir,
    state_dir: std::path::PathBuf,
    log: LogSigner,
    witness: WitnessSigner,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    Setup {
        state_dir: dir.path().join("state"),
        _dir: dir,
        log: LogSigner {
            origin: ORIGIN.to_string(),
            key: SigningKey::from_bytes(&[0x61; 32]),
        },
        witness: WitnessSigner {
            name: "witness.example.org/test".to_string(),
            key: SigningKey::from_bytes(&[0x62; 32]),
        },
    }
}

fn start(setup: &Setup) -> WitnessHandle {
    witness_service::serve(
        "127.0.0.1:0",
        WitnessConfig {
            signer: WitnessSigner {
                name: setup.witness.name.clone(),
                key: setup.witness.key.clone(),
            },
            logs: vec![setup.log.verifier()],
            state_dir: setup.state_dir.clone(),
            http: Default::default(),
        },
    )
    .expect("start the witness")
}

struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

fn post(handle: &WitnessHandle, path: &str, body: &[u8]) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!("{}{path}", handle.url()))
        .send(body)
        .expect("post");
    Answer {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get("Content-Type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        body: response.body_mut().read_to_string().expect("body"),
    }
}

fn add(handle: &WitnessHandle, old: u64, proof: &[Hash], note: &[u8]) -> Answer {
    post(
        handle,
        "/add-checkpoint",
        &witness_push::request_body(old, proof, note),
    )
}

/// Opens the note with the answer's lines appended, trusting the witness: the witness's
/// name when its cosignature verifies.
fn cosigned_by(setup: &Setup, note: &[u8], answer: &str) -> Vec<String> {
    let lines: Vec<String> = answer.lines().map(|l| format!("{l}\n")).collect();
    let full = checkpoint::add_signature_lines(note, &lines).expect("append lines");
    checkpoint::open(&full, &setup.log.verifier(), &[setup.witness.verifier()])
        .expect("open")
        .witnesses
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn witness_cosigns_growth_and_refuses_a_fork() {
    let setup = setup();
    let handle = start(&setup);
    let tree = leaves("entry", 9);

    // A first checkpoint: old 0, no proof.
    let note3 = checkpoint::sign(&setup.log, 3, &mth(&tree[..3]));
    let answer = add(&handle, 0, &[], &note3);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        cosigned_by(&setup, &note3, &answer.body),
        vec![setup.witness.name.clone()]
    );

    // Growth with a consistency proof from 3.
    let note5 = checkpoint::sign(&setup.log, 5, &mth(&tree[..5]));
    let answer = add(&handle, 3, &subproof(3, &tree[..5], true), &note5);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(cosigned_by(&setup, &note5, &answer.body).len(), 1);

    // The fork: the log key signs another tree of size 5. Same size, other root: 422.
    let forked = leaves("forged", 9);
    let fork5 = checkpoint::sign(&setup.log, 5, &mth(&forked[..5]));
    let answer = add(&handle, 5, &[], &fork5);
    assert_eq!(answer.status, 422, "{}", answer.body);
    // A larger forked tree, with its own (valid for itself) proof from 5: 422.
    let fork7 = checkpoint::sign(&setup.log, 7, &mth(&forked[..7]));
    let answer = add(&handle, 5, &subproof(5, &forked[..7], true), &fork7);
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("does not extend the cosigned tree of size 5"),
        "{}",
        answer.body
    );
    // Nothing was cosigned: the state still says 5 and the honest root.
    let stored = handle.witness().witnessed(ORIGIN).expect("state");
    assert_eq!((stored.size, stored.root), (5, mth(&tree[..5])));

    // A stale old size: 409 with the stored size.
    let note7 = checkpoint::sign(&setup.log, 7, &mth(&tree[..7]));
    let answer = add(&handle, 3, &subproof(3, &tree[..7], true), &note7);
    assert_eq!(answer.status, 409);
    assert_eq!(answer.content_type, "text/x.tlog.size");
    assert_eq!(answer.body, "5\n");

    // A restarted witness remembers size 5.
    drop(handle);
    let handle = start(&setup);
    let answer = add(&handle, 0, &[], &note7);
    assert_eq!((answer.status, answer.body.as_str()), (409, "5\n"));
    let answer = add(&handle, 5, &subproof(5, &tree[..7], true), &note7);
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[test]
fn witness_refuses_bad_requests() {
    let setup = setup();
    let handle = start(&setup);
    let tree = leaves("entry", 4);
    let note = checkpoint::sign(&setup.log, 4, &mth(&tree));

    // Another log (unknown origin): 404, as tlog-witness requires.
    let stranger = LogSigner {
        origin: "other.example.org/log".to_string(),
        key: SigningKey::from_bytes(&[0x61; 32]),
    };
    let answer = add(
        &handle,
        0,
        &[],
        &checkpoint::sign(&stranger, 4, &mth(&tree)),
    );
    assert_eq!(answer.status, 404, "{}", answer.body);
    // The right origin, another key: 403.
    let impostor = LogSigner {
        origin: ORIGIN.to_string(),
        key: SigningKey::from_bytes(&[0x63; 32]),
    };
    let answer = add(
        &handle,
        0,
        &[],
        &checkpoint::sign(&impostor, 4, &mth(&tree)),
    );
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(
        answer
            .body
            .starts_with("the checkpoint carries no signature by the log key")
    );
    // Malformed bodies: 400.
    for body in [
        b"old 01\n\n".to_vec(),
        b"new 0\n\n".to_vec(),
        [b"old 0\nAAAA\n\n".as_slice(), &note].concat(),
        [b"old 0\n".as_slice(), &note].concat(),
        b"old 0\n\nnot a checkpoint\n".to_vec(),
    ] {
        let answer = post(&handle, "/add-checkpoint", &body);
        assert_eq!(
            answer.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(&body),
            answer.body
        );
    }
    // old past the checkpoint's size: 400.
    assert_eq!(add(&handle, 5, &[], &note).status, 400);
    // A proof with old 0: 422. A size-0 checkpoint with a non-empty root: 422.
    assert_eq!(add(&handle, 0, &[[1u8; 32]], &note).status, 422);
    assert_eq!(
        add(
            &handle,
            0,
            &[],
            &checkpoint::sign(&setup.log, 0, &[2u8; 32])
        )
        .status,
        422
    );
    // Too large: 413. Wrong path: 404. Wrong method: 405.
    let huge = vec![b'x'; witness_service::MAX_BODY_LEN + 1];
    assert_eq!(post(&handle, "/add-checkpoint", &huge).status, 413);
    assert_eq!(post(&handle, "/checkpoint", b"").status, 404);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent
        .get(&format!("{}/add-checkpoint", handle.url()))
        .call()
        .expect("get");
    assert_eq!(response.status().as_u16(), 405);
    // None of that was cosigned.
    assert!(handle.witness().witnessed(ORIGIN).is_none());
}

#[test]
fn push_follows_409_and_keeps_verified_lines() {
    let setup = setup();
    let handle = start(&setup);
    let tree = leaves("entry", 20);
    let endpoint = WitnessEndpoint {
        url: handle.url(),
        verifier: setup.witness.verifier(),
        timeout: Duration::from_secs(10),
    };
    let proof_to = |size: usize| {
        let tree = tree.clone();
        move |old: u64| Ok::<_, seqprov_log::LogError>(subproof(old as usize, &tree[..size], true))
    };
    let note10 = checkpoint::sign(&setup.log, 10, &mth(&tree[..10]));
    let cosigned = witness_push::cosign(&endpoint, &note10, 0, &proof_to(10)).expect("cosign 10");
    assert_eq!(cosigned.size, 10);
    assert_eq!(cosigned.lines.len(), 1);
    // The log forgot what the witness holds (old 0): the 409 tells it 10, and it retries.
    let note20 = checkpoint::sign(&setup.log, 20, &mth(&tree));
    let cosigned = witness_push::cosign(&endpoint, &note20, 0, &proof_to(20)).expect("cosign 20");
    assert_eq!(cosigned.size, 20);
    let full = checkpoint::add_signature_lines(&note20, &cosigned.lines).expect("lines");
    let opened =
        checkpoint::open(&full, &setup.log.verifier(), &[setup.witness.verifier()]).expect("open");
    assert_eq!(opened.witnesses.len(), 1);

    // Expecting another witness key at that URL: its lines are not kept.
    let other = WitnessEndpoint {
        verifier: WitnessSigner {
            name: setup.witness.name.clone(),
            key: SigningKey::from_bytes(&[0x64; 32]),
        }
        .verifier(),
        ..endpoint.clone()
    };
    let note20_again = checkpoint::sign(&setup.log, 20, &mth(&tree));
    match witness_push::cosign(&other, &note20_again, 20, &proof_to(20)) {
        Err(PushError::NoCosignature { .. }) => {}
        other => panic!("{other:?}"),
    }
    // A fork is refused with the witness's 422.
    let forked = leaves("forged", 20);
    let fork = checkpoint::sign(&setup.log, 20, &mth(&forked));
    match witness_push::cosign(&endpoint, &fork, 20, &proof_to(20)) {
        Err(PushError::Refused { status: 422, .. }) => {}
        other => panic!("{other:?}"),
    }
    // A witness that is not there: unreachable, within the time limit.
    let gone = handle.url();
    drop(handle);
    let dead = WitnessEndpoint {
        url: gone,
        timeout: Duration::from_secs(2),
        ..endpoint
    };
    match witness_push::cosign(&dead, &note20, 20, &proof_to(20)) {
        Err(PushError::Unreachable { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_slow_client_does_not_stop_the_witness() {
    use std::io::Write;
    let setup = setup();
    let handle = start(&setup);
    // Clients that announce a body and never send it hold a worker each, at most until
    // the connection timeout; the others are answered meanwhile.
    let mut idle = Vec::new();
    for _ in 0..witness_service::WORKERS - 1 {
        let mut stream = std::net::TcpStream::connect(handle.addr()).expect("connect");
        stream
            .write_all(
                b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nold",
            )
            .expect("write");
        idle.push(stream);
    }
    let tree = leaves("entry", 2);
    let started = std::time::Instant::now();
    let answer = add(
        &handle,
        0,
        &[],
        &checkpoint::sign(&setup.log, 2, &mth(&tree)),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_log_dir_publishes_checkpoints_cosigned_by_a_live_witness() {
    use seqprov_log::log_dir::LogDir;
    use seqprov_log_server::witness_push::WitnessPusher;
    let setup = setup();
    let handle = start(&setup);
    let log_path = setup.state_dir.parent().expect("parent").join("log");
    LogDir::init(
        &log_path,
        ORIGIN,
        &setup.log.key,
        &log_path.with_extension("key"),
    )
    .expect("init");
    let mut log_dir = LogDir::open(&log_path).expect("open");
    let endpoint = WitnessEndpoint {
        url: handle.url(),
        verifier: setup.witness.verifier(),
        timeout: Duration::from_secs(10),
    };
    let mut pusher = WitnessPusher::new(&log_path, vec![endpoint]);
    // Batches across a tile boundary: each checkpoint is cosigned with a consistency
    // proof read from the log's tiles.
    let mut next = 0u32;
    for batch in [1u32, 2, 260, 1, 40] {
        let entries: Vec<Vec<u8>> = (next..next + batch)
            .map(|i| format!("entry {i}").into_bytes())
            .collect();
        next += batch;
        // Cosigned once the batch is journaled and its tiles are in place (the witness
        // is sent a proof read from them).
        let mut sign = |size: u64, root: &Hash| Ok(checkpoint::sign(&setup.log, size, root));
        let mut cosign = |note: &[u8]| {
            let lines = pusher.cosign(note);
            checkpoint::add_signature_lines(note, &lines)
        };
        log_dir
            .append_cosigned(&entries, &mut sign, &mut cosign)
            .expect("append");
        assert!(pusher.failures().is_empty(), "{:?}", pusher.failures());
        let opened = checkpoint::open(
            log_dir.checkpoint(),
            &setup.log.verifier(),
            &[setup.witness.verifier()],
        )
        .expect("open the published checkpoint");
        assert_eq!(opened.size, u64::from(next));
        assert_eq!(opened.witnesses.len(), 1, "size {next} not cosigned");
        let stored = handle.witness().witnessed(ORIGIN).expect("witnessed");
        assert_eq!((stored.size, stored.root), (opened.size, opened.root));
    }
    // The witness gone: the checkpoint is published without its cosignature.
    drop(handle);
    let mut publish = |size: u64, root: &Hash| {
        let note = checkpoint::sign(&setup.log, size, root);
        let lines = pusher.cosign(&note);
        checkpoint::add_signature_lines(&note, &lines)
    };
    log_dir
        .append(&[b"entry after".to_vec()], &mut publish)
        .expect("append");
    assert_eq!(pusher.failures().len(), 1);
    let opened = checkpoint::open(
        log_dir.checkpoint(),
        &setup.log.verifier(),
        &[setup.witness.verifier()],
    )
    .expect("open");
    assert!(opened.witnesses.is_empty());
}
