//! The entry list (the bundle's second item): encoding, and a strict, allocation-light
//! decoder written for its one fixed shape, because verification reads one entry per
//! sealed file.
//!
//! The decoder walks the bytes directly: an array of maps whose keys come in the order
//! deterministic encoding gives them (`kind`, `path`, `salt`, `size`, `blake3`, `sha256`,
//! `target`, `content`). Every decoded entry is then re-encoded and must equal the bytes read, so the
//! only accepted form is the deterministic one; every length is checked against the
//! bytes that remain before anything is allocated.

use crate::byte_window::ByteWindow;
use crate::cbor;
use crate::manifest::{Bytes32, Entry, EntryKind};
use crate::merkle;
use crate::run_record::FastqContent;

/// Most entries accepted in one bundle.
pub const MAX_ENTRIES: usize = 50_000_000;
/// Most bytes one encoded entry may take. Every entry that [`Entry::validate`] accepts
/// (a path and a link target of at most [`MAX_PATH_BYTES`] each, and every other field)
/// fits well within it, so the limit refuses nothing else: it bounds what a streaming
/// reader holds before an entry is complete.
///
/// [`MAX_PATH_BYTES`]: crate::manifest::MAX_PATH_BYTES
pub const MAX_ENTRY_BYTES: usize = 16 << 10;

/// The entry list item for already-encoded entries.
pub fn encode(encoded_entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(encoded_entries));
    encode_into(encoded_entries, &mut out);
    out
}

/// At most how many bytes [`encode`] produces for these entries.
pub fn encoded_len(encoded_entries: &[Vec<u8>]) -> usize {
    9 + encoded_entries.iter().map(Vec::len).sum::<usize>()
}

/// Append the entry list of already-encoded entries to `out` (see [`encode`]).
pub fn encode_into(encoded_entries: &[Vec<u8>], out: &mut Vec<u8>) {
    cbor::write_head(out, 4, encoded_entries.len() as u64);
    for e in encoded_entries {
        out.extend_from_slice(e);
    }
}

/// A decoded entry list.
pub struct Decoded {
    /// The entries, in list order.
    pub entries: Vec<Entry>,
    /// Each entry's Merkle leaf hash, computed from its exact bytes in the input (no copy
    /// of those bytes is kept: parsing stays within a small multiple of the input size).
    pub leaves: Vec<[u8; 32]>,
    /// Length of the whole list item in bytes.
    pub len: usize,
}

/// Why the entry list could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum ListError {
    /// The bytes end inside the list.
    Truncated,
    /// Anything else, in words.
    Invalid(String),
}

/// A cursor over CBOR bytes of a fixed shape (the entry list, the proof body).
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: u64) -> Result<&'a [u8], ListError> {
        let n = usize::try_from(n).map_err(|_| ListError::Truncated)?;
        let end = self.at.checked_add(n).ok_or(ListError::Truncated)?;
        let slice = self.bytes.get(self.at..end).ok_or(ListError::Truncated)?;
        self.at = end;
        Ok(slice)
    }

    /// A head: (major type, argument). Indefinite lengths and reserved values are refused.
    pub(crate) fn head(&mut self) -> Result<(u8, u64), ListError> {
        let first = self.take(1)?[0];
        let (major, info) = (first >> 5, first & 0x1f);
        let arg = match info {
            0..=23 => info as u64,
            24..=27 => {
                let width = 1u64 << (info - 24);
                self.take(width)?
                    .iter()
                    .fold(0u64, |acc, &b| (acc << 8) | b as u64)
            }
            _ => {
                return Err(ListError::Invalid(format!(
                    "byte {}: indefinite length or reserved value",
                    self.at - 1
                )));
            }
        };
        Ok((major, arg))
    }

    pub(crate) fn expect(&mut self, major: u8, what: &str) -> Result<u64, ListError> {
        let (found, arg) = self.head()?;
        if found != major {
            return Err(ListError::Invalid(format!("expected {what}")));
        }
        Ok(arg)
    }

    pub(crate) fn text(&mut self, what: &str) -> Result<&'a str, ListError> {
        let len = self.expect(3, what)?;
        std::str::from_utf8(self.take(len)?)
            .map_err(|_| ListError::Invalid(format!("{what} is not valid UTF-8")))
    }

    pub(crate) fn bytes32(&mut self, what: &str) -> Result<Bytes32, ListError> {
        let len = self.expect(2, what)?;
        if len != 32 {
            return Err(ListError::Invalid(format!("{what} is not 32 bytes")));
        }
        Ok(Bytes32(self.take(32)?.try_into().expect("32 bytes")))
    }

    /// The next short text key, without consuming it; `None` if the next item is not one.
    fn peek_key(&self) -> Result<Option<&'a [u8]>, ListError> {
        let first = *self.bytes.get(self.at).ok_or(ListError::Truncated)?;
        if first >> 5 != 3 || first & 0x1f > 23 {
            return Ok(None);
        }
        let len = (first & 0x1f) as usize;
        self.bytes
            .get(self.at + 1..self.at + 1 + len)
            .map(Some)
            .ok_or(ListError::Truncated)
    }

    pub(crate) fn key(&mut self, name: &str) -> Result<(), ListError> {
        let found = self.text("a map key")?;
        if found != name {
            return Err(ListError::Invalid(format!(
                "found key {found:?} where {name:?} belongs"
            )));
        }
        Ok(())
    }
}

