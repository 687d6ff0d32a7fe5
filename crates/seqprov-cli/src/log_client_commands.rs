//! The client side of the transparency log (spec/log.md §5, §7, §8): `--log URL` on the
//! commands that write messages, `seqprov log submit`, `seqprov log show`, and the online
//! part of `seqprov verify --log` as it is printed.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use seqprov::ExitStatus;
use seqprov::format::log_entry::{LogEntry, LogEntryKind};
use seqprov::format::log_receipt_record::LogReceiptRecord;
use seqprov::log_online::{self, LogTrust, OnlineCheck, ReceiptStatus};
use seqprov::log_submission;
use seqprov_log::note_keys::LogVerifier;
use seqprov_log::tile_source::HttpLimits;

use crate::args::{LogShowArgs, LogSubmitArgs, LogSubmitTargets};
use crate::terminal_text::terminal_safe;

/// Which pending messages a command submits.
pub(crate) enum Selection<'a> {
    /// Every message not yet logged by the log (`log submit`).
    NotYetLogged,
    /// The message `covers` and the tokens over it (`seal`: 0, `custody append`: its
    /// event).
    Message(u64),
    /// The timestamp tokens over these messages (`timestamp`).
    TokensOver(&'a [u64]),
}

impl Selection<'_> {
    fn takes(&self, entry: &LogEntry) -> bool {
        match self {
            Selection::NotYetLogged => true,
            Selection::Message(covers) => entry.covers == *covers,
            Selection::TokensOver(covers) => {
                entry.kind == LogEntryKind::Timestamp && covers.contains(&entry.covers)
            }
        }
    }
}

/// The vkeys of `--log-key`, parsed.
fn parse_log_keys(vkeys: &[String]) -> Result<Vec<LogVerifier>> {
    vkeys
        .iter()
        .map(|v| {
            LogVerifier::from_vkey(v)
                .map_err(|e| anyhow::anyhow!("--log-key {}: {e}", terminal_safe(v)))
        })
        .collect()
}

/// The HTTP time limits of `--log-timeout SECONDS` (each request; all of one log
/// together within the default total).
fn http_limits(seconds: u64) -> HttpLimits {
    HttpLimits {
        request: Duration::from_secs(seconds.max(1)),
        ..HttpLimits::default()
    }
}

/// The origin of the log at `url`, from its checkpoint (so that messages it already
/// logged are not submitted again).
fn origin_of(url: &str, limits: HttpLimits) -> Result<String> {
    let unreachable = |detail: String| seqprov::Error::Log {
        log: url.to_owned(),
        reason: detail,
    };
    let source = seqprov_log::tile_source::open_source_with(url, limits)
        .map_err(|e| unreachable(e.to_string()))?;
    let note = source
        .get("checkpoint", seqprov_log::checkpoint::MAX_CHECKPOINT_LEN)
        .map_err(|e| unreachable(format!("cannot be reached: {e}")))?;
    let (origin, _, _) = seqprov_log::checkpoint::parse_unverified(&note)
        .map_err(|e| unreachable(format!("its checkpoint: {e}")))?;
    Ok(origin)
}

