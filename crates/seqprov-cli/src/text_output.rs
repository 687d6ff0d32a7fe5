//! Human-readable printing of reports and bundle summaries.

use seqprov::report::{FileClass, Report, SealSummary, Verdict};

use crate::terminal_text::terminal_safe as safe;

fn class_label(class: FileClass) -> &'static str {
    match class {
        FileClass::Ok => "OK",
        FileClass::Modified => "MODIFIED",
        FileClass::Missing => "MISSING",
        FileClass::Extra => "EXTRA",
        FileClass::Moved => "MOVED",
        FileClass::TypeChanged => "TYPE_CHANGED",
        FileClass::Recompressed => "RECOMPRESSED",
    }
}

/// The lines `seqprov show` prints.
pub fn seal_lines(seal: &SealSummary) -> Vec<String> {
    let mut lines = vec![
        format!("subject:   {}", safe(&seal.subject)),
        format!(
            "signer:    {} (role: {})",
            safe(&seal.signer),
            safe(&seal.role)
        ),
        format!("meaning:   {}", safe(&seal.meaning)),
        format!("key id:    {}", safe(&seal.key_id)),
    ];
    if let Some(storage) = &seal.key_storage {
        lines.push(format!(
            "key held:  {} (as claimed by the signer)",
            safe(storage)
        ));
    }
    lines.extend([
        format!("time:      {} (as claimed by the signer)", safe(&seal.time)),
        format!("tool:      {}", safe(&seal.tool)),
        format!(
            "contents:  {} entries, {} files, {} bytes",
            seal.entries, seal.files, seal.bytes
        ),
        format!("digests:   {}", safe(&seal.digests.join(", "))),
        format!("root:      {}", safe(&seal.root)),
        format!(
            "run:       {}",
            safe(
                seal.run
                    .as_deref()
                    .unwrap_or("(not an Illumina run folder)")
            )
        ),
        format!(
            "run mode:  {}",
            safe(seal.mode.as_deref().unwrap_or("(no claim)"))
        ),
        format!(
            "derived:   {}",
            safe(seal.derived_from.as_deref().unwrap_or("(not recorded)"))
        ),
        format!("custody:   {} events", seal.custody_events),
    ]);
    if let Some(missing) = seal.missing {
        lines.push(format!(
            "missing:   {missing} expected file(s) were missing at seal time"
        ));
    }
    if let Some(unexpected) = seal.unexpected {
        lines.push(format!(
            "unexpected: {unexpected} base-call file(s) of lanes the layout does not have"
        ));
    }
    lines
}

/// Print a verification report as text: one line per problem, then a summary.
pub fn print_report(report: &Report) {
    for f in &report.files {
        match (&f.class, &f.from) {
            (FileClass::Moved, Some(from)) => {
                outln!(
                    "{:<13}{} -> {}",
                    class_label(f.class),
                    safe(from),
                    safe(&f.path)
                )
            }
            _ if f.file.is_some() && f.class != FileClass::Extra => {
                let given = f.file.as_deref().unwrap_or_default();
                if f.detail.is_empty() {
                    outln!(
                        "{:<13}{}  <- {}",
                        class_label(f.class),
                        safe(&f.path),
                        safe(given)
                    )
                } else {
                    outln!(
                        "{:<13}{}  <- {}  ({})",
                        class_label(f.class),
                        safe(&f.path),
                        safe(given),
                        safe(&f.detail)
                    )
                }
            }
            _ => outln!(
                "{:<13}{}  ({})",
                class_label(f.class),
                safe(&f.path),
                safe(&f.detail)
            ),
        }
    }
    for e in &report.errors {
        outln!("{:<13}{}", "BUNDLE", safe(e));
    }
    for f in &report.policy {
        outln!(
            "{:<13}{} ({}): {}",
            "POLICY",
            safe(&f.rule),
            safe(&f.subject),
            safe(&f.detail)
        );
    }
    for w in &report.warnings {
        outln!("{:<13}{}", "WARNING", safe(w));
    }
    print_times(&report.timestamps);
    print_receipts(&report.log_receipts);
    if !report.custody.is_empty() {
        let linked = report
            .custody
            .iter()
            .filter(|e| e.problems.is_empty())
            .count();
        outln!(
            "custody: {} events, {} intact (see `seqprov custody show`)",
            report.custody.len(),
            linked
        );
    }
    if let Some(lineage) = &report.lineage {
        outln!(
            "lineage: derived from {} by {:?}: {}",
            safe(&lineage.subject),
            lineage.step,
            safe(&lineage.status.to_string())
        );
    }
    crate::log_client_commands::print_online(&report.log_online);
    if let Some(seal) = &report.seal {
        outln!(
            "seal: {} ({}) key {} at {}; signature {}; key {}",
            safe(&seal.signer),
            safe(&seal.role),
            safe(&seal.key_id[..16]),
            safe(&seal.time),
            status_word(report.signature),
            if report.trusted {
                "trusted"
            } else {
                "NOT trusted"
            }
        );
    }
    let s = &report.summary;
    match report.verdict {
        Verdict::Verified => outln!("verified: {} entries ok", s.ok),
        Verdict::RangeVerified => outln!(
            "range verified: the byte range checks out against the sealed BLAKE3; the rest of \
             the file was not checked"
        ),
        Verdict::Untrusted => outln!(
            "NOT TRUSTED: contents intact ({} entries ok) but the signing key is not among the trusted keys",
            s.ok
        ),
        Verdict::IntegrityFailure => {
            let words = s.problems_in_words();
            outln!(
                "INTEGRITY FAILURE: {}{}",
                if words.is_empty() {
                    "bundle does not verify".to_string()
                } else {
                    words
                },
                if s.ok > 0 {
                    format!("; {} entries ok", s.ok)
                } else {
                    String::new()
                }
            )
        }
        Verdict::PolicyNotSatisfied => outln!(
            "POLICY NOT SATISFIED: contents intact ({} entries ok) but {} policy rule(s) failed",
            s.ok,
            report.policy.len()
        ),
        Verdict::Error => outln!("ERROR: verification could not be completed"),
    }
}

