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

use super::gzip::{self, Decoder, HeadInflater, Tail};

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
    /// `.filter`: u32 0, u32 version, u32 count, one byte per cluster.
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

// ---------------------------------------------------------------------------------------
// BCL

/// The uncompressed BCL stream: u32 cluster count, then one byte per cluster (bits 0-1
/// base, bits 2-7 quality; 0 is a no-call).
struct BclBody {
    mode: StrictMode,
    len_hint: Option<u64>,
    header: Vec<u8>,
    count: u64,
    body: u64,
    low_quality: u64,
}

impl BclBody {
    fn new(mode: StrictMode, len_hint: Option<u64>) -> BclBody {
        BclBody {
            mode,
            len_hint,
            header: Vec::with_capacity(4),
            count: 0,
            body: 0,
            low_quality: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
        if self.header.len() < 4 {
            let n = fill(&mut self.header, 4, data);
            data = &data[n..];
            if self.header.len() == 4 {
                self.count = u64::from(u32_at(&self.header, 0));
                if let Some(len) = self.len_hint {
                    self.check_size(len.saturating_sub(4))?;
                }
            }
        }
        self.body += data.len() as u64;
        if self.body > self.count {
            return Err(self.size_error(self.body));
        }
        // A called base (non-zero byte) with quality 0 or 1: bytes 1..=7.
        self.low_quality += low_quality_calls(data);
        Ok(())
    }

    fn size_error(&self, body: u64) -> String {
        format!(
            "the header declares {} clusters ({} bytes) but the file holds {} bytes after it",
            self.count,
            self.count + 4,
            if body > self.count {
                format!("at least {body}")
            } else {
                body.to_string()
            }
        )
    }

    fn check_size(&self, body: u64) -> Result<(), String> {
        if body == self.count {
            Ok(())
        } else {
            Err(format!(
                "the header declares {} clusters ({} bytes) but the data holds {body} bytes after it",
                self.count,
                self.count + 4
            ))
        }
    }

    fn finish(self) -> Result<Outcome, String> {
        if self.header.len() < 4 {
            return Err(format!(
                "{} bytes: shorter than the 4-byte cluster count",
                self.header.len()
            ));
        }
        self.check_size(self.body)?;
        let mut notes = Vec::new();
        if self.low_quality > 0 {
            let what = format!(
                "{} called bases have quality 0 or 1, below Illumina's minimum of 2",
                self.low_quality
            );
            match self.mode {
                StrictMode::Strict => return Err(what),
                StrictMode::Lenient => notes.push(what),
            }
        }
        Ok(Outcome {
            clusters: Some(self.count),
            notes,
        })
    }
}

/// Count bytes 1..=7 (a called base with quality 0 or 1). Blocks of 64 bytes are first
/// tested with a branch-free OR that the compiler vectorises; only blocks with a hit are
/// counted exactly, so clean data costs a fraction of hashing it.
/// Compiled for AVX-512 and AVX2 as well, chosen at run time: this loop runs over every
/// byte of every BCL file that is sealed.
#[multiversion::multiversion(targets("x86_64+avx512bw+avx512f", "x86_64+avx2"))]
fn low_quality_calls(data: &[u8]) -> u64 {
    // Such calls are rare in real data: test 64 bytes at once, count only where one is.
    let low = |b: u8| b.wrapping_sub(1) < 7;
    let mut blocks = data.chunks_exact(64);
    let mut count = 0u64;
    for block in &mut blocks {
        let block: &[u8; 64] = block.try_into().expect("chunks_exact gives 64 bytes");
        if block.iter().fold(false, |any, &b| any | low(b)) {
            count += block.iter().filter(|&&b| low(b)).count() as u64;
        }
    }
    count + blocks.remainder().iter().filter(|&&b| low(b)).count() as u64
}

fn gz_full_update(
    decoder: &mut Decoder,
    body: &mut BclBody,
    bgzf: bool,
    last: &mut Option<gzip::Member>,
    mut data: &[u8],
) -> Result<(), String> {
    let mut inner: Result<(), String> = Ok(());
    while !data.is_empty() {
        let (used, member) = decoder.push(data, &mut |bytes| {
            if inner.is_ok() {
                inner = body.update(bytes);
            }
        })?;
        inner.clone()?;
        data = &data[used..];
        if let Some(member) = member {
            if bgzf && member.bgzf_bsize.is_none() {
                return Err(format!(
                    "gzip member {} is not a BGZF block (no BC extra field)",
                    member.index + 1
                ));
            }
            *last = Some(member);
        }
    }
    Ok(())
}

fn gz_full_finish(
    decoder: &Decoder,
    body: BclBody,
    bgzf: bool,
    last: Option<gzip::Member>,
) -> Result<Outcome, String> {
    decoder.finish()?;
    let mut notes = Vec::new();
    if bgzf && !last.is_some_and(is_bgzf_eof) {
        let what =
            "there is no BGZF end-of-file block (the file may have been cut at a block boundary)";
        match body.mode {
            StrictMode::Strict => return Err(what.into()),
            StrictMode::Lenient => notes.push(what.to_string()),
        }
    }
    let mut outcome = body.finish()?;
    outcome.notes.splice(0..0, notes);
    Ok(outcome)
}

fn is_bgzf_eof(member: gzip::Member) -> bool {
    member.uncompressed == 0 && member.compressed == BGZF_EOF_LEN
}

/// `.bcl.gz` without inflating: the gzip header, the cluster count from the first
/// decompressed bytes, and the trailer's ISIZE against it. A file whose first member is a
/// BGZF block is walked block by block instead.
struct GzFraming {
    mode: StrictMode,
    header: Vec<u8>,
    head: HeadInflater,
    tail: Tail,
    single: bool,
    bgzf: Option<BgzfWalker>,
}

impl GzFraming {
    fn new(mode: StrictMode) -> GzFraming {
        GzFraming {
            mode,
            header: Vec::new(),
            head: HeadInflater::new(4),
            tail: Tail::default(),
            single: false,
            bgzf: None,
        }
    }

    fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
        if let Some(walker) = &mut self.bgzf {
            return walker.update(data);
        }
        if !self.single {
            while !data.is_empty() {
                let before = self.header.len();
                let want = before + gzip::header_want(&self.header);
                let n = fill(&mut self.header, want, data);
                match gzip::parse_header(&self.header)? {
                    None => data = &data[n..],
                    Some(header) => {
                        data = &data[header.len - before..];
                        if header.bgzf_bsize.is_some() {
                            let mut walker = BgzfWalker::new(self.mode, true);
                            walker.update(&self.header[..header.len])?;
                            walker.update(data)?;
                            self.bgzf = Some(walker);
                            return Ok(());
                        }
                        self.single = true;
                        self.tail.push(&self.header[..header.len]);
                        break;
                    }
                }
            }
        }
        if !self.head.done() {
            self.head.feed(data)?;
        }
        self.tail.push(data);
        Ok(())
    }

    fn finish(self) -> Result<Outcome, String> {
        if let Some(walker) = self.bgzf {
            return walker.finish_bcl();
        }
        if !self.single {
            return Err("shorter than a gzip header".into());
        }
        let head = self.head.bytes();
        if head.len() < 4 {
            return Err("the compressed data does not hold the 4-byte cluster count".into());
        }
        let count = u32_at(head, 0);
        let isize = self
            .tail
            .u32_ending(0)
            .filter(|_| self.tail.last(8).is_some())
            .ok_or("shorter than a gzip trailer")?;
        let expected = count.wrapping_add(4);
        if isize != expected {
            return Err(format!(
                "the gzip trailer says {isize} decompressed bytes but the cluster count {count} \
                 needs {} (truncated, or not a single gzip member)",
                u64::from(count) + 4
            ));
        }
        Ok(Outcome {
            clusters: Some(u64::from(count)),
            notes: Vec::new(),
        })
    }
}

/// BGZF without inflating: every block's header, `BSIZE` and trailer `ISIZE`, and the
/// end-of-file block; optionally the first four decompressed bytes (a BCL cluster count).
struct BgzfWalker {
    mode: StrictMode,
    pos: u64,
    block_start: u64,
    header: Vec<u8>,
    block_len: Option<u64>,
    tail: Tail,
    blocks: u64,
    total: u64,
    last: Option<(u64, u32)>,
    head: Option<HeadInflater>,
}

impl BgzfWalker {
    fn new(mode: StrictMode, want_count: bool) -> BgzfWalker {
        BgzfWalker {
            mode,
            pos: 0,
            block_start: 0,
            header: Vec::with_capacity(18),
            block_len: None,
            tail: Tail::default(),
            blocks: 0,
            total: 0,
            last: None,
            head: want_count.then(|| HeadInflater::new(4)),
        }
    }

    fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
        while !data.is_empty() {
            match self.block_len {
                None => {
                    let before = self.header.len();
                    let want = before + gzip::header_want(&self.header);
                    let n = fill(&mut self.header, want, data);
                    let parsed = gzip::parse_header(&self.header)
                        .map_err(|e| format!("BGZF block {}: {e}", self.blocks + 1))?;
                    let Some(header) = parsed else {
                        data = &data[n..];
                        self.pos += n as u64;
                        continue;
                    };
                    let consumed = header.len - before;
                    data = &data[consumed..];
                    self.pos += consumed as u64;
                    let bsize = header.bgzf_bsize.ok_or_else(|| {
                        format!(
                            "gzip member {} is not a BGZF block (no BC extra field)",
                            self.blocks + 1
                        )
                    })?;
                    let len = u64::from(bsize) + 1;
                    if len < header.len as u64 + 2 + 8 {
                        return Err(format!(
                            "BGZF block {}: BSIZE {bsize} is too small to hold a block",
                            self.blocks + 1
                        ));
                    }
                    self.block_len = Some(len);
                    self.tail.clear();
                }
                Some(len) => {
                    let end = self.block_start + len;
                    let take = ((end - self.pos) as usize).min(data.len());
                    let bytes = &data[..take];
                    self.tail.push(bytes);
                    if let Some(head) = self.head.as_mut().filter(|h| self.blocks == 0 && !h.done())
                    {
                        head.feed(bytes).map_err(|e| format!("BGZF block 1: {e}"))?;
                    }
                    self.pos += take as u64;
                    data = &data[take..];
                    if self.pos == end {
                        let isize = self
                            .tail
                            .u32_ending(0)
                            .expect("a block is longer than 8 bytes");
                        if isize > 65_536 {
                            return Err(format!(
                                "BGZF block {}: ISIZE {isize} is larger than a BGZF block can hold",
                                self.blocks + 1
                            ));
                        }
                        self.total += u64::from(isize);
                        self.last = Some((len, isize));
                        self.blocks += 1;
                        self.block_start = end;
                        self.block_len = None;
                        self.header.clear();
                    }
                }
            }
        }
        Ok(())
    }

    /// Check the framing ended cleanly; returns the notes and the decompressed total.
    fn finish(&self) -> Result<(Vec<String>, u64), String> {
        if self.block_len.is_some() || !self.header.is_empty() {
            return Err(format!(
                "truncated: the file ends inside BGZF block {}",
                self.blocks + 1
            ));
        }
        if self.blocks == 0 {
            return Err("empty: no BGZF block".into());
        }
        let mut notes = Vec::new();
        if self.last != Some((BGZF_EOF_LEN, 0)) {
            let what = "there is no BGZF end-of-file block (the file may have been cut at a block boundary)";
            match self.mode {
                StrictMode::Strict => return Err(what.into()),
                StrictMode::Lenient => notes.push(what.to_string()),
            }
        }
        Ok((notes, self.total))
    }

    fn finish_bcl(self) -> Result<Outcome, String> {
        let (notes, total) = self.finish()?;
        let head = self.head.as_ref().map(HeadInflater::bytes).unwrap_or(&[]);
        if head.len() < 4 {
            return Err("the first block does not hold the 4-byte cluster count".into());
        }
        let count = u64::from(u32_at(head, 0));
        if total != count + 4 {
            return Err(format!(
                "the header declares {count} clusters ({} bytes) but the blocks hold {total} bytes",
                count + 4
            ));
        }
        Ok(Outcome {
            clusters: Some(count),
            notes,
        })
    }
}

// ---------------------------------------------------------------------------------------
// CBCL

/// One tile record of a CBCL header.
#[derive(Clone, Copy, Debug)]
struct TileRecord {
    tile: u32,
    clusters: u32,
    uncompressed: u32,
    compressed: u32,
}

/// The parsed CBCL header.
struct CbclHeader {
    size: u32,
    tiles: Vec<TileRecord>,
}

