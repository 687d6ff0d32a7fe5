//! Verifying a directory against a bundle: signature, trust, Merkle root, then every file,
//! classified as ok, modified, missing, extra, moved or type changed.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rayon::prelude::*;

use crate::bundle::Bundle;
use crate::chain::{self, ChainCheck};
use crate::error::Result;
use crate::exclude::Excludes;
use crate::formats::fastq::FastqContent;
use crate::hashing::{self, FileDigests, HashOptions, Progress, ReadMode};
use crate::inspect::Inspection;
use crate::keys::PublicKey;
use crate::lineage::{self, LineageReport};
use crate::manifest::{Entry, EntryKind};
use crate::policy::{ExtraFiles, Policy, RuleFailure};
use crate::report::{
    FileClass, FileFinding, REPORT_VERSION, Report, RootStatus, SealSummary, SignatureStatus,
    Summary, Verdict,
};
use crate::schedule::{self, TreeFile};
use crate::walk::{self, Node, NodeKind};

/// How to verify.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyOptions<'a> {
    /// How to read file contents.
    pub read_mode: ReadMode,
    /// Bundles the seal may say it was derived from (`--derived-from`).
    pub lineage_inputs: &'a [Bundle],
    /// Require a recorded, given and valid derived-from bundle (also set by policy).
    pub require_lineage: bool,
}

/// Check the seal's signature under the key it names; `Err` says why it fails.
pub fn check_seal_signature(bundle: &Bundle) -> std::result::Result<PublicKey, String> {
    let key = PublicKey::from_bytes(&bundle.payload.signer.public_key.0)?;
    bundle.seal.verify(&key)?;
    Ok(key)
}

