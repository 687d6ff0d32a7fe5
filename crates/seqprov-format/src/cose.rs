//! COSE_Sign1 (RFC 9052) with pure Ed25519: creation and strict parsing.
//!
//! Protected header: `alg` = EdDSA (-8), `kid` = 32-byte key id, `content type` = text.
//! The unprotected header is empty; the payload is attached; external AAD is empty.
//! Signatures are checked over the exact bytes received, never a re-serialisation.

use coset::{
    CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana,
};

use ed25519_dalek::VerifyingKey;

use crate::key_id::KeyId;

/// Why a signer made no signature: a token that refused or failed, an agent that went
/// away, or a signature that the signer's public key does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SigningError(pub String);

/// Whatever makes Ed25519 signatures: a key in memory, or one kept in a token or an agent.
pub trait Ed25519Signer {
    /// The public key that must verify this signer's signatures.
    fn public_key(&self) -> VerifyingKey;
    /// The key id of [`Ed25519Signer::public_key`].
    fn key_id(&self) -> KeyId {
        KeyId::of(&self.public_key())
    }
    /// The 64-byte pure Ed25519 (RFC 8032) signature of `message`, or why there is none.
    /// Callers check it with [`checked_signature`]; implementations need not.
    fn try_sign_message(&self, message: &[u8]) -> Result<[u8; 64], SigningError>;
}

/// Sign `message` with `signer` and verify the signature (strictly) against the signer's
/// public key before returning it: a token or agent that answers with another key's
/// signature, or with garbage, is refused here, before anything is written.
pub fn checked_signature(
    signer: &dyn Ed25519Signer,
    message: &[u8],
) -> Result<[u8; 64], SigningError> {
    let signature = signer.try_sign_message(message)?;
    let public = signer.public_key();
    public
        .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature))
        .map_err(|_| {
            SigningError(format!(
                "the signer returned a signature that its public key (key id {}) does not \
                 verify; nothing was signed",
                KeyId::of(&public)
            ))
        })?;
    Ok(signature)
}

/// A parsed, not yet verified, COSE_Sign1 message.
#[derive(Clone, Debug)]
pub struct SignedMessage {
    /// The exact bytes of the tagged message.
    pub raw: Vec<u8>,
    /// Key id from the protected header.
    pub key_id: KeyId,
    /// Content type from the protected header.
    pub content_type: String,
    /// Where the attached payload's bytes are in `raw` (see [`SignedMessage::payload`]).
    payload_at: std::ops::Range<usize>,
    sign1: CoseSign1,
}

/// Sign `payload` and return the tagged COSE_Sign1 bytes; the signature is checked with
/// [`checked_signature`].
pub fn sign(
    payload: Vec<u8>,
    content_type: &str,
    key: &dyn Ed25519Signer,
) -> Result<Vec<u8>, SigningError> {
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(key.key_id().0.to_vec())
        .content_type(content_type.to_string())
        .build();
    Ok(CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .try_create_signature(b"", |tbs| checked_signature(key, tbs).map(|s| s.to_vec()))?
        .build()
        .to_tagged_vec()
        .expect("a COSE_Sign1 built here always encodes"))
}

/// Parse a tagged COSE_Sign1 and check its headers have exactly the expected shape.
pub fn parse(raw: &[u8]) -> Result<SignedMessage, String> {
    parse_owned(raw.to_vec())
}

