//! One seal hashed on many nodes (`spec/sharded.md`): a plan made by one metadata walk
//! ([`make_plan`]), parts hashed anywhere the directory is mounted ([`hash_part`]), and a
//! seal made from the parts ([`seal_from_parts`]) that is byte for byte the seal
//! `seal_directory` writes with the same salt seed and time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::inspect::{InspectOptions, Inspection};
use crate::seal::{self, FileOutcome, SealOptions, Sealed};
use seqprov_engine::hashing::{FileDigests, HashOptions, NoProgress, Progress, Stamp};
use seqprov_engine::schedule::{self, TreeFile};
use seqprov_engine::subtree;
use seqprov_engine::walk::{NodeKind, Tree};
use seqprov_format::manifest::Bytes32;
use seqprov_format::shard::{
    PART_FORMAT, PLAN_FORMAT, Part, Piece, PieceResult, Plan, PlanEntry, PlanStamp, SHARD_VERSION,
    plan_digest,
};
use seqprov_illumina::structure::{CheckOptions, Depth, StrictMode, StructureChecker};

/// The fraction of pieces `seal --from-parts` re-hashes by default.
pub const DEFAULT_RECHECK: f64 = 0.01;

/// The shortest range `plan` chooses by itself (`--range-len` may go down to 1024).
pub const DEFAULT_MIN_RANGE_LEN: u64 = 1 << 20;

/// How to make a plan.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// Number of parts.
    pub parts: u64,
    /// Compute SHA-256 too (files are then never cut).
    pub sha256: bool,
    /// Structure checks (`None`: off).
    pub structure: Option<CheckOptions>,
    /// Exclude patterns.
    pub exclude: Vec<String>,
    /// Cut files longer than this (a power of two); `None`: the largest power of two not
    /// above an eighth of the bytes of one part, at least [`DEFAULT_MIN_RANGE_LEN`].
    pub range_len: Option<u64>,
    /// The salt seed; `None` means fresh random bytes (only tests fix it).
    pub salt_seed: Option<[u8; 32]>,
}

/// The `checks` word of a plan for structure options.
fn checks_word(structure: Option<CheckOptions>) -> &'static str {
    match structure {
        None => "none",
        Some(CheckOptions {
            mode: StrictMode::Strict,
            ..
        }) => "strict",
        Some(CheckOptions {
            depth: Depth::Full, ..
        }) => "lenient-full",
        Some(_) => "lenient",
    }
}

/// The structure options a plan's `checks` word stands for.
fn structure_of(checks: &str) -> Option<CheckOptions> {
    let (mode, depth) = match checks {
        "strict" => (StrictMode::Strict, Depth::Full),
        "lenient-full" => (StrictMode::Lenient, Depth::Full),
        "lenient" => (StrictMode::Lenient, Depth::Framing),
        _ => return None,
    };
    Some(CheckOptions { mode, depth })
}

/// The seal options a plan fixes: digests, checks, excludes, salt seed; the rest as given.
pub fn seal_options_for(plan: &Plan, base: &SealOptions) -> SealOptions {
    SealOptions {
        hash: HashOptions {
            sha256: plan.sha256,
            ..base.hash
        },
        inspect: InspectOptions {
            structure: structure_of(&plan.checks),
            content: false,
            run: None,
        },
        exclude: plan.exclude.clone(),
        salt_seed: Some(plan.seed.0),
        outboard: None,
        ..base.clone()
    }
}

fn plan_stamp(stamp: &Stamp) -> PlanStamp {
    PlanStamp {
        size: stamp.size(),
        mtime: stamp.mtime(),
        ctime: stamp.ctime(),
        ino: stamp.ino(),
    }
}

/// The plan entries of walked nodes, sorted by path.
fn plan_entries(nodes: &[seqprov_engine::walk::Node]) -> Vec<PlanEntry> {
    let mut entries: Vec<PlanEntry> = nodes
        .iter()
        .filter_map(|node| {
            let (kind, stamp, target) = match &node.kind {
                NodeKind::File { stamp, .. } => ("file", Some(plan_stamp(stamp)), None),
                NodeKind::Symlink { target: Ok(target) } => ("symlink", None, Some(target.clone())),
                NodeKind::Dir { empty: true } => ("dir", None, None),
                _ => return None,
            };
            Some(PlanEntry {
                path: node.path.clone(),
                kind: kind.into(),
                stamp,
                target,
            })
        })
        .collect();
    entries.sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    entries
}

