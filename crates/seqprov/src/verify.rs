//! Verifying a directory against a bundle: signature, trust, Merkle root, then every file,
//! classified as ok, modified, missing, extra, moved or type changed.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rayon::prelude::*;

use crate::bundle::Bundle;
use crate::error::Result;
use crate::hashing::{self, FileDigests, HashOptions, Progress, ReadMode};
use crate::keys::PublicKey;
use crate::manifest::{Entry, EntryKind};
use crate::report::{
    FileClass, FileFinding, REPORT_VERSION, Report, RootStatus, SealSummary, SignatureStatus,
    Summary, Verdict,
};
use crate::walk::{self, Node, NodeKind};

/// How to verify.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyOptions {
    /// How to read file contents.
    pub read_mode: ReadMode,
}

/// Check the seal's signature under the key it names; `Err` says why it fails.
pub fn check_seal_signature(bundle: &Bundle) -> std::result::Result<PublicKey, String> {
    let key = PublicKey::from_bytes(&bundle.payload.signer.public_key.0)?;
    bundle.seal.verify(&key)?;
    Ok(key)
}

/// Verify `dir` against `bundle`, trusting the given keys.
pub fn verify_directory(
    dir: &Path,
    bundle: &Bundle,
    trusted: &[PublicKey],
    options: VerifyOptions,
    progress: &dyn Progress,
) -> Result<Report> {
    let mut report = Report {
        report_version: REPORT_VERSION,
        tool: crate::seal::TOOL.into(),
        verdict: Verdict::Verified,
        exit_code: 0,
        seal: Some(SealSummary::of(bundle)),
        signature: SignatureStatus::Valid,
        trusted: false,
        root: RootStatus::Match,
        errors: Vec::new(),
        summary: Summary::default(),
        files: Vec::new(),
    };
    match check_seal_signature(bundle) {
        Ok(key) => report.trusted = trusted.iter().any(|t| t.id() == key.id()),
        Err(why) => {
            report.signature = SignatureStatus::Invalid;
            report.root = RootStatus::NotChecked;
            report
                .errors
                .push(format!("the seal's signature does not verify: {why}"));
            return Ok(finish(report));
        }
    }
    if !bundle.root_matches() {
        report.root = RootStatus::Mismatch;
        report.errors.push(
            "the entry list does not match the signed Merkle root (the entry list was edited)"
                .into(),
        );
        return Ok(finish(report));
    }
    let (summary, files) = compare_tree(dir, bundle, options, progress)?;
    report.summary = summary;
    report.files = files;
    Ok(finish(report))
}

fn finish(mut report: Report) -> Report {
    report.verdict = if !report.errors.is_empty() || report.summary.problems() > 0 {
        Verdict::IntegrityFailure
    } else if !report.trusted {
        Verdict::Untrusted
    } else {
        Verdict::Verified
    };
    report.exit_code = report.exit_status().code();
    report
}

