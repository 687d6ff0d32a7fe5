//! Ed25519 keys: generation, PEM files (PKCS#8 private, SPKI public) and key ids.
//!
//! The files are the ones `openssl genpkey -algorithm ed25519` and
//! `openssl pkey -pubout` make. A key may carry a signer name on a `Signer:` line
//! before the PEM block (RFC 7468 lets parsers ignore text outside the block, and
//! OpenSSL does).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

pub use seqprov_format::cose::{Ed25519Signer, SigningError};
pub use seqprov_format::key_id::KeyId;
pub use seqprov_format::manifest::KeyStorage;

use crate::error::{Error, Result};

/// PBKDF2-HMAC-SHA256 iterations for passphrase-encrypted keys (OWASP 2023 guidance).
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// Largest key file read (a PEM key is a few hundred bytes).
pub const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

/// Read a key file: a regular file (a FIFO or device is refused without blocking or
/// reading it) of at most [`MAX_KEY_FILE_BYTES`]; both refusals are [`Error::Key`] (exit 2).
fn read_key_file(path: &Path) -> Result<seqprov_engine::bounded_read::BoundedFile> {
    use seqprov_engine::EngineError;
    seqprov_engine::bounded_read::read_regular_file(path, MAX_KEY_FILE_BYTES).map_err(|e| match e {
        EngineError::TooLarge { .. } => Error::Key {
            path: path.to_path_buf(),
            reason: format!("larger than any key file ({MAX_KEY_FILE_BYTES} bytes at most)"),
        },
        EngineError::NotRegularFile { kind, .. } => Error::Key {
            path: path.to_path_buf(),
            reason: format!("is {kind}, not a regular file"),
        },
        other => other.into(),
    })
}

/// Prefix of the optional line before the PEM block that names the key's holder.
const SIGNER_LINE: &str = "Signer: ";

/// A private signing key and the signer name stored with it, if any.
pub struct PrivateKey {
    key: SigningKey,
    /// The holder's name from the key file's `Signer:` line.
    pub signer_name: Option<String>,
}

impl Ed25519Signer for PrivateKey {
    fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    fn try_sign_message(&self, message: &[u8]) -> std::result::Result<[u8; 64], SigningError> {
        Ok(self.key.sign(message).to_bytes())
    }
}

impl Signer for PrivateKey {
    fn signer_name(&self) -> Option<String> {
        self.signer_name.clone()
    }

    fn key_storage(&self) -> KeyStorage {
        KeyStorage::File
    }
}

/// What every signing command signs with: a key file read into memory ([`PrivateKey`]),
/// or a key that stays in a PKCS#11 token or an ssh-agent (the `seqprov-signers` crate).
/// Every signature is made through [`sign_checked`] (or `cose::sign`, which does the
/// same), so a backend's answer is verified against [`Ed25519Signer::public_key`] before
/// anything is written.
pub trait Signer: Ed25519Signer + Send + Sync {
    /// The holder's name recorded with the key (a key file's `Signer:` line), if any.
    fn signer_name(&self) -> Option<String>;
    /// Where the private key is held; recorded in seals and events as the signer's claim.
    fn key_storage(&self) -> KeyStorage;
    /// The public key, with the holder's name.
    fn public_key_with_name(&self) -> PublicKey {
        PublicKey::from_verifying_key(self.public_key(), self.signer_name())
    }
}

/// Sign `message` with `signer` (pure Ed25519) and verify the signature against the
/// signer's public key before returning it; a failure is [`Error::Signing`] (exit 2).
pub fn sign_checked(signer: &dyn Signer, message: &[u8]) -> Result<Signature> {
    let bytes = seqprov_format::cose::checked_signature(signer, message)?;
    Ok(Signature::from_bytes(&bytes))
}

/// A public key and the signer name stored with it, if any.
#[derive(Clone, Debug)]
pub struct PublicKey {
    key: VerifyingKey,
    id: KeyId,
    /// The holder's name from the key file's `Signer:` line.
    pub signer_name: Option<String>,
}

/// Whether to load a private key that group or others may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PermissionCheck {
    /// Refuse such a key (the default, as OpenSSH does).
    Strict,
    /// Load it anyway; the caller should warn.
    AllowInsecure,
}

