//! Keys of logs and witnesses (spec/log.md §1): vkeys, signed-note Ed25519 signatures
//! (type 0x01) for checkpoints and `cosignature/v1` timestamped signatures (type 0x04)
//! for witnesses.
//!
//! The signature line format and the key id are those of `signed_note`
//! (c2sp.org/signed-note); the `cosignature/v1` message (c2sp.org/tlog-cosignature) is
//! built here, as that crate knows only type 0x01.

use base64ct::{Base64, Encoding};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::LogError;

/// Signature type of an Ed25519 signed-note signature (a log's checkpoint signature).
pub const TYPE_ED25519: u8 = 0x01;

/// Signature type of an Ed25519 `cosignature/v1` (a witness's cosignature).
pub const TYPE_COSIGNATURE_V1: u8 = 0x04;

/// The longest vkey accepted: a 255-byte name, two `+`, 8 hex digits and 44 base64 chars.
pub const MAX_VKEY_LEN: usize = 255 + 1 + 8 + 1 + 44;

/// Checks a log origin or witness name: 1–255 bytes of printable ASCII without space or `+`.
pub fn check_key_name(name: &str) -> Result<(), LogError> {
    if name.is_empty() || name.len() > 255 {
        return Err(LogError::Malformed {
            what: "key name",
            detail: format!("must be 1 to 255 bytes, not {}", name.len()),
        });
    }
    if let Some(bad) = name.chars().find(|c| !c.is_ascii_graphic() || *c == '+') {
        return Err(LogError::Malformed {
            what: "key name",
            detail: format!(
                "{:?} contains {:?} (only printable ASCII without space or '+')",
                name.escape_debug().to_string(),
                bad
            ),
        });
    }
    Ok(())
}

/// The note key id `SHA-256(name ‖ "\n" ‖ type ‖ public key)[:4]`.
pub fn key_id(name: &str, signature_type: u8, key: &VerifyingKey) -> [u8; 4] {
    let mut material = Vec::with_capacity(33);
    material.push(signature_type);
    material.extend_from_slice(key.as_bytes());
    signed_note::key_id(name, &material).to_be_bytes()
}

/// The vkey text `<name>+<hex8 key id>+<base64(type ‖ public key)>`.
fn vkey_text(name: &str, signature_type: u8, key: &VerifyingKey) -> String {
    let mut material = Vec::with_capacity(33);
    material.push(signature_type);
    material.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}",
        hex::encode(key_id(name, signature_type, key)),
        Base64::encode_string(&material)
    )
}

/// Parses a vkey of the given signature type: `name+hex8+base64(type ‖ 32-byte key)`, the
/// name valid, the id lowercase hex matching the key, the key a valid Ed25519 point.
fn parse_vkey(vkey: &str, signature_type: u8) -> Result<(String, [u8; 4], VerifyingKey), LogError> {
    let malformed = |detail: String| LogError::Malformed {
        what: "vkey",
        detail,
    };
    if vkey.len() > MAX_VKEY_LEN {
        return Err(malformed(format!(
            "{} bytes, longer than {MAX_VKEY_LEN}",
            vkey.len()
        )));
    }
    let shown = vkey.escape_debug().to_string();
    // The name has no '+'; the base64 part may have some.
    let (name, rest) = vkey
        .split_once('+')
        .ok_or_else(|| malformed(format!("\"{shown}\" is not name+id+key")))?;
    let (id_hex, key_b64) = rest
        .split_once('+')
        .ok_or_else(|| malformed(format!("\"{shown}\" is not name+id+key")))?;
    check_key_name(name)?;
    if id_hex.len() != 8
        || !id_hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(malformed(format!(
            "key id \"{}\" is not 8 lowercase hex digits",
            id_hex.escape_debug()
        )));
    }
    let material = Base64::decode_vec(key_b64).map_err(|_| {
        malformed(format!(
            "key \"{}\" is not standard base64",
            key_b64.escape_debug()
        ))
    })?;
    if material.len() != 33 {
        return Err(malformed(format!(
            "key is {} bytes, not 33 (type and Ed25519 key)",
            material.len()
        )));
    }
    if material[0] != signature_type {
        return Err(malformed(format!(
            "signature type 0x{:02x}, expected 0x{signature_type:02x}",
            material[0]
        )));
    }
    let mut raw = [0u8; 32];
    raw.copy_from_slice(&material[1..]);
    let key = VerifyingKey::from_bytes(&raw)
        .map_err(|_| malformed("not a valid Ed25519 public key".to_string()))?;
    let id = key_id(name, signature_type, &key);
    if hex::encode(id) != id_hex {
        return Err(malformed(format!(
            "key id {id_hex} does not match the key (expected {})",
            hex::encode(id)
        )));
    }
    Ok((name.to_string(), id, key))
}

