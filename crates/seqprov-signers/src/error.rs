//! Why a token or agent signer could not be opened or used.

/// What went wrong with a token or an agent. Every variant is a usage or I/O error
/// (exit 2) for the command that asked.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// The key reference (a `pkcs11:` URI or an `ssh-agent:` fingerprint) is not valid.
    #[error("key reference: {0}")]
    Reference(String),
    /// The PKCS#11 module could not be found or loaded.
    #[error("PKCS#11 module: {0}")]
    Module(String),
    /// The token, the PIN or the key object was refused or not found.
    #[error("PKCS#11 token: {0}")]
    Token(String),
    /// The ssh-agent could not be reached or has no such key.
    #[error("ssh-agent: {0}")]
    Agent(String),
}
