//! The data model of a seal: entries (one per sealed path) and the signed seal payload,
//! with their deterministic CBOR forms (see `spec/bundle.md`).

use ciborium::value::Value;
use serde::{Deserialize, Serialize};

pub use crate::bytes32::Bytes32;
use crate::cbor;
use crate::entry_path;

/// Value of the payload's `format` field.
pub const SEAL_FORMAT: &str = "seqprov.seal";
/// Format version written by this library.
pub const FORMAT_VERSION: u32 = 1;
/// COSE content type of a seal payload.
pub const SEAL_CONTENT_TYPE: &str = "application/vnd.seqprov.seal+cbor";

/// Longest entry path or symlink target accepted (Linux's PATH_MAX).
pub const MAX_PATH_BYTES: usize = 4096;

/// What a sealed path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A regular file: `size` and `blake3` (and optionally `sha256`) are present.
    File,
    /// A symbolic link, recorded with its target text and never followed.
    Symlink,
    /// An empty directory (directories with contents are implied by their entries).
    Dir,
}

impl EntryKind {
    /// The kind's name as written in the bundle and reports.
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Symlink => "symlink",
            EntryKind::Dir => "dir",
        }
    }
}

/// One sealed path. Authenticated through the Merkle root, not signed by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Relative, `/`-separated UTF-8 path.
    pub path: String,
    /// What the path is.
    pub kind: EntryKind,
    /// Random 32-byte salt that hides this entry in inclusion proofs of other entries.
    pub salt: Bytes32,
    /// File size in bytes (files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// BLAKE3-256 of the contents (files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blake3: Option<Bytes32>,
    /// SHA-256 of the contents (files only, when the seal was made with SHA-256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Bytes32>,
    /// The link's target text (symlinks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// FASTQ content identity: reads, bases and a digest of the decompressed records
    /// (FASTQ files sealed with `--content` only; see `spec/fastq-content.md`).
    /// Boxed: few entries have one, and every decoded entry pays for the field's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Box<crate::run_record::FastqContent>>,
}

impl Entry {
    /// An entry with only its path, kind and salt; the optional fields are empty.
    pub fn bare(path: String, kind: EntryKind, salt: Bytes32) -> Entry {
        Entry {
            path,
            kind,
            salt,
            size: None,
            blake3: None,
            sha256: None,
            target: None,
            content: None,
        }
    }

    /// Check the path rules and that exactly the fields of its kind are present.
    pub fn validate(&self) -> Result<(), String> {
        entry_path::validate(&self.path)?;
        if self.path.len() > MAX_PATH_BYTES
            || self
                .target
                .as_ref()
                .is_some_and(|t| t.len() > MAX_PATH_BYTES)
        {
            return Err(format!(
                "path or link target longer than {MAX_PATH_BYTES} bytes"
            ));
        }
        let shape = (
            self.size.is_some(),
            self.blake3.is_some(),
            self.target.is_some(),
        );
        let ok = match self.kind {
            EntryKind::File => shape == (true, true, false),
            EntryKind::Symlink => {
                shape == (false, false, true) && self.sha256.is_none() && self.content.is_none()
            }
            EntryKind::Dir => {
                shape == (false, false, false) && self.sha256.is_none() && self.content.is_none()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!("fields do not match kind `{}`", self.kind.name()))
        }
    }