/// Walk `dir` (metadata only) and cut its files into `options.parts` parts balanced by
/// bytes. Returns the plan and its bytes.
pub fn make_plan(dir: &Path, options: &PlanOptions) -> Result<(Plan, Vec<u8>)> {
    let parts = usize::try_from(options.parts)
        .ok()
        .filter(|&n| (1..=seqprov_format::shard::MAX_PARTS).contains(&n))
        .ok_or_else(|| {
            Error::Refused(format!(
                "--parts must be from 1 to {}",
                seqprov_format::shard::MAX_PARTS
            ))
        })?;
    let absolute = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
    let dir_text = absolute
        .to_str()
        .ok_or_else(|| {
            Error::Refused(format!(
                "{}: a plan needs a directory path that is valid UTF-8",
                absolute.display()
            ))
        })?
        .to_string();
    // The same walk and checks a seal makes before hashing; completeness and broken run
    // metadata are judged by the seal, not here.
    let walk_options = SealOptions {
        exclude: options.exclude.clone(),
        allow_incomplete: true,
        allow_broken: true,
        inspect: InspectOptions::default(),
        ..SealOptions::default()
    };
    let prepared = seal::prepare(&absolute, &walk_options, &NoProgress)?;
    let entries = plan_entries(&prepared.nodes);
    let total: u64 = entries
        .iter()
        .filter_map(|e| e.stamp.map(|s| s.size))
        .fold(0, u64::saturating_add);
    let range_len = match options.range_len {
        Some(len) if subtree::is_valid_range_len(len) => len,
        Some(len) => {
            return Err(Error::Refused(format!(
                "--range-len {len} is not a power of two from {} to {}",
                subtree::MIN_RANGE_LEN,
                subtree::MAX_RANGE_LEN
            )));
        }
        // No piece longer than an eighth of a part, so that the parts end within about
        // an eighth of each other; no range shorter than 1 MiB unless asked.
        None => subtree::range_len_for(total.div_ceil(parts as u64 * 8)).max(DEFAULT_MIN_RANGE_LEN),
    };
    let mut pieces: Vec<Piece> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(stamp) = entry.stamp else { continue };
        let checked = options
            .structure
            .is_some_and(|o| StructureChecker::for_path(&entry.path, o).is_some());
        // SHA-256 cannot be split, nor can a streaming format check: such files stay whole.
        let cut = stamp.size > range_len && !options.sha256 && !checked;
        if cut {
            pieces.extend(
                subtree::ranges_of(stamp.size, range_len).map(|(start, len)| Piece {
                    file: i as u64,
                    start,
                    len,
                }),
            );
        } else {
            pieces.push(Piece {
                file: i as u64,
                start: 0,
                len: stamp.size,
            });
        }
    }
    if pieces.len() > seqprov_format::shard::MAX_PIECES {
        return Err(Error::Refused(format!(
            "the plan would have {} pieces, more than the limit of {}; choose a longer \
             --range-len",
            pieces.len(),
            seqprov_format::shard::MAX_PIECES
        )));
    }
    // Longest piece first to the part with the fewest bytes (ties: lowest index).
    let mut order: Vec<usize> = (0..pieces.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(pieces[i].len));
    let mut loads: std::collections::BinaryHeap<std::cmp::Reverse<(u64, usize)>> =
        (0..parts).map(|p| std::cmp::Reverse((0, p))).collect();
    let mut assigned: Vec<Vec<Piece>> = vec![Vec::new(); parts];
    for i in order {
        let std::cmp::Reverse((load, part)) = loads.pop().expect("at least one part");
        assigned[part].push(pieces[i]);
        loads.push(std::cmp::Reverse((load + pieces[i].len, part)));
    }
    for part in &mut assigned {
        part.sort_unstable_by_key(|p| (p.file, p.start));
    }
    let mut seed = [0u8; 32];
    match options.salt_seed {
        Some(fixed) => seed = fixed,
        None => getrandom::getrandom(&mut seed).map_err(|e| {
            Error::io(
                "random source",
                std::io::Error::other(format!("getrandom failed: {e}")),
            )
        })?,
    }
    let plan = Plan {
        format: PLAN_FORMAT.into(),
        version: SHARD_VERSION,
        dir: dir_text,
        seed: Bytes32(seed),
        sha256: options.sha256,
        checks: checks_word(options.structure).into(),
        exclude: options.exclude.clone(),
        range_len,
        entries,
        parts: assigned,
    };
    let bytes = plan.to_cbor();
    Plan::from_cbor(&bytes).map_err(|why| Error::Refused(format!("the plan just made: {why}")))?;
    Ok((plan, bytes))
}

