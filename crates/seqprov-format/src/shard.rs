//! The two work files of a seal hashed on many nodes (`spec/sharded.md`): the **plan**,
//! which lists every entry of a directory with its stamp and cuts its files into parts,
//! and the **part** a node writes after hashing one of them. Both are deterministic CBOR
//! maps; the plan is identified by its digest (BLAKE3 of its bytes), and a part names the
//! digest of the plan it belongs to.
//!
//! Both files come from outside the trust boundary of the sealing host (a shared file
//! system, another node): decoding is bounded ([`MAX_PLAN_BYTES`], [`MAX_PART_BYTES`] and
//! the count limits below are checked before anything is kept), strict (one encoding
//! only) and every rule of `spec/sharded.md` is checked here, on the bytes, without the
//! file system.

use serde::{Deserialize, Serialize};

use crate::bytes32::Bytes32;
use crate::cbor;
use crate::entry_path;

/// `format` of a plan.
pub const PLAN_FORMAT: &str = "seqprov-plan";
/// `format` of a part.
pub const PART_FORMAT: &str = "seqprov-part";
/// The version of both files this implementation writes and reads.
pub const SHARD_VERSION: u32 = 1;
/// Longest plan file accepted (about 1.5 million entries).
pub const MAX_PLAN_BYTES: u64 = 256 << 20;
/// Longest part file accepted.
pub const MAX_PART_BYTES: u64 = 256 << 20;
/// Most entries in a plan.
pub const MAX_PLAN_ENTRIES: usize = 4_000_000;
/// Most parts in a plan.
pub const MAX_PARTS: usize = 65_536;
/// Most pieces (whole files and ranges) in a plan, and so in a part.
pub const MAX_PIECES: usize = 8_000_000;
/// Longest directory path, node name, note or broken-file reason (bytes).
pub const MAX_TEXT_BYTES: usize = 4096;
/// Most notes or broken-file reasons recorded for one file.
pub const MAX_FINDINGS_PER_FILE: usize = 64;
/// Shortest range (one BLAKE3 chunk).
pub const MIN_RANGE_LEN: u64 = 1024;
/// Longest range (1 PiB).
pub const MAX_RANGE_LEN: u64 = 1 << 50;

/// Which format checks the parts run while hashing (`spec/sharded.md` §2).
pub const CHECKS: [&str; 4] = ["none", "lenient", "lenient-full", "strict"];

/// A plan: what to hash, cut into parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Always [`PLAN_FORMAT`].
    pub format: String,
    /// [`SHARD_VERSION`].
    pub version: u32,
    /// The directory, as an absolute path every node mounts at the same place.
    pub dir: String,
    /// The seed entry salts are derived from (secret as the bundle's entry list is).
    pub seed: Bytes32,
    /// Whether SHA-256 is computed as well.
    pub sha256: bool,
    /// Which format checks run: one of [`CHECKS`].
    pub checks: String,
    /// Exclude patterns, as given to `plan`; recorded in the seal.
    pub exclude: Vec<String>,
    /// Length of the ranges large files are cut into (a power of two).
    pub range_len: u64,
    /// Every path that becomes an entry, sorted by the bytes of its path.
    pub entries: Vec<PlanEntry>,
    /// The parts: each a list of pieces.
    pub parts: Vec<Vec<Piece>>,
}

/// One path of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanEntry {
    /// Entry path.
    pub path: String,
    /// `file`, `symlink` or `dir` (an empty directory).
    pub kind: String,
    /// For a file: what `stat` said when the plan was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<PlanStamp>,
    /// For a symlink: its target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// What `stat` said about a file, in the fields that are the same on every node that
/// mounts the file system (no device number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanStamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time: seconds, nanoseconds.
    pub mtime: (i64, i64),
    /// Status change time: seconds, nanoseconds.
    pub ctime: (i64, i64),
    /// Inode number.
    pub ino: u64,
}

/// A piece of work: a whole file (`start` 0, `len` its size) or one range of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Piece {
    /// Index of the file in the plan's entries.
    pub file: u64,
    /// First byte.
    pub start: u64,
    /// Number of bytes.
    pub len: u64,
}