    /// The deterministic CBOR encoding (the Merkle leaf's input).
    ///
    /// Written directly, keys in their deterministic order (`kind`, `path`, `salt`, `size`,
    /// `blake3`, `sha256`, `target`, `content`: shorter keys first, then bytewise), because it runs
    /// once per file; a test checks it against the generic encoder.
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.path.len() + 2 * 34);
        self.write_cbor(&mut out);
        out
    }

    /// Append the deterministic CBOR encoding (see [`Entry::to_cbor`]) to `out`.
    pub fn write_cbor(&self, out: &mut Vec<u8>) {
        let pairs = 3
            + self.size.is_some() as u64
            + self.blake3.is_some() as u64
            + self.sha256.is_some() as u64
            + self.target.is_some() as u64
            + self.content.is_some() as u64;
        cbor::write_head(out, 5, pairs);
        cbor::write_text(out, "kind");
        cbor::write_text(out, self.kind.name());
        cbor::write_text(out, "path");
        cbor::write_text(out, &self.path);
        cbor::write_text(out, "salt");
        cbor::write_bytes(out, &self.salt.0);
        if let Some(size) = self.size {
            cbor::write_text(out, "size");
            cbor::write_uint(out, size);
        }
        if let Some(digest) = &self.blake3 {
            cbor::write_text(out, "blake3");
            cbor::write_bytes(out, &digest.0);
        }
        if let Some(digest) = &self.sha256 {
            cbor::write_text(out, "sha256");
            cbor::write_bytes(out, &digest.0);
        }
        if let Some(target) = &self.target {
            cbor::write_text(out, "target");
            cbor::write_text(out, target);
        }
        if let Some(content) = &self.content {
            cbor::write_text(out, "content");
            cbor::write_head(out, 5, 3);
            cbor::write_text(out, "bases");
            cbor::write_uint(out, content.bases);
            cbor::write_text(out, "reads");
            cbor::write_uint(out, content.reads);
            cbor::write_text(out, "digest");
            cbor::write_bytes(out, &content.digest.0);
        }
    }
}

/// Who signed, in what role, and what the signature means (21 CFR 11.50).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerInfo {
    /// Printed name of the signer.
    pub name: String,
    /// Role the signer acts in (for example `sequencing-core`).
    pub role: String,
    /// Meaning of the signature (for example `authorship`, `review`, `approval`).
    pub meaning: String,
    /// The signer's raw Ed25519 public key.
    pub public_key: Bytes32,
    /// How the signer says its private key was held; absent for a key file (and in
    /// everything written before the field existed). A claim by the signer, not proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_storage: Option<KeyStorage>,
}

/// Where a signer's private key was held when it signed, as the signer claims it
/// (`signer.key_storage`, spec/bundle.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyStorage {
    /// A private key file read into the signing process's memory.
    #[serde(rename = "file")]
    File,
    /// A PKCS#11 token (smart card, HSM, SoftHSM) that signed without giving the key out.
    #[serde(rename = "pkcs11")]
    Pkcs11,
    /// An ssh-agent, which may hold the key in memory or in hardware behind it.
    #[serde(rename = "ssh-agent")]
    SshAgent,
}

impl KeyStorage {
    /// The value's text in the payload and in reports: `file`, `pkcs11` or `ssh-agent`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStorage::File => "file",
            KeyStorage::Pkcs11 => "pkcs11",
            KeyStorage::SshAgent => "ssh-agent",
        }
    }

    /// What the payload records for it: nothing for a key file (so bundles sealed with a
    /// key file are byte for byte what they were before the field existed).
    pub fn recorded(self) -> Option<KeyStorage> {
        (self != KeyStorage::File).then_some(self)
    }
}

/// What was sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// The sealed directory's own name (its last path component).
    pub name: String,
    /// Always `directory` in format version 1.
    pub kind: String,
}

/// The input a derived seal was made from (BCL → FASTQ conversion, for example).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DerivedFrom {
    /// BLAKE3 of the input bundle's seal message bytes.
    pub seal: Bytes32,
    /// The input bundle's Merkle root.
    pub root: Bytes32,
    /// The input bundle's subject name (its run folder name).
    pub subject: String,
    /// The processing step, as described by the signer (program, version, arguments).
    pub step: String,
    /// BLAKE3 of the sample sheet used, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_sheet: Option<Bytes32>,
}

/// The signer's claim about the mode a run was made in, with what the run parameters say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeClaim {
    /// The attested mode (`clinical` or `ruo`), a claim by the signer.
    pub claim: crate::run_record::RunMode,
    /// The software name the run parameters record, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<String>,
    /// `agrees`, `disagrees` or `unknown`: whether that software corroborates the claim.
    pub corroboration: String,
    /// Why it disagrees, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A file sealed although a format check failed (`seal --allow-broken`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokenFile {
    /// Entry path.
    pub path: String,
    /// What the check found.
    pub reason: String,
}

