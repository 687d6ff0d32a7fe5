//! Where the real-data tier finds `../shared/testdata`, shared by the library's
//! `formats_testdata.rs` and the binary's `conformance.rs` (included with `#[path]`).

use std::path::{Path, PathBuf};

/// The test-data directory (`SEQPROV_TESTDATA`, else `../shared/testdata` beside the
/// repository). `None`, with a visible note, when it is missing outside CI; under CI a
/// missing directory is a failure.
pub fn testdata() -> Option<PathBuf> {
    let dir = std::env::var_os("SEQPROV_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"));
    if dir.join("README.md").exists() {
        Some(dir)
    } else if std::env::var_os("CI").is_some() {
        panic!(
            "{} is missing; CI must provide ../shared/testdata (or set SEQPROV_TESTDATA)",
            dir.display()
        );
    } else {
        // Written to the stream itself: the test harness captures eprintln! output.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "real-data tier did not run: {} not found (set SEQPROV_TESTDATA)",
            dir.display()
        );
        None
    }
}