/// What a node found for one part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Always [`PART_FORMAT`].
    pub format: String,
    /// [`SHARD_VERSION`].
    pub version: u32,
    /// The digest of the plan.
    pub plan: Bytes32,
    /// Which part of the plan (0-based).
    pub part: u64,
    /// The name of the node that hashed it (as it reports itself; not authenticated).
    pub node: String,
    /// One result per piece, in the plan's order.
    pub pieces: Vec<PieceResult>,
}

/// The result for one piece.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PieceResult {
    /// As in the plan.
    pub file: u64,
    /// As in the plan.
    pub start: u64,
    /// As in the plan.
    pub len: u64,
    /// For a whole file its BLAKE3; for a range, the range's chaining value.
    pub blake3: Bytes32,
    /// For a whole file when the plan asks: its SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Bytes32>,
    /// Why the file fails a format check (whole files only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub broken: Vec<String>,
    /// Notes of a passed lenient check (whole files only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Piece {
    /// The piece a result is for.
    pub fn of(result: &PieceResult) -> Piece {
        Piece {
            file: result.file,
            start: result.start,
            len: result.len,
        }
    }
}

/// BLAKE3 of a plan's bytes: the plan's identity.
pub fn plan_digest(bytes: &[u8]) -> [u8; 32] {
    *blake3::hash(bytes).as_bytes()
}

fn to_canonical<T: Serialize>(item: &T) -> Vec<u8> {
    let value = ciborium::value::Value::serialized(item).expect("plan types always serialise");
    cbor::encode(value).expect("plan types contain no floats or duplicate keys")
}

/// Decode one canonical item of type `T` from `bytes`, typed as it is read (a hostile
/// file cannot make the decoder build a value tree larger than the fields it fills).
fn from_canonical<T: Serialize + for<'de> Deserialize<'de>>(
    bytes: &[u8],
    what: &str,
) -> Result<T, String> {
    let mut rest = bytes;
    let item: T = ciborium::de::from_reader_with_recursion_limit(&mut rest, cbor::MAX_DEPTH)
        .map_err(|e| match e {
            ciborium::de::Error::Io(_) => format!("{what} is truncated"),
            ciborium::de::Error::Syntax(at) => format!("{what} is not CBOR (byte {at})"),
            ciborium::de::Error::Semantic(_, msg) => format!("{what}: {msg}"),
            ciborium::de::Error::RecursionLimitExceeded => {
                format!("{what} nests deeper than {} levels", cbor::MAX_DEPTH)
            }
        })?;
    if !rest.is_empty() {
        return Err(format!("{what} has {} trailing bytes", rest.len()));
    }
    if to_canonical(&item) != bytes {
        return Err(format!(
            "{what} is not in its single encoding (deterministic CBOR, no nulls)"
        ));
    }
    Ok(item)
}

fn check_text(what: &str, text: &str) -> Result<(), String> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "{what} is {} bytes, more than the limit of {MAX_TEXT_BYTES}",
            text.len()
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\t') {
        return Err(format!("{what} holds a control character"));
    }
    Ok(())
}

impl Plan {
    /// The deterministic CBOR encoding.
    pub fn to_cbor(&self) -> Vec<u8> {
        to_canonical(self)
    }

    /// Decode and check a plan (every rule of `spec/sharded.md` §2).
    pub fn from_cbor(bytes: &[u8]) -> Result<Plan, String> {
        if bytes.len() as u64 > MAX_PLAN_BYTES {
            return Err(format!(
                "the plan is {} bytes, more than the limit of {MAX_PLAN_BYTES}",
                bytes.len()
            ));
        }
        let plan: Plan = from_canonical(bytes, "the plan")?;
        plan.validate()?;
        Ok(plan)
    }