/// The signed header of a bundle: everything the seal asserts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealPayload {
    /// Always [`SEAL_FORMAT`].
    pub format: String,
    /// Format version, [`FORMAT_VERSION`].
    pub version: u32,
    /// Name and version of the program that made the seal.
    pub tool: String,
    /// Time of sealing as claimed by the signer, RFC 3339 UTC (`YYYY-MM-DDTHH:MM:SSZ`).
    pub time: String,
    /// The signer.
    pub signer: SignerInfo,
    /// What was sealed.
    pub subject: Subject,
    /// Number of entries (all kinds).
    pub entries: u64,
    /// Number of regular-file entries.
    pub files: u64,
    /// Total size of the regular files in bytes.
    pub bytes: u64,
    /// Digest algorithms present in every file entry: `["blake3"]` or `["blake3", "sha256"]`.
    pub digests: Vec<String>,
    /// Merkle root over the entries.
    pub root: Bytes32,
    /// The bundle this data was derived from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<DerivedFrom>,
    /// Run metadata, when the sealed directory is an Illumina run folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<crate::run_record::RunMetadata>,
    /// The signer's run-mode claim (`--mode`), with its corroboration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ModeClaim>,
    /// Files the run layout expects but that were missing (`--allow-incomplete`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
    /// Files sealed although a format check failed (`--allow-broken`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub broken: Vec<BrokenFile>,
    /// Exclude patterns: paths matching them (or below a directory matching them) were
    /// not sealed and are not reported as extra.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    // issue 12 item 11
    /// Number of symlink entries whose target leads outside the sealed folder
    /// ([`crate::entry_path::link_leaves_tree`]); omitted when zero.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub external_symlinks: u64,
    // issue 12 item 24
    /// `RunInfo.xml` and the run parameters file name different runs (run ids or flow
    /// cells): what differs, in words (`spec/bundle.md` §6.5). Absent when they agree or
    /// when either says nothing to compare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_mismatch: Option<String>,
    // issue 12 item 27
    /// Files the run layout expects but that were missing (`--allow-incomplete`), by
    /// count, digest and ranges (`spec/bundle.md` §6.3); written instead of `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<crate::run_record::FileSet>,
    // issue 12 item 25
    /// Base-call and filter files of lanes the run layout does not have
    /// (`spec/bundle.md` §6.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unexpected: Option<crate::run_record::FileSet>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl SealPayload {
    /// Check field values beyond their types.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != SEAL_FORMAT {
            return Err(format!("format is `{}`, not `{SEAL_FORMAT}`", self.format));
        }
        if self.version != FORMAT_VERSION {
            return Err(format!(
                "format version {} is not supported (this build reads version {FORMAT_VERSION})",
                self.version
            ));
        }
        parse_time(&self.time)?;
        if self.subject.kind != "directory" {
            return Err(format!(
                "subject kind `{}` is not supported",
                self.subject.kind
            ));
        }
        if let Some(mode) = &self.mode
            && !["agrees", "disagrees", "unknown"].contains(&mode.corroboration.as_str())
        {
            return Err(format!(
                "run-mode corroboration `{}` is not agrees, disagrees or unknown",
                mode.corroboration
            ));
        }
        if self.missing.is_some() && !self.incomplete.is_empty() {
            return Err("the payload has both `incomplete` and `missing`".into());
        }
        for set in [&self.missing, &self.unexpected].into_iter().flatten() {
            set.validate()?;
        }
        crate::exclude::Excludes::recorded(&self.exclude)?;
        let digests: Vec<&str> = self.digests.iter().map(String::as_str).collect();
        if digests != ["blake3"] && digests != ["blake3", "sha256"] {
            return Err(format!("digest list {digests:?} is not supported"));
        }
        Ok(())
    }

    /// True when file entries carry SHA-256 digests.
    pub fn has_sha256(&self) -> bool {
        self.digests.iter().any(|d| d == "sha256")
    }

    /// The deterministic CBOR encoding (the COSE payload).
    pub fn to_cbor(&self) -> Vec<u8> {
        to_canonical(self)
    }

    /// Decode a payload, requiring deterministic encoding and valid fields.
    pub fn from_cbor(bytes: &[u8]) -> Result<SealPayload, String> {
        // The decoded tree is dropped before the typed form is re-encoded: a payload is
        // held at most three times at once (typed, re-encoded tree, re-encoded bytes).
        let payload: SealPayload = {
            let value = cbor::decode_exact(bytes).map_err(|e| e.to_string())?;
            value
                .deserialized()
                .map_err(|e| format!("seal payload: {e}"))?
        };
        let typed = Value::serialized(&payload).expect("model types always serialise");
        if !cbor::encodes_deterministically_to(typed, bytes) {
            return Err(
                "seal payload is not in the single encoding format version 1 allows \
                 (deterministic CBOR, no tags, no nulls)"
                    .into(),
            );
        }
        payload.validate()?;
        Ok(payload)
    }
}

