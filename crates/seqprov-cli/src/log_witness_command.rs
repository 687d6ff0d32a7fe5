//! `seqprov log witness` (spec/log.md §6, spec/cli.md): a c2sp.org/tlog-witness witness
//! for the lab's logs, served by `seqprov_log_server::witness_service`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};
use seqprov::ExitStatus;
use seqprov_log::note_keys::{LogVerifier, WitnessSigner, check_key_name};
use seqprov_log_server::http_limits::HttpLimits;
use seqprov_log_server::witness_service::{self, WitnessConfig};

use crate::args::LogWitnessArgs;
use crate::terminal_text::terminal_safe;

/// How often the waiting main thread looks for SIGTERM or SIGINT.
const STOP_POLL: Duration = Duration::from_millis(100);

/// `seqprov log witness --key KEY --name NAME --log-key VKEY... --state DIR --listen
/// ADDR`: prints the witness's vkey and `listening on ADDR`, then cosigns until SIGTERM
/// or SIGINT, and exits 0.
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
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing the signal handlers")?;
    }
    let handle = witness_service::serve(
        &a.listen.to_string(),
        WitnessConfig {
            signer,
            logs,
            state_dir: a.state,
            http: HttpLimits::default(),
        },
    )?;
    outln!("{}", terminal_safe(&vkey));
    outln!("listening on {}", handle.addr());
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(STOP_POLL);
    }
    drop(handle);
    Ok(ExitStatus::Verified)
}
