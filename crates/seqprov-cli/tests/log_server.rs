//! `seqprov log init` and `seqprov log serve` through the real binary (spec/log.md §3–§4,
//! §9): bad input is refused with its status and appends nothing; kill -9 at random
//! moments loses no acknowledged entry and never publishes two checkpoints of one size;
//! concurrent clients lose and duplicate nothing; the page shows a run's timeline and
//! shows hostile text as text (in Chromium with `SEQPROV_BROWSER_TESTS=1`).
//!
//! Valid submissions are made in the test: a run folder sealed with `seqprov seal`, and
//! custody events signed for it in memory (each one a distinct, valid `seq` 1 event).

mod tree_copy;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use seqprov::custody::{EventDraft, sign_next_event};
use seqprov::log_submission::Submission;
use seqprov::{Bundle, PermissionCheck, PrivateKey};
use seqprov_format::event::EventKind;
use seqprov_log::checkpoint;
use seqprov_log::merkle::{check_inclusion, record_hash};
use seqprov_log::proof_text::TlogProof;
use tempfile::TempDir;

fn seqprov() -> Command {
    Command::cargo_bin("seqprov").unwrap()
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = seqprov().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A lab: keys `core` and `outsider`, a run sealed by core, a log keyed by `logkey`.
struct Lab {
    work: TempDir,
    bundle: Bundle,
    core: PrivateKey,
}

impl Lab {
    fn dir(&self) -> &Path {
        self.work.path()
    }
    fn log(&self) -> PathBuf {
        self.dir().join("log")
    }
}

fn lab() -> Lab {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    for name in ["core", "outsider", "logkey"] {
        assert_eq!(run(dir, &["keygen", "--out", name]).0, 0);
    }
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/run-folder");
    tree_copy::copy_tree(&from, &dir.join("run"));
    assert_eq!(run(dir, &["seal", "run", "--key", "core.key", "-q"]).0, 0);
    let (code, out, err) = run(
        dir,
        &[
            "log",
            "init",
            "log",
            "--key",
            "logkey.key",
            "--origin",
            "lab.example/seqprov",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("lab.example/seqprov+"), "{out}");
    std::fs::write(
        dir.join("allow.toml"),
        "version = 1\n[[signer]]\nname = \"core\"\nkey = \"core.pub\"\n",
    )
    .unwrap();
    let bundle = seqprov::read_bundle(&dir.join("run.seqprov")).unwrap();
    let core = PrivateKey::load(&dir.join("core.key"), PermissionCheck::Strict).unwrap();
    Lab { work, bundle, core }
}

/// A custody event for the lab's seal, signed by `key`, made distinct by `note`.
fn event_submission(bundle: &Bundle, key: &PrivateKey, note: &str) -> Vec<u8> {
    let draft = EventDraft {
        kind: EventKind::Transfer,
        signer_name: Some("Courier".into()),
        role: "courier".into(),
        meaning: "custody".into(),
        host: Some("bench".into()),
        to: Some("lab".into()),
        note: Some(note.into()),
        verification: None,
        derived: None,
        time: None,
    };
    let (_, raw) = sign_next_event(bundle, key, &draft).unwrap();
    Submission {
        seal: bundle.seal.raw.clone(),
        event: Some(raw),
        token: None,
        chain: Vec::new(),
    }
    .encode()
}

fn seal_submission(bundle: &Bundle) -> Vec<u8> {
    Submission {
        seal: bundle.seal.raw.clone(),
        event: None,
        token: None,
        chain: Vec::new(),
    }
    .encode()
}

/// A running `seqprov log serve`, killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(log: &Path, extra: &[&str]) -> Server {
    serve_with_stderr(log, extra, Stdio::inherit())
}

fn serve_with_stderr(log: &Path, extra: &[&str], stderr: Stdio) -> Server {
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("seqprov"))
        .arg("log")
        .arg("serve")
        .arg(log)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .current_dir(log.parent().unwrap())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("serve printed {line:?}"))
        .to_owned();
    Server { child, addr }
}

/// One HTTP/1.1 exchange on a new connection, written by hand so that the test can send
/// what no client library would (dot segments, a lying Content-Length).
fn http(addr: &str, head: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut request = format!("{head}\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let at = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |p| p + 4);
    (status, answer[at..].to_vec())
}

/// Waits for `child` to end; panics if it has not within `limit`.
fn wait_for_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not stop within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn server_alive(server: &Server) -> bool {
    // `try_wait` needs `&mut`; a zero signal asks the kernel whether the process exists
    // and has not ended (a zombie still answers, so also ask the server something).
    let pid = rustix::process::Pid::from_raw(server.child.id() as i32).unwrap();
    rustix::process::test_kill_process(pid).is_ok() && get(&server.addr, "/checkpoint").0 == 200
}

fn get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    http(addr, &format!("GET {path} HTTP/1.1"), b"")
}

