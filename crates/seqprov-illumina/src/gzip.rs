//! Push-based gzip (RFC 1952) decoding: input arrives in chunks of any size, members are
//! decoded one after another (multi-member files and BGZF alike), every member's CRC-32
//! and ISIZE are checked, and the caller learns where each member ends. Also the
//! pieces the structure checks use without inflating: header parsing and BGZF framing.

use flate2::{Crc, Decompress, FlushDecompress, Status};

/// Size of the output buffer the decoder fills before handing bytes on.
const OUT_CHUNK: usize = 128 << 10;
/// Longest gzip header accepted (10 fixed bytes, a full extra field, name and comment).
const MAX_HEADER: usize = 10 + 2 + 65_535 + 4096;

/// What a parsed gzip member header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Length of the header in bytes.
    pub len: usize,
    /// BGZF block size minus one (`BSIZE` of the `BC` extra subfield), when present.
    pub bgzf_bsize: Option<u16>,
}

/// Parse a gzip member header at the start of `buf`: `Ok(None)` when more bytes are
/// needed, `Err` when the bytes cannot be a gzip header.
pub fn parse_header(buf: &[u8]) -> Result<Option<Header>, String> {
    if buf.len() < 10 {
        if !b"\x1f\x8b\x08".starts_with(&buf[..buf.len().min(3)]) {
            return Err("does not start with the gzip magic bytes 1f 8b 08".into());
        }
        return Ok(None);
    }
    if buf[0..3] != [0x1f, 0x8b, 0x08] {
        return Err(format!(
            "does not start with the gzip magic bytes 1f 8b 08 (found {:02x} {:02x} {:02x})",
            buf[0], buf[1], buf[2]
        ));
    }
    let flags = buf[3];
    if flags & 0xe0 != 0 {
        return Err(format!(
            "gzip header has reserved flag bits set ({flags:#04x})"
        ));
    }
    let mut at = 10usize;
    let mut bgzf_bsize = None;
    if flags & 0x04 != 0 {
        let Some(xlen) = buf.get(at..at + 2) else {
            return Ok(None);
        };
        let xlen = u16::from_le_bytes([xlen[0], xlen[1]]) as usize;
        at += 2;
        let Some(extra) = buf.get(at..at + xlen) else {
            return Ok(None);
        };
        let mut sub = extra;
        while sub.len() >= 4 {
            let len = u16::from_le_bytes([sub[2], sub[3]]) as usize;
            let Some(data) = sub.get(4..4 + len) else {
                return Err("gzip extra field has a truncated subfield".into());
            };
            if sub[0] == b'B' && sub[1] == b'C' && len == 2 {
                bgzf_bsize = Some(u16::from_le_bytes([data[0], data[1]]));
            }
            sub = &sub[4 + len..];
        }
        if !sub.is_empty() {
            return Err("gzip extra field has a truncated subfield".into());
        }
        at += xlen;
    }
    for flag in [0x08u8, 0x10] {
        if flags & flag != 0 {
            match memchr::memchr(0, buf.get(at..).unwrap_or(&[])) {
                Some(i) => at += i + 1,
                None if buf.len() > MAX_HEADER => {
                    return Err("gzip header name or comment is too long".into());
                }
                None => return Ok(None),
            }
        }
    }
    if flags & 0x02 != 0 {
        at += 2;
    }
    if buf.len() < at {
        return Ok(None);
    }
    Ok(Some(Header {
        len: at,
        bgzf_bsize,
    }))
}

/// How many more header bytes to read before parsing again (an upper bound is fine:
/// bytes past the header's end are handed back).
pub fn header_want(buf: &[u8]) -> usize {
    if buf.len() < 10 {
        return 10 - buf.len();
    }
    if buf[3] & 0x04 != 0 {
        if buf.len() < 12 {
            return 12 - buf.len();
        }
        let end = 12 + u16::from_le_bytes([buf[10], buf[11]]) as usize;
        if buf.len() < end {
            return end - buf.len();
        }
    }
    256
}

/// One decoded gzip member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    /// Zero-based index of the member in the stream.
    pub index: u64,
    /// Bytes of the member: header, deflate data and trailer.
    pub compressed: u64,
    /// Bytes it decompressed to.
    pub uncompressed: u64,
    /// The BGZF block size field, when the header has one.
    pub bgzf_bsize: Option<u16>,
}

