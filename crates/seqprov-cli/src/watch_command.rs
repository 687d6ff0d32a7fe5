//! `seqprov watch`: the event stream (JSON lines on stdout or appended to `--events`, a
//! human line per event on stderr when it is a terminal), SIGTERM and SIGINT, and the
//! exit code. The watching itself is `seqprov::watch`.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result};
use seqprov::watch::{EventKind, WaitingFor, WatchEvent, WatchOptions, WatchTimestamps};
use seqprov::{ExitStatus, HashOptions};

use crate::args::WatchArgs;
use crate::command_inputs::validate_text;
use crate::terminal_text::terminal_safe;

fn duration(flag: &str, text: &str) -> Result<Duration> {
    let d = seqprov::policy::parse_duration(text).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
    Ok(Duration::from_secs(d.whole_seconds().max(0) as u64))
}

pub(crate) fn watch(a: WatchArgs) -> Result<ExitStatus> {
    crate::timestamp_command::check_tsa_count(&a.tsa)?;
    let settle = duration("--settle", &a.settle)?;
    let interval = duration("--interval", &a.interval)?.max(Duration::from_secs(1));
    let timeout = duration("--timeout", &a.timeout)?;
    if let Some(name) = &a.signer {
        seqprov::keys::validate_signer_name(name).map_err(anyhow::Error::msg)?;
    }
    validate_text("--role", &a.role)?;
    validate_text("--meaning", &a.meaning)?;
    let run_mode = a
        .mode
        .as_deref()
        .map(str::parse::<seqprov::illumina::run_mode::RunMode>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let key: Arc<dyn seqprov::Signer> = Arc::from(crate::open_signer(
        &a.key,
        a.allow_insecure_key_permissions,
        &a.token,
    )?);
    let mut sink = EventSink::open(a.events.as_deref())?;
    // Registered before watching begins: from here on SIGTERM and SIGINT only set the flag,
    // and the watcher stops at its next look (within 50 ms) without writing a partial
    // bundle.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing the signal handlers")?;
    }
    let options = WatchOptions {
        roots: a.roots,
        once: a.once,
        settle,
        interval,
        timeout,
        parallel: usize::from(a.parallel),
        max_depth: usize::from(a.max_depth),
        exclude: a.exclude,
        state: a.state,
        seal: seqprov::SealOptions {
            signer_name: a.signer,
            role: a.role,
            meaning: a.meaning,
            hash: HashOptions {
                sha256: a.sha256,
                read_mode: if a.no_mmap {
                    seqprov::ReadMode::NoMmap
                } else {
                    seqprov::ReadMode::Auto
                },
            },
            inspect: seqprov::inspect::InspectOptions {
                structure: Some(seqprov::illumina::structure::CheckOptions::default()),
                content: a.content,
                run: None,
            },
            run_mode,
            allow_incomplete: a.allow_incomplete,
            allow_broken: a.allow_broken,
            ..Default::default()
        },
        timestamps: (!a.tsa.tsa.is_empty()).then(|| WatchTimestamps {
            tsa: a.tsa.tsa.clone(),
            timeout: Duration::from_secs(a.tsa.tsa_timeout.max(1)),
            later: a.timestamp_later,
        }),
    };
    let outcome = seqprov::watch::watch(&options, key, &stop, &mut |event| sink.emit(event))?;
    if let Some(e) = sink.failed.take() {
        return Err(e);
    }
    Ok(match outcome.exit_code {
        0 => ExitStatus::Verified,
        1 => ExitStatus::IntegrityFailure,
        3 => ExitStatus::Untrusted,
        _ => ExitStatus::UsageOrIo,
    })
}

/// Where events go: JSON lines to stdout or a file, human lines to a terminal.
struct EventSink {
    file: Option<std::fs::File>,
    human: bool,
    /// The first failure to write an event (the watch goes on; the command exits 2).
    failed: Option<anyhow::Error>,
}

