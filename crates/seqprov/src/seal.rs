//! Sealing a directory: walk, hash, build entries, Merkle root, sign, encode the bundle.

use std::collections::BTreeSet;
use std::path::Path;

use rayon::prelude::*;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::inspect::{Findings, InspectOptions, Inspection};
use crate::keys::Signer;
use seqprov_engine::ChunkSink;
use seqprov_engine::hashing::{FileDigests, HashOptions, Progress};
use seqprov_engine::schedule::{self, TreeFile};
use seqprov_engine::walk::{self, NodeKind};
use seqprov_format::cose;
use seqprov_format::entry_list;
use seqprov_format::entry_path::link_leaves_tree;
use seqprov_format::exclude::Excludes;
use seqprov_format::manifest::{
    BrokenFile, Bytes32, Entry, EntryKind, FORMAT_VERSION, ModeClaim, SEAL_CONTENT_TYPE,
    SEAL_FORMAT, SealPayload, SignerInfo, Subject, format_time,
};
use seqprov_format::merkle;
use seqprov_illumina::run_info::{self, RunMetadata};
use seqprov_illumina::run_layout;
use seqprov_illumina::run_mode::{Corroboration, RunMode};
use seqprov_illumina::structure::CheckOptions;

/// Name and version written in the `tool` field of seals.
pub const TOOL: &str = concat!("seqprov ", env!("CARGO_PKG_VERSION"));
/// Role recorded when none is given.
pub const DEFAULT_ROLE: &str = "sealer";
/// Meaning recorded when none is given.
pub const DEFAULT_MEANING: &str = "authorship: sealed as received from the instrument";

/// How to seal.
#[derive(Clone, Debug)]
pub struct SealOptions {
    /// Printed name of the signer; defaults to the key file's `Signer:` name, then to
    /// `key <first 16 hex digits of the key id>`.
    pub signer_name: Option<String>,
    /// Role of the signer.
    pub role: String,
    /// Meaning of the signature.
    pub meaning: String,
    /// Digests and read mode.
    pub hash: HashOptions,
    /// Format checks run while hashing (structure checks on by default, lenient).
    pub inspect: InspectOptions,
    /// The run mode the signer attests (`--mode`).
    pub run_mode: Option<RunMode>,
    /// Seal a run folder with missing files, recording what is missing.
    pub allow_incomplete: bool,
    /// Seal files that fail a format check, recording them.
    pub allow_broken: bool,
    /// Exclude patterns (recorded in the seal).
    pub exclude: Vec<String>,
    /// Write Bao outboard trees of large files into this directory (`--outboard`).
    pub outboard: Option<std::path::PathBuf>,
    /// Seal time to record; `None` means now. Injected by test vectors.
    pub time: Option<time::OffsetDateTime>,
    /// The input this data was derived from, recorded in the seal.
    pub derived_from: Option<seqprov_format::manifest::DerivedFrom>,
    /// Seed from which entry salts are derived; `None` means fresh random bytes.
    /// Only test vectors fix it: a known seed makes salts guessable.
    pub salt_seed: Option<[u8; 32]>,
}

impl Default for SealOptions {
    fn default() -> Self {
        SealOptions {
            signer_name: None,
            role: DEFAULT_ROLE.into(),
            meaning: DEFAULT_MEANING.into(),
            hash: HashOptions::default(),
            inspect: InspectOptions {
                structure: Some(CheckOptions::default()),
                content: false,
                run: None,
            },
            run_mode: None,
            allow_incomplete: false,
            allow_broken: false,
            exclude: Vec::new(),
            outboard: None,
            time: None,
            derived_from: None,
            salt_seed: None,
        }
    }
}

