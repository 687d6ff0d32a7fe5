//! Reading a log over HTTP: a loopback server (started here, stopped by a Drop guard)
//! serves a log directory's published files through `LogDir::read_public`; the HTTP source
//! reproduces the log's proofs and scan, names the URL of a missing file, and refuses an
//! answer larger than its limit.

use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use ed25519_dalek::SigningKey;
use seqprov_log::checkpoint;
use seqprov_log::log_dir::LogDir;
use seqprov_log::merkle;
use seqprov_log::note_keys::LogSigner;
use seqprov_log::tile_source::{SourceHashes, open_source, scan_entries};
use seqprov_log::{Hash, LogError};

const ORIGIN: &str = "lab.example.org/seqprov-http";

/// The server thread, stopped and joined on drop.
struct Server {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves `log`'s public files; under `/big/` every path answers 100 KiB of zeros.
fn serve(log: LogDir) -> Server {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let port = server.server_addr().to_ip().unwrap().port();
    let s = Arc::clone(&server);
    let thread = std::thread::spawn(move || {
        for request in s.incoming_requests() {
            let path = request.url().trim_start_matches('/').to_string();
            let response = if path.starts_with("big/") {
                tiny_http::Response::from_data(vec![0u8; 100 * 1024])
            } else {
                match log.read_public(&path) {
                    Ok(Some(bytes)) => tiny_http::Response::from_data(bytes),
                    _ => tiny_http::Response::from_data(b"not found\n".to_vec())
                        .with_status_code(404),
                }
            };
            let _ = request.respond(response);
        }
    });
    Server {
        server,
        thread: Some(thread),
        url: format!("http://127.0.0.1:{port}"),
    }
}

fn sign_checkpoint(size: u64, root: &Hash) -> Result<Vec<u8>, LogError> {
    let signer = LogSigner {
        origin: ORIGIN.to_string(),
        key: SigningKey::from_bytes(&[9; 32]),
    };
    Ok(checkpoint::sign(&signer, size, root))
}

#[test]
fn an_http_source_reads_proves_and_scans_a_served_log() {
    let tmp = tempfile::tempdir().unwrap();
    LogDir::init(
        tmp.path(),
        ORIGIN,
        &SigningKey::from_bytes(&[9; 32]),
        Path::new("k"),
    )
    .unwrap();
    let mut log = LogDir::open(tmp.path()).unwrap();
    let entries: Vec<Vec<u8>> = (0..700u32).map(|i| i.to_be_bytes().to_vec()).collect();
    log.append(&entries[..300], &mut sign_checkpoint).unwrap();
    let old_root = log.root_hash();
    log.append(&entries[300..], &mut sign_checkpoint).unwrap();
    let (size, root) = (log.size(), log.root_hash());
    let proofs: Vec<_> = [0u64, 299, 512, 699]
        .iter()
        .map(|&i| log.receipt(i).unwrap().path)
        .collect();
    let consistency = log.consistency_proof(300).unwrap();
    let checkpoint_note = log.checkpoint().to_vec();
    let server = serve(log);

    let source = open_source(&format!("{}/", server.url)).unwrap();
    assert_eq!(source.describe(), server.url);
    assert_eq!(
        source.get("checkpoint", 16 * 1024).unwrap(),
        checkpoint_note
    );
    let hashes = SourceHashes::new(source.as_ref(), size);
    for (i, proof) in [0u64, 299, 512, 699].iter().zip(&proofs) {
        assert_eq!(&merkle::inclusion_proof(&hashes, size, *i).unwrap(), proof);
    }
    assert_eq!(
        merkle::consistency_proof(&hashes, size, 300).unwrap(),
        consistency
    );
    merkle::check_consistency(&consistency, size, &root, 300, &old_root).unwrap();
    let mut seen = Vec::new();
    scan_entries(source.as_ref(), size, &root, &mut |_, e| {
        seen.push(e.to_vec());
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, entries);
    // The same entries claimed for another root: the scan refuses, naming the URL.
    let err = scan_entries(source.as_ref(), size, &old_root, &mut |_, _| Ok(())).unwrap_err();
    assert!(err.to_string().starts_with(&server.url), "{err}");

    // A tile beyond the tree is 404, and the error names the URL.
    let err = source.get("tile/entries/003", 1 << 20).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}/tile/entries/003: not found (HTTP 404)", server.url)
    );
    // A path that is not ours is refused before any request.
    assert!(source.get("../etc/passwd", 100).is_err());

    // An answer over the limit is refused.
    let big = open_source(&format!("{}/big", server.url)).unwrap();
    let err = big.get("checkpoint", 16 * 1024).unwrap_err();
    assert!(err.to_string().contains("larger than 16384 bytes"), "{err}");
    assert_eq!(big.get("checkpoint", 200 * 1024).unwrap().len(), 100 * 1024);
}

#[test]
fn a_directory_that_does_not_exist_is_an_error() {
    let err = open_source("/nonexistent/seqprov-log")
        .err()
        .expect("opened a missing directory");
    assert!(err.to_string().contains("is not a directory"), "{err}");
}

/// A loopback server that answers every request with a long body, one byte every 100 ms;
/// stopped on drop.
struct Trickle {
    url: String,
    port: u16,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Trickle {
    fn start() -> Trickle {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let stopping = Arc::clone(&stopping);
                std::thread::spawn(move || {
                    let mut request = [0u8; 4096];
                    let _ = stream.read(&mut request);
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n");
                    while !stopping.load(Ordering::SeqCst) && stream.write_all(b"x").is_ok() {
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                });
            }
        });
        Trickle {
            url: format!("http://127.0.0.1:{port}"),
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Trickle {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_trickling_server_is_cut_off_per_request_and_in_all() {
    use seqprov_log::tile_source::{HttpLimits, open_source_with};
    use std::time::{Duration, Instant};
    let trickle = Trickle::start();
    // One request: cut off at its own limit.
    let source = open_source_with(
        &trickle.url,
        HttpLimits {
            request: Duration::from_secs(1),
            total: Duration::from_secs(60),
        },
    )
    .unwrap();
    let start = Instant::now();
    let err = source.get("checkpoint", 16 * 1024).unwrap_err().to_string();
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert!(
        err.contains("no complete answer within 1 s (the time limit of one request)"),
        "{err}"
    );
    // All requests together: the total cuts the first short, and the next is not sent.
    let source = open_source_with(
        &trickle.url,
        HttpLimits {
            request: Duration::from_secs(30),
            total: Duration::from_secs(1),
        },
    )
    .unwrap();
    let start = Instant::now();
    let err = source.get("checkpoint", 16 * 1024).unwrap_err().to_string();
    assert!(
        err.contains("no complete answer before the end of the 1 s allowed for reading the log"),
        "{err}"
    );
    let err = source.get("tile/0/000", 8192).unwrap_err().to_string();
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert!(
        err.contains("not read: reading the log took longer than the 1 s allowed in all"),
        "{err}"
    );
}
