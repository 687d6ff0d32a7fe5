//! Log submissions (spec/log.md §5): the CBOR map a client POSTs to a seqprov log, what
//! a log checks before it records one (the seal's signature, an event's signature and
//! that it belongs to its seal, a token's fit to its message, the signer against an
//! allow-list policy) and the entry it then records (§2). Also the entries a bundle's
//! messages and timestamp records must have ([`entries_of_bundle`]) and the submissions
//! that log them ([`submissions_of_bundle`]).

use std::path::Path;

use ciborium::value::Value;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use seqprov_format::Bundle;
use seqprov_format::cbor;
use seqprov_format::cose::{self, SignedMessage};
use seqprov_format::event::{EVENT_CONTENT_TYPE, EventPayload, message_digest};
use seqprov_format::log_entry::{LogEntry, LogEntryKind, MAX_RUN_TEXT_BYTES};
use seqprov_format::manifest::SealPayload;

use crate::error::{Error, Result};
use crate::keys::{KeyId, PublicKey};
use crate::policy::Policy;

/// Value of a submission's `format` field.
pub const SUBMISSION_FORMAT: &str = "seqprov.log-submission";
/// Submission version written and read by this library.
pub const SUBMISSION_VERSION: u32 = 1;
/// Largest submission body, in bytes (spec/log.md §4): a seal of at most 16 MiB, an
/// event of at most 1 MiB and a token.
pub const MAX_SUBMISSION_BYTES: usize = 17 << 20;
/// Longest refusal reason, in bytes (a longer one is cut).
const MAX_REASON_BYTES: usize = 400;

/// One submission: the seal, and a custody event and/or a token over the event (if
/// present) or the seal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// The seal COSE_Sign1 bytes (tag included).
    pub seal: Vec<u8>,
    /// A custody event's COSE_Sign1 bytes.
    pub event: Option<Vec<u8>>,
    /// A DER TimeStampToken over the event if present, else over the seal.
    pub token: Option<Vec<u8>>,
    /// With an event of `seq` ≥ 2: the custody events `1..seq` before it, their COSE_Sign1
    /// bytes in order, which link it to the seal (`prev`); empty otherwise.
    pub chain: Vec<Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    format: String,
    version: u32,
    #[serde(with = "serde_bytes")]
    seal: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_bytes")]
    event: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_bytes")]
    token: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chain: Option<Vec<serde_bytes::ByteBuf>>,
}

/// Why a log refuses a submission: an HTTP status (400 malformed, 403 signer not
/// allowed, 422 does not verify or does not belong) and one line of text. Texts from the
/// submission are never echoed raw: the reason is one line of printable ASCII.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status} {reason}")]
pub struct SubmissionRefusal {
    /// The HTTP status.
    pub status: u16,
    /// One line of printable ASCII.
    pub reason: String,
}

impl SubmissionRefusal {
    /// A refusal with `status`; the reason is made one line of printable ASCII (anything
    /// else escaped) and cut at a bounded length.
    pub fn new(status: u16, reason: impl AsRef<str>) -> SubmissionRefusal {
        let mut line = String::new();
        for c in reason.as_ref().chars() {
            if c == ' ' || c.is_ascii_graphic() {
                line.push(c);
            } else {
                line.extend(c.escape_default());
            }
            if line.len() >= MAX_REASON_BYTES {
                line.truncate(MAX_REASON_BYTES);
                line.push_str("...");
                break;
            }
        }
        SubmissionRefusal {
            status,
            reason: line,
        }
    }
}

fn bad_request(reason: impl AsRef<str>) -> SubmissionRefusal {
    SubmissionRefusal::new(400, reason)
}

fn unverified(reason: impl AsRef<str>) -> SubmissionRefusal {
    SubmissionRefusal::new(422, reason)
}

