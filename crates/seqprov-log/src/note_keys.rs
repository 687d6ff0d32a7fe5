//! Keys of logs and witnesses (spec/log.md §1): vkeys, signed-note Ed25519 signatures
//! (type 0x01) for checkpoints and `cosignature/v1` timestamped signatures (type 0x04)
//! for witnesses.

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::LogError;

/// Checks a log origin or witness name: 1–255 bytes of printable ASCII without space or `+`.
pub fn check_key_name(name: &str) -> Result<(), LogError> {
    todo!("{name}")
}

/// A log's signing key under its origin.
pub struct LogSigner {
    /// The origin (key name).
    pub origin: String,
    /// The Ed25519 key.
    pub key: SigningKey,
}

impl LogSigner {
    /// The vkey `<origin>+<hex8 key id>+<base64(0x01 ‖ public key)>`.
    pub fn vkey(&self) -> String {
        todo!()
    }

    /// One signed-note signature line (`— <origin> <base64(key id ‖ sig)>\n`) over `body`.
    pub fn signature_line(&self, body: &[u8]) -> String {
        todo!("{}", body.len())
    }
}

/// A trusted log: origin and Ed25519 public key, from a vkey of type 0x01.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogVerifier {
    /// The origin (key name).
    pub origin: String,
    /// The 4-byte note key id.
    pub key_id: [u8; 4],
    /// The public key.
    pub key: VerifyingKey,
}

impl LogVerifier {
    /// Parses a vkey; the type byte must be 0x01 and the key id must match.
    pub fn from_vkey(vkey: &str) -> Result<LogVerifier, LogError> {
        todo!("{vkey}")
    }

    /// The vkey text.
    pub fn vkey(&self) -> String {
        todo!()
    }
}

/// A witness's signing key under its name.
pub struct WitnessSigner {
    /// The witness name (key name).
    pub name: String,
    /// The Ed25519 key.
    pub key: SigningKey,
}

impl WitnessSigner {
    /// The vkey `<name>+<hex8 key id>+<base64(0x04 ‖ public key)>`.
    pub fn vkey(&self) -> String {
        todo!()
    }

    /// A `cosignature/v1` signature line over the checkpoint `body` at POSIX `time`.
    pub fn cosignature_line(&self, body: &[u8], time: u64) -> String {
        todo!("{} {time}", body.len())
    }
}

/// A trusted witness, from a vkey of type 0x04.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessVerifier {
    /// The witness name.
    pub name: String,
    /// The 4-byte key id.
    pub key_id: [u8; 4],
    /// The public key.
    pub key: VerifyingKey,
}

impl WitnessVerifier {
    /// Parses a vkey; the type byte must be 0x04 and the key id must match.
    pub fn from_vkey(vkey: &str) -> Result<WitnessVerifier, LogError> {
        todo!("{vkey}")
    }

    /// The vkey text.
    pub fn vkey(&self) -> String {
        todo!()
    }
}