/// What a seal asserts beyond its entries.
#[derive(Clone, Debug, Default)]
pub struct SealFacts {
    /// Run metadata of a run folder.
    pub run: Option<RunMetadata>,
    /// The run-mode claim.
    pub mode: Option<ModeClaim>,
    /// Expected files that were missing, recorded compactly.
    pub missing: Option<seqprov_format::run_record::FileSet>,
    /// Base-call and filter files of lanes the run layout does not have.
    pub unexpected: Option<seqprov_format::run_record::FileSet>,
    /// Files sealed although a check failed.
    pub broken: Vec<BrokenFile>,
    /// Exclude patterns.
    pub exclude: Vec<String>,
    /// `RunInfo.xml` and the run parameters file name different runs (issue 12 item 24).
    pub run_mismatch: Option<String>,
}

/// A finished seal, ready to be written.
#[derive(Clone, Debug)]
pub struct Sealed {
    /// The complete bundle bytes.
    pub bundle: Vec<u8>,
    /// The signed payload.
    pub payload: SealPayload,
    /// The entries, sorted by path.
    pub entries: Vec<Entry>,
    /// Things the sealer should be told (macOS metadata files, lenient-mode notes, a
    /// run-mode disagreement, an undeterminable layout).
    pub warnings: Vec<String>,
}

/// Refuse a bundle path inside the directory being sealed.
pub fn check_bundle_outside(dir: &Path, bundle_path: &Path) -> Result<()> {
    crate::bundle_file::OutputDir::open(bundle_path)?.check_outside(dir)
}

/// Seal `dir` with `key`.
pub fn seal_directory(
    dir: &Path,
    key: &dyn Signer,
    options: &SealOptions,
    progress: &dyn Progress,
) -> Result<Sealed> {
    let prepared = prepare(dir, options, progress)?;
    let outcomes = hash_prepared(dir, &prepared, options, progress)?;
    finish_seal(dir, prepared, outcomes, key, options, progress)
}

/// A directory walked and checked before any file is hashed: its tree, the nodes that
/// become entries (and non-empty directories), the facts and warnings found so far.
pub(crate) struct Prepared {
    /// The open tree.
    pub(crate) tree: walk::Tree,
    /// The nodes left after excludes.
    pub(crate) nodes: Vec<walk::Node>,
    facts: SealFacts,
    warnings: Vec<String>,
}

/// One file's digests and what its format checks found, as the seal records them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileOutcome {
    /// The digests.
    pub(crate) digests: FileDigests,
    /// Why it fails a check (recorded as broken files).
    pub(crate) broken: Vec<String>,
    /// Notes of a passed lenient check.
    pub(crate) notes: Vec<String>,
    /// FASTQ content identity (`--content`).
    pub(crate) content: Option<seqprov_illumina::fastq::FastqContent>,
}

impl FileOutcome {
    /// Reduce a file's findings to what the seal records.
    pub(crate) fn of(digests: FileDigests, findings: Option<Box<Findings>>) -> FileOutcome {
        let mut outcome = FileOutcome {
            digests,
            broken: Vec::new(),
            notes: Vec::new(),
            content: None,
        };
        if let Some(findings) = findings {
            outcome.content = record_findings(*findings, &mut outcome.broken, &mut outcome.notes);
        }
        outcome
    }
}