impl Submission {
    /// The deterministic CBOR encoding (the body of `POST /add`).
    pub fn encode(&self) -> Vec<u8> {
        let wire = Wire {
            format: SUBMISSION_FORMAT.into(),
            version: SUBMISSION_VERSION,
            seal: self.seal.clone(),
            event: self.event.clone(),
            token: self.token.clone(),
            chain: (!self.chain.is_empty()).then(|| {
                self.chain
                    .iter()
                    .map(|e| serde_bytes::ByteBuf::from(e.clone()))
                    .collect()
            }),
        };
        let value = Value::serialized(&wire).expect("submissions always serialise");
        cbor::encode(value).expect("submissions contain no floats or duplicate keys")
    }

    /// Decode a body: at most [`MAX_SUBMISSION_BYTES`], one deterministic CBOR map of the
    /// fields of version 1 and no other, in its single encoding. A refusal is status 400.
    pub fn decode(bytes: &[u8]) -> std::result::Result<Submission, SubmissionRefusal> {
        if bytes.len() > MAX_SUBMISSION_BYTES {
            return Err(SubmissionRefusal::new(
                413,
                format!(
                    "the submission is {} bytes, more than {MAX_SUBMISSION_BYTES}",
                    bytes.len()
                ),
            ));
        }
        let value = cbor::decode_exact(bytes).map_err(|e| {
            bad_request(format!(
                "the submission is not one deterministic CBOR item: {e}"
            ))
        })?;
        let wire: Wire = value
            .deserialized()
            .map_err(|e| bad_request(format!("the submission: {e}")))?;
        if wire.format != SUBMISSION_FORMAT {
            return Err(bad_request(format!(
                "the submission's format is {:?}, not {SUBMISSION_FORMAT:?}",
                wire.format
            )));
        }
        if wire.version != SUBMISSION_VERSION {
            return Err(bad_request(format!(
                "submission version {} is not supported",
                wire.version
            )));
        }
        let submission = Submission {
            seal: wire.seal,
            event: wire.event,
            token: wire.token,
            chain: wire
                .chain
                .unwrap_or_default()
                .into_iter()
                .map(serde_bytes::ByteBuf::into_vec)
                .collect(),
        };
        if submission.encode() != bytes {
            return Err(bad_request(
                "the submission is not in the single encoding its version allows",
            ));
        }
        Ok(submission)
    }
}

/// The seal digest: BLAKE3 of the seal message bytes (as a first custody event's `prev`).
pub fn seal_digest(seal_raw: &[u8]) -> [u8; 32] {
    message_digest(seal_raw)
}

/// SHA-256 of the exact logged bytes (an entry's `message`).
pub fn logged_digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The `run` and `flowcell` an entry copies from a seal; `Err` when one is longer than
/// an entry may hold ([`MAX_RUN_TEXT_BYTES`]): such a seal cannot be logged.
pub fn run_fields(
    payload: &SealPayload,
) -> std::result::Result<(Option<String>, Option<String>), String> {
    let Some(run) = &payload.run else {
        return Ok((None, None));
    };
    let info = &run.run_info;
    for (what, text) in [
        ("run id", Some(&info.run_id)),
        ("flow cell", info.flowcell.as_ref()),
    ] {
        if let Some(text) = text
            && text.len() > MAX_RUN_TEXT_BYTES
        {
            return Err(format!(
                "the seal's {what} is {} bytes, more than the {MAX_RUN_TEXT_BYTES} a log entry \
                 may hold",
                text.len()
            ));
        }
    }
    Ok((Some(info.run_id.clone()), info.flowcell.clone()))
}

/// The entry (spec/log.md §2) of message `raw` of kind `kind` signed by `signer`.
fn entry_of(
    kind: LogEntryKind,
    logged: &[u8],
    signer: KeyId,
    seal_raw: &[u8],
    covers: u64,
    run: &(Option<String>, Option<String>),
) -> LogEntry {
    LogEntry {
        kind,
        message: logged_digest(logged),
        signer: signer.0,
        seal: seal_digest(seal_raw),
        covers,
        run: run.0.clone(),
        flowcell: run.1.clone(),
    }
}

