//! Compression-independent content identity of FASTQ files (`spec/fastq-content.md`).
//!
//! The *content digest* is BLAKE3 in key-derivation mode with the context
//! [`CONTENT_CONTEXT`] over the *canonical form* of the decompressed records: for each
//! record, its header line without the leading `@`, a line feed, the sequence, a line
//! feed, the quality string, a line feed. The `+` line is dropped (after checking it is
//! `+` alone or `+` and the same name); a `\r` ending any line is dropped; the file may
//! end with or without a final line feed, and blank lines may follow the last record.
//! So the digest survives recompression with any tool or level, gzip or BGZF or none, and
//! changes with any name, base or quality character.
//!
//! The input's compression is detected from its first bytes: plain text, gzip (any
//! number of members), or BGZF, whose blocks are inflated in parallel in bounded batches.

use std::io::Read;

use flate2::{Crc, Decompress, FlushDecompress, Status};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::gzip::{self, Decoder};
use crate::read_name::{HeaderMismatch, RunExpectation};
use seqprov_format::manifest::Bytes32;
use seqprov_format::run_record::RunMetadata;

/// BLAKE3 key-derivation context of the content digest (its domain separation).
pub const CONTENT_CONTEXT: &str = "seqprov 2026-11 FASTQ content digest v1";
/// File name suffixes of FASTQ files whose content identity is computed.
pub const FASTQ_SUFFIXES: [&str; 4] = [".fastq", ".fq", ".fastq.gz", ".fq.gz"];
/// Canonical bytes collected before they are hashed.
const HASH_BATCH: usize = 1 << 20;
/// Compressed BGZF bytes inflated in one parallel batch.
const BGZF_BATCH: usize = 2 << 20;
/// Longest FASTQ line accepted (a bound on memory for a line split across chunks).
const MAX_LINE: usize = 64 << 20;
/// Read-name mismatches kept as examples.
const MAX_EXAMPLES: usize = 5;

/// True when the file name is one whose content identity is computed.
pub fn is_fastq_name(path: &str) -> bool {
    FASTQ_SUFFIXES.iter().any(|s| path.ends_with(s))
}

pub use seqprov_format::run_record::FastqContent;

/// How the input was compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Not compressed.
    Plain,
    /// gzip, one or more members, inflated sequentially.
    Gzip,
    /// BGZF, inflated in parallel.
    Bgzf,
}

/// What read names said about their run, when a run was given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineageSummary {
    /// Records whose name was checked.
    pub checked: u64,
    /// Records whose name disagreed with the run (or was not an Illumina name).
    pub mismatched: u64,
    /// The first few disagreements: record number and what disagreed.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub examples: Vec<(u64, Vec<HeaderMismatch>)>,
}

/// Everything [`ContentHasher::finish`] learns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentOutcome {
    /// The content identity.
    pub content: FastqContent,
    /// The compression found.
    pub compression: Compression,
    /// Read names against the run, when [`ContentHasher::with_run`] was used.
    pub lineage: Option<LineageSummary>,
}

/// Why a content digest could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum FastqError {
    /// The text is not FASTQ; `record` is 1-based.
    #[error("FASTQ record {record}: {reason}")]
    Malformed {
        /// The record where the problem is.
        record: u64,
        /// What is wrong.
        reason: String,
    },
    /// The compressed data is corrupt or truncated.
    #[error("compressed FASTQ: {0}")]
    Compression(String),
    /// The input uses a compression this build does not read.
    #[error("{0} compression is not supported for FASTQ content identity")]
    Unsupported(&'static str),
    /// Reading failed.
    #[error("reading FASTQ: {0}")]
    Io(#[from] std::io::Error),
}

/// Compute the content identity of FASTQ bytes (plain or compressed) from a reader.
pub fn content_of_reader(mut reader: impl Read) -> Result<ContentOutcome, FastqError> {
    let mut hasher = ContentHasher::new();
    let mut buffer = vec![0u8; 4 << 20];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        hasher.update(&buffer[..n]);
    }
    hasher.finish()
}

enum Stage {
    Sniff(Vec<u8>),
    Plain,
    Gzip(Box<Decoder>),
    Bgzf(Bgzf),
}

/// Streaming content identity: feed the file's bytes as they are read (the same chunks
/// the hashing engine hashes), then [`finish`](ContentHasher::finish).
pub struct ContentHasher {
    stage: Stage,
    canon: Canonical,
    error: Option<FastqError>,
}

