//! Where the pipeline tier finds its tools (Snakemake, its cluster-generic executor and
//! MultiQC, from `tests/pipeline/setup_venv.sh`), shared by the binary's `multiqc.rs`
//! and `workflow_engines.rs` (included with `#[path]`).
//!
//! Like the Python interoperability tier, it runs only when `SEQPROV_PYTHON_TESTS=1` (CI
//! sets it and runs the setup script first); then a missing tool is a failure, not a
//! skip.

use std::path::{Path, PathBuf};

/// The virtual environment's `bin` directory, or `None` (with a visible note) when the
/// tier is not switched on. Panics when it is on and a tool is missing.
pub fn pipeline_bin() -> Option<PathBuf> {
    if std::env::var("SEQPROV_PYTHON_TESTS").as_deref() != Ok("1") {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "pipeline tier did not run: set SEQPROV_PYTHON_TESTS=1 (after \
             bash tests/pipeline/setup_venv.sh)"
        );
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("SEQPROV_PIPELINE_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("pipeline/venv"))
        })
        .unwrap_or_else(|| root.join("target/pipeline/venv"));
    let bin = venv.join("bin");
    for tool in ["python", "snakemake", "multiqc"] {
        assert!(
            bin.join(tool).is_file(),
            "SEQPROV_PYTHON_TESTS=1 but {} is missing: run bash tests/pipeline/setup_venv.sh \
             (or set SEQPROV_PIPELINE_VENV)",
            bin.join(tool).display()
        );
    }
    Some(bin)
}
