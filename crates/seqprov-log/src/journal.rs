//! The append journal of a log directory (spec/log.md §3, "The journal"): `DIR/journal`,
//! one framed record per appended batch, so that a batch is durable with one `fdatasync`
//! of one file instead of an fsync of every tile and directory it touches.
//!
//! This module owns the journal's bytes: encoding a record, and reading records back
//! one at a time (each bounded before it is allocated) with a torn last record told apart
//! from a complete one. What a record means (which tree it extends, whose signature its
//! checkpoint carries) is checked by [`crate::log_dir`], which replays it.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::checkpoint::MAX_CHECKPOINT_LEN;
use crate::{LogError, MAX_ENTRY_LEN, entry_bundle};

/// The journal's file name in a log directory.
pub const JOURNAL_FILE: &str = "journal";

/// The most entries one batch record holds; a larger append is journaled (and published)
/// as several batches.
pub const MAX_RECORD_ENTRIES: usize = 4096;

/// The largest record payload: a batch of [`MAX_RECORD_ENTRIES`] entries of the largest
/// size, its fixed fields and the largest checkpoint.
pub const MAX_RECORD_LEN: usize =
    1 + 8 + 4 + 4 + MAX_RECORD_ENTRIES * (2 + MAX_ENTRY_LEN) + MAX_CHECKPOINT_LEN;

/// Record kind: the base checkpoint (the first record, and only there).
const KIND_BASE: u8 = 0;
/// Record kind: one appended batch.
const KIND_BATCH: u8 = 1;

/// One journal record.
#[derive(Debug, PartialEq, Eq)]
pub enum Record {
    /// The checkpoint whose whole tree was durable in the tiles when the journal was
    /// written: replay starts from it.
    Base {
        /// The signed checkpoint note, verbatim.
        note: Vec<u8>,
    },
    /// One batch: the entries appended to a tree of `old_size` entries, and the log-signed
    /// checkpoint of the tree they make.
    Batch {
        /// The tree size the batch extends.
        old_size: u64,
        /// The new entries, in index order.
        entries: Vec<Vec<u8>>,
        /// The log-signed checkpoint note of the new tree, verbatim.
        note: Vec<u8>,
    },
}

fn malformed(path: &Path, detail: impl std::fmt::Display) -> LogError {
    LogError::Malformed {
        what: "log journal",
        detail: format!("{}: {detail}", path.display()),
    }
}

/// Frames a payload: u32 big-endian length ‖ payload ‖ SHA-256(payload).
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + payload.len() + 32);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&Sha256::digest(payload));
    out
}

/// The framed base record of `note`.
pub fn encode_base(note: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(1 + note.len());
    payload.push(KIND_BASE);
    payload.extend_from_slice(note);
    frame(&payload)
}

/// The framed batch record of `entries` (at most [`MAX_RECORD_ENTRIES`], each at most
/// [`MAX_ENTRY_LEN`] bytes) appended to a tree of `old_size`, and the new tree's `note`.
pub fn encode_batch(old_size: u64, entries: &[&[u8]], note: &[u8]) -> Result<Vec<u8>, LogError> {
    if entries.len() > MAX_RECORD_ENTRIES || note.len() > MAX_CHECKPOINT_LEN {
        return Err(LogError::Malformed {
            what: "log journal",
            detail: format!(
                "a batch record of {} entries and a {}-byte checkpoint is over the limits ({MAX_RECORD_ENTRIES}, {MAX_CHECKPOINT_LEN})",
                entries.len(),
                note.len()
            ),
        });
    }
    let bundle = entry_bundle::encode(entries)?;
    let mut payload = Vec::with_capacity(17 + bundle.len() + note.len());
    payload.push(KIND_BATCH);
    payload.extend_from_slice(&old_size.to_be_bytes());
    payload.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    payload.extend_from_slice(&(bundle.len() as u32).to_be_bytes());
    payload.extend_from_slice(&bundle);
    payload.extend_from_slice(note);
    Ok(frame(&payload))
}

/// Decodes one record's payload (its hash already matched).
fn decode_payload(path: &Path, payload: &[u8]) -> Result<Record, LogError> {
    let Some((&kind, body)) = payload.split_first() else {
        return Err(malformed(path, "an empty record"));
    };
    let check_note = |note: &[u8]| {
        if note.is_empty() || note.len() > MAX_CHECKPOINT_LEN {
            Err(malformed(
                path,
                format!(
                    "a record's checkpoint has {} bytes (1 to {MAX_CHECKPOINT_LEN})",
                    note.len()
                ),
            ))
        } else {
            Ok(note.to_vec())
        }
    };
    match kind {
        KIND_BASE => Ok(Record::Base {
            note: check_note(body)?,
        }),
        KIND_BATCH => {
            let fields = body
                .split_first_chunk::<8>()
                .and_then(|(old, rest)| {
                    let (count, rest) = rest.split_first_chunk::<4>()?;
                    let (len, rest) = rest.split_first_chunk::<4>()?;
                    Some((*old, *count, *len, rest))
                })
                .ok_or_else(|| malformed(path, "a batch record ends inside its fixed fields"))?;
            let (old, count, len, rest) = fields;
            let count = u32::from_be_bytes(count) as usize;
            let len = u32::from_be_bytes(len) as usize;
            if count == 0 || count > MAX_RECORD_ENTRIES || len > rest.len() {
                return Err(malformed(
                    path,
                    format!(
                        "a batch record declares {count} entries in {len} bytes (1 to {MAX_RECORD_ENTRIES} entries, at most the {} bytes left)",
                        rest.len()
                    ),
                ));
            }
            let (bundle, note) = rest.split_at(len);
            let entries = entry_bundle::decode(bundle, count)
                .map_err(|e| malformed(path, format!("a batch record's entries: {e}")))?;
            Ok(Record::Batch {
                old_size: u64::from_be_bytes(old),
                entries,
                note: check_note(note)?,
            })
        }
        other => Err(malformed(path, format!("an unknown record kind {other}"))),
    }
}

