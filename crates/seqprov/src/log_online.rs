//! Checking a bundle against a transparency log that can be reached (spec/log.md §8):
//! the log's latest checkpoint, signed by a trusted log key; consistency from each
//! receipt's checkpoint to it (a failure is a fork); every entry read and its root
//! recomputed; the entries about this bundle's seal (custody events the bundle lacks
//! are a rollback) and the seals of the same run by others. Also the listing of a log's
//! entries that `seqprov log show` prints ([`list_entries`]).
//!
//! The log is read through `seqprov_log::tile_source` (a directory or HTTP, every answer
//! bounded); nothing here trusts what the log serves until the checkpoint's signature and
//! the recomputed root say so.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

use seqprov_format::Bundle;
use seqprov_format::event::message_digest;
use seqprov_format::log_entry::{LogEntry, LogEntryKind};
use seqprov_log::checkpoint::{self, OpenedCheckpoint};
use seqprov_log::merkle;
use seqprov_log::note_keys::{LogVerifier, WitnessVerifier};
use seqprov_log::proof_text::TlogProof;
use seqprov_log::tile_source::{self, HttpLimits, SourceHashes, TileSource};

use crate::error::{Error, Result};
use crate::policy::{Policy, RuleFailure};

/// How far in the future (seconds, by the verifier's clock) a witness's cosignature time
/// may be and still count as fresh (spec/log.md §8 step 1).
pub const MAX_COSIGNATURE_SKEW: u64 = 300;

/// The keys an online check trusts (policy.md `[log]`) and how long it may read.
#[derive(Clone, Copy, Debug)]
pub struct LogTrust<'a> {
    /// Trusted logs; the one whose origin the served checkpoint names is used.
    pub logs: &'a [LogVerifier],
    /// Trusted witnesses.
    pub witnesses: &'a [WitnessVerifier],
    /// Cosignatures by distinct trusted witness keys the latest checkpoint needs.
    pub witness_quorum: usize,
    /// `[log] max_checkpoint_age` in seconds: when set, the latest checkpoint must carry
    /// at least `max(witness_quorum, 1)` trusted cosignatures this recent (rule
    /// `log_checkpoint_fresh`); when not, the report warns that freshness is unproven.
    pub max_checkpoint_age: Option<u64>,
    /// The policy whose signers are trusted: a log entry by another key is listed
    /// (`untrusted_entries`), never counted as a rollback or as another seal.
    pub signers: &'a Policy,
    /// Time limits of reading a log over HTTP.
    pub http: HttpLimits,
}

impl<'a> LogTrust<'a> {
    /// The trust of `policy`'s `[log]` table and signers, with the default time limits.
    pub fn of(policy: &'a Policy) -> LogTrust<'a> {
        LogTrust {
            logs: &policy.log.keys,
            witnesses: &policy.log.witnesses,
            witness_quorum: policy.log.witness_quorum,
            max_checkpoint_age: policy
                .log
                .max_checkpoint_age
                .map(|age| age.whole_seconds().max(0) as u64),
            signers: policy,
            http: HttpLimits::default(),
        }
    }
}

/// How one receipt's checkpoint relates to the log's latest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// The latest tree extends the receipt's (consistency proof checked).
    Consistent,
    /// It does not: the log key signed two histories (integrity failure).
    Fork,
    /// The receipt's checkpoint is not signed by the trusted log key (the offline check
    /// judges it; it is not used here).
    NotSigned,
}

/// One receipt of this log in the bundle, checked for consistency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReceiptConsistency {
    /// The message the receipt covers: 0 the seal, `i` custody event `i`.
    pub covers: u64,
    /// The entry's index in the receipt.
    pub index: u64,
    /// The tree size of the receipt's checkpoint.
    pub size: u64,
    /// The outcome.
    pub status: ReceiptStatus,
    /// In words (for people).
    pub detail: String,
}