/// One signature line `— <name> <base64(key id ‖ signature)>\n`.
fn signature_line_text(name: &str, id: [u8; 4], signature: &[u8]) -> String {
    let mut payload = Vec::with_capacity(4 + signature.len());
    payload.extend_from_slice(&id);
    payload.extend_from_slice(signature);
    format!("\u{2014} {name} {}\n", Base64::encode_string(&payload))
}

/// The message a `cosignature/v1` signs: `cosignature/v1\ntime <t>\n` and the body.
pub fn cosignature_message(body: &[u8], time: u64) -> Vec<u8> {
    let mut message = format!("cosignature/v1\ntime {time}\n").into_bytes();
    message.extend_from_slice(body);
    message
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
        vkey_text(&self.origin, TYPE_ED25519, &self.key.verifying_key())
    }

    /// The matching verifier.
    pub fn verifier(&self) -> LogVerifier {
        let key = self.key.verifying_key();
        LogVerifier {
            origin: self.origin.clone(),
            key_id: key_id(&self.origin, TYPE_ED25519, &key),
            key,
        }
    }

    /// One signed-note signature line (`— <origin> <base64(key id ‖ sig)>\n`) over `body`.
    pub fn signature_line(&self, body: &[u8]) -> String {
        let id = key_id(&self.origin, TYPE_ED25519, &self.key.verifying_key());
        let signature = self.key.sign(body);
        signature_line_text(&self.origin, id, &signature.to_bytes())
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
        let (origin, key_id, key) = parse_vkey(vkey, TYPE_ED25519)?;
        Ok(LogVerifier {
            origin,
            key_id,
            key,
        })
    }

    /// The vkey text.
    pub fn vkey(&self) -> String {
        vkey_text(&self.origin, TYPE_ED25519, &self.key)
    }

    /// Whether `signature` (the bytes after the key id) is the log's signature of `body`.
    pub fn verifies(&self, body: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(body, &signature).is_ok()
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
        vkey_text(&self.name, TYPE_COSIGNATURE_V1, &self.key.verifying_key())
    }

    /// The matching verifier.
    pub fn verifier(&self) -> WitnessVerifier {
        let key = self.key.verifying_key();
        WitnessVerifier {
            name: self.name.clone(),
            key_id: key_id(&self.name, TYPE_COSIGNATURE_V1, &key),
            key,
        }
    }

    /// A `cosignature/v1` signature line over the checkpoint `body` at POSIX `time`:
    /// `— <name> base64(key id ‖ u64 BE time ‖ Ed25519 signature)\n`, the signature over
    /// `cosignature/v1\ntime <time>\n` followed by the body.
    pub fn cosignature_line(&self, body: &[u8], time: u64) -> String {
        let id = key_id(&self.name, TYPE_COSIGNATURE_V1, &self.key.verifying_key());
        let signature = self.key.sign(&cosignature_message(body, time));
        let mut timestamped = Vec::with_capacity(8 + 64);
        timestamped.extend_from_slice(&time.to_be_bytes());
        timestamped.extend_from_slice(&signature.to_bytes());
        signature_line_text(&self.name, id, &timestamped)
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
        let (name, key_id, key) = parse_vkey(vkey, TYPE_COSIGNATURE_V1)?;
        Ok(WitnessVerifier { name, key_id, key })
    }

    /// The vkey text.
    pub fn vkey(&self) -> String {
        vkey_text(&self.name, TYPE_COSIGNATURE_V1, &self.key)
    }

    /// The cosignature time if `signature` (the bytes after the key id: u64 BE time ‖
    /// Ed25519 signature) is this witness's `cosignature/v1` of `body`.
    pub fn verifies(&self, body: &[u8], signature: &[u8]) -> Option<u64> {
        if signature.len() != 8 + 64 {
            return None;
        }
        let (time_bytes, ed25519) = signature.split_at(8);
        let mut time = [0u8; 8];
        time.copy_from_slice(time_bytes);
        let time = u64::from_be_bytes(time);
        let ed25519 = Signature::from_slice(ed25519).ok()?;
        self.key
            .verify_strict(&cosignature_message(body, time), &ed25519)
            .ok()
            .map(|()| time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_signer() -> LogSigner {
        LogSigner {
            origin: "lab.example.org/seqprov".to_string(),
            key: SigningKey::from_bytes(&[1u8; 32]),
        }
    }

    fn witness_signer() -> WitnessSigner {
        WitnessSigner {
            name: "witness.example.org/w1".to_string(),
            key: SigningKey::from_bytes(&[2u8; 32]),
        }
    }

    #[test]
    fn key_names() {
        check_key_name("lab.example.org/seqprov").unwrap();
        check_key_name(&"a".repeat(255)).unwrap();
        for bad in ["", "a b", "a+b", "a\nb", "é", &"a".repeat(256)] {
            assert!(check_key_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn log_vkey_round_trips_and_matches_signed_note() {
        let signer = log_signer();
        let vkey = signer.vkey();
        assert_eq!(
            vkey,
            signed_note::new_ed25519_verifier_key(&signer.origin, &signer.key.verifying_key())
        );
        let verifier = LogVerifier::from_vkey(&vkey).unwrap();
        assert_eq!(verifier, signer.verifier());
        assert_eq!(verifier.vkey(), vkey);
        // signed_note accepts it and verifies our signature line.
        let body = b"lab.example.org/seqprov\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
        let mut note = body.to_vec();
        note.push(b'\n');
        note.extend_from_slice(signer.signature_line(body).as_bytes());
        let parsed = signed_note::Note::from_bytes(&note).unwrap();
        let list = signed_note::VerifierList::new(vec![Box::new(
            signed_note::StandardVerifier::new(&vkey).unwrap(),
        )]);
        let (verified, unverified) = parsed.verify(&list).unwrap();
        assert_eq!(verified.len(), 1);
        assert!(unverified.is_empty());
    }

    #[test]
    fn witness_vkey_has_type_4_and_its_own_id() {
        let witness = witness_signer();
        let vkey = witness.vkey();
        let parsed = WitnessVerifier::from_vkey(&vkey).unwrap();
        assert_eq!(parsed, witness.verifier());
        assert_eq!(parsed.vkey(), vkey);
        // A type 0x04 vkey is not a log vkey, nor the reverse.
        let err = LogVerifier::from_vkey(&vkey).unwrap_err().to_string();
        assert_eq!(err, "vkey: signature type 0x04, expected 0x01");
        let err = WitnessVerifier::from_vkey(&log_signer().vkey())
            .unwrap_err()
            .to_string();
        assert_eq!(err, "vkey: signature type 0x01, expected 0x04");
    }

    #[test]
    fn malformed_vkeys_are_refused() {
        let vkey = log_signer().vkey();
        let (name, rest) = vkey.split_once('+').unwrap();
        let (id, key) = rest.split_once('+').unwrap();
        let cases = [
            (
                format!("{name}+{}+{key}", id.to_uppercase()),
                "is not 8 lowercase hex digits",
            ),
            (format!("{name}+00000000+{key}"), "does not match the key"),
            (
                format!("other.example+{id}+{key}"),
                "does not match the key",
            ),
            (format!("{name}+{id}"), "is not name+id+key"),
            (format!("{name}+{id}+{key}="), "is not standard base64"),
            (format!("{name}+{id}+AQID"), "is 3 bytes, not 33"),
            (format!("a b+{id}+{key}"), "key name"),
            (format!("{}+{id}+{key}", "a".repeat(400)), "longer than"),
        ];
        for (bad, expected) in cases {
            let err = LogVerifier::from_vkey(&bad).unwrap_err().to_string();
            assert!(err.contains(expected), "{bad}: {err}");
        }
    }

    #[test]
    fn cosignature_verifies_only_its_body_and_time() {
        let witness = witness_signer();
        let verifier = witness.verifier();
        let body = b"lab.example.org/seqprov\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let line = witness.cosignature_line(body, 1_700_000_000);
        let b64 = line
            .strip_prefix("\u{2014} witness.example.org/w1 ")
            .unwrap()
            .trim_end();
        let payload = Base64::decode_vec(b64).unwrap();
        assert_eq!(payload.len(), 4 + 8 + 64);
        assert_eq!(payload[..4], verifier.key_id);
        assert_eq!(verifier.verifies(body, &payload[4..]), Some(1_700_000_000));
        // Another time or body does not verify.
        let mut other_time = payload[4..].to_vec();
        other_time[7] ^= 1;
        assert_eq!(verifier.verifies(body, &other_time), None);
        assert_eq!(verifier.verifies(b"x\n", &payload[4..]), None);
        assert_eq!(verifier.verifies(body, &payload[4..70]), None);
        // The signed message is exactly cosignature/v1, time line, body.
        let signature = Signature::from_slice(&payload[12..]).unwrap();
        let mut message = b"cosignature/v1\ntime 1700000000\n".to_vec();
        message.extend_from_slice(body);
        verifier.key.verify_strict(&message, &signature).unwrap();
    }
}
