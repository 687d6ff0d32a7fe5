//! Hostile directory trees, through the real `seqprov` binary: symlinks (to a file, to a
//! directory, out of the tree, absolute, in a loop), FIFOs, unix sockets and device
//! files. Seal and verify never follow a symlink or open a special file, never block,
//! refuse special files with exit 2 naming the path and its type, and record symlinks as
//! symlinks.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

const TIMEOUT: Duration = Duration::from_secs(30);

fn seqprov() -> Command {
    let mut cmd = Command::cargo_bin("seqprov").unwrap();
    cmd.timeout(TIMEOUT);
    cmd
}

/// A work directory with a key pair `k` and an (empty) directory `run`.
struct Work {
    _dir: TempDir,
    root: PathBuf,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        fs::create_dir(root.join("run")).unwrap();
        seqprov()
            .current_dir(&root)
            .args(["keygen", "--out", "k", "--name", "Tess Tree"])
            .assert()
            .success();
        Work { _dir: dir, root }
    }

    fn run(&self) -> PathBuf {
        self.root.join("run")
    }

    fn cmd(&self, args: &[&str]) -> std::process::Output {
        seqprov()
            .current_dir(&self.root)
            .args(args)
            .output()
            .unwrap()
    }

    fn seal(&self) -> std::process::Output {
        self.cmd(&["seal", "run", "--key", "k.key"])
    }

    /// `verify --json`: the report and the exit code.
    fn verify_json(&self) -> (Value, i32) {
        let out = self.cmd(&["verify", "run", "--trust", "k.pub", "--json"]);
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (report, out.status.code().unwrap())
    }

    fn show_json(&self) -> Value {
        let out = self.cmd(&["show", "run.seqprov", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Nothing was written: no bundle and no temporary file beside `run` or inside it.
    fn assert_nothing_written(&self) {
        for dir in [self.root.clone(), self.run()] {
            let leftovers: Vec<String> = fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".seqprov") || n.starts_with(".seqprov-"))
                .collect();
            assert!(leftovers.is_empty(), "{}: {leftovers:?}", dir.display());
        }
    }
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// (path, class) of every file finding of a report, sorted.
fn findings(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["class"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// A writer blocked in `open(fifo, O_WRONLY)`: its open returns only once some process
/// opens the FIFO for reading. `opened()` tells whether that has happened.
struct FifoWatch {
    opened: Arc<AtomicBool>,
    fifo: PathBuf,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FifoWatch {
    fn start(fifo: &Path) -> FifoWatch {
        let opened = Arc::new(AtomicBool::new(false));
        let thread = {
            let opened = opened.clone();
            let fifo = fifo.to_path_buf();
            std::thread::spawn(move || {
                let _writer = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
                opened.store(true, Ordering::SeqCst);
            })
        };
        // Let the writer reach its blocking open before anything else runs.
        std::thread::sleep(Duration::from_millis(50));
        FifoWatch {
            opened,
            fifo: fifo.to_path_buf(),
            thread: Some(thread),
        }
    }

    /// True if someone opened the FIFO for reading since `start`.
    fn opened(&self) -> bool {
        // If a reader came and went, the writer's open has returned by now.
        std::thread::sleep(Duration::from_millis(200));
        self.opened.load(Ordering::SeqCst)
    }
}

impl Drop for FifoWatch {
    fn drop(&mut self) {
        // Release the writer: open for reading without blocking.
        use std::os::unix::fs::OpenOptionsExt;
        let _reader = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc_o_nonblock())
            .open(&self.fifo);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `O_NONBLOCK` on Linux (the CLI crate has no `libc` dependency).
fn libc_o_nonblock() -> i32 {
    0o4000
}

/// The watch itself works: a reader opening the FIFO is seen.
#[test]
fn fifo_watch_sees_a_reader() {
    let work = Work::new();
    let fifo = work.run().join("pipe");
    mkfifo(&fifo);
    let watch = FifoWatch::start(&fifo);
    assert!(!watch.opened());
    use std::os::unix::fs::OpenOptionsExt;
    let reader = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc_o_nonblock())
        .open(&fifo)
        .unwrap();
    drop(reader);
    assert!(watch.opened());
}

/// Seal must refuse the special file with exit 2, name it and its type, not block, and
/// write nothing.
fn assert_seal_refuses(work: &Work, name: &str, kind: &str) {
    let out = work.seal();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    assert!(err.contains(&format!("run/{name}")), "{name}: {err}");
    assert!(err.contains(&format!("is a {kind}")), "{name}: {err}");
    work.assert_nothing_written();
}

#[test]
fn fifo_is_refused_never_opened_and_never_blocks() {
    let work = Work::new();
    fs::write(work.run().join("reads.fastq"), "@r\nA\n+\nI\n").unwrap();
    mkfifo(&work.run().join("pipe"));
    let watch = FifoWatch::start(&work.run().join("pipe"));
    assert_seal_refuses(&work, "pipe", "fifo");
    assert!(!watch.opened(), "seal opened the FIFO");
}

#[test]
fn unix_socket_is_refused() {
    let work = Work::new();
    fs::write(work.run().join("reads.fastq"), "@r\nA\n+\nI\n").unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(work.run().join("sock")).unwrap();
    assert_seal_refuses(&work, "sock", "socket");
}

#[test]
fn character_device_is_refused() {
    let work = Work::new();
    fs::write(work.run().join("reads.fastq"), "@r\nA\n+\nI\n").unwrap();
    // The same device as /dev/null (1, 3); needs CAP_MKNOD (root here), else skip.
    let made = std::process::Command::new("mknod")
        .arg(work.run().join("null"))
        .args(["c", "1", "3"])
        .output();
    match made {
        Ok(out) if out.status.success() => {}
        other => {
            eprintln!("skipped: mknod failed ({other:?})");
            return;
        }
    }
    assert_seal_refuses(&work, "null", "character device");
}

#[test]
fn special_files_in_subdirectories_are_refused_too() {
    let work = Work::new();
    fs::create_dir_all(work.run().join("Data/L001")).unwrap();
    fs::write(work.run().join("Data/L001/a.bcl"), [1, 2, 3]).unwrap();
    mkfifo(&work.run().join("Data/L001/pipe"));
    let watch = FifoWatch::start(&work.run().join("Data/L001/pipe"));
    assert_seal_refuses(&work, "Data/L001/pipe", "fifo");
    assert!(!watch.opened(), "seal opened the FIFO");
}

#[test]
fn fifo_appearing_after_seal_is_never_opened_by_verify() {
    let work = Work::new();
    fs::write(work.run().join("reads.fastq"), "@r\nA\n+\nI\n").unwrap();
    fs::write(work.run().join("other.fastq"), "@s\nC\n+\nI\n").unwrap();
    assert_eq!(work.seal().status.code(), Some(0));
    // A FIFO in place of a sealed file, and a new one beside it.
    fs::remove_file(work.run().join("reads.fastq")).unwrap();
    mkfifo(&work.run().join("reads.fastq"));
    mkfifo(&work.run().join("new_pipe"));
    let watch_replaced = FifoWatch::start(&work.run().join("reads.fastq"));
    let watch_new = FifoWatch::start(&work.run().join("new_pipe"));
    let (report, code) = work.verify_json();
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        findings(&report),
        [
            ("new_pipe".to_string(), "extra".to_string()),
            ("reads.fastq".to_string(), "type_changed".to_string()),
        ],
        "{report:#}"
    );
    assert_eq!(report["summary"]["ok"], 1);
    assert!(!watch_replaced.opened(), "verify opened the FIFO");
    assert!(!watch_new.opened(), "verify opened the FIFO");
}

/// A tree of regular files and every kind of awkward symlink.
fn symlink_tree(work: &Work) {
    let run = work.run();
    fs::write(run.join("data.fastq"), "@r1\nACGT\n+\nIIII\n").unwrap();
    fs::create_dir(run.join("sub")).unwrap();
    fs::write(run.join("sub/reads.fastq"), "@r2\nTTTT\n+\nIIII\n").unwrap();
    symlink("data.fastq", run.join("to_file")).unwrap();
    symlink("sub", run.join("to_dir")).unwrap();
    symlink("../../etc", run.join("escape_relative")).unwrap();
    symlink("/etc/passwd", run.join("escape_absolute")).unwrap();
    symlink("loop_b", run.join("loop_a")).unwrap();
    symlink("loop_a", run.join("loop_b")).unwrap();
    symlink("does/not/exist", run.join("dangling")).unwrap();
}

const LINKS: [(&str, &str); 7] = [
    ("dangling", "does/not/exist"),
    ("escape_absolute", "/etc/passwd"),
    ("escape_relative", "../../etc"),
    ("loop_a", "loop_b"),
    ("loop_b", "loop_a"),
    ("to_dir", "sub"),
    ("to_file", "data.fastq"),
];

#[test]
fn symlinks_are_sealed_as_symlinks_and_never_followed() {
    let work = Work::new();
    symlink_tree(&work);
    let out = work.seal();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let show = work.show_json();
    // Two regular files and seven symlinks; `sub` is implied by its file.
    assert_eq!(show["seal"]["entries"], 9, "{show:#}");
    assert_eq!(show["seal"]["files"], 2, "{show:#}");
    // Only the two regular files were read: nothing behind a link (such as /etc/passwd).
    assert_eq!(show["seal"]["bytes"], 32, "{show:#}");

    let bundle = seqprov::read_bundle(&work.root.join("run.seqprov")).unwrap();
    let links: Vec<(&str, &str)> = bundle
        .entries
        .iter()
        .filter(|e| e.kind() == seqprov::format::manifest::EntryKind::Symlink)
        .map(|e| (e.path(), e.target().unwrap()))
        .collect();
    assert_eq!(links, LINKS);
    let paths: Vec<&str> = bundle.entries.iter().map(|e| e.path()).collect();
    assert!(
        !paths.iter().any(|p| p.starts_with("to_dir/")
            || p.starts_with("escape_relative/")
            || p.starts_with("loop_a/")),
        "a symlinked directory was walked into: {paths:?}"
    );

    let (report, code) = work.verify_json();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["ok"], 9, "{report:#}");
}

#[test]
fn retargeted_symlinks_are_modified() {
    let work = Work::new();
    symlink_tree(&work);
    assert_eq!(work.seal().status.code(), Some(0));
    for (name, new_target) in [
        ("escape_absolute", "/etc/shadow"),
        ("to_file", "sub/reads.fastq"),
        ("loop_b", "loop_b"),
    ] {
        fs::remove_file(work.run().join(name)).unwrap();
        symlink(new_target, work.run().join(name)).unwrap();
    }
    let (report, code) = work.verify_json();
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        findings(&report),
        [
            ("escape_absolute".to_string(), "modified".to_string()),
            ("loop_b".to_string(), "modified".to_string()),
            ("to_file".to_string(), "modified".to_string()),
        ],
        "{report:#}"
    );
    assert_eq!(report["summary"]["ok"], 6, "{report:#}");
    let details: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["detail"].as_str().unwrap())
        .collect();
    assert!(
        details.contains(&"symlink target changed from \"/etc/passwd\" to \"/etc/shadow\""),
        "{details:?}"
    );
}

