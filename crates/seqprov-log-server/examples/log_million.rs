//! Measures the log at 1,000,000 entries (benches/log_load.sh runs it in release mode):
//!
//! 1. builds a log of N entries (default 1,000,000; `LOG_MILLION_ENTRIES`) through
//!    `LogDir::append` in batches of 4,096 (not over HTTP), each a seqprov log entry;
//! 2. p50/p99 of an inclusion proof: `LogDir::receipt` of 10,000 random indexes;
//! 3. serves the log (`log_service::serve` on 127.0.0.1:0, 16 workers) and sends 16
//!    clients × 250 valid submissions (custody events of a sealed run), each client the
//!    next as soon as one is answered (saturation): appends/s and p50/p99 of `POST /add`
//!    (each answered only once its batch is durable);
//! 4. the same at a fixed offered load of 1,000 submissions/s (the throughput
//!    target), 16 clients × 250 sent on a schedule: p50/p99 of `POST /add` counted from
//!    each request's scheduled time (a late send counts its lateness: no coordinated
//!    omission);
//! 5. p50/p99 of `GET` of the tiles a client needs for one inclusion proof.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use seqprov::custody::{EventDraft, sign_next_event};
use seqprov::log_submission::Submission;
use seqprov::{NoProgress, PermissionCheck, PrivateKey, SealOptions};
use seqprov_format::event::EventKind;
use seqprov_format::log_entry::{LogEntry, LogEntryKind};
use seqprov_log::checkpoint;
use seqprov_log::log_dir::LogDir;
use seqprov_log::note_keys::LogSigner;
use seqprov_log_server::log_service::{self, ServeOptions};

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let p99 = samples[(samples.len() * 99).div_ceil(100) - 1];
    (samples[samples.len() / 2], p99)
}