impl EventSink {
    fn open(events: Option<&std::path::Path>) -> Result<EventSink> {
        let file = events
            .map(|path| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("opening the events file {}", path.display()))
            })
            .transpose()?;
        Ok(EventSink {
            file,
            human: std::io::stderr().is_terminal(),
            failed: None,
        })
    }

    fn emit(&mut self, event: &WatchEvent) {
        let mut line = match serde_json::to_vec(event) {
            Ok(line) => line,
            Err(e) => {
                self.failed
                    .get_or_insert(anyhow::anyhow!("encoding an event: {e}"));
                return;
            }
        };
        line.push(b'\n');
        // One write per line, so appended lines from several writers do not interleave.
        let written = match &mut self.file {
            Some(file) => file.write_all(&line),
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(&line).and_then(|()| out.flush())
            }
        };
        if let Err(e) = written {
            self.failed
                .get_or_insert(anyhow::anyhow!("writing an event line: {e}"));
        }
        if self.human {
            eprintln!("{}", human_line(event));
        }
    }
}

/// The line a person sees on a terminal for an event; every string from the data is
/// escaped (`terminal_safe`).
fn human_line(event: &WatchEvent) -> String {
    let safe = |s: &str| terminal_safe(s).into_owned();
    let body = match &event.kind {
        EventKind::Started { roots, once } => format!(
            "watching {}{}",
            roots.iter().map(|r| safe(r)).collect::<Vec<_>>().join(", "),
            if *once { " (one pass)" } else { "" }
        ),
        EventKind::Discovered { run_dir, .. } => format!("found {}", safe(run_dir)),
        EventKind::Waiting {
            run_dir,
            waiting_for,
            detail,
            ..
        } => format!(
            "{} waits for {}: {}",
            safe(run_dir),
            match waiting_for {
                WaitingFor::CompletionMarker => "its completion marker",
                WaitingFor::Settle => "the folder to settle",
            },
            safe(detail)
        ),
        EventKind::Sealed {
            run_dir,
            bundle,
            files,
            bytes,
            seconds,
            warnings,
            ..
        } => format!(
            "sealed {} ({files} files, {bytes} bytes, {seconds:.1}s) -> {}{}",
            safe(run_dir),
            safe(bundle),
            match warnings.as_slice() {
                [] => String::new(),
                [only] => format!("; warning: {}", safe(only)),
                [first, rest @ ..] => format!(
                    "; warning: {} (and {} more in the event line)",
                    safe(first),
                    rest.len()
                ),
            }
        ),
        EventKind::Skipped {
            run_dir, reason, ..
        } => format!("skipped {}: {}", safe(run_dir), safe(reason)),
        EventKind::Refused {
            run_dir,
            reason,
            exit_code,
            ..
        } => format!(
            "refused {} (exit {exit_code}): {}",
            safe(run_dir),
            safe(reason)
        ),
        EventKind::Error {
            message, exit_code, ..
        } => format!("error (exit {exit_code}): {}", safe(message)),
        EventKind::Stopped {
            reason,
            abandoned,
            exit_code,
        } => format!(
            "stopped ({}), exit {exit_code}{}",
            safe(reason),
            if abandoned.is_empty() {
                String::new()
            } else {
                format!(
                    "; abandoned without a bundle: {}",
                    abandoned
                        .iter()
                        .map(|d| safe(d))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ),
    };
    format!("seqprov watch: {} {body}", event.time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_lines_escape_hostile_names_and_json_keeps_them_exact() {
        let hostile = "/data/run\u{1b}[2K\rsealed fake\u{202e}";
        let event = WatchEvent::now(EventKind::Refused {
            watch_root: "/data".into(),
            run_dir: hostile.into(),
            bundle: None,
            reason: "line\nbreak".into(),
            exit_code: 1,
        });
        let line = human_line(&event);
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        assert!(line.contains("\\x1b[2K\\rsealed fake\\u{202e}"), "{line}");
        assert!(line.contains("line\\nbreak"), "{line}");
        let json: serde_json::Value = serde_json::to_value(&event).unwrap();
        assert_eq!(json["run_dir"], hostile);
        assert_eq!(json["event"], "refused");
        assert_eq!(json["version"], seqprov::watch::EVENT_VERSION);
    }
}
