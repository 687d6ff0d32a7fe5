//! Signers that keep the private key outside seqprov's memory: a PKCS#11 token
//! ([`pkcs11`], addressed by an RFC 7512 URI parsed in [`pkcs11_uri`]) and an ssh-agent
//! ([`ssh_agent`]). Each implements [`seqprov::Signer`]; seqprov checks every signature
//! they return against the key's public key before anything is written. This crate owns
//! talking to tokens and agents; it knows nothing of bundles.

pub mod error;
pub mod pkcs11;
pub mod pkcs11_uri;
pub mod ssh_agent;

pub use error::SignerError;