/// Decode a plan file's bytes; `name` names it in errors.
pub fn read_plan(name: &Path, bytes: &[u8]) -> Result<(Plan, [u8; 32])> {
    let plan = Plan::from_cbor(bytes)
        .map_err(|why| Error::Refused(format!("plan {}: {why}", name.display())))?;
    Ok((plan, plan_digest(bytes)))
}

/// Read a plan or part file of at most `limit` bytes (the limit is checked before the
/// bytes are read).
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len > limit {
        return Err(Error::Refused(format!(
            "{}: {len} bytes, more than the limit of {limit}",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::Refused(format!(
            "{}: longer than the limit of {limit} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Whether a file's stamp on this node still says what the plan says.
fn check_stamp(dir: &Path, entry: &PlanEntry, now: &Stamp) -> Result<()> {
    let planned = entry.stamp.expect("pieces name files");
    let now = plan_stamp(now);
    if now == planned && entry.kind == "file" {
        return Ok(());
    }
    let what = if now.ino != planned.ino {
        "it was replaced by another file".to_string()
    } else if now.size != planned.size {
        format!("size went from {} to {} bytes", planned.size, now.size)
    } else {
        "its modification or change time moved".to_string()
    };
    Err(changed_since_plan(dir, &entry.path, &what))
}

fn changed_since_plan(dir: &Path, path: &str, what: &str) -> Error {
    Error::Refused(format!(
        "{}: changed since the plan was made ({what}); make a new plan",
        dir.join(path).display()
    ))
}

/// What hashing a part does around each whole file: the format checks the seal runs.
struct PartWork<'a> {
    paths: Vec<&'a str>,
    sizes: Vec<u64>,
    inspect: InspectOptions,
}

impl schedule::FileWork for PartWork<'_> {
    type Sink = Inspection;
    type Output = FileOutcome;

    fn start(&self, index: usize) -> seqprov_engine::Result<Inspection> {
        Ok(Inspection::for_file(
            self.paths[index],
            self.sizes[index],
            &self.inspect,
        ))
    }

    fn finish(
        &self,
        _index: usize,
        digests: FileDigests,
        sink: Inspection,
    ) -> seqprov_engine::Result<FileOutcome> {
        Ok(FileOutcome::of(
            digests,
            sink.finish(digests.size).worth_keeping(),
        ))
    }
}

/// Hash `pieces` of `plan` on this machine: whole files with their checks and SHA-256
/// when asked, ranges to their chaining values; every file's stamp is checked against the
/// plan before it is read and against the open file after.
fn hash_pieces(
    plan: &Plan,
    dir: &Path,
    pieces: &[Piece],
    read_mode: seqprov_engine::ReadMode,
    progress: &dyn Progress,
) -> Result<Vec<PieceResult>> {
    let tree = Tree::open(dir)?;
    let open = |entry: &PlanEntry| -> Result<(std::fs::File, Stamp)> {
        let file = tree.open_file(Path::new(&entry.path)).map_err(|e| {
            Error::from(seqprov_engine::hashing::open_error(
                &dir.join(&entry.path),
                e,
            ))
        })?;
        let meta = file
            .metadata()
            .map_err(|e| Error::io(dir.join(&entry.path), e))?;
        let stamp = Stamp::of(&meta);
        if !stamp.is_regular() {
            return Err(changed_since_plan(
                dir,
                &entry.path,
                "it is no longer a regular file",
            ));
        }
        check_stamp(dir, entry, &stamp)?;
        Ok((file, stamp))
    };
    let whole: Vec<usize> = (0..pieces.len())
        .filter(|&i| plan.is_whole(&pieces[i]))
        .collect();
    let mut stamps = Vec::with_capacity(whole.len());
    for &i in &whole {
        let (_, stamp) = open(&plan.entries[pieces[i].file as usize])?;
        stamps.push(stamp);
    }
    let files: Vec<TreeFile<'_>> = whole
        .iter()
        .zip(&stamps)
        .map(|(&i, &stamp)| TreeFile {
            relative: Path::new(&plan.entries[pieces[i].file as usize].path),
            stamp,
        })
        .collect();
    let work = PartWork {
        paths: whole
            .iter()
            .map(|&i| plan.entries[pieces[i].file as usize].path.as_str())
            .collect(),
        sizes: stamps.iter().map(Stamp::size).collect(),
        inspect: InspectOptions {
            structure: structure_of(&plan.checks),
            content: false,
            run: None,
        },
    };
    let options = HashOptions {
        sha256: plan.sha256,
        read_mode,
    };
    let outcomes = schedule::hash_tree_files(&tree, &files, &work, options, progress)?;
    let mut results: Vec<Option<PieceResult>> = vec![None; pieces.len()];
    for (&i, outcome) in whole.iter().zip(outcomes) {
        let piece = pieces[i];
        results[i] = Some(PieceResult {
            file: piece.file,
            start: piece.start,
            len: piece.len,
            blake3: Bytes32(outcome.digests.blake3),
            sha256: outcome.digests.sha256.map(Bytes32),
            broken: outcome.broken,
            notes: outcome.notes,
        });
    }
    let ranges: Vec<usize> = (0..pieces.len())
        .filter(|&i| !plan.is_whole(&pieces[i]))
        .collect();
    let hashed: Vec<(usize, PieceResult)> = ranges
        .par_iter()
        .with_max_len(1)
        .map(|&i| {
            let piece = pieces[i];
            let entry = &plan.entries[piece.file as usize];
            let (file, stamp) = open(entry)?;
            let cv =
                subtree::hash_range(&file, &dir.join(&entry.path), stamp, piece.start, piece.len)?;
            progress.advance(piece.len);
            Ok((
                i,
                PieceResult {
                    file: piece.file,
                    start: piece.start,
                    len: piece.len,
                    blake3: Bytes32(cv),
                    sha256: None,
                    broken: Vec::new(),
                    notes: Vec::new(),
                },
            ))
        })
        .collect::<Result<_>>()?;
    for (i, result) in hashed {
        results[i] = Some(result);
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every piece was hashed"))
        .collect())
}

/// Hash part `index` of `plan` (whose digest is `digest`, see [`read_plan`]) on this
/// node, named `node`. Returns the part.
pub fn hash_part(
    plan: &Plan,
    digest: [u8; 32],
    index: u64,
    node: &str,
    read_mode: seqprov_engine::ReadMode,
    progress: &dyn Progress,
) -> Result<Part> {
    let Some(pieces) = plan.part(index) else {
        return Err(Error::Refused(format!(
            "--part {index}: the plan has parts 0 to {}",
            plan.parts.len() - 1
        )));
    };
    let dir = PathBuf::from(&plan.dir);
    progress.set_total(pieces.iter().map(|p| p.len).sum());
    progress.phase("hash");
    let results = hash_pieces(plan, &dir, pieces, read_mode, progress)?;
    let part = Part {
        format: PART_FORMAT.into(),
        version: SHARD_VERSION,
        plan: Bytes32(digest),
        part: index,
        node: node.to_string(),
        pieces: results,
    };
    // Check what is written as the sealer will read it.
    Part::from_cbor(&part.to_cbor())
        .and_then(|p| plan.check_part(&digest, &p))
        .map_err(|why| Error::Refused(format!("the part just made: {why}")))?;
    Ok(part)
}

/// One part given to the sealer: where it came from and what it says.
pub struct GivenPart {
    /// The file it was read from (for messages).
    pub name: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The plan and parts given to `seal --from-parts`.
pub struct PartsInput<'a> {
    /// The plan file's name (for messages).
    pub plan_name: &'a Path,
    /// The plan file's bytes.
    pub plan_bytes: &'a [u8],
    /// The part files.
    pub parts: &'a [GivenPart],
    /// The fraction of pieces to re-hash on this host (0 to 1).
    pub recheck: f64,
}

/// Which node hashed which part, for the record the sealer keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartRecord {
    /// The part's index.
    pub part: u64,
    /// The node name the part gives.
    pub node: String,
    /// Bytes it hashed.
    pub bytes: u64,
}

/// What `seal --from-parts` did besides sealing.
#[derive(Clone, Debug)]
pub struct ShardedSeal {
    /// The plan's digest.
    pub plan: [u8; 32],
    /// Every part, in index order.
    pub parts: Vec<PartRecord>,
    /// Pieces re-hashed on this host, and their bytes.
    pub rechecked: (u64, u64),
}

/// Decode the parts and check they are exactly the plan's parts, each once.
fn read_parts(plan: &Plan, digest: &[u8; 32], given: &[GivenPart]) -> Result<Vec<Part>> {
    let mut by_index: Vec<Option<(Part, &Path)>> = vec![None; plan.parts.len()];
    for g in given {
        let refuse = |why: String| Error::Refused(format!("part {}: {why}", g.name.display()));
        let part = Part::from_cbor(&g.bytes).map_err(refuse)?;
        plan.check_part(digest, &part).map_err(refuse)?;
        let slot = &mut by_index[part.part as usize];
        if let Some((_, first)) = slot {
            return Err(Error::Refused(format!(
                "{} and {} are both part {} of the plan: give each part once",
                first.display(),
                g.name.display(),
                part.part
            )));
        }
        *slot = Some((part, &g.name));
    }
    let missing: Vec<String> = by_index
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_none())
        .map(|(i, _)| i.to_string())
        .collect();
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(20).map(String::as_str).collect();
        return Err(Error::Refused(format!(
            "{} of the plan's {} parts are missing: part {}{}",
            missing.len(),
            plan.parts.len(),
            shown.join(", "),
            if missing.len() > shown.len() {
                ", …"
            } else {
                ""
            }
        )));
    }
    Ok(by_index
        .into_iter()
        .map(|p| p.expect("none missing").0)
        .collect())
}

/// Which pieces to re-hash: each with probability `fraction`, from fresh random bytes.
fn sample(count: usize, fraction: f64) -> Result<Vec<bool>> {
    if fraction >= 1.0 {
        return Ok(vec![true; count]);
    }
    if fraction <= 0.0 {
        return Ok(vec![false; count]);
    }
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| {
        Error::io(
            "random source",
            std::io::Error::other(format!("getrandom failed: {e}")),
        )
    })?;
    let threshold = (fraction * u64::MAX as f64) as u64;
    let draw = |i: u64| {
        let h = blake3::keyed_hash(&key, &i.to_le_bytes());
        u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"))
    };
    let mut chosen: Vec<bool> = (0..count as u64).map(|i| draw(i) < threshold).collect();
    // At least one piece is always re-hashed.
    if count > 0 && !chosen.contains(&true) {
        chosen[(draw(u64::MAX) % count as u64) as usize] = true;
    }
    Ok(chosen)
}

