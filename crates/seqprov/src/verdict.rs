//! Turning what the checks found into a report and its verdict: integrity failures
//! before untrusted signers before unmet policy rules (`spec/report.md`).

use seqprov_engine::FileDigests;
use seqprov_format::Bundle;
use seqprov_format::entry_table::EntryRef;

use crate::bundle_checks::BundleChecks;
use crate::policy::Policy;
use crate::report::{
    FileClass, FileFinding, REPORT_VERSION, Report, SealSummary, Summary, Verdict,
};

/// A report holding what the bundle checks found, before any file is read.
pub(crate) fn report_for(bundle: &Bundle, checks: BundleChecks, policy: &Policy) -> Report {
    let stamped = !bundle.timestamps.is_empty() || policy.timestamps.require;
    Report {
        report_version: REPORT_VERSION,
        tool: seqprov_format::TOOL.into(),
        verdict: Verdict::Verified,
        exit_code: 0,
        seal: Some(SealSummary::of(bundle)),
        signature: checks.signature,
        trusted: checks.trusted,
        root: checks.root,
        errors: checks.integrity,
        policy: checks.policy,
        warnings: [checks.warnings, checks.chain.warnings].concat(),
        custody: checks.chain.events,
        lineage: checks.lineage,
        timestamps: if stamped { checks.times } else { Vec::new() },
        log_online: Vec::new(),
        log_unchecked: Vec::new(),
        log_receipts: checks.log_receipts,
        summary: Summary::default(),
        files: Vec::new(),
    }
}

/// File classes the policy turns from failures into warnings.
#[derive(Clone, Copy, Default)]
pub(crate) struct Allowed {
    /// Extra files are warnings.
    pub(crate) extra: bool,
    /// Recompressed FASTQ files are warnings.
    pub(crate) recompressed: bool,
}

pub(crate) fn finish(mut report: Report, allowed: Allowed) -> Report {
    let s = &report.summary;
    let file_problems = s.problems()
        - if allowed.extra { s.extra } else { 0 }
        - if allowed.recompressed {
            s.recompressed
        } else {
            0
        };
    report.verdict = if !report.errors.is_empty() || file_problems > 0 {
        Verdict::IntegrityFailure
    } else if !report.trusted {
        Verdict::Untrusted
    } else if !report.policy.is_empty() {
        Verdict::PolicyNotSatisfied
    } else {
        Verdict::Verified
    };
    report.exit_code = report.exit_status().code();
    report
}

pub(crate) fn finding(path: &str, class: FileClass, detail: String) -> FileFinding {
    FileFinding {
        path: path.to_string(),
        class,
        from: None,
        file: None,
        detail,
    }
}

/// Compare sealed digests with found ones; `Some(detail)` if they differ.
pub(crate) fn compare_file(entry: EntryRef<'_>, found: &FileDigests) -> Option<String> {
    let size = entry.size().unwrap_or_default();
    if size != found.size {
        return Some(format!("size changed from {size} to {} bytes", found.size));
    }
    if entry.blake3().map(|b| b.0) != Some(found.blake3) {
        return Some("content differs (BLAKE3 mismatch, same size)".into());
    }
    if let (Some(sealed), Some(now)) = (entry.sha256(), found.sha256)
        && sealed.0 != now
    {
        return Some("content differs (SHA-256 mismatch, same size)".into());
    }
    None
}
