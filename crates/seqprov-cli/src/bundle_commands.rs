//! `seqprov prove` and `seqprov show`: reading a bundle without its files.

use anyhow::{Context, Result};
use seqprov::ExitStatus;
use seqprov::report::{RootStatus, SealSummary, SignatureStatus};
use std::io::Write;

use crate::args::{self, ShowArgs};
use crate::text_output;

pub(crate) fn prove(a: args::ProveArgs) -> Result<ExitStatus> {
    let bundle = seqprov::read_bundle(&a.bundle)
        .with_context(|| format!("reading bundle {}", a.bundle.display()))?;
    if let Err(why) = seqprov::integrity::check_seal_signature(&bundle) {
        anyhow::bail!(seqprov::Error::Integrity(format!(
            "the bundle's seal does not verify: {why}"
        )));
    }
    let proved = seqprov::format::proof::prove_files(&bundle, &a.paths)?;
    if proved.skipped_non_files > 0 {
        eprintln!(
            "seqprov: note: not disclosed: {} directory or symlink entr{} matched (proofs carry \
             regular files only)",
            proved.skipped_non_files,
            if proved.skipped_non_files == 1 {
                "y"
            } else {
                "ies"
            }
        );
    }
    let proof = proved.bytes;
    let overwrite = if a.force {
        seqprov::Overwrite::Replace
    } else {
        seqprov::Overwrite::Refuse
    };
    seqprov::write_atomically(&a.out, &proof, overwrite)?;
    let (_, items) = seqprov::format::proof::parse(&proof)?;
    let p = &bundle.payload;
    if !p.incomplete.is_empty()
        || !p.broken.is_empty()
        || p.missing.is_some()
        || p.unexpected.is_some()
    {
        eprintln!(
            "seqprov: warning: the seal lists missing or broken files by name; every proof \
             carries the signed seal, so those names are disclosed too"
        );
    }
    outln!(
        "proof of {} of {} entries -> {} ({} bytes)",
        items.len(),
        p.entries,
        crate::terminal_text::terminal_safe(&a.out.display().to_string()),
        proof.len()
    );
    Ok(ExitStatus::Verified)
}

/// `show --json` output: the same object, and the same key order, as the error case's
/// `json!` map (keys sorted).
#[derive(serde::Serialize)]
struct ShowJson<'a> {
    errors: [&'a str; 0],
    exit_code: u8,
    root: RootStatus,
    seal: &'a SealSummary,
    show_version: u32,
    signature: SignatureStatus,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    timestamps: &'a [seqprov::timestamp_checks::StoredToken],
}

pub(crate) fn show(a: ShowArgs) -> Result<ExitStatus> {
    let bundle = match seqprov::read_bundle(&a.bundle) {
        Ok(bundle) => bundle,
        Err(error) if a.json => {
            let status = error.exit_status();
            let object = serde_json::json!({
                "show_version": 1,
                "seal": null,
                "signature": SignatureStatus::NotChecked,
                "root": RootStatus::NotChecked,
                "errors": [format!("reading bundle {}: {error}", a.bundle.display())],
                "exit_code": status.code(),
            });
            outln!("{}", serde_json::to_string_pretty(&object)?);
            eprintln!(
                "seqprov: error: {}",
                crate::terminal_text::terminal_safe(&format!(
                    "reading bundle {}: {error}",
                    a.bundle.display()
                ))
            );
            return Ok(status);
        }
        Err(error) => {
            return Err(
                anyhow::Error::new(error).context(format!("reading bundle {}", a.bundle.display()))
            );
        }
    };
    let summary = SealSummary::of(&bundle);
    let signature = match seqprov::integrity::check_seal_signature(&bundle) {
        Ok(_) => SignatureStatus::Valid,
        Err(_) => SignatureStatus::Invalid,
    };
    let root = if bundle.root_matches() {
        RootStatus::Match
    } else {
        RootStatus::Mismatch
    };
    let tokens = seqprov::timestamp_checks::stored_tokens(&bundle);
    let status = if signature == SignatureStatus::Valid
        && root == RootStatus::Match
        && tokens.iter().all(|t| t.problem.is_none())
    {
        ExitStatus::Verified
    } else {
        ExitStatus::IntegrityFailure
    };
    if a.json {
        // Written straight to stdout, not built as a JSON tree and a string first: a seal
        // of megabytes is printed back without two more copies of it.
        let object = ShowJson {
            errors: [],
            exit_code: status.code(),
            root,
            seal: &summary,
            show_version: 1,
            signature,
            timestamps: &tokens,
        };
        let mut out = std::io::stdout().lock();
        let written = serde_json::to_writer_pretty(&mut out, &object)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out));
        match written {
            // The reader of a pipe has gone (see `outln!`): the verdict still stands.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.context("writing to standard output")?,
        }
    } else {
        for line in text_output::seal_lines(&summary) {
            outln!("{line}");
        }
        outln!(
            "signature: {} (self-consistency only: `verify --trust` decides trust)",
            if signature == SignatureStatus::Valid {
                "valid"
            } else {
                "INVALID"
            }
        );
        outln!(
            "entries:   {}",
            if root == RootStatus::Match {
                "match the signed root"
            } else {
                "DO NOT match the signed root"
            }
        );
        for t in &tokens {
            let claimed = match t.message.as_str() {
                "seal" => Some(summary.time.clone()),
                _ => None,
            };
            match (&t.gen_time, &t.tsa, &t.problem) {
                (Some(at), Some(tsa), _) => outln!(
                    "timestamp: {}{}: token of {} by {} (`verify --policy` decides whether the \
                     TSA is trusted)",
                    crate::terminal_text::terminal_safe(&t.message),
                    claimed
                        .map(|c| format!(" claimed {}", crate::terminal_text::terminal_safe(&c)))
                        .unwrap_or_default(),
                    crate::terminal_text::terminal_safe(at),
                    crate::terminal_text::terminal_safe(tsa)
                ),
                (_, _, problem) => outln!(
                    "timestamp: {}: token DOES NOT belong to it: {}",
                    crate::terminal_text::terminal_safe(&t.message),
                    crate::terminal_text::terminal_safe(problem.as_deref().unwrap_or_default())
                ),
            }
        }
    }
    Ok(status)
}
