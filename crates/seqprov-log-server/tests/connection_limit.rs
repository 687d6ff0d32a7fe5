//! 1,000 idle connections against a log service that allows 256 at once (spec/log.md
//! §4): no more than 256 connection threads are started (the others are answered 503
//! and closed at once), and a fresh client is served once the idle ones close. Alone in
//! its test binary so the thread count is this test's own.

mod support;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use seqprov_log_server::http_limits::HttpLimits;
use support::{Outcome, get, read_outcome, short_limits, start_log};

fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .expect("Threads: in /proc/self/status")
}

#[test]
fn a_thousand_idle_connections_start_at_most_the_limit_of_threads() {
    // A timeout longer than connecting 1000 times takes on a loaded machine, so that the
    // first 256 are all still held when the rest arrive.
    let limits = HttpLimits {
        connection_timeout: Duration::from_secs(30),
        ..short_limits()
    };
    let max = limits.max_connections;
    assert_eq!(max, 256);
    let server = start_log(limits, 2);
    let before = threads();
    let connecting = Instant::now();
    let mut idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(server.addr).expect("connect"))
        .collect();
    eprintln!("1000 connections in {:?}", connecting.elapsed());
    std::thread::sleep(Duration::from_millis(300));
    let during = threads();
    assert!(
        during <= before + max + 4,
        "{during} threads with 1000 idle connections (was {before})"
    );
    // Those beyond the limit were answered 503 at once.
    let outcomes: Vec<Outcome> = idle
        .iter_mut()
        .map(|s| read_outcome(s, Duration::from_millis(5)))
        .collect();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Answer { status: 503, .. }))
        .count();
    let closed = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Closed))
        .count();
    let other = outcomes.len() - refused - closed;
    eprintln!("503: {refused}, closed: {closed}, other: {other}");
    assert!(refused >= 1000 - max - 10, "only {refused} answered 503");
    // Once the idle clients close, a fresh client is served.
    drop(idle);
    let start = Instant::now();
    loop {
        match get(server.addr, "/checkpoint") {
            Outcome::Answer { status: 200, .. } => break,
            other => {
                assert!(
                    start.elapsed() < Duration::from_secs(5),
                    "not served while idle connections are held: {other:?}"
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}