/// Walk `dir` and run every check that comes before hashing.
pub(crate) fn prepare(
    dir: &Path,
    options: &SealOptions,
    progress: &dyn Progress,
) -> Result<Prepared> {
    let excludes = Excludes::new(&options.exclude, "exclude pattern").map_err(Error::Refused)?;
    progress.phase("walk");
    let (tree, mut nodes) = walk::walk(dir)?;
    progress.phase("checks");
    nodes.retain(|n| !excludes.excludes(&n.path));
    walk::judge_emptiness(&mut nodes);
    for node in &nodes {
        check_sealable(node, dir)?;
    }
    if let Some((a, b)) =
        seqprov_format::entry_path::normalisation_collision(nodes.iter().map(|n| n.path.as_str()))
    {
        return Err(Error::UnsealableTree {
            path: dir.join(b),
            reason: format!(
                "{a:?} and {b:?} are the same name after Unicode normalisation (NFC); \
                 rename one of them"
            ),
        });
    }
    let mut warnings = Vec::new();
    let mut facts = SealFacts {
        exclude: options.exclude.clone(),
        ..SealFacts::default()
    };

    // Run folder: metadata, completeness and the run-mode claim, before any hashing.
    match run_info::read_run_folder_checked(dir) {
        Ok(Some(folder)) => {
            if let Some(mismatch) = &folder.mismatch {
                warnings.push(format!("run metadata: {mismatch}"));
            }
            facts.run = Some(folder.meta);
            facts.run_mismatch = folder.mismatch;
        }
        Ok(None) => {}
        Err(e) if options.allow_broken => facts.broken.push(BrokenFile {
            path: "RunInfo.xml".into(),
            reason: e.to_string(),
        }),
        Err(e) => {
            return Err(Error::Rejected(format!(
                "the run metadata cannot be read: {e} (seal anyway with --allow-broken)"
            )));
        }
    }
    if let Some(run) = &facts.run {
        let present: BTreeSet<String> = nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::File { .. }))
            .map(|n| n.path.clone())
            .collect();
        match run_layout::check_completeness(run, &present) {
            Ok(c) => {
                if !c.unexpected.is_empty() {
                    let mut lanes: std::collections::BTreeMap<u32, (u64, &str)> =
                        std::collections::BTreeMap::new();
                    for (lane, path) in &c.unexpected {
                        lanes.entry(*lane).or_insert((0, path)).0 += 1;
                    }
                    let described: Vec<String> = lanes
                        .iter()
                        .map(|(lane, (n, first))| {
                            format!(
                                "base calls for lane {lane}, which RunInfo.xml's layout does \
                                 not have: {n} file(s) (first: {first})"
                            )
                        })
                        .collect();
                    let strict = options
                        .inspect
                        .structure
                        .is_some_and(|o| o.mode == seqprov_illumina::structure::StrictMode::Strict);
                    if strict {
                        return Err(Error::Rejected(format!(
                            "{} (seal without --strict-structure to record them)",
                            described.join("; ")
                        )));
                    }
                    warnings.extend(described);
                    let paths: Vec<String> = c.unexpected.iter().map(|(_, p)| p.clone()).collect();
                    facts.unexpected = run_layout::file_set_of(&paths);
                }
                if !c.is_complete() && !options.allow_incomplete {
                    let count = c.missing_count();
                    let mut shown = c.shown.join("; ");
                    if count > c.shown.len() as u64 {
                        shown.push_str(&format!("; and {} more", count - c.shown.len() as u64));
                    }
                    return Err(Error::Rejected(format!(
                        "the run is incomplete ({} layout): {count} of {} expected files are \
                         missing: {shown} (seal anyway with --allow-incomplete, which records \
                         what is missing)",
                        c.family.name(),
                        c.expected,
                    )));
                }
                facts.missing = c.missing;
            }
            Err(e) => warnings.push(format!("completeness could not be determined: {e}")),
        }
    }
    if let Some(claim) = options.run_mode {
        let evidence = facts
            .run
            .as_ref()
            .map(seqprov_illumina::run_mode::evidence_of)
            .unwrap_or_else(|| seqprov_illumina::run_mode::evidence_from_software(None));
        let (corroboration, detail) = match evidence.corroborates(claim) {
            Corroboration::Agrees => ("agrees", None),
            Corroboration::Unknown => ("unknown", None),
            Corroboration::Disagrees(why) => {
                warnings.push(format!("run mode: {why}"));
                ("disagrees", Some(why))
            }
        };
        facts.mode = Some(ModeClaim {
            claim,
            software: evidence.software,
            corroboration: corroboration.into(),
            detail,
        });
    }
    for node in &nodes {
        if run_layout::is_macos_metadata(&node.path) {
            warnings.push(format!(
                "macOS metadata file sealed: {} (to leave such files out, seal with an \
                 explicit --exclude rule such as '**/._*' or '**/.DS_Store')",
                node.path
            ));
        }
    }

    Ok(Prepared {
        tree,
        nodes,
        facts,
        warnings,
    })
}