impl PrivateKey {
    /// Make a new key from the operating system's random source.
    pub fn generate(signer_name: Option<String>) -> Result<PrivateKey> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(seed.as_mut()).map_err(|e| {
            Error::io(
                "random source",
                std::io::Error::other(format!("getrandom failed: {e}")),
            )
        })?;
        Ok(PrivateKey {
            key: SigningKey::from_bytes(&seed),
            signer_name,
        })
    }

    /// Build a key from a 32-byte seed (test vectors and embedding only).
    pub fn from_seed(seed: &[u8; 32], signer_name: Option<String>) -> PrivateKey {
        PrivateKey {
            key: SigningKey::from_bytes(seed),
            signer_name,
        }
    }

    /// Load a PKCS#8 PEM private key file that is not passphrase-encrypted.
    pub fn load(path: &Path, permissions: PermissionCheck) -> Result<PrivateKey> {
        PrivateKey::load_with(path, permissions, &|| {
            Err("the key is passphrase-encrypted; a passphrase is needed".into())
        })
    }

    /// Load a PKCS#8 PEM private key file; `passphrase` is asked for only when the key is
    /// encrypted (`ENCRYPTED PRIVATE KEY`, PBES2), and what it returns is zeroised after use.
    pub fn load_with(
        path: &Path,
        permissions: PermissionCheck,
        passphrase: &dyn Fn() -> std::result::Result<Zeroizing<String>, String>,
    ) -> Result<PrivateKey> {
        let key_err = |reason: String| Error::Key {
            path: path.to_path_buf(),
            reason,
        };
        let file = read_key_file(path)?;
        let meta = &file.metadata;
        let mode = meta.permissions().mode() & 0o777;
        let text = Zeroizing::new(String::from_utf8(file.bytes).map_err(|e| {
            // The bytes may be secret: zeroise them before reporting.
            let _ = Zeroizing::new(e.into_bytes());
            key_err("not UTF-8 text; not a PEM key file".into())
        })?);
        let (signer_name, pem) = split_pem(&text);
        let (label, pem) = normalised_pem(pem).map_err(&key_err)?;
        let pem: &str = &pem;
        match label.as_str() {
            "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {}
            "PUBLIC KEY" => {
                return Err(key_err(
                    "this is a public key (BEGIN PUBLIC KEY); --key takes the private key file"
                        .into(),
                ));
            }
            other => {
                return Err(key_err(format!(
                    "not a PEM private key (found BEGIN {})",
                    other.escape_default()
                )));
            }
        }
        if permissions == PermissionCheck::Strict && mode & 0o077 != 0 {
            return Err(key_err(format!(
                "private key is readable or writable by group or others (mode {mode:04o}); \
                 run `chmod 600` on it, or pass --allow-insecure-key-permissions"
            )));
        }
        if label == "ENCRYPTED PRIVATE KEY" {
            let secret = passphrase().map_err(key_err)?;
            let (_, document) = pkcs8::SecretDocument::from_pem(pem)
                .map_err(|e| key_err(format!("not a PEM encrypted private key ({e})")))?;
            let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(document.as_bytes())
                .map_err(|e| key_err(format!("not a PKCS#8 encrypted private key ({e})")))?;
            let der = encrypted.decrypt(secret.as_bytes()).map_err(|_| {
                key_err("cannot decrypt it: wrong passphrase, or an unsupported cipher".into())
            })?;
            let key = SigningKey::from_pkcs8_der(der.as_bytes())
                .map_err(|e| key_err(format!("not an Ed25519 PKCS#8 private key ({e})")))?;
            return Ok(PrivateKey { key, signer_name });
        }
        let key = SigningKey::from_pkcs8_pem(pem)
            .map_err(|e| key_err(format!("not an Ed25519 PKCS#8 PEM private key ({e})")))?;
        Ok(PrivateKey { key, signer_name })
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey::from_verifying_key(self.key.verifying_key(), self.signer_name.clone())
    }

    /// The Ed25519 key itself, for signing formats other than seqprov's (the transparency
    /// log's checkpoint notes and witness cosignatures, spec/log.md §1).
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Sign a message (pure Ed25519, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> Signature {
        self.key.sign(message)
    }

    /// Passphrase-encrypted PKCS#8 PEM text (PBES2: PBKDF2-HMAC-SHA256 with
    /// [`PBKDF2_ITERATIONS`] iterations and AES-256-CBC, which `openssl pkey` reads),
    /// preceded by the `Signer:` line if named.
    pub fn to_encrypted_pem(&self, passphrase: &str) -> Result<Zeroizing<String>> {
        use pkcs8::EncodePrivateKey as _;
        let plain = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.key.to_bytes(),
            public_key: None,
        }
        .to_pkcs8_der()
        .expect("an Ed25519 key always encodes");
        let info = pkcs8::PrivateKeyInfo::try_from(plain.as_bytes())
            .expect("a document we just encoded parses");
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        getrandom::getrandom(&mut salt)
            .and_then(|()| getrandom::getrandom(&mut iv))
            .map_err(|e| Error::io("random source", std::io::Error::other(e.to_string())))?;
        let params =
            pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, &iv)
                .expect("valid PBES2 parameters");
        let encrypted = info
            .encrypt_with_params(params, passphrase.as_bytes())
            .expect("encryption of a small document cannot fail");
        let pem = encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .expect("PEM encoding cannot fail");
        Ok(Zeroizing::new(format!(
            "{}{}",
            signer_preamble(&self.signer_name),
            pem.as_str()
        )))
    }

    /// PKCS#8 v1 PEM text (the form OpenSSL writes), preceded by the `Signer:` line if named.
    pub fn to_pem(&self) -> Zeroizing<String> {
        let bytes = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.key.to_bytes(),
            public_key: None,
        };
        let pem = bytes
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an Ed25519 key always encodes");
        Zeroizing::new(format!(
            "{}{}",
            signer_preamble(&self.signer_name),
            pem.as_str()
        ))
    }
}