/// Sends each client's requests (one thread a client) and returns every latency. Without
/// a rate, each client sends the next as soon as one is answered and a latency counts from
/// the send; with `rate` (requests per second in all), request `i` of client `c` is due at
/// `(i·clients + c) / rate` s and its latency counts from when it was due.
fn send_all(addr: &str, requests: Vec<Vec<Vec<u8>>>, rate: Option<f64>) -> Vec<Duration> {
    let clients = requests.len();
    let start = Instant::now() + Duration::from_millis(100);
    let threads: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(c, mine)| {
            let addr = addr.to_owned();
            std::thread::spawn(move || {
                mine.iter()
                    .enumerate()
                    .map(|(i, request)| {
                        let due = match rate {
                            Some(rate) => {
                                let due = start
                                    + Duration::from_secs_f64((i * clients + c) as f64 / rate);
                                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                                    std::thread::sleep(wait);
                                }
                                due
                            }
                            None => Instant::now(),
                        };
                        let (ok, answer) = http(&addr, request);
                        assert!(ok, "{}", String::from_utf8_lossy(&answer));
                        due.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|thread| thread.join().expect("client"))
        .collect()
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn http(addr: &str, request: &[u8]) -> (bool, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(request).expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("answer");
    (answer.starts_with(b"HTTP/1.1 200"), answer)
}

fn main() {
    let n: u64 = std::env::var("LOG_MILLION_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let work = tempfile::tempdir().expect("temp dir");
    let dir = work.path();
    let key = PrivateKey::generate(None).expect("key");
    seqprov::keys::write_new_keypair(&dir.join("logkey"), &key).expect("key file");
    let key = PrivateKey::load(&dir.join("logkey.key"), PermissionCheck::Strict).expect("key");
    let log_path = dir.join("log");
    LogDir::init(
        &log_path,
        "bench.example/log",
        key.signing_key(),
        &dir.join("logkey.key"),
    )
    .expect("init");
    let signer = LogSigner {
        origin: "bench.example/log".into(),
        key: key.signing_key().clone(),
    };

    // 1. The log of n entries.
    let start = Instant::now();
    {
        let mut log = LogDir::open(&log_path).expect("open");
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut done = 0u64;
        while done < n {
            let batch: Vec<Vec<u8>> = (0..(n - done).min(4096))
                .map(|i| {
                    let mut digest = [0u8; 32];
                    for chunk in digest.chunks_mut(8) {
                        chunk.copy_from_slice(&xorshift(&mut state).to_be_bytes());
                    }
                    LogEntry {
                        kind: LogEntryKind::Custody,
                        message: digest,
                        signer: [7; 32],
                        seal: [(done + i) as u8; 32],
                        covers: 1,
                        run: Some(format!("RUN{}", (done + i) / 16)),
                        flowcell: None,
                    }
                    .encode()
                })
                .collect();
            done += batch.len() as u64;
            log.append(&batch, &mut |size, root| {
                Ok(checkpoint::sign(&signer, size, root))
            })
            .expect("append");
        }
    }
    println!(
        "built a log of {n} entries through LogDir::append in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    // 2. Inclusion proofs from the log directory.
    {
        let log = LogDir::open(&log_path).expect("open");
        let mut state = 0x9e37_79b9u64;
        let samples: Vec<Duration> = (0..10_000)
            .map(|_| {
                let index = xorshift(&mut state) % n;
                let t = Instant::now();
                let receipt = log.receipt(index).expect("receipt");
                let elapsed = t.elapsed();
                assert_eq!(receipt.index, index);
                elapsed
            })
            .collect();
        let (p50, p99) = percentiles(samples);
        println!("inclusion proof (LogDir::receipt) at {n} entries: p50 {p50:?}, p99 {p99:?}");
    }

    // 3. Submissions over HTTP.
    let run = dir.join("run");
    std::fs::create_dir(&run).expect("run dir");
    std::fs::write(run.join("reads.txt"), b"ACGT\n").expect("file");
    let sealer = PrivateKey::generate(Some("Bench".into())).expect("key");
    let sealed =
        seqprov::seal_directory(&run, &sealer, &SealOptions::default(), &NoProgress).expect("seal");
    let bundle_path = dir.join("run.seqprov");
    seqprov::write_atomically(&bundle_path, &sealed.bundle, seqprov::Overwrite::Refuse)
        .expect("bundle");
    let bundle = seqprov::read_bundle(&bundle_path).expect("bundle");
    let (clients, each) = (16usize, 250usize);
    let make_requests = |tag: &str| -> Vec<Vec<Vec<u8>>> {
        (0..clients)
            .map(|c| {
                (0..each)
                    .map(|i| {
                        let draft = EventDraft {
                            kind: EventKind::Transfer,
                            signer_name: None,
                            role: "courier".into(),
                            meaning: "custody".into(),
                            host: None,
                            to: Some("lab".into()),
                            note: Some(format!("{tag}c{c}i{i}")),
                            verification: None,
                            derived: None,
                            time: None,
                        };
                        let (_, raw) = sign_next_event(&bundle, &sealer, &draft).expect("event");
                        let body = Submission {
                            seal: bundle.seal.raw.clone(),
                            event: Some(raw),
                            token: None,
                            chain: Vec::new(),
                        }
                        .encode();
                        let mut request = format!(
                            "POST /add HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\
                         Content-Type: application/cbor\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        request.extend_from_slice(&body);
                        request
                    })
                    .collect()
            })
            .collect()
    };
    let requests = make_requests("s");
    let scheduled = make_requests("o");
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let server = {
        let stop = Arc::clone(&stop);
        let log_path = log_path.clone();
        std::thread::spawn(move || {
            let options = ServeOptions {
                dir: log_path,
                listen: "127.0.0.1:0".parse().expect("address"),
                allow: None,
                witness_keys: Vec::new(),
                cosign: None,
                workers: 16,
                http: Default::default(),
                witness_refresh: None,
            };
            log_service::serve(options, stop, &mut |bound| {
                let _ = tx.send(bound);
            })
            .expect("serve");
        })
    };
    let t = Instant::now();
    let addr = rx.recv().expect("bound").to_string();
    println!(
        "log serve started (index of {n} entries built) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let samples = send_all(&addr, requests, None);
    let elapsed = start.elapsed();
    let total = clients * each;
    let (p50, p99) = percentiles(samples);
    println!(
        "POST /add at {n} entries, {clients} clients x {each}: {:.0} appends/s, p50 {p50:?}, p99 {p99:?}",
        total as f64 / elapsed.as_secs_f64()
    );

    // 4. At a fixed offered load: request i of client c is due at (i·clients + c) / RATE s.
    let rate: f64 = std::env::var("LOG_MILLION_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1000.0);
    let samples = send_all(&addr, scheduled, Some(rate));
    let (p50, p99) = percentiles(samples);
    println!(
        "POST /add at {n} entries, offered {rate:.0}/s ({clients} clients x {each}, on schedule): p50 {p50:?}, p99 {p99:?}"
    );

    // 5. The tiles of one inclusion proof, over HTTP.
    let size = n + 2 * total as u64;
    let mut state = 0x1234_5678u64;
    let samples: Vec<Duration> = (0..2000)
        .map(|_| {
            let index = xorshift(&mut state) % n;
            let t = Instant::now();
            for level in 0..3u8 {
                let tile = index >> (8 * (u32::from(level) + 1));
                let width = ((size >> (8 * u32::from(level))) - tile * 256).min(256);
                if width == 0 {
                    continue;
                }
                let path = seqprov_log::tile_path::TilePath::Hash {
                    level,
                    index: tile,
                    width: width as u16,
                }
                .to_path();
                let request =
                    format!("GET /{path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
                let (ok, answer) = http(&addr, request.as_bytes());
                assert!(ok, "{path}: {}", String::from_utf8_lossy(&answer));
            }
            t.elapsed()
        })
        .collect();
    let (p50, p99) = percentiles(samples);
    println!(
        "GET of the 3 hash tiles of one inclusion proof at {size} entries: p50 {p50:?}, p99 {p99:?}"
    );
    stop.store(true, Ordering::Relaxed);
    server.join().expect("server");
}