/// Reads a journal's records in order, one at a time.
pub struct JournalReader {
    path: PathBuf,
    file: BufReader<File>,
    /// Bytes of the file not yet read.
    remaining: u64,
    /// Bytes of complete records read so far.
    good_len: u64,
    /// Set once a torn last record was met (and skipped).
    torn: bool,
}

impl JournalReader {
    /// Reads the journal open as `file` (a regular file) at `path`.
    pub fn new(path: &Path, file: File) -> Result<JournalReader, LogError> {
        let remaining = file
            .metadata()
            .map_err(|source| LogError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        Ok(JournalReader {
            path: path.to_path_buf(),
            file: BufReader::with_capacity(1 << 16, file),
            remaining,
            good_len: 0,
            torn: false,
        })
    }

    /// The next complete record, or `None` at the end of the journal. A last record cut
    /// short (its length or hash runs past the end of the file) or whose hash does not
    /// match is a torn write of a batch that was never acknowledged: it and everything
    /// after it are skipped ([`JournalReader::torn`] says so). A record whose hash
    /// matches but whose fields are malformed is an error.
    pub fn next_record(&mut self) -> Result<Option<Record>, LogError> {
        if self.torn || self.remaining == 0 {
            return Ok(None);
        }
        let io = |source| LogError::Io {
            path: self.path.clone(),
            source,
        };
        if self.remaining < 4 {
            self.torn = true;
            return Ok(None);
        }
        let mut len = [0u8; 4];
        self.file.read_exact(&mut len).map_err(io)?;
        let len = u32::from_be_bytes(len) as u64;
        // Bounded before anything is allocated: by the format's largest record and by
        // what the file still holds.
        if len as usize > MAX_RECORD_LEN || len + 32 > self.remaining - 4 {
            self.torn = true;
            return Ok(None);
        }
        let mut payload = vec![0u8; len as usize];
        self.file.read_exact(&mut payload).map_err(io)?;
        let mut hash = [0u8; 32];
        self.file.read_exact(&mut hash).map_err(io)?;
        self.remaining -= 4 + len + 32;
        if Sha256::digest(&payload)[..] != hash {
            self.torn = true;
            return Ok(None);
        }
        self.good_len += 4 + len + 32;
        decode_payload(&self.path, &payload).map(Some)
    }

    /// Whether a torn last record was skipped.
    pub fn torn(&self) -> bool {
        self.torn
    }

    /// The length of the complete records read so far.
    pub fn good_len(&self) -> u64 {
        self.good_len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};

    fn reader(bytes: &[u8]) -> JournalReader {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        file.rewind().unwrap();
        JournalReader::new(Path::new("journal"), file).unwrap()
    }

    fn all(bytes: &[u8]) -> (Vec<Record>, bool) {
        let mut r = reader(bytes);
        let mut out = Vec::new();
        while let Some(record) = r.next_record().unwrap() {
            out.push(record);
        }
        (out, r.torn())
    }

    #[test]
    fn records_round_trip() {
        let mut bytes = encode_base(b"base note\n");
        let batch = encode_batch(7, &[b"a", b"bc"], b"note 9\n").unwrap();
        bytes.extend_from_slice(&batch);
        let (records, torn) = all(&bytes);
        assert!(!torn);
        assert_eq!(
            records,
            vec![
                Record::Base {
                    note: b"base note\n".to_vec()
                },
                Record::Batch {
                    old_size: 7,
                    entries: vec![b"a".to_vec(), b"bc".to_vec()],
                    note: b"note 9\n".to_vec()
                }
            ]
        );
    }

    #[test]
    fn a_torn_last_record_is_skipped_at_every_cut() {
        let mut bytes = encode_base(b"base note\n");
        let whole = bytes.len();
        bytes.extend_from_slice(&encode_batch(0, &[b"entry"], b"note 1\n").unwrap());
        for cut in whole + 1..bytes.len() {
            let (records, torn) = all(&bytes[..cut]);
            assert_eq!(records.len(), 1, "cut at {cut}");
            assert!(torn, "cut at {cut}");
        }
        // A flipped byte in the last record's payload: torn (its hash does not match).
        let mut flipped = bytes.clone();
        flipped[whole + 10] ^= 1;
        let (records, torn) = all(&flipped);
        assert_eq!((records.len(), torn), (1, true));
    }

    #[test]
    fn a_huge_declared_length_allocates_nothing() {
        let mut bytes = encode_base(b"base note\n");
        bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        bytes.extend_from_slice(&[0; 64]);
        let (records, torn) = all(&bytes);
        assert_eq!((records.len(), torn), (1, true));
    }

    #[test]
    fn a_well_hashed_but_malformed_record_is_an_error() {
        let payload = [KIND_BATCH, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let err = reader(&frame(&payload)).next_record().unwrap_err();
        assert!(err.to_string().contains("batch record"), "{err}");
        let err = reader(&frame(&[9, 1, 2])).next_record().unwrap_err();
        assert!(err.to_string().contains("unknown record kind 9"), "{err}");
        assert!(encode_batch(0, &vec![&b"e"[..]; MAX_RECORD_ENTRIES + 1], b"n").is_err());
    }
}
