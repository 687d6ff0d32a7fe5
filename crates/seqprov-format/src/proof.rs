//! Per-sample proofs with selective disclosure: the seal, the chosen entries with their
//! Merkle inclusion paths, and the custody events — and nothing about any other entry.
//!
//! A proof file is a CBOR sequence (like a bundle): the seal (tagged COSE_Sign1, the exact
//! bytes from the bundle), the proof body, then the custody events. The body is
//! `{"format": "seqprov.proof", "version": 1, "items": [...]}` where each item is
//! `{"index": uint, "entry": <entry map>, "path": [bstr32, ...]}` (see `spec/proof.md`).
//! Other entries appear only as sibling hashes of salted leaves, which reveal neither
//! their names nor their digests.

use crate::bundle::{Bundle, RootEvidence};
use crate::cbor;
use crate::entry_list::{self, ListError, Reader};
use crate::entry_table::EntryTable;
use crate::error::{FormatError as Error, Result};
use crate::exclude::Excludes;
use crate::manifest::Entry;
use crate::merkle;

/// Value of the proof body's `format` field.
pub const PROOF_FORMAT: &str = "seqprov.proof";
/// Proof format version.
pub const PROOF_VERSION: u64 = 1;
/// Most items one proof may hold.
pub const MAX_ITEMS: usize = 100_000;
/// Largest proof file accepted, in bytes.
pub const MAX_PROOF_BYTES: u64 = 256 << 20;
/// File name suffix of proofs.
pub const PROOF_SUFFIX: &str = "seqprov-proof";

/// One disclosed entry and its inclusion path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofItem {
    /// Position of the entry among all the sealed entries (sorted by path).
    pub index: u64,
    /// The entry, salt included.
    pub entry: Entry,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<[u8; 32]>,
}

fn malformed(why: impl Into<String>) -> Error {
    Error::Malformed(format!("proof: {}", why.into()))
}

/// Build a proof for the regular-file entries whose paths match any of `patterns`
/// (globs, as for `--exclude`). Directories and symlinks are never disclosed: a proof is
/// checked against files, and could never verify them. Fails if no file matches.
pub fn prove(bundle: &Bundle, patterns: &[String]) -> Result<Vec<u8>> {
    Ok(prove_files(bundle, patterns)?.bytes)
}

/// A proof and what it left out.
#[derive(Clone, Debug)]
pub struct Proved {
    /// The proof file's bytes.
    pub bytes: Vec<u8>,
    /// Entries that matched a pattern but are not regular files, so were not disclosed.
    pub skipped_non_files: usize,
}

/// [`prove`], also saying how many matching directory or symlink entries were left out.
pub fn prove_files(bundle: &Bundle, patterns: &[String]) -> Result<Proved> {
    let globs = Excludes::new(patterns, "--path glob").map_err(Error::Refused)?;
    let matching: Vec<usize> = bundle
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| globs.excludes(e.path()))
        .map(|(i, _)| i)
        .collect();
    let chosen: Vec<usize> = matching
        .iter()
        .copied()
        .filter(|&i| {
            bundle.entries.get(i).map(|e| e.kind()) == Some(crate::manifest::EntryKind::File)
        })
        .collect();
    if chosen.is_empty() {
        return Err(Error::Refused(format!(
            "no sealed file matches {patterns:?}"
        )));
    }
    if !bundle.root_matches() {
        return Err(Error::Integrity(
            "the bundle's entries do not match its signed root".into(),
        ));
    }
    let levels = merkle::Levels::new(merkle::leaf_hashes(
        &bundle
            .entries
            .iter()
            .map(|e| e.to_entry().to_cbor())
            .collect::<Vec<_>>(),
    ));
    let items: Vec<ProofItem> = chosen
        .iter()
        .filter_map(|&i| {
            bundle.entries.get(i).map(|entry| ProofItem {
                index: i as u64,
                entry: entry.to_entry(),
                path: levels.path(i),
            })
        })
        .collect();
    let mut out = bundle.seal.raw.clone();
    let body = encode_body(&items);
    out.extend_from_slice(&body);
    for event in &bundle.events {
        out.extend_from_slice(&event.raw);
    }
    Ok(Proved {
        bytes: out,
        skipped_non_files: matching.len() - chosen.len(),
    })
}