/// Submit the messages of the bundle at `bundle` that `selection` picks to every log of
/// `targets`, and append the receipts (each log's receipts as soon as that log has
/// answered all of them). Prints one line per receipt (on standard error when `to_stderr`)
/// and returns how many were stored. A log that cannot be reached or refuses is the error
/// (exit 2); receipts already stored stay.
///
/// Each receipt's checkpoint must be signed by a key of `--log-key` or `trusted_logs`
/// (a policy's `[log] keys`) for the log's origin; with neither given only its inclusion
/// proof is checked, and a note on standard error says so.
pub(crate) fn submit_to_logs(
    bundle: &Path,
    targets: &LogSubmitTargets,
    trusted_logs: &[LogVerifier],
    selection: Selection<'_>,
    to_stderr: bool,
) -> Result<usize> {
    if targets.log.is_empty() {
        return Ok(0);
    }
    let mut keys = parse_log_keys(&targets.log_key)?;
    keys.extend(trusted_logs.iter().cloned());

    let timeout = Duration::from_secs(targets.log_timeout.max(1));
    let mut stored = 0;
    for url in &targets.log {
        seqprov::log_client::add_url(url)?;
        let origin = origin_of(url, http_limits(targets.log_timeout))?;
        let key = keys.iter().find(|k| k.origin == origin);
        if !keys.is_empty() && key.is_none() {
            bail!(seqprov::Error::Log {
                log: url.clone(),
                reason: format!(
                    "it is the log {origin:?}, which no --log-key (nor the policy's [log] keys) names"
                ),
            });
        }
        let pending = log_submission::submissions_of_bundle(bundle)
            .with_context(|| format!("reading bundle {}", bundle.display()))?;
        let mut records = Vec::new();
        let mut lines = Vec::new();
        let mut failure = None;
        for p in pending {
            let entry = &p.entry;
            if !selection.takes(entry) || p.logged_by.contains(&origin) {
                continue;
            }
            let entry_bytes = entry.encode();
            match seqprov::log_client::submit(
                url,
                &p.submission.encode(),
                &entry_bytes,
                key,
                timeout,
            ) {
                Ok(receipt) if receipt.origin != origin => {
                    failure = Some(seqprov::Error::Log {
                        log: url.clone(),
                        reason: format!(
                            "its receipt names the log {:?}, not {origin:?}; nothing was \
                             stored for it",
                            receipt.origin
                        ),
                    });
                    break;
                }
                Ok(receipt) => {
                    lines.push(format!(
                        "logged {}: entry {} of {} ({})",
                        message_words(entry),
                        receipt.index,
                        terminal_safe(&receipt.origin),
                        terminal_safe(url)
                    ));
                    records.push(LogReceiptRecord {
                        covers: p.covers,
                        entry: entry_bytes,
                        proof: receipt.proof,
                    });
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if !records.is_empty() {
            seqprov::log_receipts::append_receipts(bundle, &records)
                .with_context(|| format!("storing receipts in {}", bundle.display()))?;
            stored += records.len();
            for line in &lines {
                if to_stderr {
                    eprintln!("seqprov: {line}");
                } else {
                    outln!("{line}");
                }
            }
        }
        if let Some(e) = failure {
            return Err(anyhow::Error::new(e));
        }
    }
    if keys.is_empty() && stored > 0 {
        eprintln!(
            "seqprov: note: no --log-key: the receipts' inclusion proofs are checked, but not \
             who signed their checkpoints (verify checks that against the policy's [log] keys)"
        );
    }
    Ok(stored)
}

/// "the seal", "custody event 3", "a token over custody event 3".
fn message_words(entry: &LogEntry) -> String {
    let message = match entry.covers {
        0 => "the seal".to_owned(),
        i => format!("custody event {i}"),
    };
    match entry.kind {
        LogEntryKind::Timestamp => format!("a token over {message}"),
        _ => message,
    }
}

/// The `--log` step of `seal`, `custody append`, `receive` and `timestamp`: submit what
/// the command just wrote. Its failure is the command's error (exit 2), said so that the
/// bundle already written is known to stay valid.
pub(crate) fn submit_new(
    bundle: &Path,
    targets: &LogSubmitTargets,
    trusted_logs: &[LogVerifier],
    selection: Selection<'_>,
    to_stderr: bool,
) -> Result<()> {
    if targets.log.is_empty() {
        return Ok(());
    }
    submit_to_logs(bundle, targets, trusted_logs, selection, to_stderr).with_context(|| {
        format!(
            "{} is written and stays valid, but not every new message is logged (run \
             `seqprov log submit` later)",
            bundle.display()
        )
    })?;
    Ok(())
}

/// `seqprov log submit BUNDLE --log URL...`.
pub(crate) fn submit(a: LogSubmitArgs) -> Result<ExitStatus> {
    if a.log.log.is_empty() {
        bail!("name at least one log with --log URL");
    }
    let stored = submit_to_logs(&a.bundle, &a.log, &[], Selection::NotYetLogged, false)?;
    if stored == 0 {
        outln!(
            "every message of {} already has a receipt from each log; nothing was submitted",
            terminal_safe(&a.bundle.display().to_string())
        );
    }
    Ok(ExitStatus::Verified)
}

/// The trusted logs and witnesses of `--log-key` and `--policy`.
fn show_trust(a: &LogShowArgs) -> Result<(Vec<LogVerifier>, seqprov::Policy)> {
    let policy = match &a.policy {
        Some(path) => seqprov::Policy::load(path)?,
        None => seqprov::Policy::default(),
    };
    let mut logs = parse_log_keys(&a.log_key)?;
    logs.extend(policy.log.keys.iter().cloned());
    if logs.is_empty() {
        bail!("name the log's key with --log-key VKEY or a --policy with [log] keys");
    }
    Ok((logs, policy))
}

/// `seqprov log show URL_OR_DIR [--run ID] [--json]`.
pub(crate) fn show(a: LogShowArgs) -> Result<ExitStatus> {
    let (logs, policy) = show_trust(&a)?;
    let trust = LogTrust {
        logs: &logs,
        http: http_limits(a.log_timeout),
        ..LogTrust::of(&policy)
    };
    let listing = log_online::list_entries(&a.log, trust, a.run.as_deref())?;
    if a.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&listing).context("writing JSON")?
        );
        return Ok(ExitStatus::Verified);
    }
    outln!(
        "log {} ({}): {} entries, root {}, checkpoint signed by the trusted log key{}",
        terminal_safe(&listing.origin),
        terminal_safe(&listing.log),
        listing.size,
        listing.root,
        if listing.witnesses.is_empty() {
            String::new()
        } else {
            format!(
                ", cosigned by {}",
                terminal_safe(&listing.witnesses.join(", "))
            )
        }
    );
    if let Some(run) = &a.run {
        outln!(
            "{} entries of run or flow cell {}",
            listing.entries.len(),
            terminal_safe(run)
        );
    }
    outln!(
        "{:>8}  {:<9}  {:>6}  {:<20}  {:<12}  {:<16}  SIGNER",
        "INDEX",
        "KIND",
        "COVERS",
        "RUN",
        "FLOWCELL",
        "SEAL"
    );
    for e in &listing.entries {
        outln!(
            "{:>8}  {:<9}  {:>6}  {:<20}  {:<12}  {:<16}  {}",
            e.index,
            e.kind,
            e.covers,
            terminal_safe(e.run.as_deref().unwrap_or("-")),
            terminal_safe(e.flowcell.as_deref().unwrap_or("-")),
            &e.seal[..16],
            &e.signer[..16]
        );
    }
    if listing.unreadable_entries > 0 {
        outln!(
            "{} entries are not seqprov log entries (not listed)",
            listing.unreadable_entries
        );
    }
    Ok(ExitStatus::Verified)
}

