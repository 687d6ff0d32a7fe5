//! Attacks on the two HTTP services (spec/log.md §4, §6) and their exact outcomes: a
//! server left idle longer than its connection timeout still answers (it once stopped
//! accepting: the timeout was set on the listening socket and the accept loop ended on
//! EAGAIN); an endless header line, too many headers and an over-long request line are
//! answered 431/414 (or the connection is closed) while the server keeps serving; a POST
//! whose body trickles in is cut off at the body deadline (408) while others are served.

mod support;

use std::io::Write as _;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use seqprov_log::note_keys::{LogSigner, WitnessSigner};
use seqprov_log_server::witness_service::{self, WitnessConfig};
use support::{Outcome, exchange, get, read_outcome, short_limits, start_log};

fn assert_checkpoint_served(addr: std::net::SocketAddr) {
    match get(addr, "/checkpoint") {
        Outcome::Answer { status: 200, text } => {
            assert!(text.contains(support::ORIGIN), "{text}");
        }
        other => panic!("GET /checkpoint: {other:?}"),
    }
}

#[test]
fn log_service_answers_after_idling_past_its_connection_timeout() {
    let server = start_log(short_limits(), 2);
    assert_checkpoint_served(server.addr);
    std::thread::sleep(Duration::from_millis(2500));
    assert_checkpoint_served(server.addr);
    std::thread::sleep(Duration::from_millis(1500));
    assert_checkpoint_served(server.addr);
}

#[test]
fn witness_answers_after_idling_past_its_connection_timeout() {
    let temp = tempfile::tempdir().expect("tempdir");
    let log = LogSigner {
        origin: "lab.example.org/idle".into(),
        key: SigningKey::from_bytes(&[0x51; 32]),
    };
    let handle = witness_service::serve(
        "127.0.0.1:0",
        WitnessConfig {
            signer: WitnessSigner {
                name: "witness.example.org/idle".into(),
                key: SigningKey::from_bytes(&[0x52; 32]),
            },
            logs: vec![log.verifier()],
            state_dir: temp.path().join("state"),
            http: short_limits(),
        },
    )
    .expect("witness");
    let probe = || {
        exchange(
            handle.addr(),
            b"POST /add-checkpoint HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\
              Content-Length: 4\r\n\r\nold\n",
            Duration::from_secs(5),
        )
        .status()
    };
    assert_eq!(probe(), Some(400));
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        probe(),
        Some(400),
        "the witness stopped answering when idle"
    );
}

/// Sends a request head with one header line of `len` bytes and no end; returns what the
/// server answered and how much of the line it took.
fn endless_header_line(addr: std::net::SocketAddr, len: usize) -> (Outcome, usize) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .write_all(b"GET /checkpoint HTTP/1.1\r\nHost: log\r\nX-Endless: ")
        .expect("head");
    let mut writer = stream.try_clone().expect("clone");
    writer
        .set_write_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let sender = std::thread::spawn(move || {
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = 0;
        while sent < len {
            match writer.write(&chunk[..chunk.len().min(len - sent)]) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        sent
    });
    let outcome = read_outcome(&mut stream, Duration::from_secs(10));
    drop(stream);
    let sent = sender.join().expect("sender");
    (outcome, sent)
}

#[test]
fn an_endless_header_line_is_refused_and_the_server_keeps_serving() {
    let server = start_log(short_limits(), 2);
    let rss_before = vm_rss_kib();
    let (outcome, sent) = endless_header_line(server.addr, 10 * 1024 * 1024);
    assert!(
        matches!(
            outcome,
            Outcome::Answer { status: 431, .. } | Outcome::Closed
        ),
        "{outcome:?}"
    );
    assert!(
        sent < 10 * 1024 * 1024,
        "the server took all {sent} bytes of the header line"
    );
    let grown = vm_rss_kib().saturating_sub(rss_before);
    assert!(grown < 8 * 1024, "RSS grew by {grown} KiB");
    assert_checkpoint_served(server.addr);
}

#[test]
fn too_many_headers_and_an_over_long_request_line_are_refused() {
    let server = start_log(short_limits(), 2);
    let mut many = String::from("GET /checkpoint HTTP/1.1\r\nHost: log\r\n");
    for i in 0..150 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let outcome = exchange(server.addr, many.as_bytes(), Duration::from_secs(5));
    assert_eq!(outcome.status(), Some(431), "{outcome:?}");

    let long_path = format!(
        "GET /{} HTTP/1.1\r\nHost: log\r\nConnection: close\r\n\r\n",
        "a".repeat(9000)
    );
    let outcome = exchange(server.addr, long_path.as_bytes(), Duration::from_secs(5));
    assert_eq!(outcome.status(), Some(414), "{outcome:?}");

    // 64 KiB of headers in all is the bound, even in lines each under 8 KiB.
    let mut big = String::from("GET /checkpoint HTTP/1.1\r\nHost: log\r\n");
    for i in 0..20 {
        big.push_str(&format!("X-B{i}: {}\r\n", "b".repeat(4000)));
    }
    big.push_str("\r\n");
    let outcome = exchange(server.addr, big.as_bytes(), Duration::from_secs(5));
    assert_eq!(outcome.status(), Some(431), "{outcome:?}");
    assert_checkpoint_served(server.addr);
}

