//! A signer whose Ed25519 key is held by an ssh-agent (OpenSSH's, gpg-agent's for an
//! OpenPGP card, a hardware-backed agent), named by its SHA-256 fingerprint as
//! `ssh-keygen -l` prints it. The agent signs the raw bytes (RFC 8032 pure Ed25519; for
//! Ed25519 keys the SSH signature blob is the plain 64-byte signature).

use std::path::PathBuf;

use ed25519_dalek::VerifyingKey;
use seqprov::keys::{Ed25519Signer, KeyStorage, SigningError};
use ssh_agent_client_rs::{Client, Identity};
use ssh_key::{Algorithm, HashAlg, PublicKey, public::KeyData};

use crate::error::SignerError;

/// The environment variable naming the agent's socket.
pub const AGENT_SOCKET_VARIABLE: &str = "SSH_AUTH_SOCK";

/// An Ed25519 key held by the ssh-agent at a socket.
pub struct AgentSigner {
    socket: PathBuf,
    key: PublicKey,
    public_key: VerifyingKey,
}

fn connect(socket: &std::path::Path) -> Result<Client, String> {
    Client::connect(socket).map_err(|e| format!("cannot connect to {}: {e}", socket.display()))
}

impl AgentSigner {
    /// Find the key with SHA-256 fingerprint `fingerprint` (`SHA256:…`) in the agent at
    /// `$SSH_AUTH_SOCK`.
    pub fn open(fingerprint: &str) -> Result<AgentSigner, SignerError> {
        let socket = std::env::var_os(AGENT_SOCKET_VARIABLE)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| {
                SignerError::Agent(format!(
                    "{AGENT_SOCKET_VARIABLE} is not set: no agent to ask"
                ))
            })?;
        AgentSigner::open_at(socket, fingerprint)
    }

    /// [`AgentSigner::open`] with the agent at `socket`.
    pub fn open_at(socket: PathBuf, fingerprint: &str) -> Result<AgentSigner, SignerError> {
        if !fingerprint.starts_with("SHA256:") || fingerprint.len() > 100 {
            return Err(SignerError::Reference(
                "ssh-agent: takes a SHA-256 fingerprint as `ssh-keygen -l` prints it \
                 (ssh-agent:SHA256:…)"
                    .into(),
            ));
        }
        let mut client = connect(&socket).map_err(SignerError::Agent)?;
        let identities = client
            .list_all_identities()
            .map_err(|e| SignerError::Agent(format!("listing the agent's keys: {e}")))?;
        let key = identities
            .into_iter()
            .filter_map(|identity| match identity {
                Identity::PublicKey(key) => Some(key.into_owned()),
                Identity::Certificate(_) => None,
            })
            .find(|key| key.fingerprint(HashAlg::Sha256).to_string() == fingerprint)
            .ok_or_else(|| {
                SignerError::Agent(format!(
                    "the agent holds no key with fingerprint {fingerprint}"
                ))
            })?;
        let KeyData::Ed25519(ed25519) = key.key_data() else {
            return Err(SignerError::Agent(format!(
                "key {fingerprint} is {}, not Ed25519",
                key.algorithm()
            )));
        };
        let public_key = VerifyingKey::from_bytes(&ed25519.0)
            .map_err(|e| SignerError::Agent(format!("key {fingerprint}: {e}")))?;
        Ok(AgentSigner {
            socket,
            key,
            public_key,
        })
    }
}

impl Ed25519Signer for AgentSigner {
    fn public_key(&self) -> VerifyingKey {
        self.public_key
    }

    fn try_sign_message(&self, message: &[u8]) -> Result<[u8; 64], SigningError> {
        // One connection per signature: the client is not shareable between threads, and
        // an agent restarted meanwhile is found again.
        let mut client = connect(&self.socket).map_err(SigningError)?;
        let signature = client
            .sign(&self.key, message)
            .map_err(|e| SigningError(format!("the ssh-agent refused to sign: {e}")))?;
        if signature.algorithm() != Algorithm::Ed25519 {
            return Err(SigningError(format!(
                "the ssh-agent answered with a {} signature, not Ed25519",
                signature.algorithm()
            )));
        }
        signature.as_bytes().try_into().map_err(|_| {
            SigningError(format!(
                "the ssh-agent returned {} bytes, not a 64-byte Ed25519 signature",
                signature.as_bytes().len()
            ))
        })
    }
}

impl seqprov::Signer for AgentSigner {
    /// None: an agent key's comment is often a file path or `user@host`, not a name.
    fn signer_name(&self) -> Option<String> {
        None
    }

    fn key_storage(&self) -> KeyStorage {
        KeyStorage::SshAgent
    }
}