fn parse_cbcl_header(
    buf: &[u8],
    mode: StrictMode,
    notes: &mut Vec<String>,
) -> Result<CbclHeader, String> {
    let version = u16::from_le_bytes([buf[0], buf[1]]);
    let size = u32_at(buf, 2);
    if version != 1 {
        let what = format!("version {version} (this check knows version 1)");
        match mode {
            StrictMode::Strict => return Err(what),
            StrictMode::Lenient => notes.push(what),
        }
    }
    let bits_base = buf[6];
    let bits_quality = buf[7];
    if bits_base != 2 {
        return Err(format!("{bits_base} bits per base call (expected 2)"));
    }
    if !(1..=8).contains(&bits_quality) {
        return Err(format!(
            "{bits_quality} bits per quality score (expected 1 to 8)"
        ));
    }
    let bins = u32_at(buf, 8) as usize;
    if bins > 1 << bits_quality {
        return Err(format!(
            "{bins} quality bins do not fit in {bits_quality} bits"
        ));
    }
    let tiles_at = 12 + 8 * bins;
    if tiles_at + 4 + 1 > buf.len() {
        return Err(format!(
            "header size field says {size} bytes, too small for {bins} quality bins"
        ));
    }
    let tile_count = u32_at(buf, tiles_at) as usize;
    let expected = 17 + 8 * bins + 16 * tile_count;
    if expected != size as usize {
        return Err(format!(
            "header size field says {size} bytes but {bins} bins and {tile_count} tiles make {expected}"
        ));
    }
    let mut tiles = Vec::with_capacity(tile_count);
    for i in 0..tile_count {
        let at = tiles_at + 4 + 16 * i;
        let record = TileRecord {
            tile: u32_at(buf, at),
            clusters: u32_at(buf, at + 4),
            uncompressed: u32_at(buf, at + 8),
            compressed: u32_at(buf, at + 12),
        };
        let bits = u64::from(record.clusters) * u64::from(bits_base + bits_quality);
        if u64::from(record.uncompressed) > bits.div_ceil(8) {
            return Err(format!(
                "tile {}: {} uncompressed bytes are more than {} clusters need",
                record.tile, record.uncompressed, record.clusters
            ));
        }
        if record.compressed == 0 && record.uncompressed != 0 {
            return Err(format!(
                "tile {}: {} uncompressed bytes but no compressed block",
                record.tile, record.uncompressed
            ));
        }
        if record.compressed != 0 && record.compressed < MIN_GZIP_MEMBER {
            return Err(format!(
                "tile {}: a compressed block of {} bytes is smaller than the smallest gzip \
                 member ({MIN_GZIP_MEMBER} bytes)",
                record.tile, record.compressed
            ));
        }
        tiles.push(record);
    }
    let excluded = buf[size as usize - 1];
    if excluded > 1 {
        return Err(format!(
            "the non-PF-excluded flag is {excluded} (expected 0 or 1)"
        ));
    }
    tiles.retain(|t| t.compressed > 0);
    Ok(CbclHeader { size, tiles })
}

/// Where the CBCL check stands.
enum CbclPhase {
    /// Reading the header.
    Header,
    /// Reading block `i` (framing); `magic` collects its first three bytes.
    Block { i: usize, magic: Vec<u8> },
    /// Block `i` ended at its declared size; `look` collects the bytes after it.
    Boundary { i: usize, look: Vec<u8>, tail: Tail },
    /// Every block read (full depth feeds members to the decoder).
    Inflating { i: usize },
    /// All blocks done; more bytes are an error.
    Done,
}

/// A `.cbcl` file: header, then one gzip block per tile (see the testdata README).
struct Cbcl {
    mode: StrictMode,
    full: bool,
    header_buf: Vec<u8>,
    header: Option<CbclHeader>,
    phase: CbclPhase,
    pos: u64,
    block_start: u64,
    tail: Tail,
    decoder: Option<Box<Decoder>>,
    notes: Vec<String>,
}

impl Cbcl {
    fn new(mode: StrictMode, full: bool) -> Cbcl {
        Cbcl {
            mode,
            full,
            header_buf: Vec::new(),
            header: None,
            phase: CbclPhase::Header,
            pos: 0,
            block_start: 0,
            tail: Tail::default(),
            decoder: full.then(Box::default),
            notes: Vec::new(),
        }
    }

    fn tiles(&self) -> &[TileRecord] {
        &self.header.as_ref().expect("header parsed").tiles
    }

    fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
        while !data.is_empty() {
            let n = self.step(data)?;
            self.pos += n as u64;
            data = &data[n..];
        }
        Ok(())
    }

    /// Consume some bytes from the front of `data` (at least one) and return how many.
    fn step(&mut self, data: &[u8]) -> Result<usize, String> {
        match &mut self.phase {
            CbclPhase::Header => {
                let want = if self.header_buf.len() < 6 {
                    6
                } else {
                    let size = u32_at(&self.header_buf, 2);
                    if !(17..=MAX_CBCL_HEADER).contains(&size) {
                        return Err(format!("header size field {size} is not plausible"));
                    }
                    size as usize
                };
                let n = fill(&mut self.header_buf, want, data);
                if self.header_buf.len() >= 6 && self.header_buf.len() == want && want > 6 {
                    let header = parse_cbcl_header(&self.header_buf, self.mode, &mut self.notes)?;
                    self.block_start = u64::from(header.size);
                    let empty = header.tiles.is_empty();
                    self.header = Some(header);
                    self.header_buf = Vec::new();
                    self.phase = match (empty, self.full) {
                        (true, _) => CbclPhase::Done,
                        (false, true) => CbclPhase::Inflating { i: 0 },
                        (false, false) => CbclPhase::Block {
                            i: 0,
                            magic: Vec::new(),
                        },
                    };
                }
                Ok(n)
            }
            CbclPhase::Done => Err(format!(
                "{} bytes follow the last tile's block",
                if data.len() == 1 {
                    "1".to_string()
                } else {
                    format!("at least {}", data.len())
                }
            )),
            CbclPhase::Inflating { i } => {
                let i = *i;
                let decoder = self.decoder.as_mut().expect("full depth has a decoder");
                let (n, member) = decoder.push(data, &mut |_| {})?;
                if let Some(member) = member {
                    let t = self.header.as_ref().expect("header parsed").tiles[i];
                    let declared = u64::from(t.compressed);
                    if member.compressed == declared + 1 && self.mode == StrictMode::Lenient {
                        self.notes.push(one_byte_short(t.tile));
                    } else if member.compressed != declared {
                        return Err(format!(
                            "tile {}: the header declares a {declared}-byte block but its gzip member is {} bytes",
                            t.tile, member.compressed
                        ));
                    }
                    if member.uncompressed != u64::from(t.uncompressed) {
                        return Err(format!(
                            "tile {}: the header declares {} uncompressed bytes but the block inflates to {}",
                            t.tile, t.uncompressed, member.uncompressed
                        ));
                    }
                    let next = i + 1;
                    self.phase = if next == self.tiles().len() {
                        CbclPhase::Done
                    } else {
                        CbclPhase::Inflating { i: next }
                    };
                }
                Ok(n)
            }
            CbclPhase::Block { i, magic } => {
                let i = *i;
                let t = self.header.as_ref().expect("header parsed").tiles[i];
                let end = self.block_start + u64::from(t.compressed);
                if magic.len() < 3 {
                    let n = fill(magic, 3, data);
                    self.tail.push(&data[..n]);
                    if magic.len() == 3 && magic[..] != GZIP_MAGIC {
                        return Err(format!(
                            "tile {}: the block at byte {} does not start with the gzip magic bytes \
                             (the declared block sizes do not match the data)",
                            t.tile, self.block_start
                        ));
                    }
                    return Ok(n);
                }
                let take = ((end - self.pos) as usize).min(data.len());
                self.tail.push(&data[..take]);
                if self.pos + take as u64 == end {
                    self.phase = CbclPhase::Boundary {
                        i,
                        look: Vec::with_capacity(4),
                        tail: self.tail,
                    };
                }
                Ok(take)
            }
            CbclPhase::Boundary { i, look, tail } => {
                let i = *i;
                let last = i + 1 == self.header.as_ref().expect("header parsed").tiles.len();
                let want = match (last, self.mode) {
                    (true, StrictMode::Strict) => 1,
                    (true, StrictMode::Lenient) => 2,
                    (false, StrictMode::Strict) => 3,
                    (false, StrictMode::Lenient) => 4,
                };
                let n = fill(look, want, data);
                let (look, tail) = (look.clone(), *tail);
                if last {
                    if look.len() == want {
                        return Err(format!(
                            "at least {} bytes follow the last tile's block",
                            look.len()
                        ));
                    }
                    return Ok(n);
                }
                match self.boundary_decision(i, &look, &tail, false)? {
                    Some(extra) => {
                        let start = self.pos + n as u64 - look.len() as u64 + extra as u64;
                        self.start_block(i + 1, start, &look[extra..])?;
                        Ok(n)
                    }
                    None => Ok(n),
                }
            }
        }
    }

    /// Decide where block `i` really ends from the bytes after its declared end: `Some(0)`
    /// at the declared end, `Some(1)` one byte later (lenient), `None` if more bytes are
    /// needed. `at_eof` means `look` is all there is.
    fn boundary_decision(
        &mut self,
        i: usize,
        look: &[u8],
        tail: &Tail,
        at_eof: bool,
    ) -> Result<Option<usize>, String> {
        let t = self.tiles()[i];
        let last = i + 1 == self.tiles().len();
        let isize_strict = tail.u32_ending(0).expect("blocks are at least 20 bytes");
        let strict_ok = isize_strict == t.uncompressed
            && if last {
                look.is_empty()
            } else {
                look.len() >= 3 && look[..3] == GZIP_MAGIC
            };
        if strict_ok {
            return Ok(Some(0));
        }
        let enough = if last {
            at_eof
        } else {
            look.len() >= 4 || at_eof
        };
        if self.mode == StrictMode::Lenient && !enough {
            return Ok(None);
        }
        if self.mode == StrictMode::Strict && !last && look.len() < 3 && !at_eof {
            return Ok(None);
        }
        if self.mode == StrictMode::Lenient && !look.is_empty() {
            let mut shifted = Tail::default();
            shifted.push(tail.last(8).expect("blocks are at least 20 bytes"));
            shifted.push(&look[..1]);
            let isize_shifted = shifted.u32_ending(0).expect("eight bytes");
            let next_ok = if last {
                look.len() == 1
            } else {
                look.len() >= 4 && look[1..4] == GZIP_MAGIC
            };
            if isize_shifted == t.uncompressed && next_ok {
                self.notes.push(one_byte_short(t.tile));
                return Ok(Some(1));
            }
        }
        if isize_strict != t.uncompressed {
            return Err(format!(
                "tile {}: the gzip trailer at the declared block end says {isize_strict} \
                 uncompressed bytes, the header declares {} (the declared block sizes do not \
                 match the data)",
                t.tile, t.uncompressed
            ));
        }
        if last {
            return Err(format!("{} bytes follow the last tile's block", look.len()));
        }
        Err(format!(
            "tile {}: the next block does not start where the declared size {} ends \
             (no gzip magic bytes there)",
            t.tile, t.compressed
        ))
    }

    fn start_block(&mut self, i: usize, start: u64, first: &[u8]) -> Result<(), String> {
        self.block_start = start;
        self.tail.clear();
        self.phase = CbclPhase::Block {
            i,
            magic: Vec::with_capacity(3),
        };
        // Replay the bytes already read past the previous block's end.
        let saved_pos = self.pos;
        self.pos = start;
        let mut rest = first;
        while !rest.is_empty() {
            let n = self.step(rest)?;
            self.pos += n as u64;
            rest = &rest[n..];
        }
        self.pos = saved_pos;
        Ok(())
    }

    fn finish(mut self) -> Result<Outcome, String> {
        let phase = std::mem::replace(&mut self.phase, CbclPhase::Done);
        match phase {
            CbclPhase::Header => {
                return Err(format!(
                    "{} bytes: shorter than its header",
                    self.header_buf.len()
                ));
            }
            CbclPhase::Done => {}
            CbclPhase::Inflating { i } | CbclPhase::Block { i, .. } => {
                let t = self.tiles()[i];
                return Err(format!(
                    "truncated: the file ends inside tile {}'s block ({} of {} tiles complete)",
                    t.tile,
                    i,
                    self.tiles().len()
                ));
            }
            CbclPhase::Boundary { i, look, tail } => {
                if i + 1 != self.tiles().len() {
                    let t = self.tiles()[i + 1];
                    return Err(format!(
                        "truncated: the file ends before tile {}'s block",
                        t.tile
                    ));
                }
                self.boundary_decision(i, &look, &tail, true)?;
            }
        }
        let clusters = self
            .header
            .as_ref()
            .map(|h| h.tiles.iter().map(|t| u64::from(t.clusters)).sum());
        Ok(Outcome {
            clusters,
            notes: self.notes,
        })
    }
}

