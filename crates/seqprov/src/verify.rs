//! Verifying a directory against a bundle: signature, trust, Merkle root, then every file,
//! classified as ok, modified, missing, extra, moved or type changed.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use seqprov_engine::schedule::{self, TreeFile};
use seqprov_engine::walk::{self, Node, NodeKind};
use seqprov_engine::{FileDigests, HashOptions, Progress};
use seqprov_format::entry_path::quoted;
use seqprov_format::entry_table::EntryRef;
use seqprov_format::exclude::Excludes;
use seqprov_format::run_record::FastqContent;
use seqprov_format::{Bundle, EntryKind};

pub use crate::bundle_checks::VerifyOptions;
use crate::bundle_checks::check_bundle;
use crate::error::Result;
use crate::inspect::Inspection;
use crate::policy::{ExtraFiles, Policy};
use crate::report::{FileClass, FileFinding, Report, RootStatus, SignatureStatus, Summary};
use crate::verdict::{Allowed, compare_file, finding, finish, report_for};

/// Verify `dir` against `bundle` under `policy`.
pub fn verify_directory(
    dir: &Path,
    bundle: &Bundle,
    policy: &Policy,
    options: VerifyOptions<'_>,
    progress: &dyn Progress,
) -> Result<Report> {
    let mut report = report_for(bundle, check_bundle(bundle, policy, &options), policy);
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
    let excludes = Excludes::recorded(&bundle.payload.exclude)
        .map_err(|e| crate::error::Error::Malformed(format!("seal payload: {e}")))?;
    nodes.retain(|n| !excludes.excludes(&n.path));
    let by_path: HashMap<&str, &Node> = nodes.iter().map(|n| (n.path.as_str(), n)).collect();
    let with_content: HashSet<&str> = bundle
        .entries
        .iter()
        .filter(|e| e.content().is_some())
        .map(|e| e.path())
        .collect();
    let sealed: HashSet<&str> = bundle.entries.iter().map(|e| e.path()).collect();
    let hash_options = HashOptions {
        sha256: bundle.payload.has_sha256(),
        read_mode: options.read_mode,
    };

    let mut summary = Summary::default();
    let mut findings = Vec::new();
    let mut to_hash: Vec<(EntryRef<'_>, &Node)> = Vec::new();
    let mut missing: Vec<EntryRef<'_>> = Vec::new();
    for entry in &bundle.entries {
        let Some(node) = by_path.get(entry.path()) else {
            missing.push(entry);
            continue;
        };
        match (entry.kind(), &node.kind) {
            (EntryKind::File, NodeKind::File { .. }) => to_hash.push((entry, node)),
            (EntryKind::Symlink, NodeKind::Symlink { target }) => match target {
                Ok(target) if Some(target.as_str()) == entry.target() => {
                    summary.count(FileClass::Ok)
                }
                Ok(target) | Err(target) => findings.push(finding(
                    entry.path(),
                    FileClass::Modified,
                    format!(
                        "symlink target changed from {} to {}",
                        quoted(entry.target().unwrap_or_default()),
                        quoted(target)
                    ),
                )),
            },
            (EntryKind::Dir, NodeKind::Dir { .. }) => summary.count(FileClass::Ok),
            (kind, found) => findings.push(finding(
                entry.path(),
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
        .flat_map(|e| {
            let path = e.path();
            path.match_indices('/').map(move |(i, _)| &path[..i])
        })
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
    let missing_sizes: HashSet<u64> = missing.iter().filter_map(|e| e.size()).collect();
    let extra_to_hash: Vec<&Node> = extras
        .iter()
        .copied()
        .filter(|n| matches!(n.kind, NodeKind::File { size, .. } if missing_sizes.contains(&size)))
        .collect();

    // Digests computed elsewhere (`--from-parts`) stand for files whose stamp is still
    // the one they were computed from; files sealed with FASTQ content are read here, so
    // that a recompressed file is still told from an altered one.
    let mut hashed: HashMap<&str, (FileDigests, Option<FastqContent>)> = HashMap::new();
    if let Some(precomputed) = options.precomputed {
        for node in to_hash.iter().map(|(_, n)| *n) {
            if let (Some((stamp, digests)), NodeKind::File { stamp: now, .. }) =
                (precomputed.get(&node.path), &node.kind)
                && !with_content.contains(node.path.as_str())
                && stamp.size == now.size()
                && stamp.mtime == now.mtime()
                && stamp.ctime == now.ctime()
                && stamp.ino == now.ino()
            {
                hashed.insert(&node.path, (*digests, None));
            }
        }
    }
    let jobs: Vec<&Node> = to_hash
        .iter()
        .map(|(_, n)| *n)
        .filter(|n| !hashed.contains_key(n.path.as_str()))
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
    hashed.extend(jobs.iter().map(|n| n.path.as_str()).zip(outputs));

    for (entry, node) in &to_hash {
        let (found, content) = &hashed[node.path.as_str()];
        match compare_file(*entry, found) {
            None => summary.count(FileClass::Ok),
            Some(_) if entry.content().is_some() && entry.content() == content.as_ref() => {
                let reads = content.map_or(0, |c| c.reads);
                findings.push(finding(
                    entry.path(),
                    FileClass::Recompressed,
                    format!("bytes differ but the FASTQ records are the same ({reads} reads)"),
                ))
            }
            Some(detail) => findings.push(finding(entry.path(), FileClass::Modified, detail)),
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
        let candidate = match entry.kind() {
            EntryKind::File => entry
                .size()
                .zip(entry.blake3())
                .and_then(|(size, b3)| by_content.get_mut(&(size, b3.0))),
            EntryKind::Symlink => entry.target().and_then(|t| links_by_target.get_mut(t)),
            EntryKind::Dir => None,
        }
        .and_then(|paths| paths.pop());
        match candidate {
            Some(to) => {
                moved_to.insert(to);
                findings.push(FileFinding {
                    path: to.to_string(),
                    class: FileClass::Moved,
                    from: Some(entry.path().to_string()),
                    file: None,
                    detail: format!(
                        "sealed as {}, found at {}",
                        quoted(entry.path()),
                        quoted(to)
                    ),
                });
            }
            None => findings.push(finding(
                entry.path(),
                FileClass::Missing,
                format!("sealed {} is absent", entry.kind().name()),
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

    fn start(&self, index: usize) -> seqprov_engine::Result<Option<Inspection>> {
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
    ) -> seqprov_engine::Result<Self::Output> {
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
