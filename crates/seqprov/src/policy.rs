//! Lab trust policy: which keys are trusted, for which roles, during which time window,
//! which keys are revoked, and what a verified bundle must show (see `spec/policy.md`).
//!
//! A key is judged at the time of the message it signed, as claimed by the signer in that
//! message, not at verification time.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::{KeyId, KeyStorage, PublicKey};
use seqprov_format::manifest::parse_time;

/// The policy file format version this build reads.
pub const POLICY_VERSION: u32 = 1;
/// Largest policy file read.
pub const MAX_POLICY_BYTES: u64 = 1 << 20;
/// The role that matches every role.
pub const ANY_ROLE: &str = "*";

/// A failed policy rule, as named in reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleFailure {
    /// Rule name (see `spec/policy.md`): `untrusted_signer`, `revoked_key`,
    /// `outside_validity`, `role_not_allowed`, `seal_role`, `required_event`,
    /// `custody_gap`, `lineage`, `run_mode`.
    pub rule: String,
    /// What it concerns: `seal`, `custody event N`, `lineage`, `lineage seal`, `bundle`.
    pub subject: String,
    /// Details in words.
    pub detail: String,
}

impl RuleFailure {
    /// A failure of `rule` about `subject`.
    pub fn new(rule: &str, subject: &str, detail: impl Into<String>) -> RuleFailure {
        RuleFailure {
            rule: rule.into(),
            subject: subject.into(),
            detail: detail.into(),
        }
    }
}

/// What to do with files present but not sealed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtraFiles {
    /// Extra files are an integrity failure (exit 1). The default.
    #[default]
    Error,
    /// Extra files are reported as warnings only.
    Warning,
}

/// An event that must be present.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredEvent {
    /// Event kind (`transfer`, `receive`, `attest`, `derive`).
    pub kind: String,
    /// Role its (trusted) signer must act in; any role if absent.
    #[serde(default)]
    pub role: Option<String>,
}

/// Requirements on a bundle beyond trusted signatures.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// Roles allowed to seal; any trusted role if empty.
    #[serde(default)]
    pub seal_roles: Vec<String>,
    /// Events that must be present, each signed by a trusted key.
    #[serde(default)]
    pub required_events: Vec<RequiredEvent>,
    /// Longest allowed time between consecutive messages (seal and events), e.g. `72h`.
    #[serde(default)]
    pub max_custody_gap: Option<String>,
    /// Extra files: `error` (default) or `warning`.
    #[serde(default)]
    pub extra_files: ExtraFiles,
    /// Whether the seal must record a derived-from bundle that is given and checks out.
    #[serde(default)]
    pub require_lineage: bool,
    /// Whether a FASTQ recompressed with the same records is acceptable (a warning) rather
    /// than an integrity failure.
    #[serde(default)]
    pub allow_recompressed: bool,
    /// The run mode the seal must claim (`clinical` or `ruo`), not contradicted by the run
    /// parameters.
    #[serde(default)]
    pub require_mode: Option<seqprov_illumina::run_mode::RunMode>,
    /// Whether a seal may record symlinks that lead outside the sealed folder (default
    /// true; `false` makes them a failed rule, `external_symlinks`).
    #[serde(default = "yes")]
    pub allow_external_symlinks: bool,
    /// Whether a seal whose `RunInfo.xml` and run parameters file name different runs
    /// fails (rule `run_mismatch`) rather than only being reported (issue 12 item 24).
    #[serde(default)]
    pub refuse_run_mismatch: bool,
}

fn yes() -> bool {
    true
}

impl Default for Requirements {
    fn default() -> Self {
        Requirements {
            seal_roles: Vec::new(),
            required_events: Vec::new(),
            max_custody_gap: None,
            extra_files: ExtraFiles::default(),
            require_lineage: false,
            allow_recompressed: false,
            require_mode: None,
            allow_external_symlinks: true,
            refuse_run_mismatch: false,
        }
    }
}