/// The entries a bundle's messages and timestamp records must have in a log: the seal's
/// first, then each custody event's (`covers` its position), then one per timestamp
/// record (in file order). Each signer is the key id the message's header names. `Err`
/// when the seal's run id or flow cell is too long to be logged.
pub fn entries_of_bundle(bundle: &Bundle) -> std::result::Result<Vec<LogEntry>, String> {
    let run = run_fields(&bundle.payload)?;
    let seal_raw = &bundle.seal.raw;
    let mut entries = Vec::with_capacity(1 + bundle.events.len() + bundle.timestamps.len());
    entries.push(entry_of(
        LogEntryKind::Seal,
        seal_raw,
        bundle.seal.key_id,
        seal_raw,
        0,
        &run,
    ));
    for (i, event) in bundle.events.iter().enumerate() {
        entries.push(entry_of(
            LogEntryKind::Custody,
            &event.raw,
            event.key_id,
            seal_raw,
            i as u64 + 1,
            &run,
        ));
    }
    for record in &bundle.timestamps {
        let Some(signer) = message_of(bundle, record.covers).map(|m| m.key_id) else {
            continue;
        };
        entries.push(entry_of(
            LogEntryKind::Timestamp,
            &record.token,
            signer,
            seal_raw,
            record.covers,
            &run,
        ));
    }
    Ok(entries)
}

/// Message `covers` of a bundle: 0 the seal, `i` custody event `i`.
pub fn message_of(bundle: &Bundle, covers: u64) -> Option<&SignedMessage> {
    match covers {
        0 => Some(&bundle.seal),
        i => bundle.events.get(usize::try_from(i - 1).ok()?),
    }
}

/// Check a submission as a log does before recording it (spec/log.md §5) and build its
/// entry: the seal decodes and its signature verifies under the key it names; an event
/// decodes, its signature verifies, its `root` is the seal's and, at `seq` 1, its `prev`
/// is the seal digest; a token belongs to its message (the event if present, else the
/// seal). With `allow`, the signer (of the seal, the event, or the covered message) must
/// be one of the policy's trusted signers and not revoked. Refusals: 400 malformed, 403
/// signer not allowed, 422 does not verify or does not belong.
pub fn check_submission(
    submission: &Submission,
    allow: Option<&Policy>,
) -> std::result::Result<LogEntry, SubmissionRefusal> {
    let (seal, payload, seal_len) = seqprov_format::bundle::parse_seal(&submission.seal)
        .map_err(|e| bad_request(format!("the seal: {e}")))?;
    if seal_len != submission.seal.len() {
        return Err(bad_request(format!(
            "the seal is followed by {} more bytes",
            submission.seal.len() - seal_len
        )));
    }
    if !crate::integrity::seal_signature_holds(&seal, &payload) {
        return Err(unverified(
            "the seal's signature does not verify under the key it names",
        ));
    }
    let run = run_fields(&payload).map_err(unverified)?;
    let (kind, covers, signed) = match &submission.event {
        None => (LogEntryKind::Seal, 0, None),
        Some(raw) => {
            let event = check_event(raw, &submission.chain, &seal, &payload)?;
            (LogEntryKind::Custody, event.1, Some(event))
        }
    };
    if signed.is_none() && !submission.chain.is_empty() {
        return Err(bad_request(
            "the submission has a chain of events but no event",
        ));
    }
    let (covered_raw, signer) = match &signed {
        None => (&seal.raw, seal.key_id),
        Some((event, _)) => (&event.raw, event.key_id),
    };
    let (kind, logged) = match &submission.token {
        None => (kind, covered_raw.as_slice()),
        Some(token) => {
            let imprint = crate::timestamp_token::message_imprint(covered_raw);
            crate::timestamp_token::check_token(token, &imprint).map_err(|e| {
                unverified(format!("the token does not belong to its message: {e}"))
            })?;
            (LogEntryKind::Timestamp, token.as_slice())
        }
    };
    if let Some(policy) = allow
        && !policy.lists_signer(&signer)
    {
        return Err(SubmissionRefusal::new(
            403,
            format!(
                "the signer (key {}) is not a trusted signer of this log's policy",
                &signer.to_hex()[..16]
            ),
        ));
    }
    Ok(entry_of(kind, logged, signer, &seal.raw, covers, &run))
}