impl PublicKey {
    /// Wrap a verifying key.
    pub fn from_verifying_key(key: VerifyingKey, signer_name: Option<String>) -> PublicKey {
        PublicKey {
            id: KeyId::of(&key),
            key,
            signer_name,
        }
    }

    /// Build from the 32 raw public key bytes; weak (small-order) keys are refused.
    pub fn from_bytes(bytes: &[u8; 32]) -> std::result::Result<PublicKey, String> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|e| e.to_string())?;
        if key.is_weak() {
            return Err("weak (small-order) Ed25519 public key".into());
        }
        Ok(PublicKey::from_verifying_key(key, None))
    }

    /// Load an SPKI PEM public key file.
    pub fn load(path: &Path) -> Result<PublicKey> {
        let file = read_key_file(path)?;
        let text = String::from_utf8(file.bytes).map_err(|_| Error::Key {
            path: path.to_path_buf(),
            reason: "not UTF-8 text; not a PEM key file".into(),
        })?;
        PublicKey::from_pem(&text).map_err(|reason| Error::Key {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parse SPKI PEM text (with an optional `Signer:` line before it).
    pub fn from_pem(text: &str) -> std::result::Result<PublicKey, String> {
        let (signer_name, pem) = split_pem(text);
        let (label, pem) = normalised_pem(pem)?;
        if label != "PUBLIC KEY" {
            return Err(format!(
                "not a PEM public key (found BEGIN {}); --trust takes the .pub file",
                label.escape_default()
            ));
        }
        let key = VerifyingKey::from_public_key_pem(&pem)
            .map_err(|e| format!("not an Ed25519 SPKI PEM public key ({e})"))?;
        if key.is_weak() {
            return Err("weak (small-order) Ed25519 public key".into());
        }
        Ok(PublicKey::from_verifying_key(key, signer_name))
    }

    /// The key id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The Ed25519 verifying key, for checking a COSE_Sign1 message.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The 32 raw public key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// SPKI PEM text, preceded by the `Signer:` line if named.
    pub fn to_pem(&self) -> String {
        let pem = self
            .key
            .to_public_key_pem(LineEnding::LF)
            .expect("an Ed25519 key always encodes");
        format!("{}{pem}", signer_preamble(&self.signer_name))
    }

    /// Verify a signature with `verify_strict` (rejects malleable signatures and weak keys).
    pub fn verify_strict(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> std::result::Result<(), String> {
        let signature = Signature::from_slice(signature)
            .map_err(|_| "signature is not 64 bytes".to_string())?;
        self.key
            .verify_strict(message, &signature)
            .map_err(|_| "Ed25519 signature check failed".to_string())
    }
}

fn signer_preamble(name: &Option<String>) -> String {
    match name {
        Some(name) => format!("{SIGNER_LINE}{name}\n"),
        None => String::new(),
    }
}

/// Split key file text into the signer name (from text before the PEM block) and the block.
/// The PEM block of key file text in the form the strict RFC 7468 decoder reads: its label
/// and its base64 body re-wrapped at 64 columns. Any line width, CRLF line ends and
/// surrounding whitespace are accepted (RFC 7468 §3 lax parsing), so keys written by tools
/// that wrap at 76 columns, or not at all, load. The text may hold a secret: the result is
/// zeroised when dropped.
fn normalised_pem(pem: &str) -> std::result::Result<(String, Zeroizing<String>), String> {
    let begin = pem
        .find("-----BEGIN ")
        .ok_or("no PEM block (no -----BEGIN line)")?;
    let after_begin = &pem[begin + "-----BEGIN ".len()..];
    let label_end = after_begin
        .find("-----")
        .ok_or("malformed -----BEGIN line")?;
    let label = after_begin[..label_end].to_string();
    let body_and_end = &after_begin[label_end + 5..];
    let end_line = format!("-----END {label}-----");
    let end = body_and_end
        .find(&end_line)
        .ok_or_else(|| format!("no {end_line} line"))?;
    let body: Zeroizing<String> = Zeroizing::new(
        body_and_end[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect(),
    );
    if let Some(bad) = body
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
    {
        return Err(format!(
            "the PEM body holds {:?}, which is not base64",
            bad.escape_default().to_string()
        ));
    }
    let mut out = Zeroizing::new(String::with_capacity(body.len() + body.len() / 64 + 64));
    out.push_str(&format!("-----BEGIN {label}-----\n"));
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&end_line);
    out.push('\n');
    Ok((label, out))
}

fn split_pem(text: &str) -> (Option<String>, &str) {
    let start = text.find("-----BEGIN").unwrap_or(0);
    let name = text[..start]
        .lines()
        .find_map(|line| line.strip_prefix(SIGNER_LINE))
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty());
    (name, text[start..].trim_end())
}

/// Check that a signer name can be stored on one line of a key file.
pub fn validate_signer_name(name: &str) -> std::result::Result<(), String> {
    if name.trim().is_empty() {
        return Err("signer name is empty".into());
    }
    if name.chars().any(char::is_control) {
        return Err("signer name contains a control character (such as a newline)".into());
    }
    Ok(())
}

/// Write `BASE.key` (mode 0600) and `BASE.pub` for a new key; never overwrites a file.
///
/// Returns the two paths written.
pub fn write_new_keypair(base: &Path, key: &PrivateKey) -> Result<(PathBuf, PathBuf)> {
    write_new_keypair_with(base, key, None)
}

/// Write `key` as a new SPKI PEM public key file at `path` (mode 0644, fsynced); an
/// existing file is never overwritten ([`Error::Refused`]).
pub fn write_new_public_key(path: &Path, key: &PublicKey) -> Result<()> {
    if fs::symlink_metadata(path).is_ok() {
        return Err(Error::Refused(format!(
            "{} already exists; refusing to overwrite a key file",
            path.display()
        )));
    }
    write_new_file(path, key.to_pem().as_bytes(), 0o644)
}

/// The `NAME.pub` path `keygen --out NAME` writes.
pub fn public_key_path(base: &Path) -> PathBuf {
    with_suffix(base, "pub")
}

/// [`write_new_keypair`], encrypting the private key with `passphrase` when given.
pub fn write_new_keypair_with(
    base: &Path,
    key: &PrivateKey,
    passphrase: Option<&str>,
) -> Result<(PathBuf, PathBuf)> {
    let key_path = with_suffix(base, "key");
    let pub_path = with_suffix(base, "pub");
    for path in [&key_path, &pub_path] {
        if fs::symlink_metadata(path).is_ok() {
            return Err(Error::Refused(format!(
                "{} already exists; refusing to overwrite a key file",
                path.display()
            )));
        }
    }
    let pem = match passphrase {
        Some(passphrase) => key.to_encrypted_pem(passphrase)?,
        None => key.to_pem(),
    };
    write_new_file(&key_path, pem.as_bytes(), 0o600)?;
    if let Err(e) = write_new_file(&pub_path, key.public().to_pem().as_bytes(), 0o644) {
        // The private key was created by this call a moment ago: leave no orphan behind.
        let _ = fs::remove_file(&key_path);
        return Err(e);
    }
    Ok((key_path, pub_path))
}

fn with_suffix(base: &Path, suffix: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Create a file that must not exist yet, with the given mode, write it and fsync it.
fn write_new_file(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    // The umask may have narrowed the mode; it must not have widened it, but make it exact.
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io(path, e))?;
    file.write_all(contents).map_err(|e| Error::io(path, e))?;
    file.sync_all().map_err(|e| Error::io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_keeps_key_and_name() {
        let key = PrivateKey::generate(Some("Ada Lovelace".into())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (k, p) = write_new_keypair(&dir.path().join("ada"), &key).unwrap();
        let loaded = PrivateKey::load(&k, PermissionCheck::Strict).unwrap();
        assert_eq!(loaded.signer_name.as_deref(), Some("Ada Lovelace"));
        let public = PublicKey::load(&p).unwrap();
        assert_eq!(public.id(), key.public().id());
        let sig = loaded.sign(b"message");
        assert!(public.verify_strict(b"message", &sig.to_bytes()).is_ok());
        assert!(public.verify_strict(b"messagf", &sig.to_bytes()).is_err());
        assert_eq!(
            fs::metadata(&k).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn encrypted_key_round_trip_and_wrong_passphrase() {
        let key = PrivateKey::generate(Some("Enc".into())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (k, _) =
            write_new_keypair_with(&dir.path().join("e"), &key, Some("correct horse")).unwrap();
        let text = fs::read_to_string(&k).unwrap();
        assert!(text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let right = || Ok(Zeroizing::new("correct horse".to_string()));
        let loaded = PrivateKey::load_with(&k, PermissionCheck::Strict, &right).unwrap();
        assert_eq!(loaded.public().id(), key.public().id());
        assert_eq!(loaded.signer_name.as_deref(), Some("Enc"));
        let wrong = || Ok(Zeroizing::new("wrong".to_string()));
        let err = PrivateKey::load_with(&k, PermissionCheck::Strict, &wrong)
            .err()
            .unwrap();
        assert!(err.to_string().contains("wrong passphrase"), "{err}");
        let err = PrivateKey::load(&k, PermissionCheck::Strict).err().unwrap();
        assert!(err.to_string().contains("passphrase"), "{err}");
    }

    #[test]
    fn keygen_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("k");
        fs::write(with_suffix(&base, "pub"), "precious").unwrap();
        let key = PrivateKey::generate(None).unwrap();
        assert!(matches!(
            write_new_keypair(&base, &key),
            Err(Error::Refused(_))
        ));
        assert_eq!(
            fs::read_to_string(with_suffix(&base, "pub")).unwrap(),
            "precious"
        );
        assert!(!with_suffix(&base, "key").exists());
    }

    #[test]
    fn group_readable_private_key_is_refused_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::generate(None).unwrap();
        let (k, _) = write_new_keypair(&dir.path().join("k"), &key).unwrap();
        fs::set_permissions(&k, fs::Permissions::from_mode(0o640)).unwrap();
        let err = PrivateKey::load(&k, PermissionCheck::Strict).err().unwrap();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert!(PrivateKey::load(&k, PermissionCheck::AllowInsecure).is_ok());
    }

    #[test]
    fn key_id_is_sha256_of_spki_der() {
        let key = PrivateKey::from_seed(&[7; 32], None).public();
        let mut der = hex::decode("302a300506032b6570032100").unwrap();
        der.extend_from_slice(&key.to_bytes());
        assert_eq!(
            key.id().0,
            <[u8; 32]>::from(<sha2::Sha256 as sha2::Digest>::digest(&der))
        );
    }
}