/// A trusted key and what it is trusted for.
#[derive(Clone, Debug)]
pub struct TrustedSigner {
    /// Name the lab knows the key by.
    pub name: String,
    /// The key.
    pub key: PublicKey,
    /// Roles the key may sign in (`*` for any).
    pub roles: Vec<String>,
    /// Start of validity (inclusive), RFC 3339.
    pub valid_from: Option<time::OffsetDateTime>,
    /// End of validity (exclusive), RFC 3339.
    pub valid_until: Option<time::OffsetDateTime>,
    /// Where the signature must claim the key was held.
    pub key_storage: RequiredKeyStorage,
}

/// What a `[[signer]]` entry requires of the `signer.key_storage` claim of a signature
/// (`key_storage` in the policy; spec/policy.md §2.2). The claim is the signer's word,
/// not proof: a policy that requires a token refuses signatures made, by the signer's
/// own account, with a key file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequiredKeyStorage {
    /// Any claim, or none (`"any"`, the default).
    #[default]
    Any,
    /// A PKCS#11 token (`"token"`).
    Token,
    /// A PKCS#11 token or an ssh-agent (`"token-or-agent"`).
    TokenOrAgent,
}

impl RequiredKeyStorage {
    fn parse(text: &str) -> Option<RequiredKeyStorage> {
        match text {
            "any" => Some(RequiredKeyStorage::Any),
            "token" => Some(RequiredKeyStorage::Token),
            "token-or-agent" => Some(RequiredKeyStorage::TokenOrAgent),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            RequiredKeyStorage::Any => "any",
            RequiredKeyStorage::Token => "token",
            RequiredKeyStorage::TokenOrAgent => "token-or-agent",
        }
    }

    /// Whether a signature claiming `claim` (absent: a key file) meets the requirement.
    pub fn accepts(self, claim: Option<KeyStorage>) -> bool {
        match self {
            RequiredKeyStorage::Any => true,
            RequiredKeyStorage::Token => claim == Some(KeyStorage::Pkcs11),
            RequiredKeyStorage::TokenOrAgent => {
                matches!(claim, Some(KeyStorage::Pkcs11 | KeyStorage::SshAgent))
            }
        }
    }
}

/// A loaded policy.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Trusted signers.
    pub signers: Vec<TrustedSigner>,
    /// Revoked key ids: never trusted, whatever the signer list says.
    pub revoked: HashSet<KeyId>,
    /// Keys revoked from a time on (`[[revoked.key]]` with `revoked_at`): a signature
    /// whose time is attested (RFC 3161) before it stays valid; one attested at or after
    /// it, or not attested, is refused (spec/timestamps.md §6).
    pub revoked_at: HashMap<KeyId, time::OffsetDateTime>,
    /// Requirements.
    pub requirements: Requirements,
    /// Trusted time: which TSAs are believed, whether attestation is required
    /// (`[timestamps]`, spec/timestamps.md §6).
    pub timestamps: TimestampPolicy,
    /// Trusted transparency logs and witnesses, and what receipts must show (`[log]`,
    /// spec/log.md §7.2).
    pub log: LogPolicy,
}