/// Format a time as the payload expects.
pub fn format_time(time: time::OffsetDateTime) -> String {
    let t = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parse a payload time (RFC 3339, UTC, whole seconds, `Z`).
pub fn parse_time(text: &str) -> Result<time::OffsetDateTime, String> {
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("time `{text}` is not RFC 3339: {e}"))?;
    if format_time(parsed) != text {
        return Err(format!(
            "time `{text}` is not in the form YYYY-MM-DDTHH:MM:SSZ (UTC, whole seconds)"
        ));
    }
    Ok(parsed)
}

/// Serialise through a CBOR value and encode deterministically.
fn to_canonical<T: Serialize>(item: &T) -> Vec<u8> {
    let value = Value::serialized(item).expect("model types always serialise");
    cbor::encode(value).expect("model types contain no floats or duplicate keys")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_entry() -> Entry {
        Entry {
            path: "a/b.fastq.gz".into(),
            kind: EntryKind::File,
            salt: Bytes32([1; 32]),
            size: Some(5),
            blake3: Some(Bytes32([2; 32])),
            sha256: None,
            target: None,
            content: None,
        }
    }

    #[test]
    fn entry_round_trips_and_is_canonical() {
        let e = file_entry();
        let bytes = e.to_cbor();
        let value = cbor::decode_exact(&bytes).unwrap();
        let back: Entry = value.deserialized().unwrap();
        assert_eq!(back, e);
        assert_eq!(back.to_cbor(), bytes);
    }

    #[test]
    fn direct_entry_encoding_equals_the_generic_deterministic_encoding() {
        let mut cases = vec![file_entry()];
        let mut with_sha = file_entry();
        with_sha.sha256 = Some(Bytes32([9; 32]));
        with_sha.size = Some(u64::MAX);
        with_sha.content = Some(Box::new(crate::run_record::FastqContent {
            reads: 1_000_000,
            bases: 151_000_000,
            digest: Bytes32([7; 32]),
        }));
        cases.push(with_sha);
        cases.push(Entry {
            path: "l\u{e9}nk".into(),
            kind: EntryKind::Symlink,
            salt: Bytes32([5; 32]),
            size: None,
            blake3: None,
            sha256: None,
            target: Some("x".repeat(300)),
            content: None,
        });
        cases.push(Entry {
            path: "d".repeat(70_000),
            kind: EntryKind::Dir,
            salt: Bytes32([6; 32]),
            size: None,
            blake3: None,
            sha256: None,
            target: None,
            content: None,
        });
        for e in cases {
            assert_eq!(e.to_cbor(), to_canonical(&e), "{}", e.kind.name());
        }
    }

    #[test]
    fn entry_fields_must_fit_kind() {
        let mut e = file_entry();
        assert!(e.validate().is_ok());
        e.target = Some("x".into());
        assert!(e.validate().is_err());
        let mut d = file_entry();
        d.kind = EntryKind::Dir;
        assert!(d.validate().is_err());
    }

    #[test]
    fn time_format_is_strict() {
        assert!(parse_time("2026-11-25T23:19:41Z").is_ok());
        assert!(parse_time("2026-11-25T23:19:41.5Z").is_err());
        assert!(parse_time("2026-11-25T23:19:41+01:00").is_err());
    }
}