#[test]
fn symlink_replaced_by_file_it_pointed_to_is_type_changed() {
    let work = Work::new();
    symlink_tree(&work);
    assert_eq!(work.seal().status.code(), Some(0));
    // Replace the link by a copy of what it pointed to: same bytes, but not a symlink.
    fs::remove_file(work.run().join("to_file")).unwrap();
    fs::copy(work.run().join("data.fastq"), work.run().join("to_file")).unwrap();
    let (report, code) = work.verify_json();
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        findings(&report),
        [("to_file".to_string(), "type_changed".to_string())],
        "{report:#}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        assert!(entry.file_type().unwrap().is_file());
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// `run/sub` sealed, then replaced by a symlink to an identical copy elsewhere (plus one
/// file only the copy has). Verify must not read through the link: the sealed files are
/// missing, the link is extra, and nothing below it is ever `ok`.
fn directory_replaced_by_symlink_to_copy(absolute: bool) {
    let work = Work::new();
    let run = work.run();
    fs::write(run.join("top.txt"), "top\n").unwrap();
    fs::create_dir(run.join("sub")).unwrap();
    fs::write(run.join("sub/a.fastq"), "@a\nA\n+\nI\n").unwrap();
    fs::write(run.join("sub/b.fastq"), "@b\nC\n+\nI\n").unwrap();
    assert_eq!(work.seal().status.code(), Some(0));

    let copy = work.root.join("elsewhere/sub_copy");
    copy_dir(&run.join("sub"), &copy);
    fs::write(copy.join("only_in_copy.fastq"), "@c\nG\n+\nI\n").unwrap();
    fs::remove_dir_all(run.join("sub")).unwrap();
    if absolute {
        symlink(&copy, run.join("sub")).unwrap();
    } else {
        symlink("../elsewhere/sub_copy", run.join("sub")).unwrap();
    }
    // Through the link, everything sealed is there, identical.
    assert_eq!(fs::read(run.join("sub/a.fastq")).unwrap(), b"@a\nA\n+\nI\n");

    let (report, code) = work.verify_json();
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        findings(&report),
        [
            ("sub".to_string(), "extra".to_string()),
            ("sub/a.fastq".to_string(), "missing".to_string()),
            ("sub/b.fastq".to_string(), "missing".to_string()),
        ],
        "{report:#}"
    );
    // Only top.txt is ok; the file that exists only in the copy is never mentioned.
    assert_eq!(report["summary"]["ok"], 1, "{report:#}");
    assert!(
        !report.to_string().contains("only_in_copy"),
        "verify looked inside the symlinked copy: {report:#}"
    );
}

