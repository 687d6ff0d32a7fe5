//! Human-readable printing of reports and bundle summaries.

use seqprov::report::{FileClass, Report, SealSummary, Summary, Verdict};

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
    ];
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

fn summary_words(s: &Summary) -> String {
    let parts: Vec<String> = [
        (s.modified, "modified"),
        (s.missing, "missing"),
        (s.extra, "extra"),
        (s.moved, "moved"),
        (s.type_changed, "type changed"),
        (s.recompressed, "recompressed"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}"))
    .collect();
    parts.join(", ")
}

/// Print a verification report as text: one line per problem, then a summary.
pub fn print_report(report: &Report) {
    for f in &report.files {
        match (&f.class, &f.from) {
            (FileClass::Moved, Some(from)) => {
                println!(
                    "{:<13}{} -> {}",
                    class_label(f.class),
                    safe(from),
                    safe(&f.path)
                )
            }
            _ if f.file.is_some() && f.class != FileClass::Extra => {
                let given = f.file.as_deref().unwrap_or_default();
                if f.detail.is_empty() {
                    println!(
                        "{:<13}{}  <- {}",
                        class_label(f.class),
                        safe(&f.path),
                        safe(given)
                    )
                } else {
                    println!(
                        "{:<13}{}  <- {}  ({})",
                        class_label(f.class),
                        safe(&f.path),
                        safe(given),
                        safe(&f.detail)
                    )
                }
            }
            _ => println!(
                "{:<13}{}  ({})",
                class_label(f.class),
                safe(&f.path),
                safe(&f.detail)
            ),
        }
    }
    for e in &report.errors {
        println!("{:<13}{}", "BUNDLE", safe(e));
    }
    for f in &report.policy {
        println!(
            "{:<13}{} ({}): {}",
            "POLICY",
            safe(&f.rule),
            safe(&f.subject),
            safe(&f.detail)
        );
    }
    for w in &report.warnings {
        println!("{:<13}{}", "WARNING", safe(w));
    }
    print_times(&report.timestamps);
    if !report.custody.is_empty() {
        let linked = report
            .custody
            .iter()
            .filter(|e| e.problems.is_empty())
            .count();
        println!(
            "custody: {} events, {} intact (see `seqprov custody show`)",
            report.custody.len(),
            linked
        );
    }
    if let Some(lineage) = &report.lineage {
        println!(
            "lineage: derived from {} by {:?}: {}",
            safe(&lineage.subject),
            lineage.step,
            safe(&lineage.status.to_string())
        );
    }
    if let Some(seal) = &report.seal {
        println!(
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
        Verdict::Verified => println!("verified: {} entries ok", s.ok),
        Verdict::RangeVerified => println!(
            "range verified: the byte range checks out against the sealed BLAKE3; the rest of \
             the file was not checked"
        ),
        Verdict::Untrusted => println!(
            "NOT TRUSTED: contents intact ({} entries ok) but the signing key is not among the trusted keys",
            s.ok
        ),
        Verdict::IntegrityFailure => {
            let words = summary_words(s);
            println!(
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
        Verdict::PolicyNotSatisfied => println!(
            "POLICY NOT SATISFIED: contents intact ({} entries ok) but {} policy rule(s) failed",
            s.ok,
            report.policy.len()
        ),
        Verdict::Error => println!("ERROR: verification could not be completed"),
    }
}

/// Print the custody timeline for `seqprov custody show`.
pub fn print_timeline(
    seal: &SealSummary,
    checks: &seqprov::bundle_checks::BundleChecks,
    gaps: &[Option<i64>],
    judged: bool,
) {
    println!(
        "{}  seal      {} ({}) \"{}\" key {}  signature {}",
        safe(&seal.time),
        safe(&seal.signer),
        safe(&seal.role),
        safe(&seal.meaning),
        safe(&seal.key_id[..16]),
        status_word(checks.signature)
    );
    for (record, gap) in checks.chain.events.iter().zip(gaps) {
        if let Some(seconds) = gap {
            println!(
                "    ... {} later",
                seqprov::bundle_checks::describe_seconds(*seconds)
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
        println!(
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
    for e in &checks.integrity {
        println!("BROKEN       {}", safe(e));
    }
    for w in &checks.chain.warnings {
        println!("WARNING      {}", safe(w));
    }
    if judged {
        for f in &checks.policy {
            println!(
                "POLICY       {} ({}): {}",
                safe(&f.rule),
                safe(&f.subject),
                safe(&f.detail)
            );
        }
    }
    println!(
        "{} custody events; chain {}",
        checks.chain.events.len(),
        if checks.integrity.is_empty() {
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

/// Claimed and attested time of each message side by side (spec/timestamps.md §5.3).
pub fn print_times(times: &[seqprov::timestamp_checks::MessageTime]) {
    for t in times {
        let claimed = t.claimed.as_deref().unwrap_or("unknown");
        match (&t.attested, &t.tsa) {
            (Some(at), Some(tsa)) => println!(
                "{:<13}{}: claimed {}, attested {} by {}",
                "TIME",
                safe(&t.message),
                safe(claimed),
                safe(at),
                safe(tsa)
            ),
            _ => println!(
                "{:<13}{}: claimed {}, not attested ({} token(s))",
                "TIME",
                safe(&t.message),
                safe(claimed),
                t.tokens
            ),
        }
    }
}
