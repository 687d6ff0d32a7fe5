//! `seqprov log init` and `seqprov log serve` (spec/log.md §3–§4, spec/cli.md).
//! (`log witness` belongs beside these: see args.rs's `LogCommand`.)

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context as _, Result, bail};
use seqprov::ExitStatus;
use seqprov_log::log_dir::LogDir;
use seqprov_log::note_keys::{WitnessVerifier, check_key_name};
use seqprov_log_server::http_limits::HttpLimits;
use seqprov_log_server::log_service::{self, ServeOptions};
use seqprov_log_server::witness_push::WitnessEndpoint;

/// How long the log waits for one witness before publishing without its cosignature.
const WITNESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

use crate::args::{LogInitArgs, LogServeArgs};
use crate::terminal_text::terminal_safe;

/// `seqprov log init DIR --key LOG_KEY --origin ORIGIN`: prints the log's vkey.
pub(crate) fn init(a: LogInitArgs) -> Result<ExitStatus> {
    check_key_name(&a.origin).map_err(|e| anyhow::anyhow!("--origin: {e}"))?;
    match std::fs::read_dir(&a.dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{}: not empty; a new log needs an empty or absent directory",
                    a.dir.display()
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| a.dir.display().to_string()),
    }
    let key = crate::command_inputs::load_private_key(&a.key, false)?;
    let key_path = std::path::absolute(&a.key).with_context(|| a.key.display().to_string())?;
    let vkey = LogDir::init(&a.dir, &a.origin, key.signing_key(), &key_path)?;
    outln!("{}", terminal_safe(&vkey));
    Ok(ExitStatus::Verified)
}

/// `seqprov log serve DIR --listen ADDR [--allow POLICY] [--witness URL --witness-key
/// VKEY]...`: runs until SIGTERM or SIGINT, then finishes the batch in progress and
/// exits 0.
pub(crate) fn serve(a: LogServeArgs) -> Result<ExitStatus> {
    if a.witness.len() != a.witness_key.len() {
        bail!("each --witness needs its --witness-key (and each --witness-key its --witness)");
    }
    let witness_keys = a
        .witness_key
        .iter()
        .map(|vkey| {
            WitnessVerifier::from_vkey(vkey)
                .map_err(|e| anyhow::anyhow!("--witness-key {}: {e}", terminal_safe(vkey)))
        })
        .collect::<Result<Vec<_>>>()?;
    let allow = a.allow.as_deref().map(seqprov::Policy::load).transpose()?;
    let cosign = if a.witness.is_empty() {
        None
    } else {
        let endpoints = a
            .witness
            .iter()
            .zip(&witness_keys)
            .map(|(url, verifier)| WitnessEndpoint {
                url: url.trim_end_matches('/').to_owned(),
                verifier: verifier.clone(),
                timeout: WITNESS_TIMEOUT,
            })
            .collect();
        Some(log_service::witness_cosigner(&a.dir, endpoints))
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing the signal handlers")?;
    }
    let options = ServeOptions {
        dir: a.dir,
        listen: a.listen,
        allow,
        witness_keys,
        cosign,
        workers: usize::from(a.workers),
        http: HttpLimits::default(),
        witness_refresh: Some(std::time::Duration::from_secs(a.witness_refresh))
            .filter(|every| !every.is_zero()),
    };
    log_service::serve(options, stop, &mut |bound| {
        outln!("listening on {bound}");
    })?;
    Ok(ExitStatus::Verified)
}