impl Default for ContentHasher {
    fn default() -> Self {
        ContentHasher::new()
    }
}

impl ContentHasher {
    /// A hasher that only computes the content identity.
    pub fn new() -> ContentHasher {
        ContentHasher {
            stage: Stage::Sniff(Vec::new()),
            canon: Canonical::new(None),
            error: None,
        }
    }

    /// A hasher that also checks every read name against the run it derives from.
    pub fn with_run(meta: &RunMetadata) -> ContentHasher {
        ContentHasher {
            canon: Canonical::new(Some(RunExpectation::from_run(meta))),
            ..ContentHasher::new()
        }
    }

    /// Feed the next chunk of the file. Errors are kept and returned by `finish`.
    pub fn update(&mut self, chunk: &[u8]) {
        if self.error.is_some() || chunk.is_empty() {
            return;
        }
        if let Err(e) = self.feed(chunk) {
            self.error = Some(e);
        }
    }

    /// True once the input is known to be unusable; further chunks are ignored.
    pub fn has_failed(&self) -> bool {
        self.error.is_some()
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<(), FastqError> {
        if let Stage::Sniff(buffer) = &mut self.stage {
            buffer.extend_from_slice(chunk);
            let Some(stage) = sniff(buffer)? else {
                return Ok(());
            };
            let buffered = std::mem::take(buffer);
            self.stage = stage;
            return self.feed_stage(&buffered);
        }
        self.feed_stage(chunk)
    }

    fn feed_stage(&mut self, data: &[u8]) -> Result<(), FastqError> {
        match &mut self.stage {
            Stage::Sniff(_) => unreachable!("sniffing is resolved before"),
            Stage::Plain => self.canon.feed(data),
            Stage::Gzip(decoder) => feed_gzip(decoder, &mut self.canon, data),
            Stage::Bgzf(bgzf) => {
                if let Some(rest) = bgzf.feed(data, &mut self.canon)? {
                    // A member that is not a BGZF block: decode the rest sequentially.
                    let mut decoder = Box::default();
                    feed_gzip(&mut decoder, &mut self.canon, &rest)?;
                    self.stage = Stage::Gzip(decoder);
                }
                Ok(())
            }
        }
    }

    /// Finish: the content identity, the compression found and, with a run, the
    /// read-name summary.
    pub fn finish(mut self) -> Result<ContentOutcome, FastqError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if let Stage::Sniff(buffer) = &mut self.stage {
            // Fewer bytes than sniffing wanted: short plain text, or a cut gzip header.
            let buffered = std::mem::take(buffer);
            if buffered.starts_with(&[0x1f, 0x8b]) {
                return Err(FastqError::Compression(
                    "the input ends inside the first gzip header".into(),
                ));
            }
            self.stage = Stage::Plain;
            self.canon.feed(&buffered)?;
        }
        let compression = match self.stage {
            Stage::Sniff(_) | Stage::Plain => Compression::Plain,
            Stage::Gzip(decoder) => {
                decoder.finish().map_err(FastqError::Compression)?;
                Compression::Gzip
            }
            Stage::Bgzf(mut bgzf) => {
                bgzf.finish(&mut self.canon)?;
                Compression::Bgzf
            }
        };
        let (content, lineage) = self.canon.finish()?;
        Ok(ContentOutcome {
            content,
            compression,
            lineage,
        })
    }
}

/// Decide the compression once enough bytes are in; `None` means more are needed.
fn sniff(buffer: &[u8]) -> Result<Option<Stage>, FastqError> {
    const ZSTD: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
    const XZ: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0];
    if buffer.len() < 2 {
        return Ok(None);
    }
    if buffer.starts_with(&[0x1f, 0x8b]) {
        return match gzip::parse_header(buffer) {
            Ok(None) => Ok(None),
            Ok(Some(header)) if header.bgzf_bsize.is_some() => {
                Ok(Some(Stage::Bgzf(Bgzf::default())))
            }
            Ok(Some(_)) => Ok(Some(Stage::Gzip(Box::default()))),
            Err(e) => Err(FastqError::Compression(e)),
        };
    }
    if buffer.starts_with(ZSTD) {
        return Err(FastqError::Unsupported("zstd"));
    }
    if buffer.starts_with(b"BZh") {
        return Err(FastqError::Unsupported("bzip2"));
    }
    if buffer.starts_with(XZ) {
        return Err(FastqError::Unsupported("xz"));
    }
    Ok(Some(Stage::Plain))
}

