//! in-toto Statement v1 and its DSSE envelope.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use seqprov_format::Bundle;
use seqprov_format::cose::SignedMessage;
use seqprov_format::entry_table::EntryRef;
use seqprov_format::manifest::EntryKind;

use crate::keys::Signer;

use super::*;

/// The in-toto Statement v1 about a whole bundle (see `spec/export.md` §2).
pub fn in_toto_statement(bundle: &Bundle) -> Value {
    statement_for(&ExportSource::whole_bundle(bundle))
}

/// The in-toto Statement v1 about an [`ExportSource`].
pub fn statement_for(source: &ExportSource<'_>) -> Value {
    let payload = source.payload;
    let mut digest = Map::new();
    digest.insert(MERKLE_DIGEST_KEY.into(), hex::encode(payload.root.0).into());
    if payload.has_sha256()
        && source.is_complete()
        && let Some(dir_hash) = dir_hash(&source.entries)
    {
        digest.insert(DIRHASH_DIGEST_KEY.into(), dir_hash.into());
    }
    let mut statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{
            "name": payload.subject.name,
            "digest": digest,
        }],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "seal": signed_message_json(source.seal, payload),
            "entries": source.entries.iter().map(|&e| entry_json(e)).collect::<Vec<_>>(),
            "custody": source
                .events
                .iter()
                .map(|e| signed_message_json(e.message, &e.payload))
                .collect::<Vec<_>>(),
        },
    });
    // Only a bundle with tokens gets the member: statements of other bundles are as before.
    if !source.timestamps.is_empty() {
        statement["predicate"]["timestamps"] = source
            .timestamps
            .iter()
            .map(|t| {
                json!({
                    "covers": t.covers,
                    "gen_time": t.gen_time,
                    "tsa": t.tsa,
                    "token": base64(t.token),
                })
            })
            .collect();
    }
    statement
}

/// A signed payload as JSON (the payload's own fields, byte strings as lower-case hex),
/// plus the message's `key_id` and its exact bytes as `cose_sign1` (standard base64).
pub(super) fn signed_message_json<T: serde::Serialize>(
    message: &SignedMessage,
    payload: &T,
) -> Value {
    let mut object = match serde_json::to_value(payload) {
        Ok(Value::Object(object)) => object,
        _ => unreachable!("seal and event payloads serialise to JSON objects"),
    };
    object.insert("key_id".into(), message.key_id.to_hex().into());
    object.insert("cose_sign1".into(), base64(&message.raw).into());
    Value::Object(object)
}

/// An entry as JSON: its fields as in the entry list (digests in lower-case hex), without
/// the salt, which only matters for inclusion proofs.
pub(super) fn entry_json(entry: EntryRef<'_>) -> Value {
    let mut object = match serde_json::to_value(entry.to_entry()) {
        Ok(Value::Object(object)) => object,
        _ => unreachable!("entries serialise to JSON objects"),
    };
    object.remove("salt");
    Value::Object(object)
}

/// The in-toto `dirHash` of the regular files among `entries`: SHA-256 over the lines
/// `hex(sha256(file)) "  " path "\n"` in path-byte order (Go's dirhash Hash1, in hex).
/// `None` when a file lacks a SHA-256 digest or a path contains a newline (Hash1 refuses
/// such names).
pub fn dir_hash(entries: &[EntryRef<'_>]) -> Option<String> {
    let mut files: Vec<EntryRef<'_>> = entries
        .iter()
        .copied()
        .filter(|e| e.kind() == EntryKind::File)
        .collect();
    files.sort_by(|a, b| a.path().as_bytes().cmp(b.path().as_bytes()));
    let mut summary = Sha256::new();
    for file in files {
        if file.path().contains('\n') {
            return None;
        }
        let digest = file.sha256()?;
        summary.update(format!("{}  {}\n", hex::encode(digest.0), file.path()).as_bytes());
    }
    Some(hex::encode(summary.finalize()))
}

/// DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope around `statement_json_bytes`, signed (pure Ed25519 over the PAE) with
/// `key`; `keyid` is the key's seqprov key id in hex, payload and signature in standard
/// base64. The signature is verified against the key's public key before it is used.
pub fn dsse_envelope(statement_json_bytes: &[u8], key: &dyn Signer) -> crate::Result<Value> {
    let signature = crate::keys::sign_checked(key, &pae(DSSE_PAYLOAD_TYPE, statement_json_bytes))?;
    Ok(json!({
        "payloadType": DSSE_PAYLOAD_TYPE,
        "payload": base64(statement_json_bytes),
        "signatures": [{
            "keyid": key.key_id().to_hex(),
            "sig": base64(&signature.to_bytes()),
        }],
    }))
}