/// `verify --log`: check `bundle` against every log named and add the findings to
/// `report`; then every trusted log with a receipt in the bundle must have been one of
/// them (else the report's verdict is `error`, exit 2, naming the log).
pub(crate) fn check_logs(
    logs: &[String],
    log_timeout: u64,
    bundle: &seqprov::Bundle,
    policy: &seqprov::Policy,
    report: &mut seqprov::Report,
) -> Result<()> {
    let trust = LogTrust {
        http: http_limits(log_timeout),
        ..LogTrust::of(policy)
    };
    for url in logs {
        let check = log_online::check_online(url, bundle, trust)
            .with_context(|| format!("checking against log {}", terminal_safe(url)))?;
        check.apply_to(
            report,
            policy.log.one_seal_per_run,
            policy.log.require_receipts,
        );
    }
    let unchecked = log_online::receipts_not_checked(bundle, &policy.log.keys, &report.log_online);
    report.apply_unchecked_receipts(unchecked);
    Ok(())
}

/// The text lines of the online checks of a report.
pub(crate) fn print_online(checks: &[OnlineCheck]) {
    for c in checks {
        let consistent = c
            .receipts
            .iter()
            .filter(|r| r.status == ReceiptStatus::Consistent)
            .count();
        outln!(
            "log {} ({}): {} entries{}; {} of {} receipts consistent; this seal {}; {} \
             entries about it; {} other seals of this run",
            terminal_safe(&c.origin),
            terminal_safe(&c.log),
            c.size,
            if c.witnesses.is_empty() {
                String::new()
            } else {
                format!(", cosigned by {}", terminal_safe(&c.witnesses.join(", ")))
            },
            consistent,
            c.receipts.len(),
            if c.seal_logged {
                "is logged"
            } else {
                "is NOT logged"
            },
            c.entries.len(),
            c.other_seals.len()
        );
        if c.freshness.status == log_online::FreshnessStatus::Proven {
            outln!(
                "{:<13}checkpoint of {} is fresh: {}",
                "LOG",
                terminal_safe(&c.origin),
                terminal_safe(&c.freshness.detail)
            );
        }
        for u in &c.untrusted_entries {
            outln!(
                "{:<13}entry {} ({} of seal {}, covers {}) is signed by key {}, which the \
                 policy does not trust: not counted",
                "LOG",
                u.index,
                u.kind,
                &u.seal[..16],
                u.covers,
                &u.signer[..16]
            );
        }
        for o in &c.other_seals {
            outln!(
                "{:<13}another seal of run {} / flow cell {} at entry {}: seal {} signed by \
                 key {}",
                "LOG",
                terminal_safe(o.run.as_deref().unwrap_or("-")),
                terminal_safe(o.flowcell.as_deref().unwrap_or("-")),
                o.index,
                &o.seal,
                &o.signer[..16]
            );
        }
    }
}