fn feed_gzip(
    decoder: &mut Decoder,
    canon: &mut Canonical,
    mut data: &[u8],
) -> Result<(), FastqError> {
    let mut result = Ok(());
    while !data.is_empty() {
        let (used, _) = decoder
            .push(data, &mut |bytes| {
                if result.is_ok() {
                    result = canon.feed(bytes);
                }
            })
            .map_err(FastqError::Compression)?;
        data = &data[used..];
        result?;
        result = Ok(());
    }
    Ok(())
}

/// BGZF blocks gathered from the input and inflated in parallel batches.
#[derive(Default)]
struct Bgzf {
    /// Bytes of a block split across input chunks (at most one block).
    partial: Vec<u8>,
    /// Complete blocks waiting for the next batch.
    queued: Vec<Vec<u8>>,
    queued_bytes: usize,
    blocks: u64,
}

impl Bgzf {
    /// Take `data`; returns the remaining input when a member that is not a BGZF block is
    /// met (the caller decodes it sequentially from there).
    fn feed(
        &mut self,
        mut data: &[u8],
        canon: &mut Canonical,
    ) -> Result<Option<Vec<u8>>, FastqError> {
        // Complete a block split across chunks first.
        while !self.partial.is_empty() && !data.is_empty() {
            match block_len(&self.partial)? {
                None => {
                    let want = gzip::header_want(&self.partial).min(data.len());
                    self.partial.extend_from_slice(&data[..want]);
                    data = &data[want..];
                }
                Some(BlockLen::NotBgzf) => {
                    let mut rest = std::mem::take(&mut self.partial);
                    rest.extend_from_slice(data);
                    self.flush(canon)?;
                    return Ok(Some(rest));
                }
                Some(BlockLen::Bgzf(len)) => {
                    let want = len.saturating_sub(self.partial.len()).min(data.len());
                    self.partial.extend_from_slice(&data[..want]);
                    data = &data[want..];
                    if self.partial.len() >= len {
                        let rest = self.partial.split_off(len);
                        let block = std::mem::replace(&mut self.partial, rest);
                        self.queue(block, canon)?;
                    }
                }
            }
        }
        if !self.partial.is_empty() {
            return Ok(None);
        }
        // Whole blocks straight from `data`.
        loop {
            if data.is_empty() {
                return Ok(None);
            }
            match block_len(data)? {
                Some(BlockLen::Bgzf(len)) if len <= data.len() => {
                    self.queue(data[..len].to_vec(), canon)?;
                    data = &data[len..];
                }
                Some(BlockLen::NotBgzf) => {
                    self.flush(canon)?;
                    return Ok(Some(data.to_vec()));
                }
                Some(BlockLen::Bgzf(_)) | None => {
                    self.partial.extend_from_slice(data);
                    return Ok(None);
                }
            }
        }
    }

    fn queue(&mut self, block: Vec<u8>, canon: &mut Canonical) -> Result<(), FastqError> {
        self.queued_bytes += block.len();
        self.queued.push(block);
        if self.queued_bytes >= BGZF_BATCH {
            self.flush(canon)?;
        }
        Ok(())
    }

    /// Inflate the queued blocks in parallel and feed their output in order.
    fn flush(&mut self, canon: &mut Canonical) -> Result<(), FastqError> {
        let first = self.blocks;
        let outputs: Vec<Result<Vec<u8>, String>> =
            self.queued.par_iter().map(|b| inflate_block(b)).collect();
        for (i, output) in outputs.into_iter().enumerate() {
            let output = output.map_err(|e| {
                FastqError::Compression(format!("BGZF block {}: {e}", first + i as u64 + 1))
            })?;
            canon.feed(&output)?;
        }
        self.blocks += self.queued.len() as u64;
        self.queued.clear();
        self.queued_bytes = 0;
        Ok(())
    }

    fn finish(&mut self, canon: &mut Canonical) -> Result<(), FastqError> {
        self.flush(canon)?;
        if !self.partial.is_empty() {
            return Err(FastqError::Compression(format!(
                "the input ends inside BGZF block {}",
                self.blocks + 1
            )));
        }
        Ok(())
    }
}

