//! `seqprov verify`: a directory against its bundle, files against a proof, or one byte
//! range of one file.

use std::path::PathBuf;

use anyhow::{Context, Result};
use seqprov::ExitStatus;
use seqprov::report::Report;

use crate::args::VerifyArgs;
use crate::command_inputs::{bundle_path_for, load_policy, read_mode};
use crate::progress_bar::TerminalProgress;
use crate::text_output;
use crate::{describe, exit_status_of};

pub(crate) fn verify(a: VerifyArgs) -> Result<ExitStatus> {
    let outcome = run_verify(&a);
    finish_verify(outcome, a.json, a.read.quiet).map(|(status, _)| status)
}

/// Print a verification outcome (text or JSON) and return its exit status and report.
pub(crate) fn finish_verify(
    outcome: Result<Report>,
    json: bool,
    quiet: bool,
) -> Result<(ExitStatus, Option<Report>)> {
    let report = match outcome {
        Ok(report) => report,
        Err(error) if json => {
            let status = exit_status_of(&error);
            let mut report = match error
                .chain()
                .find_map(|e| e.downcast_ref::<seqprov::Error>())
            {
                Some(lib) => Report::from_error(lib),
                None => Report::from_error(&seqprov::Error::Refused(describe(&error))),
            };
            report.errors = vec![describe(&error)];
            report.exit_code = status.code();
            println!("{}", report.to_json());
            eprintln!(
                "seqprov: error: {}",
                crate::terminal_text::terminal_safe(&describe(&error))
            );
            return Ok((status, None));
        }
        Err(error) => return Err(error),
    };
    if json {
        println!("{}", report.to_json());
    } else if !(quiet && report.exit_code == 0) {
        text_output::print_report(&report);
    }
    Ok((report.exit_status(), Some(report)))
}

fn run_verify(a: &VerifyArgs) -> Result<Report> {
    let policy = load_policy(&a.trust)?;
    let inputs = a
        .derived_from
        .iter()
        .map(|p| {
            seqprov::read_bundle(p)
                .with_context(|| format!("reading derived-from bundle {}", p.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let progress = TerminalProgress::new("verifying", a.read.quiet || a.json);
    if a.match_content_ignoring_names && a.proof.is_none() && a.range.is_none() {
        anyhow::bail!("--match-content-ignoring-names applies to --proof or --range only");
    }
    let options = seqprov::VerifyOptions {
        read_mode: read_mode(a.read),
        lineage_inputs: &inputs,
        require_lineage: a.require_lineage,
        proof_matching: if a.match_content_ignoring_names {
            seqprov::bundle_checks::ProofMatching::ContentIgnoringNames
        } else {
            seqprov::bundle_checks::ProofMatching::ByName
        },
        precomputed: None,
    };
    if let Some(range) = &a.range {
        let (start, len) = parse_range(range)?;
        let [file] = a.paths.as_slice() else {
            anyhow::bail!("--range checks one FILE");
        };
        let (source, source_path) = match (&a.proof, &a.bundle) {
            (Some(proof), _) => (
                seqprov::read_proof(proof)
                    .with_context(|| format!("reading proof {}", proof.display()))?,
                proof.clone(),
            ),
            (None, Some(bundle)) => (
                seqprov::read_bundle(bundle)
                    .with_context(|| format!("reading bundle {}", bundle.display()))?,
                bundle.clone(),
            ),
            (None, None) => anyhow::bail!("--range needs --bundle or --proof"),
        };
        let outboard = a
            .outboard
            .clone()
            .unwrap_or_else(|| seqprov::engine::outboard::directory_for(&source_path));
        let report = seqprov::verify_range(
            file,
            &source,
            a.entry.as_deref(),
            &outboard,
            start,
            len,
            &policy,
            options,
        );
        progress.finish();
        return Ok(report?);
    }
    let report = match &a.proof {
        Some(proof_path) => {
            let proof = seqprov::read_proof(proof_path)
                .with_context(|| format!("reading proof {}", proof_path.display()))?;
            let named = a
                .as_entry
                .iter()
                .map(|pair| match pair.split_once('=') {
                    Some((file, path)) if !file.is_empty() && !path.is_empty() => {
                        Ok((PathBuf::from(file), path.to_string()))
                    }
                    _ => Err(anyhow::anyhow!("--as takes FILE=PATH, not {pair:?}")),
                })
                .collect::<Result<Vec<_>>>()?;
            seqprov::verify_files(&a.paths, &named, &proof, &policy, options, &progress)
        }
        None => {
            let [dir] = a.paths.as_slice() else {
                anyhow::bail!("verify takes one directory (or, with --proof, the files to check)");
            };
            let bundle_path = bundle_path_for(dir, &a.bundle)?;
            let bundle = seqprov::read_bundle(&bundle_path)
                .with_context(|| format!("reading bundle {}", bundle_path.display()))?;
            if a.from_parts.is_empty() {
                seqprov::verify_directory(dir, &bundle, &policy, options, &progress)
            } else {
                let precomputed = crate::sharded_commands::digests_from_parts(
                    dir,
                    a,
                    bundle.payload.has_sha256(),
                )?;
                seqprov::verify_directory(
                    dir,
                    &bundle,
                    &policy,
                    seqprov::VerifyOptions {
                        precomputed: Some(&precomputed),
                        ..options
                    },
                    &progress,
                )
            }
        }
    };
    progress.finish();
    progress.report_timings();
    Ok(report?)
}

/// Parse `START:LEN` (decimal bytes).
fn parse_range(text: &str) -> Result<(u64, u64)> {
    let parsed = text
        .split_once(':')
        .and_then(|(s, l)| Some((s.parse::<u64>().ok()?, l.parse::<u64>().ok()?)));
    match parsed {
        Some((start, len)) if len > 0 => Ok((start, len)),
        _ => anyhow::bail!("--range takes START:LEN in bytes, with LEN > 0, not {text:?}"),
    }
}