fn one_byte_short(tile: u32) -> String {
    format!("tile {tile}: the declared compressed block size is one byte short of the gzip member")
}

// ---------------------------------------------------------------------------------------
// Filter, locs, clocs, pos.txt

/// Position of the first byte above 1, scanning 64 bytes at a time (an OR over a block
/// vectorises; a byte-wise search with early exit does not).
fn first_above_one(data: &[u8]) -> Option<usize> {
    let mut offset = 0;
    for block in data.chunks(64) {
        if block.iter().fold(0u8, |acc, &b| acc | (b & 0xfe)) != 0 {
            return block.iter().position(|&b| b > 1).map(|at| offset + at);
        }
        offset += block.len();
    }
    None
}

/// `.filter`: u32 0, u32 version 3, u32 cluster count, one byte (0 or 1) per cluster.
#[derive(Default)]
struct Filter {
    len_hint: Option<u64>,
    header: Vec<u8>,
    count: u64,
    body: u64,
}

impl Filter {
    fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
        if self.header.len() < 12 {
            let n = fill(&mut self.header, 12, data);
            data = &data[n..];
            if self.header.len() == 12 {
                let zero = u32_at(&self.header, 0);
                let version = u32_at(&self.header, 4);
                if zero != 0 {
                    return Err(format!("bytes 0-3 must be 0, found {zero:#010x}"));
                }
                if version != 3 {
                    return Err(format!("version {version} (expected 3)"));
                }
                self.count = u64::from(u32_at(&self.header, 8));
                if let Some(len) = self.len_hint {
                    self.check_size(len.saturating_sub(12))?;
                }
            }
        }
        if let Some(at) = first_above_one(data) {
            return Err(format!(
                "cluster {} has the pass-filter value {} (expected 0 or 1)",
                self.body + at as u64 + 1,
                data[at]
            ));
        }
        self.body += data.len() as u64;
        if self.body > self.count {
            return Err(format!(
                "the header declares {} clusters but more bytes follow it",
                self.count
            ));
        }
        Ok(())
    }

    fn check_size(&self, body: u64) -> Result<(), String> {
        if body == self.count {
            Ok(())
        } else {
            Err(format!(
                "the header declares {} clusters but {body} bytes follow it",
                self.count
            ))
        }
    }

    fn finish(self) -> Result<Outcome, String> {
        if self.header.len() < 12 {
            return Err(format!(
                "{} bytes: shorter than the 12-byte header",
                self.header.len()
            ));
        }
        self.check_size(self.body)?;
        Ok(Outcome {
            clusters: Some(self.count),
            notes: Vec::new(),
        })
    }
}

