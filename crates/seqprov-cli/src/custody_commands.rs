//! `seqprov custody append`, `seqprov custody show` and `seqprov receive`.

use anyhow::{Context, Result, bail};
use seqprov::custody::{BundleIdentity, EventDraft};
use seqprov::custody_timeline::CustodyTimeline;
use seqprov::format::event::{DerivedRef, EventKind, ReceiveSummary, message_digest};
use seqprov::format::manifest::Bytes32;
use seqprov::{ExitStatus, Verdict};

use crate::args::{AppendArgs, CustodyShowArgs, ReceiveArgs, SignerArgs};
use crate::progress_bar::TerminalProgress;

/// Default role and meaning per event kind.
fn defaults(kind: EventKind) -> (&'static str, &'static str) {
    match kind {
        EventKind::Transfer => ("custodian", "responsibility: handed over custody"),
        EventKind::Receive => ("receiver", "responsibility: received and verified intact"),
        EventKind::Attest => ("reviewer", "approval"),
        EventKind::Derive => ("pipeline", "authorship: derived data from this run"),
    }
}

fn this_host() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

fn draft(kind: EventKind, signer: &SignerArgs) -> Result<EventDraft> {
    if let Some(name) = &signer.signer {
        seqprov::keys::validate_signer_name(name).map_err(anyhow::Error::msg)?;
    }
    let (role, meaning) = defaults(kind);
    for (flag, text) in [
        ("--role", &signer.role),
        ("--meaning", &signer.meaning),
        ("--note", &signer.note),
        ("--host", &signer.host),
    ] {
        if let Some(text) = text {
            crate::validate_text(flag, text)?;
        }
    }
    Ok(EventDraft {
        kind,
        signer_name: signer.signer.clone(),
        role: signer.role.clone().unwrap_or_else(|| role.into()),
        meaning: signer.meaning.clone().unwrap_or_else(|| meaning.into()),
        host: signer.host.clone().or_else(this_host),
        to: None,
        note: signer.note.clone(),
        verification: None,
        derived: None,
        time: None,
    })
}

/// `seqprov custody append`.
pub fn append(a: AppendArgs) -> Result<ExitStatus> {
    crate::timestamp_command::check_tsa_count(&a.tsa)?;
    let kind = match EventKind::parse(&a.kind) {
        Some(EventKind::Receive) => {
            bail!(
                "receive events are appended by `seqprov receive`, which verifies the files first"
            )
        }
        Some(kind) => kind,
        None => bail!(
            "--kind must be transfer, attest or derive, not {:?}",
            a.kind
        ),
    };
    let key = crate::open_signer(
        &a.signer.key,
        a.signer.allow_insecure_key_permissions,
        &a.signer.token,
    )?;
    let mut event = draft(kind, &a.signer)?;
    match (kind, &a.to) {
        (EventKind::Transfer, None) => bail!("a transfer event needs --to (who receives the data)"),
        (EventKind::Transfer, Some(to)) => crate::validate_text("--to", to)?,
        (_, Some(_)) => bail!("--to goes with --kind transfer"),
        _ => {}
    }
    event.to = a.to.clone();
    match (kind, &a.derived_bundle) {
        (EventKind::Derive, Some(path)) => {
            let derived = seqprov::read_bundle(path)
                .with_context(|| format!("reading derived bundle {}", path.display()))?;
            event.derived = Some(DerivedRef {
                seal: Bytes32(message_digest(&derived.seal.raw)),
                root: derived.payload.root,
                subject: derived.payload.subject.name.clone(),
            });
        }
        (EventKind::Derive, None) => bail!("a derive event needs --derived-bundle"),
        (_, Some(_)) => bail!("--derived-bundle goes with --kind derive"),
        _ => {}
    }
    let payload = seqprov::custody::append_event(&a.bundle, &*key, &event)
        .with_context(|| format!("appending to {}", a.bundle.display()))?;
    outln!(
        "appended custody event {} ({}) signed by {} ({}) at {}",
        payload.seq,
        payload.kind.name(),
        crate::terminal_text::terminal_safe(&payload.signer.name),
        crate::terminal_text::terminal_safe(&payload.signer.role),
        crate::terminal_text::terminal_safe(&payload.time.to_string())
    );
    crate::timestamp_command::stamp_new_event(&a.bundle, payload.seq, &a.tsa, false)?;
    crate::log_client_commands::submit_new(
        &a.bundle,
        &a.log,
        &[],
        crate::log_client_commands::Selection::Message(payload.seq),
        false,
    )?;
    Ok(ExitStatus::Verified)
}