enum State {
    Header,
    Body,
    Trailer,
}

/// A streaming decoder for a sequence of gzip members.
pub struct Decoder {
    state: State,
    header: Vec<u8>,
    parsed: Option<Header>,
    inflate: Decompress,
    crc: Crc,
    out: Vec<u8>,
    trailer: [u8; 8],
    trailer_len: usize,
    member_in: u64,
    member_out: u64,
    members: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Decoder {
        Decoder {
            state: State::Header,
            header: Vec::with_capacity(32),
            parsed: None,
            inflate: Decompress::new(false),
            crc: Crc::new(),
            out: vec![0; OUT_CHUNK],
            trailer: [0; 8],
            trailer_len: 0,
            member_in: 0,
            member_out: 0,
            members: 0,
        }
    }

    /// True when the decoder stands between members (at the start, or just after a
    /// member's trailer), so the input may end here.
    pub fn at_member_boundary(&self) -> bool {
        matches!(self.state, State::Header) && self.header.is_empty()
    }

    /// Decode from `input` until it is used up or a member ends; decompressed bytes go to
    /// `sink`. Returns the number of input bytes consumed and the member that ended, if
    /// one did (the caller then calls again with the rest of its input).
    pub fn push(
        &mut self,
        input: &[u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(usize, Option<Member>), String> {
        let mut used = 0usize;
        while used < input.len() {
            let rest = &input[used..];
            match self.state {
                State::Header => {
                    let want = header_want(&self.header);
                    let take = want.min(rest.len());
                    let before = self.header.len();
                    self.header.extend_from_slice(&rest[..take]);
                    match parse_header(&self.header)
                        .map_err(|e| format!("gzip member {}: {e}", self.members + 1))?
                    {
                        Some(header) => {
                            let consumed = header.len - before;
                            used += consumed;
                            self.member_in = header.len as u64;
                            self.header.clear();
                            self.parsed = Some(header);
                            self.state = State::Body;
                        }
                        None => {
                            if self.header.len() >= MAX_HEADER {
                                return Err("gzip header is too long".into());
                            }
                            used += take;
                        }
                    }
                }
                State::Body => {
                    let in_before = self.inflate.total_in();
                    let out_before = self.inflate.total_out();
                    let status = self
                        .inflate
                        .decompress(rest, &mut self.out, FlushDecompress::None)
                        .map_err(|e| {
                            format!(
                                "gzip member {}: deflate data corrupt: {e}",
                                self.members + 1
                            )
                        })?;
                    let consumed = (self.inflate.total_in() - in_before) as usize;
                    let produced = (self.inflate.total_out() - out_before) as usize;
                    used += consumed;
                    self.member_in += consumed as u64;
                    if produced > 0 {
                        let bytes = &self.out[..produced];
                        self.crc.update(bytes);
                        self.member_out += produced as u64;
                        sink(bytes);
                    }
                    match status {
                        Status::StreamEnd => {
                            self.state = State::Trailer;
                            self.trailer_len = 0;
                        }
                        Status::Ok | Status::BufError => {
                            if consumed == 0 && produced == 0 {
                                return Err(format!(
                                    "gzip member {}: deflate data makes no progress",
                                    self.members + 1
                                ));
                            }
                        }
                    }
                }
                State::Trailer => {
                    let take = (8 - self.trailer_len).min(rest.len());
                    self.trailer[self.trailer_len..self.trailer_len + take]
                        .copy_from_slice(&rest[..take]);
                    self.trailer_len += take;
                    used += take;
                    self.member_in += take as u64;
                    if self.trailer_len == 8 {
                        let member = self.end_member()?;
                        return Ok((used, Some(member)));
                    }
                }
            }
        }
        Ok((used, None))
    }

    fn end_member(&mut self) -> Result<Member, String> {
        let index = self.members;
        let crc = u32::from_le_bytes(self.trailer[0..4].try_into().expect("4 bytes"));
        let isize = u32::from_le_bytes(self.trailer[4..8].try_into().expect("4 bytes"));
        if crc != self.crc.sum() {
            return Err(format!(
                "gzip member {}: CRC-32 {crc:08x} in the trailer, {:08x} computed: the data is corrupt",
                index + 1,
                self.crc.sum()
            ));
        }
        if isize != self.member_out as u32 {
            return Err(format!(
                "gzip member {}: ISIZE says {isize} bytes but {} were decompressed",
                index + 1,
                self.member_out
            ));
        }
        let bgzf_bsize = self.parsed.and_then(|h| h.bgzf_bsize);
        if let Some(bsize) = bgzf_bsize.filter(|b| u64::from(*b) + 1 != self.member_in) {
            return Err(format!(
                "BGZF block {}: BSIZE says {} bytes but the block is {}",
                index + 1,
                u64::from(bsize) + 1,
                self.member_in
            ));
        }
        let member = Member {
            index,
            compressed: self.member_in,
            uncompressed: self.member_out,
            bgzf_bsize,
        };
        self.members += 1;
        self.state = State::Header;
        self.parsed = None;
        self.inflate.reset(false);
        self.crc.reset();
        self.member_in = 0;
        self.member_out = 0;
        Ok(member)
    }

    /// Check that the stream may end here: after at least one whole member.
    pub fn finish(&self) -> Result<(), String> {
        if !self.at_member_boundary() {
            return Err(format!(
                "gzip member {} is truncated (the input ends inside it)",
                self.members + 1
            ));
        }
        if self.members == 0 {
            return Err("no gzip member (empty input)".into());
        }
        Ok(())
    }
}

/// Keeps the last eight bytes pushed through it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tail {
    bytes: [u8; 8],
    len: usize,
}

impl Tail {
    /// Append bytes, keeping the last eight.
    pub fn push(&mut self, data: &[u8]) {
        if data.len() >= 8 {
            self.bytes.copy_from_slice(&data[data.len() - 8..]);
            self.len = 8;
        } else {
            let keep = (8 - data.len()).min(self.len);
            let mut next = [0u8; 8];
            next[..keep].copy_from_slice(&self.bytes[self.len - keep..self.len]);
            next[keep..keep + data.len()].copy_from_slice(data);
            self.bytes = next;
            self.len = keep + data.len();
        }
    }

