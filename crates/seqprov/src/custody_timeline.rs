//! The custody timeline of a bundle as `seqprov custody show` reports it: the seal, every
//! event with its status and the gap since the one before, and what trust and policy
//! said. One structure feeds the command's text, its JSON object (`custody_version` 1,
//! `spec/custody.md` §10.2) and its HTML page ([`crate::report_page`]).

use serde::Serialize;

use crate::bundle_checks::{check_bundle, gap_between};
use crate::chain::{EventRecord, SignatureStatus};
use crate::exit_status::ExitStatus;
use crate::policy::{Policy, RuleFailure};
use crate::report::{RootStatus, SealSummary};
use seqprov_format::Bundle;

/// Version of the `custody show --json` object.
pub const CUSTODY_VERSION: u32 = 1;

/// One custody event of the timeline.
#[derive(Clone, Debug, Serialize)]
pub struct TimelineEvent {
    /// The event as checked (its members are the object's members).
    #[serde(flatten)]
    pub record: EventRecord,
    /// Seconds since the previous claimed time (the seal's for the first event); `None`
    /// when this event's time is unknown.
    pub gap_seconds: Option<i64>,
}

/// What `custody show` reports about a bundle.
#[derive(Clone, Debug, Serialize)]
pub struct CustodyTimeline {
    /// Schema version, [`CUSTODY_VERSION`].
    pub custody_version: u32,
    /// What the seal says (absent when the bundle could not be read).
    pub seal: Option<SealSummary>,
    /// Seal signature status.
    pub signature: SignatureStatus,
    /// Merkle root status.
    pub root: RootStatus,
    /// Whether the seal's signer is trusted; `None` when no trust option was given.
    pub trusted: Option<bool>,
    /// Every event, in bundle order.
    pub events: Vec<TimelineEvent>,
    /// Integrity problems (of the seal or the chain), or the error that stopped the
    /// command.
    pub errors: Vec<String>,
    /// Failed policy rules (empty when signers were not judged).
    pub policy: Vec<RuleFailure>,
    /// Warnings from the chain (claimed times going backwards).
    pub warnings: Vec<String>,
    /// The command's exit code.
    pub exit_code: u8,
    /// Claimed and attested time of each message, when the bundle holds RFC 3161 tokens
    /// or the policy requires them (spec/timestamps.md §6.1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timestamps: Vec<crate::timestamp_checks::MessageTime>,
}

impl CustodyTimeline {
    /// Check `bundle` (signature, root, chain, and, when `judged`, trust and policy)
    /// and lay out its timeline.
    pub fn of(bundle: &Bundle, policy: &Policy, judged: bool) -> CustodyTimeline {
        let checks = check_bundle(bundle, policy, &Default::default());
        let status = if !checks.integrity.is_empty() {
            ExitStatus::IntegrityFailure
        } else if judged && !checks.policy.is_empty() {
            ExitStatus::Untrusted
        } else {
            ExitStatus::Verified
        };
        let stamped = !bundle.timestamps.is_empty() || (judged && policy.timestamps.require);
        let timestamps = if stamped {
            checks.times.clone()
        } else {
            Vec::new()
        };
        let mut previous = bundle.payload.time.clone();
        let events = checks
            .chain
            .events
            .into_iter()
            .map(|record| {
                let gap = record
                    .time
                    .as_deref()
                    .and_then(|t| gap_between(&previous, t))
                    .map(|g| g.whole_seconds());
                if let Some(t) = &record.time {
                    previous = t.clone();
                }
                TimelineEvent {
                    record,
                    gap_seconds: gap,
                }
            })
            .collect();
        CustodyTimeline {
            custody_version: CUSTODY_VERSION,
            seal: Some(SealSummary::of(bundle)),
            signature: checks.signature,
            root: checks.root,
            trusted: judged.then_some(checks.trusted),
            events,
            errors: checks.integrity,
            policy: if judged { checks.policy } else { Vec::new() },
            warnings: checks.chain.warnings,
            exit_code: status.code(),
            timestamps,
        }
    }

    /// The timeline of a bundle that could not be read: `message` says why.
    pub fn from_error(message: String, status: ExitStatus) -> CustodyTimeline {
        CustodyTimeline {
            custody_version: CUSTODY_VERSION,
            seal: None,
            signature: SignatureStatus::NotChecked,
            root: RootStatus::NotChecked,
            trusted: None,
            events: Vec::new(),
            errors: vec![message],
            policy: Vec::new(),
            warnings: Vec::new(),
            exit_code: status.code(),
            timestamps: Vec::new(),
        }
    }

    /// The exit status the timeline stands for.
    pub fn exit_status(&self) -> ExitStatus {
        match self.exit_code {
            0 => ExitStatus::Verified,
            1 => ExitStatus::IntegrityFailure,
            3 => ExitStatus::Untrusted,
            _ => ExitStatus::UsageOrIo,
        }
    }

    /// The timeline as the `custody show --json` object (members in name order, as the
    /// command has always printed them).
    pub fn to_json(&self) -> String {
        let value = serde_json::to_value(self).expect("timelines always serialise");
        serde_json::to_string_pretty(&value).expect("JSON values always serialise")
    }
}
