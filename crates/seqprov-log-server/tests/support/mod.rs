//! A log service (and a witness) on loopback for the hardening tests, started with short
//! timeouts and stopped (joined) when dropped; a raw HTTP client that reports what came
//! back, including nothing.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use seqprov_log::log_dir::LogDir;
use seqprov_log_server::http_limits::HttpLimits;
use seqprov_log_server::log_service::{self, ServeOptions};

pub const ORIGIN: &str = "lab.example.org/hardening";

/// A running `log_service::serve`; stopped when dropped.
pub struct LogServer {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    _temp: tempfile::TempDir,
}

impl Drop for LogServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Creates a log (`LogDir::init`) with its key file in a temporary directory.
pub fn new_log() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("tempdir");
    let key = seqprov::PrivateKey::from_seed(&[0x42; 32], None);
    let key_path = temp.path().join("log.key");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_path)
        .and_then(|mut f| f.write_all(key.to_pem().as_bytes()))
        .expect("key file");
    let dir = temp.path().join("log");
    LogDir::init(&dir, ORIGIN, key.signing_key(), &key_path).expect("log init");
    (temp, dir)
}

/// Starts the log service on a fresh log with `http` limits and `workers` workers.
pub fn start_log(http: HttpLimits, workers: usize) -> LogServer {
    let (temp, dir) = new_log();
    serve_log(temp, dir, move |dir| ServeOptions {
        dir,
        listen: "127.0.0.1:0".parse().expect("address"),
        allow: None,
        witness_keys: Vec::new(),
        cosign: None,
        workers,
        http,
        witness_refresh: None,
    })
}

/// Serves the log in `dir` with the options `options(dir)` gives.
pub fn serve_log(
    temp: tempfile::TempDir,
    dir: PathBuf,
    options: impl FnOnce(PathBuf) -> ServeOptions + Send + 'static,
) -> LogServer {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = {
        let stop = Arc::clone(&stop);
        let dir = dir.clone();
        std::thread::spawn(move || {
            log_service::serve(options(dir), stop, &mut |bound| {
                let _ = tx.send(bound);
            })
            .expect("serve");
        })
    };
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the log service did not start");
    LogServer {
        addr,
        dir,
        stop,
        thread: Some(thread),
        _temp: temp,
    }
}

/// The log key of [`new_log`].
pub fn log_signer() -> seqprov_log::note_keys::LogSigner {
    seqprov_log::note_keys::LogSigner {
        origin: ORIGIN.to_string(),
        key: seqprov::PrivateKey::from_seed(&[0x42; 32], None)
            .signing_key()
            .clone(),
    }
}

/// Short limits for tests: 1 s connection timeout and body deadline.
pub fn short_limits() -> HttpLimits {
    HttpLimits {
        connection_timeout: Duration::from_secs(1),
        body_deadline: Duration::from_secs(1),
        // The tests of the total limit connect from one address.
        max_connections_per_ip: 256,
        ..HttpLimits::default()
    }
}

/// What a raw exchange gave.
#[derive(Debug)]
pub enum Outcome {
    /// A status line and the whole answer.
    Answer { status: u16, text: String },
    /// The server closed (or reset) the connection without an answer.
    Closed,
    /// Nothing within the client's timeout.
    Silent,
}

impl Outcome {
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Answer { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Reads an answer from `stream` until the server closes it (or `timeout`).
pub fn read_outcome(stream: &mut TcpStream, timeout: Duration) -> Outcome {
    stream.set_read_timeout(Some(timeout)).expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if got.is_empty() {
                    return Outcome::Silent;
                }
                break;
            }
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    match text
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| text.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
    {
        Some(status) => Outcome::Answer { status, text },
        None => Outcome::Closed,
    }
}

/// Sends `request` (whole) and reads the answer.
pub fn exchange(addr: SocketAddr, request: &[u8], timeout: Duration) -> Outcome {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, timeout) else {
        return Outcome::Closed;
    };
    if stream.write_all(request).is_err() {
        return read_outcome(&mut stream, timeout);
    }
    read_outcome(&mut stream, timeout)
}

/// `GET path` with `Connection: close`.
pub fn get(addr: SocketAddr, path: &str) -> Outcome {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: log\r\nConnection: close\r\n\r\n").as_bytes(),
        Duration::from_secs(5),
    )
}
