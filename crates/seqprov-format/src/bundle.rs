//! The bundle file: a CBOR sequence (RFC 8742) of the seal (tagged COSE_Sign1), the
//! entry list (array of entries), then zero or more custody events (tagged COSE_Sign1).
//!
//! Parsing is strict and bounded (see `spec/bundle.md`, "Limits"): every item must be
//! in deterministic encoding, entries must be sorted by path bytes without duplicates,
//! and anything after the entry list that is not a whole COSE_Sign1 is reported with
//! its offset.

use std::io::Read;

use ciborium::value::Value;

use crate::byte_window::ByteWindow;

use crate::cbor::{self, DecodeError};
use crate::cose::{self, SignedMessage};
use crate::entry_list::{self, ListError, WindowError};
use crate::entry_table::EntryTable;
use crate::error::{FormatError as Error, Result};
use crate::log_receipt_record::{
    self, LogReceiptRecord, MAX_RECEIPT_RECORD_BYTES, MAX_RECEIPTS_PER_MESSAGE,
};
use crate::manifest::{SEAL_CONTENT_TYPE, SealPayload};
use crate::merkle;
use crate::timestamp_record::{MAX_RECORDS_PER_MESSAGE, MAX_TOKEN_BYTES, TimestampRecord};

/// Bytes of a timestamp record beside its token: the map, its keys, `format`, `version`,
/// `covers` and the token's head (a record of a maximal token is 65 591 bytes).
const MAX_RECORD_OVERHEAD: usize = 128;

/// Largest bundle file accepted, in bytes.
pub const MAX_BUNDLE_BYTES: u64 = 4 << 30;
pub use crate::entry_list::MAX_ENTRIES;
/// Largest seal item (the COSE_Sign1 with its payload) accepted, in bytes: checked from
/// the CBOR heads before the seal is decoded. A real seal is kilobytes (the largest run
/// metadata the limits allow is about 200 KB); this leaves room for about 100,000
/// `broken` records, and bounds what reading a seal costs (spec/bundle.md §13).
pub const MAX_SEAL_BYTES: usize = 16 << 20;
/// Most custody events accepted in one bundle.
pub const MAX_EVENTS: usize = 100_000;
/// Largest custody event item (the COSE_Sign1 with its payload) accepted, in bytes:
/// checked from the CBOR heads before the event is decoded, so that one huge event (a
/// decoded message costs a few times its size) cannot make a small bundle cost gigabytes.
/// An event the CLI writes is far smaller (one command-line argument is at most 128 KiB
/// on Linux).
pub const MAX_EVENT_BYTES: usize = 1 << 20;
/// File name suffix of bundles.
pub const BUNDLE_SUFFIX: &str = "seqprov";

/// A parsed bundle. Signatures are not checked here: the trust layer (`seqprov`) does.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The seal message.
    pub seal: SignedMessage,
    /// The decoded seal payload.
    pub payload: SealPayload,
    /// The entries, sorted by path bytes, held compactly.
    pub entries: EntryTable,
    /// What the entries show about the signed Merkle root.
    pub root_evidence: RootEvidence,
    /// The custody events that follow the entry list, as parsed messages.
    pub events: Vec<SignedMessage>,
    /// The timestamp records among the custody events, in file order
    /// (`spec/timestamps.md`); each covers the seal or an event before it.
    pub timestamps: Vec<TimestampRecord>,
    /// The log receipt records among the custody events, in file order
    /// (`spec/log.md` §7.1); each covers the seal or an event before it.
    pub log_receipts: Vec<LogReceiptRecord>,
}

/// How the entries of a [`Bundle`] were checked against the signed root. A typed result,
/// never a placeholder root: a seal that signs an all-zero root gains nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootEvidence {
    /// A whole entry list: the Merkle root recomputed from the entries as stored.
    Recomputed([u8; 32]),
    /// A proof: how many disclosed entries' inclusion paths lead to the signed root, and
    /// how many do not.
    InclusionPaths {
        /// Paths that lead to the signed root.
        valid: usize,
        /// Paths that do not (or whose index is outside the signed entry count).
        invalid: usize,
    },
    /// The entries were not decoded: the seal did not hold (its signature does not
    /// verify), so nothing it signs was worth reading.
    NotDecoded,
}

