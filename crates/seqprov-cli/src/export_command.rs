//! `seqprov export`: an in-toto statement in a DSSE envelope, or a FHIR R4 Provenance.

use std::io::Write;

use anyhow::{Context, Result, bail};
use seqprov::export;
use seqprov::format::manifest::Entry;
use seqprov::{ExitStatus, Overwrite};

use crate::args::{ExportArgs, ExportFormat};

/// `seqprov export`.
pub fn export(a: ExportArgs) -> Result<ExitStatus> {
    // Usage first (exit 2), then the bundle (exit 1 when malformed or broken).
    let key = match (a.format, &a.key) {
        (ExportFormat::InToto, Some(path)) => Some(crate::load_private_key(
            path,
            a.allow_insecure_key_permissions,
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
    // A bundle, or a per-sample proof (then only the disclosed files are exported).
    let bundle = match seqprov::read_bundle(&a.bundle) {
        Ok(bundle) => bundle,
        Err(bundle_error) => match seqprov::read_proof(&a.bundle) {
            Ok((proof, _)) => proof,
            Err(proof_error) => {
                return Err(anyhow::Error::new(bundle_error).context(format!(
                    "{} is neither a bundle nor a proof (as a proof: {proof_error})",
                    a.bundle.display()
                )));
            }
        },
    };
    export::check_exportable(&bundle)
        .with_context(|| format!("refusing to export {}", a.bundle.display()))?;

    let mut bytes = match key {
        Some(key) => {
            let sealer = bundle.seal.key_id;
            let signer = key.public().id();
            if signer != sealer {
                eprintln!(
                    "seqprov: note: the envelope is signed by key {signer}, not by the seal's \
                     signer ({sealer})"
                );
            }
            let statement = serde_json::to_vec(&export::in_toto_statement(&bundle))?;
            serde_json::to_vec(&export::dsse_envelope(&statement, &key))?
        }
        None => {
            let entries: Vec<&Entry> = bundle.entries.iter().collect();
            export::fhir_json_pretty(&export::fhir_provenance(&bundle, &entries)).into_bytes()
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
