//! Filter, locs, clocs and `_pos.txt` files: which clusters passed filter and where they are.

use super::*;

/// Position of the first byte above 1, scanning 64 bytes at a time (an OR over a block
/// vectorises; a byte-wise search with early exit does not).
pub(super) fn first_above_one(data: &[u8]) -> Option<usize> {
    let mut offset = 0;
    for block in data.chunks(64) {
        if block.iter().fold(0u8, |acc, &b| acc | (b & 0xfe)) != 0 {
            return block.iter().position(|&b| b > 1).map(|at| offset + at);
        }
        offset += block.len();
    }
    None
}

/// `.filter`, in either of its two formats (`spec/run-folders.md` §5):
///
/// - version 3 (RTA 1.x and later): u32 0, u32 version 3, u32 cluster count, then one
///   byte (0 or 1) per cluster;
/// - the old format without a version header (GA IIx and early RTA): u32 cluster count,
///   then one byte (0 or 1) per cluster.
///
/// The first u32 tells them apart: 0 starts a versioned header, anything else is the
/// cluster count of the old format. A file of exactly four zero bytes is the old format
/// with no cluster (a versioned header is 12 bytes).
#[derive(Default)]
pub(super) struct Filter {
    pub(super) len_hint: Option<u64>,
    header: Vec<u8>,
    /// The size of the header once the format is known: 4 (old format) or 12.
    header_len: Option<usize>,
    count: u64,
    body: u64,
}

impl Filter {
    pub(super) fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
        if self.header_len.is_none() {
            let n = fill(&mut self.header, 4, data);
            data = &data[n..];
            if self.header.len() < 4 {
                return Ok(());
            }
            let first = u32_at(&self.header, 0);
            if first != 0 || self.len_hint == Some(4) {
                // The old format: the first u32 is the cluster count.
                self.header_len = Some(4);
                self.count = u64::from(first);
                if let Some(len) = self.len_hint {
                    self.check_size(len.saturating_sub(4))?;
                }
            } else {
                let n = fill(&mut self.header, 12, data);
                data = &data[n..];
                if self.header.len() < 12 {
                    return Ok(());
                }
                let version = u32_at(&self.header, 4);
                if version != 3 {
                    return Err(format!("version {version} (expected 3)"));
                }
                self.header_len = Some(12);
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

    pub(super) fn check_size(&self, body: u64) -> Result<(), String> {
        if body == self.count {
            Ok(())
        } else {
            Err(format!(
                "the header declares {} clusters but {body} bytes follow it",
                self.count
            ))
        }
    }

    pub(super) fn finish(mut self) -> Result<Outcome, String> {
        if self.header_len.is_none() {
            match self.header.len() {
                // Four zero bytes and nothing more: the old format with no cluster.
                4 => {
                    self.header_len = Some(4);
                    self.count = 0;
                }
                n if n < 4 => {
                    return Err(format!("{n} bytes: shorter than the 4-byte cluster count"));
                }
                n => {
                    return Err(format!(
                        "{n} bytes: shorter than the 12-byte header of a version 3 filter file"
                    ));
                }
            }
        }
        self.check_size(self.body)?;
        Ok(Outcome {
            clusters: Some(self.count),
            notes: Vec::new(),
        })
    }
}

/// `.locs`: u32 1, f32 1.0, u32 cluster count, then an (x, y) pair of f32 per cluster.
pub(super) struct Locs {
    mode: StrictMode,
    pub(super) len_hint: Option<u64>,
    header: Vec<u8>,
    count: u64,
    body: u64,
}

impl Locs {
    pub(super) fn new(mode: StrictMode) -> Locs {
        Locs {
            mode,
            len_hint: None,
            header: Vec::with_capacity(12),
            count: 0,
            body: 0,
        }
    }

    pub(super) fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
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

    pub(super) fn check(&self, body: u64, notes: &mut Vec<String>) -> Result<(), String> {
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

    pub(super) fn finish(self) -> Result<Outcome, String> {
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
pub(super) struct Clocs {
    header: Vec<u8>,
    bins: u64,
    bins_done: u64,
    in_bin: u64,
    clusters: u64,
}

impl Clocs {
    pub(super) fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
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

    pub(super) fn finish(self) -> Result<Outcome, String> {
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
pub(super) struct Pos {
    line: Vec<u8>,
    lines: u64,
}

impl Pos {
    pub(super) fn update(&mut self, mut data: &[u8]) -> Result<(), String> {
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

    pub(super) fn push_line_part(&mut self, part: &[u8]) -> Result<(), String> {
        if self.line.len() + part.len() > MAX_POS_LINE {
            return Err(format!("line {} is too long", self.lines + 1));
        }
        self.line.extend_from_slice(part);
        Ok(())
    }

    pub(super) fn end_line(&mut self) -> Result<(), String> {
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

    pub(super) fn finish(mut self) -> Result<Outcome, String> {
        self.end_line()?;
        Ok(Outcome {
            clusters: Some(self.lines),
            notes: Vec::new(),
        })
    }
}

pub(super) fn non_negative_decimal(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction)
}

pub(super) fn pos_name_ok(path: &str) -> bool {
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
