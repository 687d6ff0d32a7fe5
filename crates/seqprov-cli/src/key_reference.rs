//! `--key` references, opened as a signer: a PKCS#8 PEM key file, a key kept in a PKCS#11
//! token (`pkcs11:` URI, RFC 7512) or a key held by an ssh-agent (`ssh-agent:SHA256:…`).
//! A key file whose name starts with `pkcs11:` or `ssh-agent:` is named `./pkcs11:…`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use seqprov::Signer;
use seqprov_signers::SignerError;
use seqprov_signers::pkcs11::Pkcs11Signer;
use seqprov_signers::pkcs11_uri::Pkcs11Uri;
use seqprov_signers::ssh_agent::AgentSigner;

use crate::args::TokenArgs;
use crate::command_inputs::load_private_key;
use crate::passphrase;

/// The environment variable naming the PKCS#11 module when `--pkcs11-module` is not given.
pub const MODULE_VARIABLE: &str = "SEQPROV_PKCS11_MODULE";

/// What a `--key` argument names.
pub(crate) enum KeyReference {
    /// A PKCS#8 PEM private key file.
    File(PathBuf),
    /// A key in a PKCS#11 token.
    Pkcs11(Pkcs11Uri),
    /// A key held by the ssh-agent, by its SHA-256 fingerprint.
    SshAgent(String),
}

impl KeyReference {
    /// Read a `--key` argument.
    pub(crate) fn parse(key: &Path) -> Result<KeyReference> {
        let text = key.to_str().unwrap_or_default();
        if text.starts_with("pkcs11:") {
            return Ok(KeyReference::Pkcs11(
                Pkcs11Uri::parse(text).map_err(|e| key_error(key, e))?,
            ));
        }
        if let Some(fingerprint) = text.strip_prefix("ssh-agent:") {
            return Ok(KeyReference::SshAgent(fingerprint.to_string()));
        }
        Ok(KeyReference::File(key.to_path_buf()))
    }
}

/// A token or agent failure as the library's key error (exit 2, one line naming the key).
fn key_error(key: &Path, error: SignerError) -> anyhow::Error {
    seqprov::Error::Key {
        path: key.to_path_buf(),
        reason: error.to_string(),
    }
    .into()
}

/// The PKCS#11 module to load: `--pkcs11-module`, else `SEQPROV_PKCS11_MODULE`, else
/// none (the URI's `module-path` is then used).
pub(crate) fn module_path(token: &TokenArgs) -> Option<PathBuf> {
    token.pkcs11_module.clone().or_else(|| {
        std::env::var_os(MODULE_VARIABLE)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

/// Open the signer a `--key` argument names.
pub(crate) fn open_signer(
    key: &Path,
    allow_insecure: bool,
    token: &TokenArgs,
) -> Result<Box<dyn Signer>> {
    Ok(match KeyReference::parse(key)? {
        KeyReference::File(path) => Box::new(load_private_key(&path, allow_insecure)?),
        KeyReference::Pkcs11(uri) => Box::new(
            Pkcs11Signer::open(&uri, module_path(token).as_deref(), &passphrase::for_token)
                .map_err(|e| key_error(key, e))?,
        ),
        KeyReference::SshAgent(fingerprint) => {
            Box::new(AgentSigner::open(&fingerprint).map_err(|e| key_error(key, e))?)
        }
    })
}
