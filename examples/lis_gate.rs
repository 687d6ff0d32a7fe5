//! Gate a run's data before it enters a clinical pipeline, as an LIS would: verify it
//! against its bundle and trusted keys, then act on the typed verdict.
//!
//! Usage: `cargo run -p seqprov --example lis_gate -- DIR BUNDLE TRUSTED.pub [TRUSTED.pub ...]`
//!
//! Prints ACCEPT, HOLD (intact but signed by an untrusted key) or REJECT with reasons, and
//! exits with the documented code (0, 3 or 1; 2 if verification could not run).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use seqprov::report::FileClass;
use seqprov::{NoProgress, PublicKey, Verdict, VerifyOptions};

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if args.len() < 3 {
        eprintln!("usage: lis_gate DIR BUNDLE TRUSTED.pub [TRUSTED.pub ...]");
        return ExitCode::from(2);
    }
    let (dir, bundle, trust) = (&args[0], &args[1], &args[2..]);
    let report = match gate(dir, bundle, trust) {
        Ok(report) => report,
        Err(error) => {
            println!("REJECT: {error}");
            return ExitCode::from(error.exit_status().code());
        }
    };
    match report.verdict {
        Verdict::Verified => {
            let seal = report
                .seal
                .as_ref()
                .expect("a verified report names its seal");
            println!(
                "ACCEPT: {} files sealed by {} ({}) at {}",
                seal.files, seal.signer, seal.role, seal.time
            );
        }
        Verdict::Untrusted => println!("HOLD: data intact, but the sealing key is not trusted"),
        // Only a byte range was checked: never enough to release a run.
        Verdict::RangeVerified => println!("HOLD: only a byte range was checked"),
        Verdict::PolicyNotSatisfied => {
            println!("HOLD: data intact, but the lab policy is not satisfied:");
            for failure in &report.policy {
                println!(
                    "  {} ({}): {}",
                    failure.rule, failure.subject, failure.detail
                );
            }
        }
        Verdict::IntegrityFailure | Verdict::Error => {
            println!("REJECT:");
            for error in &report.errors {
                println!("  bundle: {error}");
            }
            for finding in report.files.iter().filter(|f| f.class != FileClass::Ok) {
                println!("  {:?} {}: {}", finding.class, finding.path, finding.detail);
            }
        }
    }
    ExitCode::from(report.exit_code)
}

fn gate(dir: &Path, bundle: &Path, trust: &[PathBuf]) -> Result<seqprov::Report, seqprov::Error> {
    let trusted = trust
        .iter()
        .map(|p| PublicKey::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let bundle = seqprov::read_bundle(bundle)?;
    let policy = seqprov::Policy::trusting(trusted);
    seqprov::verify_directory(dir, &bundle, &policy, VerifyOptions::default(), &NoProgress)
}