/// The whole-file digests and findings of every file of the plan, merged from the parts.
fn merge_parts(plan: &Plan, parts: &[Part]) -> Result<Vec<Option<FileOutcome>>> {
    let mut ranges: Vec<Vec<(u64, [u8; 32])>> = vec![Vec::new(); plan.entries.len()];
    let mut outcomes: Vec<Option<FileOutcome>> = vec![None; plan.entries.len()];
    for part in parts {
        for result in &part.pieces {
            let piece = Piece::of(result);
            if plan.is_whole(&piece) {
                outcomes[piece.file as usize] = Some(FileOutcome {
                    digests: FileDigests {
                        size: piece.len,
                        blake3: result.blake3.0,
                        sha256: result.sha256.map(|d| d.0),
                    },
                    broken: result.broken.clone(),
                    notes: result.notes.clone(),
                    content: None,
                });
            } else {
                ranges[piece.file as usize].push((piece.start, result.blake3.0));
            }
        }
    }
    for (i, mut cvs) in ranges.into_iter().enumerate() {
        if cvs.is_empty() {
            continue;
        }
        cvs.sort_unstable_by_key(|(start, _)| *start);
        let entry = &plan.entries[i];
        let size = entry.stamp.expect("ranges are of files").size;
        let cvs: Vec<[u8; 32]> = cvs.into_iter().map(|(_, cv)| cv).collect();
        let blake3 = subtree::merge_ranges(plan.range_len, size, &cvs).ok_or_else(|| {
            Error::Refused(format!("the ranges of {:?} cannot be merged", entry.path))
        })?;
        outcomes[i] = Some(FileOutcome {
            digests: FileDigests {
                size,
                blake3,
                sha256: None,
            },
            broken: Vec::new(),
            notes: Vec::new(),
            content: None,
        });
    }
    Ok(outcomes)
}

