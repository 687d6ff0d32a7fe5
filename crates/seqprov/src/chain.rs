//! Checking the custody chain of a bundle: every event's structure, signature and link
//! (no gap, reorder, fork, duplicate or replay from another bundle).

use serde::Serialize;

use crate::keys::PublicKey;
use seqprov_format::Bundle;
use seqprov_format::event::{EVENT_CONTENT_TYPE, EventKind, EventPayload, message_digest};

/// Outcome of the seal's signature check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    /// The signature verifies under the key named in the seal.
    Valid,
    /// It does not.
    Invalid,
    /// Not checked (the bundle could not be read).
    NotChecked,
}

/// One event as found, with what was checked.
#[derive(Clone, Debug, Serialize)]
pub struct EventRecord {
    /// 1-based position after the seal.
    pub position: u64,
    /// The decoded payload, if it decoded.
    #[serde(skip)]
    pub payload: Option<EventPayload>,
    /// Kind name (or `unknown`).
    pub kind: String,
    /// Claimed time.
    pub time: Option<String>,
    /// Signer's printed name.
    pub signer: Option<String>,
    /// Signer's role.
    pub role: Option<String>,
    /// Meaning of the signature.
    pub meaning: Option<String>,
    /// Key id (hex) from the COSE header.
    pub key_id: String,
    /// How the event's signer says its key was held (`pkcs11`, `ssh-agent`, `file`), when
    /// the event records it; a claim by the signer, not proof.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_storage: Option<String>,
    /// Host or location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Transfer recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For `receive`: the verification the receiver recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<seqprov_format::event::ReceiveSummary>,
    /// For `derive`: the derived bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived: Option<seqprov_format::event::DerivedRef>,
    /// Signature status.
    pub signature: SignatureStatus,
    /// True when the event links to the previous message and sits at its stated position.
    pub linked: bool,
    /// Integrity problems with this event, in words.
    pub problems: Vec<String>,
}

/// The result of checking a chain.
#[derive(Clone, Debug, Default)]
pub struct ChainCheck {
    /// Every event, in bundle order.
    pub events: Vec<EventRecord>,
    /// Warnings that are not integrity failures (for example, claimed times going back).
    pub warnings: Vec<String>,
}

impl ChainCheck {
    /// Every integrity problem, each prefixed with the event it concerns.
    pub fn integrity_problems(&self) -> Vec<String> {
        self.events
            .iter()
            .flat_map(|e| {
                e.problems
                    .iter()
                    .map(move |p| format!("custody event {}: {p}", e.position))
            })
            .collect()
    }
}

/// Check every event of `bundle`.
pub fn check(bundle: &Bundle) -> ChainCheck {
    let mut out = ChainCheck::default();
    let mut previous_raw: &[u8] = &bundle.seal.raw;
    let mut previous_time = bundle.payload.time.clone();
    for (index, message) in bundle.events.iter().enumerate() {
        let position = index as u64 + 1;
        let mut record = EventRecord {
            position,
            payload: None,
            kind: "unknown".into(),
            time: None,
            signer: None,
            role: None,
            meaning: None,
            key_id: message.key_id.to_hex(),
            key_storage: None,
            host: None,
            to: None,
            note: None,
            verification: None,
            derived: None,
            signature: SignatureStatus::NotChecked,
            linked: false,
            problems: Vec::new(),
        };
        if message.content_type != EVENT_CONTENT_TYPE {
            record.problems.push(format!(
                "content type `{}` is not a custody event",
                message.content_type
            ));
        }
        match EventPayload::from_cbor(message.payload()) {
            Err(why) => record.problems.push(why),
            Ok(payload) => {
                record.kind = payload.kind.name().into();
                record.time = Some(payload.time.clone());
                record.signer = Some(payload.signer.name.clone());
                record.role = Some(payload.signer.role.clone());
                record.meaning = Some(payload.signer.meaning.clone());
                record.key_storage = payload.signer.key_storage.map(|k| k.as_str().to_string());
                record.host = payload.host.clone();
                record.to = payload.to.clone();
                record.note = payload.note.clone();
                record.verification = payload.verification.clone();
                record.derived = payload.derived.clone();
                let signature = PublicKey::from_bytes(&payload.signer.public_key.0)
                    .and_then(|key| message.verify(key.verifying_key()));
                record.signature = match signature {
                    Ok(()) => SignatureStatus::Valid,
                    Err(why) => {
                        record
                            .problems
                            .push(format!("signature does not verify: {why}"));
                        SignatureStatus::Invalid
                    }
                };
                let links = payload.prev.0 == message_digest(previous_raw);
                let placed = payload.seq == position;
                if !links {
                    record.problems.push(
                        "does not link to the previous message (an event was removed, reordered, \
                         duplicated or copied from another bundle)"
                            .into(),
                    );
                }
                if !placed {
                    record.problems.push(format!(
                        "says it is event {} but stands at position {position}",
                        payload.seq
                    ));
                }
                if payload.root != bundle.payload.root {
                    record
                        .problems
                        .push("attests a different Merkle root than the seal".into());
                }
                if payload.kind == EventKind::Receive
                    && payload.verification.as_ref().map(|v| v.root) != Some(bundle.payload.root)
                {
                    record.problems.push(
                        "is a receive whose recorded verification is of a different Merkle root \
                         than the seal's"
                            .into(),
                    );
                }
                record.linked = links && placed;
                if payload.time < previous_time {
                    out.warnings.push(format!(
                        "custody event {position}: claimed time {} is earlier than the previous message's {previous_time}",
                        payload.time
                    ));
                }
                previous_time = payload.time.clone();
                record.payload = Some(payload);
            }
        }
        previous_raw = &message.raw;
        out.events.push(record);
    }
    out
}
