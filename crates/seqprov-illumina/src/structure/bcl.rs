//! BCL files (per-tile `.bcl`, `.bcl.gz` and BGZF `.bcl.bgzf`): the base-call stream and
//! the gzip/BGZF framing around it.

use super::*;

/// The uncompressed BCL stream: u32 cluster count, then one byte per cluster (bits 0-1
/// base, bits 2-7 quality; 0 is a no-call).
pub(super) struct BclBody {
    mode: StrictMode,
    pub(super) len_hint: Option<u64>,
    header: Vec<u8>,
    count: u64,
    body: u64,
    low_quality: u64,
    high_quality: u64,
    /// The 1-based cluster of the first call with a quality above [`MAX_QUALITY`].
    first_high: Option<u64>,
}

/// The highest base-call quality any Illumina instrument writes: Phred 41 (HiSeq X,
/// 3000 and 4000 bin to at most 41; HiSeq 2500 to 40; NovaSeq, NextSeq and MiSeq
/// tables top out lower). A BCL byte holds the quality in its bits 2-7, so a byte of
/// `(MAX_QUALITY + 1) << 2` = 168 or more is a call no instrument wrote
/// (`spec/run-folders.md` §5).
pub const MAX_QUALITY: u8 = 41;
/// The smallest BCL byte whose quality is above [`MAX_QUALITY`].
const FIRST_IMPOSSIBLE_BYTE: u8 = (MAX_QUALITY + 1) << 2;

impl BclBody {
    pub(super) fn new(mode: StrictMode, len_hint: Option<u64>) -> BclBody {
        BclBody {
            mode,
            len_hint,
            header: Vec::with_capacity(4),
            count: 0,
            body: 0,
            low_quality: 0,
            high_quality: 0,
            first_high: None,
        }
    }

    pub(super) fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
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
        let start = self.body;
        self.body += data.len() as u64;
        if self.body > self.count {
            return Err(self.size_error(self.body));
        }
        // A called base (non-zero byte) with quality 0 or 1: bytes 1..=7; a quality above
        // MAX_QUALITY: bytes 168..=255.
        let (low, high) = quality_census(data);
        self.low_quality += low;
        if high > 0 {
            self.high_quality += high;
            if self.first_high.is_none() {
                let at = data
                    .iter()
                    .position(|&b| b >= FIRST_IMPOSSIBLE_BYTE)
                    .expect("the census counted one");
                self.first_high = Some(start + at as u64 + 1);
            }
        }
        Ok(())
    }

    pub(super) fn size_error(&self, body: u64) -> String {
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

    pub(super) fn check_size(&self, body: u64) -> Result<(), String> {
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

    pub(super) fn finish(self) -> Result<Outcome, String> {
        if self.header.len() < 4 {
            return Err(format!(
                "{} bytes: shorter than the 4-byte cluster count",
                self.header.len()
            ));
        }
        self.check_size(self.body)?;
        if let Some(first) = self.first_high {
            // Broken in every mode: no instrument writes such a call.
            return Err(format!(
                "{} called bases have quality above {MAX_QUALITY}, the most any Illumina \
                 instrument writes (first at cluster {first})",
                self.high_quality
            ));
        }
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

/// Count bytes 1..=7 (a called base with quality 0 or 1) and bytes 168..=255 (a quality
/// above [`MAX_QUALITY`]). Blocks of 64 bytes are first tested with a branch-free OR that
/// the compiler vectorises; only blocks with a hit are counted exactly, so clean data
/// costs a fraction of hashing it.
/// Compiled for AVX-512 and AVX2 as well, chosen at run time: this loop runs over every
/// byte of every BCL file that is sealed.
#[multiversion::multiversion(targets("x86_64+avx512bw+avx512f", "x86_64+avx2"))]
pub(super) fn quality_census(data: &[u8]) -> (u64, u64) {
    // Such calls are rare in real data: test 64 bytes at once, count only where one is.
    let low = |b: u8| b.wrapping_sub(1) < 7;
    let high = |b: u8| b >= FIRST_IMPOSSIBLE_BYTE;
    let mut blocks = data.chunks_exact(64);
    let (mut lows, mut highs) = (0u64, 0u64);
    let mut count = |block: &[u8]| {
        lows += block.iter().filter(|&&b| low(b)).count() as u64;
        highs += block.iter().filter(|&&b| high(b)).count() as u64;
    };
    for block in &mut blocks {
        let block: &[u8; 64] = block.try_into().expect("chunks_exact gives 64 bytes");
        if block.iter().fold(false, |any, &b| any | low(b) | high(b)) {
            count(block);
        }
    }
    count(blocks.remainder());
    (lows, highs)
}

pub(super) fn gz_full_update(
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

pub(super) fn gz_full_finish(
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

pub(super) fn is_bgzf_eof(member: gzip::Member) -> bool {
    member.uncompressed == 0 && member.compressed == BGZF_EOF_LEN
}

/// `.bcl.gz` without inflating: the gzip header, the cluster count from the first
/// decompressed bytes, and the trailer's ISIZE against it. A file whose first member is a
/// BGZF block is walked block by block instead.
pub(super) struct GzFraming {
    mode: StrictMode,
    header: Vec<u8>,
    head: HeadInflater,
    tail: Tail,
    single: bool,
    bgzf: Option<BgzfWalker>,
}

impl GzFraming {
    pub(super) fn new(mode: StrictMode) -> GzFraming {
        GzFraming {
            mode,
            header: Vec::new(),
            head: HeadInflater::new(4),
            tail: Tail::default(),
            single: false,
            bgzf: None,
        }
    }

    pub(super) fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
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

    pub(super) fn finish(self) -> Result<Outcome, String> {
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
pub(super) struct BgzfWalker {
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
    pub(super) fn new(mode: StrictMode, want_count: bool) -> BgzfWalker {
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

    pub(super) fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
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
    pub(super) fn finish(&self) -> Result<(Vec<String>, u64), String> {
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

    pub(super) fn finish_bcl(self) -> Result<Outcome, String> {
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
