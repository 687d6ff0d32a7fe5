//! Key ids: the SHA-256 of a public key's DER-encoded SubjectPublicKeyInfo, the 32 bytes
//! a COSE_Sign1 header names its signer by.

use ed25519_dalek::VerifyingKey;
use ed25519_dalek::pkcs8::EncodePublicKey;
use sha2::{Digest, Sha256};

/// A key id: SHA-256 of the DER-encoded SubjectPublicKeyInfo (see `spec/bundle.md`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 32]);

impl KeyId {
    /// The key id of an Ed25519 public key.
    pub fn of(key: &VerifyingKey) -> KeyId {
        let der = key
            .to_public_key_der()
            .expect("an Ed25519 public key always encodes");
        KeyId(Sha256::digest(der.as_bytes()).into())
    }

    /// Lower-case hexadecimal form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}