/// Hash the files of a prepared directory on this machine, with their checks and
/// outboard trees; the outcomes are indexed like the nodes (`None` for non-files).
fn hash_prepared(
    dir: &Path,
    prepared: &Prepared,
    options: &SealOptions,
    progress: &dyn Progress,
) -> Result<Vec<Option<FileOutcome>>> {
    let (tree, nodes) = (&prepared.tree, &prepared.nodes);
    let (file_nodes, tree_files): (Vec<usize>, Vec<TreeFile<'_>>) = nodes
        .iter()
        .enumerate()
        .filter_map(|(i, node)| TreeFile::of(node).map(|file| (i, file)))
        .unzip();
    progress.phase("hash");
    // The outboard directory is created and opened once, without following a link at
    // its name, and refused inside the sealed folder; trees are written beneath it.
    let outboard = match &options.outboard {
        Some(path) => {
            let root = tree
                .open_dir(Path::new(""))
                .map_err(|e| Error::io(dir, e))?;
            use std::os::fd::AsFd as _;
            Some(std::sync::Arc::new(
                seqprov_engine::outboard::OutboardDir::create(path, root.as_fd())?,
            ))
        }
        None => None,
    };
    let work = SealWork {
        nodes,
        file_nodes: &file_nodes,
        options,
        outboard,
    };
    let hashed = schedule::hash_tree_files(tree, &tree_files, &work, options.hash, progress)?;
    drop(tree_files);
    let mut outcomes: Vec<Option<FileOutcome>> = (0..nodes.len()).map(|_| None).collect();
    for (&i, (digests, findings)) in file_nodes.iter().zip(hashed) {
        outcomes[i] = Some(FileOutcome::of(digests, findings));
    }
    Ok(outcomes)
}

/// Build the entries of a prepared directory from its files' outcomes (indexed like its
/// nodes), check them and sign.
pub(crate) fn finish_seal(
    dir: &Path,
    prepared: Prepared,
    digests: Vec<Option<FileOutcome>>,
    key: &dyn Signer,
    options: &SealOptions,
    progress: &dyn Progress,
) -> Result<Sealed> {
    let Prepared {
        nodes,
        mut facts,
        mut warnings,
        ..
    } = prepared;
    progress.phase("entries");
    let mut seed = Zeroizing::new([0u8; 32]);
    match options.salt_seed {
        Some(fixed) => *seed = fixed,
        None => fill_random(&mut seed)?,
    }
    // Entries are built in parallel; the findings of the few files that have some are
    // recorded afterwards, in path order.
    let (mut entries, findings): (Vec<Entry>, Vec<Option<FileOutcome>>) = nodes
        .par_iter()
        .zip(digests.into_par_iter())
        .filter_map(|(node, digest)| {
            let salt = Bytes32(*blake3::keyed_hash(&seed, node.path.as_bytes()).as_bytes());
            let base = Entry::bare(node.path.clone(), EntryKind::File, salt);
            let entry = match &node.kind {
                NodeKind::File { .. } => {
                    let outcome = digest.expect("every file was hashed");
                    let d = outcome.digests;
                    let entry = Entry {
                        size: Some(d.size),
                        blake3: Some(Bytes32(d.blake3)),
                        sha256: d.sha256.map(Bytes32),
                        ..base
                    };
                    return Some((entry, Some(outcome)));
                }
                NodeKind::Symlink { target } => Entry {
                    kind: EntryKind::Symlink,
                    target: Some(
                        target
                            .clone()
                            .expect("non-UTF-8 targets were refused above"),
                    ),
                    ..base
                },
                NodeKind::Dir { empty: true } => Entry {
                    kind: EntryKind::Dir,
                    ..base
                },
                NodeKind::Dir { empty: false } | NodeKind::Special(_) => return None,
            };
            Some((entry, None))
        })
        .unzip();
    let mut notes = Vec::new();
    for (entry, outcome) in entries.iter_mut().zip(findings) {
        if let Some(outcome) = outcome {
            facts
                .broken
                .extend(outcome.broken.into_iter().map(|reason| BrokenFile {
                    path: entry.path.clone(),
                    reason,
                }));
            let path = &entry.path;
            notes.extend(outcome.notes.into_iter().map(|n| format!("{path}: {n}")));
            entry.content = outcome.content.map(Box::new);
        }
    }
    if !facts.broken.is_empty() && !options.allow_broken {
        let listed: Vec<String> = facts
            .broken
            .iter()
            .map(|b| format!("{}: {}", b.path, b.reason))
            .collect();
        return Err(Error::Rejected(format!(
            "{} file(s) fail a format check: {} (seal anyway with --allow-broken, which records them)",
            listed.len(),
            list_some(&listed)
        )));
    }
    facts.broken.sort_by(|a, b| a.path.cmp(&b.path));
    notes.sort();
    warnings.extend(notes);
    entries.par_sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    // The first invalid entry in path order, whichever thread finds one first.
    if let Some(error) = entries.par_iter().find_map_first(|entry| {
        entry.validate().err().map(|reason| Error::UnsealableTree {
            path: dir.join(&entry.path),
            reason,
        })
    }) {
        return Err(error);
    }

    let subject_name = std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    for entry in &entries {
        if let Some(target) = entry.target.as_deref()
            && link_leaves_tree(&entry.path, target)
        {
            warnings.push(external_link_warning(&entry.path, target));
        }
    }
    let mut sealed = sign_entries_with(entries, &subject_name, key, options, facts, progress)?;
    check_seal_size(&sealed)?;
    sealed.warnings = warnings;
    Ok(sealed)
}

/// Refuse a seal no reader would accept: one longer than
/// [`MAX_SEAL_BYTES`](seqprov_format::bundle::MAX_SEAL_BYTES) (only a run with about
/// 100,000 broken files recorded by `--allow-broken` comes near it).
fn check_seal_size(sealed: &Sealed) -> Result<()> {
    let limit = seqprov_format::bundle::MAX_SEAL_BYTES;
    match seqprov_format::cbor::item_len(&sealed.bundle) {
        Ok(len) if len <= limit => Ok(()),
        Ok(len) => Err(Error::Rejected(format!(
            "the seal would be {len} bytes, more than the limit of {limit} a reader accepts \
             (spec/bundle.md §13); it records {} broken files: repair or exclude them",
            sealed.payload.broken.len()
        ))),
        Err(e) => Err(Error::Malformed(format!("the seal just built: {e}"))),
    }
}

/// The warning for a symlink that leads outside the sealed folder (issue 12 item 11).
pub fn external_link_warning(path: &str, target: &str) -> String {
    format!(
        "symlink {path} points outside the sealed folder ({target}); the data behind it is \
         not sealed"
    )
}

/// Refuse what cannot be sealed: bad names, non-UTF-8 link targets, special files.
/// What sealing does around the hashing of each file: format checks and content identity
/// (inspection) and, when asked, the outboard tree.
struct SealWork<'a> {
    nodes: &'a [walk::Node],
    file_nodes: &'a [usize],
    options: &'a SealOptions,
    outboard: Option<std::sync::Arc<seqprov_engine::outboard::OutboardDir>>,
}