/// Decode the entry list at the start of `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Decoded, ListError> {
    // Reserve once: each entry takes at least 40 bytes, so never more than the input could
    // hold (the count is checked against MAX_ENTRIES by `walk`).
    let declared = Reader { bytes, at: 0 }.expect(4, "the entry list (an array)")?;
    let capacity = usize::try_from(declared)
        .unwrap_or(usize::MAX)
        .min(bytes.len() / 40 + 1)
        .min(MAX_ENTRIES);
    let mut entries = Vec::with_capacity(capacity);
    let mut leaves = Vec::with_capacity(capacity);
    let len = walk(bytes, |entry, leaf| {
        entries.push(entry);
        leaves.push(leaf);
    })?;
    Ok(Decoded {
        entries,
        leaves,
        len,
    })
}

/// Check the entry list at the start of `bytes` as [`decode`] does, keeping nothing;
/// returns its length in bytes. Used to find what follows the list without holding it.
pub fn skip(bytes: &[u8]) -> Result<usize, ListError> {
    walk(bytes, |_, _| {})
}

/// Decode and check every entry in turn, handing each (with its leaf hash) to `each`.
fn walk(bytes: &[u8], mut each: impl FnMut(Entry, [u8; 32])) -> Result<usize, ListError> {
    let mut r = Reader { bytes, at: 0 };
    let count = r.expect(4, "the entry list (an array)")?;
    check_count(count)?;
    // One scratch buffer for every re-encoding: the comparison allocates nothing per entry.
    let mut scratch = Vec::with_capacity(256);
    let mut at = r.at;
    for index in 0..count {
        let (entry, leaf, used) = next_entry(&bytes[at..], index, &mut scratch)?;
        each(entry, leaf);
        at += used;
    }
    Ok(at)
}

fn check_count(count: u64) -> Result<(), ListError> {
    if count > MAX_ENTRIES as u64 {
        return Err(ListError::Invalid(format!(
            "the entry list declares {count} entries, more than the limit of {MAX_ENTRIES}"
        )));
    }
    Ok(())
}

/// Decode and check the entry at the start of `bytes` (entry number `index` of the list):
/// the entry, its Merkle leaf hash and its length in bytes. [`ListError::Truncated`] when
/// `bytes` end inside it.
pub(crate) fn next_entry(
    bytes: &[u8],
    index: u64,
    scratch: &mut Vec<u8>,
) -> Result<(Entry, [u8; 32], usize), ListError> {
    let mut r = Reader { bytes, at: 0 };
    let entry = decode_entry(&mut r).map_err(|e| match e {
        ListError::Truncated => ListError::Truncated,
        ListError::Invalid(why) => ListError::Invalid(format!("entry {index}: {why}")),
    })?;
    entry
        .validate()
        .map_err(|why| ListError::Invalid(format!("entry {index} ({:?}): {why}", entry.path)))?;
    let exact = &bytes[..r.at];
    if exact.len() > MAX_ENTRY_BYTES {
        return Err(ListError::Invalid(format!(
            "entry {index} ({:?}) is {} bytes, more than the limit of {MAX_ENTRY_BYTES}",
            entry.path,
            exact.len()
        )));
    }
    scratch.clear();
    entry.write_cbor(scratch);
    if scratch.as_slice() != exact {
        return Err(ListError::Invalid(format!(
            "entry {index} ({:?}) is not in the single encoding format version 1 allows \
             (deterministic CBOR)",
            entry.path
        )));
    }
    Ok((entry, merkle::leaf_hash(exact), r.at))
}