/// A log entry, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListedEntry {
    /// Its index in the log.
    pub index: u64,
    /// `seal`, `custody` or `timestamp`.
    pub kind: String,
    /// The covered message: 0 the seal, `i` custody event `i`.
    pub covers: u64,
    /// The run id copied from the seal (attacker text: escape before printing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The flow cell copied from the seal (attacker text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flowcell: Option<String>,
    /// The seal digest (hex).
    pub seal: String,
    /// SHA-256 of the logged bytes (hex).
    pub message: String,
    /// The signer's key id (hex).
    pub signer: String,
}

impl ListedEntry {
    fn of(index: u64, entry: &LogEntry) -> ListedEntry {
        ListedEntry {
            index,
            kind: entry.kind.name().to_owned(),
            covers: entry.covers,
            run: entry.run.clone(),
            flowcell: entry.flowcell.clone(),
            seal: hex::encode(entry.seal),
            message: hex::encode(entry.message),
            signer: hex::encode(entry.signer),
        }
    }
}

/// Whether the latest checkpoint was shown to be recent (`[log] max_checkpoint_age`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FreshnessStatus {
    /// Enough trusted witnesses cosigned it within `max_checkpoint_age`.
    Proven,
    /// Too few did: the log may be serving an old checkpoint (rule
    /// `log_checkpoint_fresh`, exit 3).
    NotProven,
    /// The policy sets no `max_checkpoint_age`: not checked (a warning).
    NotRequired,
}

/// A trusted witness's cosignature on the latest checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WitnessCosignature {
    /// The witness name (from the policy).
    pub witness: String,
    /// The cosignature time (POSIX seconds), as the witness signed it.
    pub time: u64,
}

/// How recent the latest checkpoint is shown to be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Freshness {
    /// The outcome.
    pub status: FreshnessStatus,
    /// `max_checkpoint_age` in seconds, when the policy sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// The verifier's clock when checked (POSIX seconds).
    pub checked_at: u64,
    /// Every trusted cosignature on the checkpoint, each witness key once.
    pub cosignatures: Vec<WitnessCosignature>,
    /// The witnesses whose cosignature is within `max_age` (and not more than
    /// [`MAX_COSIGNATURE_SKEW`] in the future).
    pub fresh_witnesses: Vec<String>,
    /// In words (for people).
    pub detail: String,
}

/// Judge the freshness of `opened` at `now` (spec/log.md §8 step 1).
fn freshness(opened: &OpenedCheckpoint, trust: &LogTrust<'_>, now: u64) -> Freshness {
    let cosignatures: Vec<WitnessCosignature> = opened
        .witnesses
        .iter()
        .map(|(witness, time)| WitnessCosignature {
            witness: witness.clone(),
            time: *time,
        })
        .collect();
    let Some(max_age) = trust.max_checkpoint_age else {
        return Freshness {
            status: FreshnessStatus::NotRequired,
            max_age: None,
            checked_at: now,
            cosignatures,
            fresh_witnesses: Vec::new(),
            detail: "not proven: the policy sets no [log] max_checkpoint_age, and a stale \
                     checkpoint would hide later events"
                .into(),
        };
    };
    let fresh_witnesses: Vec<String> = cosignatures
        .iter()
        .filter(|c| {
            c.time.saturating_add(max_age) >= now
                && c.time <= now.saturating_add(MAX_COSIGNATURE_SKEW)
        })
        .map(|c| c.witness.clone())
        .collect();
    let needed = trust.witness_quorum.max(1);
    let (status, detail) = if fresh_witnesses.len() >= needed {
        (
            FreshnessStatus::Proven,
            format!(
                "{} trusted witness(es) cosigned it at most {max_age} s ago",
                fresh_witnesses.len()
            ),
        )
    } else {
        let newest = cosignatures.iter().map(|c| c.time).max();
        (
            FreshnessStatus::NotProven,
            format!(
                "its checkpoint ({} entries) carries {} trusted cosignature(s) at most \
                 {max_age} s old, the policy needs {needed}{}: the log may be serving an \
                 old checkpoint that hides later entries",
                opened.size,
                fresh_witnesses.len(),
                match newest {
                    Some(t) if t > now => format!(" (the newest is dated {t}, in the future)"),
                    Some(t) => format!(" (the newest is {} s old)", now - t),
                    None => " (it carries none)".into(),
                }
            ),
        )
    };
    Freshness {
        status,
        max_age: Some(max_age),
        checked_at: now,
        cosignatures,
        fresh_witnesses,
        detail,
    }
}

