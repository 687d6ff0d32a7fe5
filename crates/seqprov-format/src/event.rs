//! Custody event payloads: the signed records that follow the seal in a bundle, each
//! linked to the previous message by the digest of its exact bytes (seal → event 1 →
//! event 2 …), and their deterministic CBOR form (see `spec/custody.md`).

use serde::{Deserialize, Serialize};

use crate::cbor;
use crate::manifest::{Bytes32, SignerInfo, parse_time};

/// Value of an event payload's `format` field.
pub const EVENT_FORMAT: &str = "seqprov.event";
/// Event format version written by this library.
pub const EVENT_VERSION: u32 = 1;
/// COSE content type of a custody event payload.
pub const EVENT_CONTENT_TYPE: &str = "application/vnd.seqprov.event+cbor";

/// What a custody event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The data was handed from the signer to someone else (`to`).
    Transfer,
    /// The signer received the data and re-verified it at the destination.
    Receive,
    /// The signer attests something about the data (QC approval, clinical sign-off).
    Attest,
    /// Data was derived from this sealed data (for example FASTQ from a run folder).
    Derive,
}

impl EventKind {
    /// The kind's name as written in the bundle.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Transfer => "transfer",
            EventKind::Receive => "receive",
            EventKind::Attest => "attest",
            EventKind::Derive => "derive",
        }
    }

    /// Parse a kind name.
    pub fn parse(name: &str) -> Option<EventKind> {
        [
            EventKind::Transfer,
            EventKind::Receive,
            EventKind::Attest,
            EventKind::Derive,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// The summary of the verification a `receive` event attests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveSummary {
    /// Entries found identical.
    pub ok: u64,
    /// Regular files in the seal.
    pub files: u64,
    /// Bytes of regular files in the seal.
    pub bytes: u64,
    /// The Merkle root the files were verified against.
    pub root: Bytes32,
}

/// The bundle a `derive` event points to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DerivedRef {
    /// BLAKE3 of the derived bundle's seal message bytes.
    pub seal: Bytes32,
    /// The derived bundle's Merkle root.
    pub root: Bytes32,
    /// The derived bundle's subject name.
    pub subject: String,
}

/// The signed payload of a custody event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventPayload {
    /// Always [`EVENT_FORMAT`].
    pub format: String,
    /// [`EVENT_VERSION`].
    pub version: u32,
    /// What happened.
    pub kind: EventKind,
    /// Position in the chain: 1 for the first event after the seal.
    pub seq: u64,
    /// BLAKE3 of the exact bytes of the previous message (the seal for `seq` 1).
    pub prev: Bytes32,
    /// The Merkle root this event attests (the seal's root).
    pub root: Bytes32,
    /// Time of the event as claimed by the signer (`YYYY-MM-DDTHH:MM:SSZ`).
    pub time: String,
    /// Who signed, in what role, meaning what.
    pub signer: SignerInfo,
    /// Host or location where the event was signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Recipient of a transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Free-text note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For `receive`: the verification that was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<ReceiveSummary>,
    /// For `derive`: the derived bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived: Option<DerivedRef>,
}

impl EventPayload {
    /// The deterministic CBOR encoding (the COSE payload).
    pub fn to_cbor(&self) -> Vec<u8> {
        let value = ciborium::value::Value::serialized(self).expect("events always serialise");
        cbor::encode(value).expect("events contain no floats or duplicate keys")
    }

    /// Decode a payload, requiring deterministic encoding and valid fields.
    pub fn from_cbor(bytes: &[u8]) -> Result<EventPayload, String> {
        let value = cbor::decode_exact(bytes).map_err(|e| e.to_string())?;
        let payload: EventPayload = value
            .deserialized()
            .map_err(|e| format!("event payload: {e}"))?;
        if payload.to_cbor() != bytes {
            return Err(
                "event payload is not in the single encoding its version allows \
                 (deterministic CBOR, no tags, no nulls)"
                    .into(),
            );
        }
        payload.validate()?;
        Ok(payload)
    }

    /// Check field values beyond their types.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != EVENT_FORMAT {
            return Err(format!("format is `{}`, not `{EVENT_FORMAT}`", self.format));
        }
        if self.version != EVENT_VERSION {
            return Err(format!("event version {} is not supported", self.version));
        }
        parse_time(&self.time)?;
        if self.seq == 0 {
            return Err("seq must start at 1".into());
        }
        if (self.kind == EventKind::Receive) != self.verification.is_some() {
            return Err("a `verification` summary is present exactly on receive events".into());
        }
        if (self.kind == EventKind::Derive) != self.derived.is_some() {
            return Err("a `derived` reference is present exactly on derive events".into());
        }
        Ok(())
    }
}

/// The digest that links a message to the next: BLAKE3 of its exact bytes.
pub fn message_digest(raw: &[u8]) -> [u8; 32] {
    *blake3::hash(raw).as_bytes()
}