/// Why a bundle could not be read from a stream ([`Bundle::read_from`]).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The bytes are not a valid bundle.
    #[error(transparent)]
    Format(#[from] Error),
    /// Reading the stream failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
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
    /// Parse bundle bytes.
    pub fn parse(bytes: &[u8]) -> Result<Bundle> {
        Bundle::parse_checking_seal_first(bytes, |_, _| true)
    }

    /// Parse bundle bytes, deciding from the seal alone whether the entry list is worth
    /// decoding: `seal_holds` sees the seal message and its payload (a caller checks the
    /// signature there). When it says no, the entry list is only walked to find the custody
    /// events after it, nothing of it is kept, `entries` is empty and `root_evidence` is
    /// [`RootEvidence::NotDecoded`]. So a forged bundle costs no memory for its entries.
    /// The seal is decoded once either way.
    pub fn parse_checking_seal_first(
        bytes: &[u8],
        seal_holds: impl FnOnce(&SignedMessage, &SealPayload) -> bool,
    ) -> Result<Bundle> {
        Bundle::read_from(bytes, bytes.len() as u64, seal_holds).map_err(|e| match e {
            ReadError::Format(e) => e,
            // Reading a slice cannot fail.
            ReadError::Io(e) => malformed(e.to_string()),
        })
    }

    /// Read a bundle from a stream, as [`Bundle::parse_checking_seal_first`] parses bytes
    /// (the same checks, the same result), without holding the whole file: the seal is
    /// read and decoded first, then the entry list one entry at a time (each entry is
    /// decoded, its leaf hashed into the Merkle root as it arrives, and its bytes dropped), then the
    /// custody events. So the memory a bundle costs is its decoded entries plus one read,
    /// not its bytes as well. `len_hint` is the stream's length if known (it bounds what is
    /// reserved for entries, never what is accepted); at most [`MAX_BUNDLE_BYTES`] are
    /// accepted.
    pub fn read_from(
        reader: impl Read,
        len_hint: u64,
        seal_holds: impl FnOnce(&SignedMessage, &SealPayload) -> bool,
    ) -> Result<Bundle, ReadError> {
        let mut window = ByteWindow::new(reader.take(MAX_BUNDLE_BYTES + 1));
        let (seal, payload, seal_len) = read_seal(&mut window)?;
        if window.available().is_empty() && !window.read_more()? {
            return Err(malformed(format!(
                "truncated: the entry list expected at byte {seal_len} is missing"
            ))
            .into());
        }
        let list_error = |e: WindowError| match e {
            WindowError::Io(e) => ReadError::Io(e),
            WindowError::List(e) => ReadError::Format(list_error(e, seal_len)),
        };
        let (entries, root_evidence) = if seal_holds(&seal, &payload) {
            // Reserve once, for the signed count but never more than the stream could hold
            // (an entry takes at least 40 bytes): no doubling of a vector of a million entries.
            // The signed count is checked against the list below.
            let capacity = usize::try_from(payload.entries.min(len_hint / 40 + 1))
                .unwrap_or(usize::MAX)
                .min(entry_list::MAX_ENTRIES);
            let mut entries = EntryTable::with_capacity(capacity);
            let mut full = false;
            let mut root = merkle::RootBuilder::new();
            entry_list::walk_window(&mut window, |entry, leaf| {
                full |= entries.push(&entry).is_err();
                root.push(leaf);
            })
            .map_err(list_error)?;
            if full {
                return Err(malformed(format!(
                    "entry list at byte {seal_len}: {}",
                    crate::entry_table::TableFull
                ))
                .into());
            }
            check_order(&entries, seal_len)?;
            check_counts(&payload, &entries)?;
            (entries, RootEvidence::Recomputed(root.finish()))
        } else {
            entry_list::walk_window(&mut window, |_, _| {}).map_err(list_error)?;
            (EntryTable::default(), RootEvidence::NotDecoded)
        };
        let tail = read_tail(&mut window)?;
        Ok(Bundle {
            seal,
            payload,
            entries,
            root_evidence,
            events: tail.events,
            timestamps: tail.timestamps,
            log_receipts: tail.log_receipts,
        })
    }

    /// True when the entries hash to the root the seal signs: the recomputed root equals
    /// it, or (a proof) every inclusion path leads to it.
    pub fn root_matches(&self) -> bool {
        match self.root_evidence {
            RootEvidence::Recomputed(root) => root == self.payload.root.0,
            RootEvidence::InclusionPaths { valid, invalid } => invalid == 0 && valid > 0,
            RootEvidence::NotDecoded => false,
        }
    }
}

