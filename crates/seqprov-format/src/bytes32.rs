//! Exactly 32 bytes (a digest, a salt, a public key): a CBOR byte string in bundles and
//! lower-case hexadecimal in JSON reports.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Exactly 32 bytes, encoded as a CBOR byte string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes32(pub [u8; 32]);

impl std::fmt::Debug for Bytes32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// A CBOR byte string in bundles; lower-case hexadecimal text in JSON reports.
impl Serialize for Bytes32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(self.0))
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Bytes32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            let bytes = hex::decode(&text).map_err(serde::de::Error::custom)?;
            let array: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                serde::de::Error::custom(format!("expected 32 bytes, found {}", bytes.len()))
            })?;
            return Ok(Bytes32(array));
        }
        let bytes: serde_bytes::ByteBuf = Deserialize::deserialize(d)?;
        let array: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            serde::de::Error::custom(format!("expected 32 bytes, found {}", bytes.len()))
        })?;
        Ok(Bytes32(array))
    }
}