/// Policy rules that a `receive` may leave unmet: they are requirements on the bundle as a
/// whole (often met by this very receive, or later), not doubts about what was received.
const RULES_RECEIVE_MAY_LEAVE: [&str; 4] = [
    "required_event",
    "custody_gap",
    "lineage",
    "timestamp_required",
];

/// `seqprov receive`.
pub fn receive(a: ReceiveArgs) -> Result<ExitStatus> {
    crate::timestamp_command::check_tsa_count(&a.tsa)?;
    let key = crate::open_signer(
        &a.signer.key,
        a.signer.allow_insecure_key_permissions,
        &a.signer.token,
    )?;
    let mut event = draft(EventKind::Receive, &a.signer)?;
    let bundle_path = crate::command_inputs::bundle_path_for(&a.dir, &a.bundle)?;
    // The policy's trusted logs also check the receipts of `--log` (with `--log-key`).
    let mut trusted_logs = Vec::new();
    let outcome = (|| -> Result<(seqprov::Report, Bytes32, BundleIdentity)> {
        let policy = crate::load_policy(&a.trust)?;
        let bundle = seqprov::read_bundle(&bundle_path)
            .with_context(|| format!("reading bundle {}", bundle_path.display()))?;
        let progress = TerminalProgress::new("verifying", a.read.quiet || a.json);
        let options = seqprov::VerifyOptions {
            read_mode: crate::read_mode(a.read),
            ..Default::default()
        };
        let report = seqprov::verify_directory(&a.dir, &bundle, &policy, options, &progress);
        progress.finish();
        trusted_logs = policy.log.keys.clone();
        Ok((report?, bundle.payload.root, BundleIdentity::of(&bundle)))
    })();
    let (mut report, root, verified) = match outcome {
        Ok(verified) => verified,
        Err(error) => {
            return crate::verify_command::finish_verify(Err(error), a.json, a.read.quiet, None)
                .map(|r| r.0);
        }
    };
    let receivable = match report.verdict {
        Verdict::Verified => true,
        Verdict::PolicyNotSatisfied => report
            .policy
            .iter()
            .all(|f| RULES_RECEIVE_MAY_LEAVE.contains(&f.rule.as_str())),
        _ => false,
    };
    if !receivable {
        let (status, _) =
            crate::verify_command::finish_verify(Ok(report), a.json, a.read.quiet, None)?;
        eprintln!("seqprov: not verified: no receive event was appended");
        return Ok(status);
    }
    let seal = report
        .seal
        .as_ref()
        .expect("a verified report names its seal");
    event.verification = Some(ReceiveSummary {
        ok: report.summary.ok,
        files: seal.files,
        bytes: seal.bytes,
        root,
    });
    pause_before_append_for_tests();
    // Only onto the bytes just verified: a bundle swapped in meanwhile is refused (exit 2).
    let appended =
        seqprov::custody::append_event_if_unchanged(&bundle_path, &*key, &event, &verified)
            .with_context(|| format!("appending to {}", bundle_path.display()));
    // Print the verification report only now, so that its exit code is the command's.
    let unmet = report.policy.clone();
    report.exit_code = 0;
    if let Err(error) = &appended {
        // The files verified, but nothing was received: the report must not read as
        // "verified" (hostile review: a swapped bundle left "verified: N entries ok").
        let status = crate::exit_status_of(error);
        report.exit_code = status.code();
        report.verdict = match status {
            ExitStatus::IntegrityFailure => Verdict::IntegrityFailure,
            _ => Verdict::Error,
        };
        report.errors.push(crate::describe(error));
    }
    crate::verify_command::finish_verify(Ok(report), a.json, a.read.quiet, None)?;
    if appended.is_err() {
        eprintln!("seqprov: not received: no receive event was appended");
    }
    let payload = appended?;
    for failure in &unmet {
        eprintln!(
            "seqprov: note: policy requirement still unmet: {} ({}): {}",
            crate::terminal_text::terminal_safe(&failure.rule),
            crate::terminal_text::terminal_safe(&failure.subject),
            crate::terminal_text::terminal_safe(&failure.detail)
        );
    }
    if !a.json {
        outln!(
            "received: appended custody event {} (receive) signed by {} ({})",
            payload.seq,
            crate::terminal_text::terminal_safe(&payload.signer.name),
            crate::terminal_text::terminal_safe(&payload.signer.role)
        );
    }
    crate::timestamp_command::stamp_new_event(&bundle_path, payload.seq, &a.tsa, a.json)?;
    crate::log_client_commands::submit_new(
        &bundle_path,
        &a.log,
        &trusted_logs,
        crate::log_client_commands::Selection::Message(payload.seq),
        a.json,
    )?;
    Ok(ExitStatus::Verified)
}