/// Parse the seal at the start of `bytes` (of a bundle or a proof): a tagged COSE_Sign1
/// with the seal content type and a valid payload. Returns it and its length in bytes.
pub fn parse_seal(bytes: &[u8]) -> Result<(SignedMessage, SealPayload, usize)> {
    let seal_len = seal_len(bytes)?;
    let (seal, payload) = parse_seal_item(bytes[..seal_len].to_vec())?;
    Ok((seal, payload, seal_len))
}

/// The length of the seal item at the start of `bytes`, checked to be at most
/// [`MAX_SEAL_BYTES`], canonical and tagged 18, before anything of it is kept.
fn seal_len(bytes: &[u8]) -> Result<usize> {
    // Bound the seal before decoding it: its length is read from the CBOR heads alone.
    let seal_len = cbor::item_len(bytes).map_err(|e| item_error("seal", 0, e))?;
    if seal_len > MAX_SEAL_BYTES {
        return Err(malformed(format!(
            "the seal is {seal_len} bytes, more than the limit of {MAX_SEAL_BYTES}"
        )));
    }
    // The decoded tree is only looked at here, and dropped before the seal is parsed.
    let (seal_value, seal_len) =
        cbor::decode_canonical(bytes).map_err(|e| item_error("seal", 0, e))?;
    if !matches!(seal_value, Value::Tag(18, _)) {
        return Err(malformed(
            "the first item is not a tagged COSE_Sign1 (tag 18)",
        ));
    }
    Ok(seal_len)
}

/// Parse the exact bytes of a seal item (from [`seal_len`]) as the seal and its payload.
fn parse_seal_item(raw: Vec<u8>) -> Result<(SignedMessage, SealPayload)> {
    let seal = cose::parse_owned(raw).map_err(|e| malformed(format!("seal: {e}")))?;
    if seal.content_type != SEAL_CONTENT_TYPE {
        return Err(malformed(format!(
            "seal content type is `{}`, not `{SEAL_CONTENT_TYPE}`",
            seal.content_type
        )));
    }
    let payload = SealPayload::from_cbor(seal.payload())
        .map_err(|e| malformed(format!("seal payload: {e}")))?;
    Ok((seal, payload))
}

/// Parse the custody events from `offset` to the end of `bytes` (a bundle or a proof):
/// each a whole, canonical, tagged COSE_Sign1; anything else is reported with its offset.
pub fn parse_events(bytes: &[u8], offset: usize) -> Result<Vec<SignedMessage>> {
    parse_events_from(&bytes[offset.min(bytes.len())..], offset)
}

/// Parse the custody events that make up all of `tail`, which starts at byte `base` of
/// its bundle or proof (offsets in messages are the file's).
fn parse_events_from(tail: &[u8], base: usize) -> Result<Vec<SignedMessage>> {
    let mut events = Vec::new();
    let mut at = 0;
    while at < tail.len() {
        if events.len() == MAX_EVENTS {
            return Err(malformed(format!("more than {MAX_EVENTS} custody events")));
        }
        let rest = &tail[at..];
        let (event, used) =
            parse_event(rest, (base + at) as u64).map_err(|e| e.into_error(rest.len() as u64))?;
        events.push(event);
        at += used;
    }
    Ok(events)
}

/// Why the item at some offset after the entry list is not a custody event; the message
/// needs how many bytes are left from there to the end of the file, which a streaming
/// reader counts only when it has to.
enum EventError {
    /// The bytes there are not a whole item of the right kind: "N bytes of garbage …".
    Garbage {
        /// Offset of the item in the file.
        offset: u64,
        /// Whether the item might be a cut-off event (a torn write).
        torn: bool,
        /// What is wrong, in words.
        why: String,
    },
    /// Anything else, already in words.
    Malformed(Error),
}