/// [`parse`], keeping `raw` as the message's bytes instead of a copy of them.
pub fn parse_owned(raw: Vec<u8>) -> Result<SignedMessage, String> {
    let mut sign1 =
        CoseSign1::from_tagged_slice(&raw).map_err(|e| format!("not a tagged COSE_Sign1: {e}"))?;
    let header = &sign1.protected.header;
    if header.alg
        != Some(coset::RegisteredLabelWithPrivate::Assigned(
            iana::Algorithm::EdDSA,
        ))
    {
        return Err("protected header algorithm is not EdDSA (-8)".into());
    }
    if !header.crit.is_empty()
        || !header.rest.is_empty()
        || !header.iv.is_empty()
        || !header.partial_iv.is_empty()
        || !header.counter_signatures.is_empty()
    {
        return Err("protected header has fields other than alg, kid and content type".into());
    }
    let key_id: [u8; 32] = header
        .key_id
        .as_slice()
        .try_into()
        .map_err(|_| "protected header key id is not 32 bytes".to_string())?;
    let content_type = match &header.content_type {
        Some(coset::ContentType::Text(text)) => text.clone(),
        _ => return Err("protected header content type is not text".into()),
    };
    let expected_protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(key_id.to_vec())
        .content_type(content_type.clone())
        .build()
        .to_vec()
        .map_err(|e| format!("protected header: {e}"))?;
    if sign1.protected.original_data.as_deref() != Some(expected_protected.as_slice()) {
        return Err("protected header is not in deterministic encoding".into());
    }
    if !sign1.unprotected.is_empty() {
        return Err("unprotected header is not empty".into());
    }
    // The payload is kept once, as a range of `raw`, not also inside `sign1`.
    let payload = sign1
        .payload
        .take()
        .ok_or_else(|| "payload is detached (absent)".to_string())?;
    // Re-encoding must give back the very bytes: rules out non-canonical framing.
    let payload_at = deterministic_framing(&raw, &expected_protected, &payload, &sign1.signature)
        .ok_or_else(|| "COSE_Sign1 is not in deterministic encoding".to_string())?;
    drop(payload);
    Ok(SignedMessage {
        raw,
        key_id: KeyId(key_id),
        content_type,
        payload_at,
        sign1,
    })
}

/// Whether `raw` is exactly the deterministic encoding of a tagged COSE_Sign1 with these
/// parts and an empty unprotected header: `d2 84`, then the protected header, `a0`, the
/// payload and the signature as byte strings with shortest heads. This is what re-encoding
/// the parsed message would give, compared piece by piece instead of built as a copy.
/// Returns where the payload's bytes are in `raw`.
fn deterministic_framing(
    raw: &[u8],
    protected: &[u8],
    payload: &[u8],
    signature: &[u8],
) -> Option<std::ops::Range<usize>> {
    let mut rest = raw;
    let mut expect = |bytes: &[u8]| match rest.strip_prefix(bytes) {
        Some(after) => {
            rest = after;
            true
        }
        None => false,
    };
    let head = |len: usize| {
        let mut head = Vec::with_capacity(9);
        crate::cbor::write_head(&mut head, 2, len as u64);
        head
    };
    let (protected_head, payload_head) = (head(protected.len()), head(payload.len()));
    let start = 2 + protected_head.len() + protected.len() + 1 + payload_head.len();
    let framed = expect(&[0xd2, 0x84])
        && expect(&protected_head)
        && expect(protected)
        && expect(&[0xa0])
        && expect(&payload_head)
        && expect(payload)
        && expect(&head(signature.len()))
        && expect(signature)
        && rest.is_empty();
    framed.then(|| start..start + payload.len())
}

