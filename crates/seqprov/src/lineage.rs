//! Derivation links: recording which sealed bundle a derived seal (FASTQ from a run) came
//! from, and checking that link against the input bundle at verification time.

use std::path::Path;

use serde::Serialize;

use crate::chain;
use crate::error::{Error, Result};
use crate::integrity::check_seal_signature;
use crate::policy::{Policy, RuleFailure};
use seqprov_format::Bundle;
use seqprov_format::event::message_digest;
use seqprov_format::manifest::{Bytes32, DerivedFrom};

/// Build the `derived_from` record for a new seal from its input bundle.
///
/// The input bundle must hold together (valid seal signature, matching root, intact
/// chain): deriving from a broken bundle is refused.
pub fn derived_from(
    input: &Bundle,
    step: &str,
    sample_sheet: Option<&Path>,
) -> Result<DerivedFrom> {
    crate::integrity::check_integrity(input)
        .map_err(|why| Error::Integrity(format!("the derived-from bundle: {why}")))?;
    let sample_sheet = match sample_sheet {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            Some(Bytes32(*blake3::hash(&bytes).as_bytes()))
        }
        None => None,
    };
    Ok(DerivedFrom {
        seal: Bytes32(message_digest(&input.seal.raw)),
        root: input.payload.root,
        subject: input.payload.subject.name.clone(),
        step: step.to_string(),
        sample_sheet,
    })
}

/// What the lineage check found.
#[derive(Clone, Debug, Serialize)]
pub struct LineageReport {
    /// Subject name of the recorded input.
    pub subject: String,
    /// The recorded processing step.
    pub step: String,
    /// BLAKE3 of the input seal (hex).
    pub seal: String,
    /// `verified`, `not_given`, `failed` or `untrusted`.
    pub status: String,
    /// Whether the recorded sample sheet is among the input run's sealed files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_sheet_in_run: Option<bool>,
}

/// The outcome of the lineage check, split by consequence.
#[derive(Clone, Debug, Default)]
pub struct LineageCheck {
    /// The report section (absent if the seal records no input).
    pub report: Option<LineageReport>,
    /// Integrity problems (exit 1).
    pub integrity: Vec<String>,
    /// Policy failures (exit 3).
    pub policy: Vec<RuleFailure>,
}

/// Check the seal's `derived_from` against the given input bundles.
pub fn check(bundle: &Bundle, inputs: &[Bundle], policy: &Policy, required: bool) -> LineageCheck {
    let mut out = LineageCheck::default();
    let Some(recorded) = &bundle.payload.derived_from else {
        if required {
            out.policy.push(RuleFailure::new(
                "lineage",
                "lineage",
                "the seal records no derived-from bundle",
            ));
        }
        return out;
    };
    let mut report = LineageReport {
        subject: recorded.subject.clone(),
        step: recorded.step.clone(),
        seal: hex::encode(recorded.seal.0),
        status: "verified".into(),
        sample_sheet_in_run: None,
    };
    let input = inputs
        .iter()
        .find(|b| message_digest(&b.seal.raw) == recorded.seal.0);
    match input {
        None if inputs.is_empty() => {
            report.status = "not_given".into();
            if required {
                out.policy.push(RuleFailure::new(
                    "lineage",
                    "lineage",
                    format!(
                        "the derived-from bundle of {:?} was not given (--derived-from PATH)",
                        recorded.subject
                    ),
                ));
            }
        }
        None => {
            report.status = "failed".into();
            out.integrity.push(format!(
                "lineage: no given derived-from bundle has the recorded seal digest {} (the input bundle was altered or another one was given)",
                report.seal
            ));
        }
        Some(input) => {
            let mut problems = Vec::new();
            if let Err(why) = check_seal_signature(input) {
                problems.push(format!(
                    "lineage: the input bundle's seal does not verify: {why}"
                ));
            }
            if !input.root_matches() || input.payload.root != recorded.root {
                problems.push("lineage: the input bundle's entries do not match the recorded root (the input bundle was altered)".into());
            }
            problems.extend(
                chain::check(input)
                    .integrity_problems()
                    .into_iter()
                    .map(|p| format!("lineage: input {p}")),
            );
            if !problems.is_empty() {
                report.status = "failed".into();
                out.integrity.extend(problems);
            } else {
                let failures = policy.judge(
                    "lineage seal",
                    input.seal.key_id,
                    &input.payload.signer.role,
                    &input.payload.time,
                    input.payload.signer.key_storage,
                );
                if !failures.is_empty() {
                    report.status = "untrusted".into();
                    out.policy.extend(failures);
                }
                if let Some(sheet) = recorded.sample_sheet {
                    report.sample_sheet_in_run =
                        Some(input.entries.iter().any(|e| e.blake3() == Some(sheet)));
                }
            }
        }
    }
    out.report = Some(report);
    out
}