/// Parse proof bytes into a [`Bundle`] holding only the disclosed entries, and the
/// disclosed items with their inclusion paths.
///
/// Every item's inclusion path is checked against the signed root and the signed entry
/// count; a path that does not lead to the root is an integrity failure. The returned
/// bundle's `root_evidence` counts the paths that lead to the signed root, so the usual
/// checks of the trust layer apply unchanged.
pub fn parse(bytes: &[u8]) -> Result<(Bundle, Vec<ProofItem>)> {
    let mut items = Vec::new();
    let bundle = parse_with(bytes, |item| items.push(item.clone()))?;
    Ok((bundle, items))
}

/// [`parse`] without the items: each inclusion path is checked as it is read and then
/// dropped, so reading a proof costs its bytes and its disclosed entries, not its paths
/// as well.
pub fn parse_bundle(bytes: &[u8]) -> Result<Bundle> {
    parse_with(bytes, |_| {})
}

fn parse_with(bytes: &[u8], mut each: impl FnMut(&ProofItem)) -> Result<Bundle> {
    let (seal, payload, seal_len) = crate::bundle::parse_seal(bytes)?;
    let mut entries = EntryTable::default();
    let mut full = false;
    let (mut valid, mut invalid) = (0usize, 0usize);
    let body_len = read_body(&bytes[seal_len..], |item, leaf| {
        let root = merkle::root_from_path(leaf, item.index, payload.entries, &item.path);
        if root == Some(payload.root.0) {
            valid += 1;
        } else {
            invalid += 1;
        }
        each(&item);
        full |= entries.push(&item.entry).is_err();
    })?;
    if full {
        return Err(Error::Malformed(crate::entry_table::TableFull.to_string()));
    }
    // The events follow, exactly as in a bundle.
    let events = crate::bundle::parse_events(bytes, seal_len + body_len)?;
    Ok(Bundle {
        seal,
        payload,
        entries,
        root_evidence: RootEvidence::InclusionPaths { valid, invalid },
        events,
        timestamps: Vec::new(),
        log_receipts: Vec::new(),
    })
}

/// The proof body's deterministic encoding (keys in deterministic order: `items`,
/// `format`, `version`; in each item `path`, `entry`, `index`).
fn encode_body(items: &[ProofItem]) -> Vec<u8> {
    let mut body = Vec::new();
    encode_body_head(items.len(), &mut body);
    for item in items {
        encode_item(item, &mut body);
    }
    encode_body_tail(&mut body);
    body
}

/// The body's bytes before its first item.
fn encode_body_head(items: usize, out: &mut Vec<u8>) {
    cbor::write_head(out, 5, 3);
    cbor::write_text(out, "items");
    cbor::write_head(out, 4, items as u64);
}

/// One item's bytes.
fn encode_item(item: &ProofItem, out: &mut Vec<u8>) {
    cbor::write_head(out, 5, 3);
    cbor::write_text(out, "path");
    cbor::write_head(out, 4, item.path.len() as u64);
    for hash in &item.path {
        cbor::write_bytes(out, hash);
    }
    cbor::write_text(out, "entry");
    item.entry.write_cbor(out);
    cbor::write_text(out, "index");
    cbor::write_uint(out, item.index);
}

/// The body's bytes after its last item.
fn encode_body_tail(out: &mut Vec<u8>) {
    cbor::write_text(out, "format");
    cbor::write_text(out, PROOF_FORMAT);
    cbor::write_text(out, "version");
    cbor::write_uint(out, PROOF_VERSION);
}

