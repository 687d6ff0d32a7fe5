//! The transparency log's client through the real binary, against a real `seqprov log
//! serve` on 127.0.0.1 that each test starts and stops (spec/log.md §5, §7, §8): receipts
//! stored by `--log` and `log submit`, and the attacks `verify --log` must catch — a
//! rollback by one dropped custody event (exit 1), a re-seal of the same run by a trusted
//! key (exit 3 with `one_seal_per_run`), a fork of the log's history (exit 1).

mod tree_copy;

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::str::contains;
use tempfile::TempDir;

const ORIGIN: &str = "lab.example.org/seqprov-test";

/// The binary, with no proxy from the environment: the logs are on 127.0.0.1.
fn seqprov() -> Command {
    let mut command = Command::cargo_bin("seqprov").unwrap();
    for proxy in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(proxy);
    }
    command
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A URL where nothing listens.
fn closed_port_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// A `seqprov log serve` on a loopback port, killed when dropped.
struct LogServer {
    child: Child,
    url: String,
}

impl LogServer {
    fn start(root: &Path, dir: &str) -> LogServer {
        let port = free_port();
        let child = Process::new(assert_cmd::cargo::cargo_bin("seqprov"))
            .current_dir(root)
            .args([
                "log",
                "serve",
                dir,
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("seqprov log serve starts");
        let server = LogServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "log serve did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for LogServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A lab: a run folder `run` (the example run), a sealing key `core`, a log key `logkey`
/// and an empty log in `log`, and `policy.toml` trusting the sealing key and the log.
struct Lab {
    _work: TempDir,
    root: PathBuf,
    vkey: String,
}

impl Lab {
    fn new() -> Lab {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().to_path_buf();
        tree_copy::copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/run-folder"),
            &root.join("run"),
        );
        let mut lab = Lab {
            _work: work,
            root,
            vkey: String::new(),
        };
        lab.run(&["keygen", "--out", "core", "--name", "Core"])
            .success();
        lab.run(&["keygen", "--out", "logkey", "--name", "Log"])
            .success();
        lab.vkey = lab.init_log("log");
        lab.write_policy("policy.toml", "");
        lab
    }

    /// `log init DIR` with the lab's log key and origin; returns the vkey.
    fn init_log(&self, dir: &str) -> String {
        self.run(&[
            "log",
            "init",
            dir,
            "--key",
            "logkey.key",
            "--origin",
            ORIGIN,
        ])
        .success();
        fs::read_to_string(self.root.join(dir).join("log.vkey"))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// A policy trusting `core` and the log, with `extra` lines in its `[log]` table.
    fn write_policy(&self, name: &str, extra: &str) {
        fs::write(
            self.root.join(name),
            format!(
                "version = 1\n[[signer]]\nname = \"Core\"\nkey = \"core.pub\"\n\
                 [log]\nkeys = [\"{}\"]\n{extra}",
                self.vkey
            ),
        )
        .unwrap();
    }

    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        seqprov().current_dir(&self.root).args(args).assert()
    }

    fn serve(&self, dir: &str) -> LogServer {
        LogServer::start(&self.root, dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn append(&self, bundle: &str, to: &str, log: &str) -> assert_cmd::assert::Assert {
        self.run(&[
            "custody", "append", bundle, "--key", "core.key", "--kind", "transfer", "--to", to,
            "--log", log,
        ])
    }
}

fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn seal_with_log_stores_a_receipt_and_verify_with_the_log_policy_passes() {
    let lab = Lab::new();
    let log = lab.serve("log");
    lab.run(&["seal", "run", "--key", "core.key", "--log", &log.url])
        .success()
        .stdout(contains(format!("logged the seal: entry 0 of {ORIGIN}")));
    lab.append("run.seqprov", "Sequencing core", &log.url)
        .success()
        .stdout(contains(format!(
            "logged custody event 1: entry 1 of {ORIGIN}"
        )));
    // Offline: the receipts check against the trusted log key.
    lab.write_policy("required.toml", "require_receipts = true\n");
    lab.run(&["verify", "run", "--policy", "required.toml"])
        .code(0);
    // Online: consistent, the seal and its event are in the log, nothing else.
    let online = lab
        .run(&[
            "verify",
            "run",
            "--policy",
            "policy.toml",
            "--log",
            &log.url,
        ])
        .code(0);
    let out = stdout_of(&online);
    assert!(out.contains("2 of 2 receipts consistent"), "{out}");
    assert!(out.contains("this seal is logged"), "{out}");
    assert!(out.contains("0 other seals of this run"), "{out}");
    // No [log] max_checkpoint_age: the report says that freshness was not proven.
    assert!(
        out.contains(&format!(
            "WARNING      log {ORIGIN}: the freshness of its checkpoint (2 entries) was not \
             proven (the policy sets no [log] max_checkpoint_age): a stale checkpoint would \
             hide later events"
        )),
        "{out}"
    );
    let json = lab
        .run(&[
            "verify",
            "run",
            "--policy",
            "policy.toml",
            "--log",
            &log.url,
            "--json",
        ])
        .code(0);
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let online = &report["log_online"][0];
    assert_eq!(online["origin"], ORIGIN);
    assert_eq!(online["size"], 2);
    assert_eq!(online["seal_logged"], true);
    assert_eq!(online["receipts"].as_array().unwrap().len(), 2);
    assert_eq!(online["receipts"][0]["status"], "consistent");
    assert_eq!(online["rollback"].as_array().unwrap().len(), 0);
    // Also from a copy of the log's directory.
    lab.run(&["verify", "run", "--policy", "policy.toml", "--log", "log"])
        .code(0);
}

/// Regression (review of issue 14): `receive --log` stored a receipt whose checkpoint no
/// trusted key signed unless `--log-key` was given, although its `--policy` names the
/// log's key. An impostor log with the lab's origin and another key is now refused.
#[test]
fn receive_checks_the_receipt_against_the_policys_log_key() {
    let lab = Lab::new();
    lab.run(&["seal", "run", "--key", "core.key", "-q"])
        .success();
    lab.run(&["keygen", "--out", "impostorkey", "--name", "Impostor"])
        .success();
    lab.run(&[
        "log",
        "init",
        "impostor",
        "--key",
        "impostorkey.key",
        "--origin",
        ORIGIN,
    ])
    .success();
    let impostor = lab.serve("impostor");
    let receive = |log: &str, policy: &[&str]| {
        let mut args = vec!["receive", "run", "--key", "core.key", "--role", "lab"];
        args.extend_from_slice(policy);
        args.extend_from_slice(&["--log", log]);
        lab.run(&args)
    };
    let refused = receive(&impostor.url, &["--policy", "policy.toml"]).code(2);
    let err = stderr_of(&refused);
    assert!(
        err.contains("does not verify") || err.contains("no signature by the log key"),
        "{err}"
    );
    // The receive event is appended (and stays valid); no receipt was stored for it.
    let bundle = seqprov::read_bundle(&lab.path("run.seqprov")).unwrap();
    assert_eq!(bundle.events.len(), 1);
    assert!(bundle.log_receipts.is_empty());
    // The lab's own log, with the policy: stored.
    let log = lab.serve("log");
    receive(&log.url, &["--policy", "policy.toml"])
        .success()
        .stdout(contains(format!(
            "logged custody event 2: entry 0 of {ORIGIN}"
        )));
    // With --trust only (no policy naming a log), nothing can check who signed: the
    // impostor's receipt is stored and a note says its signature was not checked; verify
    // with the policy then finds it (exit 1).
    let stored = receive(&impostor.url, &["--trust", "core.pub"]).success();
    assert!(
        stderr_of(&stored).contains("no --log-key: the receipts' inclusion proofs are checked"),
        "{}",
        stderr_of(&stored)
    );
    lab.run(&["verify", "run", "--policy", "policy.toml"])
        .code(1);
}

#[test]
fn rollback_a_copy_missing_its_last_custody_event_is_exit_1_naming_the_event() {
    let lab = Lab::new();
    let log = lab.serve("log");
    lab.run(&["seal", "run", "--key", "core.key", "--log", &log.url])
        .success();
    lab.append("run.seqprov", "Lab A", &log.url).success();
    fs::copy(lab.path("run.seqprov"), lab.path("older.seqprov")).unwrap();
    lab.append("run.seqprov", "Lab B", &log.url).success();
    // The newest bundle passes; the older copy, handed over as if current, does not.
    lab.run(&[
        "verify",
        "run",
        "--policy",
        "policy.toml",
        "--log",
        &log.url,
    ])
    .code(0);
    // Offline, the older copy is a valid bundle: only the log knows better.
    lab.run(&[
        "verify",
        "run",
        "--bundle",
        "older.seqprov",
        "--policy",
        "policy.toml",
    ])
    .code(0);
    let rolled = lab
        .run(&[
            "verify",
            "run",
            "--bundle",
            "older.seqprov",
            "--policy",
            "policy.toml",
            "--log",
            &log.url,
        ])
        .code(1);
    let out = stdout_of(&rolled);
    assert!(
        out.contains(&format!(
            "log {ORIGIN}: rollback: custody event 2 is in the log (entry 2) but not in this \
             bundle, which has 1 custody events"
        )),
        "{out}"
    );
    assert!(out.contains("INTEGRITY FAILURE"), "{out}");
}

#[test]
fn a_second_seal_of_the_run_by_a_trusted_key_is_reported_and_fails_one_seal_per_run() {
    let lab = Lab::new();
    let log = lab.serve("log");
    lab.run(&["seal", "run", "--key", "core.key", "--log", &log.url])
        .success();
    // The same run sealed again (e.g. after altering data) by the same trusted key.
    lab.run(&[
        "seal",
        "run",
        "--key",
        "core.key",
        "--out",
        "reseal.seqprov",
        "--log",
        &log.url,
    ])
    .success();
    let reported = lab
        .run(&[
            "verify",
            "run",
            "--policy",
            "policy.toml",
            "--log",
            &log.url,
        ])
        .code(0);
    let out = stdout_of(&reported);
    assert!(out.contains("1 other seals of this run"), "{out}");
    assert!(
        out.contains(
            "another seal of run 261125_EXAMPLE_0001_AEXAMPLEXX / flow cell EXAMPLEXX at entry 1"
        ),
        "{out}"
    );
    lab.write_policy("strict.toml", "one_seal_per_run = true\n");
    let refused = lab
        .run(&[
            "verify",
            "run",
            "--policy",
            "strict.toml",
            "--log",
            &log.url,
        ])
        .code(3);
    let out = stdout_of(&refused);
    assert!(
        out.contains("POLICY       one_seal_per_run (seal)"),
        "{out}"
    );
    assert!(out.contains("POLICY NOT SATISFIED"), "{out}");
    // Both bundles fail alike: each sees the other.
    lab.run(&[
        "verify",
        "run",
        "--bundle",
        "reseal.seqprov",
        "--policy",
        "strict.toml",
        "--log",
        &log.url,
    ])
    .code(3);
}

#[test]
fn a_fork_signed_by_the_log_key_is_exit_1() {
    let lab = Lab::new();
    {
        let log = lab.serve("log");
        lab.run(&["seal", "run", "--key", "core.key", "--log", &log.url])
            .success();
    }
    // A second history under the same key and origin: other entries at the same indexes.
    tree_copy::copy_tree(&lab.path("run"), &lab.path("other"));
    fs::write(lab.path("other/extra.txt"), "another run's data\n").unwrap();
    let vkey = lab.init_log("forked");
    assert_eq!(vkey, lab.vkey);
    {
        let forked = lab.serve("forked");
        lab.run(&["seal", "other", "--key", "core.key", "--log", &forked.url])
            .success();
        lab.append("other.seqprov", "Lab A", &forked.url).success();
        let fork = lab
            .run(&[
                "verify",
                "run",
                "--policy",
                "policy.toml",
                "--log",
                &forked.url,
            ])
            .code(1);
        let out = stdout_of(&fork);
        assert!(out.contains(&format!("log {ORIGIN}: fork: ")), "{out}");
        assert!(
            out.contains("does not extend the tree of 1 entries"),
            "{out}"
        );
    }
    // The same from a copy of the forked log's directory, and from an empty second
    // history (smaller than the receipt's tree).
    lab.run(&[
        "verify",
        "run",
        "--policy",
        "policy.toml",
        "--log",
        "forked",
    ])
    .code(1)
    .stdout(contains("fork"));
    lab.init_log("empty");
    lab.run(&["verify", "run", "--policy", "policy.toml", "--log", "empty"])
        .code(1)
        .stdout(contains("the log now serves only 0"));
}

#[test]
fn log_submit_adds_the_receipts_a_bundle_sealed_without_log_lacks() {
    let lab = Lab::new();
    lab.run(&["seal", "run", "--key", "core.key"]).success();
    lab.run(&[
        "custody",
        "append",
        "run.seqprov",
        "--key",
        "core.key",
        "--kind",
        "transfer",
        "--to",
        "Lab",
    ])
    .success();
    lab.write_policy("required.toml", "require_receipts = true\n");
    lab.run(&["verify", "run", "--policy", "required.toml"])
        .code(3)
        .stdout(contains("log_receipt_required"));
    let log = lab.serve("log");
    lab.run(&["log", "submit", "run.seqprov", "--log", &log.url])
        .success()
        .stdout(contains("logged the seal: entry 0"))
        .stdout(contains("logged custody event 1: entry 1"));
    lab.run(&["verify", "run", "--policy", "required.toml"])
        .code(0);
    let before = fs::read(lab.path("run.seqprov")).unwrap();
    lab.run(&["log", "submit", "run.seqprov", "--log", &log.url])
        .success()
        .stdout(contains("nothing was submitted"));
    assert_eq!(fs::read(lab.path("run.seqprov")).unwrap(), before);
    lab.run(&[
        "verify",
        "run",
        "--policy",
        "required.toml",
        "--log",
        &log.url,
    ])
    .code(0);
}

#[test]
fn an_unreachable_log_is_exit_2_with_one_line_and_the_bundle_stays_valid() {
    let lab = Lab::new();
    let closed = closed_port_url();
    let failed = lab
        .run(&["seal", "run", "--key", "core.key", "--log", &closed])
        .code(2);
    let err = stderr_of(&failed);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot be reached"), "{err}");
    assert!(err.contains("is written and stays valid"), "{err}");
    lab.run(&["verify", "run", "--policy", "policy.toml"])
        .code(0);
    let before = fs::read(lab.path("run.seqprov")).unwrap();
    let submit = lab
        .run(&["log", "submit", "run.seqprov", "--log", &closed])
        .code(2);
    assert_eq!(stderr_of(&submit).lines().count(), 1);
    assert_eq!(fs::read(lab.path("run.seqprov")).unwrap(), before);
    lab.append("run.seqprov", "Lab", &closed).code(2);
    // The event is appended and valid; only its receipt is missing.
    lab.run(&["verify", "run", "--policy", "policy.toml"])
        .code(0)
        .stdout(contains("custody: 1 events, 1 intact"));
    lab.run(&["verify", "run", "--policy", "policy.toml", "--log", &closed])
        .code(2);
}

#[test]
fn log_show_lists_a_runs_entries_and_escapes_a_hostile_run_id() {
    let lab = Lab::new();
    let info = fs::read_to_string(lab.path("run/RunInfo.xml")).unwrap();
    fs::write(
        lab.path("run/RunInfo.xml"),
        info.replace(
            "Run Id=\"261125_EXAMPLE_0001_AEXAMPLEXX\"",
            "Run Id=\"RUN&#x202e;LIVE\"",
        ),
    )
    .unwrap();
    tree_copy::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/run-folder"),
        &lab.path("plain"),
    );
    let log = lab.serve("log");
    lab.run(&["seal", "run", "--key", "core.key", "--log", &log.url])
        .success();
    lab.append("run.seqprov", "Lab", &log.url).success();
    lab.run(&["seal", "plain", "--key", "core.key", "--log", &log.url])
        .success();
    let hostile = "RUN\u{202e}LIVE";
    let shown = lab
        .run(&[
            "log",
            "show",
            &log.url,
            "--run",
            hostile,
            "--log-key",
            &lab.vkey,
        ])
        .code(0);
    let out = stdout_of(&shown);
    assert!(!out.contains('\u{202e}'), "{out}");
    assert!(out.contains("RUN\\u{202e}LIVE"), "{out}");
    assert!(out.contains("2 entries of run or flow cell"), "{out}");
    let json = lab
        .run(&[
            "log",
            "show",
            "log",
            "--run",
            hostile,
            "--policy",
            "policy.toml",
            "--json",
        ])
        .code(0);
    let listing: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let entries = listing["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["kind"], "seal");
    assert_eq!(entries[0]["run"], hostile);
    assert_eq!(entries[1]["kind"], "custody");
    assert_eq!(entries[1]["covers"], 1);
    assert_eq!(listing["size"], 3);
    // Without a trusted key nothing is listed.
    lab.run(&["log", "show", &log.url]).code(2);
    // A key of another log: the checkpoint is not trusted.
    lab.run(&["keygen", "--out", "otherlog"]).success();
    lab.run(&[
        "log",
        "init",
        "otherdir",
        "--key",
        "otherlog.key",
        "--origin",
        ORIGIN,
    ])
    .success();
    let other_vkey = fs::read_to_string(lab.path("otherdir/log.vkey")).unwrap();
    lab.run(&["log", "show", &log.url, "--log-key", other_vkey.trim()])
        .code(1);
}

/// What a [`HostileServer`] answers every request with.
#[derive(Clone, Copy)]
enum Hostile {
    /// A 200 with a long body, one byte every 200 ms.
    Trickle,
    /// A redirect to a URL that would answer.
    Redirect,
}

/// A loopback HTTP server that answers badly, stopped when dropped.
struct HostileServer {
    url: String,
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostileServer {
    fn start(mode: Hostile, redirect_to: &str) -> HostileServer {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let location = redirect_to.to_owned();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let stopping = stopping.clone();
                let location = location.clone();
                std::thread::spawn(move || {
                    let mut request = [0u8; 4096];
                    let _ = stream.read(&mut request);
                    match mode {
                        Hostile::Trickle => {
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
                            while !stopping.load(Ordering::SeqCst) {
                                if stream.write_all(b"x").is_err() {
                                    break;
                                }
                                std::thread::sleep(Duration::from_millis(200));
                            }
                        }
                        Hostile::Redirect => {
                            let _ = stream.write_all(
                                format!(
                                    "HTTP/1.1 302 Found\r\nLocation: {location}/checkpoint\r\n\
                                     Content-Length: 0\r\n\r\n"
                                )
                                .as_bytes(),
                            );
                        }
                    }
                });
            }
        });
        HostileServer {
            url: format!("http://127.0.0.1:{port}"),
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// F3: a server that trickles its answer byte by byte is cut off by --log-timeout, on
/// `verify --log`, `log show` and the origin lookup of `seal --log`: exit 2, one line.
#[test]
fn a_log_that_trickles_its_answer_is_cut_off_by_the_time_limit_exit_2() {
    let lab = Lab::new();
    lab.run(&["seal", "run", "--key", "core.key"]).success();
    let slow = HostileServer::start(Hostile::Trickle, "");
    let commands: [Vec<&str>; 3] = [
        vec![
            "verify",
            "run",
            "--policy",
            "policy.toml",
            "--log",
            &slow.url,
            "--log-timeout",
            "1",
        ],
        vec![
            "log",
            "show",
            &slow.url,
            "--log-key",
            &lab.vkey,
            "--log-timeout",
            "1",
        ],
        vec![
            "custody",
            "append",
            "run.seqprov",
            "--key",
            "core.key",
            "--kind",
            "transfer",
            "--to",
            "Lab",
            "--log",
            &slow.url,
            "--log-timeout",
            "1",
        ],
    ];
    for args in &commands {
        let start = Instant::now();
        let failed = lab.run(args).code(2);
        let took = start.elapsed();
        let err = stderr_of(&failed);
        assert!(took < Duration::from_secs(8), "{args:?} took {took:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains("no complete answer within 1 s"),
            "{args:?}: {err}"
        );
    }
}

/// F3: a redirect is not followed (a log URL names the log, not somewhere it points to).
#[test]
fn a_log_that_redirects_is_not_followed_exit_2() {
    let lab = Lab::new();
    let log = lab.serve("log");
    lab.run(&["seal", "run", "--key", "core.key", "--log", &log.url])
        .success();
    let redirect = HostileServer::start(Hostile::Redirect, &log.url);
    let failed = lab
        .run(&[
            "verify",
            "run",
            "--policy",
            "policy.toml",
            "--log",
            &redirect.url,
        ])
        .code(2);
    let err = stderr_of(&failed);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("answered HTTP 302"), "{err}");
}

/// F1(b): the checkpoint of another trusted log served where the bundle's log was
/// expected: the bundle's receipts are not skipped silently (exit 2, naming the log).
#[test]
fn receipts_of_a_trusted_log_that_no_log_served_are_exit_2_naming_it() {
    let lab = Lab::new();
    let log = lab.serve("log");
    lab.run(&["seal", "run", "--key", "core.key", "--log", &log.url])
        .success();
    lab.run(&["keygen", "--out", "otherlog"]).success();
    lab.run(&[
        "log",
        "init",
        "other",
        "--key",
        "otherlog.key",
        "--origin",
        "other.example.org/log",
    ])
    .success();
    let other_vkey = fs::read_to_string(lab.path("other/log.vkey")).unwrap();
    fs::write(
        lab.path("two.toml"),
        format!(
            "version = 1\n[[signer]]\nname = \"Core\"\nkey = \"core.pub\"\n\
             [log]\nkeys = [\"{}\", \"{}\"]\n",
            lab.vkey,
            other_vkey.trim()
        ),
    )
    .unwrap();
    let other = lab.serve("other");
    let skipped = lab
        .run(&["verify", "run", "--policy", "two.toml", "--log", &other.url])
        .code(2);
    let out = stdout_of(&skipped);
    let line = format!("receipts of log {ORIGIN} were not checked online: no --log served it");
    assert_eq!(out.matches(&line).count(), 1, "{out}");
    let json = lab
        .run(&[
            "verify", "run", "--policy", "two.toml", "--log", &other.url, "--json",
        ])
        .code(2);
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(report["exit_code"], 2);
    assert_eq!(report["verdict"], "error");
    assert_eq!(
        report["log_unchecked"],
        serde_json::json!([{ "covers": 0, "log": ORIGIN }])
    );
    assert_eq!(report["log_online"][0]["origin"], "other.example.org/log");
    // Both logs asked: nothing unchecked.
    lab.run(&[
        "verify", "run", "--policy", "two.toml", "--log", &other.url, "--log", &log.url,
    ])
    .code(0);
}