#[test]
fn a_trickled_post_is_cut_off_at_the_body_deadline_while_others_are_served() {
    let server = start_log(short_limits(), 2);
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream
        .write_all(
            b"POST /add HTTP/1.1\r\nHost: log\r\nContent-Type: application/cbor\r\n\
              Content-Length: 5000\r\n\r\n",
        )
        .expect("head");
    let start = Instant::now();
    let mut trickler = stream.try_clone().expect("clone");
    let trickle = std::thread::spawn(move || {
        // One byte every 100 ms for up to 8 s: each read is well within the 1 s timeout.
        for _ in 0..80 {
            if trickler.write_all(b"x").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    // Meanwhile another client is served.
    std::thread::sleep(Duration::from_millis(300));
    assert_checkpoint_served(server.addr);
    let outcome = read_outcome(&mut stream, Duration::from_secs(6));
    let took = start.elapsed();
    match &outcome {
        Outcome::Answer { status: 408, text } => {
            assert!(text.contains("not sent in time"), "{text}")
        }
        other => panic!("the trickled POST: {other:?} after {took:?}"),
    }
    assert!(took < Duration::from_secs(4), "cut off after {took:?}");
    drop(stream);
    let _ = trickle.join();
    assert_checkpoint_served(server.addr);
}

/// This process's resident set size in KiB (Linux).
fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn a_client_taking_a_big_tile_slowly_is_cut_off_and_does_not_hold_the_worker() {
    use std::io::Read as _;
    let (temp, dir) = support::new_log();
    {
        let mut log = seqprov_log::log_dir::LogDir::open(&dir).expect("open");
        let entries: Vec<Vec<u8>> = (0..256u32)
            .map(|i| {
                let mut e = vec![b'e'; 60_000];
                e[..4].copy_from_slice(&i.to_be_bytes());
                e
            })
            .collect();
        log.append(&entries, &mut |size, root| {
            Ok(seqprov_log::checkpoint::sign(
                &support::log_signer(),
                size,
                root,
            ))
        })
        .expect("append");
    }
    let limits = seqprov_log_server::http_limits::HttpLimits {
        min_response_rate: 4 * 1024 * 1024,
        ..short_limits()
    };
    // One worker: while it is held, nobody else is served.
    let server = support::serve_log(temp, dir, move |dir| {
        seqprov_log_server::log_service::ServeOptions {
            dir,
            listen: "127.0.0.1:0".parse().unwrap(),
            allow: None,
            witness_keys: Vec::new(),
            cosign: None,
            workers: 1,
            http: limits,
            witness_refresh: None,
        }
    });
    let mut slow = TcpStream::connect(server.addr).expect("connect");
    slow.write_all(b"GET /tile/entries/000 HTTP/1.1\r\nHost: log\r\nConnection: close\r\n\r\n")
        .expect("request");
    let start = Instant::now();
    let addr = server.addr;
    let other = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        let asked = Instant::now();
        let outcome = exchange(
            addr,
            b"GET /checkpoint HTTP/1.1\r\nHost: log\r\nConnection: close\r\n\r\n",
            Duration::from_secs(10),
        );
        (outcome.status(), asked.elapsed())
    });
    // Takes 64 KiB every 500 ms (128 KiB/s), well under the 4 MiB/s asked for, for 8 s
    // (the whole tile would take two minutes).
    slow.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut got = 0usize;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut ended = false;
    while start.elapsed() < Duration::from_secs(8) {
        match slow.read(&mut chunk) {
            Ok(0) | Err(_) => {
                ended = true;
                break;
            }
            Ok(n) => got += n,
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    // Then what the kernel buffered is read at once: the answer ends short.
    while !ended {
        match slow.read(&mut chunk) {
            Ok(0) | Err(_) => ended = true,
            Ok(n) => got += n,
        }
    }
    let (status, waited) = other.join().expect("other client");
    assert_eq!(status, Some(200), "the other client waited {waited:?}");
    assert!(
        waited < Duration::from_secs(6),
        "the other client waited {waited:?}"
    );
    assert!(
        got < 256 * 60_002,
        "the slow client got all {got} bytes in {:?}",
        start.elapsed()
    );
}