/// Seal `dir` from the parts of a plan: the parts must be exactly the plan's parts, the
/// directory's metadata must be as the plan saw it, a `recheck` fraction of the pieces is
/// re-hashed here (a mismatch refuses the seal, naming the part), and the seal is built
/// exactly as `seal_directory` builds it, with the plan's salt seed.
pub fn seal_from_parts(
    dir: &Path,
    input: &PartsInput<'_>,
    key: &dyn crate::keys::Signer,
    base: &SealOptions,
    progress: &dyn Progress,
) -> Result<(Sealed, ShardedSeal)> {
    let (given, recheck) = (input.parts, input.recheck);
    let (plan, digest) = read_plan(input.plan_name, input.plan_bytes)?;
    let parts = read_parts(&plan, &digest, given)?;
    let options = seal_options_for(&plan, base);
    let prepared = seal::prepare(dir, &options, progress)?;
    // Nothing may have changed since the plan: the same entries with the same stamps.
    let now = plan_entries(&prepared.nodes);
    if let Some(at) =
        (0..plan.entries.len().max(now.len())).find(|&i| plan.entries.get(i) != now.get(i))
    {
        let (planned, found) = (plan.entries.get(at), now.get(at));
        let (path, what) = match (planned, found) {
            (Some(p), Some(f)) if p.path == f.path => (&p.path, describe_entry_change(p, f)),
            (Some(p), Some(f)) if p.path.as_bytes() < f.path.as_bytes() => {
                (&p.path, "it is gone".to_string())
            }
            (_, Some(f)) => (&f.path, "it is new".to_string()),
            (Some(p), None) => (&p.path, "it is gone".to_string()),
            (None, None) => unreachable!("a difference was found"),
        };
        return Err(changed_since_plan(dir, path, &what));
    }
    progress.phase("recheck");
    let rechecked = recheck_parts(
        &plan,
        dir,
        &parts,
        given,
        recheck,
        options.hash.read_mode,
        "the seal is refused",
    )?;
    let merged = merge_parts(&plan, &parts)?;
    let index: HashMap<&str, usize> = plan
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.path.as_str(), i))
        .collect();
    let mut outcomes: Vec<Option<FileOutcome>> = vec![None; prepared.nodes.len()];
    for (slot, node) in outcomes.iter_mut().zip(&prepared.nodes) {
        if let NodeKind::File { .. } = node.kind {
            *slot = index
                .get(node.path.as_str())
                .and_then(|&i| merged[i].clone());
            if slot.is_none() {
                return Err(changed_since_plan(dir, &node.path, "it is not in the plan"));
            }
        }
    }
    let records = part_records(&parts);
    let sealed = seal::finish_seal(dir, prepared, outcomes, key, &options, progress)?;
    Ok((
        sealed,
        ShardedSeal {
            plan: digest,
            parts: records,
            rechecked,
        },
    ))
}