/// The verifier's clock, POSIX seconds.
fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A custody entry of this seal that the bundle does not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rollback {
    /// The log entry.
    pub entry: ListedEntry,
    /// In words (for people).
    pub detail: String,
}

/// What `verify --log` found (the report's `log_online` member, spec/report.md §2.10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OnlineCheck {
    /// The log as given (URL or directory).
    pub log: String,
    /// The origin of its latest checkpoint.
    pub origin: String,
    /// The latest tree size.
    pub size: u64,
    /// The latest root (hex).
    pub root: String,
    /// Trusted witnesses that cosigned the latest checkpoint.
    pub witnesses: Vec<String>,
    /// Whether the latest checkpoint is shown to be recent.
    pub freshness: Freshness,
    /// Every receipt of this log in the bundle, checked for consistency.
    pub receipts: Vec<ReceiptConsistency>,
    /// Whether the log holds this bundle's seal.
    pub seal_logged: bool,
    /// Every entry about this bundle's seal, in log order.
    pub entries: Vec<ListedEntry>,
    /// Custody entries of this seal the bundle lacks or holds otherwise: a rollback.
    pub rollback: Vec<Rollback>,
    /// Seal entries of other seals with this bundle's run id or flow cell, signed by a
    /// trusted signer.
    pub other_seals: Vec<ListedEntry>,
    /// Custody entries of this seal and seal entries of this run signed by a key the
    /// policy does not trust: information, neither a rollback nor another seal (an open
    /// log takes entries from anyone).
    pub untrusted_entries: Vec<ListedEntry>,
    /// Entries that are not seqprov log entries (counted, otherwise ignored).
    pub unreadable_entries: u64,
    /// Custody entries of this seal, among `untrusted_entries`, signed by a `[[signer]]`
    /// key revoked from a time on, that the bundle lacks or holds otherwise: possibly an
    /// event signed before the revocation (a rollback), possibly one signed by whoever
    /// took the key. The rule `log_revoked_signer_event` (exit 3), never an integrity
    /// failure. (Reported through the rule failure, not as a report member.)
    #[serde(skip)]
    pub revoked_signer_events: Vec<Rollback>,
}

impl OnlineCheck {
    /// Whether the check found an integrity failure (a fork or a rollback).
    pub fn integrity_failed(&self) -> bool {
        !self.rollback.is_empty()
            || self
                .receipts
                .iter()
                .any(|r| r.status == ReceiptStatus::Fork)
    }

