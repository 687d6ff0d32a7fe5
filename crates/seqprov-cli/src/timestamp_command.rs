//! `seqprov timestamp` and the `--tsa` step of `seal`, `custody append` and `receive`:
//! ask RFC 3161 Time-Stamp Authorities for tokens and say what was stored.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use seqprov::ExitStatus;
use seqprov::timestamp_request::{self, Which};

use crate::args::{StampWhich, TimestampArgs, TsaArgs};
use crate::terminal_text::terminal_safe;

/// `seqprov timestamp BUNDLE --tsa URL... [--which seal|last|all]`.
pub fn timestamp(a: TimestampArgs) -> Result<ExitStatus> {
    if a.tsa.tsa.is_empty() {
        bail!("name at least one time-stamp authority with --tsa URL");
    }
    let which = match a.which {
        StampWhich::Seal => Which::Seal,
        StampWhich::Last => Which::Last,
        StampWhich::All => Which::All,
    };
    let stamps = stamp(&a.bundle, &a.tsa, which)?;
    if stamps == 0 {
        println!(
            "every message of {} already has a token; nothing was asked",
            terminal_safe(&a.bundle.display().to_string())
        );
    }
    Ok(ExitStatus::Verified)
}

/// Stamp `which` messages of the bundle at `bundle` with every TSA of `tsa`, print one
/// line per stored token, and return how many were stored.
pub fn stamp(bundle: &Path, tsa: &TsaArgs, which: Which) -> Result<usize> {
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
        println!(
            "stamped {message}: {} by {} ({})",
            terminal_safe(&s.gen_time),
            terminal_safe(&s.tsa_name),
            terminal_safe(&s.tsa)
        );
    }
    Ok(stamps.len())
}