    /// The pieces of part `index`.
    pub fn part(&self, index: u64) -> Option<&[Piece]> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.parts.get(i))
            .map(Vec::as_slice)
    }

    /// Whether `piece` is a whole file.
    pub fn is_whole(&self, piece: &Piece) -> bool {
        let size = self.entries[piece.file as usize]
            .stamp
            .map_or(0, |s| s.size);
        piece.start == 0 && piece.len == size
    }

    /// Check the values beyond their types: limits, sorted unique valid paths, and that
    /// the parts cover every file exactly once (whole, or in all its ranges).
    pub fn validate(&self) -> Result<(), String> {
        if self.format != PLAN_FORMAT {
            return Err(format!("the plan's format is not `{PLAN_FORMAT}`"));
        }
        if self.version != SHARD_VERSION {
            return Err(format!("plan version {} is not supported", self.version));
        }
        check_text("the plan's directory", &self.dir)?;
        if !self.dir.starts_with('/') {
            return Err("the plan's directory is not an absolute path".into());
        }
        if !CHECKS.contains(&self.checks.as_str()) {
            return Err(format!(
                "the plan's checks are not one of {}",
                CHECKS.join(", ")
            ));
        }
        crate::exclude::Excludes::new(&self.exclude, "the plan's exclude pattern")?;
        if !self.range_len.is_power_of_two()
            || !(MIN_RANGE_LEN..=MAX_RANGE_LEN).contains(&self.range_len)
        {
            return Err(format!(
                "the plan's range length {} is not a power of two from {MIN_RANGE_LEN} to \
                 {MAX_RANGE_LEN}",
                self.range_len
            ));
        }
        if self.entries.len() > MAX_PLAN_ENTRIES {
            return Err(format!(
                "the plan lists {} entries, more than the limit of {MAX_PLAN_ENTRIES}",
                self.entries.len()
            ));
        }
        for (i, entry) in self.entries.iter().enumerate() {
            entry_path::validate(&entry.path)
                .map_err(|why| format!("the plan's entry {:?}: {why}", entry.path))?;
            if i > 0 && self.entries[i - 1].path.as_bytes() >= entry.path.as_bytes() {
                return Err(format!(
                    "the plan's entries are not sorted and unique at {:?}",
                    entry.path
                ));
            }
            let fits = match entry.kind.as_str() {
                "file" => entry.stamp.is_some() && entry.target.is_none(),
                "symlink" => entry.stamp.is_none() && entry.target.is_some(),
                "dir" => entry.stamp.is_none() && entry.target.is_none(),
                _ => false,
            };
            if !fits {
                return Err(format!(
                    "the plan's entry {:?} has a kind or fields that do not fit",
                    entry.path
                ));
            }
            if let Some(target) = &entry.target {
                check_text("a symlink target", target)?;
            }
        }
        if self.parts.is_empty() || self.parts.len() > MAX_PARTS {
            return Err(format!(
                "the plan has {} parts; 1 to {MAX_PARTS} are allowed",
                self.parts.len()
            ));
        }
        let total: usize = self.parts.iter().map(Vec::len).sum();
        if total > MAX_PIECES {
            return Err(format!(
                "the plan has {total} pieces, more than the limit of {MAX_PIECES}"
            ));
        }
        self.check_coverage()
    }

    /// Every file is covered exactly once: by one whole piece, or (when longer than the
    /// range length) by exactly its ranges; nothing else is covered.
    fn check_coverage(&self) -> Result<(), String> {
        let mut cover: Vec<Vec<(u64, u64, usize)>> = vec![Vec::new(); self.entries.len()];
        for (part, pieces) in self.parts.iter().enumerate() {
            for piece in pieces {
                usize::try_from(piece.file)
                    .ok()
                    .and_then(|i| self.entries.get(i))
                    .filter(|e| e.kind == "file")
                    .ok_or_else(|| {
                        format!(
                            "part {part} names entry {}, which is not a file of the plan",
                            piece.file
                        )
                    })?;
                cover[piece.file as usize].push((piece.start, piece.len, part));
            }
        }
        for (entry, pieces) in self.entries.iter().zip(&mut cover) {
            let Some(stamp) = entry.stamp else { continue };
            let path = &entry.path;
            pieces.sort_unstable();
            if pieces.is_empty() {
                return Err(format!("no part of the plan covers {path:?}"));
            }
            if let Some(w) = pieces.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(format!(
                    "{path:?} is covered twice, at byte {} (parts {} and {})",
                    w[0].0, w[0].2, w[1].2
                ));
            }
            let whole = pieces.len() == 1 && pieces[0].0 == 0 && pieces[0].1 == stamp.size;
            let ranges = stamp.size > self.range_len
                && pieces.len() as u64 == stamp.size.div_ceil(self.range_len)
                && pieces.iter().enumerate().all(|(k, &(start, len, _))| {
                    let expected = k as u64 * self.range_len;
                    start == expected && len == (stamp.size - expected).min(self.range_len)
                });
            if !whole && !ranges {
                return Err(format!(
                    "the pieces of {path:?} overlap, leave a gap or are not cut on the \
                     plan's {}-byte range boundaries",
                    self.range_len
                ));
            }
        }
        Ok(())
    }

    /// Check that `part` is a complete answer to part `part.part` of this plan, whose
    /// digest is `digest`: same plan, same pieces in the same order, the digests the plan
    /// asks for and findings only where checks run.
    pub fn check_part(&self, digest: &[u8; 32], part: &Part) -> Result<(), String> {
        if &part.plan.0 != digest {
            return Err(format!(
                "it belongs to another plan (plan digest {}, not {})",
                hex::encode(part.plan.0),
                hex::encode(digest)
            ));
        }
        let Some(pieces) = self.part(part.part) else {
            return Err(format!(
                "it is part {}, but the plan has parts 0 to {}",
                part.part,
                self.parts.len() - 1
            ));
        };
        if pieces.len() != part.pieces.len()
            || pieces
                .iter()
                .zip(&part.pieces)
                .any(|(a, b)| *a != Piece::of(b))
        {
            return Err(format!(
                "its pieces are not those of part {} of the plan",
                part.part
            ));
        }
        for result in &part.pieces {
            let piece = Piece::of(result);
            let path = &self.entries[piece.file as usize].path;
            let whole = self.is_whole(&piece);
            if result.sha256.is_some() != (whole && self.sha256) {
                return Err(format!(
                    "its result for {path:?} has a SHA-256 where the plan asks for none, or none \
                     where it asks for one"
                ));
            }
            if !whole && (!result.broken.is_empty() || !result.notes.is_empty()) {
                return Err(format!(
                    "its result for a range of {path:?} carries format-check findings"
                ));
            }
        }
        Ok(())
    }
}

