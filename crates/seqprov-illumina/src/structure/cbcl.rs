//! CBCL files: the header of tile records, then one gzip block per tile.

use super::*;

/// One tile record of a CBCL header.
#[derive(Clone, Copy, Debug)]
pub(super) struct TileRecord {
    tile: u32,
    clusters: u32,
    uncompressed: u32,
    compressed: u32,
}

/// The parsed CBCL header.
pub(super) struct CbclHeader {
    size: u32,
    tiles: Vec<TileRecord>,
}

pub(super) fn parse_cbcl_header(
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
pub(super) enum CbclPhase {
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
pub(super) struct Cbcl {
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
    pub(super) fn new(mode: StrictMode, full: bool) -> Cbcl {
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

    pub(super) fn tiles(&self) -> &[TileRecord] {
        &self.header.as_ref().expect("header parsed").tiles
    }

    pub(super) fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
        while !data.is_empty() {
            let n = self.step(data)?;
            self.pos += n as u64;
            data = &data[n..];
        }
        Ok(())
    }

    /// Consume some bytes from the front of `data` (at least one) and return how many.
    pub(super) fn step(&mut self, data: &[u8]) -> Result<usize, String> {
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
    pub(super) fn boundary_decision(
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

    pub(super) fn start_block(&mut self, i: usize, start: u64, first: &[u8]) -> Result<(), String> {
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

    pub(super) fn finish(mut self) -> Result<Outcome, String> {
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

pub(super) fn one_byte_short(tile: u32) -> String {
    format!("tile {tile}: the declared compressed block size is one byte short of the gzip member")
}