/// Read the proof body at the start of `raw` and require its single deterministic
/// encoding, handing each item and its leaf hash to `each`; returns the body's length in
/// bytes. The items must come in strictly increasing index order (checked after every
/// other rule of the body, `spec/proof.md` §5 step 3).
///
/// The body is walked in place, in the one order its encoding allows, and each part is
/// re-encoded and compared with the bytes it was read from: nothing but the items is
/// allocated, so a proof costs about its decoded items, whatever it holds.
fn read_body(raw: &[u8], mut each: impl FnMut(ProofItem, [u8; 32])) -> Result<usize> {
    let body_error = |e: ListError| match e {
        ListError::Truncated => malformed("the body ends early"),
        ListError::Invalid(why) => malformed(format!("body: {why}")),
    };
    let not_deterministic = || malformed("the body is not in its deterministic encoding");
    let mut r = Reader { bytes: raw, at: 0 };
    let fields = r.expect(5, "a map").map_err(body_error)?;
    if fields != 3 {
        return Err(malformed(
            "the body is not a map of items, format and version",
        ));
    }
    r.key("items").map_err(body_error)?;
    let count = r.expect(4, "an item list (an array)").map_err(body_error)?;
    if count == 0 || count > MAX_ITEMS as u64 {
        return Err(malformed(format!(
            "{count} items (1 to {MAX_ITEMS} allowed)"
        )));
    }
    let mut scratch = Vec::with_capacity(512);
    encode_body_head(count as usize, &mut scratch);
    if raw[..r.at] != scratch[..] {
        return Err(not_deterministic());
    }
    let mut last_index = None;
    let mut out_of_order = false;
    let mut entry_scratch = Vec::with_capacity(256);
    for n in 0..count {
        let start = r.at;
        let item_error = |e: ListError| match e {
            ListError::Truncated => malformed(format!("item {n} ends early")),
            ListError::Invalid(why) => malformed(format!("item {n}: {why}")),
        };
        if r.expect(5, "a map").map_err(item_error)? != 3 {
            return Err(malformed(format!("item {n} lacks index, entry or path")));
        }
        r.key("path").map_err(item_error)?;
        let hashes = r.expect(4, "path (an array)").map_err(item_error)?;
        if hashes > 64 {
            return Err(malformed(format!("item {n}: path longer than 64")));
        }
        let mut path = Vec::with_capacity(hashes as usize);
        for _ in 0..hashes {
            path.push(r.bytes32("a path hash").map_err(item_error)?.0);
        }
        r.key("entry").map_err(item_error)?;
        let (entry, leaf, used) =
            entry_list::next_entry(&raw[r.at..], n, &mut entry_scratch).map_err(item_error)?;
        r.at += used;
        r.key("index").map_err(item_error)?;
        let index = r
            .expect(0, "index (an unsigned integer)")
            .map_err(item_error)?;
        let item = ProofItem { index, entry, path };
        scratch.clear();
        encode_item(&item, &mut scratch);
        if raw[start..r.at] != scratch[..] {
            return Err(not_deterministic());
        }
        out_of_order |= last_index.is_some_and(|last| last >= index);
        last_index = Some(index);
        each(item, leaf);
    }
    let tail_start = r.at;
    r.key("format").map_err(body_error)?;
    let format = r.text("format").map_err(body_error)?;
    r.key("version").map_err(body_error)?;
    let version = r
        .expect(0, "version (an unsigned integer)")
        .map_err(body_error)?;
    if format != PROOF_FORMAT || version != PROOF_VERSION {
        return Err(malformed(format!(
            "not a {PROOF_FORMAT} version {PROOF_VERSION} body"
        )));
    }
    scratch.clear();
    encode_body_tail(&mut scratch);
    if raw[tail_start..r.at] != scratch[..] {
        return Err(not_deterministic());
    }
    if out_of_order {
        return Err(malformed(
            "items are not in strictly increasing index order",
        ));
    }
    Ok(r.at)
}
