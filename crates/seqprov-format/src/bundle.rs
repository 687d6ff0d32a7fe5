//! The bundle file: a CBOR sequence (RFC 8742) of the seal (tagged COSE_Sign1), the
//! entry list (array of entries), then zero or more custody events (tagged COSE_Sign1).
//!
//! Parsing is strict and bounded (see `spec/bundle.md`, "Limits"): every item must be
//! in deterministic encoding, entries must be sorted by path bytes without duplicates,
//! and anything after the entry list that is not a whole COSE_Sign1 is reported with
//! its offset.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ciborium::value::Value;

use crate::cbor::{self, DecodeError};
use crate::cose::{self, SignedMessage};
use crate::entry_list::{self, ListError};
use crate::error::{Error, Result};
use crate::manifest::{Entry, SEAL_CONTENT_TYPE, SealPayload};
use crate::merkle;

/// Largest bundle file accepted, in bytes.
pub const MAX_BUNDLE_BYTES: u64 = 4 << 30;
pub use crate::entry_list::MAX_ENTRIES;
/// Most custody events accepted in one bundle.
pub const MAX_EVENTS: usize = 100_000;
/// File name suffix of bundles.
pub const BUNDLE_SUFFIX: &str = "seqprov";

/// A parsed bundle. Signatures are not checked here (see [`crate::verify`]).
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The seal message.
    pub seal: SignedMessage,
    /// The decoded seal payload.
    pub payload: SealPayload,
    /// The entries, sorted by path bytes.
    pub entries: Vec<Entry>,
    /// The Merkle root recomputed from the entries as stored.
    pub computed_root: [u8; 32],
    /// The custody events that follow the entry list, as parsed messages.
    pub events: Vec<SignedMessage>,
}

fn malformed(reason: impl Into<String>) -> Error {
    Error::Malformed(reason.into())
}

fn item_error(what: &str, offset: usize, e: DecodeError) -> Error {
    match e {
        DecodeError::Truncated => malformed(format!(
            "truncated: the {what} starting at byte {offset} ends early"
        )),
        other => malformed(format!("{what} at byte {offset}: {other}")),
    }
}

impl Bundle {
    /// Read and parse a bundle file.
    pub fn read(path: &Path) -> Result<Bundle> {
        let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.len() > MAX_BUNDLE_BYTES {
            return Err(malformed(format!(
                "{} is {} bytes, more than the limit of {MAX_BUNDLE_BYTES}",
                path.display(),
                meta.len()
            )));
        }
        let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
        Bundle::parse(&bytes)
    }

    /// Parse bundle bytes.
    pub fn parse(bytes: &[u8]) -> Result<Bundle> {
        if bytes.is_empty() {
            return Err(malformed("the file is empty"));
        }
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(malformed("bundle exceeds the size limit"));
        }
        let (seal, payload, seal_len) = parse_seal(bytes)?;

        let rest = &bytes[seal_len..];
        if rest.is_empty() {
            return Err(malformed(format!(
                "truncated: the entry list expected at byte {seal_len} is missing"
            )));
        }
        let (entries, encoded, list_len) = parse_entry_list(rest, seal_len)?;
        check_counts(&payload, &entries)?;
        let computed_root = merkle::root(&merkle::leaf_hashes(&encoded));
        drop(encoded);

        let events = parse_events(bytes, seal_len + list_len)?;
        Ok(Bundle {
            seal,
            payload,
            entries,
            computed_root,
            events,
        })
    }

    /// True when the entries hash to the root the seal signs.
    pub fn root_matches(&self) -> bool {
        self.computed_root == self.payload.root.0
    }
}

/// Parse the seal at the start of `bytes` (of a bundle or a proof): a tagged COSE_Sign1
/// with the seal content type and a valid payload. Returns it and its length in bytes.
pub fn parse_seal(bytes: &[u8]) -> Result<(SignedMessage, SealPayload, usize)> {
    let (seal_value, seal_len) =
        cbor::decode_canonical(bytes).map_err(|e| item_error("seal", 0, e))?;
    if !matches!(seal_value, Value::Tag(18, _)) {
        return Err(malformed(
            "the first item is not a tagged COSE_Sign1 (tag 18)",
        ));
    }
    let seal = cose::parse(&bytes[..seal_len]).map_err(|e| malformed(format!("seal: {e}")))?;
    if seal.content_type != SEAL_CONTENT_TYPE {
        return Err(malformed(format!(
            "seal content type is `{}`, not `{SEAL_CONTENT_TYPE}`",
            seal.content_type
        )));
    }
    let payload = SealPayload::from_cbor(&seal.payload)
        .map_err(|e| malformed(format!("seal payload: {e}")))?;
    Ok((seal, payload, seal_len))
}

