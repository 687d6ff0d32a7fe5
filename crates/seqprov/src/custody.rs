//! Signing custody events and the crash- and concurrency-safe append of one to a bundle.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub use seqprov_format::event::{
    DerivedRef, EVENT_CONTENT_TYPE, EVENT_FORMAT, EVENT_VERSION, EventKind, EventPayload,
    ReceiveSummary, message_digest,
};
use seqprov_format::manifest::{Bytes32, SignerInfo, format_time};
use seqprov_format::{Bundle, cose};

use crate::bundle_file::{self, Overwrite};
use crate::error::{Error, Result};
use crate::keys::Signer;

/// What the signer of a new event says.
#[derive(Clone, Debug)]
pub struct EventDraft {
    /// Event kind.
    pub kind: EventKind,
    /// Printed name; defaults to the key file's name, then to the key id.
    pub signer_name: Option<String>,
    /// Role of the signer.
    pub role: String,
    /// Meaning of the signature.
    pub meaning: String,
    /// Host or location.
    pub host: Option<String>,
    /// Recipient (transfer).
    pub to: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Verification summary (receive).
    pub verification: Option<ReceiveSummary>,
    /// Derived bundle (derive).
    pub derived: Option<DerivedRef>,
    /// Time to record; `None` means now.
    pub time: Option<time::OffsetDateTime>,
}

/// Build and sign the next event for `bundle` (does not write anything).
pub fn sign_next_event(
    bundle: &Bundle,
    key: &dyn Signer,
    draft: &EventDraft,
) -> Result<(EventPayload, Vec<u8>)> {
    let previous = bundle.events.last().map_or(&bundle.seal.raw, |e| &e.raw);
    let public = key.public_key_with_name();
    let payload = EventPayload {
        format: EVENT_FORMAT.into(),
        version: EVENT_VERSION,
        kind: draft.kind,
        seq: bundle.events.len() as u64 + 1,
        prev: Bytes32(message_digest(previous)),
        root: bundle.payload.root,
        time: format_time(draft.time.unwrap_or_else(time::OffsetDateTime::now_utc)),
        signer: SignerInfo {
            name: draft
                .signer_name
                .clone()
                .or_else(|| key.signer_name())
                .unwrap_or_else(|| format!("key {}", &public.id().to_hex()[..16])),
            role: draft.role.clone(),
            meaning: draft.meaning.clone(),
            public_key: Bytes32(public.to_bytes()),
            key_storage: key.key_storage().recorded(),
        },
        host: draft.host.clone(),
        to: draft.to.clone(),
        note: draft.note.clone(),
        verification: draft.verification.clone(),
        derived: draft.derived.clone(),
    };
    let raw = cose::sign(payload.to_cbor(), EVENT_CONTENT_TYPE, key)?;
    Ok((payload, raw))
}

/// Which bundle a caller checked: the digest of its seal message and of its last message
/// (the last custody event, or the seal when there is none). Two bundle files with the
/// same identity hold the same seal and the same chain, so an event signed after checking
/// one fits exactly the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BundleIdentity {
    /// `message_digest` of the seal message.
    pub seal: [u8; 32],
    /// `message_digest` of the last message (last custody event, else the seal).
    pub last: [u8; 32],
}

impl BundleIdentity {
    /// The identity of a parsed bundle.
    pub fn of(bundle: &Bundle) -> BundleIdentity {
        let last = bundle.events.last().map_or(&bundle.seal.raw, |e| &e.raw);
        BundleIdentity {
            seal: message_digest(&bundle.seal.raw),
            last: message_digest(last),
        }
    }
}

/// Append a signed event to the bundle at `path`, safely against crashes and concurrent
/// appenders.
///
/// The bundle file is locked (an exclusive `flock`), re-read, checked (seal signature,
/// entry root and every existing link must hold: nobody should sign onto a broken chain),
/// and replaced by a complete new file written beside it, fsynced and renamed over it.
/// A crash leaves the previous bundle; a concurrent appender waits for the lock and then
/// sees the new file (if the path no longer names the locked file, it starts over).
pub fn append_event(path: &Path, key: &dyn Signer, draft: &EventDraft) -> Result<EventPayload> {
    append(path, key, draft, None)
}

/// [`append_event`], but only to the bundle the caller checked: under the lock, the bundle
/// at `path` must have the identity `expected` (the same seal and the same last message),
/// else nothing is written and the error is [`Error::Refused`] (exit 2). `receive` uses it
/// so that its signed "received and verified" lands only on the bytes it verified.
pub fn append_event_if_unchanged(
    path: &Path,
    key: &dyn Signer,
    draft: &EventDraft,
    expected: &BundleIdentity,
) -> Result<EventPayload> {
    append(path, key, draft, Some(expected))
}

