//! Large hostile submissions (hostile review, stop 23): a seal of one-byte CBOR items in
//! the place of its unprotected header decodes to a tree about 35 times its size before
//! anything can refuse it (a 16 MiB seal: 560 MB and seconds of CPU). Sixteen workers
//! checking such submissions at once took the host's memory. At most two submissions over
//! 1 MiB are now read and checked at a time: the peak memory of a flood stays that of two.

mod support;

use std::time::{Duration, Instant};

use seqprov::log_submission::Submission;
use seqprov_log_server::http_limits::HttpLimits;
use support::{Outcome, exchange, get, start_log};

/// The peak resident memory of this process (`VmHWM`), in bytes.
fn peak_memory() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmHWM in kB");
    kib * 1024
}

/// A POST /add whose seal is a tagged COSE_Sign1 array holding, where the unprotected
/// header map belongs, an array of `items` zero bytes (each one CBOR item).
fn amplifying_submission(items: usize) -> Vec<u8> {
    let mut seal = vec![0xd2, 0x84, 0x40, 0x9a];
    seal.extend_from_slice(&(items as u32).to_be_bytes());
    seal.resize(seal.len() + items, 0);
    seal.extend_from_slice(&[0x40, 0x40]);
    let body = Submission {
        seal,
        event: None,
        token: None,
        chain: Vec::new(),
    }
    .encode();
    let mut request = format!(
        "POST /add HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/cbor\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}

#[test]
fn a_flood_of_amplifying_seals_is_checked_two_at_a_time() {
    let server = start_log(
        HttpLimits {
            body_deadline: Duration::from_secs(60),
            connection_timeout: Duration::from_secs(120),
            ..HttpLimits::default()
        },
        16,
    );
    let addr = server.addr;
    const ITEMS: usize = 3 << 20;
    const FLOOD: usize = 6;
    let requests: Vec<Vec<u8>> = (0..FLOOD).map(|_| amplifying_submission(ITEMS)).collect();
    let before = peak_memory();
    let clients: Vec<_> = requests
        .into_iter()
        .map(|request| {
            std::thread::spawn(move || exchange(addr, &request, Duration::from_secs(300)))
        })
        .collect();
    // The log keeps answering small requests meanwhile.
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    assert_eq!(get(addr, "/checkpoint").status(), Some(200));
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    for client in clients {
        match client.join().expect("client") {
            Outcome::Answer { status, text } => {
                assert_eq!(status, 400, "{text}");
                assert!(text.contains("the seal"), "{text}");
            }
            other => panic!("{other:?}"),
        }
    }
    // Each decode takes about 35 × 3 MiB ≈ 110 MB; six at once took 660 MB and more.
    let grown = peak_memory().saturating_sub(before);
    assert!(
        grown < 400 << 20,
        "the peak memory grew by {} MB during the flood",
        grown >> 20
    );
}