fn post(addr: &str, body: &[u8]) -> (u16, Vec<u8>) {
    http(
        addr,
        &format!(
            "POST /add HTTP/1.1\r\nContent-Type: application/cbor\r\nContent-Length: {}",
            body.len()
        ),
        body,
    )
}

fn tree_size(addr: &str) -> u64 {
    let (status, note) = get(addr, "/checkpoint");
    assert_eq!(status, 200);
    checkpoint::parse_unverified(&note).unwrap().1
}

/// The entry a submission becomes, as the log records it.
fn entry_of(submission: &[u8]) -> Vec<u8> {
    let sub = Submission::decode(submission).unwrap();
    seqprov::log_submission::check_submission(&sub, None)
        .unwrap()
        .encode()
}

/// Checks a receipt proves `entry`; returns (index, size, root).
fn check_receipt(receipt: &[u8], entry: &[u8]) -> (u64, u64, [u8; 32]) {
    let proof = TlogProof::parse(receipt).unwrap();
    let (_, size, root) = checkpoint::parse_unverified(&proof.checkpoint).unwrap();
    check_inclusion(&proof.path, size, &root, proof.index, &record_hash(entry)).unwrap();
    (proof.index, size, root)
}

#[test]
fn init_refuses_a_non_empty_directory_and_a_bad_origin() {
    let lab = lab();
    let (code, _, err) = run(
        lab.dir(),
        &[
            "log",
            "init",
            "run",
            "--key",
            "logkey.key",
            "--origin",
            "x.example/log",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("not empty"), "{err}");
    let (code, _, err) = run(
        lab.dir(),
        &[
            "log",
            "init",
            "new",
            "--key",
            "logkey.key",
            "--origin",
            "has space",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.starts_with("seqprov: error: --origin"), "{err}");
    assert!(!lab.dir().join("new").exists());
}

#[test]
fn bad_input_is_refused_appends_nothing_and_the_server_keeps_serving() {
    let lab = lab();
    let outsider =
        PrivateKey::load(&lab.dir().join("outsider.key"), PermissionCheck::Strict).unwrap();
    let server = serve(&lab.log(), &["--allow", "allow.toml"]);
    let addr = server.addr.as_str();
    assert_eq!(tree_size(addr), 0);

    // Garbage.
    let (status, body) = post(addr, b"\xff\x00 not cbor");
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    // Over the cap: refused from the header, before any body byte is sent.
    let (status, body) = http(
        addr,
        "POST /add HTTP/1.1\r\nContent-Type: application/cbor\r\nContent-Length: 17825793",
        b"",
    );
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    // A Content-Length no machine could hold, refused unread: tiny_http 0.12.0 used to
    // drain it through a buffer of that size and abort (vendor/README.md).
    let (status, _) = http(
        addr,
        "POST /add HTTP/1.1\r\nContent-Type: application/cbor\r\nContent-Length: 1000000000000000",
        b"",
    );
    assert_eq!(status, 413);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(tree_size(addr), 0);
    // Wrong content type.
    assert_eq!(
        http(
            addr,
            "POST /add HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 1",
            b"x"
        )
        .0,
        415
    );
    // A wrong signature: one byte of the event's signature flipped.
    let mut sub = Submission::decode(&event_submission(&lab.bundle, &lab.core, "x")).unwrap();
    let event = sub.event.as_mut().unwrap();
    let last = event.len() - 1;
    event[last] ^= 1;
    let (status, body) = post(addr, &sub.encode());
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    // A signer the policy does not allow.
    let (status, body) = post(addr, &event_submission(&lab.bundle, &outsider, "outsider"));
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).ends_with('\n'));
    assert_eq!(String::from_utf8_lossy(&body).lines().count(), 1);
    // Path traversal and non-canonical tile paths; wrong methods.
    for path in [
        "/tile/../seqprov-log.toml",
        "/tile/0/..%2f..",
        "/tile/0/000.p/0",
        "/tile/0/000",
        "/tile//0/000",
        "/tile/entries/000.p/001",
        "/seqprov-log.toml",
        "/public/checkpoint",
        "/checkpoint?x=1",
        "/../log.vkey",
    ] {
        let (status, body) = get(addr, path);
        assert_eq!(status, 404, "{path}: {}", String::from_utf8_lossy(&body));
        assert!(!String::from_utf8_lossy(&body).contains("origin"), "{path}");
    }
    assert_eq!(http(addr, "GET /add HTTP/1.1", b"").0, 405);
    assert!(server_alive(&server), "the server died on bad input");
    assert_eq!(http(addr, "DELETE /checkpoint HTTP/1.1", b"").0, 405);
    assert_eq!(
        tree_size(addr),
        0,
        "a refused submission appended something"
    );

    // Replay: the same message twice is one entry with one index.
    let seal = seal_submission(&lab.bundle);
    let (s1, r1) = post(addr, &seal);
    let (s2, r2) = post(addr, &seal);
    assert_eq!((s1, s2), (200, 200), "{}", String::from_utf8_lossy(&r2));
    let entry = entry_of(&seal);
    assert_eq!(check_receipt(&r1, &entry).0, check_receipt(&r2, &entry).0);
    assert_eq!(tree_size(addr), 1);
    let event = event_submission(&lab.bundle, &lab.core, "allowed");
    assert_eq!(post(addr, &event).0, 200);
    assert_eq!(post(addr, &event).0, 200);
    assert_eq!(tree_size(addr), 2);
    // Tiles are served, with their cache headers' meaning: a partial tile is no-cache.
    let (status, tile) = get(addr, "/tile/entries/000.p/2");
    assert_eq!(status, 200);
    assert_eq!(tile.len(), 4 + entry.len() + entry_of(&event).len());
}