/// Re-hash a random `fraction` of the parts' pieces here (at least one) and compare; a
/// difference refuses, naming the part. Chosen pieces of files whose stamp no longer matches the
/// plan are skipped (`seal` has refused such a tree already; `verify` reads them itself).
/// Returns the pieces and bytes re-hashed.
fn recheck_parts(
    plan: &Plan,
    dir: &Path,
    parts: &[Part],
    given: &[GivenPart],
    fraction: f64,
    read_mode: seqprov_engine::ReadMode,
    refused: &str,
) -> Result<(u64, u64)> {
    let tree = Tree::open(dir)?;
    let unchanged = |entry: &PlanEntry| {
        tree.open_file(Path::new(&entry.path))
            .and_then(|f| f.metadata())
            .is_ok_and(|m| {
                let stamp = Stamp::of(&m);
                stamp.is_regular() && Some(plan_stamp(&stamp)) == entry.stamp
            })
    };
    let pieces: Vec<(usize, &PieceResult)> = parts
        .iter()
        .enumerate()
        .flat_map(|(p, part)| part.pieces.iter().map(move |r| (p, r)))
        .collect();
    // Only the chosen pieces' files are looked at again (one open each).
    let chosen = sample(pieces.len(), fraction)?;
    let to_check: Vec<(usize, &PieceResult)> = pieces
        .iter()
        .zip(&chosen)
        .filter(|(_, c)| **c)
        .map(|(p, _)| *p)
        .filter(|(_, r)| unchanged(&plan.entries[r.file as usize]))
        .collect();
    let recheck_pieces: Vec<Piece> = to_check.iter().map(|(_, r)| Piece::of(r)).collect();
    let again = hash_pieces(plan, dir, &recheck_pieces, read_mode, &NoProgress)?;
    for ((p, claimed), found) in to_check.iter().zip(&again) {
        if *claimed != found {
            let part = &parts[*p];
            let path = &plan.entries[claimed.file as usize].path;
            let what = if plan.is_whole(&Piece::of(claimed)) {
                format!("file {path}")
            } else {
                format!(
                    "bytes {}..{} of {path}",
                    claimed.start,
                    claimed.start + claimed.len
                )
            };
            let file = given
                .iter()
                .find(|g| Part::from_cbor(&g.bytes).is_ok_and(|q| q.part == part.part))
                .map_or_else(String::new, |g| format!(", {}", g.name.display()));
            return Err(Error::Integrity(format!(
                "part {} (node {:?}{file}): its result for {what} differs from the bytes on \
                 disk when re-hashed here; {refused}",
                part.part, part.node,
            )));
        }
    }
    Ok((
        to_check.len() as u64,
        to_check.iter().map(|(_, r)| r.len).sum(),
    ))
}