    /// The integrity failures, in words, for the report's `errors`.
    pub fn errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for r in &self.receipts {
            if r.status == ReceiptStatus::Fork {
                errors.push(format!("log {}: fork: {}", self.origin, r.detail));
            }
        }
        for r in &self.rollback {
            errors.push(format!("log {}: rollback: {}", self.origin, r.detail));
        }
        errors
    }

    /// The policy rules the check fails: `log_checkpoint_fresh` (the policy sets
    /// `max_checkpoint_age` and too few recent cosignatures were found), `one_seal_per_run`
    /// (when `one_seal_per_run` and another seal of the run is logged),
    /// `log_revoked_signer_event` (for each of `revoked_signer_events`) and
    /// `log_receipt_required` (when `require_receipts` and the seal is not in the log).
    pub fn rule_failures(
        &self,
        one_seal_per_run: bool,
        require_receipts: bool,
    ) -> Vec<RuleFailure> {
        let mut failures = Vec::new();
        if self.freshness.status == FreshnessStatus::NotProven {
            failures.push(RuleFailure::new(
                "log_checkpoint_fresh",
                "log",
                format!("log {}: {}", self.origin, self.freshness.detail),
            ));
        }
        if one_seal_per_run {
            for other in &self.other_seals {
                failures.push(RuleFailure::new(
                    "one_seal_per_run",
                    "seal",
                    format!(
                        "log {} entry {} is another seal ({}) of run {} / flow cell {}, signed \
                         by key {}",
                        self.origin,
                        other.index,
                        other.seal,
                        other.run.as_deref().unwrap_or("-"),
                        other.flowcell.as_deref().unwrap_or("-"),
                        other.signer
                    ),
                ));
            }
        }
        for possible in &self.revoked_signer_events {
            failures.push(RuleFailure::new(
                "log_revoked_signer_event",
                &format!("custody event {}", possible.entry.covers),
                format!("log {}: {}", self.origin, possible.detail),
            ));
        }
        if require_receipts && !self.seal_logged {
            failures.push(RuleFailure::new(
                "log_receipt_required",
                "seal",
                format!("the seal is not in log {}", self.origin),
            ));
        }
        failures
    }
}

/// A log's latest checkpoint, opened with the trusted key its origin names.
pub struct LatestCheckpoint {
    /// Where the log is read from.
    pub source: Box<dyn TileSource>,
    /// The opened checkpoint.
    pub checkpoint: OpenedCheckpoint,
    /// The trusted key that signed it.
    pub key: LogVerifier,
}

fn log_error(log: &str, reason: impl Into<String>) -> Error {
    Error::Log {
        log: log.to_owned(),
        reason: reason.into(),
    }
}

/// Fetch and open the latest checkpoint of the log at `url_or_dir` (spec/log.md §8 step
/// 1): its origin must name a trusted log (else [`Error::Log`], exit 2), its signature by
/// that key must verify (else [`Error::Integrity`], exit 1) and it must carry
/// `witness_quorum` cosignatures of trusted witnesses (else [`Error::Integrity`]).
pub fn latest_checkpoint(url_or_dir: &str, trust: LogTrust<'_>) -> Result<LatestCheckpoint> {
    let source = tile_source::open_source_with(url_or_dir, trust.http)
        .map_err(|e| log_error(url_or_dir, e.to_string()))?;
    let note = source
        .get("checkpoint", checkpoint::MAX_CHECKPOINT_LEN)
        .map_err(|e| log_error(url_or_dir, format!("reading its checkpoint: {e}")))?;
    let (origin, _, _) = checkpoint::parse_unverified(&note)
        .map_err(|e| log_error(url_or_dir, format!("its checkpoint: {e}")))?;
    let key = trust
        .logs
        .iter()
        .find(|k| k.origin == origin)
        .cloned()
        .ok_or_else(|| {
            log_error(
                url_or_dir,
                format!(
                    "it is the log {origin:?}, whose key is not trusted (add its vkey to the \
                     policy's [log] keys, or give --log-key)"
                ),
            )
        })?;
    let opened = checkpoint::open(&note, &key, trust.witnesses).map_err(|e| {
        Error::Integrity(format!(
            "log {origin}: its latest checkpoint ({url_or_dir}) does not verify with the \
             trusted log key: {e}"
        ))
    })?;
    if opened.witnesses.len() < trust.witness_quorum {
        return Err(Error::Integrity(format!(
            "log {origin}: its latest checkpoint carries {} cosignatures of distinct trusted \
             witness keys, fewer than the {} the policy requires",
            opened.witnesses.len(),
            trust.witness_quorum
        )));
    }
    Ok(LatestCheckpoint {
        source,
        checkpoint: opened,
        key,
    })
}

