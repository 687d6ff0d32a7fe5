//! `seqprov export`: an in-toto statement in a DSSE envelope, or a FHIR R4 Provenance.

use crate::terminal_text::terminal_safe as safe;
use std::io::Write;

use anyhow::{Context, Result, bail};
use seqprov::export;
use seqprov::{ExitStatus, Overwrite, Report, Verdict};

use crate::args::{ExportArgs, ExportFormat};

/// `seqprov export`.
pub fn export(a: ExportArgs) -> Result<ExitStatus> {
    // Usage first (exit 2), then the bundle (exit 1 when malformed or broken).
    let key = match (a.format, &a.key) {
        (ExportFormat::InToto, Some(path)) => Some(crate::open_signer(
            path,
            a.allow_insecure_key_permissions,
            &a.token,
        )?),
        (ExportFormat::InToto, None) => bail!("--format in-toto needs --key (the signing key)"),
        (ExportFormat::Fhir, Some(_)) => bail!(
            "--key is only for --format in-toto: a FHIR Provenance carries the seal's own \
             signature"
        ),
        (ExportFormat::Fhir, None) => None,
    };
    if let Some(out) = &a.out {
        refuse_bundle_as_output(&a.bundle, out)?;
    }
    let judged = !a.trust.trust.is_empty() || a.trust.policy.is_some();
    if !judged && !a.no_trust_check {
        bail!(
            "export needs --trust or --policy: it exports only what verify would accept \
             (or pass --no-trust-check, and the export says that trust was not checked)"
        );
    }
    let policy = if judged {
        Some(crate::load_policy(&a.trust)?)
    } else {
        None
    };
    // A bundle, or a per-sample proof (then only the disclosed files are exported).
    let mut is_proof = false;
    let bundle = match seqprov::read_bundle(&a.bundle) {
        Ok(bundle) => bundle,
        Err(bundle_error) => match seqprov::read_proof(&a.bundle) {
            Ok(proof) => {
                is_proof = true;
                proof
            }
            Err(proof_error) => {
                return Err(anyhow::Error::new(bundle_error).context(format!(
                    "{} is neither a bundle nor a proof (as a proof: {proof_error})",
                    a.bundle.display()
                )));
            }
        },
    };
    if is_proof && a.dir.is_some() {
        bail!(seqprov::Error::Refused(format!(
            "--dir goes with a bundle, not a proof ({} is a proof)",
            a.bundle.display()
        )));
    }
    let checks = match &policy {
        None => {
            export::check_exportable(&bundle)
                .with_context(|| format!("refusing to export {}", a.bundle.display()))?;
            eprintln!(
                "seqprov: warning: --no-trust-check: no signer's trust was judged; the export \
                 says so (trustChecked: false)"
            );
            export::ExportChecks {
                trust_checked: false,
                files_verified: false,
            }
        }
        Some(policy) => {
            let report = export::judge(&bundle, policy, a.dir.as_deref(), &seqprov::NoProgress)
                .with_context(|| format!("verifying before exporting {}", a.bundle.display()))?;
            if report.verdict != Verdict::Verified {
                print_refusal(&a.bundle, &report);
                return Ok(report.exit_status());
            }
            export::ExportChecks {
                trust_checked: true,
                files_verified: a.dir.is_some(),
            }
        }
    };

    let mut bytes = match key {
        Some(key) => {
            let sealer = bundle.seal.key_id;
            let signer = key.key_id();
            if signer != sealer {
                eprintln!(
                    "seqprov: note: the envelope is signed by key {signer}, not by the seal's \
                     signer ({sealer})"
                );
            }
            let mut statement = export::in_toto_statement(&bundle);
            checks.record_in_statement(&mut statement);
            let statement = serde_json::to_vec(&statement)?;
            serde_json::to_vec(&export::dsse_envelope(&statement, &*key)?)?
        }
        None => {
            let entries: Vec<_> = bundle.entries.iter().collect();
            let mut resource = export::fhir_provenance(&bundle, &entries);
            checks.record_in_provenance(&mut resource);
            export::fhir_json_pretty(&resource).into_bytes()
        }
    };
    bytes.push(b'\n');

    match &a.out {
        Some(out) => {
            let overwrite = if a.force {
                Overwrite::Replace
            } else {
                Overwrite::Refuse
            };
            seqprov::write_atomically(out, &bytes, overwrite)?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&bytes)
                .and_then(|()| stdout.flush())
                .context("writing to standard output")?;
        }
    }
    Ok(ExitStatus::Verified)
}

/// Why nothing was exported, on standard error (standard output may be the export's).
fn print_refusal(bundle: &std::path::Path, report: &Report) {
    for error in &report.errors {
        eprintln!("seqprov: error: {}", safe(error));
    }
    for finding in report
        .files
        .iter()
        .filter(|f| f.class != seqprov::FileClass::Ok)
    {
        let class = serde_json::to_value(finding.class).unwrap_or_default();
        eprintln!(
            "seqprov: {} {}: {}",
            class.as_str().unwrap_or("problem"),
            safe(&finding.path),
            safe(&finding.detail)
        );
    }
    for failure in &report.policy {
        eprintln!(
            "seqprov: not trusted: {} ({}): {}",
            safe(&failure.rule),
            safe(&failure.subject),
            safe(&failure.detail)
        );
    }
    let verdict = serde_json::to_value(report.verdict).unwrap_or_default();
    eprintln!(
        "seqprov: refusing to export {}: {}; nothing was written",
        safe(&bundle.display().to_string()),
        verdict.as_str().unwrap_or("not verified")
    );
}

/// `--out` must never name the bundle being exported (`--force` would replace it).
fn refuse_bundle_as_output(bundle: &std::path::Path, out: &std::path::Path) -> Result<()> {
    let (Ok(b), Ok(o)) = (std::fs::canonicalize(bundle), std::fs::canonicalize(out)) else {
        return Ok(());
    };
    if b == o {
        bail!(seqprov::Error::Refused(format!(
            "--out {} is the bundle being exported; choose another file",
            out.display()
        )));
    }
    Ok(())
}