/// The chunk receivers of one file being sealed.
struct SealSink {
    inspection: Inspection,
    outboard: Option<seqprov_engine::outboard::OutboardWriter>,
}

impl ChunkSink for SealSink {
    fn update(&mut self, chunk: &[u8]) {
        self.inspection.update(chunk);
        if let Some(writer) = &mut self.outboard {
            writer.update(chunk);
        }
    }
}

impl schedule::FileWork for SealWork<'_> {
    type Sink = SealSink;
    type Output = (FileDigests, Option<Box<Findings>>);

    fn start(&self, index: usize) -> seqprov_engine::Result<SealSink> {
        let node = &self.nodes[self.file_nodes[index]];
        let NodeKind::File { size, .. } = node.kind else {
            unreachable!("only files are hashed")
        };
        let outboard = match &self.outboard {
            Some(dir) if size >= seqprov_engine::outboard::OUTBOARD_MIN_BYTES => {
                Some(seqprov_engine::outboard::OutboardWriter::new(dir)?)
            }
            _ => None,
        };
        Ok(SealSink {
            inspection: Inspection::for_file(&node.path, size, &self.options.inspect),
            outboard,
        })
    }

    fn finish(
        &self,
        _index: usize,
        digests: FileDigests,
        sink: SealSink,
    ) -> seqprov_engine::Result<Self::Output> {
        if let Some(writer) = sink.outboard {
            writer.finish(&digests.blake3)?;
        }
        Ok((
            digests,
            sink.inspection.finish(digests.size).worth_keeping(),
        ))
    }
}