#[test]
fn directory_replaced_by_absolute_symlink_to_a_copy_is_missing_plus_extra() {
    directory_replaced_by_symlink_to_copy(true);
}

#[test]
fn directory_replaced_by_relative_symlink_to_a_copy_is_missing_plus_extra() {
    directory_replaced_by_symlink_to_copy(false);
}

#[test]
fn sealed_root_given_as_a_symlink_is_sealed_through_it() {
    // The root argument itself may be a symlink (documented in `walk::Tree::open`);
    // only links below the root are never followed.
    let work = Work::new();
    fs::write(work.run().join("a.fastq"), "@a\nA\n+\nI\n").unwrap();
    symlink("run", work.root.join("run_link")).unwrap();
    let out = work.cmd(&["seal", "run_link", "--key", "k.key", "--out", "run.seqprov"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (report, code) = work.verify_json();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["ok"], 1);
}

/// The name a keyless attacker plants: a carriage return and a forged verdict, an ANSI
/// "erase line", a right-to-left override and a newline starting a forged line.
const HOSTILE_NAME: &str = "x\rverified: 7 entries ok\u{1b}[2K\u{202e}\nfake";

/// Text output carries no terminal control: no C0 control but the line-separating
/// newline, no DEL, no C1 control, no bidi override; and no line forged by the name.
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for c in text.chars() {
        let control = (c < ' ' && c != '\n')
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(!control, "{what} holds {c:?}:\n{text}");
    }
    for line in text.lines() {
        assert!(
            !line.starts_with("fake") && !line.starts_with("verified:"),
            "{what} holds a forged line {line:?}:\n{text}"
        );
    }
}

