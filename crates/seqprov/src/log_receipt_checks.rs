//! Checking a bundle's log receipt records offline (spec/log.md §7.2) against the
//! policy's `[log]`: each record's entry must be exactly the entry the bundle derives for
//! its message (else the bundle is modified, exit 1); a receipt from a trusted log must
//! carry a valid log signature and prove its entry under the checkpoint's root (else
//! exit 1), and counts when enough trusted witnesses cosigned; a receipt from a log the
//! policy does not list is reported and ignored; `require_receipts` makes the seal and
//! every custody event need a counted receipt (rule `log_receipt_required`, exit 3).

use std::collections::HashMap;

use seqprov_format::Bundle;
use seqprov_format::log_entry::{LogEntry, LogEntryKind};
use seqprov_log::checkpoint;
use seqprov_log::merkle;
use seqprov_log::proof_text::TlogProof;
use serde::Serialize;

use crate::log_submission::{entries_of_bundle, receipt_origin};
use crate::policy::{Policy, RuleFailure};

/// What one receipt record showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// From a trusted log, proven, with at least `witness_quorum` trusted cosignatures.
    Counted,
    /// From a trusted log and proven, but with too few trusted cosignatures: not counted.
    Unwitnessed,
    /// From a log the policy does not list: reported, otherwise ignored.
    UntrustedLog,
    /// From a trusted log, but its checkpoint or inclusion proof does not verify (exit 1).
    Invalid,
    /// Its entry is not the entry the bundle derives for its message (exit 1).
    Modified,
}

/// One receipt record as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReceiptReport {
    /// `seal` or `custody event N`: the message the record covers.
    pub message: String,
    /// What the entry logs: `seal`, `custody` or `timestamp` (absent when the entry does
    /// not decode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The log's origin as the checkpoint names it (attacker text: escape before
    /// printing).
    pub log: String,
    /// The entry's index in the log, when the proof parses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The checkpoint's tree size, when the proof parses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree_size: Option<u64>,
    /// The trusted witnesses whose cosignatures verified.
    pub witnesses: Vec<String>,
    /// What the receipt showed.
    pub status: ReceiptStatus,
    /// Why it is not counted, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What a bundle's receipt records show.
#[derive(Clone, Debug, Default)]
pub struct ReceiptChecks {
    /// One line per record, in file order.
    pub receipts: Vec<ReceiptReport>,
    /// Modified entries and receipts of trusted logs that do not verify (exit 1).
    pub integrity: Vec<String>,
    /// `log_receipt_required` failures (exit 3).
    pub policy: Vec<RuleFailure>,
    /// Receipts that are not counted (untrusted log, too few cosignatures).
    pub warnings: Vec<String>,
}

fn subject(covers: u64) -> String {
    match covers {
        0 => "seal".into(),
        i => format!("custody event {i}"),
    }
}

/// Check every receipt record of `bundle` (spec/log.md §7.2) and the policy's
/// `require_receipts`.
pub fn check_receipts(bundle: &Bundle, policy: &Policy) -> ReceiptChecks {
    let mut checks = ReceiptChecks::default();
    // Indexed by the covered message: each record is matched against the few entries of
    // its own message (the message and its tokens), not against every derived entry.
    let mut derived: HashMap<u64, Vec<Vec<u8>>> = HashMap::new();
    for entry in entries_of_bundle(bundle).unwrap_or_default() {
        derived
            .entry(entry.covers)
            .or_default()
            .push(entry.encode());
    }
    let messages = bundle.events.len() as u64 + 1;
    let mut counted = vec![false; messages as usize];
    for (n, record) in bundle.log_receipts.iter().enumerate() {
        let message = subject(record.covers);
        let entry = LogEntry::decode(&record.entry).ok();
        let mut report = ReceiptReport {
            message: message.clone(),
            kind: entry.as_ref().map(|e| e.kind.name().to_owned()),
            log: receipt_origin(&record.proof),
            index: None,
            tree_size: None,
            witnesses: Vec::new(),
            status: ReceiptStatus::Counted,
            detail: None,
        };
        let label = format!("log receipt {} ({message})", n + 1);
        let is_derived = derived
            .get(&record.covers)
            .is_some_and(|entries| entries.contains(&record.entry));
        if !is_derived {
            let why = "its entry is not the entry of the message it covers (the entry or the \
                       bundle was modified)";
            checks.integrity.push(format!("{label}: {why}"));
            report.status = ReceiptStatus::Modified;
            report.detail = Some(why.into());
            checks.receipts.push(report);
            continue;
        }
        let proof = TlogProof::parse(record.proof.as_bytes());
        let origin = match &proof {
            Ok(p) => checkpoint::parse_unverified(&p.checkpoint)
                .map(|(origin, _, _)| origin)
                .unwrap_or_else(|_| report.log.clone()),
            Err(_) => report.log.clone(),
        };
        report.log = origin.clone();
        let Some(log) = policy.log.keys.iter().find(|k| k.origin == origin) else {
            let why = "from a log the policy does not list: ignored";
            checks.warnings.push(format!(
                "{label}: from the log {origin:?}, which the policy does not list; ignored"
            ));
            report.status = ReceiptStatus::UntrustedLog;
            report.detail = Some(why.into());
            checks.receipts.push(report);
            continue;
        };
        let verified = proof
            .map_err(|e| format!("the receipt does not parse: {e}"))
            .and_then(|proof| {
                report.index = Some(proof.index);
                let opened = checkpoint::open(&proof.checkpoint, log, &policy.log.witnesses)
                    .map_err(|e| format!("its checkpoint does not verify: {e}"))?;
                report.tree_size = Some(opened.size);
                merkle::check_inclusion(
                    &proof.path,
                    opened.size,
                    &opened.root,
                    proof.index,
                    &merkle::record_hash(&record.entry),
                )
                .map_err(|e| format!("its inclusion proof does not verify: {e}"))?;
                Ok(opened)
            });
        match verified {
            Err(why) => {
                checks.integrity.push(format!("{label}: {why}"));
                report.status = ReceiptStatus::Invalid;
                report.detail = Some(why);
            }
            Ok(opened) => {
                report.witnesses = opened.witnesses.iter().map(|(w, _)| w.clone()).collect();
                if opened.witnesses.len() < policy.log.witness_quorum {
                    let why = format!(
                        "{} trusted cosignature(s), the policy needs {}: not counted",
                        opened.witnesses.len(),
                        policy.log.witness_quorum
                    );
                    checks.warnings.push(format!("{label}: {why}"));
                    report.status = ReceiptStatus::Unwitnessed;
                    report.detail = Some(why);
                } else if entry
                    .as_ref()
                    .is_some_and(|e| e.kind != LogEntryKind::Timestamp)
                    && let Some(slot) = counted.get_mut(record.covers as usize)
                {
                    *slot = true;
                }
            }
        }
        checks.receipts.push(report);
    }
    if policy.log.require_receipts {
        for (covers, done) in counted.iter().enumerate() {
            if !done {
                checks.policy.push(RuleFailure::new(
                    "log_receipt_required",
                    &subject(covers as u64),
                    "no counted receipt from a trusted log (the policy requires one for the \
                     seal and every custody event)",
                ));
            }
        }
    }
    checks
}
