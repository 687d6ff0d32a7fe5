//! The typed outcome of a verification, its exit status, and its JSON form
//! (schema in `spec/report.md`, version [`REPORT_VERSION`]).

use serde::Serialize;

use crate::chain::EventRecord;
pub use crate::chain::SignatureStatus;
use crate::error::Error;
pub use crate::exit_status::ExitStatus;
use crate::lineage::LineageReport;
use crate::policy::RuleFailure;
use seqprov_format::Bundle;
use seqprov_format::manifest::SealPayload;

/// Version of the JSON report schema.
pub const REPORT_VERSION: u32 = 1;

/// How every warning a report can carry begins, in the order `spec/report.md` §2.4
/// lists them: the texts after these prefixes are informative, the prefixes are stable
/// (a test checks that the spec lists each and that the code emits no other).
pub const WARNING_PREFIXES: [&str; 14] = [
    "sealed incomplete: ",
    "sealed with ",
    "sealed although a format check failed: ",
    "run metadata: ",
    "run mode: ",
    "symlink ",
    "... and ",
    "custody event ",
    "the folder is named ",
    "names were not checked ",
    "only bytes ",
    "extra file allowed by policy: ",
    "recompressed file allowed by policy: ",
    "log ",
];

/// How a sealed or found path compares with the seal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileClass {
    /// Present and identical.
    Ok,
    /// Present, same kind, different content (or size, or link target).
    Modified,
    /// Sealed but absent, and not found elsewhere.
    Missing,
    /// Present but not sealed.
    Extra,
    /// Sealed content found at another path (and absent from its own).
    Moved,
    /// Present at the sealed path as another kind (for example, a symlink for a file).
    TypeChanged,
    /// A FASTQ whose bytes changed but whose records (names, bases, qualities) are the
    /// ones sealed: recompressed. A failure unless the policy allows it.
    Recompressed,
}

/// One file problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileFinding {
    /// The path concerned (for `moved`, where the content is now).
    pub path: String,
    /// The class.
    pub class: FileClass,
    /// For `moved`: the sealed path the content came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// With `verify FILE... --proof`: the file, as given, that was checked as the entry
    /// `path` (every given file is listed, `ok` ones included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Human-readable detail.
    pub detail: String,
}

/// Counts per class.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Identical entries.
    pub ok: u64,
    /// Modified entries.
    pub modified: u64,
    /// Missing entries.
    pub missing: u64,
    /// Extra paths.
    pub extra: u64,
    /// Moved entries.
    pub moved: u64,
    /// Entries whose kind changed.
    pub type_changed: u64,
    /// FASTQ files recompressed with the same records.
    pub recompressed: u64,
}