impl EventError {
    fn into_error(self, rest_len: u64) -> Error {
        match self {
            EventError::Garbage { offset, torn, why } => malformed(format!(
                "{rest_len} bytes of garbage{} after byte {offset}: {why}",
                if torn { " or a torn write" } else { "" }
            )),
            EventError::Malformed(e) => e,
        }
    }
}

/// Parse the custody event at the start of `rest` (at byte `offset` of its file): one
/// whole, canonical, tagged COSE_Sign1 of at most [`MAX_EVENT_BYTES`] (checked from its
/// heads before it is decoded). Returns it and its length in bytes.
fn parse_event(
    rest: &[u8],
    offset: u64,
) -> std::result::Result<(SignedMessage, usize), EventError> {
    match parse_tail_item(rest, offset, false)? {
        (TailItem::Event(event), used) => Ok((*event, used)),
        (TailItem::Record(_) | TailItem::Receipt(_), _) => {
            unreachable!("records are not parsed here")
        }
    }
}

/// An item after the entry list of a bundle.
enum TailItem {
    /// A custody event (boxed: a record is much smaller).
    Event(Box<SignedMessage>),
    /// A timestamp record (`spec/timestamps.md`).
    Record(TimestampRecord),
    /// A log receipt record (`spec/log.md` §7.1).
    Receipt(LogReceiptRecord),
}

/// Parse the item at the start of `rest` (at byte `offset`): a custody event as
/// [`parse_event`] does, or, when `records_allowed`, a timestamp record or a log receipt
/// record (an untagged map, bounded from its heads by the largest receipt record before
/// it is decoded; a map whose `format` is `seqprov.log-receipt` is a receipt, any other
/// map is read as a timestamp record).
fn parse_tail_item(
    rest: &[u8],
    offset: u64,
    records_allowed: bool,
) -> std::result::Result<(TailItem, usize), EventError> {
    let what = "custody event";
    if records_allowed
        && rest.first().is_some_and(|b| b >> 5 == 5)
        && let Ok(len) = cbor::item_len(rest)
        && len > MAX_RECEIPT_RECORD_BYTES.max(MAX_TOKEN_BYTES + MAX_RECORD_OVERHEAD)
    {
        return Err(EventError::Malformed(malformed(format!(
            "record at byte {offset} is {len} bytes; a timestamp record holds a token of 1 to \
             {MAX_TOKEN_BYTES} bytes, a log receipt record is at most \
             {MAX_RECEIPT_RECORD_BYTES} bytes"
        ))));
    }
    let too_large = || {
        EventError::Malformed(malformed(format!(
            "{what} at byte {offset} is more than the limit of {MAX_EVENT_BYTES} bytes"
        )))
    };
    match cbor::item_len(rest) {
        Ok(len) if len > MAX_EVENT_BYTES => return Err(too_large()),
        Err(DecodeError::Truncated) if rest.len() > MAX_EVENT_BYTES => return Err(too_large()),
        // Ends early by its heads: not handed to the decoder, whatever lengths it claims.
        Err(DecodeError::Truncated) => {
            return Err(EventError::Garbage {
                offset,
                torn: true,
                why: format!("the {what} there ends early"),
            });
        }
        _ => {}
    }
    let (value, used) = cbor::decode_canonical(rest).map_err(|e| EventError::Garbage {
        offset,
        torn: true,
        why: match e {
            DecodeError::Truncated => format!("the {what} there ends early"),
            other => other.to_string(),
        },
    })?;
    if records_allowed && log_receipt_record::is_receipt_map(&value) {
        let record = LogReceiptRecord::from_cbor(&rest[..used]).map_err(|e| {
            EventError::Malformed(malformed(format!(
                "log receipt record at byte {offset}: {e}"
            )))
        })?;
        return Ok((TailItem::Receipt(record), used));
    }
    if records_allowed && matches!(value, Value::Map(_)) {
        let record = TimestampRecord::from_cbor(&rest[..used]).map_err(|e| {
            EventError::Malformed(malformed(format!("timestamp record at byte {offset}: {e}")))
        })?;
        return Ok((TailItem::Record(record), used));
    }
    if !matches!(value, Value::Tag(18, _)) {
        return Err(EventError::Garbage {
            offset,
            torn: false,
            why: format!(
                "the item there is not a custody event (tagged COSE_Sign1){}",
                if records_allowed {
                    " nor a timestamp record"
                } else {
                    ""
                }
            ),
        });
    }
    let event = cose::parse(&rest[..used])
        .map_err(|e| EventError::Malformed(malformed(format!("{what} at byte {offset}: {e}"))))?;
    Ok((TailItem::Event(Box::new(event)), used))
}