/// Acknowledged entries: (index from the receipt, entry).
type Acknowledged = Vec<(u64, Vec<u8>)>;

/// Every checkpoint seen, by size: no two of one size may differ.
#[derive(Default)]
struct Seen {
    roots: BTreeMap<u64, [u8; 32]>,
}

impl Seen {
    fn record(&mut self, size: u64, root: [u8; 32]) {
        let known = *self.roots.entry(size).or_insert(root);
        assert_eq!(
            known, root,
            "two checkpoints of size {size} with different roots"
        );
    }
}

#[test]
fn kill_9_at_random_moments_loses_no_acknowledged_entry() {
    let lab = Arc::new(lab());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let acked: Arc<Mutex<Acknowledged>> = Arc::default();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(std::process::id());
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut last_size = 0;
    for round in 0..20 {
        let server = serve(&lab.log(), &[]);
        let addr = server.addr.clone();
        // After the restart: every acknowledged entry is where its receipt said.
        let size = tree_size(&addr);
        assert!(
            size >= last_size,
            "round {round}: tree shrank {last_size} -> {size}"
        );
        last_size = size;
        let (_, note) = get(&addr, "/checkpoint");
        let (_, _, root) = checkpoint::parse_unverified(&note).unwrap();
        seen.lock().unwrap().record(size, root);
        check_all_present(&lab.log(), size, &root, &acked.lock().unwrap());

        let clients: Vec<_> = (0..4)
            .map(|c| {
                let (lab, addr, seen, acked) = (
                    Arc::clone(&lab),
                    addr.clone(),
                    Arc::clone(&seen),
                    Arc::clone(&acked),
                );
                std::thread::spawn(move || {
                    for i in 0.. {
                        let sub =
                            event_submission(&lab.bundle, &lab.core, &format!("r{round}c{c}i{i}"));
                        let Ok(mut stream) = TcpStream::connect(&addr) else {
                            return;
                        };
                        let head = format!(
                            "POST /add HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                             Content-Type: application/cbor\r\nContent-Length: {}\r\n\r\n",
                            sub.len()
                        );
                        if stream.write_all(head.as_bytes()).is_err()
                            || stream.write_all(&sub).is_err()
                        {
                            return;
                        }
                        let mut answer = Vec::new();
                        if stream.read_to_end(&mut answer).is_err() {
                            return;
                        }
                        let Some(at) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
                            return;
                        };
                        if !answer.starts_with(b"HTTP/1.1 200") {
                            return;
                        }
                        // A complete 200 answer is an acknowledgement.
                        let Ok(proof) = TlogProof::parse(&answer[at + 4..]) else {
                            return;
                        };
                        let entry = entry_of(&sub);
                        let (index, size, root) = check_receipt(&answer[at + 4..], &entry);
                        assert_eq!(index, proof.index);
                        seen.lock().unwrap().record(size, root);
                        acked.lock().unwrap().push((index, entry));
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20 + next() % 400));
        drop(server); // SIGKILL
        for client in clients {
            client.join().unwrap();
        }
    }
    let server = serve(&lab.log(), &[]);
    let size = tree_size(&server.addr);
    let (_, note) = get(&server.addr, "/checkpoint");
    let (_, _, root) = checkpoint::parse_unverified(&note).unwrap();
    seen.lock().unwrap().record(size, root);
    let acked = acked.lock().unwrap();
    assert!(!acked.is_empty(), "no submission was ever acknowledged");
    check_all_present(&lab.log(), size, &root, &acked);
    eprintln!(
        "{} acknowledged entries over 20 kills; final size {size}",
        acked.len()
    );
}

/// Reads every entry of the tree (size, root) from the log directory, checking the root,
/// and requires each acknowledged (index, entry) to be there.
fn check_all_present(log: &Path, size: u64, root: &[u8; 32], acked: &[(u64, Vec<u8>)]) {
    let source = seqprov_log::tile_source::open_source(log.to_str().unwrap()).unwrap();
    let mut entries = Vec::new();
    seqprov_log::tile_source::scan_entries(&*source, size, root, &mut |_, e| {
        entries.push(e.to_vec());
        Ok(())
    })
    .unwrap();
    for (index, entry) in acked {
        assert!(
            *index < size,
            "acknowledged index {index} beyond size {size}"
        );
        assert_eq!(
            &entries[*index as usize], entry,
            "entry {index} changed or lost"
        );
    }
    let mut sorted = entries.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), entries.len(), "an entry is in the log twice");
}

