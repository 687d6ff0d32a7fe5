//! What several commands read from their arguments: keys, the policy, recorded texts and
//! the read mode.

use std::path::{Path, PathBuf};

use anyhow::Result;
use seqprov::{PermissionCheck, PrivateKey, PublicKey, ReadMode};

use crate::args::{ReadArgs, TrustArgs};
use crate::passphrase;

/// Load a private key, warning when the permission check is overridden.
pub(crate) fn load_private_key(path: &Path, allow_insecure: bool) -> Result<PrivateKey> {
    let permissions = if allow_insecure {
        PermissionCheck::AllowInsecure
    } else {
        PermissionCheck::Strict
    };
    let name = path.display().to_string();
    let key = PrivateKey::load_with(path, permissions, &|| passphrase::for_opening(&name))?;
    let exposed = std::fs::metadata(path)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o077 != 0)
        .unwrap_or(false);
    if allow_insecure && exposed {
        eprintln!(
            "seqprov: warning: {} is readable or writable by group or others; using it anyway \
             (--allow-insecure-key-permissions)",
            crate::terminal_text::terminal_safe(&path.display().to_string())
        );
    }
    Ok(key)
}

/// The policy that `--policy` and `--trust` together describe.
pub(crate) fn load_policy(trust: &TrustArgs) -> Result<seqprov::Policy> {
    let keys = trust
        .trust
        .iter()
        .map(|p| PublicKey::load(p))
        .collect::<seqprov::Result<Vec<_>>>()?;
    let mut policy = match &trust.policy {
        Some(path) => seqprov::Policy::load(path)?,
        None => seqprov::Policy::default(),
    };
    policy
        .signers
        .extend(seqprov::Policy::trusting(keys).signers);
    Ok(policy)
}

/// Refuse empty text or control characters in a recorded one-line field.
pub(crate) fn validate_text(flag: &str, text: &str) -> Result<()> {
    seqprov::keys::validate_signer_name(text)
        .map_err(|why| anyhow::anyhow!("{flag}: {}", why.replace("signer name", "text")))
}

pub(crate) fn read_mode(read: ReadArgs) -> ReadMode {
    if read.no_mmap {
        ReadMode::NoMmap
    } else {
        ReadMode::Auto
    }
}

pub(crate) fn bundle_path_for(dir: &Path, given: &Option<PathBuf>) -> Result<PathBuf> {
    Ok(match given {
        Some(path) => path.clone(),
        None => seqprov::default_bundle_path(dir)?,
    })
}

/// The structure-check options of `--no-structure-check`, `--strict-structure` and
/// `--full-structure-check`.
pub(crate) fn structure_options(
    none: bool,
    strict: bool,
    full: bool,
) -> Option<seqprov::illumina::structure::CheckOptions> {
    use seqprov::illumina::structure::{CheckOptions, Depth, StrictMode};
    (!none).then_some(CheckOptions {
        mode: if strict {
            StrictMode::Strict
        } else {
            StrictMode::Lenient
        },
        depth: if strict || full {
            Depth::Full
        } else {
            Depth::Framing
        },
    })
}
