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