/// Walk the directory, hash what must be hashed, and classify every path.
fn compare_tree(
    dir: &Path,
    bundle: &Bundle,
    options: VerifyOptions,
    progress: &dyn Progress,
) -> Result<(Summary, Vec<FileFinding>)> {
    let nodes = walk::walk(dir)?;
    let by_path: HashMap<&str, &Node> = nodes.iter().map(|n| (n.path.as_str(), n)).collect();
    let sealed: HashSet<&str> = bundle.entries.iter().map(|e| e.path.as_str()).collect();
    let hash_options = HashOptions {
        sha256: bundle.payload.has_sha256(),
        read_mode: options.read_mode,
    };

    let mut summary = Summary::default();
    let mut findings = Vec::new();
    let mut to_hash: Vec<(&Entry, &Node)> = Vec::new();
    let mut missing: Vec<&Entry> = Vec::new();
    for entry in &bundle.entries {
        let Some(node) = by_path.get(entry.path.as_str()) else {
            missing.push(entry);
            continue;
        };
        match (entry.kind, &node.kind) {
            (EntryKind::File, NodeKind::File { .. }) => to_hash.push((entry, node)),
            (EntryKind::Symlink, NodeKind::Symlink { target }) => {
                if Some(target) == entry.target.as_ref() {
                    summary.count(FileClass::Ok);
                } else {
                    findings.push(finding(
                        &entry.path,
                        FileClass::Modified,
                        format!(
                            "symlink target changed from {:?} to {:?}",
                            entry.target.as_deref().unwrap_or_default(),
                            target
                        ),
                    ));
                }
            }
            (EntryKind::Dir, NodeKind::Dir { .. }) => summary.count(FileClass::Ok),
            (kind, found) => findings.push(finding(
                &entry.path,
                FileClass::TypeChanged,
                format!("sealed as {}, now a {}", kind.name(), found.name()),
            )),
        }
    }

    // Paths that are not sealed. Non-empty directories are implied by their contents.
    let extras: Vec<&Node> = nodes
        .iter()
        .filter(|n| !sealed.contains(n.path.as_str()) || n.name_error.is_some())
        .filter(|n| !matches!(n.kind, NodeKind::Dir { empty: false }))
        .collect();
    // Only extra files that could be a missing file moved elsewhere need hashing.
    let missing_sizes: HashSet<u64> = missing.iter().filter_map(|e| e.size).collect();
    let extra_to_hash: Vec<&Node> = extras
        .iter()
        .copied()
        .filter(|n| matches!(n.kind, NodeKind::File { size } if missing_sizes.contains(&size)))
        .collect();

    let mut jobs: Vec<(&Node, u64)> = to_hash
        .iter()
        .map(|(_, n)| *n)
        .chain(extra_to_hash.iter().copied())
        .map(|n| match n.kind {
            NodeKind::File { size } => (n, size),
            _ => (n, 0),
        })
        .collect();
    jobs.sort_by_key(|j| std::cmp::Reverse(j.1));
    progress.set_total(jobs.iter().map(|j| j.1).sum());
    let digests: HashMap<&str, FileDigests> = jobs
        .par_iter()
        .with_max_len(1)
        .map(|(node, _)| {
            hashing::hash_file(&node.full, hash_options, progress).map(|d| (node.path.as_str(), d))
        })
        .collect::<Result<_>>()?;

    for (entry, node) in &to_hash {
        let found = &digests[node.path.as_str()];
        match compare_file(entry, found) {
            None => summary.count(FileClass::Ok),
            Some(detail) => findings.push(finding(&entry.path, FileClass::Modified, detail)),
        }
    }

    // Pair missing entries with extra paths holding the same content: moved.
    let mut moved_to: HashSet<&str> = HashSet::new();
    let mut by_content: HashMap<(u64, [u8; 32]), Vec<&str>> = HashMap::new();
    for node in &extra_to_hash {
        let d = &digests[node.path.as_str()];
        by_content
            .entry((d.size, d.blake3))
            .or_default()
            .push(&node.path);
    }
    let mut links_by_target: HashMap<&str, Vec<&str>> = HashMap::new();
    for node in &extras {
        if let NodeKind::Symlink { target } = &node.kind {
            links_by_target.entry(target).or_default().push(&node.path);
        }
    }
    for entry in missing {
        let candidate = match entry.kind {
            EntryKind::File => entry
                .size
                .zip(entry.blake3)
                .and_then(|(size, b3)| by_content.get_mut(&(size, b3.0))),
            EntryKind::Symlink => entry
                .target
                .as_deref()
                .and_then(|t| links_by_target.get_mut(t)),
            EntryKind::Dir => None,
        }
        .and_then(|paths| paths.pop());
        match candidate {
            Some(to) => {
                moved_to.insert(to);
                findings.push(FileFinding {
                    path: to.to_string(),
                    class: FileClass::Moved,
                    from: Some(entry.path.clone()),
                    detail: format!("sealed as {:?}, found at {to:?}", entry.path),
                });
            }
            None => findings.push(finding(
                &entry.path,
                FileClass::Missing,
                format!("sealed {} is absent", entry.kind.name()),
            )),
        }
    }
    for node in extras {
        if moved_to.contains(node.path.as_str()) {
            continue;
        }
        let detail = match &node.name_error {
            Some(why) => format!("not sealed ({}): {why}", node.kind.name()),
            None => format!("not sealed ({})", node.kind.name()),
        };
        findings.push(finding(&node.path, FileClass::Extra, detail));
    }
    for f in &findings {
        summary.count(f.class);
    }
    findings.sort_by(|a, b| a.path.cmp(&b.path).then(a.from.cmp(&b.from)));
    Ok((summary, findings))
}

fn finding(path: &str, class: FileClass, detail: String) -> FileFinding {
    FileFinding {
        path: path.to_string(),
        class,
        from: None,
        detail,
    }
}

/// Compare sealed digests with found ones; `Some(detail)` if they differ.
fn compare_file(entry: &Entry, found: &FileDigests) -> Option<String> {
    let size = entry.size.unwrap_or_default();
    if size != found.size {
        return Some(format!("size changed from {size} to {} bytes", found.size));
    }
    if entry.blake3.map(|b| b.0) != Some(found.blake3) {
        return Some("content differs (BLAKE3 mismatch, same size)".into());
    }
    if let (Some(sealed), Some(now)) = (entry.sha256, found.sha256) {
        if sealed.0 != now {
            return Some("content differs (SHA-256 mismatch, same size)".into());
        }
    }
    None
}