enum BlockLen {
    Bgzf(usize),
    NotBgzf,
}

/// The length of the gzip member starting `data` if it is a BGZF block, `NotBgzf` if it
/// is another gzip member, `None` if more bytes are needed to tell.
fn block_len(data: &[u8]) -> Result<Option<BlockLen>, FastqError> {
    match gzip::parse_header(data).map_err(FastqError::Compression)? {
        None => Ok(None),
        Some(header) => Ok(Some(match header.bgzf_bsize {
            Some(bsize) => BlockLen::Bgzf(usize::from(bsize) + 1),
            None => BlockLen::NotBgzf,
        })),
    }
}

thread_local! {
    /// One inflater per thread, reset for each block (creating one costs more than
    /// inflating a small block).
    static INFLATE: std::cell::RefCell<Decompress> = std::cell::RefCell::new(Decompress::new(false));
}

/// Inflate one whole BGZF block, checking its CRC-32 and size.
fn inflate_block(block: &[u8]) -> Result<Vec<u8>, String> {
    let header = gzip::parse_header(block)?.ok_or("truncated header")?;
    if block.len() < header.len + 8 {
        return Err("shorter than its header and trailer".into());
    }
    let body = &block[header.len..block.len() - 8];
    let trailer = &block[block.len() - 8..];
    let crc = u32::from_le_bytes(trailer[0..4].try_into().expect("4 bytes"));
    let isize = u32::from_le_bytes(trailer[4..8].try_into().expect("4 bytes")) as usize;
    if isize > 65_536 {
        return Err(format!(
            "ISIZE {isize} is larger than a BGZF block can hold"
        ));
    }
    let mut out = Vec::with_capacity(isize.max(1));
    let (status, consumed) = INFLATE.with(|cell| {
        let mut inflate = cell.borrow_mut();
        inflate.reset(false);
        let status = inflate
            .decompress_vec(body, &mut out, FlushDecompress::Finish)
            .map_err(|e| format!("deflate data corrupt: {e}"))?;
        Ok::<_, String>((status, inflate.total_in() as usize))
    })?;
    if status != Status::StreamEnd || consumed != body.len() {
        return Err(format!(
            "the deflate data does not end where the block does (or inflates to more than ISIZE {isize})"
        ));
    }
    let mut check = Crc::new();
    check.update(&out);
    if check.sum() != crc || out.len() != isize {
        return Err("CRC-32 or size mismatch: the data is corrupt".into());
    }
    Ok(out)
}

/// The FASTQ parser that writes the canonical form into the digest.
struct Canonical {
    hasher: blake3::Hasher,
    out: Vec<u8>,
    line: Vec<u8>,
    /// Which line of the record comes next: 0 header, 1 sequence, 2 plus, 3 quality.
    next: u8,
    records: u64,
    bases: u64,
    seq_len: usize,
    name: Vec<u8>,
    blank_lines: u64,
    run: Option<RunExpectation>,
    lineage: LineageSummary,
}

impl Canonical {
    fn new(run: Option<RunExpectation>) -> Canonical {
        Canonical {
            hasher: blake3::Hasher::new_derive_key(CONTENT_CONTEXT),
            out: Vec::with_capacity(HASH_BATCH + (64 << 10)),
            line: Vec::new(),
            next: 0,
            records: 0,
            bases: 0,
            seq_len: 0,
            name: Vec::new(),
            blank_lines: 0,
            run,
            lineage: LineageSummary::default(),
        }
    }

    fn malformed(&self, reason: impl Into<String>) -> FastqError {
        FastqError::Malformed {
            record: self.records + 1,
            reason: reason.into(),
        }
    }

