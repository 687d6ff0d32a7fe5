//! Per-sample proofs with selective disclosure: the seal, the chosen entries with their
//! Merkle inclusion paths, and the custody events — and nothing about any other entry.
//!
//! A proof file is a CBOR sequence (like a bundle): the seal (tagged COSE_Sign1, the exact
//! bytes from the bundle), the proof body, then the custody events. The body is
//! `{"format": "seqprov.proof", "version": 1, "items": [...]}` where each item is
//! `{"index": uint, "entry": <entry map>, "path": [bstr32, ...]}` (see `spec/proof.md`).
//! Other entries appear only as sibling hashes of salted leaves, which reveal neither
//! their names nor their digests.

use ciborium::value::Value;

use crate::bundle::{Bundle, RootEvidence};
use crate::cbor;
use crate::entry_list;
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
        .filter(|(_, e)| globs.excludes(&e.path))
        .map(|(i, _)| i)
        .collect();
    let chosen: Vec<usize> = matching
        .iter()
        .copied()
        .filter(|&i| bundle.entries[i].kind == crate::manifest::EntryKind::File)
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
    let leaves: Vec<[u8; 32]> = merkle::leaf_hashes(
        &bundle
            .entries
            .iter()
            .map(Entry::to_cbor)
            .collect::<Vec<_>>(),
    );
    let items: Vec<ProofItem> = chosen
        .iter()
        .map(|&i| ProofItem {
            index: i as u64,
            entry: bundle.entries[i].clone(),
            path: merkle::inclusion_path(&leaves, i),
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

/// Parse proof bytes into a [`Bundle`] holding only the disclosed entries.
///
/// Every item's inclusion path is checked against the signed root and the signed entry
/// count; a path that does not lead to the root is an integrity failure. The returned
/// bundle's `root_evidence` counts the paths that lead to the signed root, so the usual
/// checks of the trust layer apply unchanged.
pub fn parse(bytes: &[u8]) -> Result<(Bundle, Vec<ProofItem>)> {
    let (seal, payload, seal_len) = crate::bundle::parse_seal(bytes)?;
    let rest = &bytes[seal_len..];
    let (body, body_len) =
        cbor::decode_canonical(rest).map_err(|e| malformed(format!("body: {e}")))?;
    let items = body_items(body, &rest[..body_len])?;
    let mut entries = Vec::with_capacity(items.len());
    let (mut valid, mut invalid) = (0usize, 0usize);
    for item in &items {
        let leaf = merkle::leaf_hash(&item.entry.to_cbor());
        let root = merkle::root_from_path(leaf, item.index, payload.entries, &item.path);
        if root == Some(payload.root.0) {
            valid += 1;
        } else {
            invalid += 1;
        }
        entries.push(item.entry.clone());
    }
    for pair in items.windows(2) {
        if pair[0].index >= pair[1].index {
            return Err(malformed(
                "items are not in strictly increasing index order",
            ));
        }
    }
    // The events follow, exactly as in a bundle.
    let events = crate::bundle::parse_events(bytes, seal_len + body_len)?;
    Ok((
        Bundle {
            seal,
            payload,
            entries,
            root_evidence: RootEvidence::InclusionPaths { valid, invalid },
            events,
        },
        items,
    ))
}

/// The proof body's deterministic encoding (keys in deterministic order: `items`,
/// `format`, `version`; in each item `path`, `entry`, `index`).
fn encode_body(items: &[ProofItem]) -> Vec<u8> {
    let mut body = Vec::new();
    cbor::write_head(&mut body, 5, 3);
    cbor::write_text(&mut body, "items");
    cbor::write_head(&mut body, 4, items.len() as u64);
    for item in items {
        cbor::write_head(&mut body, 5, 3);
        cbor::write_text(&mut body, "path");
        cbor::write_head(&mut body, 4, item.path.len() as u64);
        for hash in &item.path {
            cbor::write_bytes(&mut body, hash);
        }
        cbor::write_text(&mut body, "entry");
        body.extend_from_slice(&item.entry.to_cbor());
        cbor::write_text(&mut body, "index");
        cbor::write_uint(&mut body, item.index);
    }
    cbor::write_text(&mut body, "format");
    cbor::write_text(&mut body, PROOF_FORMAT);
    cbor::write_text(&mut body, "version");
    cbor::write_uint(&mut body, PROOF_VERSION);
    body
}

/// Decode the proof body and require its single canonical encoding.
fn body_items(body: Value, raw: &[u8]) -> Result<Vec<ProofItem>> {
    let Value::Map(fields) = body else {
        return Err(malformed("the body is not a map"));
    };
    let mut items_value = None;
    let (mut format, mut version) = (None, None);
    for (k, v) in fields {
        match k.as_text() {
            Some("items") => items_value = Some(v),
            Some("format") => format = v.as_text().map(str::to_string),
            Some("version") => version = v.as_integer().and_then(|i| u64::try_from(i).ok()),
            _ => return Err(malformed("the body has an unknown field")),
        }
    }
    if format.as_deref() != Some(PROOF_FORMAT) || version != Some(PROOF_VERSION) {
        return Err(malformed(format!(
            "not a {PROOF_FORMAT} version {PROOF_VERSION} body"
        )));
    }
    let Some(Value::Array(values)) = items_value else {
        return Err(malformed("the body has no item list"));
    };
    if values.is_empty() || values.len() > MAX_ITEMS {
        return Err(malformed(format!(
            "{} items (1 to {MAX_ITEMS} allowed)",
            values.len()
        )));
    }
    let mut items = Vec::with_capacity(values.len());
    for (n, v) in values.into_iter().enumerate() {
        let Value::Map(fields) = v else {
            return Err(malformed(format!("item {n} is not a map")));
        };
        let (mut index, mut entry, mut path) = (None, None, None);
        for (k, v) in fields {
            match k.as_text() {
                Some("index") => index = v.as_integer().and_then(|i| u64::try_from(i).ok()),
                Some("entry") => {
                    let bytes = cbor::encode(v).map_err(|e| malformed(format!("item {n}: {e}")))?;
                    let mut list = Vec::new();
                    cbor::write_head(&mut list, 4, 1);
                    list.extend_from_slice(&bytes);
                    let decoded = entry_list::decode(&list)
                        .map_err(|e| malformed(format!("item {n} entry: {e:?}")))?;
                    entry = decoded.entries.into_iter().next();
                }
                Some("path") => {
                    let Value::Array(hashes) = v else {
                        return Err(malformed(format!("item {n}: path is not an array")));
                    };
                    if hashes.len() > 64 {
                        return Err(malformed(format!("item {n}: path longer than 64")));
                    }
                    path = Some(
                        hashes
                            .into_iter()
                            .map(|h| match h {
                                Value::Bytes(b) => <[u8; 32]>::try_from(b.as_slice()).ok(),
                                _ => None,
                            })
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| {
                                malformed(format!("item {n}: a path hash is not 32 bytes"))
                            })?,
                    );
                }
                _ => return Err(malformed(format!("item {n} has an unknown field"))),
            }
        }
        match (index, entry, path) {
            (Some(index), Some(entry), Some(path)) => items.push(ProofItem { index, entry, path }),
            _ => return Err(malformed(format!("item {n} lacks index, entry or path"))),
        }
    }
    // Re-encode: the body must be in its one deterministic form.
    let again = encode_body(&items);
    if again != raw {
        return Err(malformed("the body is not in its deterministic encoding"));
    }
    Ok(items)
}