impl Summary {
    /// The non-zero problem counts in words, in class order (`2 modified, 1 missing`);
    /// empty when nothing is wrong. The text report and the HTML page print this.
    pub fn problems_in_words(&self) -> String {
        [
            (self.modified, "modified"),
            (self.missing, "missing"),
            (self.extra, "extra"),
            (self.moved, "moved"),
            (self.type_changed, "type changed"),
            (self.recompressed, "recompressed"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect::<Vec<_>>()
        .join(", ")
    }

    /// Count one finding.
    pub fn count(&mut self, class: FileClass) {
        *match class {
            FileClass::Ok => &mut self.ok,
            FileClass::Modified => &mut self.modified,
            FileClass::Missing => &mut self.missing,
            FileClass::Extra => &mut self.extra,
            FileClass::Moved => &mut self.moved,
            FileClass::TypeChanged => &mut self.type_changed,
            FileClass::Recompressed => &mut self.recompressed,
        } += 1;
    }

    /// Number of problems (everything but `ok`).
    pub fn problems(&self) -> u64 {
        self.modified
            + self.missing
            + self.extra
            + self.moved
            + self.type_changed
            + self.recompressed
    }
}

/// What a bundle's seal says, for `show` and for reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SealSummary {
    /// Signer's printed name.
    pub signer: String,
    /// Signer's role.
    pub role: String,
    /// Meaning of the signature.
    pub meaning: String,
    /// Key id (hex).
    pub key_id: String,
    /// Signer's public key (hex).
    pub public_key: String,
    /// How the signer says its key was held (`pkcs11`, `ssh-agent`, `file`), when the
    /// seal records it; a claim by the signer, not proof.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_storage: Option<String>,
    /// Seal time as claimed by the signer.
    pub time: String,
    /// Program that made the seal.
    pub tool: String,
    /// Name of the sealed directory.
    pub subject: String,
    /// Number of entries.
    pub entries: u64,
    /// Number of files.
    pub files: u64,
    /// Total bytes of files.
    pub bytes: u64,
    /// Digest algorithms.
    pub digests: Vec<String>,
    /// Signed Merkle root (hex).
    pub root: String,
    /// Number of custody events after the entry list.
    pub custody_events: u64,
    /// Run id, instrument and flow cell, when the seal records a run folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The run-mode claim and its corroboration, when made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The bundle this data was derived from and the step, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<String>,
    /// How many expected files the seal records as missing (`missing` or the older
    /// `incomplete`), when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<u64>,
    /// How many base-call files of lanes the layout does not have it records, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexpected: Option<u64>,
}

impl SealSummary {
    /// Summarise a parsed bundle.
    pub fn of(bundle: &Bundle) -> SealSummary {
        let p: &SealPayload = &bundle.payload;
        SealSummary {
            signer: p.signer.name.clone(),
            role: p.signer.role.clone(),
            meaning: p.signer.meaning.clone(),
            key_id: bundle.seal.key_id.to_hex(),
            public_key: hex::encode(p.signer.public_key.0),
            key_storage: p.signer.key_storage.map(|k| k.as_str().to_string()),
            time: p.time.clone(),
            tool: p.tool.clone(),
            subject: p.subject.name.clone(),
            entries: p.entries,
            files: p.files,
            bytes: p.bytes,
            digests: p.digests.clone(),
            root: hex::encode(p.root.0),
            custody_events: bundle.events.len() as u64,
            run: p.run.as_ref().map(|r| {
                let info = &r.run_info;
                format!(
                    "{} (instrument {}, flow cell {}, {} cycles)",
                    info.run_id,
                    info.instrument.as_deref().unwrap_or("?"),
                    info.flowcell.as_deref().unwrap_or("?"),
                    info.total_cycles()
                )
            }),
            mode: p
                .mode
                .as_ref()
                .map(|m| format!("{} (corroboration: {})", m.claim.name(), m.corroboration)),
            derived_from: p.derived_from.as_ref().map(|d| {
                format!(
                    "{} by {:?} (seal {})",
                    d.subject,
                    d.step,
                    hex::encode(d.seal.0)
                )
            }),
            missing: p
                .missing
                .as_ref()
                .map(|m| m.count)
                .or((!p.incomplete.is_empty()).then_some(p.incomplete.len() as u64)),
            unexpected: p.unexpected.as_ref().map(|u| u.count),
        }
    }
}

/// Outcome of comparing the recomputed Merkle root with the signed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RootStatus {
    /// The entry list hashes to the signed root.
    Match,
    /// It does not: the entry list was edited.
    Mismatch,
    /// Not checked.
    NotChecked,
}

/// Overall verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Everything checked out and the signer is trusted.
    Verified,
    /// `verify FILE --range`: the file has its sealed size and the byte range checks out
    /// against the sealed BLAKE3 (trusted signer, policy satisfied); the rest of the file
    /// was not read. Exit 0, but never to be taken for a whole file verified.
    RangeVerified,
    /// Some integrity check failed.
    IntegrityFailure,
    /// Intact and validly signed, by a key that is not trusted.
    Untrusted,
    /// Intact, signed by a trusted key, but a policy rule is not satisfied.
    PolicyNotSatisfied,
    /// Nothing could be concluded (usage or I/O error).
    Error,
}

/// The result of verifying a directory against a bundle.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Schema version, [`REPORT_VERSION`].
    pub report_version: u32,
    /// Program that verified.
    pub tool: String,
    /// Overall verdict.
    pub verdict: Verdict,
    /// Exit code the verdict stands for.
    pub exit_code: u8,
    /// What the seal says (absent if the bundle could not be read).
    pub seal: Option<SealSummary>,
    /// Seal signature status.
    pub signature: SignatureStatus,
    /// Whether the seal's key is among the trusted keys.
    pub trusted: bool,
    /// Merkle root status.
    pub root: RootStatus,
    /// Integrity problems with the bundle itself (signature, root, structure, custody
    /// chain, lineage), in words.
    pub errors: Vec<String>,
    /// Failed policy rules, each named.
    pub policy: Vec<RuleFailure>,
    /// Warnings that do not change the verdict.
    pub warnings: Vec<String>,
    /// The custody events, in chain order, with their status.
    pub custody: Vec<EventRecord>,
    /// The derivation link, when the seal records one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lineage: Option<LineageReport>,
    /// Claimed and attested (RFC 3161) time of each message, when any message of the
    /// bundle carries a timestamp token or the policy requires one
    /// (spec/timestamps.md).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timestamps: Vec<crate::timestamp_checks::MessageTime>,
    /// What `verify --log` found in each transparency log asked (spec/log.md §8); only
    /// present with `--log`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_online: Vec<crate::log_online::OnlineCheck>,
    /// Receipts of trusted logs that no `verify --log` source served (spec/log.md §8
    /// step 6); only present when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_unchecked: Vec<crate::log_online::UncheckedReceipt>,
    /// The transparency-log receipt records and what each showed, when the bundle holds
    /// any (spec/log.md §7.2, spec/report.md §8).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_receipts: Vec<crate::log_receipt_checks::ReceiptReport>,
    /// Counts per class.
    pub summary: Summary,
    /// Every file problem, sorted by path (entries that are `ok` are only counted).
    pub files: Vec<FileFinding>,
}