    fn feed(&mut self, mut data: &[u8]) -> Result<(), FastqError> {
        while !data.is_empty() {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    if self.line.is_empty() {
                        self.line_done(&data[..i])?;
                    } else {
                        let mut line = std::mem::take(&mut self.line);
                        line.extend_from_slice(&data[..i]);
                        self.line_done(&line)?;
                        line.clear();
                        self.line = line;
                    }
                    data = &data[i + 1..];
                }
                None => {
                    if self.line.len() + data.len() > MAX_LINE {
                        return Err(self.malformed("a line is longer than 64 MiB"));
                    }
                    self.line.extend_from_slice(data);
                    data = &[];
                }
            }
        }
        if self.out.len() >= HASH_BATCH {
            self.hasher.update(&self.out);
            self.out.clear();
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8]) -> Result<(), FastqError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match self.next {
            0 => {
                if line.is_empty() {
                    self.blank_lines += 1;
                    return Ok(());
                }
                if self.blank_lines > 0 {
                    return Err(self.malformed("a blank line comes before this record"));
                }
                let Some(name) = line.strip_prefix(b"@") else {
                    return Err(self.malformed("the header line does not start with '@'"));
                };
                self.out.extend_from_slice(name);
                self.out.push(b'\n');
                self.name.clear();
                self.name.extend_from_slice(name);
                if self.run.is_some() {
                    self.check_name();
                }
            }
            1 => {
                self.seq_len = line.len();
                self.bases += line.len() as u64;
                self.out.extend_from_slice(line);
                self.out.push(b'\n');
            }
            2 => {
                let Some(repeat) = line.strip_prefix(b"+") else {
                    return Err(self.malformed("the third line does not start with '+'"));
                };
                if !repeat.is_empty() && repeat != self.name.as_slice() {
                    return Err(self
                        .malformed("the '+' line repeats a name that differs from the header's"));
                }
            }
            _ => {
                if line.len() != self.seq_len {
                    return Err(self.malformed(format!(
                        "the quality string has {} characters, the sequence {}",
                        line.len(),
                        self.seq_len
                    )));
                }
                self.out.extend_from_slice(line);
                self.out.push(b'\n');
                self.records += 1;
                if self.out.len() >= HASH_BATCH {
                    self.hasher.update(&self.out);
                    self.out.clear();
                }
            }
        }
        self.next = (self.next + 1) % 4;
        Ok(())
    }

    fn check_name(&mut self) {
        let Some(run) = &self.run else { return };
        let record = self.records + 1;
        let problems = match std::str::from_utf8(&self.name) {
            Ok(text) => run.check_header(text),
            Err(_) => vec![HeaderMismatch::Unparsed("the name is not UTF-8".into())],
        };
        self.lineage.checked += 1;
        if !problems.is_empty() {
            self.lineage.mismatched += 1;
            if self.lineage.examples.len() < MAX_EXAMPLES {
                self.lineage.examples.push((record, problems));
            }
        }
    }

    fn finish(mut self) -> Result<(FastqContent, Option<LineageSummary>), FastqError> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line)?;
        }
        if self.next != 0 {
            let what = ["header", "sequence", "'+'", "quality"][self.next as usize];
            return Err(self.malformed(format!(
                "truncated: the input ends where the {what} line should be"
            )));
        }
        self.hasher.update(&self.out);
        let content = FastqContent {
            reads: self.records,
            bases: self.bases,
            digest: Bytes32(*self.hasher.finalize().as_bytes()),
        };
        let lineage = self.run.is_some().then_some(self.lineage);
        Ok((content, lineage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gzip::tests::{bgzf, gzip};

    /// The worked example of `spec/fastq-content.md`.
    pub(crate) const EXAMPLE: &[u8] = b"@r1 1:N:0:ACGT\nACGTN\n+\nIIII#\n@r2\nGGCC\n+r2\n!!!!\n";
    /// Its canonical form.
    const EXAMPLE_CANONICAL: &[u8] = b"r1 1:N:0:ACGT\nACGTN\nIIII#\nr2\nGGCC\n!!!!\n";
    /// Its content digest, as printed in the spec.
    const EXAMPLE_DIGEST: &str = "925c783a199548bc92b696d41310f29bebd7cba7d498a15ba8e3ea60e8b2ef68";

    fn content(data: &[u8], piece: usize) -> Result<ContentOutcome, FastqError> {
        let mut hasher = ContentHasher::new();
        for chunk in data.chunks(piece.max(1)) {
            hasher.update(chunk);
        }
        hasher.finish()
    }

    #[test]
    fn worked_example_matches_the_spec() {
        let expected = *blake3::Hasher::new_derive_key(CONTENT_CONTEXT)
            .update(EXAMPLE_CANONICAL)
            .finalize()
            .as_bytes();
        let got = content(EXAMPLE, 4096).unwrap();
        assert_eq!(got.content.digest.0, expected);
        assert_eq!(hex::encode(expected), EXAMPLE_DIGEST);
        assert_eq!((got.content.reads, got.content.bases), (2, 9));
        assert_eq!(got.compression, Compression::Plain);
    }

    #[test]
    fn same_reads_same_digest_whatever_the_encoding() {
        let reference = content(EXAMPLE, 4096).unwrap().content;
        let crlf = String::from_utf8(EXAMPLE.to_vec())
            .unwrap()
            .replace('\n', "\r\n");
        let no_final_newline = &EXAMPLE[..EXAMPLE.len() - 1];
        let mut trailing_blank = EXAMPLE.to_vec();
        trailing_blank.extend_from_slice(b"\n\n");
        let plus_with_name = b"@r1 1:N:0:ACGT\nACGTN\n+r1 1:N:0:ACGT\nIIII#\n@r2\nGGCC\n+\n!!!!\n";
        for variant in [
            crlf.as_bytes(),
            no_final_newline,
            &trailing_blank,
            plus_with_name,
        ] {
            for piece in [1, 2, 5, 4096] {
                assert_eq!(content(variant, piece).unwrap().content, reference);
            }
        }
        let big: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("@read{i}\nACGTACGTTGCA\n+\nFFFFFFFF:FFF\n").into_bytes())
            .collect();
        let plain = content(&big, 1 << 20).unwrap();
        let mut multi = gzip(&big[..100_003], 1);
        multi.extend(gzip(&big[100_003..], 9));
        for (data, compression) in [
            (gzip(&big, 1), Compression::Gzip),
            (gzip(&big, 9), Compression::Gzip),
            (multi, Compression::Gzip),
            (bgzf(&big, 65_280), Compression::Bgzf),
            (bgzf(&big, 1000), Compression::Bgzf),
        ] {
            for piece in [1000, 65_536, 1 << 22] {
                let got = content(&data, piece).unwrap();
                assert_eq!(got.content, plain.content);
                assert_eq!(got.compression, compression);
            }
        }
        // BGZF blocks followed by an ordinary gzip member.
        let mut mixed = bgzf(&big[..50_000], 10_000);
        mixed.extend(gzip(&big[50_000..], 6));
        assert_eq!(content(&mixed, 7777).unwrap().content, plain.content);
    }

    #[test]
    fn any_change_to_a_read_changes_the_digest() {
        let reference = content(EXAMPLE, 4096).unwrap().content.digest;
        for (from, to) in [
            (&b"r1 "[..], &b"r9 "[..]),
            (b"ACGTN", b"ACGTA"),
            (b"IIII#", b"IIIH#"),
            (b"!!!!", b"!!!\""),
        ] {
            let text = EXAMPLE.to_vec();
            let at = text.windows(from.len()).position(|w| w == from).unwrap();
            let mut changed = text.clone();
            changed[at..at + from.len()].copy_from_slice(to);
            assert_ne!(content(&changed, 3).unwrap().content.digest, reference);
        }
    }

    #[test]
    fn malformed_input_names_the_record() {
        let cases: [(&[u8], u64, &str); 6] = [
            (b"@a\nAC\n+\nII\n@b\nAC\n-\nII\n", 2, "'+'"),
            (b"@a\nAC\n+\nI\n", 1, "quality string has 1"),
            (b"@a\nAC\n+\n", 1, "truncated"),
            (b"@a\nAC\n+\nII\n\n@b\nA\n+\nI\n", 2, "blank line"),
            (b"a\nAC\n+\nII\n", 1, "'@'"),
            (b"@a\nAC\n+b\nII\n", 1, "differs"),
        ];
        for (data, record, needle) in cases {
            match content(data, 3) {
                Err(FastqError::Malformed { record: r, reason }) => {
                    assert_eq!(r, record, "{reason}");
                    assert!(reason.contains(needle), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
        let mut cut = gzip(EXAMPLE, 6);
        cut.truncate(cut.len() - 4);
        assert!(matches!(content(&cut, 5), Err(FastqError::Compression(_))));
        assert!(matches!(
            content(b"\x28\xb5\x2f\xfd....", 5),
            Err(FastqError::Unsupported("zstd"))
        ));
        let empty = content(b"", 5).unwrap().content;
        assert_eq!((empty.reads, empty.bases), (0, 0));
    }

    #[test]
    fn fastq_names_are_recognised() {
        assert!(is_fastq_name("a/S1_L001_R1_001.fastq.gz"));
        assert!(is_fastq_name("x.fq"));
        assert!(!is_fastq_name("x.fastq.bz2"));
    }
}
