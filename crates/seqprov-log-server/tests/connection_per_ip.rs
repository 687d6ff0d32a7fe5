//! Regression (hostile review, stop 21): one client holding every connection the log
//! service allows (256 idle keep-alive connections) made it answer 503 to everyone else.
//! Connections are now also bounded per IP address (spec/log.md §4): one more from the
//! same address is answered 503, while another address is still served.

mod support;

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use seqprov_log_server::http_limits::HttpLimits;
use support::{Outcome, read_outcome, short_limits, start_log};

/// A connection to `server` from the loopback address `from` (any port).
fn connect_from(from: Ipv4Addr, server: SocketAddr) -> TcpStream {
    use rustix::net::{AddressFamily, SocketType, bind, connect, socket};
    let fd = socket(AddressFamily::INET, SocketType::STREAM, None).expect("socket");
    bind(&fd, &SocketAddr::new(IpAddr::V4(from), 0)).expect("bind");
    connect(&fd, &server).expect("connect");
    TcpStream::from(fd)
}

fn get_from(from: Ipv4Addr, server: SocketAddr) -> Outcome {
    let mut stream = connect_from(from, server);
    stream
        .write_all(b"GET /checkpoint HTTP/1.1\r\nHost: log\r\nConnection: close\r\n\r\n")
        .expect("write");
    read_outcome(&mut stream, Duration::from_secs(5))
}

#[test]
fn one_address_cannot_hold_every_connection() {
    let limits = HttpLimits {
        connection_timeout: Duration::from_secs(30),
        max_connections: 256,
        max_connections_per_ip: 8,
        ..short_limits()
    };
    let server = start_log(limits, 2);
    let hog = Ipv4Addr::new(127, 0, 0, 1);
    let other = Ipv4Addr::new(127, 0, 0, 2);
    let mut held: Vec<TcpStream> = (0..8).map(|_| connect_from(hog, server.addr)).collect();
    std::thread::sleep(Duration::from_millis(300));
    // The eight are held open (no answer: they sent nothing).
    for stream in &mut held {
        assert!(
            matches!(
                read_outcome(stream, Duration::from_millis(5)),
                Outcome::Silent
            ),
            "a held connection was answered or closed"
        );
    }
    // A ninth from the same address: 503 at once.
    match get_from(hog, server.addr) {
        Outcome::Answer { status: 503, .. } => {}
        other => panic!("a ninth connection from one address: {other:?}"),
    }
    // Another address is served.
    match get_from(other, server.addr) {
        Outcome::Answer { status: 200, .. } => {}
        other => panic!("another address was not served: {other:?}"),
    }
    // Once the held connections close, the first address is served again.
    drop(held);
    let start = Instant::now();
    loop {
        match get_from(hog, server.addr) {
            Outcome::Answer { status: 200, .. } => break,
            other => {
                assert!(
                    start.elapsed() < Duration::from_secs(5),
                    "not served again after closing: {other:?}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Hostile review 2 (stop 21): IPv6 addresses were counted one by one (a client commonly
/// holds a /64) and an IPv4-mapped address apart from its IPv4 address.
#[test]
fn ipv6_counts_by_slash_64_and_a_mapped_ipv4_address_as_itself() {
    use std::net::Ipv6Addr;
    use tiny_http::connection_bucket;
    let a: Ipv6Addr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: Ipv6Addr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
    let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
    assert_eq!(connection_bucket(a.into()), connection_bucket(b.into()));
    assert_ne!(connection_bucket(a.into()), connection_bucket(c.into()));
    let mapped: Ipv6Addr = "::ffff:192.0.2.7".parse().unwrap();
    let v4 = Ipv4Addr::new(192, 0, 2, 7);
    assert_eq!(connection_bucket(mapped.into()), IpAddr::V4(v4));
    assert_eq!(connection_bucket(v4.into()), IpAddr::V4(v4));
}