/// `.locs`: u32 1, f32 1.0, u32 cluster count, then an (x, y) pair of f32 per cluster.
struct Locs {
    mode: StrictMode,
    len_hint: Option<u64>,
    header: Vec<u8>,
    count: u64,
    body: u64,
}

impl Locs {
    fn new(mode: StrictMode) -> Locs {
        Locs {
            mode,
            len_hint: None,
            header: Vec::with_capacity(12),
            count: 0,
            body: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
        if self.header.len() < 12 {
            let n = fill(&mut self.header, 12, data);
            data = &data[n..];
            if self.header.len() == 12 {
                let first = u32_at(&self.header, 0);
                if first != 1 {
                    return Err(format!("bytes 0-3 must be 1, found {first}"));
                }
                if self.header[4..8] != 1.0f32.to_le_bytes() {
                    return Err("bytes 4-7 must be the float 1.0".into());
                }
                self.count = u64::from(u32_at(&self.header, 8));
                if let Some(len) = self.len_hint.filter(|_| self.mode == StrictMode::Strict) {
                    self.check(len.saturating_sub(12), &mut Vec::new())?;
                }
            }
        }
        self.body += data.len() as u64;
        Ok(())
    }

    fn check(&self, body: u64, notes: &mut Vec<String>) -> Result<(), String> {
        let declared = self.count * 8;
        if body == declared {
            return Ok(());
        }
        if self.mode == StrictMode::Lenient && body > declared && body.is_multiple_of(8) {
            notes.push(format!(
                "the header declares {} clusters but the file holds {} whole records",
                self.count,
                body / 8
            ));
            return Ok(());
        }
        Err(format!(
            "the header declares {} clusters ({declared} bytes of records) but {body} bytes follow it",
            self.count
        ))
    }

    fn finish(self) -> Result<Outcome, String> {
        if self.header.len() < 12 {
            return Err(format!(
                "{} bytes: shorter than the 12-byte header",
                self.header.len()
            ));
        }
        let mut notes = Vec::new();
        self.check(self.body, &mut notes)?;
        Ok(Outcome {
            clusters: Some(self.count),
            notes,
        })
    }
}

/// `.clocs`: u8 version 1, u32 bin count, then per bin a u8 count and that many (x, y)
/// byte pairs.
#[derive(Default)]
struct Clocs {
    header: Vec<u8>,
    bins: u64,
    bins_done: u64,
    in_bin: u64,
    clusters: u64,
}

impl Clocs {
    fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
        if self.header.len() < 5 {
            let n = fill(&mut self.header, 5, data);
            data = &data[n..];
            if self.header.len() == 5 {
                if self.header[0] != 1 {
                    return Err(format!("version {} (expected 1)", self.header[0]));
                }
                self.bins = u64::from(u32_at(&self.header, 1));
            }
        }
        while !data.is_empty() {
            if self.in_bin > 0 {
                let take = self.in_bin.min(data.len() as u64);
                self.in_bin -= take;
                data = &data[take as usize..];
                if self.in_bin == 0 {
                    self.bins_done += 1;
                }
                continue;
            }
            if self.bins_done == self.bins {
                return Err(format!(
                    "bytes follow the last of the {} bins the header declares",
                    self.bins
                ));
            }
            let count = u64::from(data[0]);
            data = &data[1..];
            self.clusters += count;
            if count == 0 {
                self.bins_done += 1;
            } else {
                self.in_bin = 2 * count;
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Outcome, String> {
        if self.header.len() < 5 {
            return Err(format!(
                "{} bytes: shorter than the 5-byte header",
                self.header.len()
            ));
        }
        if self.bins_done != self.bins {
            return Err(format!(
                "truncated: {} of the {} bins the header declares are complete",
                self.bins_done, self.bins
            ));
        }
        Ok(Outcome {
            clusters: Some(self.clusters),
            notes: Vec::new(),
        })
    }
}

/// `s_<lane>_<tile>_pos.txt`: one line per cluster with two non-negative decimal numbers.
#[derive(Default)]
struct Pos {
    line: Vec<u8>,
    lines: u64,
}

impl Pos {
    fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
        while !data.is_empty() {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    self.push_line_part(&data[..i])?;
                    self.end_line()?;
                    data = &data[i + 1..];
                }
                None => {
                    self.push_line_part(data)?;
                    data = &[];
                }
            }
        }
        Ok(())
    }