/// Check each receipt of this log in `bundle` against the latest checkpoint (spec/log.md
/// §8 step 2).
fn check_receipts(
    url_or_dir: &str,
    latest: &LatestCheckpoint,
    bundle: &Bundle,
) -> Result<Vec<ReceiptConsistency>> {
    let new = &latest.checkpoint;
    let hashes = SourceHashes::new(latest.source.as_ref(), new.size);
    let mut out = Vec::new();
    for record in &bundle.log_receipts {
        let Ok(proof) = TlogProof::parse(record.proof.as_bytes()) else {
            continue;
        };
        let Ok((origin, _, _)) = checkpoint::parse_unverified(&proof.checkpoint) else {
            continue;
        };
        if origin != new.origin {
            continue;
        }
        let mut row = ReceiptConsistency {
            covers: record.covers,
            index: proof.index,
            size: 0,
            status: ReceiptStatus::Consistent,
            detail: String::new(),
        };
        let old = match checkpoint::open(&proof.checkpoint, &latest.key, &[]) {
            Ok(old) => old,
            Err(e) => {
                row.status = ReceiptStatus::NotSigned;
                row.detail = format!("the receipt's checkpoint does not verify: {e}");
                out.push(row);
                continue;
            }
        };
        row.size = old.size;
        let what = match record.covers {
            0 => "the seal".to_owned(),
            i => format!("custody event {i}"),
        };
        if old.size > new.size {
            row.status = ReceiptStatus::Fork;
            row.detail = format!(
                "the receipt of {what} is against a tree of {} entries; the log now serves \
                 only {}",
                old.size, new.size
            );
        } else if old.size == new.size {
            if old.root != new.root {
                row.status = ReceiptStatus::Fork;
                row.detail = format!(
                    "the receipt of {what} and the log's latest checkpoint are both signed \
                     for {} entries with different roots",
                    new.size
                );
            }
        } else if old.size > 0 {
            let proof = merkle::consistency_proof(&hashes, new.size, old.size)
                .map_err(|e| log_error(url_or_dir, format!("reading its tiles: {e}")))?;
            if let Err(e) =
                merkle::check_consistency(&proof, new.size, &new.root, old.size, &old.root)
            {
                row.status = ReceiptStatus::Fork;
                row.detail = format!(
                    "the log's tree of {} entries does not extend the tree of {} entries the \
                     receipt of {what} was proven against: {e}",
                    new.size, old.size
                );
            }
        }
        if row.status == ReceiptStatus::Consistent {
            row.detail = format!(
                "{what}: the tree of {} entries extends the receipt's tree of {}",
                new.size, old.size
            );
        }
        out.push(row);
    }
    Ok(out)
}

/// Read every entry of the latest tree, checking the root (spec/log.md §8 step 3).
/// Returns the decoded entries and the count of entries that do not decode.
fn read_entries(
    url_or_dir: &str,
    latest: &LatestCheckpoint,
    keep: &mut dyn FnMut(&LogEntry) -> bool,
) -> Result<(Vec<(u64, LogEntry)>, u64)> {
    let mut kept = Vec::new();
    let mut unreadable = 0u64;
    let opened = &latest.checkpoint;
    tile_source::scan_entries(
        latest.source.as_ref(),
        opened.size,
        &opened.root,
        &mut |index, bytes| {
            match LogEntry::decode(bytes) {
                Ok(entry) if keep(&entry) => kept.push((index, entry)),
                Ok(_) => {}
                Err(_) => unreadable += 1,
            }
            Ok(())
        },
    )
    .map_err(|e| match e {
        seqprov_log::LogError::Verification(why) => Error::Integrity(format!(
            "log {}: its entries do not hash to its signed checkpoint: {why}",
            opened.origin
        )),
        other => log_error(url_or_dir, format!("reading its entries: {other}")),
    })?;
    Ok((kept, unreadable))
}

/// The run id and flow cell a bundle's seal records.
fn run_of(bundle: &Bundle) -> (Option<String>, Option<String>) {
    match &bundle.payload.run {
        Some(run) => (
            Some(run.run_info.run_id.clone()),
            run.run_info.flowcell.clone(),
        ),
        None => (None, None),
    }
}