/// Print the custody timeline for `seqprov custody show`.
pub fn print_timeline(timeline: &seqprov::custody_timeline::CustodyTimeline) {
    let Some(seal) = &timeline.seal else {
        for e in &timeline.errors {
            outln!("BROKEN       {}", safe(e));
        }
        return;
    };
    outln!(
        "{}  seal      {} ({}) \"{}\" key {}  signature {}",
        safe(&seal.time),
        safe(&seal.signer),
        safe(&seal.role),
        safe(&seal.meaning),
        safe(&seal.key_id[..16]),
        status_word(timeline.signature)
    );
    for event in &timeline.events {
        let record = &event.record;
        if let Some(seconds) = event.gap_seconds {
            outln!(
                "    ... {} later",
                seqprov::bundle_checks::describe_seconds(seconds)
            );
        }
        let mut extras = Vec::new();
        if let Some(to) = &record.to {
            extras.push(format!("to: {}", safe(to)));
        }
        if let Some(host) = &record.host {
            extras.push(format!("at: {}", safe(host)));
        }
        if let Some(note) = &record.note {
            extras.push(format!("note: {}", safe(note)));
        }
        outln!(
            "{}  {:<9} {} ({}) \"{}\" key {}  signature {}{}{}",
            safe(record.time.as_deref().unwrap_or("????-??-??T??:??:??Z")),
            safe(&record.kind.to_string()),
            safe(record.signer.as_deref().unwrap_or("?")),
            safe(record.role.as_deref().unwrap_or("?")),
            safe(record.meaning.as_deref().unwrap_or("?")),
            safe(&record.key_id[..16]),
            status_word(record.signature),
            if record.linked {
                ", linked"
            } else {
                ", NOT LINKED"
            },
            if extras.is_empty() {
                String::new()
            } else {
                format!("  [{}]", extras.join("; "))
            }
        );
    }
    for e in &timeline.errors {
        outln!("BROKEN       {}", safe(e));
    }
    for w in &timeline.warnings {
        outln!("WARNING      {}", safe(w));
    }
    for f in &timeline.policy {
        outln!(
            "POLICY       {} ({}): {}",
            safe(&f.rule),
            safe(&f.subject),
            safe(&f.detail)
        );
    }
    outln!(
        "{} custody events; chain {}",
        timeline.events.len(),
        if timeline.errors.is_empty() {
            "intact"
        } else {
            "BROKEN"
        }
    );
}

fn status_word(status: seqprov::report::SignatureStatus) -> &'static str {
    match status {
        seqprov::report::SignatureStatus::Valid => "valid",
        seqprov::report::SignatureStatus::Invalid => "INVALID",
        seqprov::report::SignatureStatus::NotChecked => "not checked",
    }
}

/// One line per log receipt record (spec/log.md §7.2, spec/report.md §8).
pub fn print_receipts(receipts: &[seqprov::log_receipt_checks::ReceiptReport]) {
    use seqprov::log_receipt_checks::ReceiptStatus;
    for r in receipts {
        let status = match r.status {
            ReceiptStatus::Counted => "counted",
            ReceiptStatus::Unwitnessed => "unwitnessed (not counted)",
            ReceiptStatus::UntrustedLog => "untrusted log (ignored)",
            ReceiptStatus::Invalid => "INVALID",
            ReceiptStatus::Modified => "MODIFIED",
        };
        let at = match (r.index, r.tree_size) {
            (Some(index), Some(size)) => format!(" at index {index} of {size}"),
            (Some(index), None) => format!(" at index {index}"),
            _ => String::new(),
        };
        let witnesses = if r.witnesses.is_empty() {
            String::new()
        } else {
            format!(", witnessed by {}", safe(&r.witnesses.join(", ")))
        };
        outln!(
            "{:<13}{}{}: log {}{}{}: {}",
            "LOG",
            safe(&r.message),
            r.kind
                .as_deref()
                .map(|k| format!(" ({})", safe(k)))
                .unwrap_or_default(),
            safe(&r.log),
            at,
            witnesses,
            status
        );
    }
}

/// Claimed and attested time of each message side by side (spec/timestamps.md §5.3).
pub fn print_times(times: &[seqprov::timestamp_checks::MessageTime]) {
    for t in times {
        let claimed = t.claimed.as_deref().unwrap_or("unknown");
        match (&t.attested, &t.tsa) {
            (Some(at), Some(tsa)) => outln!(
                "{:<13}{}: claimed {}, attested {} by {}",
                "TIME",
                safe(&t.message),
                safe(claimed),
                safe(at),
                safe(tsa)
            ),
            _ => outln!(
                "{:<13}{}: claimed {}, not attested ({} token(s))",
                "TIME",
                safe(&t.message),
                safe(claimed),
                t.tokens
            ),
        }
    }
}