    fn push_line_part(&mut self, part: &[u8]) -> Result<(), String> {
        if self.line.len() + part.len() > MAX_POS_LINE {
            return Err(format!("line {} is too long", self.lines + 1));
        }
        self.line.extend_from_slice(part);
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), String> {
        let line = std::mem::take(&mut self.line);
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        self.lines += 1;
        let fields: Vec<&str> = text.split_whitespace().collect();
        if fields.len() != 2 || !fields.iter().all(|f| non_negative_decimal(f)) {
            return Err(format!(
                "line {} is `{text}`, not two non-negative numbers",
                self.lines
            ));
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Outcome, String> {
        self.end_line()?;
        Ok(Outcome {
            clusters: Some(self.lines),
            notes: Vec::new(),
        })
    }
}

fn non_negative_decimal(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction)
}

fn pos_name_ok(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some(stem) = name
        .strip_suffix("_pos.txt")
        .and_then(|s| s.strip_prefix("s_"))
    else {
        return false;
    };
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    matches!(stem.split_once('_'), Some((lane, tile)) if number(lane) && number(tile))
}

#[cfg(test)]
mod tests {
    /// The vectorised count of called bases with quality 0 or 1 (bytes 1 to 7) agrees with
    /// a plain count, at every length around its blocks of 64 bytes and for every byte value.
    #[test]
    fn low_quality_count_agrees_with_a_plain_count() {
        let data: Vec<u8> = (0..40_000u32).map(|i| (i * 37 % 256) as u8).collect();
        for len in (0..600).chain([2999, 3000, 16_319, 16_320, 16_321, 40_000]) {
            let plain = data[..len]
                .iter()
                .filter(|&&b| (1..=7).contains(&b))
                .count() as u64;
            assert_eq!(
                super::low_quality_calls(&data[..len]),
                plain,
                "length {len}"
            );
        }
        assert_eq!(super::low_quality_calls(&[7u8; 40_000]), 40_000);
        assert_eq!(super::low_quality_calls(&[0u8, 8, 255, 1]), 1);
    }

    use super::*;
    use crate::formats::gzip::tests::{bgzf, gzip};

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
        let good = bcl(&[0x00, 0x1c, 0x93, 0xff]);
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
            .map(|i| 8 + (i.wrapping_mul(2_654_435_761) >> 24) as u8 % 200)
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