/// 16 clients × 1,000 submissions: each answered with a receipt, none lost or duplicated.
/// Ignored by default (slow on 2 cores); benches/log_load.sh runs it.
#[test]
#[ignore]
fn sixteen_clients_a_thousand_submissions_each() {
    load(16, 1000);
}

#[test]
fn four_clients_fifty_submissions_each() {
    load(4, 50);
}

fn load(clients: usize, each: usize) {
    let lab = Arc::new(lab());
    let subs: Vec<Vec<Vec<u8>>> = (0..clients)
        .map(|c| {
            (0..each)
                .map(|i| event_submission(&lab.bundle, &lab.core, &format!("c{c}i{i}")))
                .collect()
        })
        .collect();
    let server = serve(&lab.log(), &[]);
    let start = Instant::now();
    let threads: Vec<_> = subs
        .into_iter()
        .map(|mine| {
            let addr = server.addr.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let mut latencies = Vec::new();
                for sub in mine {
                    let t = Instant::now();
                    let (status, receipt) = post(&addr, &sub);
                    latencies.push(t.elapsed());
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&receipt));
                    let entry = entry_of(&sub);
                    got.push((check_receipt(&receipt, &entry).0, entry));
                }
                (got, latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut latencies = Vec::new();
    for t in threads {
        let (got, lat) = t.join().unwrap();
        all.extend(got);
        latencies.extend(lat);
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let total = clients * each;
    let p99 = latencies[(latencies.len() * 99).div_ceil(100) - 1];
    eprintln!(
        "load: {total} submissions from {clients} clients in {:.2} s: {:.0} appends/s, add p50 {:?} p99 {:?}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        latencies[latencies.len() / 2],
        p99
    );
    let size = tree_size(&server.addr);
    assert_eq!(size, total as u64, "lost or duplicated entries");
    let mut indexes: Vec<u64> = all.iter().map(|(i, _)| *i).collect();
    indexes.sort();
    indexes.dedup();
    assert_eq!(indexes.len(), total, "two submissions got one index");
    let (_, note) = get(&server.addr, "/checkpoint");
    let (_, _, root) = checkpoint::parse_unverified(&note).unwrap();
    check_all_present(&lab.log(), size, &root, &all);
}

/// An append that fails once its batch is in the journal (here the entry-bundle directory
/// is swapped for a symbolic link under the running server) stops the service with exit 2
/// and one line, so that its supervisor starts it again; started again, the log replays
/// the journal and publishes the batch.
#[test]
fn a_storage_failure_after_the_journal_stops_the_server_and_a_restart_replays_it() {
    let lab = lab();
    let mut server = serve_with_stderr(&lab.log(), &[], Stdio::piped());
    assert_eq!(post(&server.addr, &seal_submission(&lab.bundle)).0, 200);
    let entries = lab.log().join("public/tile/entries");
    let aside = lab.dir().join("aside");
    std::fs::rename(&entries, &aside).unwrap();
    std::os::unix::fs::symlink(&aside, &entries).unwrap();
    let before = std::fs::read_dir(aside.join("000.p")).unwrap().count();
    let event = event_submission(&lab.bundle, &lab.core, "during the failure");
    let (status, body) = post(&server.addr, &event);
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("stopped appending"), "{body}");
    let status = wait_for_exit(&mut server.child, Duration::from_secs(20));
    let mut err = String::new();
    server
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("the log stopped appending after a storage error (start it again to recover)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(aside.join("000.p")).unwrap().count(),
        before,
        "a tile was written through the link"
    );
    // Put back and started again: the journaled event is published.
    std::fs::remove_file(&entries).unwrap();
    std::fs::rename(&aside, &entries).unwrap();
    let again = serve(&lab.log(), &[]);
    assert_eq!(tree_size(&again.addr), 2);
    let (status, receipt) = post(&again.addr, &event);
    assert_eq!(status, 200);
    assert_eq!(check_receipt(&receipt, &entry_of(&event)).0, 1);
}

#[test]
fn sigterm_stops_the_server_with_exit_0() {
    let lab = lab();
    let mut server = serve(&lab.log(), &[]);
    assert_eq!(post(&server.addr, &seal_submission(&lab.bundle)).0, 200);
    let pid = rustix::process::Pid::from_raw(server.child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = wait_for_exit(&mut server.child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    // The log is released: it can be served again, with its entry.
    let again = serve(&lab.log(), &[]);
    assert_eq!(tree_size(&again.addr), 1);
}

#[test]
fn the_page_lists_runs_searches_and_escapes() {
    let lab = lab();
    let server = serve(&lab.log(), &[]);
    let addr = server.addr.as_str();
    assert_eq!(post(addr, &seal_submission(&lab.bundle)).0, 200);
    assert_eq!(
        post(addr, &event_submission(&lab.bundle, &lab.core, "e")).0,
        200
    );
    let run_id = seqprov::log_submission::run_fields(&lab.bundle.payload)
        .unwrap()
        .0
        .expect("the example run has a run id");
    let (status, page) = get(addr, "/");
    let page = String::from_utf8(page).unwrap();
    assert_eq!(status, 200);
    assert!(page.contains(&run_id), "{page}");
    let (_, page) = get(addr, &format!("/run?id={run_id}"));
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("custody event 1") && page.contains("included in checkpoint 2"));
    let (_, page) = get(addr, "/?q=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E");
    let page = String::from_utf8(page).unwrap();
    assert!(!page.contains("<img"), "{page}");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));

    if std::env::var("SEQPROV_BROWSER_TESTS").as_deref() == Ok("1") {
        browser_checks(addr, &run_id);
    }
}