impl Report {
    /// A report for a run that could not get as far as checking files.
    pub fn from_error(error: &Error) -> Report {
        let status = error.exit_status();
        Report {
            report_version: REPORT_VERSION,
            tool: seqprov_format::TOOL.into(),
            verdict: match status {
                ExitStatus::IntegrityFailure => Verdict::IntegrityFailure,
                _ => Verdict::Error,
            },
            exit_code: status.code(),
            seal: None,
            signature: SignatureStatus::NotChecked,
            trusted: false,
            root: RootStatus::NotChecked,
            errors: vec![error.to_string()],
            policy: Vec::new(),
            warnings: Vec::new(),
            custody: Vec::new(),
            lineage: None,
            timestamps: Vec::new(),
            log_online: Vec::new(),
            log_unchecked: Vec::new(),
            log_receipts: Vec::new(),
            summary: Summary::default(),
            files: Vec::new(),
        }
    }

    /// The exit status of this report.
    pub fn exit_status(&self) -> ExitStatus {
        match self.verdict {
            Verdict::Verified | Verdict::RangeVerified => ExitStatus::Verified,
            Verdict::IntegrityFailure => ExitStatus::IntegrityFailure,
            Verdict::Untrusted | Verdict::PolicyNotSatisfied => ExitStatus::Untrusted,
            Verdict::Error => ExitStatus::UsageOrIo,
        }
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports always serialise")
    }
}

// Kept here, not in log_online, so that report -> log_online is the only direction between
// the two modules (tests/architecture.rs: no module imports another in a circle).
impl crate::log_online::OnlineCheck {
    /// Add what the check found to `report` and recompute its verdict: forks and
    /// rollbacks are integrity failures (exit 1), the rules of [`Self::rule_failures`]
    /// are unmet policy (exit 3, unless the report is already worse).
    pub fn apply_to(self, report: &mut Report, one_seal_per_run: bool, require_receipts: bool) {
        let errors = self.errors();
        let failures = self.rule_failures(one_seal_per_run, require_receipts);
        if !errors.is_empty() {
            report.errors.extend(errors);
            if report.verdict != Verdict::Error {
                report.verdict = Verdict::IntegrityFailure;
            }
        }
        // The offline check may already have named the seal's missing receipt.
        let failures: Vec<RuleFailure> = failures
            .into_iter()
            .filter(|f| {
                !report
                    .policy
                    .iter()
                    .any(|p| p.rule == f.rule && p.subject == f.subject)
            })
            .collect();
        if !failures.is_empty() {
            report.policy.extend(failures);
            if matches!(report.verdict, Verdict::Verified | Verdict::RangeVerified) {
                report.verdict = Verdict::PolicyNotSatisfied;
            }
        }
        if self.freshness.status == crate::log_online::FreshnessStatus::NotRequired {
            report.warnings.push(format!(
                "log {}: the freshness of its checkpoint ({} entries) was not proven (the \
                 policy sets no [log] max_checkpoint_age): a stale checkpoint would hide \
                 later events",
                self.origin, self.size
            ));
        }
        report.exit_code = report.exit_status().code();
        report.log_online.push(self);
    }
}

impl Report {
    /// Record the receipts of trusted logs that no `verify --log` source served
    /// (spec/log.md §8 step 6): one error per log, `receipts of log X were not checked
    /// online: no --log served it`, and the verdict `error` (exit 2) unless the report
    /// already found an integrity failure (exit 1 stays).
    pub fn apply_unchecked_receipts(
        &mut self,
        unchecked: Vec<crate::log_online::UncheckedReceipt>,
    ) {
        if unchecked.is_empty() {
            return;
        }
        let mut origins: Vec<&str> = Vec::new();
        for r in &unchecked {
            if !origins.contains(&r.log.as_str()) {
                origins.push(&r.log);
            }
        }
        for origin in origins {
            self.errors.push(format!(
                "receipts of log {origin} were not checked online: no --log served it"
            ));
        }
        if self.verdict != Verdict::IntegrityFailure {
            self.verdict = Verdict::Error;
        }
        self.exit_code = self.exit_status().code();
        self.log_unchecked = unchecked;
    }
}