/// What follows the entry list of a bundle.
struct Tail {
    events: Vec<SignedMessage>,
    timestamps: Vec<TimestampRecord>,
    log_receipts: Vec<LogReceiptRecord>,
}

/// Read the custody events from `window` to the end of the stream, one at a time: each is
/// read until its length is known from its heads ([`fill_item`], never more than
/// [`MAX_EVENT_BYTES`] and one read), decoded and its bytes dropped, so the file's tail
/// is never held whole. A stream longer than [`MAX_BUNDLE_BYTES`] is refused.
fn read_tail<R: Read>(window: &mut ByteWindow<R>) -> Result<Tail, ReadError> {
    let too_long = || ReadError::from(malformed("bundle exceeds the size limit"));
    let mut events = Vec::new();
    let mut records: Vec<TimestampRecord> = Vec::new();
    let mut receipts: Vec<LogReceiptRecord> = Vec::new();
    // How many timestamp records and receipt records cover each message so far (index
    // 0: the seal).
    let mut per_message: Vec<u8> = vec![0];
    let mut receipts_per_message: Vec<u8> = vec![0];
    loop {
        if window.available().is_empty() && !window.read_more()? {
            return Ok(Tail {
                events,
                timestamps: records,
                log_receipts: receipts,
            });
        }
        fill_item(window, MAX_EVENT_BYTES)?;
        if window.offset() + window.available().len() as u64 > MAX_BUNDLE_BYTES {
            return Err(too_long());
        }
        let offset = window.offset();
        match parse_tail_item(window.available(), offset, true) {
            Ok((TailItem::Event(event), used)) => {
                if events.len() == MAX_EVENTS {
                    return Err(malformed(format!("more than {MAX_EVENTS} custody events")).into());
                }
                events.push(*event);
                per_message.push(0);
                receipts_per_message.push(0);
                window.consume(used);
            }
            Ok((TailItem::Receipt(record), used)) => {
                let covered = usize::try_from(record.covers)
                    .ok()
                    .filter(|&i| i <= events.len())
                    .ok_or_else(|| {
                        malformed(format!(
                            "log receipt record at byte {offset} covers message {}, which \
                             does not precede it",
                            record.covers
                        ))
                    })?;
                if usize::from(receipts_per_message[covered]) == MAX_RECEIPTS_PER_MESSAGE {
                    return Err(malformed(format!(
                        "log receipt record at byte {offset}: more than \
                         {MAX_RECEIPTS_PER_MESSAGE} receipt records cover message {covered}"
                    ))
                    .into());
                }
                receipts_per_message[covered] += 1;
                receipts.push(record);
                window.consume(used);
            }
            Ok((TailItem::Record(record), used)) => {
                let covered = usize::try_from(record.covers)
                    .ok()
                    .filter(|&i| i <= events.len())
                    .ok_or_else(|| {
                        malformed(format!(
                            "timestamp record at byte {offset} covers message {}, which does \
                             not precede it",
                            record.covers
                        ))
                    })?;
                if usize::from(per_message[covered]) == MAX_RECORDS_PER_MESSAGE {
                    return Err(malformed(format!(
                        "timestamp record at byte {offset}: more than \
                         {MAX_RECORDS_PER_MESSAGE} records cover message {covered}"
                    ))
                    .into());
                }
                per_message[covered] += 1;
                records.push(record);
                window.consume(used);
            }
            Err(e) => {
                // Count (without holding) what is left, for the message.
                let at = window.offset();
                let end = window.count_to_end()?;
                if end > MAX_BUNDLE_BYTES {
                    return Err(too_long());
                }
                return Err(e.into_error(end - at).into());
            }
        }
    }
}