/// The digests of the files of a plan, from its parts, for `verify --from-parts`: the plan
/// and parts are checked as for a seal and a random `input.recheck` fraction of the pieces
/// is re-hashed here first.
pub fn digests_from_parts(
    dir: &Path,
    input: &PartsInput<'_>,
    read_mode: seqprov_engine::ReadMode,
) -> Result<(crate::bundle_checks::PrecomputedDigests, ShardedSeal)> {
    let (plan, digest) = read_plan(input.plan_name, input.plan_bytes)?;
    let parts = read_parts(&plan, &digest, input.parts)?;
    let rechecked = recheck_parts(
        &plan,
        dir,
        &parts,
        input.parts,
        input.recheck,
        read_mode,
        "the parts are refused",
    )?;
    let merged = merge_parts(&plan, &parts)?;
    let digests = plan
        .entries
        .iter()
        .zip(merged)
        .filter_map(|(entry, outcome)| Some((entry.path.clone(), (entry.stamp?, outcome?.digests))))
        .collect();
    let records = part_records(&parts);
    Ok((
        digests,
        ShardedSeal {
            plan: digest,
            parts: records,
            rechecked,
        },
    ))
}

fn part_records(parts: &[Part]) -> Vec<PartRecord> {
    parts
        .iter()
        .map(|p| PartRecord {
            part: p.part,
            node: p.node.clone(),
            bytes: p.pieces.iter().map(|r| r.len).sum(),
        })
        .collect()
}