    /// The last `n` (at most eight) bytes, when that many have been pushed.
    pub fn last(&self, n: usize) -> Option<&[u8]> {
        (n <= self.len).then(|| &self.bytes[self.len - n..self.len])
    }

    /// The little-endian u32 ending `back` bytes before the end (0 = the last four).
    pub fn u32_ending(&self, back: usize) -> Option<u32> {
        let end = self.len.checked_sub(back)?;
        let start = end.checked_sub(4)?;
        Some(u32::from_le_bytes(
            self.bytes[start..end].try_into().expect("4 bytes"),
        ))
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// Inflates the start of a deflate stream until it has `want` bytes of output, then
/// ignores the rest: enough to read a header inside compressed data without inflating it.
pub struct HeadInflater {
    inflate: Decompress,
    want: usize,
    out: Vec<u8>,
    ended: bool,
}

impl HeadInflater {
    /// Collect the first `want` decompressed bytes.
    pub fn new(want: usize) -> HeadInflater {
        HeadInflater {
            inflate: Decompress::new(false),
            want,
            out: Vec::with_capacity(want),
            ended: false,
        }
    }

    /// Feed raw deflate bytes; extra bytes after the stream's end are ignored.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), String> {
        let mut scratch = [0u8; 4096];
        while !self.done() && !input.is_empty() {
            let in_before = self.inflate.total_in();
            let out_before = self.inflate.total_out();
            let status = self
                .inflate
                .decompress(input, &mut scratch, FlushDecompress::None)
                .map_err(|e| format!("deflate data corrupt: {e}"))?;
            let consumed = (self.inflate.total_in() - in_before) as usize;
            let produced = (self.inflate.total_out() - out_before) as usize;
            let room = self.want - self.out.len();
            self.out.extend_from_slice(&scratch[..produced.min(room)]);
            input = &input[consumed..];
            if status == Status::StreamEnd {
                self.ended = true;
            } else if consumed == 0 && produced == 0 {
                break;
            }
        }
        Ok(())
    }

    /// True when `want` bytes are in, or the deflate stream ended.
    pub fn done(&self) -> bool {
        self.out.len() >= self.want || self.ended
    }

    /// The bytes collected so far.
    pub fn bytes(&self) -> &[u8] {
        &self.out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// Compress `data` into one gzip member at `level`.
    pub fn gzip(data: &[u8], level: u32) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    /// Compress `data` as BGZF: blocks of at most `block` input bytes and the EOF block.
    pub fn bgzf(data: &[u8], block: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in data.chunks(block).chain(std::iter::once(&[][..])) {
            let mut raw =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
            raw.write_all(piece).unwrap();
            let deflated = raw.finish().unwrap();
            let bsize = (18 + deflated.len() + 8 - 1) as u16;
            out.extend_from_slice(&[
                0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, b'B', b'C', 2, 0,
            ]);
            out.extend_from_slice(&bsize.to_le_bytes());
            out.extend_from_slice(&deflated);
            let mut crc = Crc::new();
            crc.update(piece);
            out.extend_from_slice(&crc.sum().to_le_bytes());
            out.extend_from_slice(&(piece.len() as u32).to_le_bytes());
        }
        out
    }

    fn decode_in_pieces(data: &[u8], piece: usize) -> Result<(Vec<u8>, Vec<Member>), String> {
        let mut dec = Decoder::new();
        let mut out = Vec::new();
        let mut members = Vec::new();
        for mut chunk in data.chunks(piece) {
            while !chunk.is_empty() {
                let (n, member) = dec.push(chunk, &mut |b| out.extend_from_slice(b))?;
                chunk = &chunk[n..];
                members.extend(member);
            }
        }
        dec.finish()?;
        Ok((out, members))
    }

    #[test]
    fn decodes_multi_member_and_bgzf_in_any_chunking() {
        let text: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut multi = gzip(&text[..70_000], 1);
        multi.extend(gzip(&text[70_000..], 9));
        let blocked = bgzf(&text, 65_280);
        for piece in [1, 7, 4096, 1 << 20] {
            let (out, members) = decode_in_pieces(&multi, piece).unwrap();
            assert_eq!(out, text);
            assert_eq!(members.len(), 2);
            let (out, members) = decode_in_pieces(&blocked, piece).unwrap();
            assert_eq!(out, text);
            assert_eq!(members.len(), 5);
            assert!(members.iter().all(|m| m.bgzf_bsize.is_some()));
            assert_eq!(members.last().unwrap().uncompressed, 0);
        }
    }

    #[test]
    fn detects_corruption_and_truncation() {
        let text = b"hello hello hello hello".repeat(100);
        let good = gzip(&text, 6);
        let mut crc_bad = good.clone();
        let n = crc_bad.len();
        crc_bad[n - 6] ^= 1;
        assert!(
            decode_in_pieces(&crc_bad, 3)
                .unwrap_err()
                .contains("CRC-32")
        );
        let mut size_bad = good.clone();
        size_bad[n - 1] ^= 1;
        assert!(
            decode_in_pieces(&size_bad, 3)
                .unwrap_err()
                .contains("ISIZE")
        );
        let cut = &good[..n - 3];
        assert!(decode_in_pieces(cut, 5).unwrap_err().contains("truncated"));
        assert!(
            decode_in_pieces(b"PK\x03\x04", 5)
                .unwrap_err()
                .contains("magic")
        );
        assert!(
            decode_in_pieces(b"", 5)
                .unwrap_err()
                .contains("no gzip member")
        );
    }

    #[test]
    fn tail_keeps_last_eight_bytes() {
        let mut tail = Tail::default();
        tail.push(b"abc");
        assert_eq!(tail.last(3), Some(&b"abc"[..]));
        assert_eq!(tail.last(4), None);
        tail.push(b"defghij");
        assert_eq!(tail.last(8), Some(&b"cdefghij"[..]));
        tail.push(b"0123456789");
        assert_eq!(tail.last(8), Some(&b"23456789"[..]));
        assert_eq!(tail.u32_ending(0), Some(u32::from_le_bytes(*b"6789")));
        assert_eq!(tail.u32_ending(1), Some(u32::from_le_bytes(*b"5678")));
    }

    #[test]
    fn head_inflater_stops_early() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let member = gzip(&data, 6);
        let header = parse_header(&member).unwrap().unwrap();
        let mut head = HeadInflater::new(4);
        head.feed(&member[header.len..]).unwrap();
        assert!(head.done());
        assert_eq!(head.bytes(), &data[..4]);
    }
}