/// Why an entry list could not be read from a stream.
#[derive(Debug)]
pub(crate) enum WindowError {
    /// Reading the stream failed.
    Io(std::io::Error),
    /// The bytes are not a valid entry list.
    List(ListError),
}

impl From<ListError> for WindowError {
    fn from(e: ListError) -> WindowError {
        WindowError::List(e)
    }
}

impl From<std::io::Error> for WindowError {
    fn from(e: std::io::Error) -> WindowError {
        WindowError::Io(e)
    }
}

/// Decode and check the entry list at the start of `window`'s available bytes, reading
/// more as needed, handing each entry (with its leaf hash) to `each` and consuming its
/// bytes: the window holds at most one entry ([`MAX_ENTRY_BYTES`]) plus one read. The list
/// is accepted exactly as [`decode`] accepts it, and its head must be the deterministic
/// one for its count. Returns the count.
pub(crate) fn walk_window<R: std::io::Read>(
    window: &mut ByteWindow<R>,
    mut each: impl FnMut(Entry, [u8; 32]),
) -> Result<u64, WindowError> {
    while window.available().len() < 9 && window.read_more()? {}
    let mut r = Reader {
        bytes: window.available(),
        at: 0,
    };
    let count = r.expect(4, "the entry list (an array)")?;
    check_count(count)?;
    let mut head = Vec::with_capacity(9);
    cbor::write_head(&mut head, 4, count);
    if window.available()[..r.at] != head[..] {
        return Err(ListError::Invalid(
            "the list head is not in the single encoding format version 1 allows \
             (deterministic CBOR)"
                .into(),
        )
        .into());
    }
    window.consume(r.at);
    let mut scratch = Vec::with_capacity(256);
    for index in 0..count {
        loop {
            match next_entry(window.available(), index, &mut scratch) {
                Ok((entry, leaf, used)) => {
                    window.consume(used);
                    each(entry, leaf);
                    break;
                }
                Err(ListError::Truncated) => {
                    if window.available().len() >= MAX_ENTRY_BYTES {
                        return Err(ListError::Invalid(format!(
                            "entry {index} is longer than the limit of {MAX_ENTRY_BYTES} bytes"
                        ))
                        .into());
                    }
                    if !window.read_more()? {
                        return Err(ListError::Truncated.into());
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(count)
}

fn decode_entry(r: &mut Reader<'_>) -> Result<Entry, ListError> {
    let pairs = r.expect(5, "an entry (a map)")?;
    if !(3..=8).contains(&pairs) {
        return Err(ListError::Invalid(format!("an entry has {pairs} fields")));
    }
    r.key("kind")?;
    let kind = match r.text("kind")? {
        "file" => EntryKind::File,
        "symlink" => EntryKind::Symlink,
        "dir" => EntryKind::Dir,
        other => return Err(ListError::Invalid(format!("unknown kind {other:?}"))),
    };
    r.key("path")?;
    let path = r.text("path")?.to_string();
    r.key("salt")?;
    let salt = r.bytes32("salt")?;
    let mut entry = Entry::bare(path, kind, salt);
    let mut remaining = pairs - 3;
    let mut optional = |r: &mut Reader<'_>, name: &str| -> Result<bool, ListError> {
        if remaining > 0 && r.peek_key()? == Some(name.as_bytes()) {
            r.key(name)?;
            remaining -= 1;
            Ok(true)
        } else {
            Ok(false)
        }
    };
    if optional(r, "size")? {
        entry.size = Some(r.expect(0, "size (an unsigned integer)")?);
    }
    if optional(r, "blake3")? {
        entry.blake3 = Some(r.bytes32("blake3")?);
    }
    if optional(r, "sha256")? {
        entry.sha256 = Some(r.bytes32("sha256")?);
    }
    if optional(r, "target")? {
        entry.target = Some(r.text("target")?.to_string());
    }
    if optional(r, "content")? {
        if r.expect(5, "content (a map)")? != 3 {
            return Err(ListError::Invalid(
                "content must have bases, reads and digest".into(),
            ));
        }
        r.key("bases")?;
        let bases = r.expect(0, "bases (an unsigned integer)")?;
        r.key("reads")?;
        let reads = r.expect(0, "reads (an unsigned integer)")?;
        r.key("digest")?;
        let digest = r.bytes32("digest")?;
        entry.content = Some(Box::new(FastqContent {
            reads,
            bases,
            digest,
        }));
    }
    if remaining > 0 {
        let key = r.peek_key()?.map(String::from_utf8_lossy);
        return Err(ListError::Invalid(format!(
            "unknown or misplaced field {}",
            key.map_or_else(
                || "(not a short text key)".to_string(),
                |k| format!("{k:?}")
            )
        )));
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Entry> {
        vec![
            Entry {
                path: "a".into(),
                kind: EntryKind::Dir,
                salt: Bytes32([1; 32]),
                size: None,
                blake3: None,
                sha256: None,
                target: None,
                content: None,
            },
            Entry {
                path: "b.fastq".into(),
                kind: EntryKind::File,
                salt: Bytes32([2; 32]),
                size: Some(300),
                blake3: Some(Bytes32([3; 32])),
                sha256: Some(Bytes32([4; 32])),
                target: None,
                content: None,
            },
            Entry {
                path: "c".into(),
                kind: EntryKind::Symlink,
                salt: Bytes32([5; 32]),
                size: None,
                blake3: None,
                sha256: None,
                target: Some("b.fastq".into()),
                content: None,
            },
        ]
    }

    #[test]
    fn round_trip() {
        let encoded: Vec<Vec<u8>> = sample().iter().map(Entry::to_cbor).collect();
        let mut bytes = encode(&encoded);
        bytes.extend_from_slice(b"tail");
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded.entries, sample());
        let leaves: Vec<[u8; 32]> = encoded.iter().map(|e| merkle::leaf_hash(e)).collect();
        assert_eq!(decoded.leaves, leaves);
        assert_eq!(decoded.len, bytes.len() - 4);
    }

    #[test]
    fn every_truncation_is_reported_as_truncated() {
        let encoded: Vec<Vec<u8>> = sample().iter().map(Entry::to_cbor).collect();
        let bytes = encode(&encoded);
        for cut in 0..bytes.len() {
            assert_eq!(
                decode(&bytes[..cut]).err(),
                Some(ListError::Truncated),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn long_form_head_is_rejected() {
        let encoded: Vec<Vec<u8>> = sample().iter().map(Entry::to_cbor).collect();
        let mut bytes = vec![0x98, 3];
        bytes.extend(encoded.concat());
        assert!(
            decode(&bytes).is_ok(),
            "the list head itself is checked by the bundle"
        );
        let mut entry = encoded[1].clone();
        // size 300 written with a 4-byte argument instead of 2.
        let at = entry
            .windows(3)
            .position(|w| w == [0x19, 0x01, 0x2c])
            .unwrap();
        entry.splice(at..at + 3, [0x1a, 0, 0, 0x01, 0x2c]);
        let mut bytes = vec![0x81];
        bytes.extend(entry);
        assert!(
            matches!(decode(&bytes), Err(ListError::Invalid(why)) if why.contains("single encoding"))
        );
    }

    #[test]
    fn huge_declared_lengths_do_not_allocate() {
        let bytes = [0x9b, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff];
        assert!(decode(&bytes).is_err());
        let bytes = [
            0x81, 0xa3, 0x64, b'k', b'i', b'n', b'd', 0x7b, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
        ];
        assert_eq!(decode(&bytes).err(), Some(ListError::Truncated));
    }
}
