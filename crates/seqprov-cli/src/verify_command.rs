//! `seqprov verify`: a directory against its bundle, files against a proof, or one byte
//! range of one file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use seqprov::report::Report;
use seqprov::report_page::PageContext;
use seqprov::{ExitStatus, Overwrite};

use crate::args::VerifyArgs;
use crate::command_inputs::{bundle_path_for, load_policy, read_mode};
use crate::progress_bar::TerminalProgress;
use crate::text_output;
use crate::{describe, exit_status_of};

pub(crate) fn verify(a: VerifyArgs) -> Result<ExitStatus> {
    // Usage first: a --multiqc name MultiQC would not read, or a file inside the
    // directory being verified, is refused before anything is read.
    let multiqc = a
        .multiqc
        .as_deref()
        .map(|table| MultiqcOutput::open(table, &a))
        .transpose()?;
    let mut outcome = run_verify(&a);
    if let Some(output) = multiqc {
        let report = match &outcome {
            Ok(report) => report.clone(),
            Err(error) => error_report(error),
        };
        if let Err(write_error) = output.write(&report, &a) {
            match outcome {
                Ok(_) => outcome = Err(write_error),
                // The verification's own error is the one that decides the exit code.
                Err(_) => eprintln!(
                    "seqprov: error: {}",
                    crate::terminal_text::terminal_safe(&describe(&write_error))
                ),
            }
        }
    }
    let page = a
        .html
        .as_deref()
        .map(|path| (path, PageContext::now(page_inputs(&a))));
    finish_verify(outcome, a.json, a.read.quiet, page).map(|(status, _)| status)
}

/// The two `--multiqc` files, their directory opened once (`seqprov::bundle_file::OutputDir`).
struct MultiqcOutput {
    table: seqprov::bundle_file::OutputDir,
    general_stats: seqprov::bundle_file::OutputDir,
}

impl MultiqcOutput {
    /// Check the name and open the directory; in directory mode, refuse a file inside the
    /// directory being verified (the next verification would find it `extra`).
    fn open(table: &Path, a: &VerifyArgs) -> Result<MultiqcOutput> {
        let general_stats = seqprov::multiqc::general_stats_path(table)?;
        let output = MultiqcOutput {
            table: seqprov::bundle_file::OutputDir::open(table)?,
            general_stats: seqprov::bundle_file::OutputDir::open(&general_stats)?,
        };
        if let ([dir], None, None) = (a.paths.as_slice(), &a.proof, &a.range)
            && dir.is_dir()
        {
            output.table.check_outside(dir).map_err(|_| {
                seqprov::Error::Refused(format!(
                    "--multiqc {} is inside the directory being verified; write it elsewhere",
                    table.display()
                ))
            })?;
        }
        Ok(output)
    }

    /// Write both documents atomically (each replaces an earlier one).
    fn write(&self, report: &Report, a: &VerifyArgs) -> Result<()> {
        let fallback = a
            .paths
            .first()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let content = seqprov::multiqc::custom_content(report, &fallback);
        for (output, document) in [
            (&self.table, serde_json::to_vec_pretty(&content.table)?),
            (
                &self.general_stats,
                serde_json::to_vec_pretty(&content.general_stats)?,
            ),
        ] {
            let mut bytes = document;
            bytes.push(b'\n');
            output
                .write(&bytes, Overwrite::Replace, 0o644)
                .with_context(|| format!("writing {}", output.path().display()))?;
        }
        Ok(())
    }
}

/// The inputs a report page names: what was checked against what.
fn page_inputs(a: &VerifyArgs) -> Vec<(String, String)> {
    let shown = |what: &str, path: &Path| (what.to_string(), path.display().to_string());
    let mut inputs = Vec::new();
    match (&a.proof, &a.range, a.paths.as_slice()) {
        (None, None, [dir]) => {
            inputs.push(shown("directory", dir));
            if let Ok(bundle) = bundle_path_for(dir, &a.bundle) {
                inputs.push(shown("bundle", &bundle));
            }
        }
        (proof, _, files) => {
            inputs.extend(files.iter().map(|f| shown("file", f)));
            inputs.extend(a.bundle.iter().map(|b| shown("bundle", b)));
            inputs.extend(proof.iter().map(|p| shown("proof", p)));
        }
    }
    if let Some(range) = &a.range {
        inputs.push(("byte range".into(), range.clone()));
    }
    inputs.extend(a.derived_from.iter().map(|d| shown("derived from", d)));
    inputs
}

/// The report of a verification that stopped with `error`.
fn error_report(error: &anyhow::Error) -> Report {
    let mut report = match error
        .chain()
        .find_map(|e| e.downcast_ref::<seqprov::Error>())
    {
        Some(lib) => Report::from_error(lib),
        None => Report::from_error(&seqprov::Error::Refused(describe(error))),
    };
    report.errors = vec![describe(error)];
    report.exit_code = exit_status_of(error).code();
    report
}

/// Write the HTML page of `report` to `path` (atomically; only a file that is one of
/// these pages is replaced).
fn write_report_page(path: &Path, report: &Report, context: &PageContext) -> Result<()> {
    let page = seqprov::report_page::verification_page(report, context);
    seqprov::report_page::write_page(path, &page)
        .with_context(|| format!("writing report page {}", path.display()))
}

/// Print a verification outcome (text or JSON), write its page when asked, and return its
/// exit status and report. A page that cannot be written makes the outcome an error.
pub(crate) fn finish_verify(
    outcome: Result<Report>,
    json: bool,
    quiet: bool,
    page: Option<(&Path, PageContext)>,
) -> Result<(ExitStatus, Option<Report>)> {
    let outcome = match (outcome, page) {
        (Ok(report), Some((path, context))) => {
            write_report_page(path, &report, &context).map(|()| report)
        }
        (Err(error), Some((path, context))) => {
            if let Err(page_error) = write_report_page(path, &error_report(&error), &context) {
                eprintln!(
                    "seqprov: warning: {}",
                    crate::terminal_text::terminal_safe(&describe(&page_error))
                );
            }
            Err(error)
        }
        (outcome, None) => outcome,
    };
    let report = match outcome {
        Ok(report) => report,
        Err(error) if json => {
            let status = exit_status_of(&error);
            let report = error_report(&error);
            outln!("{}", report.to_json());
            eprintln!(
                "seqprov: error: {}",
                crate::terminal_text::terminal_safe(&describe(&error))
            );
            return Ok((status, None));
        }
        Err(error) => return Err(error),
    };
    if json {
        outln!("{}", report.to_json());
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
            let report = if a.from_parts.is_empty() {
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
            };
            match report {
                Ok(mut report) if !a.log.is_empty() => {
                    progress.finish();
                    crate::log_client_commands::check_logs(
                        &a.log,
                        a.log_timeout,
                        &bundle,
                        &policy,
                        &mut report,
                    )?;
                    Ok(report)
                }
                other => other,
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
