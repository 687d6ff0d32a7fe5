//! Streaming structure checks of Illumina binary files, fed the same chunks the hashing
//! engine hashes, so a run folder is read once.
//!
//! A [`StructureChecker`] is chosen by file name ([`StructureChecker::for_path`]), fed
//! with [`StructureChecker::update`] and closed with [`StructureChecker::finish`]. Memory
//! is bounded: only headers (a CBCL header, at most 16 MiB) and a few bytes at block
//! boundaries are buffered. The checks and the two modes are specified in
//! `spec/run-folders.md`:
//!
//! - [`StrictMode::Strict`] accepts only files exactly as the formats describe them;
//! - [`StrictMode::Lenient`] also accepts the deviations seen in real, readable public
//!   files, each recorded as a note in the [`StructureSummary`].
//!
//! [`Depth::Framing`] checks headers, sizes and block framing without inflating
//! compressed data (cheap); [`Depth::Full`] also inflates every gzip member and checks
//! its CRC-32 and size (costs about one core's inflate throughput).

use serde::{Deserialize, Serialize};

use crate::gzip::{self, Decoder, HeadInflater, Tail};

mod bcl;
mod cbcl;
mod positions;

use bcl::*;
use cbcl::*;
use positions::*;

/// Largest CBCL header accepted (a real one holds a few kilobytes of tile records).
const MAX_CBCL_HEADER: u32 = 16 << 20;
/// Longest line accepted in a `_pos.txt` file.
const MAX_POS_LINE: usize = 256;
/// The smallest possible gzip member: 10-byte header, 2-byte empty deflate, 8-byte trailer.
const MIN_GZIP_MEMBER: u32 = 20;
/// Size of the BGZF end-of-file block.
const BGZF_EOF_LEN: u64 = 28;
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// How strictly files are held to their format.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum StrictMode {
    /// Only files exactly as the formats describe them.
    Strict,
    /// Also the deviations seen in real, readable files, recorded as notes.
    #[default]
    Lenient,
}

/// How deep the checks go into compressed data.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Depth {
    /// Headers, sizes and block framing (gzip magic, BGZF block sizes, gzip trailers'
    /// sizes); compressed data is not inflated beyond the first few bytes.
    #[default]
    Framing,
    /// Everything of `Framing`, and every gzip member is inflated: CRC-32, sizes, and for
    /// BCL the quality check of every base call.
    Full,
}

/// Strictness and depth of the checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOptions {
    /// Strict or lenient.
    pub mode: StrictMode,
    /// Framing only, or full inflation.
    pub depth: Depth,
}

/// The kinds of file checked, named by their extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FileKind {
    /// `.bcl`: u32 cluster count, then one byte per cluster.
    #[serde(rename = "bcl")]
    Bcl,
    /// `.bcl.gz`: a `.bcl` in gzip.
    #[serde(rename = "bcl.gz")]
    BclGz,
    /// `.bcl.bgzf`: a per-lane `.bcl` in BGZF blocks.
    #[serde(rename = "bcl.bgzf")]
    BclBgzf,
    /// `.cbcl`: header and one gzip block per tile.
    #[serde(rename = "cbcl")]
    Cbcl,
    /// `.filter`: u32 0, u32 version, u32 count, one byte per cluster; or the old
    /// format (GA IIx, early RTA): u32 count, one byte per cluster.
    #[serde(rename = "filter")]
    Filter,
    /// `.locs`: u32 1, f32 1.0, u32 count, two f32 per cluster.
    #[serde(rename = "locs")]
    Locs,
    /// `.clocs`: u8 version, u32 bin count, bins of byte pairs.
    #[serde(rename = "clocs")]
    Clocs,
    /// `s_<lane>_<tile>_pos.txt`: one `x y` line per cluster.
    #[serde(rename = "pos.txt")]
    PosText,
}

