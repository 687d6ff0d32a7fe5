//! Log receipt records: a transparency log's `c2sp.org/tlog-proof@v1` receipt kept in a
//! bundle after the message it covers, with the exact log entry it proves (spec/log.md
//! §7.1). Like a timestamp record it is an untagged CBOR map outside the custody hash
//! chain, unsigned by seqprov (the log's checkpoint signature is the proof). The entry
//! and the proof text are opaque here: the `seqprov` crate derives the entry a message
//! must have and checks the proof.

use ciborium::value::Value;
use serde::{Deserialize, Serialize};

use crate::cbor;
pub use crate::log_entry::MAX_ENTRY_BYTES;

/// Value of a receipt record's `format` field.
pub const LOG_RECEIPT_FORMAT: &str = "seqprov.log-receipt";
/// Receipt record version written and read by this library.
pub const LOG_RECEIPT_VERSION: u32 = 1;
/// Largest proof text a record may hold, in bytes.
pub const MAX_PROOF_BYTES: usize = 65_536;
/// Most receipt records that may cover one message (spec/log.md §7.1).
pub const MAX_RECEIPTS_PER_MESSAGE: usize = 16;
/// Bytes of a receipt record beside its entry and proof: the map, its keys, `format`,
/// `version`, `covers` and the two heads.
pub const MAX_RECEIPT_OVERHEAD: usize = 128;
/// Largest receipt record item, in bytes (checked from the CBOR heads before decoding).
pub const MAX_RECEIPT_RECORD_BYTES: usize =
    MAX_ENTRY_BYTES + MAX_PROOF_BYTES + MAX_RECEIPT_OVERHEAD;

/// One receipt record: which message it covers, the entry and the receipt text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogReceiptRecord {
    /// The covered message: 0 for the seal, `i` for custody event `i` (for an entry of
    /// kind `timestamp`, the message the token covers).
    pub covers: u64,
    /// The exact log entry (spec/log.md §2) the receipt proves.
    pub entry: Vec<u8>,
    /// The `c2sp.org/tlog-proof@v1` text.
    pub proof: String,
}

/// The record as written: the fields in their wire form.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    format: String,
    version: u32,
    covers: u64,
    #[serde(with = "serde_bytes")]
    entry: Vec<u8>,
    proof: String,
}

impl LogReceiptRecord {
    /// The deterministic CBOR encoding (the item appended to a bundle).
    pub fn to_cbor(&self) -> Vec<u8> {
        let wire = Wire {
            format: LOG_RECEIPT_FORMAT.into(),
            version: LOG_RECEIPT_VERSION,
            covers: self.covers,
            entry: self.entry.clone(),
            proof: self.proof.clone(),
        };
        let value = Value::serialized(&wire).expect("receipt records always serialise");
        cbor::encode(value).expect("receipt records contain no floats or duplicate keys")
    }

    /// Decode a record from the exact bytes of one canonical item, requiring its single
    /// encoding, `format` and `version`, an entry of 1 to [`MAX_ENTRY_BYTES`] bytes and a
    /// proof of 1 to [`MAX_PROOF_BYTES`] bytes.
    pub fn from_cbor(bytes: &[u8]) -> Result<LogReceiptRecord, String> {
        if bytes.len() > MAX_RECEIPT_RECORD_BYTES {
            return Err(format!(
                "log receipt record is {} bytes, more than {MAX_RECEIPT_RECORD_BYTES}",
                bytes.len()
            ));
        }
        let value = cbor::decode_exact(bytes).map_err(|e| e.to_string())?;
        let wire: Wire = value
            .deserialized()
            .map_err(|e| format!("log receipt record: {e}"))?;
        if wire.format != LOG_RECEIPT_FORMAT {
            return Err(format!(
                "log receipt record format is `{}`, not `{LOG_RECEIPT_FORMAT}`",
                wire.format
            ));
        }
        if wire.version != LOG_RECEIPT_VERSION {
            return Err(format!(
                "log receipt record version {} is not supported",
                wire.version
            ));
        }
        if wire.entry.is_empty() || wire.entry.len() > MAX_ENTRY_BYTES {
            return Err(format!(
                "log receipt entry is {} bytes; an entry holds 1 to {MAX_ENTRY_BYTES} bytes",
                wire.entry.len()
            ));
        }
        if wire.proof.is_empty() || wire.proof.len() > MAX_PROOF_BYTES {
            return Err(format!(
                "log receipt proof is {} bytes; a proof holds 1 to {MAX_PROOF_BYTES} bytes",
                wire.proof.len()
            ));
        }
        let record = LogReceiptRecord {
            covers: wire.covers,
            entry: wire.entry,
            proof: wire.proof,
        };
        if record.to_cbor() != bytes {
            return Err(
                "log receipt record is not in the single encoding its version allows \
                 (deterministic CBOR, no tags, no nulls)"
                    .into(),
            );
        }
        Ok(record)
    }
}

/// Whether a decoded tail map names itself a receipt record (its `format` field is
/// [`LOG_RECEIPT_FORMAT`]); any other map is read as a timestamp record.
pub fn is_receipt_map(value: &Value) -> bool {
    let Value::Map(pairs) = value else {
        return false;
    };
    pairs.iter().any(|(k, v)| {
        matches!(k, Value::Text(k) if k == "format")
            && matches!(v, Value::Text(v) if v == LOG_RECEIPT_FORMAT)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LogReceiptRecord {
        LogReceiptRecord {
            covers: 1,
            entry: vec![0xa0],
            proof: "c2sp.org/tlog-proof@v1\nindex 0\n\nlog\n1\nAAAA\n".into(),
        }
    }

    #[test]
    fn a_record_round_trips_and_names_itself() {
        let record = sample();
        let bytes = record.to_cbor();
        // map(5), then "entry" first (5 bytes), then "proof".
        assert_eq!(&bytes[..7], b"\xa5\x65entry");
        assert_eq!(LogReceiptRecord::from_cbor(&bytes).unwrap(), record);
        assert!(is_receipt_map(&cbor::decode_exact(&bytes).unwrap()));
    }

    #[test]
    fn empty_or_oversized_parts_and_unknown_versions_are_refused() {
        let empty = LogReceiptRecord {
            entry: Vec::new(),
            ..sample()
        };
        assert!(
            LogReceiptRecord::from_cbor(&empty.to_cbor())
                .unwrap_err()
                .contains("an entry holds 1 to 65535 bytes")
        );
        let long = LogReceiptRecord {
            proof: "p".repeat(MAX_PROOF_BYTES + 1),
            ..sample()
        };
        assert!(
            LogReceiptRecord::from_cbor(&long.to_cbor())
                .unwrap_err()
                .contains("a proof holds 1 to 65536 bytes")
        );
        let Value::Map(mut pairs) = cbor::decode_exact(&sample().to_cbor()).unwrap() else {
            unreachable!()
        };
        for (k, v) in &mut pairs {
            if *k == Value::Text("version".into()) {
                *v = Value::Integer(2.into());
            }
        }
        let v2 = cbor::encode(Value::Map(pairs)).unwrap();
        assert!(
            LogReceiptRecord::from_cbor(&v2)
                .unwrap_err()
                .contains("version 2")
        );
    }
}