/// The `[log]` table of a policy (spec/log.md §7.2, policy.md).
#[derive(Clone, Debug, Default)]
pub struct LogPolicy {
    /// Trusted logs, from their vkeys (`keys`).
    pub keys: Vec<seqprov_log::note_keys::LogVerifier>,
    /// Trusted witnesses, from their vkeys (`witnesses`).
    pub witnesses: Vec<seqprov_log::note_keys::WitnessVerifier>,
    /// Cosignatures by distinct trusted witnesses a receipt's checkpoint needs to count
    /// (`witness_quorum`, default 0).
    pub witness_quorum: usize,
    /// Whether the seal and every custody event need a counted receipt
    /// (`require_receipts`).
    pub require_receipts: bool,
    /// Whether another seal of the same run in the log fails the policy
    /// (`one_seal_per_run`; checked online only, `verify --log`).
    pub one_seal_per_run: bool,
    /// How old the trusted cosignatures on a log's latest checkpoint may be
    /// (`max_checkpoint_age`, a duration; checked online only). `None`: not checked.
    pub max_checkpoint_age: Option<time::Duration>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LogFile {
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    witnesses: Vec<String>,
    #[serde(default)]
    witness_quorum: u32,
    #[serde(default)]
    require_receipts: bool,
    #[serde(default)]
    one_seal_per_run: bool,
    #[serde(default)]
    max_checkpoint_age: Option<String>,
}

impl LogFile {
    fn load(self) -> std::result::Result<LogPolicy, String> {
        use seqprov_log::note_keys::{LogVerifier, WitnessVerifier};
        let mut keys: Vec<LogVerifier> = Vec::new();
        for (i, vkey) in self.keys.iter().enumerate() {
            let key = LogVerifier::from_vkey(vkey).map_err(|e| format!("log.keys[{i}]: {e}"))?;
            if keys.iter().any(|k| k.origin == key.origin) {
                return Err(format!(
                    "log.keys[{i}]: a second key for the log {:?} (one key per origin)",
                    key.origin
                ));
            }
            keys.push(key);
        }
        let mut witnesses: Vec<WitnessVerifier> = Vec::new();
        for (i, vkey) in self.witnesses.iter().enumerate() {
            let witness =
                WitnessVerifier::from_vkey(vkey).map_err(|e| format!("log.witnesses[{i}]: {e}"))?;
            if witnesses.iter().any(|w| w.name == witness.name) {
                return Err(format!(
                    "log.witnesses[{i}]: a second key for the witness {:?} (one key per name)",
                    witness.name
                ));
            }
            witnesses.push(witness);
        }
        let witness_quorum = self.witness_quorum as usize;
        if witness_quorum > witnesses.len() {
            return Err(format!(
                "log.witness_quorum: {witness_quorum} is more than the {} witnesses listed",
                witnesses.len()
            ));
        }
        // A cosignature does not sign the witness name: one key under two names is one
        // witness, and counts once (spec/log.md §6).
        let mut keys_listed: Vec<[u8; 32]> = witnesses.iter().map(|w| w.key.to_bytes()).collect();
        keys_listed.sort_unstable();
        keys_listed.dedup();
        if witness_quorum > keys_listed.len() {
            return Err(format!(
                "log.witness_quorum: {witness_quorum} is more than the {} distinct witness keys \
                 listed (one key is listed under several names; it counts once)",
                keys_listed.len()
            ));
        }
        if self.require_receipts && keys.is_empty() {
            return Err("log.require_receipts: true, but log.keys lists no trusted log".into());
        }
        let max_checkpoint_age = match &self.max_checkpoint_age {
            None => None,
            Some(text) => {
                let age =
                    parse_duration(text).map_err(|e| format!("log.max_checkpoint_age: {e}"))?;
                if age.is_zero() {
                    return Err(
                        "log.max_checkpoint_age: must be more than 0s (no cosignature is that \
                         recent)"
                            .into(),
                    );
                }
                if witnesses.is_empty() {
                    return Err("log.max_checkpoint_age: set, but log.witnesses lists no \
                                trusted witness (only a witness's cosignature dates a checkpoint)"
                        .into());
                }
                Some(age)
            }
        };
        Ok(LogPolicy {
            keys,
            witnesses,
            witness_quorum,
            require_receipts: self.require_receipts,
            one_seal_per_run: self.one_seal_per_run,
            max_checkpoint_age,
        })
    }
}

/// The `[timestamps]` table of a policy.
#[derive(Clone, Debug)]
pub struct TimestampPolicy {
    /// TSA root certificates (and TSA certificates) whose tokens attest time.
    pub trusted_tsa: Vec<x509_cert::Certificate>,
    /// Whether every message (seal and custody events) must have an attested time.
    pub require: bool,
    /// Largest difference between claimed and attested time before a warning.
    pub max_claim_skew: time::Duration,
}

impl Default for TimestampPolicy {
    fn default() -> Self {
        TimestampPolicy {
            trusted_tsa: Vec::new(),
            require: false,
            max_claim_skew: time::Duration::minutes(10),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TimestampsFile {
    #[serde(default)]
    trusted_tsa: Vec<String>,
    #[serde(default)]
    require: bool,
    #[serde(default)]
    max_claim_skew: Option<String>,
}

/// Largest TSA certificate file read.
const MAX_TSA_PEM_BYTES: u64 = 1 << 20;

impl TimestampsFile {
    fn load(self, base: &Path) -> std::result::Result<TimestampPolicy, String> {
        let mut trusted_tsa = Vec::new();
        for name in &self.trusted_tsa {
            let full = base.join(name);
            let file = seqprov_engine::bounded_read::read_regular_file(&full, MAX_TSA_PEM_BYTES)
                .map_err(|e| format!("trusted_tsa {name:?}: {e}"))?;
            let certs = crate::timestamp_token::read_pem_certificates(&file.bytes)
                .map_err(|e| format!("trusted_tsa {name:?}: {e}"))?;
            trusted_tsa.extend(certs);
        }
        let max_claim_skew = match &self.max_claim_skew {
            Some(text) => parse_duration(text).map_err(|e| format!("max_claim_skew: {e}"))?,
            None => TimestampPolicy::default().max_claim_skew,
        };
        Ok(TimestampPolicy {
            trusted_tsa,
            require: self.require,
            max_claim_skew,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: u32,
    #[serde(default)]
    signer: Vec<SignerFile>,
    #[serde(default)]
    revoked: RevokedFile,
    #[serde(default)]
    requirements: Requirements,
    #[serde(default)]
    timestamps: TimestampsFile,
    #[serde(default)]
    log: LogFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignerFile {
    name: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default = "any_role")]
    roles: Vec<String>,
    #[serde(default)]
    valid_from: Option<TimeValue>,
    #[serde(default)]
    valid_until: Option<TimeValue>,
    #[serde(default)]
    key_storage: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RevokedFile {
    #[serde(default)]
    key_ids: Vec<String>,
    #[serde(default)]
    key: Vec<RevokedKeyFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokedKeyFile {
    key_id: String,
    revoked_at: TimeValue,
}

fn parse_key_id(id: &str) -> std::result::Result<KeyId, String> {
    hex::decode(id)
        .ok()
        .and_then(|b| b.try_into().ok())
        .map(KeyId)
        .ok_or_else(|| format!("revoked key id {id:?} is not 64 hexadecimal digits"))
}

/// A time written as a TOML datetime or as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum TimeValue {
    Toml(toml::value::Datetime),
    Text(String),
}

fn any_role() -> Vec<String> {
    vec![ANY_ROLE.into()]
}

fn parse_policy_time(value: &TimeValue) -> std::result::Result<time::OffsetDateTime, String> {
    let text = match value {
        TimeValue::Toml(dt) => dt.to_string(),
        TimeValue::Text(s) => s.clone(),
    };
    time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("`{text}` is not an RFC 3339 date-time with offset: {e}"))
}

impl Policy {
    /// The policy `--trust KEY.pub` stands for: these keys, for every role, at any time.
    pub fn trusting(keys: Vec<PublicKey>) -> Policy {
        Policy {
            signers: keys
                .into_iter()
                .map(|key| TrustedSigner {
                    name: key.signer_name.clone().unwrap_or_else(|| key.id().to_hex()),
                    key,
                    roles: any_role(),
                    valid_from: None,
                    valid_until: None,
                    key_storage: RequiredKeyStorage::Any,
                })
                .collect(),
            ..Policy::default()
        }
    }

    /// Load a policy file; key paths in it are relative to its directory.
    pub fn load(path: &Path) -> Result<Policy> {
        use seqprov_engine::EngineError;
        let policy_err = |reason: String| Error::Policy {
            path: path.to_path_buf(),
            reason,
        };
        // A regular file (a FIFO or device is refused without blocking or reading it) of
        // at most MAX_POLICY_BYTES; both refusals are policy errors (exit 2).
        let file = seqprov_engine::bounded_read::read_regular_file(path, MAX_POLICY_BYTES)
            .map_err(|e| match e {
                EngineError::TooLarge { .. } => {
                    policy_err(format!("larger than {MAX_POLICY_BYTES} bytes"))
                }
                EngineError::NotRegularFile { kind, .. } => {
                    policy_err(format!("is {kind}, not a regular file"))
                }
                other => other.into(),
            })?;
        let text =
            String::from_utf8(file.bytes).map_err(|_| policy_err("not UTF-8 text".into()))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Policy::parse(&text, &base).map_err(|reason| Error::Policy {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parse policy text; `base` resolves relative key paths.
    pub fn parse(text: &str, base: &Path) -> std::result::Result<Policy, String> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| one_line_toml_error(text, &e))?;
        if file.version != POLICY_VERSION {
            return Err(format!(
                "policy version {} is not supported (this build reads version {POLICY_VERSION})",
                file.version
            ));
        }
        let mut signers = Vec::new();
        for s in file.signer {
            let key = match (&s.key, &s.public_key) {
                (Some(path), None) => {
                    let full: PathBuf = base.join(path);
                    PublicKey::load(&full).map_err(|e| format!("signer {:?}: {e}", s.name))?
                }
                (None, Some(pem)) => {
                    PublicKey::from_pem(pem).map_err(|e| format!("signer {:?}: {e}", s.name))?
                }
                _ => {
                    return Err(format!(
                        "signer {:?}: give exactly one of `key` (a file) or `public_key` (PEM text)",
                        s.name
                    ));
                }
            };
            let valid_from = s
                .valid_from
                .as_ref()
                .map(parse_policy_time)
                .transpose()
                .map_err(|e| format!("signer {:?}: valid_from {e}", s.name))?;
            let valid_until = s
                .valid_until
                .as_ref()
                .map(parse_policy_time)
                .transpose()
                .map_err(|e| format!("signer {:?}: valid_until {e}", s.name))?;
            if let (Some(from), Some(until)) = (valid_from, valid_until)
                && from >= until
            {
                return Err(format!(
                    "signer {:?}: valid_from is not before valid_until",
                    s.name
                ));
            }
            if s.roles.is_empty() {
                return Err(format!(
                    "signer {:?}: `roles` is empty (use [\"*\"] for any role)",
                    s.name
                ));
            }
            let key_storage = match &s.key_storage {
                None => RequiredKeyStorage::Any,
                Some(text) => RequiredKeyStorage::parse(text).ok_or_else(|| {
                    format!(
                        "signer {:?}: key_storage {text:?} is not one of \"any\", \"token\", \
                         \"token-or-agent\"",
                        s.name
                    )
                })?,
            };
            signers.push(TrustedSigner {
                name: s.name,
                key,
                roles: s.roles,
                valid_from,
                valid_until,
                key_storage,
            });
        }
        let mut revoked = HashSet::new();
        for id in file.revoked.key_ids {
            revoked.insert(parse_key_id(&id)?);
        }
        let mut revoked_at = HashMap::new();
        for key in &file.revoked.key {
            let id = parse_key_id(&key.key_id)?;
            let at = parse_policy_time(&key.revoked_at)
                .map_err(|e| format!("revoked key {:?}: revoked_at {e}", key.key_id))?;
            revoked_at.insert(id, at);
        }
        if let Some(gap) = &file.requirements.max_custody_gap {
            parse_duration(gap)?;
        }
        for required in &file.requirements.required_events {
            if seqprov_format::event::EventKind::parse(&required.kind).is_none() {
                return Err(format!(
                    "required event kind {:?} is not one of transfer, receive, attest, derive",
                    required.kind
                ));
            }
        }
        let timestamps = file.timestamps.load(base)?;
        let log = file.log.load()?;
        Ok(Policy {
            signers,
            revoked,
            revoked_at,
            requirements: file.requirements,
            timestamps,
            log,
        })
    }

    /// Whether `key_id` is the key of some signer entry (from the file or `--trust`) and
    /// is not revoked (`[revoked] key_ids` or `[[revoked.key]]`): how a log entry's signer
    /// is judged, which carries no role or time (spec/log.md §5, §8).
    pub fn lists_signer(&self, key_id: &KeyId) -> bool {
        self.signers.iter().any(|s| s.key.id() == *key_id)
            && !self.revoked.contains(key_id)
            && !self.revoked_at.contains_key(key_id)
    }

    /// When `key_id` is a signer entry's key revoked from a time on (`[[revoked.key]]`
    /// with `revoked_at`) and not revoked outright: that time. Its signatures made before
    /// then stay valid, so its log entries may be genuine later history (spec/log.md §8).
    pub fn signer_revoked_from(&self, key_id: &KeyId) -> Option<time::OffsetDateTime> {
        let listed = self.signers.iter().any(|s| s.key.id() == *key_id);
        if !listed || self.revoked.contains(key_id) {
            return None;
        }
        self.revoked_at.get(key_id).copied()
    }

    /// Judge a signature by `key_id` claiming `role` at `time`, its signer claiming the key
    /// was held in `key_storage` (absent: a key file); empty when trusted. The time is the
    /// signer's claim (nothing attests it).
    pub fn judge(
        &self,
        subject: &str,
        key_id: KeyId,
        role: &str,
        time: &str,
        key_storage: Option<KeyStorage>,
    ) -> Vec<RuleFailure> {
        self.judge_at(subject, key_id, role, time, key_storage, false)
    }

    /// [`Policy::judge`], where `attested` says whether `time` is attested by a trusted
    /// RFC 3161 token (then a key revoked from `revoked_at` on is still trusted for a
    /// signature attested before it).
    pub fn judge_at(
        &self,
        subject: &str,
        key_id: KeyId,
        role: &str,
        time: &str,
        key_storage: Option<KeyStorage>,
        attested: bool,
    ) -> Vec<RuleFailure> {
        if let Some(revoked_at) = self.revoked_at.get(&key_id) {
            let before = attested && parse_time(time).is_ok_and(|t| t < *revoked_at);
            if !before {
                let when = seqprov_format::manifest::format_time(*revoked_at);
                return vec![RuleFailure::new(
                    "revoked_key",
                    subject,
                    if attested {
                        format!(
                            "key {key_id} was revoked at {when}; the signature is attested at {time}"
                        )
                    } else {
                        format!(
                            "key {key_id} was revoked at {when}, and the signature's time \
                             ({time}, claimed) is not attested"
                        )
                    },
                )];
            }
        }
        if self.revoked.contains(&key_id) {
            return vec![RuleFailure::new(
                "revoked_key",
                subject,
                format!("key {key_id} is revoked"),
            )];
        }
        let candidates: Vec<&TrustedSigner> = self
            .signers
            .iter()
            .filter(|s| s.key.id() == key_id)
            .collect();
        if candidates.is_empty() {
            return vec![RuleFailure::new(
                "untrusted_signer",
                subject,
                format!("key {key_id} is not a trusted signer"),
            )];
        }
        let at = match parse_time(time) {
            Ok(t) => t,
            Err(why) => return vec![RuleFailure::new("outside_validity", subject, why)],
        };
        let mut failures = Vec::new();
        for signer in &candidates {
            let mut these = Vec::new();
            if signer.valid_from.is_some_and(|from| at < from)
                || signer.valid_until.is_some_and(|until| at >= until)
            {
                these.push(RuleFailure::new(
                    "outside_validity",
                    subject,
                    format!(
                        "signed at {time}, outside the validity window of {:?} ({} to {})",
                        signer.name,
                        show_time(signer.valid_from),
                        show_time(signer.valid_until)
                    ),
                ));
            }
            if !signer.roles.iter().any(|r| r == ANY_ROLE || r == role) {
                these.push(RuleFailure::new(
                    "role_not_allowed",
                    subject,
                    format!(
                        "{:?} may sign as {:?}, not as {role:?}",
                        signer.name, signer.roles
                    ),
                ));
            }
            if !signer.key_storage.accepts(key_storage) {
                these.push(RuleFailure::new(
                    "key_storage_not_allowed",
                    subject,
                    format!(
                        "{:?} must sign with a key held in {}, and this signature claims {} \
                         (a claim by the signer)",
                        signer.name,
                        signer.key_storage.as_str(),
                        key_storage.unwrap_or(KeyStorage::File).as_str()
                    ),
                ));
            }
            if these.is_empty() {
                return Vec::new();
            }
            failures.extend(these);
        }
        failures
    }

    /// The longest allowed gap between consecutive messages, if any.
    pub fn max_gap(&self) -> Option<time::Duration> {
        self.requirements
            .max_custody_gap
            .as_deref()
            .and_then(|g| parse_duration(g).ok())
    }
}

/// A TOML error on one line: the message and where it is.
fn one_line_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().replace('\n', "; ");
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

fn show_time(t: Option<time::OffsetDateTime>) -> String {
    t.map_or_else(|| "unbounded".into(), seqprov_format::manifest::format_time)
}

/// Parse a duration such as `90m`, `72h`, `3d` or `3600s`.
pub fn parse_duration(text: &str) -> std::result::Result<time::Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = number
        .parse()
        .map_err(|_| format!("duration {text:?} does not start with a whole number"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("duration {text:?} needs a unit: s, m, h or d")),
    };
    Ok(time::Duration::seconds(n.saturating_mul(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;

    fn key(seed: u8) -> PublicKey {
        PrivateKey::from_seed(&[seed; 32], None).public()
    }

    fn policy_with(extra: &str) -> Policy {
        let pem = key(1).to_pem();
        let text = format!(
            "version = 1\n[[signer]]\nname = \"Core\"\npublic_key = '''\n{pem}'''\nroles = [\"sealer\", \"lab\"]\nvalid_from = 2026-01-01T00:00:00Z\nvalid_until = \"2027-01-01T00:00:00Z\"\n{extra}"
        );
        Policy::parse(&text, Path::new(".")).unwrap()
    }

    #[test]
    fn trusted_in_role_and_window() {
        let p = policy_with("");
        assert!(
            p.judge("seal", key(1).id(), "sealer", "2026-06-01T00:00:00Z", None)
                .is_empty()
        );
    }

    #[test]
    fn each_rule_is_named() {
        let p = policy_with(&format!("[revoked]\nkey_ids = [\"{}\"]\n", key(2).id()));
        let rule = |k: PublicKey, role: &str, t: &str| {
            p.judge("seal", k.id(), role, t, None)[0].rule.clone()
        };
        assert_eq!(
            rule(key(1), "sealer", "2025-12-31T23:59:59Z"),
            "outside_validity"
        );
        assert_eq!(
            rule(key(1), "sealer", "2027-01-01T00:00:00Z"),
            "outside_validity"
        );
        assert_eq!(
            rule(key(1), "clinician", "2026-06-01T00:00:00Z"),
            "role_not_allowed"
        );
        assert_eq!(
            rule(key(2), "sealer", "2026-06-01T00:00:00Z"),
            "revoked_key"
        );
        assert_eq!(
            rule(key(3), "sealer", "2026-06-01T00:00:00Z"),
            "untrusted_signer"
        );
    }

    #[test]
    fn key_storage_requirement_judges_the_claim() {
        let pem = key(1).to_pem();
        let with_storage = |storage: &str| {
            let text = format!(
                "version = 1\n[[signer]]\nname = \"Core\"\npublic_key = '''\n{pem}'''\nroles = [\"sealer\"]\nkey_storage = \"{storage}\"\n[[signer]]\nname = \"Courier\"\npublic_key = '''\n{pem}'''\nroles = [\"courier\"]\n"
            );
            Policy::parse(&text, Path::new("."))
        };
        let t = "2026-06-01T00:00:00Z";
        let judge = |p: &Policy, role: &str, claim| p.judge("seal", key(1).id(), role, t, claim);
        let p = with_storage("token").unwrap();
        assert!(judge(&p, "sealer", Some(KeyStorage::Pkcs11)).is_empty());
        for claim in [None, Some(KeyStorage::File), Some(KeyStorage::SshAgent)] {
            let failures = judge(&p, "sealer", claim);
            assert!(
                failures.iter().any(|f| f.rule == "key_storage_not_allowed"),
                "{claim:?}: {failures:?}"
            );
        }
        // The same key in another role, whose entry requires nothing, is trusted.
        assert!(judge(&p, "courier", None).is_empty());
        let p = with_storage("token-or-agent").unwrap();
        assert!(judge(&p, "sealer", Some(KeyStorage::SshAgent)).is_empty());
        assert!(!judge(&p, "sealer", None).is_empty());
        let p = with_storage("any").unwrap();
        assert!(judge(&p, "sealer", None).is_empty());
        let err = with_storage("hsm").unwrap_err();
        assert!(err.contains("key_storage \"hsm\""), "{err}");
    }

    #[test]
    fn bad_policies_are_refused_with_reasons() {
        for (text, why) in [
            ("version = 2\n", "version 2"),
            ("version = 1\nbogus = 1\n", "bogus"),
            (
                "version = 1\n[requirements]\nmax_custody_gap = \"3 weeks\"\n",
                "unit",
            ),
            ("version = 1\n[[signer]]\nname = \"x\"\n", "exactly one of"),
            (
                "version = 1\n[revoked]\nkey_ids = [\"zz\"]\n",
                "64 hexadecimal",
            ),
        ] {
            let err = Policy::parse(text, Path::new(".")).unwrap_err();
            assert!(err.contains(why), "{text:?}: {err}");
        }
    }

    #[test]
    fn the_log_table_parses_and_its_errors_name_the_field() {
        use seqprov_log::note_keys::{LogSigner, WitnessSigner};
        let log = LogSigner {
            origin: "lab.example.org/seqprov".into(),
            key: ed25519_dalek::SigningKey::from_bytes(&[1; 32]),
        }
        .vkey();
        let witness = WitnessSigner {
            name: "witness.example.org".into(),
            key: ed25519_dalek::SigningKey::from_bytes(&[2; 32]),
        }
        .vkey();
        let good = format!(
            "version = 1\n[log]\nkeys = [\"{log}\"]\nwitnesses = [\"{witness}\"]\n\
             witness_quorum = 1\nrequire_receipts = true\none_seal_per_run = true\n"
        );
        let policy = Policy::parse(&good, Path::new(".")).unwrap();
        assert_eq!(policy.log.keys[0].origin, "lab.example.org/seqprov");
        assert_eq!(policy.log.witnesses[0].name, "witness.example.org");
        assert_eq!(policy.log.witness_quorum, 1);
        assert!(policy.log.require_receipts && policy.log.one_seal_per_run);
        let defaults = Policy::parse("version = 1\n", Path::new(".")).unwrap();
        assert!(defaults.log.keys.is_empty() && !defaults.log.require_receipts);
        for (text, why) in [
            (
                format!("version = 1\n[log]\nkeys = [\"{witness}\"]\n"),
                "log.keys[0]:",
            ),
            (
                format!("version = 1\n[log]\nkeys = [\"{log}\", \"{log}\"]\n"),
                "log.keys[1]: a second key",
            ),
            (
                format!("version = 1\n[log]\nwitnesses = [\"{log}\"]\n"),
                "log.witnesses[0]:",
            ),
            (
                format!("version = 1\n[log]\nwitnesses = [\"{witness}\"]\nwitness_quorum = 2\n"),
                "log.witness_quorum: 2 is more than the 1 witnesses listed",
            ),
            (
                "version = 1\n[log]\nrequire_receipts = true\n".into(),
                "log.require_receipts: true, but log.keys lists no trusted log",
            ),
            ("version = 1\n[log]\nquorum = 1\n".into(), "quorum"),
        ] {
            let err = Policy::parse(&text, Path::new(".")).unwrap_err();
            assert!(err.contains(why), "{text:?}: {err}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("72h").unwrap(), time::Duration::hours(72));
        assert_eq!(parse_duration("3d").unwrap(), time::Duration::days(3));
        assert!(parse_duration("h").is_err());
    }
}