impl FileKind {
    /// The kind a file name says, if it is one of the checked kinds.
    pub fn of_path(path: &str) -> Option<FileKind> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let kinds = [
            (".bcl.bgzf", FileKind::BclBgzf),
            (".bcl.gz", FileKind::BclGz),
            (".bcl", FileKind::Bcl),
            (".cbcl", FileKind::Cbcl),
            (".filter", FileKind::Filter),
            (".clocs", FileKind::Clocs),
            (".locs", FileKind::Locs),
            ("_pos.txt", FileKind::PosText),
        ];
        kinds
            .iter()
            .find(|(suffix, _)| name.len() > suffix.len() && name.ends_with(suffix))
            .map(|(_, kind)| *kind)
    }

    /// The kind's name as written in bundles and reports.
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Bcl => "bcl",
            FileKind::BclGz => "bcl.gz",
            FileKind::BclBgzf => "bcl.bgzf",
            FileKind::Cbcl => "cbcl",
            FileKind::Filter => "filter",
            FileKind::Locs => "locs",
            FileKind::Clocs => "clocs",
            FileKind::PosText => "pos.txt",
        }
    }
}

/// What a passing check found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StructureSummary {
    /// The kind of file.
    pub kind: FileKind,
    /// Clusters the file describes (for CBCL, summed over its tiles).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub clusters: Option<u64>,
    /// Deviations accepted in lenient mode, one sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
}

/// A structurally broken file: its path, kind and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{path}: not a valid {} file: {reason}", .kind.name())]
pub struct StructureError {
    /// The path given to [`StructureChecker::for_path`].
    pub path: String,
    /// The kind of file it was checked as.
    pub kind: FileKind,
    /// What is wrong.
    pub reason: String,
}

/// A streaming structure check of one file.
pub struct StructureChecker {
    path: String,
    kind: FileKind,
    seen: u64,
    failure: Option<String>,
    inner: Inner,
}

enum Inner {
    Bcl(BclBody),
    GzFull {
        decoder: Box<Decoder>,
        body: BclBody,
        bgzf: bool,
        last: Option<gzip::Member>,
    },
    GzFraming(Box<GzFraming>),
    BgzfFraming(Box<BgzfWalker>),
    Cbcl(Box<Cbcl>),
    Filter(Filter),
    Locs(Locs),
    Clocs(Clocs),
    Pos(Pos),
}

/// The outcome of an inner check.
#[derive(Default)]
struct Outcome {
    clusters: Option<u64>,
    notes: Vec<String>,
}

impl StructureChecker {
    /// A checker for the file at `path` (relative or not; only its name matters), or
    /// `None` when the name is not one of the checked kinds.
    pub fn for_path(path: &str, options: CheckOptions) -> Option<StructureChecker> {
        let kind = FileKind::of_path(path)?;
        let mode = options.mode;
        let full = options.depth == Depth::Full;
        let inner = match kind {
            FileKind::Bcl => Inner::Bcl(BclBody::new(mode, None)),
            FileKind::BclGz | FileKind::BclBgzf if full => Inner::GzFull {
                decoder: Box::default(),
                body: BclBody::new(mode, None),
                bgzf: kind == FileKind::BclBgzf,
                last: None,
            },
            FileKind::BclGz => Inner::GzFraming(Box::new(GzFraming::new(mode))),
            FileKind::BclBgzf => Inner::BgzfFraming(Box::new(BgzfWalker::new(mode, true))),
            FileKind::Cbcl => Inner::Cbcl(Box::new(Cbcl::new(mode, full))),
            FileKind::Filter => Inner::Filter(Filter::default()),
            FileKind::Locs => Inner::Locs(Locs::new(mode)),
            FileKind::Clocs => Inner::Clocs(Clocs::default()),
            FileKind::PosText => Inner::Pos(Pos::default()),
        };
        let mut checker = StructureChecker {
            path: path.to_string(),
            kind,
            seen: 0,
            failure: None,
            inner,
        };
        if kind == FileKind::PosText && !pos_name_ok(path) {
            checker.failure = Some(
                "the name is not s_<lane>_<tile>_pos.txt, so lane and tile are unknown".into(),
            );
        }
        Some(checker)
    }

    /// Tell the checker the file's size in advance, so that a header that disagrees with
    /// it fails at once and the rest of the file is not examined (the hashing engine
    /// knows the size when it opens the file). Optional.
    pub fn with_len(mut self, len: u64) -> StructureChecker {
        match &mut self.inner {
            Inner::Bcl(body) => body.len_hint = Some(len),
            Inner::Filter(f) => f.len_hint = Some(len),
            Inner::Locs(l) => l.len_hint = Some(len),
            _ => {}
        }
        self
    }