#[test]
fn control_characters_in_names_never_reach_the_terminal() {
    let work = Work::new();
    fs::write(work.run().join("a.fastq"), "@r\nACGT\n+\nIIII\n").unwrap();
    let out = work.seal();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    fs::write(work.run().join(HOSTILE_NAME), b"planted").unwrap();

    // Text verify: an integrity failure, shown as such, with the name escaped.
    let out = work.cmd(&["verify", "run", "--trust", "k.pub"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_terminal_safe("verify stdout", &out.stdout);
    assert_terminal_safe("verify stderr", &out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("x\\rverified: 7 entries ok\\x1b[2K\\u{202e}\\nfake"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("INTEGRITY FAILURE"),
        "{stdout}"
    );

    // JSON stays exact: serde_json escapes, and parsing gives back the very name.
    let raw = work.cmd(&["verify", "run", "--trust", "k.pub", "--json"]);
    let raw = String::from_utf8_lossy(&raw.stdout);
    assert!(
        raw.contains("x\\rverified: 7 entries ok\\u001b[2K"),
        "{raw}"
    );
    let (report, code) = work.verify_json();
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report),
        vec![(HOSTILE_NAME.to_string(), "extra".to_string())]
    );

    // Sealing the planted tree again: whatever it decides, its messages are escaped.
    let out = work.cmd(&["seal", "run", "--key", "k.key", "--force"]);
    assert_terminal_safe("seal stdout", &out.stdout);
    assert_terminal_safe("seal stderr", &out.stderr);

    // A bundle path given on the command line is escaped in the error line too.
    let out = work.cmd(&["show", "no\u{1b}[2Jsuch.seqprov"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_terminal_safe("show stderr", &out.stderr);
}

// Files the user names (bundle, proof, key, policy) that are FIFOs, devices or symlinks
// to them: refused at once with exit 2, never blocked on, never read without bound.

/// Run with a short timeout: a command that blocks on a FIFO or reads /dev/zero without
/// bound fails the test instead of hanging it.
fn quick(work: &Work, args: &[&str]) -> std::process::Output {
    let mut cmd = seqprov();
    cmd.timeout(Duration::from_secs(10));
    cmd.current_dir(&work.root).args(args).output().unwrap()
}

fn assert_refused_not_regular(out: &std::process::Output, name: &str, kind: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    assert!(err.contains(name), "{name}: {err}");
    assert!(err.contains(kind), "{name}: {err}");
    assert!(err.contains("not a regular file"), "{name}: {err}");
}

#[test]
fn verify_refuses_a_fifo_at_the_default_bundle_path_promptly() {
    let work = Work::new();
    fs::write(work.run().join("a.txt"), "a").unwrap();
    mkfifo(&work.root.join("run.seqprov"));
    let out = quick(&work, &["verify", "run", "--trust", "k.pub"]);
    assert_refused_not_regular(&out, "run.seqprov", "FIFO");
}

#[test]
fn verify_refuses_a_bundle_symlinked_to_dev_zero_promptly() {
    let work = Work::new();
    fs::write(work.run().join("a.txt"), "a").unwrap();
    symlink("/dev/zero", work.root.join("zero.seqprov")).unwrap();
    let out = quick(
        &work,
        &[
            "verify",
            "run",
            "--bundle",
            "zero.seqprov",
            "--trust",
            "k.pub",
        ],
    );
    assert_refused_not_regular(&out, "zero.seqprov", "character device");
}

#[test]
fn a_policy_on_dev_zero_and_a_trusted_key_on_a_fifo_are_refused_promptly() {
    let work = Work::new();
    fs::write(work.run().join("a.txt"), "a").unwrap();
    assert_eq!(work.seal().status.code(), Some(0));
    let out = quick(&work, &["verify", "run", "--policy", "/dev/zero"]);
    assert_refused_not_regular(&out, "/dev/zero", "character device");
    mkfifo(&work.root.join("fifo.pub"));
    let out = quick(&work, &["verify", "run", "--trust", "fifo.pub"]);
    assert_refused_not_regular(&out, "fifo.pub", "FIFO");
    mkfifo(&work.root.join("fifo.key"));
    let out = quick(
        &work,
        &["seal", "run", "--key", "fifo.key", "--out", "x.seqprov"],
    );
    assert_refused_not_regular(&out, "fifo.key", "FIFO");
}

#[test]
fn seal_outboard_refuses_a_planted_symlink_into_the_sealed_folder() {
    let work = Work::new();
    let big: Vec<u8> = (0..1_200_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(work.run().join("big.bin"), &big).unwrap();
    symlink("run", work.root.join("run.seqprov.outboard")).unwrap();
    let out = quick(&work, &["seal", "run", "--key", "k.key", "--outboard"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("run.seqprov.outboard"), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    let written: Vec<String> = fs::read_dir(work.run())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".obao") || n.starts_with(".obao-"))
        .collect();
    assert!(
        written.is_empty(),
        "outboard files in the sealed folder: {written:?}"
    );
    work.assert_nothing_written();
}

/// Issue 12 item 9: the `--out` directory is swapped for a symlink into the sealed folder
/// while the files are hashed (deterministically: from the progress callback). The bundle
/// is written through the directory handle opened before, so it lands in the original
/// directory, never in the folder — as `seal` does it (open, check, seal, check, write).
#[test]
fn swapping_the_out_directory_during_hashing_cannot_put_the_bundle_inside() {
    struct SwapWhenHashing {
        work: PathBuf,
        done: AtomicBool,
    }
    impl seqprov::Progress for SwapWhenHashing {
        fn phase(&self, name: &'static str) {
            if name == "hash" && !self.done.swap(true, Ordering::SeqCst) {
                fs::rename(self.work.join("out"), self.work.join("out.old")).unwrap();
                symlink(self.work.join("run/sub"), self.work.join("out")).unwrap();
            }
        }
    }
    let work = tempfile::tempdir().unwrap();
    let root = work.path().to_path_buf();
    fs::create_dir_all(root.join("run/sub")).unwrap();
    fs::write(root.join("run/sub/a.txt"), "data\n").unwrap();
    fs::create_dir(root.join("out")).unwrap();
    let key = seqprov::PrivateKey::from_seed(&[9; 32], Some("Test".into()));
    let output = seqprov::bundle_file::OutputDir::open(&root.join("out/run.seqprov")).unwrap();
    output.check_outside(&root.join("run")).unwrap();
    let progress = SwapWhenHashing {
        work: root.clone(),
        done: AtomicBool::new(false),
    };
    let sealed = seqprov::seal_directory(
        &root.join("run"),
        &key,
        &seqprov::SealOptions::default(),
        &progress,
    )
    .unwrap();
    assert!(progress.done.load(Ordering::SeqCst), "the swap happened");
    output.check_outside(&root.join("run")).unwrap();
    output
        .write(&sealed.bundle, seqprov::Overwrite::Refuse, 0o644)
        .unwrap();
    assert_eq!(
        fs::read(root.join("out.old/run.seqprov")).unwrap(),
        sealed.bundle
    );
    let inside: Vec<_> = fs::read_dir(root.join("run/sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        inside,
        [std::ffi::OsString::from("a.txt")],
        "nothing inside"
    );
}

/// Issue 12 item 17: a name (or link target) that is not UTF-8 is shown in the escaped
/// form of bundle.md §11.3 exactly once, in `path` and in `detail` (never `top\\xfe.txt`).
#[test]
fn non_utf8_names_are_escaped_once() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let work = Work::new();
    fs::write(work.run().join("top.txt"), "sealed bytes\n").unwrap();
    symlink("a", work.run().join("link")).unwrap();
    assert_eq!(work.seal().status.code(), Some(0));
    fs::rename(
        work.run().join("top.txt"),
        work.run().join(OsStr::from_bytes(b"top\xfe.txt")),
    )
    .unwrap();
    fs::remove_file(work.run().join("link")).unwrap();
    symlink(OsStr::from_bytes(b"b\xfe"), work.run().join("link")).unwrap();
    let (report, code) = work.verify_json();
    assert_eq!(code, 1, "{report:#}");
    let files = report["files"].as_array().unwrap();
    let detail_of = |path: &str| {
        files
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("no finding for {path}: {report:#}"))["detail"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        detail_of("link"),
        "symlink target changed from \"a\" to \"b\\xfe\""
    );
    let moved = files
        .iter()
        .find(|f| f["class"] == "moved")
        .expect("moved finding");
    assert_eq!(moved["path"], "top\\xfe.txt", "{report:#}");
    assert_eq!(moved["from"], "top.txt", "{report:#}");
    assert_eq!(
        moved["detail"], "sealed as \"top.txt\", found at \"top\\xfe.txt\"",
        "{report:#}"
    );
    for f in files {
        assert!(!f.to_string().contains("\\\\\\\\"), "escaped twice: {f}");
    }
}

/// Issue 12 item 16: a directory is judged empty without its excluded paths, at seal and at
/// verify, so deleting or adding an excluded file never changes the verdict.
#[test]
fn excluded_files_never_change_the_verdict() {
    let work = Work::new();
    fs::write(work.run().join("data.txt"), "kept\n").unwrap();
    fs::create_dir(work.run().join("meta")).unwrap();
    fs::write(work.run().join("meta/x.tmp"), "scratch\n").unwrap();
    let out = work.cmd(&["seal", "run", "--key", "k.key", "--exclude", "meta/*.tmp"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (report, code) = work.verify_json();
    assert_eq!(code, 0, "{report:#}");

    fs::remove_file(work.run().join("meta/x.tmp")).unwrap();
    let (report, code) = work.verify_json();
    assert_eq!(code, 0, "deleting an excluded file: {report:#}");

    fs::write(work.run().join("meta/y.tmp"), "more scratch\n").unwrap();
    let (report, code) = work.verify_json();
    assert_eq!(code, 0, "adding an excluded file: {report:#}");

    fs::write(work.run().join("meta/z.txt"), "not excluded\n").unwrap();
    let (report, code) = work.verify_json();
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        findings(&report),
        [("meta/z.txt".to_string(), "extra".to_string())],
        "{report:#}"
    );
}

/// Issue 12 item 11: symlinks whose target leads outside the sealed folder (absolute, or
/// climbing above the root with `..`) are warned about at seal, counted in the seal, listed
/// as warnings by verify, and refused by a policy with `allow_external_symlinks = false`.
#[test]
fn links_leading_outside_are_warned_counted_and_refusable() {
    let work = Work::new();
    symlink_tree(&work);
    symlink("../sub/../../x", work.run().join("sub/climbs_out")).unwrap();
    symlink("../data.fastq", work.run().join("sub/stays_in")).unwrap();
    let out = work.seal();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    for (link, target) in [
        ("escape_absolute", "/etc/passwd"),
        ("escape_relative", "../../etc"),
        ("sub/climbs_out", "../sub/../../x"),
    ] {
        assert!(
            err.contains(&format!(
                "symlink {link} points outside the sealed folder ({target})"
            )),
            "{err}"
        );
    }
    assert_eq!(
        err.matches("points outside the sealed folder").count(),
        3,
        "{err}"
    );

    let bundle = seqprov::read_bundle(&work.root.join("run.seqprov")).unwrap();
    assert_eq!(bundle.payload.external_symlinks, 3);

    let (report, code) = work.verify_json();
    assert_eq!(code, 0, "{report:#}");
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(
        warnings
            .iter()
            .filter(|w| w.contains("points outside the sealed folder"))
            .count(),
        3,
        "{warnings:?}"
    );

    fs::write(
        work.root.join("policy.toml"),
        "version = 1\n[[signer]]\nname = \"t\"\nkey = \"k.pub\"\n\
         [requirements]\nallow_external_symlinks = false\n",
    )
    .unwrap();
    let out = work.cmd(&["verify", "run", "--policy", "policy.toml", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "policy_not_satisfied", "{report:#}");
    assert_eq!(
        report["policy"][0]["rule"], "external_symlinks",
        "{report:#}"
    );
    let detail = report["policy"][0]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("3 symlink(s) point outside the sealed folder"),
        "{detail}"
    );

    // A tree without such links passes the same policy.
    let clean = Work::new();
    fs::write(clean.run().join("a"), "a").unwrap();
    symlink("a", clean.run().join("b")).unwrap();
    let out = clean.seal();
    assert!(!stderr(&out).contains("outside"), "{}", stderr(&out));
    fs::copy(
        work.root.join("policy.toml"),
        clean.root.join("policy.toml"),
    )
    .unwrap();
    let out = clean.cmd(&["verify", "run", "--policy", "policy.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

// Every other text a bundle carries (issue 12 item 3): signer names, roles, meanings,
// custody notes, recipients and hosts, link targets, warnings and policy details.

/// A text an attacker signs into a bundle with a key of their own: `<label>` (to find it
/// in the output), then ESC sequences (erase line, set the window title), a carriage
/// return and a newline starting a forged line, a C1 CSI, a right-to-left override, an
/// isolate, the line and paragraph separators, DEL and a tab.
fn hostile(label: &str) -> String {
    format!(
        "<{label}>\u{1b}[2K\u{1b}]0;t\u{7}\r\nFORGED line\u{9b}31m\u{202e}\u{2066}\u{2028}\u{2029}\u{7f}\t"
    )
}

/// How [`hostile`] must be shown in text output: every control as a visible escape.
fn hostile_shown(label: &str) -> String {
    format!(
        "<{label}>\\x1b[2K\\x1b]0;t\\x07\\r\\nFORGED line\\u{{9b}}31m\\u{{202e}}\\u{{2066}}\\u{{2028}}\\u{{2029}}\\x7f\\t"
    )
}

/// The bytes of text output hold no terminal control: no C0 control but `\n`, no DEL,
/// no C1 control (UTF-8 `C2 80`–`C2 9F`), no bidi embedding, override or isolate
/// (U+202A–U+202E, U+2066–U+2069), no line or paragraph separator (U+2028, U+2029); and
/// no line starts with the text a hostile string tried to forge.
fn assert_no_control_bytes(what: &str, bytes: &[u8]) {
    let shown = String::from_utf8_lossy(bytes);
    for (at, &b) in bytes.iter().enumerate() {
        assert!(
            !((b < 0x20 && b != b'\n') || b == 0x7f),
            "{what}: byte {b:#04x} at {at}:\n{shown}"
        );
    }
    for (at, pair) in bytes.windows(2).enumerate() {
        assert!(
            !(pair[0] == 0xc2 && (0x80..=0x9f).contains(&pair[1])),
            "{what}: C1 control at {at}:\n{shown}"
        );
    }
    for (at, triple) in bytes.windows(3).enumerate() {
        let bidi = triple[0] == 0xe2
            && ((triple[1] == 0x80 && (0xa8..=0xae).contains(&triple[2]))
                || (triple[1] == 0x81 && (0xa6..=0xa9).contains(&triple[2])));
        assert!(!bidi, "{what}: {triple:02x?} at {at}:\n{shown}");
    }
    for line in shown.lines() {
        assert!(!line.starts_with("FORGED"), "{what}: forged line:\n{shown}");
    }
}

/// Every string anywhere in a JSON value.
fn json_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| json_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| json_strings(v, out)),
        _ => {}
    }
}

/// Text output of `args`: exit code, and stdout and stderr (each checked for control
/// bytes) together.
fn text_of(work: &Work, args: &[&str]) -> (i32, String) {
    let out = work.cmd(args);
    assert_no_control_bytes(&format!("{args:?} stdout"), &out.stdout);
    assert_no_control_bytes(&format!("{args:?} stderr"), &out.stderr);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), text)
}

/// JSON output of `args`: exit code, and every string in it.
fn json_of(work: &Work, args: &[&str]) -> (i32, Vec<String>) {
    let out = work.cmd(args);
    let value: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out:?}"));
    let mut strings = Vec::new();
    json_strings(&value, &mut strings);
    (out.status.code().unwrap(), strings)
}

/// Each labelled text is shown, escaped as [`hostile_shown`] says.
fn assert_shown(what: &str, text: &str, labels: &[&str]) {
    for label in labels {
        assert!(
            text.contains(&hostile_shown(label)),
            "{what}: {label} is not shown escaped:\n{text}"
        );
    }
}

/// Each labelled text is carried exactly: some string holds it whole.
fn assert_exact(what: &str, strings: &[String], labels: &[&str]) {
    for label in labels {
        let raw = hostile(label);
        assert!(
            strings.iter().any(|s| s.contains(&raw)),
            "{what}: {label} is not carried exactly: {strings:#?}"
        );
    }
}

/// A keyless attacker cannot put a control into the lab's outputs through the CLI
/// (`validate_signer_name` refuses C0 and C1 controls), but anyone may seal a folder with
/// a key of their own and sign whatever texts they like. Every such text — the seal's
/// signer, role and meaning, a custody event's signer, role, meaning, recipient, host and
/// note, a link target (at seal and after the link was changed), the run-mismatch text, a
/// broken file's reason, the derived-from subject, and a policy's signer names and roles
/// as they come back in rule details — is escaped in `verify`, `show` and `custody show`
/// text output (with no trust, `--trust` and `--policy`), and carried exactly in JSON.
#[test]
fn control_characters_in_signed_texts_never_reach_the_terminal() {
    use seqprov::format::event::EventKind;
    use seqprov::format::manifest::{BrokenFile, Bytes32, DerivedFrom, Entry, EntryKind};

    let work = Work::new();
    let content = b"@r\nACGT\n+\nIIII\n";
    fs::write(work.run().join("a.fastq"), content).unwrap();
    let target = format!("../{}", hostile("target"));
    symlink(&target, work.run().join("link")).unwrap();

    let key = seqprov::PrivateKey::from_seed(&[0x3c; 32], Some(hostile("keyfile")));
    fs::write(work.root.join("mallory.pub"), key.public().to_pem()).unwrap();
    let file = Entry {
        size: Some(content.len() as u64),
        blake3: Some(Bytes32(*blake3::hash(content).as_bytes())),
        ..Entry::bare("a.fastq".into(), EntryKind::File, Bytes32([1; 32]))
    };
    let link = Entry {
        target: Some(target.clone()),
        ..Entry::bare("link".into(), EntryKind::Symlink, Bytes32([2; 32]))
    };
    let options = seqprov::SealOptions {
        signer_name: Some(hostile("sealsigner")),
        role: hostile("sealrole"),
        meaning: hostile("sealmeaning"),
        derived_from: Some(DerivedFrom {
            seal: Bytes32([3; 32]),
            root: Bytes32([4; 32]),
            subject: hostile("derivedsubject"),
            step: hostile("derivedstep"),
            sample_sheet: None,
        }),
        ..seqprov::SealOptions::default()
    };
    let facts = seqprov::seal::SealFacts {
        broken: vec![BrokenFile {
            path: "a.fastq".into(),
            reason: hostile("brokenreason"),
        }],
        run_mismatch: Some(hostile("mismatch")),
        ..seqprov::seal::SealFacts::default()
    };
    let sealed = seqprov::seal::sign_entries_with(
        vec![file, link],
        "run",
        &key,
        &options,
        facts,
        &seqprov::NoProgress,
    )
    .unwrap();
    fs::write(work.root.join("run.seqprov"), &sealed.bundle).unwrap();
    let bundle = seqprov::read_bundle(&work.root.join("run.seqprov")).unwrap();
    let draft = seqprov::custody::EventDraft {
        kind: EventKind::Transfer,
        signer_name: Some(hostile("evsigner")),
        role: hostile("evrole"),
        meaning: hostile("evmeaning"),
        host: Some(hostile("evhost")),
        to: Some(hostile("evto")),
        note: Some(hostile("evnote")),
        verification: None,
        derived: None,
        time: None,
    };
    let (_, event) = seqprov::custody::sign_next_event(&bundle, &key, &draft).unwrap();
    let mut bytes = sealed.bundle.clone();
    bytes.extend_from_slice(&event);
    fs::write(work.root.join("run.seqprov"), &bytes).unwrap();

    // One policy restricts the key's roles (rule details name the policy's signer and
    // roles and the bundle's roles); the other trusts it in any role but lets other roles
    // seal (`seal_role` names both).
    let controls = r"\u001b[2K\r\nFORGED line\u009b31m\u202e\u2028";
    fs::write(
        work.root.join("policy.toml"),
        format!(
            "version = 1\n[[signer]]\nname = \"<polname>{controls}\"\nkey = \"mallory.pub\"\n\
             roles = [\"<polrole>{controls}\"]\n[requirements]\n\
             required_events = [{{ kind = \"receive\", role = \"<polreqrole>{controls}\" }}]\n\
             allow_external_symlinks = false\nrefuse_run_mismatch = true\n"
        ),
    )
    .unwrap();
    fs::write(
        work.root.join("policy2.toml"),
        format!(
            "version = 1\n[[signer]]\nname = \"<polname>{controls}\"\nkey = \"mallory.pub\"\n\
             [requirements]\nseal_roles = [\"<polsealrole>{controls}\"]\n"
        ),
    )
    .unwrap();

    let trust = ["--trust", "mallory.pub"];
    let verify = [&["verify", "run"][..], &trust].concat();
    let (code, text) = text_of(&work, &verify);
    assert_eq!(code, 0, "{text}");
    assert_shown(
        "verify",
        &text,
        &["sealsigner", "sealrole", "target", "mismatch"],
    );
    let (code, strings) = json_of(&work, &[&verify[..], &["--json"]].concat());
    assert_eq!(code, 0);
    assert_exact(
        "verify --json",
        &strings,
        &["sealsigner", "sealrole", "target", "mismatch"],
    );

    let (code, text) = text_of(&work, &["show", "run.seqprov"]);
    assert_eq!(code, 0, "{text}");
    assert_shown("show", &text, &["sealsigner", "sealrole", "sealmeaning"]);
    let (code, strings) = json_of(&work, &["show", "run.seqprov", "--json"]);
    assert_eq!(code, 0);
    let sealed_texts = ["sealsigner", "sealrole", "sealmeaning", "derivedsubject"];
    assert_exact("show --json", &strings, &sealed_texts);

    let event_texts = [
        "sealsigner",
        "sealrole",
        "sealmeaning",
        "evsigner",
        "evrole",
        "evmeaning",
        "evhost",
        "evto",
        "evnote",
    ];
    for judged in [&[][..], &trust[..], &["--policy", "policy.toml"][..]] {
        let args = [&["custody", "show", "run.seqprov"][..], judged].concat();
        let (_, text) = text_of(&work, &args);
        assert_shown(&format!("{args:?}"), &text, &event_texts);
        let (_, strings) = json_of(&work, &[&args[..], &["--json"]].concat());
        assert_exact(&format!("{args:?} --json"), &strings, &event_texts);
    }

    // Policy rule details name the policy's own texts and the bundle's.
    for (policy, labels) in [
        (
            "policy.toml",
            &["polname", "polrole", "polreqrole", "sealrole", "evrole"][..],
        ),
        ("policy2.toml", &["polsealrole", "sealrole"][..]),
    ] {
        for command in [&verify[..2], &["custody", "show", "run.seqprov"][..]] {
            let args = [command, &["--policy", policy]].concat();
            let (code, text) = text_of(&work, &args);
            assert_eq!(code, 3, "{args:?}: {text}");
            for label in labels {
                assert!(
                    text.contains(&format!("<{label}>")),
                    "{args:?}: {label}:\n{text}"
                );
            }
        }
    }
    let (_, text) = text_of(&work, &["verify", "run", "--policy", "policy.toml"]);
    assert!(text.contains("<target>"), "{text}");

    // The link changed: its old and new targets are both shown, escaped.
    fs::remove_file(work.run().join("link")).unwrap();
    symlink(
        format!("../{}", hostile("newtarget")),
        work.run().join("link"),
    )
    .unwrap();
    let (code, text) = text_of(&work, &verify);
    assert_eq!(code, 1, "{text}");
    assert_shown("verify after the change", &text, &["newtarget"]);
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("INTEGRITY FAILURE"),
        "{text}"
    );
    let (code, strings) = json_of(&work, &[&verify[..], &["--json"]].concat());
    assert_eq!(code, 1);
    assert_exact("verify --json after the change", &strings, &["newtarget"]);
}

/// What the CLI does accept from its user (bidi overrides, isolates and line separators
/// are not control characters to `validate_signer_name`) is escaped too: signer names
/// from `keygen --name` and `seal --signer`, roles, meanings, and a transfer's recipient,
/// host and note from `custody append`. A C0 or C1 control is refused at the input.
#[test]
fn bidi_and_separator_characters_given_on_the_command_line_are_shown_escaped() {
    let work = Work::new();
    fs::write(work.run().join("a.fastq"), "@r\nACGT\n+\nIIII\n").unwrap();
    let text = |label: &str| format!("<{label}>\u{202e}rev\u{2066}iso\u{2069}\u{2028}sep\u{200f}");
    let shown = |label: &str| {
        format!("<{label}>\\u{{202e}}rev\\u{{2066}}iso\\u{{2069}}\\u{{2028}}sep\\u{{200f}}")
    };
    for (args, what) in [
        (
            vec!["keygen", "--out", "bad", "--name", "a\u{1b}[2Kb"],
            "ESC",
        ),
        (
            vec!["keygen", "--out", "bad", "--name", "a\u{9b}b"],
            "C1 CSI",
        ),
        (
            vec!["seal", "run", "--key", "k.key", "--role", "a\rb"],
            "CR",
        ),
        (
            vec!["seal", "run", "--key", "k.key", "--meaning", "a\nb"],
            "LF",
        ),
    ] {
        let (code, out) = text_of(&work, &args);
        assert_eq!(code, 2, "{what}: {out}");
        assert!(out.contains("control character"), "{what}: {out}");
    }
    assert!(!work.root.join("run.seqprov").exists());

    let name = text("keyname");
    let (code, out) = text_of(&work, &["keygen", "--out", "lab", "--name", &name]);
    assert_eq!(code, 0, "{out}");
    let (signer, role, meaning) = (text("signer"), text("role"), text("meaning"));
    let (code, out) = text_of(
        &work,
        &[
            "seal",
            "run",
            "--key",
            "k.key",
            "--signer",
            &signer,
            "--role",
            &role,
            "--meaning",
            &meaning,
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (to, host, note) = (text("to"), text("host"), text("note"));
    let (code, out) = text_of(
        &work,
        &[
            "custody",
            "append",
            "run.seqprov",
            "--kind",
            "transfer",
            "--key",
            "lab.key",
            "--role",
            &role,
            "--meaning",
            &meaning,
            "--to",
            &to,
            "--host",
            &host,
            "--note",
            &note,
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&shown("keyname")), "{out}");

    let (code, out) = text_of(
        &work,
        &["verify", "run", "--trust", "k.pub", "--trust", "lab.pub"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&shown("signer")) && out.contains(&shown("role")),
        "{out}"
    );
    let (code, out) = text_of(&work, &["show", "run.seqprov"]);
    assert_eq!(code, 0, "{out}");
    for label in ["signer", "role", "meaning"] {
        assert!(out.contains(&shown(label)), "show: {label}:\n{out}");
    }
    let (_, out) = text_of(
        &work,
        &[
            "custody",
            "show",
            "run.seqprov",
            "--trust",
            "k.pub",
            "--trust",
            "lab.pub",
        ],
    );
    for label in ["signer", "keyname", "role", "meaning", "to", "host", "note"] {
        assert!(out.contains(&shown(label)), "custody show: {label}:\n{out}");
    }
    let (_, strings) = json_of(&work, &["custody", "show", "run.seqprov", "--json"]);
    for label in ["signer", "keyname", "role", "meaning", "to", "host", "note"] {
        assert!(
            strings.contains(&text(label)),
            "custody show --json: {label}"
        );
    }
}

/// A proof named on the command line (`verify FILE --proof P`) that is a FIFO, or a
/// symlink to `/dev/zero`: refused at once with exit 2 and one error line naming it and
/// its type (the handle, opened without blocking, is checked with `fstat`); never blocked
/// on, never read without bound (issue 12 item 6).
#[test]
fn verify_refuses_a_proof_on_a_fifo_or_dev_zero_promptly() {
    let work = Work::new();
    fs::write(work.run().join("a.txt"), "a").unwrap();
    assert_eq!(work.seal().status.code(), Some(0));
    let fifo = work.root.join("fifo.seqprov-proof");
    mkfifo(&fifo);
    symlink("/dev/zero", work.root.join("zero.seqprov-proof")).unwrap();
    for (proof, kind) in [
        ("fifo.seqprov-proof", "FIFO"),
        ("zero.seqprov-proof", "character device"),
    ] {
        let out = quick(
            &work,
            &["verify", "run/a.txt", "--proof", proof, "--trust", "k.pub"],
        );
        assert_refused_not_regular(&out, proof, kind);
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "{out:?}");
    }
}

/// A small but valid RunInfo.xml: one lane, one tile, two cycles.
const RUN_INFO: &str = r#"<?xml version="1.0"?>
<RunInfo Version="2">
  <Run Id="261126_M01234_0042_000000000-ABCDE" Number="42">
    <Flowcell>000000000-ABCDE</Flowcell>
    <Instrument>M01234</Instrument>
    <Date>261126</Date>
    <Reads><Read Number="1" NumCycles="2" IsIndexedRead="N" /></Reads>
    <FlowcellLayout LaneCount="1" SurfaceCount="1" SwathCount="1" TileCount="1">
      <TileSet TileNamingConvention="FourDigit"><Tiles><Tile>1_1101</Tile></Tiles></TileSet>
    </FlowcellLayout>
  </Run>
</RunInfo>
"#;

/// Run metadata that is a FIFO: the walk refuses the special file before any metadata is
/// read (spec/cli.md §5 `seal` step 9: exit 2 naming it), without opening it and without
/// blocking; nothing is written. For `RunInfo.xml` and for the run parameters file.
#[test]
fn seal_refuses_run_metadata_on_a_fifo_promptly() {
    for name in ["RunInfo.xml", "RunParameters.xml"] {
        let work = Work::new();
        fs::write(work.run().join("a.txt"), "a").unwrap();
        if name != "RunInfo.xml" {
            fs::write(work.run().join("RunInfo.xml"), RUN_INFO).unwrap();
        }
        mkfifo(&work.run().join(name));
        let watch = FifoWatch::start(&work.run().join(name));
        let out = quick(
            &work,
            &["seal", "run", "--key", "k.key", "--allow-incomplete"],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(&format!("run/{name}")), "{name}: {err}");
        assert!(err.contains("is a fifo"), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(!watch.opened(), "seal opened {name}");
        work.assert_nothing_written();
    }
}

/// Run metadata that is a symlink to `/dev/zero`: a symlink is never followed, so it is
/// not run metadata (spec/run-folders.md §1: a run folder is one with a *regular file*
/// named `RunInfo.xml`; the run parameters file likewise). `seal` finishes at once, reads
/// nothing from the device, records the link as a link (with the warning for a link that
/// leads outside) and no run metadata from it; `verify` then checks the link's target
/// text, promptly.
#[test]
fn seal_never_reads_run_metadata_through_a_symlink_to_dev_zero() {
    for name in ["RunInfo.xml", "RunParameters.xml"] {
        let work = Work::new();
        fs::write(work.run().join("a.txt"), "a").unwrap();
        let run_info = name != "RunInfo.xml";
        if run_info {
            fs::write(work.run().join("RunInfo.xml"), RUN_INFO).unwrap();
        }
        symlink("/dev/zero", work.run().join(name)).unwrap();
        let out = quick(
            &work,
            &["seal", "run", "--key", "k.key", "--allow-incomplete"],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        assert!(
            err.contains(&format!(
                "symlink {name} points outside the sealed folder (/dev/zero)"
            )),
            "{name}: {err}"
        );
        let shown = work.show_json();
        // Run metadata only from a regular RunInfo.xml.
        assert_eq!(
            shown["seal"]["run"].is_string(),
            run_info,
            "{name}: {shown:#}"
        );
        let out = quick(&work, &["verify", "run", "--trust", "k.pub", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    }
}