/// Loads the page in Chromium (Playwright), searches the run, reads the timeline, and
/// opens a hostile run id: it must show as text and fire nothing.
fn browser_checks(addr: &str, run_id: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var("SEQPROV_BROWSER_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/browser/venv"));
    let out = Process::new(venv.join("bin/python"))
        .arg(root.join("tests/browser/check_log_page.py"))
        .arg(format!("http://{addr}/"))
        .arg(run_id)
        .arg(std::env::var("SEQPROV_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser checks failed");
    assert!(text.contains(" 0 failed"), "{text}");
}

/// Hostile review 2 (stop 21, F8): whoever can write the log directory could point
/// `key_path` in `seqprov-log.toml` at another key file, and `log serve` signed with it.
/// It now refuses to start unless the key is that of the log's `log.vkey`.
#[test]
fn log_serve_refuses_a_key_file_that_is_not_the_logs_key() {
    let lab = lab();
    let config_path = lab.log().join("seqprov-log.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let real = lab.dir().join("logkey.key");
    let other = lab.dir().join("outsider.key");
    let swapped = config.replace(real.to_str().unwrap(), other.to_str().unwrap());
    assert_ne!(swapped, config);
    std::fs::write(&config_path, swapped).unwrap();
    let out = Command::cargo_bin("seqprov")
        .unwrap()
        .current_dir(lab.dir())
        .args(["log", "serve", "log", "--listen", "127.0.0.1:0"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("outsider.key named in the log's config is not the key of its log.vkey"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