/// Decode and check a custody event of a submission against its seal, with the events
/// before it (`chain`) when its `seq` is 2 or more; returns it and its `seq`.
fn check_event(
    raw: &[u8],
    chain: &[Vec<u8>],
    seal: &SignedMessage,
    payload: &SealPayload,
) -> std::result::Result<(SignedMessage, u64), SubmissionRefusal> {
    let (event, body) = decode_event(raw, "the custody event")?;
    let key = PublicKey::from_bytes(&body.signer.public_key.0)
        .map_err(|e| unverified(format!("the custody event's key: {e}")))?;
    event.verify(key.verifying_key()).map_err(|e| {
        unverified(format!(
            "the custody event's signature does not verify: {e}"
        ))
    })?;
    if body.root != payload.root {
        return Err(unverified(
            "the custody event does not belong to its seal (its root is another seal's)",
        ));
    }
    // Regression (hostile review 2, stop 21, F7): an event of seq >= 2 was tied to its seal
    // by the root alone. Seals of the same data share a root, so anyone could log a real
    // event of one seal's history under another seal, and that seal's honest bundles then
    // failed `verify --log` as rolled back. Now the chain of `prev` links must lead from
    // the event back to this seal.
    if chain.len() as u64 != body.seq.saturating_sub(1) {
        return Err(unverified(format!(
            "the custody event has seq {} and needs the {} events before it (chain), not {}",
            body.seq,
            body.seq.saturating_sub(1),
            chain.len()
        )));
    }
    let mut expected_prev = seal_digest(&seal.raw);
    for (k, link_raw) in chain.iter().enumerate() {
        let (_, link) = decode_event(link_raw, "an event of the chain")?;
        if link.seq != k as u64 + 1 || link.prev.0 != expected_prev || link.root != payload.root {
            return Err(unverified(format!(
                "the custody event does not belong to its seal (event {} of the chain does not link to it)",
                k + 1
            )));
        }
        expected_prev = message_digest(link_raw);
    }
    if body.prev.0 != expected_prev {
        return Err(unverified(format!(
            "the custody event does not belong to its seal (event {} does not link to it)",
            body.seq
        )));
    }
    Ok((event, body.seq))
}

/// Decodes one custody event: at most `MAX_EVENT_BYTES`, one canonical COSE_Sign1 of the
/// event content type whose payload decodes (400 otherwise). Its signature is not checked
/// here.
fn decode_event(
    raw: &[u8],
    what: &str,
) -> std::result::Result<(SignedMessage, EventPayload), SubmissionRefusal> {
    if raw.len() > seqprov_format::bundle::MAX_EVENT_BYTES {
        return Err(bad_request(format!(
            "{what} is {} bytes, more than {}",
            raw.len(),
            seqprov_format::bundle::MAX_EVENT_BYTES
        )));
    }
    let (_, used) = cbor::decode_canonical(raw).map_err(|e| bad_request(format!("{what}: {e}")))?;
    if used != raw.len() {
        return Err(bad_request(format!("{what} is followed by more bytes")));
    }
    let event = cose::parse(raw).map_err(|e| bad_request(format!("{what}: {e}")))?;
    if event.content_type != EVENT_CONTENT_TYPE {
        return Err(bad_request(format!(
            "{what}: its content type is {:?}, not a custody event's",
            event.content_type
        )));
    }
    let body = EventPayload::from_cbor(event.payload())
        .map_err(|e| bad_request(format!("{what}: its payload: {e}")))?;
    Ok((event, body))
}