/// Whether `policy` trusts the signer key id of a log entry: a `[[signer]]` (or `--trust`)
/// key that is not revoked, as `log serve --allow` judges it (spec/log.md §5). The entry
/// carries no role or time, so neither is judged.
fn trusted_signer(policy: &Policy, signer: &[u8; 32]) -> bool {
    policy.lists_signer(&seqprov_format::KeyId(*signer))
}

/// Check `bundle` against the log at `url_or_dir` (spec/log.md §8). Errors: the log
/// cannot be read ([`Error::Log`], exit 2), its checkpoint does not verify or its entries
/// do not hash to it ([`Error::Integrity`], exit 1). Forks and rollbacks are findings of
/// the returned check ([`OnlineCheck::apply_to`] makes them the report's).
pub fn check_online(url_or_dir: &str, bundle: &Bundle, trust: LogTrust<'_>) -> Result<OnlineCheck> {
    let latest = latest_checkpoint(url_or_dir, trust)?;
    let freshness = freshness(&latest.checkpoint, &trust, now_seconds());
    let receipts = check_receipts(url_or_dir, &latest, bundle)?;
    let seal = message_digest(&bundle.seal.raw);
    let (run, flowcell) = run_of(bundle);
    let same_run = |entry: &LogEntry| {
        (run.is_some() && entry.run == run) || (flowcell.is_some() && entry.flowcell == flowcell)
    };
    let (entries, unreadable) = read_entries(url_or_dir, &latest, &mut |entry| {
        entry.seal == seal || (entry.kind == LogEntryKind::Seal && same_run(entry))
    })?;
    let mut check = OnlineCheck {
        log: url_or_dir.to_owned(),
        origin: latest.checkpoint.origin.clone(),
        size: latest.checkpoint.size,
        root: hex::encode(latest.checkpoint.root),
        witnesses: latest
            .checkpoint
            .witnesses
            .iter()
            .map(|(name, _)| name.clone())
            .collect(),
        freshness,
        receipts,
        seal_logged: false,
        entries: Vec::new(),
        rollback: Vec::new(),
        other_seals: Vec::new(),
        untrusted_entries: Vec::new(),
        unreadable_entries: unreadable,
        revoked_signer_events: Vec::new(),
    };
    let events = bundle.events.len() as u64;
    for (index, entry) in &entries {
        let listed = ListedEntry::of(*index, entry);
        let trusted = trusted_signer(trust.signers, &entry.signer);
        if entry.seal != seal {
            if trusted {
                check.other_seals.push(listed);
            } else {
                check.untrusted_entries.push(listed);
            }
            continue;
        }
        // What a custody entry of this seal shows about the bundle: a rollback when the
        // bundle lacks the event or holds another one at that place.
        let differs = |entry: &LogEntry| -> Option<String> {
            if entry.covers == 0 || entry.covers > events {
                return Some(format!(
                    "custody event {} is in the log (entry {index}) but not in this bundle, \
                     which has {events} custody events",
                    entry.covers
                ));
            }
            let raw = &bundle.events[(entry.covers - 1) as usize].raw;
            let digest: [u8; 32] = Sha256::digest(raw).into();
            (digest != entry.message).then(|| {
                format!(
                    "custody event {} in the log (entry {index}) is not this bundle's custody \
                     event {}",
                    entry.covers, entry.covers
                )
            })
        };
        if entry.kind == LogEntryKind::Custody && !trusted {
            // Regression (hostile review, stop 21): custody entries by a key revoked from
            // a time on were only listed, so dropping an event that key signed before its
            // revocation verified (exit 0). The entry carries no time, and whoever took
            // the key can log events too, so such an entry is neither ignored nor a
            // rollback (exit 1): it fails the rule `log_revoked_signer_event` (exit 3).
            let revoked_from = trust
                .signers
                .signer_revoked_from(&seqprov_format::KeyId(entry.signer));
            if let (Some(at), Some(detail)) = (revoked_from, differs(entry)) {
                check.revoked_signer_events.push(Rollback {
                    detail: format!(
                        "{detail}; it is signed by key {}, revoked from {}: the log entry \
                         carries no time, so it may be an event signed before the revocation \
                         (a rollback) or after it",
                        hex::encode(entry.signer),
                        seqprov_format::manifest::format_time(at)
                    ),
                    entry: listed.clone(),
                });
            }
            check.untrusted_entries.push(listed.clone());
            check.entries.push(listed);
            continue;
        }
        match entry.kind {
            LogEntryKind::Seal => check.seal_logged = true,
            LogEntryKind::Custody => {
                if let Some(detail) = differs(entry) {
                    check.rollback.push(Rollback {
                        detail,
                        entry: listed.clone(),
                    });
                }
            }
            LogEntryKind::Timestamp => {}
        }
        check.entries.push(listed);
    }
    Ok(check)
}

