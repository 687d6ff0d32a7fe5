//! Whether a bundle holds together, without trust or files: the seal's signature under
//! the key it names, the entries against the signed root, and every custody link.

use seqprov_format::Bundle;
use seqprov_format::cose::SignedMessage;
use seqprov_format::manifest::SealPayload;

use crate::chain;
use crate::keys::PublicKey;

/// Check the seal's signature under the key it names; `Err` says why it fails.
pub fn check_seal_signature(bundle: &Bundle) -> std::result::Result<PublicKey, String> {
    let key = PublicKey::from_bytes(&bundle.payload.signer.public_key.0)?;
    bundle.seal.verify(key.verifying_key())?;
    Ok(key)
}

/// Whether a bundle holds together, without trust or files: the seal's signature, the
/// entries against the signed root, and every custody link. `Err` names the first
/// problem. Appending to, deriving from and exporting a bundle all require this.
pub fn check_integrity(bundle: &Bundle) -> std::result::Result<(), String> {
    check_seal_signature(bundle)
        .map_err(|why| format!("the seal's signature does not verify: {why}"))?;
    if !bundle.root_matches() {
        return Err("the entry list does not match the signed root".into());
    }
    match chain::check(bundle).integrity_problems().into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

/// True when a seal message's signature verifies under the key its payload names (the
/// check [`check_seal_signature`] makes, before the entries are decoded).
pub fn seal_signature_holds(seal: &SignedMessage, payload: &SealPayload) -> bool {
    PublicKey::from_bytes(&payload.signer.public_key.0)
        .is_ok_and(|key| seal.verify(key.verifying_key()).is_ok())
}