/// Parse the custody events from `offset` to the end of `bytes` (a bundle or a proof):
/// each a whole, canonical, tagged COSE_Sign1; anything else is reported with its offset.
pub fn parse_events(bytes: &[u8], mut offset: usize) -> Result<Vec<SignedMessage>> {
    let mut events = Vec::new();
    while offset < bytes.len() {
        if events.len() == MAX_EVENTS {
            return Err(malformed(format!("more than {MAX_EVENTS} custody events")));
        }
        let tail = &bytes[offset..];
        let what = "custody event";
        let (value, used) = cbor::decode_canonical(tail).map_err(|e| {
            malformed(format!(
                "{} bytes of garbage or a torn write after byte {offset}: {}",
                tail.len(),
                match e {
                    DecodeError::Truncated => format!("the {what} there ends early"),
                    other => other.to_string(),
                }
            ))
        })?;
        if !matches!(value, Value::Tag(18, _)) {
            return Err(malformed(format!(
                "{} bytes of garbage after byte {offset}: the item there is not a custody \
                 event (tagged COSE_Sign1)",
                tail.len()
            )));
        }
        let event = cose::parse(&tail[..used])
            .map_err(|e| malformed(format!("{what} at byte {offset}: {e}")))?;
        events.push(event);
        offset += used;
    }
    Ok(events)
}

/// Decode the entry list and return the entries with their encodings (the Merkle
/// leaves' inputs) and the list's length in bytes.
fn parse_entry_list(rest: &[u8], offset: usize) -> Result<(Vec<Entry>, Vec<Vec<u8>>, usize)> {
    let decoded = entry_list::decode(rest).map_err(|e| match e {
        ListError::Truncated => malformed(format!(
            "truncated: the entry list starting at byte {offset} ends early"
        )),
        ListError::Invalid(why) => malformed(format!("entry list at byte {offset}: {why}")),
    })?;
    let mut head = Vec::new();
    cbor::write_head(&mut head, 4, decoded.entries.len() as u64);
    if !rest.starts_with(&head) {
        return Err(malformed(format!(
            "the entry list at byte {offset} is not in the single encoding format version 1 \
             allows (deterministic CBOR)"
        )));
    }
    for pair in decoded.entries.windows(2) {
        if pair[0].path.as_bytes() >= pair[1].path.as_bytes() {
            return Err(malformed(format!(
                "entries are not sorted by path bytes, or repeat a path: {:?} then {:?}",
                pair[0].path, pair[1].path
            )));
        }
    }
    if let Some((a, b)) =
        crate::entry_path::normalisation_collision(decoded.entries.iter().map(|e| e.path.as_str()))
    {
        return Err(malformed(format!(
            "entries {a:?} and {b:?} are the same path after Unicode normalisation (NFC)"
        )));
    }
    Ok((decoded.entries, decoded.encoded, decoded.len))
}

fn check_counts(payload: &SealPayload, entries: &[Entry]) -> Result<()> {
    let files = entries.iter().filter(|e| e.size.is_some()).count() as u64;
    let bytes = entries
        .iter()
        .filter_map(|e| e.size)
        .try_fold(0u64, u64::checked_add)
        .ok_or_else(|| malformed("the entries' sizes add up to more than 2^64 - 1 bytes"))?;
    if payload.entries != entries.len() as u64 || payload.files != files || payload.bytes != bytes {
        return Err(malformed(format!(
            "the entry list ({} entries, {files} files, {bytes} bytes) does not match the seal \
             ({} entries, {} files, {} bytes)",
            entries.len(),
            payload.entries,
            payload.files,
            payload.bytes
        )));
    }
    let sha = payload.has_sha256();
    if let Some(e) = entries
        .iter()
        .find(|e| e.size.is_some() && e.sha256.is_some() != sha)
    {
        return Err(malformed(format!(
            "entry {:?} does not carry exactly the digests the seal lists",
            e.path
        )));
    }
    Ok(())
}

/// The default bundle path for a directory: `DIR.seqprov` beside it.
pub fn default_bundle_path(dir: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
    let name = absolute
        .components()
        .next_back()
        .and_then(|c| match c {
            std::path::Component::Normal(name) => Some(name.to_owned()),
            _ => None,
        })
        .ok_or_else(|| {
            Error::Refused(format!(
                "{} has no name to derive a bundle name from; name the bundle explicitly",
                dir.display()
            ))
        })?;
    let mut file = name;
    file.push(".");
    file.push(BUNDLE_SUFFIX);
    Ok(absolute.parent().unwrap_or(Path::new("/")).join(file))
}

/// Whether an existing bundle may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse if the destination exists.
    Refuse,
    /// Replace it atomically.
    Replace,
}

/// Write `bytes` to `path` atomically: temporary file in the same directory, fsync,
/// rename, fsync of the directory. Nothing partial is ever visible at `path`.
pub fn write_atomically(path: &Path, bytes: &[u8], overwrite: Overwrite) -> Result<()> {
    write_atomically_with_mode(path, bytes, overwrite, 0o644)
}