/// Read more into `window` until the length of the item at its start is known from the
/// CBOR heads, the stream ends, or more than `limit` bytes are held (the caller refuses
/// the item then). What is held is doubled before the heads are read again, so that an
/// item of many small parts is scanned a bounded number of times, not once per read.
fn fill_item<R: Read>(window: &mut ByteWindow<R>, limit: usize) -> Result<(), ReadError> {
    while window.available().len() <= limit
        && cbor::item_len(window.available()) == Err(DecodeError::Truncated)
    {
        let target = window.available().len().saturating_mul(2);
        let mut more = false;
        while window.read_more()? {
            more = true;
            if window.available().len() >= target {
                break;
            }
        }
        if !more {
            break;
        }
    }
    Ok(())
}

/// Read the seal at the start of `window`: more is read until the seal's length is known
/// from its heads (never more than [`MAX_SEAL_BYTES`] and one read), then it is taken out
/// of the window (consumed) and decoded as [`parse_seal`] does.
fn read_seal<R: Read>(
    window: &mut ByteWindow<R>,
) -> Result<(SignedMessage, SealPayload, usize), ReadError> {
    fill_item(window, MAX_SEAL_BYTES)?;
    if window.available().len() > MAX_SEAL_BYTES
        && cbor::item_len(window.available()) == Err(DecodeError::Truncated)
    {
        return Err(malformed(format!(
            "the seal is more than the limit of {MAX_SEAL_BYTES} bytes"
        ))
        .into());
    }
    if window.available().is_empty() {
        return Err(malformed("the file is empty").into());
    }
    // The seal's bytes leave the window before it is parsed: a large seal is not also
    // held by the window while its payload is decoded.
    let seal_len = seal_len(window.available())?;
    let raw = window.available()[..seal_len].to_vec();
    window.consume(seal_len);
    window.release_consumed();
    let (seal, payload) = parse_seal_item(raw)?;
    Ok((seal, payload, seal_len))
}

/// The entries must be sorted by path bytes, without a repeated path, and no two may be
/// the same path after Unicode normalisation.
fn check_order(entries: &EntryTable, offset: usize) -> Result<()> {
    let mut previous: Option<&str> = None;
    for entry in entries {
        let path = entry.path();
        if let Some(before) = previous
            && before.as_bytes() >= path.as_bytes()
        {
            return Err(malformed(format!(
                "entry list at byte {offset}: entries are not sorted by path bytes, or repeat \
                 a path: {before:?} then {path:?}"
            )));
        }
        previous = Some(path);
    }
    if let Some((a, b)) =
        crate::entry_path::normalisation_collision(entries.iter().map(|e| e.path()))
    {
        return Err(malformed(format!(
            "entries {a:?} and {b:?} are the same path after Unicode normalisation (NFC)"
        )));
    }
    Ok(())
}

fn list_error(e: ListError, offset: usize) -> Error {
    match e {
        ListError::Truncated => malformed(format!(
            "truncated: the entry list starting at byte {offset} ends early"
        )),
        ListError::Invalid(why) => malformed(format!("entry list at byte {offset}: {why}")),
    }
}

fn check_counts(payload: &SealPayload, entries: &EntryTable) -> Result<()> {
    let files = entries.iter().filter(|e| e.size().is_some()).count() as u64;
    let bytes = entries
        .iter()
        .filter_map(|e| e.size())
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
    let external = entries
        .iter()
        .filter(|e| {
            e.target()
                .is_some_and(|t| crate::entry_path::link_leaves_tree(e.path(), t))
        })
        .count() as u64;
    if payload.external_symlinks != external {
        return Err(malformed(format!(
            "the seal counts {} symlink(s) leading outside the folder, the entry list has {external}",
            payload.external_symlinks
        )));
    }
    let sha = payload.has_sha256();
    if let Some(e) = entries
        .iter()
        .find(|e| e.size().is_some() && e.sha256().is_some() != sha)
    {
        return Err(malformed(format!(
            "entry {:?} does not carry exactly the digests the seal lists",
            e.path()
        )));
    }
    Ok(())
}
