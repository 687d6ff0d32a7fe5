//! `seqprov log witness` (spec/log.md §6, spec/cli.md §19): a c2sp.org/tlog-witness
//! witness for the lab's logs, served by `seqprov_log_server::witness_service`
//! (`--listen`), or pulling one log's checkpoint itself
//! (`--log`, `seqprov_log_server::witness_pull`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};
use seqprov::ExitStatus;
use seqprov_log::note_keys::{LogVerifier, WitnessSigner, check_key_name};
use seqprov_log_server::http_limits::HttpLimits;
use seqprov_log_server::witness_pull::{self, PullError, PullOutcome};
use seqprov_log_server::witness_service::{self, Witness, WitnessConfig};

use crate::args::LogWitnessArgs;
use crate::terminal_text::terminal_safe;

/// How often the waiting main thread looks for SIGTERM or SIGINT.
const STOP_POLL: Duration = Duration::from_millis(100);

/// `seqprov log witness --key KEY --name NAME --log-key VKEY... --state DIR --listen
/// ADDR`: prints the witness's vkey and `listening on ADDR`, then cosigns until SIGTERM
/// or SIGINT, and exits 0. With `--log URL_OR_DIR` instead of `--listen`: cosigns that
/// log's latest checkpoint once (see [`pull`]).
pub(crate) fn witness(a: LogWitnessArgs) -> Result<ExitStatus> {
    check_key_name(&a.name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let logs = a
        .log_key
        .iter()
        .map(|vkey| {
            LogVerifier::from_vkey(vkey)
                .map_err(|e| anyhow::anyhow!("--log-key {}: {e}", terminal_safe(vkey)))
        })
        .collect::<Result<Vec<_>>>()?;
    let key = crate::command_inputs::load_private_key(&a.key, false)?;
    let signer = WitnessSigner {
        name: a.name.clone(),
        key: key.signing_key().clone(),
    };
    let vkey = signer.vkey();
    let config = WitnessConfig {
        signer,
        logs,
        state_dir: a.state,
        http: HttpLimits::default(),
    };
    let listen = match (a.listen, a.log) {
        (_, Some(log)) => return pull(config, &log),
        (Some(listen), None) => listen,
        (None, None) => anyhow::bail!("give --listen ADDR:PORT or --log URL_OR_DIR"),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing the signal handlers")?;
    }
    let handle = witness_service::serve(&listen.to_string(), config)?;
    outln!("{}", terminal_safe(&vkey));
    outln!("listening on {}", handle.addr());
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(STOP_POLL);
    }
    drop(handle);
    Ok(ExitStatus::Verified)
}

/// `seqprov log witness --log URL_OR_DIR`: reads the log's latest checkpoint, cosigns it
/// if a followed log key signed it and it extends the tree this witness cosigned last
/// (the state is updated first, durably), prints the checkpoint with the new cosignature
/// line on standard output and `cosigned ORIGIN: N entries (was M)` on standard error.
/// Exit 1 when it does not extend that tree (nothing cosigned), 3 when no followed key
/// signed it, 2 when the log cannot be read.
fn pull(config: WitnessConfig, log: &str) -> Result<ExitStatus> {
    let witness = Witness::new(config)?;
    let source = seqprov_log::tile_source::open_source(log)
        .map_err(|e| anyhow::anyhow!("the log {}: {e}", terminal_safe(log)))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    match witness_pull::pull(&witness, source.as_ref(), log, now) {
        Ok(PullOutcome::Cosigned {
            origin,
            size,
            previous,
            note,
        }) => {
            // The note was checked against a followed log key and is plain text; it is
            // still escaped line by line like every string read from elsewhere.
            for line in String::from_utf8_lossy(&note).lines() {
                outln!("{}", terminal_safe(line));
            }
            eprintln!(
                "cosigned {}: {size} entries (was {previous})",
                terminal_safe(&origin)
            );
            Ok(ExitStatus::Verified)
        }
        Err(e) => {
            let status = match &e {
                PullError::Unreadable { .. } | PullError::Refused { .. } => ExitStatus::UsageOrIo,
                PullError::Untrusted { .. } => ExitStatus::Untrusted,
                PullError::Inconsistent { .. } => ExitStatus::IntegrityFailure,
            };
            eprintln!("seqprov: error: {}", terminal_safe(&e.to_string()));
            Ok(status)
        }
    }
}