fn check_sealable(node: &walk::Node, dir: &Path) -> Result<()> {
    let refuse = |reason: String| {
        Err(Error::UnsealableTree {
            path: node.full(dir),
            reason,
        })
    };
    if let Some(why) = &node.name_error {
        return refuse(why.clone());
    }
    match &node.kind {
        NodeKind::Symlink {
            target: Err(escaped),
        } => refuse(format!(
            "symlink target is not valid UTF-8 (bytes: \"{escaped}\"); seqprov refuses such targets"
        )),
        NodeKind::Special(kind) => refuse(format!(
            "is a {kind}; seqprov seals regular files, symlinks and empty directories only"
        )),
        _ => Ok(()),
    }
}

/// Turn one file's check results into a content summary, the reasons it is broken and
/// notes.
fn record_findings(
    findings: Findings,
    broken: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Option<seqprov_illumina::fastq::FastqContent> {
    match findings.structure {
        Some(Err(e)) => broken.push(format!("not a valid {} file: {}", e.kind.name(), e.reason)),
        Some(Ok(summary)) => notes.extend(summary.notes),
        None => {}
    }
    match findings.content {
        Some(Ok(outcome)) => {
            if let Some(lineage) = outcome.lineage.filter(|l| l.mismatched > 0) {
                let example = lineage
                    .examples
                    .first()
                    .map(|(record, why)| {
                        let why: Vec<String> = why.iter().map(ToString::to_string).collect();
                        format!("; first at record {record}: {}", why.join(", "))
                    })
                    .unwrap_or_default();
                broken.push(format!(
                    "{} of {} read names disagree with the derived-from run{example}",
                    lineage.mismatched, lineage.checked
                ));
            }
            Some(outcome.content)
        }
        Some(Err(e)) => {
            broken.push(e.to_string());
            None
        }
        None => None,
    }
}

/// The first few items of a list, and how many more there are.
fn list_some(items: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if items.len() > SHOWN {
        text.push_str(&format!("; and {} more", items.len() - SHOWN));
    }
    text
}

/// Build and sign a bundle from entries as given: no sorting, no validation.
///
/// [`seal_directory`] calls this after it has checked everything. It is public so that
/// tests and tools can build bundles exactly as an attacker holding a trusted key could
/// (for example with a `..` path), to show that verification rejects them.
pub fn sign_entries(
    entries: Vec<Entry>,
    subject_name: &str,
    key: &dyn Signer,
    options: &SealOptions,
) -> Result<Sealed> {
    sign_entries_with(
        entries,
        subject_name,
        key,
        options,
        SealFacts::default(),
        &seqprov_engine::hashing::NoProgress,
    )
}

/// [`sign_entries`] with the run facts the payload records, reporting its phases
/// (`encode`, `merkle`, `sign`) to `progress`.
pub fn sign_entries_with(
    entries: Vec<Entry>,
    subject_name: &str,
    key: &dyn Signer,
    options: &SealOptions,
    facts: SealFacts,
    progress: &dyn Progress,
) -> Result<Sealed> {
    progress.phase("encode");
    let encoded: Vec<Vec<u8>> = entries.par_iter().map(Entry::to_cbor).collect();
    progress.phase("merkle");
    let root = merkle::root(&merkle::leaf_hashes(&encoded));
    progress.phase("sign");
    let public = key.public_key_with_name();
    let signer_name = options
        .signer_name
        .clone()
        .or_else(|| key.signer_name())
        .unwrap_or_else(|| format!("key {}", &public.id().to_hex()[..16]));
    let payload = SealPayload {
        format: SEAL_FORMAT.into(),
        version: FORMAT_VERSION,
        tool: TOOL.into(),
        time: format_time(options.time.unwrap_or_else(time::OffsetDateTime::now_utc)),
        signer: SignerInfo {
            name: signer_name,
            role: options.role.clone(),
            meaning: options.meaning.clone(),
            public_key: Bytes32(public.to_bytes()),
            key_storage: key.key_storage().recorded(),
        },
        subject: Subject {
            name: subject_name.to_string(),
            kind: "directory".into(),
        },
        entries: entries.len() as u64,
        files: entries.iter().filter(|e| e.kind == EntryKind::File).count() as u64,
        bytes: entries
            .iter()
            .filter_map(|e| e.size)
            .fold(0u64, u64::saturating_add),
        digests: if options.hash.sha256 {
            vec!["blake3".into(), "sha256".into()]
        } else {
            vec!["blake3".into()]
        },
        root: Bytes32(root),
        derived_from: options.derived_from.clone(),
        run: facts.run,
        mode: facts.mode,
        incomplete: Vec::new(),
        broken: facts.broken,
        exclude: facts.exclude,
        external_symlinks: entries
            .iter()
            .filter(|e| {
                e.target
                    .as_deref()
                    .is_some_and(|t| link_leaves_tree(&e.path, t))
            })
            .count() as u64,
        run_mismatch: facts.run_mismatch,
        missing: facts.missing,
        unexpected: facts.unexpected,
    };
    let seal = cose::sign(payload.to_cbor(), SEAL_CONTENT_TYPE, key)?;
    let mut bundle = Vec::with_capacity(seal.len() + entry_list::encoded_len(&encoded));
    bundle.extend_from_slice(&seal);
    entry_list::encode_into(&encoded, &mut bundle);
    Ok(Sealed {
        bundle,
        payload,
        entries,
        warnings: Vec::new(),
    })
}

/// Fill `seed` from the operating system's random source, in place (no copy to wipe).
fn fill_random(seed: &mut [u8; 32]) -> Result<()> {
    getrandom::getrandom(seed).map_err(|e| {
        Error::io(
            "random source",
            std::io::Error::other(format!("getrandom failed: {e}")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;

    /// Issue 12 item 7: `seal` refuses to write a seal that no reader would accept, and
    /// writes one exactly at the limit.
    #[test]
    fn a_seal_longer_than_readers_accept_is_refused() {
        let key = PrivateKey::from_seed(&[5; 32], None);
        let limit = seqprov_format::bundle::MAX_SEAL_BYTES;
        let with_name = |len: usize| {
            let options = SealOptions {
                signer_name: Some("n".repeat(len)),
                ..SealOptions::default()
            };
            sign_entries(Vec::new(), "run", &key, &options).unwrap()
        };
        let seal_len = |sealed: &Sealed| seqprov_format::cbor::item_len(&sealed.bundle).unwrap();
        // Near the limit every head has its 5-byte form: one more byte of name is one more
        // byte of seal.
        let guess = limit - 64;
        let name_len = guess - (seal_len(&with_name(guess)) - limit);
        let at_limit = with_name(name_len);
        assert_eq!(seal_len(&at_limit), limit);
        assert!(check_seal_size(&at_limit).is_ok());
        let over = with_name(name_len + 1);
        match check_seal_size(&over) {
            Err(Error::Rejected(message)) => assert!(
                message.starts_with(&format!(
                    "the seal would be {} bytes, more than the limit of {limit}",
                    limit + 1
                )),
                "{message}"
            ),
            other => panic!("{other:?}"),
        }
    }
}
