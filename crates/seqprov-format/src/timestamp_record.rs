//! Timestamp records: RFC 3161 time-stamp tokens kept in a bundle after the entry list,
//! each bound to the message (seal or custody event) whose exact bytes it stamps. The
//! record is an untagged CBOR map outside the custody hash chain; the token inside is
//! opaque here (the `seqprov` crate checks it). See `spec/timestamps.md`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cbor;

/// Value of a timestamp record's `format` field.
pub const TIMESTAMP_FORMAT: &str = "seqprov.timestamp";
/// Timestamp record version written and read by this library.
pub const TIMESTAMP_VERSION: u32 = 1;
/// Largest token a record may hold, in bytes (spec/timestamps.md §7).
pub const MAX_TOKEN_BYTES: usize = 65_536;
/// Most records that may cover one message (spec/timestamps.md §3.2).
pub const MAX_RECORDS_PER_MESSAGE: usize = 8;

/// One timestamp record: which message it covers and the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampRecord {
    /// Always [`TIMESTAMP_FORMAT`].
    pub format: String,
    /// [`TIMESTAMP_VERSION`].
    pub version: u32,
    /// The covered message: 0 for the seal, `i` for custody event `i`.
    pub covers: u64,
    /// The DER `TimeStampToken` (a CMS `ContentInfo`).
    #[serde(with = "serde_bytes")]
    pub token: Vec<u8>,
}

impl TimestampRecord {
    /// A record of version 1 covering message `covers`.
    pub fn new(covers: u64, token: Vec<u8>) -> TimestampRecord {
        TimestampRecord {
            format: TIMESTAMP_FORMAT.into(),
            version: TIMESTAMP_VERSION,
            covers,
            token,
        }
    }

    /// The deterministic CBOR encoding (the item appended to a bundle).
    pub fn to_cbor(&self) -> Vec<u8> {
        let value =
            ciborium::value::Value::serialized(self).expect("timestamp records always serialise");
        cbor::encode(value).expect("timestamp records contain no floats or duplicate keys")
    }

    /// Decode a record from the exact bytes of one canonical item, requiring its single
    /// encoding and valid fields.
    pub fn from_cbor(bytes: &[u8]) -> Result<TimestampRecord, String> {
        let value = cbor::decode_exact(bytes).map_err(|e| e.to_string())?;
        let record: TimestampRecord = value
            .deserialized()
            .map_err(|e| format!("timestamp record: {e}"))?;
        if record.to_cbor() != bytes {
            return Err(
                "timestamp record is not in the single encoding its version allows \
                 (deterministic CBOR, no tags, no nulls)"
                    .into(),
            );
        }
        if record.format != TIMESTAMP_FORMAT {
            return Err(format!(
                "timestamp record format is `{}`, not `{TIMESTAMP_FORMAT}`",
                record.format
            ));
        }
        if record.version != TIMESTAMP_VERSION {
            return Err(format!(
                "timestamp record version {} is not supported",
                record.version
            ));
        }
        if record.token.is_empty() || record.token.len() > MAX_TOKEN_BYTES {
            return Err(format!(
                "timestamp token is {} bytes; a token holds 1 to {MAX_TOKEN_BYTES} bytes",
                record.token.len()
            ));
        }
        Ok(record)
    }
}

/// The message imprint a TSA stamps for a message: SHA-256 of its exact bytes (the
/// tagged COSE_Sign1 from `d2` through the signature, as in the bundle).
pub fn message_imprint(raw: &[u8]) -> [u8; 32] {
    Sha256::digest(raw).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_its_keys_stand_in_deterministic_order() {
        let record = TimestampRecord::new(3, vec![0x30, 0x00]);
        let bytes = record.to_cbor();
        // map(4), then "token" first: shorter keys sort first.
        assert_eq!(&bytes[..7], b"\xa4\x65token");
        assert_eq!(TimestampRecord::from_cbor(&bytes).unwrap(), record);
    }

    #[test]
    fn an_empty_token_and_an_unknown_version_are_refused() {
        let empty = TimestampRecord::new(0, Vec::new()).to_cbor();
        assert!(
            TimestampRecord::from_cbor(&empty)
                .unwrap_err()
                .contains("1 to")
        );
        let mut v2 = TimestampRecord::new(0, vec![1]);
        v2.version = 2;
        assert!(
            TimestampRecord::from_cbor(&v2.to_cbor())
                .unwrap_err()
                .contains("version 2")
        );
    }
}