impl SignedMessage {
    /// The attached payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.raw[self.payload_at.clone()]
    }

    /// Check the signature with `key` (which must match the header's key id): strict
    /// Ed25519 verification (no small-order keys, canonical `S`).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), String> {
        let id = KeyId::of(key);
        if id != self.key_id {
            return Err(format!(
                "key id in the header ({}) is not the key's ({id})",
                self.key_id
            ));
        }
        let signature = ed25519_dalek::Signature::from_slice(&self.sign1.signature)
            .map_err(|_| "signature is not 64 bytes".to_string())?;
        key.verify_strict(&self.to_be_signed(), &signature)
            .map_err(|_| "Ed25519 signature check failed".to_string())
    }

    /// The Sig_structure the signature covers (RFC 9052 §4.4):
    /// `["Signature1", protected, h'', payload]`, built with one copy of the payload (the
    /// COSE library's builder makes two, and a seal may be megabytes).
    fn to_be_signed(&self) -> Vec<u8> {
        let protected = self
            .sign1
            .protected
            .original_data
            .as_deref()
            .unwrap_or_default();
        let payload = self.payload();
        let mut tbs = Vec::with_capacity(32 + protected.len() + payload.len());
        crate::cbor::write_head(&mut tbs, 4, 4);
        crate::cbor::write_head(&mut tbs, 3, 10);
        tbs.extend_from_slice(b"Signature1");
        crate::cbor::write_head(&mut tbs, 2, protected.len() as u64);
        tbs.extend_from_slice(protected);
        crate::cbor::write_head(&mut tbs, 2, 0);
        crate::cbor::write_head(&mut tbs, 2, payload.len() as u64);
        tbs.extend_from_slice(payload);
        tbs
    }

    /// Re-encode without the tag (for tests and tooling).
    pub fn untagged_bytes(&self) -> Vec<u8> {
        // `parse` checked the framing: the tag is the one byte `d2`.
        self.raw[1..].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Sig_structure built here is byte for byte the COSE library's.
    #[test]
    fn to_be_signed_is_the_cose_librarys_sig_structure() {
        let key = TestKey::from_seed(&[9; 32], None);
        for len in [0usize, 1, 23, 24, 255, 256, 70_000] {
            let raw = sign(vec![0x61; len], "application/test", &key).unwrap();
            let message = parse(&raw).unwrap();
            let library = CoseSign1::from_tagged_slice(&raw).unwrap().tbs_data(b"");
            assert_eq!(message.to_be_signed(), library, "payload of {len} bytes");
            message.verify(&key.public()).unwrap();
        }
    }

    struct TestKey(ed25519_dalek::SigningKey);

    impl TestKey {
        fn from_seed(seed: &[u8; 32], _name: Option<String>) -> TestKey {
            TestKey(ed25519_dalek::SigningKey::from_bytes(seed))
        }
        fn public(&self) -> VerifyingKey {
            self.0.verifying_key()
        }
    }

    impl Ed25519Signer for TestKey {
        fn public_key(&self) -> VerifyingKey {
            self.0.verifying_key()
        }
        fn try_sign_message(&self, message: &[u8]) -> Result<[u8; 64], SigningError> {
            use ed25519_dalek::Signer;
            Ok(self.0.sign(message).to_bytes())
        }
    }

    /// A signer whose public key is not the key that signs (a token answering with another
    /// key's signature).
    struct MismatchedSigner {
        signs: TestKey,
        claims: TestKey,
    }

    impl Ed25519Signer for MismatchedSigner {
        fn public_key(&self) -> VerifyingKey {
            self.claims.public()
        }
        fn try_sign_message(&self, message: &[u8]) -> Result<[u8; 64], SigningError> {
            self.signs.try_sign_message(message)
        }
    }

    #[test]
    fn a_signature_by_another_key_is_refused() {
        let signer = MismatchedSigner {
            signs: TestKey::from_seed(&[1; 32], None),
            claims: TestKey::from_seed(&[2; 32], None),
        };
        let err = sign(b"payload".to_vec(), "text/plain", &signer).unwrap_err();
        assert!(err.0.contains("does not verify"), "{err}");
    }

    #[test]
    fn sign_parse_verify() {
        let key = TestKey::from_seed(&[9; 32], None);
        let raw = sign(b"payload".to_vec(), "text/plain", &key).unwrap();
        assert_eq!(raw[0], 0xd2, "tag 18");
        let msg = parse(&raw).unwrap();
        assert_eq!(msg.payload(), b"payload");
        assert_eq!(msg.content_type, "text/plain");
        assert!(msg.verify(&key.public()).is_ok());
        let other = TestKey::from_seed(&[8; 32], None).public();
        assert!(msg.verify(&other).is_err());
    }

    #[test]
    fn flipped_payload_byte_fails_verification() {
        let key = TestKey::from_seed(&[9; 32], None);
        let mut raw = sign(b"payload".to_vec(), "text/plain", &key).unwrap();
        let at = raw.windows(7).position(|w| w == b"payload").unwrap();
        raw[at] ^= 1;
        let msg = parse(&raw).unwrap();
        assert!(msg.verify(&key.public()).is_err());
    }
}