fn append(
    path: &Path,
    key: &dyn Signer,
    draft: &EventDraft,
    expected: Option<&BundleIdentity>,
) -> Result<EventPayload> {
    append_items(path, |bundle| {
        if let Some(expected) = expected
            && BundleIdentity::of(bundle) != *expected
        {
            return Err(Error::Refused(format!(
                "{} changed since it was verified (its seal or last custody event differs); \
                 nothing was appended",
                path.display()
            )));
        }
        check_before_append(path, bundle)?;
        if bundle.events.len() >= seqprov_format::bundle::MAX_EVENTS {
            return Err(Error::Refused(format!(
                "{} already holds {} custody events, the most a bundle may hold",
                path.display(),
                seqprov_format::bundle::MAX_EVENTS
            )));
        }
        let (payload, raw) = sign_next_event(bundle, key, draft)?;
        if raw.len() > seqprov_format::bundle::MAX_EVENT_BYTES {
            return Err(Error::Refused(format!(
                "the custody event would be {} bytes, more than the {} bytes an event may \
                 take; nothing was appended",
                raw.len(),
                seqprov_format::bundle::MAX_EVENT_BYTES
            )));
        }
        Ok((raw, payload))
    })
}

/// Refuse to append to a bundle that does not hold together (seal signature, entry root,
/// every link): nobody should sign onto, or stamp, a broken chain. Exit 1.
pub fn check_before_append(path: &Path, bundle: &Bundle) -> Result<()> {
    crate::integrity::check_integrity(bundle).map_err(|problem| {
        Error::Integrity(format!(
            "refusing to append to {}: {problem}",
            path.display()
        ))
    })
}

/// Append items to the bundle at `path` under its exclusive lock, as [`append_event`]
/// does: `items` sees the bundle as re-read under the lock (it calls
/// [`check_before_append`] where the bundle must hold together) and returns the
/// bytes to append (whole canonical items: custody events, timestamp records) with a
/// value handed back to the caller, or an error, in which case nothing is written.
/// `items` is called once, unless the file was replaced while the lock was awaited
/// (then it is called again for the new file). What it appends must keep the bundle
/// readable: that is the caller's to check against the bundle it is shown.
pub fn append_items<T>(
    path: &Path,
    mut items: impl FnMut(&Bundle) -> Result<(Vec<u8>, T)>,
) -> Result<T> {
    // Nothing is written through a link: a symlink planted at the bundle path could point
    // into a sealed folder or at anyone's bundle (hostile review round 2). The check is
    // repeated under the lock below, so a link swapped in meanwhile is refused too.
    let refuse_link = || {
        Error::Refused(format!(
            "{} is a symbolic link; name the bundle file itself (nothing is appended \
             through a link)",
            path.display()
        ))
    };
    if fs::symlink_metadata(path)
        .map_err(|e| Error::io(path, e))?
        .file_type()
        .is_symlink()
    {
        return Err(refuse_link());
    }
    loop {
        // Opened without blocking (a FIFO swapped in is refused, not waited on) and
        // checked on the handle to be a regular file; read from that same handle below.
        let (mut file, _) = seqprov_engine::bounded_read::open_regular_file(path)?;
        file.lock().map_err(|e| Error::io(path, e))?;
        let locked = file.metadata().map_err(|e| Error::io(path, e))?;
        let current = fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
        if current.file_type().is_symlink() {
            return Err(refuse_link());
        }
        if (locked.dev(), locked.ino()) != (current.dev(), current.ino()) {
            // Another appender replaced the file while we waited: lock the new one.
            continue;
        }
        if locked.len() > seqprov_format::bundle::MAX_BUNDLE_BYTES {
            return Err(Error::Malformed(format!(
                "{} is larger than the {} bytes a bundle may hold",
                path.display(),
                seqprov_format::bundle::MAX_BUNDLE_BYTES
            )));
        }
        let limit = seqprov_format::bundle::MAX_BUNDLE_BYTES;
        let bytes =
            seqprov_engine::bounded_read::read_at_most(&mut file, path, limit, locked.len())
                .map_err(|e| match e {
                    seqprov_engine::EngineError::TooLarge { .. } => Error::Malformed(format!(
                        "{} is larger than the {limit} bytes a bundle may hold",
                        path.display()
                    )),
                    other => other.into(),
                })?;
        let bundle = bundle_file::parse_bundle(&bytes)?;
        let (raw, value) = items(&bundle)?;
        let mut out = bytes;
        out.extend_from_slice(&raw);
        if out.len() as u64 > seqprov_format::bundle::MAX_BUNDLE_BYTES {
            return Err(Error::Refused(format!(
                "appending would make {} larger than the {} bytes a bundle may hold",
                path.display(),
                seqprov_format::bundle::MAX_BUNDLE_BYTES
            )));
        }
        bundle_file::write_atomically_with_mode(
            path,
            &out,
            Overwrite::Replace,
            locked.mode() & 0o777,
        )?;
        drop(file);
        return Ok(value);
    }
}
