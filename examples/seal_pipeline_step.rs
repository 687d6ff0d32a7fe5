//! Seal a run folder as a pipeline step would, right after the copy completes.
//!
//! Usage: `cargo run -p seqprov --example seal_pipeline_step -- RUN_DIR KEY.key BUNDLE`
//!
//! Exits with the library's exit status on error (2 for I/O and usage problems), so a
//! workflow manager can stop the pipeline if the run cannot be sealed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use seqprov::{HashOptions, NoProgress, Overwrite, PermissionCheck, PrivateKey, SealOptions};

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [run, key, bundle] = args.as_slice() else {
        eprintln!("usage: seal_pipeline_step RUN_DIR KEY.key BUNDLE");
        return ExitCode::from(2);
    };
    match seal(run, key, bundle) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("seal_pipeline_step: {error}");
            ExitCode::from(error.exit_status().code())
        }
    }
}

fn seal(run: &Path, key: &Path, bundle: &Path) -> Result<(), seqprov::Error> {
    let key = PrivateKey::load(key, PermissionCheck::Strict)?;
    seqprov::seal::check_bundle_outside(run, bundle)?;
    let options = SealOptions {
        role: "sequencing-core".into(),
        meaning: "authorship: sealed when the copy from the instrument completed".into(),
        hash: HashOptions {
            sha256: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let sealed = seqprov::seal_directory(run, &key, &options, &NoProgress)?;
    seqprov::write_atomically(bundle, &sealed.bundle, Overwrite::Refuse)?;
    println!(
        "sealed {} files ({} bytes) of {}; root {}",
        sealed.payload.files,
        sealed.payload.bytes,
        sealed.payload.subject.name,
        hex_string(&sealed.payload.root.0)
    );
    Ok(())
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