/// Whether a bundle holds together, without trust or files: the seal's signature, the
/// entries against the signed root, and every custody link. `Err` names the first
/// problem. Appending to, deriving from and exporting a bundle all require this.
pub fn check_integrity(bundle: &Bundle) -> std::result::Result<(), String> {
    check_seal_signature(bundle)
        .map_err(|why| format!("the seal's signature does not verify: {why}"))?;
    if !bundle.root_matches() {
        return Err("the entry list does not match the signed root".into());
    }
    match chain::check(bundle).integrity_problems().into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

/// Everything about a bundle that can be checked without its files: signatures, root,
/// custody chain, lineage and policy.
#[derive(Clone, Debug)]
pub struct BundleChecks {
    /// Seal signature status.
    pub signature: SignatureStatus,
    /// Merkle root status.
    pub root: RootStatus,
    /// Whether the seal's signer is trusted under the policy for its role at its time.
    pub trusted: bool,
    /// The custody chain as checked.
    pub chain: ChainCheck,
    /// Integrity problems (exit 1).
    pub integrity: Vec<String>,
    /// Failed policy rules (exit 3).
    pub policy: Vec<RuleFailure>,
    /// Lineage section.
    pub lineage: Option<LineageReport>,
    /// Warnings from the seal itself (what it recorded as incomplete or broken, a
    /// contradicted run-mode claim) and from the chain.
    pub warnings: Vec<String>,
}

/// Check signatures, root, chain, lineage and policy of a bundle.
pub fn check_bundle(bundle: &Bundle, policy: &Policy, options: &VerifyOptions<'_>) -> BundleChecks {
    let mut checks = BundleChecks {
        signature: SignatureStatus::Valid,
        root: RootStatus::Match,
        trusted: false,
        chain: ChainCheck::default(),
        integrity: Vec::new(),
        policy: Vec::new(),
        lineage: None,
        warnings: Vec::new(),
    };
    // The chain is listed even when the seal fails, so reports show every event.
    checks.chain = chain::check(bundle);
    if let Err(why) = check_seal_signature(bundle) {
        checks.signature = SignatureStatus::Invalid;
        checks.root = RootStatus::NotChecked;
        checks
            .integrity
            .push(format!("the seal's signature does not verify: {why}"));
        return checks;
    }
    if !bundle.root_matches() {
        checks.root = RootStatus::Mismatch;
        checks.integrity.push(
            "the entry list does not match the signed Merkle root (the entry list was edited)"
                .into(),
        );
        return checks;
    }
    let seal = &bundle.payload;
    checks.warnings.extend(seal_warnings(seal));
    if let Some(required) = policy.requirements.require_mode {
        let failure = match &seal.mode {
            None => Some("the seal makes no run-mode claim".to_string()),
            Some(m) if m.claim != required => Some(format!("the seal claims `{}`", m.claim.name())),
            Some(m) if m.corroboration == "disagrees" => Some(format!(
                "the claim is contradicted by the run parameters: {}",
                m.detail.as_deref().unwrap_or("")
            )),
            Some(_) => None,
        };
        if let Some(why) = failure {
            checks.policy.push(RuleFailure::new(
                "run_mode",
                "seal",
                format!("the policy requires run mode `{}`; {why}", required.name()),
            ));
        }
    }
    let seal_failures = policy.judge("seal", bundle.seal.key_id, &seal.signer.role, &seal.time);
    checks.trusted = seal_failures.is_empty();
    checks.policy.extend(seal_failures);
    let roles = &policy.requirements.seal_roles;
    if checks.trusted && !roles.is_empty() && !roles.contains(&seal.signer.role) {
        checks.policy.push(RuleFailure::new(
            "seal_role",
            "seal",
            format!(
                "sealed in role {:?}; the policy lets only {roles:?} seal",
                seal.signer.role
            ),
        ));
    }

    checks.integrity.extend(checks.chain.integrity_problems());
    let mut good_events = Vec::new();
    for record in &checks.chain.events {
        let Some(payload) = &record.payload else {
            continue;
        };
        if !record.problems.is_empty() {
            continue;
        }
        let subject = format!("custody event {}", record.position);
        let key_id = bundle.events[(record.position - 1) as usize].key_id;
        let failures = policy.judge(&subject, key_id, &payload.signer.role, &payload.time);
        if failures.is_empty() {
            good_events.push(payload);
        }
        checks.policy.extend(failures);
    }
    for required in &policy.requirements.required_events {
        let found = good_events.iter().any(|e| {
            e.kind.name() == required.kind
                && required.role.as_ref().is_none_or(|r| *r == e.signer.role)
        });
        if !found {
            checks.policy.push(RuleFailure::new(
                "required_event",
                "bundle",
                match &required.role {
                    Some(role) => format!("no trusted `{}` event by role {role:?}", required.kind),
                    None => format!("no trusted `{}` event", required.kind),
                },
            ));
        }
    }
    if let Some(max) = policy.max_gap() {
        let mut previous = ("seal".to_string(), seal.time.clone());
        for record in &checks.chain.events {
            let Some(payload) = &record.payload else {
                continue;
            };
            if let Some(gap) = gap_between(&previous.1, &payload.time)
                && gap > max
            {
                checks.policy.push(RuleFailure::new(
                    "custody_gap",
                    &format!("custody event {}", record.position),
                    format!(
                        "{} between {} ({}) and this event ({}); the policy allows {}",
                        describe_duration(gap),
                        previous.0,
                        previous.1,
                        payload.time,
                        describe_duration(max)
                    ),
                ));
            }
            previous = (
                format!("custody event {}", record.position),
                payload.time.clone(),
            );
        }
    }
    let lineage = lineage::check(
        bundle,
        options.lineage_inputs,
        policy,
        options.require_lineage || policy.requirements.require_lineage,
    );
    checks.integrity.extend(lineage.integrity);
    checks.policy.extend(lineage.policy);
    checks.lineage = lineage.report;
    checks
}

/// What the seal itself recorded that a verifier should be told.
fn seal_warnings(seal: &crate::manifest::SealPayload) -> Vec<String> {
    let mut out = Vec::new();
    if !seal.incomplete.is_empty() {
        out.push(format!(
            "sealed incomplete: {} file(s) the run layout expects were missing at seal time: {}",
            seal.incomplete.len(),
            seal.incomplete
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for broken in &seal.broken {
        out.push(format!(
            "sealed although a format check failed: {}: {}",
            broken.path, broken.reason
        ));
    }
    if let Some(mode) = &seal.mode
        && mode.corroboration == "disagrees"
    {
        out.push(format!(
            "run mode: {}",
            mode.detail
                .as_deref()
                .unwrap_or("the claim is contradicted by the software the run parameters name")
        ));
    }
    out
}

/// Time from `earlier` to `later` (both payload times), if both parse.
pub fn gap_between(earlier: &str, later: &str) -> Option<time::Duration> {
    let a = crate::manifest::parse_time(earlier).ok()?;
    let b = crate::manifest::parse_time(later).ok()?;
    Some(b - a)
}

/// A duration in words (`3d 4h 5m`).
pub fn describe_duration(d: time::Duration) -> String {
    describe_seconds(d.whole_seconds())
}

/// A number of seconds in words (`3d 4h 5m`).
pub fn describe_seconds(total: i64) -> String {
    let (days, hours, minutes, seconds) = (
        total / 86_400,
        total % 86_400 / 3600,
        total % 3600 / 60,
        total % 60,
    );
    let mut parts = Vec::new();
    if days != 0 {
        parts.push(format!("{days}d"));
    }
    if hours != 0 {
        parts.push(format!("{hours}h"));
    }
    if minutes != 0 {
        parts.push(format!("{minutes}m"));
    }
    if seconds != 0 || parts.is_empty() {
        parts.push(format!("{seconds}s"));
    }
    parts.join(" ")
}

/// Verify `dir` against `bundle` under `policy`.
pub fn verify_directory(
    dir: &Path,
    bundle: &Bundle,
    policy: &Policy,
    options: VerifyOptions<'_>,
    progress: &dyn Progress,
) -> Result<Report> {
    let mut report = report_for(bundle, check_bundle(bundle, policy, &options));
    if report.signature != SignatureStatus::Valid || report.root != RootStatus::Match {
        return Ok(finish(report, Allowed::default()));
    }
    let folder = std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
    if let Some(folder) = folder
        && folder != bundle.payload.subject.name
    {
        report.warnings.push(format!(
            "the folder is named {folder:?} but the seal is of {:?}: check that this is the \
             bundle of this folder",
            bundle.payload.subject.name
        ));
    }
    let (summary, files) = compare_tree(dir, bundle, options, progress)?;
    let allowed = Allowed {
        extra: policy.requirements.extra_files == ExtraFiles::Warning,
        recompressed: policy.requirements.allow_recompressed,
    };
    for f in &files {
        let word = match f.class {
            FileClass::Extra if allowed.extra => "extra",
            FileClass::Recompressed if allowed.recompressed => "recompressed",
            _ => continue,
        };
        report
            .warnings
            .push(format!("{word} file allowed by policy: {}", f.path));
    }
    report.summary = summary;
    report.files = files;
    Ok(finish(report, allowed))
}

/// A report holding what the bundle checks found, before any file is read.
fn report_for(bundle: &Bundle, checks: BundleChecks) -> Report {
    Report {
        report_version: REPORT_VERSION,
        tool: crate::seal::TOOL.into(),
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
        summary: Summary::default(),
        files: Vec::new(),
    }
}

/// File classes the policy turns from failures into warnings.
#[derive(Clone, Copy, Default)]
struct Allowed {
    extra: bool,
    recompressed: bool,
}

fn finish(mut report: Report, allowed: Allowed) -> Report {
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

/// Walk the directory, hash what must be hashed, and classify every path.
fn compare_tree(
    dir: &Path,
    bundle: &Bundle,
    options: VerifyOptions<'_>,
    progress: &dyn Progress,
) -> Result<(Summary, Vec<FileFinding>)> {
    progress.phase("walk");
    let (tree, mut nodes) = walk::walk(dir)?;
    progress.phase("checks");
    let excludes = Excludes::new(&bundle.payload.exclude)
        .map_err(|e| crate::error::Error::Malformed(format!("seal payload: {e}")))?;
    nodes.retain(|n| !excludes.excludes(&n.path));
    let by_path: HashMap<&str, &Node> = nodes.iter().map(|n| (n.path.as_str(), n)).collect();
    let with_content: HashSet<&str> = bundle
        .entries
        .iter()
        .filter(|e| e.content.is_some())
        .map(|e| e.path.as_str())
        .collect();
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
            (EntryKind::Symlink, NodeKind::Symlink { target }) => match target {
                Ok(target) if Some(target) == entry.target.as_ref() => summary.count(FileClass::Ok),
                Ok(target) | Err(target) => findings.push(finding(
                    &entry.path,
                    FileClass::Modified,
                    format!(
                        "symlink target changed from {:?} to {:?}",
                        entry.target.as_deref().unwrap_or_default(),
                        target
                    ),
                )),
            },
            (EntryKind::Dir, NodeKind::Dir { .. }) => summary.count(FileClass::Ok),
            (kind, found) => findings.push(finding(
                &entry.path,
                FileClass::TypeChanged,
                format!("sealed as {}, now a {}", kind.name(), found.name()),
            )),
        }
    }

    // Paths that are not sealed. Non-empty directories are implied by their contents, and
    // so are directories that held sealed entries (emptied ones are explained by those
    // entries being missing or moved).
    let implied_dirs: HashSet<&str> = bundle
        .entries
        .iter()
        .flat_map(|e| e.path.match_indices('/').map(|(i, _)| &e.path[..i]))
        .collect();
    let extras: Vec<&Node> = nodes
        .iter()
        .filter(|n| !sealed.contains(n.path.as_str()) || n.name_error.is_some())
        .filter(|n| match n.kind {
            NodeKind::Dir { empty } => empty && !implied_dirs.contains(n.path.as_str()),
            _ => true,
        })
        .collect();
    // Only extra files that could be a missing file moved elsewhere need hashing.
    let missing_sizes: HashSet<u64> = missing.iter().filter_map(|e| e.size).collect();
    let extra_to_hash: Vec<&Node> = extras
        .iter()
        .copied()
        .filter(|n| matches!(n.kind, NodeKind::File { size, .. } if missing_sizes.contains(&size)))
        .collect();

    let jobs: Vec<&Node> = to_hash
        .iter()
        .map(|(_, n)| *n)
        .chain(extra_to_hash.iter().copied())
        .collect();
    let tree_files: Vec<TreeFile<'_>> = jobs
        .iter()
        .map(|n| TreeFile::of(n).expect("only files are hashed"))
        .collect();
    let work = VerifyWork {
        jobs: &jobs,
        with_content: &with_content,
    };
    progress.phase("hash");
    let outputs = schedule::hash_tree_files(&tree, &tree_files, &work, hash_options, progress)?;
    progress.phase("compare");
    let hashed: HashMap<&str, (FileDigests, Option<FastqContent>)> =
        jobs.iter().map(|n| n.path.as_str()).zip(outputs).collect();

    for (entry, node) in &to_hash {
        let (found, content) = &hashed[node.path.as_str()];
        match compare_file(entry, found) {
            None => summary.count(FileClass::Ok),
            Some(_) if entry.content.is_some() && entry.content == *content => {
                let reads = content.map_or(0, |c| c.reads);
                findings.push(finding(
                    &entry.path,
                    FileClass::Recompressed,
                    format!("bytes differ but the FASTQ records are the same ({reads} reads)"),
                ))
            }
            Some(detail) => findings.push(finding(&entry.path, FileClass::Modified, detail)),
        }
    }

    // Pair missing entries with extra paths holding the same content: moved.
    let mut moved_to: HashSet<&str> = HashSet::new();
    let mut by_content: HashMap<(u64, [u8; 32]), Vec<&str>> = HashMap::new();
    for node in &extra_to_hash {
        let d = &hashed[node.path.as_str()].0;
        by_content
            .entry((d.size, d.blake3))
            .or_default()
            .push(&node.path);
    }
    let mut links_by_target: HashMap<&str, Vec<&str>> = HashMap::new();
    for node in &extras {
        if let NodeKind::Symlink { target: Ok(target) } = &node.kind {
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

/// What verifying does around the hashing of each file: FASTQ content identity for files
/// sealed with it, to tell a recompressed file from an altered one in the same pass.
struct VerifyWork<'a> {
    jobs: &'a [&'a Node],
    with_content: &'a HashSet<&'a str>,
}

impl schedule::FileWork for VerifyWork<'_> {
    type Sink = Option<Inspection>;
    type Output = (FileDigests, Option<FastqContent>);

    fn start(&self, index: usize) -> Result<Option<Inspection>> {
        let path = self.jobs[index].path.as_str();
        Ok(self
            .with_content
            .contains(path)
            .then(|| Inspection::content_only(path)))
    }

    fn finish(
        &self,
        _index: usize,
        digests: FileDigests,
        sink: Option<Inspection>,
    ) -> Result<Self::Output> {
        let content = sink.and_then(|inspection| {
            inspection
                .finish(digests.size)
                .content
                .and_then(|c| c.ok())
                .map(|o| o.content)
        });
        Ok((digests, content))
    }
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
    if let (Some(sealed), Some(now)) = (entry.sha256, found.sha256)
        && sealed.0 != now
    {
        return Some("content differs (SHA-256 mismatch, same size)".into());
    }
    None
}

/// Verify individual files against a proof (see [`crate::proof`]): each given file is
/// matched to a disclosed entry by content (or, failing that, by file name), and only
/// those files are read.
pub fn verify_files(
    files: &[std::path::PathBuf],
    proof: &Bundle,
    policy: &Policy,
    options: VerifyOptions<'_>,
    progress: &dyn Progress,
) -> Result<Report> {
    let mut report = report_for(proof, check_bundle(proof, policy, &options));
    if report.root == RootStatus::Mismatch {
        report.errors =
            vec!["an inclusion path in the proof does not lead to the signed Merkle root".into()];
    }
    if report.signature != SignatureStatus::Valid || report.root != RootStatus::Match {
        return Ok(finish(report, Allowed::default()));
    }
    let hash_options = HashOptions {
        sha256: proof.payload.has_sha256(),
        read_mode: options.read_mode,
    };
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::symlink_metadata(f).ok().map(|m| m.len()))
        .sum();
    progress.set_total(total);
    let hashed: Vec<(FileDigests, Option<FastqContent>)> = files
        .par_iter()
        .map(|file| {
            let name = file.to_string_lossy();
            let mut inspection = Inspection::content_only(&name);
            let opened = hashing::open_path(file)?;
            let meta = opened
                .metadata()
                .map_err(|e| crate::error::Error::io(file, e))?;
            if !meta.is_file() {
                return Err(crate::error::Error::Refused(format!(
                    "{} is not a regular file; give the files the proof is for",
                    file.display()
                )));
            }
            let digest = hashing::hash_with_stamp(
                opened,
                file,
                hashing::Stamp::of(&meta),
                hash_options,
                progress,
                &mut inspection,
            )?;
            let content = inspection
                .finish(digest.size)
                .content
                .and_then(|c| c.ok())
                .map(|o| o.content);
            Ok((digest, content))
        })
        .collect::<Result<_>>()?;

    let mut matched = vec![false; proof.entries.len()];
    let mut findings = Vec::new();
    let mut summary = Summary::default();
    for (file, (found, content)) in files.iter().zip(&hashed) {
        let shown = file.display().to_string();
        let by_content = proof.entries.iter().enumerate().position(|(i, e)| {
            !matched[i] && compare_file(e, found).is_none() && e.kind == EntryKind::File
        });
        if let Some(i) = by_content {
            matched[i] = true;
            summary.count(FileClass::Ok);
            continue;
        }
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let by_name = proof.entries.iter().enumerate().position(|(i, e)| {
            !matched[i]
                && e.kind == EntryKind::File
                && Some(e.path.rsplit('/').next().unwrap_or(&e.path)) == name.as_deref()
        });
        match by_name {
            Some(i) => {
                matched[i] = true;
                let entry = &proof.entries[i];
                if entry.content.is_some() && entry.content == *content {
                    findings.push(finding(
                        &entry.path,
                        FileClass::Recompressed,
                        format!("{shown}: bytes differ but the FASTQ records are the same"),
                    ));
                } else {
                    let detail = compare_file(entry, found).unwrap_or_default();
                    findings.push(finding(
                        &entry.path,
                        FileClass::Modified,
                        format!("{shown}: {detail}"),
                    ));
                }
            }
            None => findings.push(finding(
                &shown,
                FileClass::Extra,
                "matches no entry of the proof".into(),
            )),
        }
    }
    for (i, entry) in proof.entries.iter().enumerate() {
        if !matched[i] {
            findings.push(finding(
                &entry.path,
                FileClass::Missing,
                "in the proof but no given file has its content or name".into(),
            ));
        }
    }
    for f in &findings {
        summary.count(f.class);
    }
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    let allowed = Allowed {
        extra: false,
        recompressed: policy.requirements.allow_recompressed,
    };
    report.summary = summary;
    report.files = findings;
    Ok(finish(report, allowed))
}

/// Check one byte range of one sealed file (see [`crate::outboard`]): the seal, chain and
/// policy as usual, then only bytes `start .. start + len` of `file`, against the entry
/// named `entry_path` (or, if `None`, the only entry with `file`'s name).
#[allow(clippy::too_many_arguments)]
pub fn verify_range(
    file: &Path,
    source: &Bundle,
    entry_path: Option<&str>,
    outboard_dir: &Path,
    start: u64,
    len: u64,
    policy: &Policy,
    options: VerifyOptions<'_>,
) -> Result<Report> {
    let mut report = report_for(source, check_bundle(source, policy, &options));
    if report.signature != SignatureStatus::Valid || report.root != RootStatus::Match {
        return Ok(finish(report, Allowed::default()));
    }
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let candidates: Vec<&Entry> = source
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .filter(|e| match entry_path {
            Some(path) => e.path == path,
            None => e.path.rsplit('/').next() == Some(name.as_str()),
        })
        .collect();
    let entry = match candidates.as_slice() {
        [one] => *one,
        [] => {
            return Err(crate::error::Error::Refused(format!(
                "no sealed file {}; name it with --entry",
                entry_path.unwrap_or(&name)
            )));
        }
        _ => {
            return Err(crate::error::Error::Refused(format!(
                "{} sealed files are named {name:?}; choose one with --entry",
                candidates.len()
            )));
        }
    };
    let digest = entry.blake3.expect("file entries have a digest").0;
    let size = entry.size.expect("file entries have a size");
    let tree = crate::outboard::file_for(outboard_dir, &digest);
    if !tree.is_file() {
        return Err(crate::error::Error::io(
            &tree,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no outboard tree for this file (seal with --outboard, or name the directory with --outboard)",
            ),
        ));
    }
    let check = crate::outboard::check_range(file, &tree, &digest, size, start, len)?;
    let class = if check.verified {
        FileClass::Ok
    } else {
        FileClass::Modified
    };
    report.summary.count(class);
    if !check.verified {
        report.files.push(finding(&entry.path, class, check.detail));
    }
    Ok(finish(report, Allowed::default()))
}
