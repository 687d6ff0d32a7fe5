//! Peak resident memory of one `seqprov` run, shared by the memory tests
//! (`bundle_memory.rs`, `hostile_bundle_files.rs`).

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

/// Starts a command from a small process and prints its exit code and peak resident set
/// (KiB). A child's `ru_maxrss` starts at its parent's peak at exec (Linux carries the
/// old memory's high-water mark across `exec`), so a test process, which built the
/// inputs, cannot measure it directly: a fresh Python process forks and waits instead.
const MEASURE: &str = r#"
import os, sys
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"#;

/// Run `seqprov ARGS` in `dir`, discarding its output: its exit code and peak resident
/// set in bytes.
pub fn peak_rss(dir: &Path, args: &[impl AsRef<OsStr>]) -> (i32, u64) {
    let out = Command::new("python3")
        .current_dir(dir)
        .arg("-c")
        .arg(MEASURE)
        .arg(env!("CARGO_BIN_EXE_seqprov"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs (CI installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut fields = text.split_whitespace().map(|f| f.parse::<i64>().unwrap());
    let (code, kib) = (fields.next().unwrap(), fields.next().unwrap());
    (code as i32, kib as u64 * 1024)
}