/// [`write_atomically`] with the permission bits the new file gets.
pub fn write_atomically_with_mode(
    path: &Path,
    bytes: &[u8],
    overwrite: Overwrite,
    mode: u32,
) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if overwrite == Overwrite::Refuse && fs::symlink_metadata(path).is_ok() {
        return Err(Error::Refused(format!(
            "{} already exists; pass --force to replace it",
            path.display()
        )));
    }
    let mut temp = tempfile::Builder::new()
        .prefix(".seqprov-")
        .suffix(".tmp")
        .tempfile_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    // Set the mode on the open file: unlike the creation mode, this is not narrowed by
    // the umask, so an appended bundle keeps exactly the mode it had.
    temp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(|e| Error::io(temp.path(), e))?;
    temp.write_all(bytes)
        .map_err(|e| Error::io(temp.path(), e))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| Error::io(temp.path(), e))?;
    match overwrite {
        Overwrite::Replace => temp
            .persist(path)
            .map(drop)
            .map_err(|e| Error::io(path, e.error))?,
        Overwrite::Refuse => temp.persist_noclobber(path).map(drop).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Refused(format!(
                    "{} already exists; pass --force to replace it",
                    path.display()
                ))
            } else {
                Error::io(path, e.error)
            }
        })?,
    }
    let dir = fs::File::open(&parent).map_err(|e| Error::io(&parent, e))?;
    dir.sync_all().map_err(|e| Error::io(&parent, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::keys::PrivateKey;
    use crate::manifest::{Bytes32, Entry, EntryKind};
    use crate::seal::{SealOptions, sign_entries};

    fn one_file_bundle() -> Vec<u8> {
        let entry = Entry {
            path: "a.fastq".into(),
            kind: EntryKind::File,
            salt: Bytes32([3; 32]),
            size: Some(1),
            blake3: Some(Bytes32([4; 32])),
            sha256: None,
            target: None,
            content: None,
        };
        let key = PrivateKey::from_seed(&[1; 32], None);
        sign_entries(vec![entry], "run", &key, &SealOptions::default()).bundle
    }

    /// Re-encode the entry list after `edit` changes its first entry's CBOR value.
    fn with_edited_entry(edit: impl Fn(Value) -> Value) -> Vec<u8> {
        let bytes = one_file_bundle();
        let (_, seal_len) = cbor::decode_first(&bytes).unwrap();
        let (list, _) = cbor::decode_first(&bytes[seal_len..]).unwrap();
        let Value::Array(mut items) = list else {
            panic!()
        };
        let first = items.remove(0);
        items.insert(0, edit(first));
        let mut out = bytes[..seal_len].to_vec();
        out.extend(cbor::encode(Value::Array(items)).unwrap());
        out
    }

    #[test]
    fn the_untouched_bundle_parses() {
        let bundle = Bundle::parse(&one_file_bundle()).unwrap();
        assert!(bundle.root_matches());
    }

    /// Regression: a null optional field, a tag around an entry, or another enum spelling
    /// was read as the plain entry, so one entry had several encodings and leaf hashes.
    #[test]
    fn other_spellings_of_an_entry_are_rejected() {
        let add_null = |v: Value| match v {
            Value::Map(mut m) => {
                m.push((Value::Text("target".into()), Value::Null));
                Value::Map(m)
            }
            other => other,
        };
        let tagged = |v: Value| Value::Tag(24, Box::new(v));
        let kind_as_map = |v: Value| match v {
            Value::Map(m) => Value::Map(
                m.into_iter()
                    .map(|(k, v)| {
                        if k == Value::Text("kind".into()) {
                            (k, Value::Map(vec![(v, Value::Null)]))
                        } else {
                            (k, v)
                        }
                    })
                    .collect(),
            ),
            other => other,
        };
        for (name, bytes) in [
            ("null field", with_edited_entry(add_null)),
            ("tagged entry", with_edited_entry(tagged)),
            ("kind as map", with_edited_entry(kind_as_map)),
        ] {
            let err = Bundle::parse(&bytes).unwrap_err().to_string();
            assert!(err.contains("malformed bundle"), "{name}: {err}");
        }
    }

    #[test]
    fn declared_entry_count_over_the_limit_is_refused_before_decoding() {
        let bytes = one_file_bundle();
        let (_, seal_len) = cbor::decode_first(&bytes).unwrap();
        let mut out = bytes[..seal_len].to_vec();
        out.extend([0x9b, 0, 0, 0, 1, 0, 0, 0, 0]);
        let err = Bundle::parse(&out).unwrap_err().to_string();
        assert!(err.contains("more than the limit"), "{err}");
    }

    #[test]
    fn default_bundle_path_strips_trailing_slash() {
        let p = default_bundle_path(Path::new("/data/run1/")).unwrap();
        assert_eq!(p, Path::new("/data/run1.seqprov"));
    }

    #[test]
    fn atomic_write_refuses_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.seqprov");
        write_atomically(&path, b"one", Overwrite::Refuse).unwrap();
        assert!(matches!(
            write_atomically(&path, b"two", Overwrite::Refuse),
            Err(Error::Refused(_))
        ));
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_atomically(&path, b"two", Overwrite::Replace).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }
}