impl Part {
    /// The deterministic CBOR encoding.
    pub fn to_cbor(&self) -> Vec<u8> {
        to_canonical(self)
    }

    /// Decode and check a part on its own (limits, texts); [`Plan::check_part`] checks
    /// it against its plan.
    pub fn from_cbor(bytes: &[u8]) -> Result<Part, String> {
        if bytes.len() as u64 > MAX_PART_BYTES {
            return Err(format!(
                "the part is {} bytes, more than the limit of {MAX_PART_BYTES}",
                bytes.len()
            ));
        }
        let part: Part = from_canonical(bytes, "the part")?;
        if part.format != PART_FORMAT {
            return Err(format!("the part's format is not `{PART_FORMAT}`"));
        }
        if part.version != SHARD_VERSION {
            return Err(format!("part version {} is not supported", part.version));
        }
        if part.node.is_empty() {
            return Err("the part names no node".into());
        }
        check_text("the part's node name", &part.node)?;
        if part.pieces.len() > MAX_PIECES {
            return Err(format!(
                "the part has {} pieces, more than the limit of {MAX_PIECES}",
                part.pieces.len()
            ));
        }
        for piece in &part.pieces {
            if piece.broken.len() > MAX_FINDINGS_PER_FILE
                || piece.notes.len() > MAX_FINDINGS_PER_FILE
            {
                return Err(format!(
                    "the part records more than {MAX_FINDINGS_PER_FILE} findings for one file"
                ));
            }
            for text in piece.broken.iter().chain(&piece.notes) {
                check_text("a finding of the part", text)?;
            }
        }
        Ok(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(size: u64) -> Option<PlanStamp> {
        Some(PlanStamp {
            size,
            mtime: (1, 2),
            ctime: (3, 4),
            ino: 5,
        })
    }

    fn plan() -> Plan {
        Plan {
            format: PLAN_FORMAT.into(),
            version: SHARD_VERSION,
            dir: "/data/run".into(),
            seed: Bytes32([7; 32]),
            sha256: false,
            checks: "lenient".into(),
            exclude: vec![],
            range_len: 1024,
            entries: vec![
                PlanEntry {
                    path: "a".into(),
                    kind: "file".into(),
                    stamp: stamp(10),
                    target: None,
                },
                PlanEntry {
                    path: "b".into(),
                    kind: "file".into(),
                    stamp: stamp(2049),
                    target: None,
                },
                PlanEntry {
                    path: "l".into(),
                    kind: "symlink".into(),
                    stamp: None,
                    target: Some("a".into()),
                },
            ],
            parts: vec![
                vec![
                    Piece {
                        file: 0,
                        start: 0,
                        len: 10,
                    },
                    Piece {
                        file: 1,
                        start: 2048,
                        len: 1,
                    },
                ],
                vec![
                    Piece {
                        file: 1,
                        start: 0,
                        len: 1024,
                    },
                    Piece {
                        file: 1,
                        start: 1024,
                        len: 1024,
                    },
                ],
            ],
        }
    }

    #[test]
    fn a_plan_round_trips_and_its_encoding_is_unique() {
        let bytes = plan().to_cbor();
        assert_eq!(Plan::from_cbor(&bytes).unwrap(), plan());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Plan::from_cbor(&longer).unwrap_err().contains("trailing"));
    }

    #[test]
    fn coverage_faults_are_named() {
        let mut twice = plan();
        let first = twice.parts[0][0];
        twice.parts[1].push(first);
        assert!(
            twice
                .validate()
                .unwrap_err()
                .contains("\"a\" is covered twice")
        );
        let mut gap = plan();
        gap.parts[1].pop();
        assert!(gap.validate().unwrap_err().contains("overlap, leave a gap"));
        let mut overlap = plan();
        overlap.parts[1][1].start = 1000;
        assert!(
            overlap
                .validate()
                .unwrap_err()
                .contains("overlap, leave a gap")
        );
        let mut none = plan();
        none.parts[0].remove(0);
        assert!(
            none.validate()
                .unwrap_err()
                .contains("no part of the plan covers \"a\"")
        );
        let mut link = plan();
        link.parts[0][0].file = 2;
        assert!(
            link.validate()
                .unwrap_err()
                .contains("not a file of the plan")
        );
        let mut unsorted = plan();
        unsorted.entries.swap(0, 1);
        assert!(unsorted.validate().unwrap_err().contains("not sorted"));
    }

    #[test]
    fn a_part_is_checked_against_its_plan() {
        let plan = plan();
        let digest = plan_digest(&plan.to_cbor());
        let result = |p: &Piece| PieceResult {
            file: p.file,
            start: p.start,
            len: p.len,
            blake3: Bytes32([0; 32]),
            sha256: None,
            broken: vec![],
            notes: vec![],
        };
        let part = Part {
            format: PART_FORMAT.into(),
            version: SHARD_VERSION,
            plan: Bytes32(digest),
            part: 1,
            node: "n1".into(),
            pieces: plan.parts[1].iter().map(result).collect(),
        };
        plan.check_part(&digest, &part).unwrap();
        let bytes = part.to_cbor();
        assert_eq!(Part::from_cbor(&bytes).unwrap(), part);
        let other = Part {
            plan: Bytes32([9; 32]),
            ..part.clone()
        };
        assert!(
            plan.check_part(&digest, &other)
                .unwrap_err()
                .contains("another plan")
        );
        let wrong_index = Part {
            part: 0,
            ..part.clone()
        };
        assert!(
            plan.check_part(&digest, &wrong_index)
                .unwrap_err()
                .contains("not those of part 0")
        );
        let out_of_range = Part {
            part: 7,
            ..part.clone()
        };
        assert!(
            plan.check_part(&digest, &out_of_range)
                .unwrap_err()
                .contains("parts 0 to 1")
        );
        let mut noted = part.clone();
        noted.pieces[0].notes.push("x".into());
        assert!(
            plan.check_part(&digest, &noted)
                .unwrap_err()
                .contains("findings")
        );
    }
}