    /// The kind of file being checked.
    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// True once the file is known to be broken; further chunks are ignored, so the
    /// caller may stop feeding.
    pub fn has_failed(&self) -> bool {
        self.failure.is_some()
    }

    /// Feed the next chunk of the file.
    pub fn update(&mut self, chunk: &[u8]) {
        if self.failure.is_some() {
            return;
        }
        self.seen += chunk.len() as u64;
        let result = match &mut self.inner {
            Inner::Bcl(body) => body.update(chunk),
            Inner::GzFull {
                decoder,
                body,
                bgzf,
                last,
            } => gz_full_update(decoder, body, *bgzf, last, chunk),
            Inner::GzFraming(g) => g.update(chunk),
            Inner::BgzfFraming(w) => w.update(chunk),
            Inner::Cbcl(c) => c.update(chunk),
            Inner::Filter(f) => f.update(chunk),
            Inner::Locs(l) => l.update(chunk),
            Inner::Clocs(c) => c.update(chunk),
            Inner::Pos(p) => p.update(chunk),
        };
        if let Err(reason) = result {
            self.failure = Some(reason);
        }
    }

    /// Finish the check; `total_len` is the file's size, which must equal the bytes fed.
    pub fn finish(self, total_len: u64) -> Result<StructureSummary, StructureError> {
        let fail = |reason: String| StructureError {
            path: self.path.clone(),
            kind: self.kind,
            reason,
        };
        if let Some(reason) = self.failure {
            return Err(fail(reason));
        }
        if total_len != self.seen {
            return Err(fail(format!(
                "{} bytes were checked but the file has {total_len}",
                self.seen
            )));
        }
        let outcome = match self.inner {
            Inner::Bcl(body) => body.finish(),
            Inner::GzFull {
                decoder,
                body,
                bgzf,
                last,
            } => gz_full_finish(&decoder, body, bgzf, last),
            Inner::GzFraming(g) => g.finish(),
            Inner::BgzfFraming(w) => w.finish_bcl(),
            Inner::Cbcl(c) => c.finish(),
            Inner::Filter(f) => f.finish(),
            Inner::Locs(l) => l.finish(),
            Inner::Clocs(c) => c.finish(),
            Inner::Pos(p) => p.finish(),
        }
        .map_err(fail)?;
        Ok(StructureSummary {
            kind: self.kind,
            clusters: outcome.clusters,
            notes: outcome.notes,
        })
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Fill `buf` up to `want` bytes from the front of `data`; returns the bytes taken.
fn fill(buf: &mut Vec<u8>, want: usize, data: &[u8]) -> usize {
    let take = want.saturating_sub(buf.len()).min(data.len());
    buf.extend_from_slice(&data[..take]);
    take
}

#[cfg(test)]
mod tests {
    /// The vectorised census of called bases with quality 0 or 1 (bytes 1 to 7) and of
    /// qualities above 41 (bytes 168 to 255) agrees with a plain count, at every length
    /// around its blocks of 64 bytes and for every byte value.
    #[test]
    fn quality_census_agrees_with_a_plain_count() {
        let data: Vec<u8> = (0..40_000u32).map(|i| (i * 37 % 256) as u8).collect();
        for len in (0..600).chain([2999, 3000, 16_319, 16_320, 16_321, 40_000]) {
            let low = data[..len]
                .iter()
                .filter(|&&b| (1..=7).contains(&b))
                .count() as u64;
            let high = data[..len].iter().filter(|&&b| b >= 168).count() as u64;
            assert_eq!(
                super::quality_census(&data[..len]),
                (low, high),
                "length {len}"
            );
        }
        assert_eq!(super::quality_census(&[7u8; 40_000]), (40_000, 0));
        assert_eq!(super::quality_census(&[0u8, 8, 255, 1, 167, 168]), (1, 2));
    }

    use super::*;
    use crate::gzip::tests::{bgzf, gzip};

    const ALL: [CheckOptions; 4] = [
        CheckOptions {
            mode: StrictMode::Strict,
            depth: Depth::Framing,
        },
        CheckOptions {
            mode: StrictMode::Strict,
            depth: Depth::Full,
        },
        CheckOptions {
            mode: StrictMode::Lenient,
            depth: Depth::Framing,
        },
        CheckOptions {
            mode: StrictMode::Lenient,
            depth: Depth::Full,
        },
    ];

    /// Check `data` as `path`, fed in pieces of `piece` bytes.
    pub(crate) fn check(
        path: &str,
        data: &[u8],
        options: CheckOptions,
        piece: usize,
    ) -> Result<StructureSummary, StructureError> {
        let mut checker = StructureChecker::for_path(path, options).expect("a checked kind");
        for chunk in data.chunks(piece.max(1)) {
            checker.update(chunk);
        }
        checker.finish(data.len() as u64)
    }

    fn check_all(path: &str, data: &[u8]) -> Vec<Result<StructureSummary, StructureError>> {
        let mut out = Vec::new();
        for options in ALL {
            for piece in [1, 3, 17, 4096, usize::MAX] {
                out.push(check(path, data, options, piece));
            }
        }
        out
    }

    fn bcl(clusters: &[u8]) -> Vec<u8> {
        let mut out = (clusters.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(clusters);
        out
    }

    /// A CBCL file with the given (clusters, uncompressed payload) tiles.
    pub(crate) fn cbcl(tiles: &[(u32, Vec<u8>)], short_by_one: &[usize]) -> Vec<u8> {
        let blocks: Vec<Vec<u8>> = tiles.iter().map(|(_, data)| gzip(data, 6)).collect();
        let mut out = Vec::new();
        let size = 17 + 8 * 4 + 16 * tiles.len() as u32;
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&[2, 2]);
        out.extend_from_slice(&4u32.to_le_bytes());
        for (from, to) in [(0u32, 0u32), (1, 12), (2, 23), (3, 37)] {
            out.extend_from_slice(&from.to_le_bytes());
            out.extend_from_slice(&to.to_le_bytes());
        }
        out.extend_from_slice(&(tiles.len() as u32).to_le_bytes());
        for (i, ((clusters, data), block)) in tiles.iter().zip(&blocks).enumerate() {
            let declared = block.len() as u32 - u32::from(short_by_one.contains(&i));
            for v in [1101 + i as u32, *clusters, data.len() as u32, declared] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out.push(1);
        for block in blocks {
            out.extend_from_slice(&block);
        }
        out
    }

    #[test]
    fn bcl_size_and_quality() {
        let good = bcl(&[0x00, 0x1c, 0x93, 0xa7]);
        assert!(
            check_all("C1.1/s_1_1101.bcl", &good)
                .iter()
                .all(Result::is_ok)
        );
        let mut long = good.clone();
        long.push(0x40);
        assert!(check_all("s_1_1.bcl", &long).iter().all(Result::is_err));
        assert!(
            check_all("s_1_1.bcl", &good[..6])
                .iter()
                .all(Result::is_err)
        );
        assert!(
            check_all("s_1_1.bcl", &good[..2])
                .iter()
                .all(Result::is_err)
        );
        let low = bcl(&[0x05, 0x93]);
        let strict = check("a.bcl", &low, ALL[0], 9).unwrap_err();
        assert!(strict.reason.contains("quality 0 or 1"), "{strict}");
        let lenient = check("a.bcl", &low, ALL[2], 9).unwrap();
        assert_eq!(lenient.notes.len(), 1);
        let hinted = {
            let mut c = StructureChecker::for_path("a.bcl", ALL[0])
                .unwrap()
                .with_len(99);
            c.update(&good[..4]);
            c.has_failed()
        };
        assert!(hinted, "a size hint fails a wrong header at once");
    }

    /// Issue 12 item 23: a per-tile BCL whose second half holds qualities 61-63 (and many
    /// 0/1 qualities) is broken in every mode: no instrument writes a quality above 41.
    #[test]
    fn quality_above_41_is_broken_in_every_mode() {
        let mut calls: Vec<u8> = (0..2000u32)
            .map(|i| if i % 3 == 0 { 0x05 } else { 0x93 })
            .collect();
        for (i, call) in calls.iter_mut().enumerate().skip(1000) {
            *call = ((61 + (i % 3) as u8) << 2) | (i % 4) as u8;
        }
        for result in check_all("C1.1/s_1_1101.bcl", &bcl(&calls)) {
            let err = result.unwrap_err();
            assert!(err.reason.contains("above 41"), "{err}");
            assert!(err.reason.contains("first at cluster 1001"), "{err}");
        }
        // Quality 41 itself is accepted.
        let top = bcl(&[(41 << 2) | 3, 41 << 2]);
        assert!(check_all("s_1_1101.bcl", &top).iter().all(Result::is_ok));
        // Inside gzip, the calls are read at full depth.
        let gz = gzip(&bcl(&calls), 6);
        assert!(check("s_1_1101.bcl.gz", &gz, ALL[3], 4096).is_err());
    }

    #[test]
    fn bcl_gz_and_bgzf_in_both_depths() {
        let data = bcl(&[0x93; 100_000]);
        let gz = gzip(&data, 6);
        for result in check_all("s_1_1101.bcl.gz", &gz) {
            assert_eq!(result.unwrap().clusters, Some(100_000));
        }
        let blocked = bgzf(&data, 30_000);
        for result in check_all("0001.bcl.bgzf", &blocked) {
            assert_eq!(result.unwrap().clusters, Some(100_000));
        }
        for result in check_all("s_1_1101.bcl.gz", &blocked) {
            assert_eq!(result.unwrap().clusters, Some(100_000));
        }
        // Truncated at a block boundary: the EOF block is missing.
        let cut = &blocked[..blocked.len() - 28];
        assert!(check("0001.bcl.bgzf", cut, ALL[0], 4096).is_err());
        let lenient = check("0001.bcl.bgzf", cut, ALL[2], 4096).unwrap();
        assert_eq!(lenient.notes.len(), 1);
        // Truncated inside a block, and inside the only gzip member.
        assert!(
            check_all("0001.bcl.bgzf", &blocked[..blocked.len() - 40])
                .iter()
                .all(Result::is_err)
        );
        assert!(
            check_all("s.bcl.gz", &gz[..gz.len() - 1])
                .iter()
                .all(Result::is_err)
        );
        // Wrong cluster count inside the compressed data.
        let wrong = gzip(&bcl(&[0x93; 10])[..13], 6);
        assert!(check_all("s.bcl.gz", &wrong).iter().all(Result::is_err));
        // A flipped byte inside the deflate data: only full depth inflates it.
        let noisy: Vec<u8> = (0..50_000u32)
            .map(|i| 8 + (i.wrapping_mul(2_654_435_761) >> 24) as u8 % 160)
            .collect();
        let gz = gzip(&bcl(&noisy), 6);
        assert!(check("s.bcl.gz", &gz, ALL[1], 4096).is_ok());
        let mut flipped = gz.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        let r = check("s.bcl.gz", &flipped, ALL[1], 4096);
        assert!(r.is_err(), "{} {mid} {r:?}", gz.len());
    }

    #[test]
    fn cbcl_framing_strict_and_lenient() {
        let tiles = vec![
            (100, (0..50u8).collect::<Vec<u8>>()),
            (0, Vec::new()),
            (80, vec![0x33; 40]),
        ];
        let good = cbcl(&tiles, &[]);
        for result in check_all("L001_1.cbcl", &good) {
            assert_eq!(result.unwrap().clusters, Some(180));
        }
        for short in [vec![0], vec![2], vec![0, 2]] {
            let file = cbcl(&tiles, &short);
            for options in ALL {
                for piece in [1, 5, 4096] {
                    let result = check("L001_1.cbcl", &file, options, piece);
                    match options.mode {
                        StrictMode::Strict => assert!(result.is_err(), "{short:?} {options:?}"),
                        StrictMode::Lenient => {
                            let summary = result.unwrap();
                            assert_eq!(summary.notes.len(), short.len(), "{short:?} {options:?}");
                        }
                    }
                }
            }
        }
        let mut bad_header = good.clone();
        bad_header[2] = 0x52;
        assert!(
            check_all("L001_1.cbcl", &bad_header)
                .iter()
                .all(Result::is_err)
        );
        assert!(
            check_all("L001_1.cbcl", &good[..good.len() - 1])
                .iter()
                .all(Result::is_err)
        );
        let mut extra = good.clone();
        extra.extend_from_slice(b"xy");
        assert!(check_all("L001_1.cbcl", &extra).iter().all(Result::is_err));
    }

    #[test]
    fn filter_locs_clocs_pos() {
        let mut filter = vec![0, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0];
        filter.extend_from_slice(&[1, 0, 1]);
        assert!(
            check_all("s_1_1101.filter", &filter)
                .iter()
                .all(Result::is_ok)
        );
        let mut two = filter.clone();
        two[13] = 2;
        assert!(
            check_all("s_1_1101.filter", &two)
                .iter()
                .all(Result::is_err)
        );
        let mut locs = vec![1, 0, 0, 0];
        locs.extend_from_slice(&1.0f32.to_le_bytes());
        locs.extend_from_slice(&2u32.to_le_bytes());
        locs.extend_from_slice(&[0; 16]);
        assert!(check_all("s.locs", &locs).iter().all(Result::is_ok));
        let mut more = locs.clone();
        more.extend_from_slice(&[0; 8]);
        assert!(check("s.locs", &more, ALL[0], 7).is_err());
        assert_eq!(check("s.locs", &more, ALL[2], 7).unwrap().notes.len(), 1);
        let clocs = [1, 2, 0, 0, 0, 1, 9, 9, 0];
        assert_eq!(
            check("s_1_1.clocs", &clocs, ALL[0], 2).unwrap().clusters,
            Some(1)
        );
        assert!(check("s_1_1.clocs", &clocs[..8], ALL[0], 2).is_err());
        assert!(check("s_1_2_pos.txt", b"1.5 2\n3 4.25", ALL[0], 3).is_ok());
        assert!(check("s_1_2_pos.txt", b"1.5 -2\n", ALL[0], 3).is_err());
        assert!(check("pos_x_pos.txt", b"1 2\n", ALL[0], 3).is_err());
    }

    /// Issue 12 item 26: the old filter format (GA IIx / early RTA: a u32 cluster count,
    /// then one byte 0 or 1 per cluster, no version header) is accepted, with the same
    /// checks of size and values as version 3.
    #[test]
    fn legacy_filter_format_is_accepted() {
        let legacy = [3, 0, 0, 0, 1, 0, 1];
        for result in check_all("s_1_1101.filter", &legacy) {
            assert_eq!(result.unwrap().clusters, Some(3));
        }
        for result in check_all("s_1_1101.filter", &[0, 0, 0, 0]) {
            assert_eq!(result.unwrap().clusters, Some(0));
        }
        for result in check_all("s_1_1101.filter", &[3, 0, 0, 0, 1, 2, 1]) {
            let err = result.unwrap_err();
            assert!(err.reason.contains("pass-filter value 2"), "{err}");
        }
        for bad in [&[2u8, 0, 0, 0, 1][..], &[2, 0, 0, 0, 1, 1, 1], &[2, 0, 0]] {
            assert!(
                check_all("s_1_1101.filter", bad).iter().all(Result::is_err),
                "{bad:?}"
            );
        }
        // A versioned header of another version, or cut short, stays broken.
        assert!(
            check_all("s_1_1101.filter", &[0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1])
                .iter()
                .all(Result::is_err)
        );
        assert!(
            check_all("s_1_1101.filter", &[0, 0, 0, 0, 3, 0])
                .iter()
                .all(Result::is_err)
        );
    }

    #[test]
    fn names_select_kinds() {
        assert_eq!(
            FileKind::of_path("a/0001.bcl.bgzf"),
            Some(FileKind::BclBgzf)
        );
        assert_eq!(FileKind::of_path("s_1_1.bcl.gz"), Some(FileKind::BclGz));
        assert_eq!(FileKind::of_path("x.clocs"), Some(FileKind::Clocs));
        assert_eq!(FileKind::of_path("x.fastq.gz"), None);
        assert_eq!(FileKind::of_path(".bcl"), None);
        assert!(StructureChecker::for_path("RunInfo.xml", CheckOptions::default()).is_none());
    }
}