fn describe_entry_change(planned: &PlanEntry, found: &PlanEntry) -> String {
    match (planned.stamp, found.stamp) {
        (Some(p), Some(f)) if p.ino != f.ino => "it was replaced by another file".into(),
        (Some(p), Some(f)) if p.size != f.size => {
            format!("size went from {} to {} bytes", p.size, f.size)
        }
        (Some(_), Some(_)) => "its modification or change time moved".into(),
        _ if planned.kind != found.kind => {
            format!("it was a {}, now a {}", planned.kind, found.kind)
        }
        _ => "its symlink target changed".into(),
    }
}

/// The note of the custody event that records which node hashed which part (at most
/// about 3,000 characters: nodes beyond that are counted, not named).
pub fn nodes_note(sharded: &ShardedSeal) -> String {
    let mut by_node: Vec<(&str, Vec<u64>)> = Vec::new();
    for record in &sharded.parts {
        match by_node.iter_mut().find(|(n, _)| *n == record.node) {
            Some((_, parts)) => parts.push(record.part),
            None => by_node.push((&record.node, vec![record.part])),
        }
    }
    let mut text = format!(
        "hashed in {} parts of plan {} (recheck: {} pieces, {} bytes re-hashed by the sealer):",
        sharded.parts.len(),
        hex::encode(sharded.plan),
        sharded.rechecked.0,
        sharded.rechecked.1
    );
    for (shown, (node, parts)) in by_node.iter().enumerate() {
        let node: String = node.chars().take(64).collect();
        let listed: Vec<String> = parts.iter().take(16).map(u64::to_string).collect();
        let more = if parts.len() > 16 {
            format!(" and {} more", parts.len() - 16)
        } else {
            String::new()
        };
        let item = format!(" {node}: part {}{more};", listed.join(","));
        if text.len() + item.len() > 3000 {
            text.push_str(&format!(" and {} more nodes", by_node.len() - shown));
            break;
        }
        text.push_str(&item);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recheck_sample_takes_all_none_or_at_least_one() {
        assert!(sample(50, 1.0).unwrap().iter().all(|&c| c));
        assert!(sample(50, 0.0).unwrap().iter().all(|&c| !c));
        for _ in 0..20 {
            assert!(sample(3, 1e-9).unwrap().contains(&true));
        }
        let half = sample(10_000, 0.5).unwrap();
        let chosen = half.iter().filter(|&&c| c).count();
        assert!((4_000..6_000).contains(&chosen), "{chosen}");
        assert!(sample(0, 0.5).unwrap().is_empty());
    }

    #[test]
    fn the_nodes_note_names_each_node_once_and_stays_bounded() {
        let record = |part: u64, node: &str| PartRecord {
            part,
            node: node.into(),
            bytes: 1,
        };
        let few = ShardedSeal {
            plan: [1; 32],
            parts: vec![record(0, "a"), record(1, "b"), record(2, "a")],
            rechecked: (1, 1),
        };
        assert!(
            nodes_note(&few).ends_with(": a: part 0,2; b: part 1;"),
            "{}",
            nodes_note(&few)
        );
        let many = ShardedSeal {
            plan: [1; 32],
            parts: (0..5_000)
                .map(|i| record(i, &format!("node{i:05}")))
                .collect(),
            rechecked: (0, 0),
        };
        let note = nodes_note(&many);
        assert!(note.len() < 3_200, "{}", note.len());
        assert!(note.contains(" more nodes"), "{note}");
        let one_node = ShardedSeal {
            plan: [1; 32],
            parts: (0..100).map(|i| record(i, "same")).collect(),
            rechecked: (0, 0),
        };
        assert!(nodes_note(&one_node).ends_with("and 84 more;"));
    }
}