/// Test hook (debug builds only, see spec/cli.md §10): when
/// `SEQPROV_TEST_PAUSE_BEFORE_APPEND` names a FIFO, `receive` opens it for reading after
/// verifying and waits for one line before appending, so that a test can change the
/// bundle at exactly that moment. Release builds ignore the variable.
fn pause_before_append_for_tests() {
    if !cfg!(debug_assertions) {
        return;
    }
    if let Some(fifo) = std::env::var_os("SEQPROV_TEST_PAUSE_BEFORE_APPEND")
        && let Ok(file) = std::fs::File::open(&fifo)
    {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(file), &mut line);
    }
}

/// `seqprov custody show`.
pub fn show(a: CustodyShowArgs) -> Result<ExitStatus> {
    let context = || {
        seqprov::report_page::PageContext::now(vec![(
            "bundle".into(),
            a.bundle.display().to_string(),
        )])
    };
    let bundle = match seqprov::read_bundle(&a.bundle) {
        Ok(bundle) => bundle,
        Err(error) if a.json || a.html.is_some() => {
            let status = error.exit_status();
            let message = format!("reading bundle {}: {error}", a.bundle.display());
            let timeline = CustodyTimeline::from_error(message.clone(), status);
            if let Some(path) = &a.html
                && let Err(page_error) = write_timeline_page(path, &timeline, &context())
            {
                eprintln!(
                    "seqprov: warning: {}",
                    crate::terminal_text::terminal_safe(&crate::describe(&page_error))
                );
            }
            if a.json {
                outln!("{}", timeline.to_json());
            }
            eprintln!(
                "seqprov: error: {}",
                crate::terminal_text::terminal_safe(&message)
            );
            return Ok(status);
        }
        Err(error) => {
            return Err(
                anyhow::Error::new(error).context(format!("reading bundle {}", a.bundle.display()))
            );
        }
    };
    let judged = !a.trust.trust.is_empty() || a.trust.policy.is_some();
    let policy = crate::load_policy(&a.trust)?;
    let timeline = CustodyTimeline::of(&bundle, &policy, judged);
    if let Some(path) = &a.html {
        write_timeline_page(path, &timeline, &context())?;
    }
    if a.json {
        outln!("{}", timeline.to_json());
    } else {
        crate::text_output::print_timeline(&timeline);
        crate::text_output::print_times(&timeline.timestamps);
    }
    Ok(timeline.exit_status())
}

/// Write the HTML page of `timeline` to `path` (atomically; only a file that is one of
/// these pages is replaced).
fn write_timeline_page(
    path: &std::path::Path,
    timeline: &CustodyTimeline,
    context: &seqprov::report_page::PageContext,
) -> Result<()> {
    let page = seqprov::report_page::custody_page(timeline, context);
    seqprov::report_page::write_page(path, &page)
        .with_context(|| format!("writing report page {}", path.display()))
}
