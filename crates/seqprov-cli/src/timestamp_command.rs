//! `seqprov timestamp` and the `--tsa` step of `seal`, `custody append` and `receive`:
//! ask RFC 3161 Time-Stamp Authorities for tokens and say what was stored.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use seqprov::ExitStatus;
use seqprov::format::timestamp_record::MAX_RECORDS_PER_MESSAGE;
use seqprov::timestamp_request::{self, Which};

use crate::args::{StampWhich, TimestampArgs, TsaArgs};
use crate::terminal_text::terminal_safe;

/// Refuse more `--tsa` than records may cover one message (spec/timestamps.md §3.2, §4):
/// checked before anything is signed, appended or asked, so that no command writes a
/// bundle that no reader accepts or appends an event it then cannot stamp.
pub fn check_tsa_count(tsa: &TsaArgs) -> Result<()> {
    if tsa.tsa.len() > MAX_RECORDS_PER_MESSAGE {
        bail!(
            "{} --tsa given; name at most {MAX_RECORDS_PER_MESSAGE} (at most \
             {MAX_RECORDS_PER_MESSAGE} timestamp records may cover one message)",
            tsa.tsa.len()
        );
    }
    Ok(())
}

/// `seqprov timestamp BUNDLE --tsa URL... [--which seal|last|all]`.
pub fn timestamp(a: TimestampArgs) -> Result<ExitStatus> {
    if a.tsa.tsa.is_empty() {
        bail!("name at least one time-stamp authority with --tsa URL");
    }
    check_tsa_count(&a.tsa)?;
    let which = match a.which {
        StampWhich::Seal => Which::Seal,
        StampWhich::Last => Which::Last,
        StampWhich::All => Which::All,
    };
    let stamps = stamp(&a.bundle, &a.tsa, which, false)?;
    crate::log_client_commands::submit_new(
        &a.bundle,
        &a.log,
        &[],
        crate::log_client_commands::Selection::TokensOver(&stamps),
        false,
    )?;
    if stamps.is_empty() {
        outln!(
            "every message of {} already has a token; nothing was asked",
            terminal_safe(&a.bundle.display().to_string())
        );
    }
    Ok(ExitStatus::Verified)
}

/// Stamp `which` messages of the bundle at `bundle` with every TSA of `tsa`, print one
/// line per stored token (on standard error when standard output carries JSON), and
/// return the message each stored token covers.
pub fn stamp(bundle: &Path, tsa: &TsaArgs, which: Which, to_stderr: bool) -> Result<Vec<u64>> {
    let stamps = timestamp_request::timestamp_bundle(
        bundle,
        &tsa.tsa,
        which,
        Duration::from_secs(tsa.tsa_timeout.max(1)),
    )
    .with_context(|| format!("timestamping {}", bundle.display()))?;
    for s in &stamps {
        let message = match s.covers {
            0 => "the seal".to_owned(),
            i => format!("custody event {i}"),
        };
        let line = format!(
            "stamped {message}: {} by {} ({})",
            terminal_safe(&s.gen_time),
            terminal_safe(&s.tsa_name),
            terminal_safe(&s.tsa)
        );
        if to_stderr {
            eprintln!("seqprov: {line}");
        } else {
            outln!("{line}");
        }
    }
    Ok(stamps.iter().map(|s| s.covers).collect())
}

/// `seal --tsa`: stamp the new seal and append the records to the bundle bytes before
/// they are written. A TSA failure is the command's error (no bundle is written) unless
/// `later`, when the bundle is returned unstamped with a warning.
pub fn stamp_new_seal(mut bundle: Vec<u8>, tsa: &TsaArgs, later: bool) -> Result<Vec<u8>> {
    let timeout = Duration::from_secs(tsa.tsa_timeout.max(1));
    match timestamp_request::stamp_new_seal(&mut bundle, &tsa.tsa, timeout) {
        Ok(tokens) => {
            for (checked, url) in tokens.iter().zip(&tsa.tsa) {
                outln!(
                    "stamped the seal: {} by {} ({})",
                    terminal_safe(&checked.gen_time_text()),
                    terminal_safe(&checked.tsa_name),
                    terminal_safe(url)
                );
            }
            Ok(bundle)
        }
        Err(e) if later => {
            eprintln!(
                "seqprov: warning: {}; the bundle is written without a timestamp \
                 (--timestamp-later): stamp it with `seqprov timestamp BUNDLE --which seal`",
                terminal_safe(&e.to_string())
            );
            Ok(bundle)
        }
        Err(e) => Err(anyhow::Error::new(e).context(
            "the seal could not be stamped, so no bundle was written (--timestamp-later \
             writes it unstamped)",
        )),
    }
}

/// `custody append --tsa` and `receive --tsa`: stamp event `seq`, just appended. Its
/// failure is the command's error (exit 2); the event stays, signed and valid.
pub fn stamp_new_event(bundle: &Path, seq: u64, tsa: &TsaArgs, to_stderr: bool) -> Result<()> {
    if tsa.tsa.is_empty() {
        return Ok(());
    }
    stamp(bundle, tsa, Which::Message(seq), to_stderr)
        .context("the event was appended but not stamped (run `seqprov timestamp` again)")?;
    Ok(())
}