/// What `seqprov log show` prints: a log's checkpoint and entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogListing {
    /// The log as given (URL or directory).
    pub log: String,
    /// The origin of its checkpoint.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root (hex).
    pub root: String,
    /// Trusted witnesses that cosigned the checkpoint.
    pub witnesses: Vec<String>,
    /// The entries listed (all, or those of the run asked for), in log order.
    pub entries: Vec<ListedEntry>,
    /// Entries that are not seqprov log entries (counted, otherwise ignored).
    pub unreadable_entries: u64,
}

/// List the entries of the log at `url_or_dir` (all, or those whose run id or flow cell
/// is `run`), after opening its checkpoint with a trusted key and checking that the
/// entries read hash to its root.
pub fn list_entries(
    url_or_dir: &str,
    trust: LogTrust<'_>,
    run: Option<&str>,
) -> Result<LogListing> {
    let latest = latest_checkpoint(url_or_dir, trust)?;
    let (entries, unreadable) = read_entries(url_or_dir, &latest, &mut |entry| match run {
        None => true,
        Some(run) => entry.run.as_deref() == Some(run) || entry.flowcell.as_deref() == Some(run),
    })?;
    Ok(LogListing {
        log: url_or_dir.to_owned(),
        origin: latest.checkpoint.origin.clone(),
        size: latest.checkpoint.size,
        root: hex::encode(latest.checkpoint.root),
        witnesses: latest
            .checkpoint
            .witnesses
            .iter()
            .map(|(name, _)| name.clone())
            .collect(),
        entries: entries
            .iter()
            .map(|(index, entry)| ListedEntry::of(*index, entry))
            .collect(),
        unreadable_entries: unreadable,
    })
}

/// A receipt of a trusted log that no `verify --log` source served (spec/log.md §8 step
/// 6): its log's later history was not checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UncheckedReceipt {
    /// The message the receipt covers: 0 the seal, `i` custody event `i`.
    pub covers: u64,
    /// The origin of the receipt's log (attacker text: escape before printing).
    pub log: String,
}

/// The receipts of `bundle` from a log in `trusted` whose origin none of `checked` names
/// (spec/log.md §8 step 6): another trusted log's checkpoint served at a URL must not
/// make a bundle's receipts go unchecked. In bundle order.
pub fn receipts_not_checked(
    bundle: &Bundle,
    trusted: &[LogVerifier],
    checked: &[OnlineCheck],
) -> Vec<UncheckedReceipt> {
    let checked: HashSet<&str> = checked.iter().map(|c| c.origin.as_str()).collect();
    bundle
        .log_receipts
        .iter()
        .filter_map(|record| {
            let origin = crate::log_submission::receipt_origin(&record.proof);
            (trusted.iter().any(|k| k.origin == origin) && !checked.contains(origin.as_str()))
                .then_some(UncheckedReceipt {
                    covers: record.covers,
                    log: origin,
                })
        })
        .collect()
}