/// One submission a bundle's message or timestamp record needs, with its entry and the
/// origins of the logs whose receipts for exactly this entry the bundle already holds.
#[derive(Clone, Debug)]
pub struct PendingSubmission {
    /// The covered message: 0 the seal, `i` custody event `i`.
    pub covers: u64,
    /// What to POST.
    pub submission: Submission,
    /// The entry the log records for it.
    pub entry: LogEntry,
    /// Origins (checkpoint first lines) of receipts already in the bundle for this
    /// entry (attacker text: escape before printing).
    pub logged_by: Vec<String>,
}

/// The submissions of the bundle at `path`: the seal, every custody event and every
/// timestamp record, in the order of [`entries_of_bundle`], each with its entry and the
/// logs that already gave a receipt for it. The bundle must hold together (seal
/// signature, entry root, every link), else the error is an integrity failure.
pub fn submissions_of_bundle(path: &Path) -> Result<Vec<PendingSubmission>> {
    let bundle = crate::bundle_file::read_bundle(path)?;
    crate::integrity::check_integrity(&bundle)
        .map_err(|problem| Error::Integrity(format!("{}: {problem}", path.display())))?;
    let entries = entries_of_bundle(&bundle).map_err(Error::Refused)?;
    let mut out = Vec::with_capacity(entries.len());
    let seal = bundle.seal.raw.clone();
    let mut records = bundle.timestamps.iter();
    for entry in entries {
        let event = match entry.kind {
            LogEntryKind::Seal => None,
            _ if entry.covers == 0 => None,
            _ => message_of(&bundle, entry.covers).map(|m| m.raw.clone()),
        };
        let token = match entry.kind {
            LogEntryKind::Timestamp => records.next().map(|r| r.token.clone()),
            _ => None,
        };
        let encoded = entry.encode();
        let logged_by = bundle
            .log_receipts
            .iter()
            .filter(|r| r.covers == entry.covers && r.entry == encoded)
            .map(|r| receipt_origin(&r.proof))
            .collect();
        // An event of seq >= 2 goes with the events before it, which link it to the seal.
        let chain = match &event {
            Some(_) => bundle.events[..(entry.covers as usize).saturating_sub(1)]
                .iter()
                .map(|m| m.raw.clone())
                .collect(),
            None => Vec::new(),
        };
        out.push(PendingSubmission {
            covers: entry.covers,
            submission: Submission {
                seal: seal.clone(),
                event,
                token,
                chain,
            },
            entry,
            logged_by,
        });
    }
    Ok(out)
}

/// The origin a receipt's checkpoint names (its first line after the blank line), or
/// `?` when the text has none. Attacker text.
pub fn receipt_origin(proof: &str) -> String {
    proof
        .split_once("\n\n")
        .and_then(|(_, note)| note.lines().next())
        .unwrap_or("?")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_round_trips_and_garbage_is_400() {
        let sub = Submission {
            seal: vec![1, 2, 3],
            event: None,
            token: Some(vec![4]),
            chain: Vec::new(),
        };
        assert_eq!(Submission::decode(&sub.encode()).unwrap(), sub);
        assert_eq!(Submission::decode(b"garbage").unwrap_err().status, 400);
        let refusal = check_submission(&sub, None).unwrap_err();
        assert_eq!(refusal.status, 400);
    }

    #[test]
    fn a_refusal_is_one_printable_line() {
        let r = SubmissionRefusal::new(400, "a\nb\u{1b}[31m");
        assert_eq!(r.reason, "a\\nb\\u{1b}[31m");
        assert!(SubmissionRefusal::new(400, "x".repeat(10_000)).reason.len() < 420);
    }
}
