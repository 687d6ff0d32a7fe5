//! The report as one self-contained HTML page for a person to read and print
//! (`verify --html`, `custody show --html`; `spec/report.md` §9).
//!
//! A page is a rendering of the same structures the `--json` outputs serialise
//! ([`Report`], [`CustodyTimeline`]); it adds nothing to them but the context the command
//! passes in ([`PageContext`]). It is not an interface: programs read the JSON.
//!
//! The page loads nothing: no external font, script, style or image, and a
//! Content-Security-Policy that only admits its own inline stylesheet and script by hash.
//! Every string that comes from the data is HTML-escaped (the templates are `maud`'s,
//! which escape every spliced value) and its control and bidirectional characters are
//! shown as visible escapes ([`Shown`]). The findings table can be filtered by class
//! with plain checkboxes and CSS (no script needed); the inline script only updates the
//! count of rows shown. The print stylesheet repeats the bundle's root and the page
//! number on every printed page.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;

use base64ct::{Base64, Encoding as _};
use maud::{DOCTYPE, Markup, PreEscaped, Render, html};
use seqprov_format::manifest::format_time;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::bundle_checks::{describe_seconds, gap_between};
use crate::bundle_file::{Overwrite, write_atomically};
use crate::chain::{EventRecord, SignatureStatus};
use crate::custody_timeline::CustodyTimeline;
use crate::error::{Error, Result};
use crate::policy::RuleFailure;
use crate::report::{FileClass, Report, RootStatus, SealSummary, Summary, Verdict};
use crate::timestamp_checks::MessageTime;

/// The `content` of the page's `<meta name="generator">`: how [`write_page`] knows a file
/// it may replace is one of these pages.
pub const GENERATOR: &str = "seqprov report page";

/// How many bytes at the start of an existing file [`write_page`] reads to find
/// [`GENERATOR`].
const HEAD_BYTES: u64 = 1024;

/// What the command adds to the data: when the page was made and from what.
#[derive(Clone, Debug, Default)]
pub struct PageContext {
    /// When the page was made (`YYYY-MM-DDTHH:MM:SSZ`, the verifier's clock).
    pub generated: String,
    /// The inputs as given on the command line, each with what it is (`directory`,
    /// `bundle`, `proof`, `file`).
    pub inputs: Vec<(String, String)>,
}

impl PageContext {
    /// A context made now, for `inputs`.
    pub fn now(inputs: Vec<(String, String)>) -> PageContext {
        PageContext {
            generated: format_time(OffsetDateTime::now_utc()),
            inputs,
        }
    }
}

/// Text from the data, as shown on the page: HTML-escaped, and with every control,
/// bidirectional or line-separator character (and the backslash) shown as a visible
/// escape, as the terminal output shows them (`spec/cli.md` §1), so that a hostile name
/// can neither inject markup nor reorder or hide what is shown.
pub struct Shown<'a>(pub &'a str);

impl Render for Shown<'_> {
    fn render_to(&self, buffer: &mut String) {
        let mut visible = String::with_capacity(self.0.len());
        for c in self.0.chars() {
            match c {
                '\\' => visible.push_str("\\\\"),
                '\t' => visible.push_str("\\t"),
                '\n' => visible.push_str("\\n"),
                '\r' => visible.push_str("\\r"),
                '\u{0}'..='\u{1f}' | '\u{7f}' => {
                    let _ = write!(visible, "\\x{:02x}", c as u32);
                }
                '\u{80}'..='\u{9f}'
                | '\u{61c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}' => {
                    let _ = write!(visible, "\\u{{{:x}}}", c as u32);
                }
                c => visible.push(c),
            }
        }
        visible.as_str().render_to(buffer);
    }
}

/// How a banner or a mark looks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tone {
    /// Accepted.
    Good,
    /// Intact, but not accepted (trust, policy), or only partly checked.
    Caution,
    /// An integrity failure.
    Bad,
    /// Nothing concluded.
    Neutral,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Caution => "caution",
            Tone::Bad => "bad",
            Tone::Neutral => "neutral",
        }
    }
}

/// The verdict in words and colour.
struct Banner {
    tone: Tone,
    headline: &'static str,
    explanation: String,
    exit_code: u8,
}

/// The file classes in the order the page lists them, with their names in the report.
const CLASSES: [(FileClass, &str); 7] = [
    (FileClass::Modified, "modified"),
    (FileClass::Missing, "missing"),
    (FileClass::Extra, "extra"),
    (FileClass::Moved, "moved"),
    (FileClass::TypeChanged, "type_changed"),
    (FileClass::Recompressed, "recompressed"),
    (FileClass::Ok, "ok"),
];

fn class_name(class: FileClass) -> &'static str {
    CLASSES
        .iter()
        .find(|(c, _)| *c == class)
        .map_or("ok", |(_, name)| name)
}

/// The page of a verification report (`verify --html`).
pub fn verification_page(report: &Report, context: &PageContext) -> String {
    let banner = verification_banner(report);
    let subject = report.seal.as_ref().map(|s| s.subject.as_str());
    let title = match subject {
        Some(subject) => format!("seqprov verification: {subject}"),
        None => "seqprov verification".to_string(),
    };
    let body = html! {
        header {
            p.kind { "seqprov verification report" }
            h1 { @if let Some(subject) = subject { (Shown(subject)) } @else { "(no seal read)" } }
        }
        (banner_markup(&banner))
        (facts_section(report.seal.as_ref(), &[
            ("Verified by", report.tool.as_str()),
            ("Seal signature", signature_word(report.signature)),
            ("Merkle root", root_word(report.root)),
        ], context))
        (signers_section(
            report.seal.as_ref(),
            report.signature,
            report.root,
            trust_judgement(report),
            &report.custody,
            &report.policy,
        ))
        @if report.seal.is_some() {
            (custody_section(
                report.seal.as_ref(),
                report.signature == SignatureStatus::Valid,
                &report.custody,
                &claimed_gaps(report.seal.as_ref(), &report.custody),
                &report.policy,
                &report.timestamps,
            ))
        }
        @if let Some(lineage) = &report.lineage {
            section #lineage {
                h2 { "Lineage" }
                dl.facts {
                    dt { "Derived from" } dd { (Shown(&lineage.subject)) }
                    dt { "Step" } dd { (Shown(&lineage.step)) }
                    dt { "Input seal (BLAKE3)" } dd.mono { (Shown(&lineage.seal)) }
                    dt { "Status" } dd { (Shown(&lineage.status)) }
                    @if let Some(in_run) = lineage.sample_sheet_in_run {
                        dt { "Sample sheet among the input run's files" }
                        dd { @if in_run { "yes" } @else { "no" } }
                    }
                }
            }
        }
        @if !report.log_receipts.is_empty() {
            (log_receipts_section(&report.log_receipts))
        }
        (problems_section(&report.errors, &report.policy, &report.warnings))
        (findings_section(&report.summary, &report.files))
        (footer_markup(context))
    };
    page(&title, report.seal.as_ref().map(|s| s.root.as_str()), body)
}

/// The page of a custody timeline (`custody show --html`).
pub fn custody_page(timeline: &CustodyTimeline, context: &PageContext) -> String {
    let banner = custody_banner(timeline);
    let subject = timeline.seal.as_ref().map(|s| s.subject.as_str());
    let title = match subject {
        Some(subject) => format!("seqprov custody: {subject}"),
        None => "seqprov custody".to_string(),
    };
    let records: Vec<EventRecord> = timeline.events.iter().map(|e| e.record.clone()).collect();
    let gaps: Vec<Option<i64>> = timeline.events.iter().map(|e| e.gap_seconds).collect();
    let judgement = match timeline.trusted {
        None => TrustJudgement::NotJudged("no --trust or --policy was given"),
        Some(_) if timeline.signature != SignatureStatus::Valid => {
            TrustJudgement::NotJudged("the seal's signature does not verify")
        }
        Some(_) if timeline.root != RootStatus::Match => {
            TrustJudgement::NotJudged("the entry list does not match the signed root")
        }
        Some(trusted) => TrustJudgement::Judged(trusted),
    };
    let body = html! {
        header {
            p.kind { "seqprov custody timeline" }
            h1 { @if let Some(subject) = subject { (Shown(subject)) } @else { "(no seal read)" } }
        }
        (banner_markup(&banner))
        (facts_section(timeline.seal.as_ref(), &[
            ("Seal signature", signature_word(timeline.signature)),
            ("Merkle root", root_word(timeline.root)),
        ], context))
        (signers_section(
            timeline.seal.as_ref(),
            timeline.signature,
            timeline.root,
            judgement,
            &records,
            &timeline.policy,
        ))
        @if timeline.seal.is_some() {
            (custody_section(
                timeline.seal.as_ref(),
                timeline.signature == SignatureStatus::Valid,
                &records,
                &gaps,
                &timeline.policy,
                &timeline.timestamps,
            ))
        }
        (problems_section(&timeline.errors, &timeline.policy, &timeline.warnings))
        (footer_markup(context))
    };
    page(
        &title,
        timeline.seal.as_ref().map(|s| s.root.as_str()),
        body,
    )
}

/// Write `page` to `path` atomically (temporary file, fsync, rename). An existing file
/// is replaced only if it is a regular file that starts like one of these pages: a
/// mistyped `--html run.seqprov` must not replace a bundle.
pub fn write_page(path: &Path, page: &str) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => {
            let mut head = Vec::new();
            std::fs::File::open(path)
                .and_then(|f| f.take(HEAD_BYTES).read_to_end(&mut head))
                .map_err(|e| Error::io(path, e))?;
            if !is_report_page(&head) {
                return Err(Error::Refused(format!(
                    "{}: exists and is not a seqprov report page; not replacing it",
                    path.display()
                )));
            }
        }
        Ok(_) => {
            return Err(Error::Refused(format!(
                "{}: exists and is not a regular file; not replacing it",
                path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(path, e)),
    }
    write_atomically(path, page.as_bytes(), Overwrite::Replace)
}

/// Whether `head`, the first bytes of a file, are those of a page this module wrote.
pub fn is_report_page(head: &[u8]) -> bool {
    let marker = format!("<meta name=\"generator\" content=\"{GENERATOR}\">");
    head.starts_with(b"<!DOCTYPE html>")
        && head.windows(marker.len()).any(|w| w == marker.as_bytes())
}

// ---- the page around the sections ------------------------------------------------------

/// The stylesheet (the `@page` rule with the root is added per page).
const STYLE: &str = r#"
:root { color-scheme: light; --good: #1b6e2c; --good-bg: #e3f4e6; --caution: #8a5a00; --caution-bg: #fdf1d6; --bad: #a4161a; --bad-bg: #fbe3e4; --neutral: #444; --neutral-bg: #ececec; --rule: #c9ccd1; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; color: #1d1f23; margin: 0 auto; max-width: 72rem; padding: 1.5rem; background: #fff; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid var(--rule); padding-bottom: .2rem; }
.kind { text-transform: uppercase; letter-spacing: .08em; font-size: .8rem; color: #555; margin: 0; }
.mono, code, td.path, .hex { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: .9em; overflow-wrap: anywhere; }
.banner { border: 2px solid; border-radius: .5rem; padding: 1rem 1.25rem; margin: 0 0 1.5rem; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.banner .headline { font-size: 1.7rem; font-weight: 800; letter-spacing: .03em; margin: 0; }
.banner p { margin: .3rem 0 0; }
.good { color: var(--good); } .caution { color: var(--caution); } .bad { color: var(--bad); } .neutral { color: var(--neutral); }
.banner.good { background: var(--good-bg); border-color: var(--good); }
.banner.caution { background: var(--caution-bg); border-color: var(--caution); }
.banner.bad { background: var(--bad-bg); border-color: var(--bad); }
.banner.neutral { background: var(--neutral-bg); border-color: var(--neutral); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.25rem; margin: 0; }
dl.facts dt { font-weight: 600; color: #444; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--rule); overflow-wrap: break-word; }
td.path, td.hex { overflow-wrap: anywhere; }
td.time, td.hex { white-space: nowrap; }
th { background: #f3f4f6; font-weight: 600; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.mark { font-weight: 700; }
ul.lines { margin: .3rem 0; padding-left: 1.2rem; }
ul.lines li { margin: .15rem 0; overflow-wrap: anywhere; }
.none { color: #666; font-style: italic; }
.timeline { width: 100%; height: auto; max-height: 16rem; border: 1px solid var(--rule); border-radius: .4rem; background: #fafbfc; }
.timeline .axis { stroke: #888; stroke-width: 2; }
.timeline text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: #333; }
.timeline .marker text { font-weight: 700; fill: #fff; }
.timeline .good circle { fill: var(--good); } .timeline .bad circle { fill: var(--bad); } .timeline .caution circle { fill: var(--caution); } .timeline .neutral circle { fill: var(--neutral); }
.timeline .lane { font-style: italic; fill: #666; }
.filters { display: inline; }
.filter { margin: 0 .15rem 0 .8rem; }
.filter-label { padding: .1rem .45rem; border-radius: 1rem; background: #eef0f3; }
.shown { color: #555; margin: .4rem 0; }
td.class { font-weight: 700; white-space: nowrap; }
tr.row-modified td.class, tr.row-missing td.class, tr.row-moved td.class, tr.row-type_changed td.class { color: var(--bad); }
tr.row-extra td.class, tr.row-recompressed td.class { color: var(--caution); }
tr.row-ok td.class { color: var(--good); }
#show-modified:not(:checked) ~ table tr.row-modified,
#show-missing:not(:checked) ~ table tr.row-missing,
#show-extra:not(:checked) ~ table tr.row-extra,
#show-moved:not(:checked) ~ table tr.row-moved,
#show-type_changed:not(:checked) ~ table tr.row-type_changed,
#show-recompressed:not(:checked) ~ table tr.row-recompressed,
#show-ok:not(:checked) ~ table tr.row-ok { display: none; }
footer { margin-top: 2.5rem; color: #555; font-size: .85rem; border-top: 1px solid var(--rule); padding-top: .6rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  .screen-only, .filter, .filter-label, .shown { display: none !important; }
  table tr[class^="row-"] { display: table-row !important; }
  thead { display: table-header-group; }
  tr, .banner, dl.facts, svg { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// The enhancement script: keeps "N of M findings shown" up to date as filters change.
/// The filters themselves work without it.
const SCRIPT: &str = "document.addEventListener('change',function(){var t=document.getElementById('findings'),o=document.getElementById('shown');if(!t||!o)return;var r=t.tBodies[0].rows,n=0;for(var i=0;i<r.length;i++)if(getComputedStyle(r[i]).display!=='none')n++;o.textContent=n+' of '+r.length+' findings shown';});";

/// The `@page` rule: page numbers and the bundle's root in the margins of every printed
/// page (CSS margin boxes).
fn page_rule(root: Option<&str>) -> String {
    // Only hex digits ever reach the stylesheet: a CSS string needs its own escaping.
    let root = root
        .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(
            || "no seal read".to_string(),
            |r| format!("bundle root {r}"),
        );
    format!(
        "@page {{ size: A4; margin: 16mm 14mm 18mm 14mm; \
         @bottom-left {{ content: \"{root}\"; font: 7pt monospace; color: #444; }} \
         @bottom-right {{ content: \"Page \" counter(page) \" of \" counter(pages); font: 8pt sans-serif; color: #444; }} }}\n"
    )
}

/// `'sha256-…'`, the CSP source of an inline element's text.
fn csp_hash(text: &str) -> String {
    format!("'sha256-{}'", Base64::encode_string(&Sha256::digest(text)))
}

fn page(title: &str, root: Option<&str>, body: Markup) -> String {
    let style = format!("{}{STYLE}", page_rule(root));
    let policy = format!(
        "default-src 'none'; style-src {}; script-src {}; img-src 'none'; font-src 'none'; \
         connect-src 'none'; form-action 'none'; base-uri 'none'",
        csp_hash(&style),
        csp_hash(SCRIPT)
    );
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="generator" content=(GENERATOR);
                meta http-equiv="Content-Security-Policy" content=(policy);
                meta name="referrer" content="no-referrer";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (Shown(title)) }
                style { (PreEscaped(&style)) }
            }
            body {
                (body)
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
    .into_string()
}

fn banner_markup(banner: &Banner) -> Markup {
    html! {
        section #verdict .banner .(banner.tone.class()) role="status" {
            p.headline { (banner.headline) }
            p { (Shown(&banner.explanation)) }
            p { "Exit code " (banner.exit_code) "." }
        }
    }
}

fn footer_markup(context: &PageContext) -> Markup {
    html! {
        footer {
            p {
                "Made by seqprov at " (Shown(&context.generated)) " (this computer's clock). "
                "This page renders the JSON report (--json) for people; programs should read the JSON and the exit code."
            }
        }
    }
}

// ---- banners -----------------------------------------------------------------------

fn verification_banner(report: &Report) -> Banner {
    let s = &report.summary;
    let (tone, headline, explanation) = match report.verdict {
        Verdict::Verified => (
            Tone::Good,
            "VERIFIED",
            format!(
                "Every sealed entry is present and identical ({} entries ok), the seal's \
                 signature is valid, its signer is trusted and every policy rule is met.",
                s.ok
            ),
        ),
        // Amber, not green: exit 0, but never to be taken for a whole file verified.
        Verdict::RangeVerified => (
            Tone::Caution,
            "RANGE VERIFIED",
            "The byte range checks out against the sealed BLAKE3 and the signer is trusted; \
             the rest of the file was NOT checked. This is not a whole file verified."
                .to_string(),
        ),
        Verdict::IntegrityFailure => {
            let words = s.problems_in_words();
            (
                Tone::Bad,
                "INTEGRITY FAILURE",
                if words.is_empty() {
                    "The bundle does not verify: see the problems below.".to_string()
                } else {
                    format!(
                        "The data is not as sealed: {words}{}.",
                        if s.ok > 0 {
                            format!("; {} entries ok", s.ok)
                        } else {
                            String::new()
                        }
                    )
                },
            )
        }
        Verdict::Untrusted => (
            Tone::Caution,
            "NOT TRUSTED",
            format!(
                "The contents are intact ({} entries ok) and validly signed, but the signer is \
                 not trusted under the policy.",
                s.ok
            ),
        ),
        Verdict::PolicyNotSatisfied => (
            Tone::Caution,
            "POLICY NOT SATISFIED",
            format!(
                "The contents are intact ({} entries ok) and the signer is trusted, but {} \
                 policy rule(s) failed.",
                s.ok,
                report.policy.len()
            ),
        ),
        Verdict::Error => (
            Tone::Neutral,
            "ERROR",
            format!(
                "Verification could not be completed: {}",
                report
                    .errors
                    .first()
                    .map_or("no reason given", String::as_str)
            ),
        ),
    };
    Banner {
        tone,
        headline,
        explanation,
        exit_code: report.exit_code,
    }
}

fn custody_banner(timeline: &CustodyTimeline) -> Banner {
    let events = timeline.events.len();
    let (tone, headline, explanation) = match timeline.exit_code {
        0 if timeline.trusted.is_some() => (
            Tone::Good,
            "CUSTODY CHAIN INTACT",
            format!(
                "The seal and its {events} custody event(s) verify and link up, and every \
                 signer and rule is accepted by the policy."
            ),
        ),
        0 => (
            Tone::Caution,
            "CHAIN INTACT, SIGNERS NOT JUDGED",
            format!(
                "The seal and its {events} custody event(s) verify and link up; no trust \
                 option was given, so nobody's signature was judged trustworthy."
            ),
        ),
        1 => (
            Tone::Bad,
            "INTEGRITY FAILURE",
            match timeline.errors.first() {
                Some(first) if timeline.seal.is_none() => {
                    format!("The bundle could not be read: {first}")
                }
                _ => format!(
                    "The seal or the custody chain does not verify ({} problem(s) below).",
                    timeline.errors.len()
                ),
            },
        ),
        3 => (
            Tone::Caution,
            "POLICY NOT SATISFIED",
            format!(
                "The seal and the chain are intact, but {} policy rule(s) failed.",
                timeline.policy.len()
            ),
        ),
        _ => (
            Tone::Neutral,
            "ERROR",
            format!(
                "The timeline could not be made: {}",
                timeline
                    .errors
                    .first()
                    .map_or("no reason given", String::as_str)
            ),
        ),
    };
    Banner {
        tone,
        headline,
        explanation,
        exit_code: timeline.exit_code,
    }
}

fn signature_word(status: SignatureStatus) -> &'static str {
    match status {
        SignatureStatus::Valid => "valid",
        SignatureStatus::Invalid => "INVALID",
        SignatureStatus::NotChecked => "not checked",
    }
}

fn root_word(status: RootStatus) -> &'static str {
    match status {
        RootStatus::Match => "the entry list matches the signed root",
        RootStatus::Mismatch => "MISMATCH: the entry list was edited after signing",
        RootStatus::NotChecked => "not checked",
    }
}

// ---- the seal and run facts --------------------------------------------------------

fn facts_section(
    seal: Option<&SealSummary>,
    outcome: &[(&str, &str)],
    context: &PageContext,
) -> Markup {
    html! {
        section #facts {
            h2 { "Seal and run" }
            dl.facts {
                @if let Some(seal) = seal {
                    dt { "Subject (sealed folder)" } dd { (Shown(&seal.subject)) }
                    dt { "Run" } dd { (Shown(seal.run.as_deref().unwrap_or("(not an Illumina run folder)"))) }
                    dt { "Run mode" } dd { (Shown(seal.mode.as_deref().unwrap_or("(no claim)"))) }
                    dt { "Sealed by" } dd { (Shown(&seal.signer)) " (role " (Shown(&seal.role)) ")" }
                    dt { "Meaning of the seal" } dd { (Shown(&seal.meaning)) }
                    dt { "Sealed at" } dd { (Shown(&seal.time)) " (as claimed by the signer)" }
                    dt { "Sealing program" } dd { (Shown(&seal.tool)) }
                    dt { "Contents" } dd { (seal.entries) " entries, " (seal.files) " files, " (seal.bytes) " bytes" }
                    dt { "Digests" } dd { (Shown(&seal.digests.join(", "))) }
                    dt { "Merkle root" } dd.hex { (Shown(&seal.root)) }
                    dt { "Key id" } dd.hex { (Shown(&seal.key_id)) }
                    dt { "Public key" } dd.hex { (Shown(&seal.public_key)) }
                    dt { "Custody events" } dd { (seal.custody_events) }
                    @if let Some(derived) = &seal.derived_from {
                        dt { "Derived from" } dd { (Shown(derived)) }
                    }
                    @if let Some(missing) = seal.missing {
                        dt { "Missing at seal time" } dd { (missing) " expected file(s)" }
                    }
                    @if let Some(unexpected) = seal.unexpected {
                        dt { "Unexpected at seal time" } dd { (unexpected) " base-call file(s) of lanes the layout does not have" }
                    }
                } @else {
                    dt { "Seal" } dd.none { "The bundle could not be read: nothing it says is shown." }
                }
                @for (what, value) in outcome {
                    dt { (what) } dd { (value) }
                }
                @for (what, value) in &context.inputs {
                    dt { "Input: " (Shown(what)) } dd.mono { (Shown(value)) }
                }
            }
        }
    }
}

// ---- signers ------------------------------------------------------------------------

/// Whether and how trust was judged for the seal's signer.
#[derive(Clone, Copy)]
enum TrustJudgement {
    /// Judged: trusted or not.
    Judged(bool),
    /// Not judged, and why.
    NotJudged(&'static str),
}

fn trust_judgement(report: &Report) -> TrustJudgement {
    if report.seal.is_none() {
        TrustJudgement::NotJudged("the bundle could not be read")
    } else if report.signature != SignatureStatus::Valid {
        TrustJudgement::NotJudged("the seal's signature does not verify")
    } else if report.root != RootStatus::Match {
        TrustJudgement::NotJudged("the entry list does not match the signed root")
    } else {
        TrustJudgement::Judged(report.trusted)
    }
}

/// The policy rules that judge a signer's key (`spec/policy.md` §5).
const TRUST_RULES: [&str; 4] = [
    "untrusted_signer",
    "revoked_key",
    "outside_validity",
    "role_not_allowed",
];

fn signers_section(
    seal: Option<&SealSummary>,
    signature: SignatureStatus,
    root: RootStatus,
    judgement: TrustJudgement,
    events: &[EventRecord],
    policy: &[RuleFailure],
) -> Markup {
    let by_subject = failures_by_subject(policy);
    let said = |subject: &str| -> Vec<&RuleFailure> {
        by_subject.get(subject).cloned().unwrap_or_default()
    };
    let seal_said = said("seal");
    let (seal_tone, seal_trust) = match judgement {
        TrustJudgement::Judged(true) => (Tone::Good, "trusted".to_string()),
        TrustJudgement::Judged(false) => (Tone::Caution, "NOT trusted".to_string()),
        TrustJudgement::NotJudged(why) => (Tone::Neutral, format!("not judged: {why}")),
    };
    let seal_ok = signature == SignatureStatus::Valid && root == RootStatus::Match;
    html! {
        section #signers {
            h2 { "Signers" }
            @if seal.is_none() && events.is_empty() {
                p.none { "No signer could be read." }
            } @else {
                table #signer-table {
                    thead { tr { th { "Signed" } th { "Signer" } th { "Role" } th { "Meaning" } th { "Key id" } th { "Signature" } th { "Trust" } th { "What the policy said" } } }
                    tbody {
                        @if let Some(seal) = seal {
                            tr {
                                td { "the seal" }
                                td { (Shown(&seal.signer)) }
                                td { (Shown(&seal.role)) }
                                td { (Shown(&seal.meaning)) }
                                td.hex { (Shown(short_hex(&seal.key_id))) }
                                td.mark.(if seal_ok { "good" } else { "bad" }) { (signature_word(signature)) }
                                td.mark.(seal_tone.class()) { (seal_trust) }
                                td { (policy_lines(&seal_said, matches!(judgement, TrustJudgement::Judged(_)))) }
                            }
                        }
                        @for event in events {
                            @let subject = format!("custody event {}", event.position);
                            @let event_said = said(&subject);
                            @let (tone, trust) = event_trust(event, judgement, &event_said);
                            tr {
                                td { "custody event " (event.position) " (" (Shown(&event.kind)) ")" }
                                td { (Shown(event.signer.as_deref().unwrap_or("?"))) }
                                td { (Shown(event.role.as_deref().unwrap_or("?"))) }
                                td { (Shown(event.meaning.as_deref().unwrap_or("?"))) }
                                td.hex { (Shown(short_hex(&event.key_id))) }
                                td.mark.(if event.problems.is_empty() && event.signature == SignatureStatus::Valid { "good" } else { "bad" }) {
                                    (signature_word(event.signature))
                                    @if !event.linked { ", NOT linked" }
                                }
                                td.mark.(tone.class()) { (trust) }
                                td { (policy_lines(&event_said, matches!(judgement, TrustJudgement::Judged(_)) && event.problems.is_empty())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The failed rules by the subject they concern (`seal`, `custody event N`, ...), so
/// that a page of many events and failures is made in linear time.
fn failures_by_subject(policy: &[RuleFailure]) -> HashMap<&str, Vec<&RuleFailure>> {
    let mut by_subject: HashMap<&str, Vec<&RuleFailure>> = HashMap::new();
    for failure in policy {
        by_subject
            .entry(failure.subject.as_str())
            .or_default()
            .push(failure);
    }
    by_subject
}

fn event_trust(
    event: &EventRecord,
    judgement: TrustJudgement,
    said: &[&RuleFailure],
) -> (Tone, String) {
    match judgement {
        TrustJudgement::NotJudged(why) => (Tone::Neutral, format!("not judged: {why}")),
        TrustJudgement::Judged(_) if !event.problems.is_empty() => (
            Tone::Bad,
            "not judged: the event does not verify".to_string(),
        ),
        TrustJudgement::Judged(_)
            if said.iter().any(|f| TRUST_RULES.contains(&f.rule.as_str())) =>
        {
            (Tone::Caution, "NOT trusted".to_string())
        }
        TrustJudgement::Judged(_) => (Tone::Good, "trusted".to_string()),
    }
}

fn policy_lines(said: &[&RuleFailure], judged: bool) -> Markup {
    html! {
        @if said.is_empty() {
            @if judged { span.good { "no objection" } } @else { span.none { "—" } }
        } @else {
            ul.lines {
                @for failure in said {
                    li { code { (Shown(&failure.rule)) } ": " (Shown(&failure.detail)) }
                }
            }
        }
    }
}

fn short_hex(hex: &str) -> &str {
    hex.get(..16).unwrap_or(hex)
}

// ---- custody timeline ---------------------------------------------------------------

/// One point of the drawn timeline.
struct TimelinePoint {
    /// `S` for the seal, else the event's position.
    label: String,
    /// Seconds since the Unix epoch of the claimed time.
    at: i64,
    /// What the tooltip says.
    title: String,
    tone: Tone,
}

fn unix_seconds(time: &str) -> Option<i64> {
    seqprov_format::manifest::parse_time(time)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Seconds from each event's claimed time back to the previous one (the seal's for the
/// first), as `custody show` computes its `gap_seconds`.
fn claimed_gaps(seal: Option<&SealSummary>, events: &[EventRecord]) -> Vec<Option<i64>> {
    let mut previous = seal.map(|s| s.time.clone());
    events
        .iter()
        .map(|event| {
            let gap = match (&previous, &event.time) {
                (Some(p), Some(t)) => gap_between(p, t).map(|g| g.whole_seconds()),
                _ => None,
            };
            if let Some(t) = &event.time {
                previous = Some(t.clone());
            }
            gap
        })
        .collect()
}

fn timeline_points(
    seal: Option<&SealSummary>,
    seal_ok: bool,
    events: &[EventRecord],
) -> Vec<TimelinePoint> {
    let mut points = Vec::new();
    if let Some(seal) = seal
        && let Some(at) = unix_seconds(&seal.time)
    {
        points.push(TimelinePoint {
            label: "S".into(),
            at,
            title: format!("seal, {} by {}", seal.time, seal.signer),
            tone: if seal_ok { Tone::Good } else { Tone::Bad },
        });
    }
    for event in events {
        let Some(at) = event.time.as_deref().and_then(unix_seconds) else {
            continue;
        };
        points.push(TimelinePoint {
            label: event.position.to_string(),
            at,
            title: format!(
                "custody event {} ({}), {} by {}",
                event.position,
                event.kind,
                event.time.as_deref().unwrap_or("?"),
                event.signer.as_deref().unwrap_or("?")
            ),
            tone: if event.problems.is_empty() && event.signature == SignatureStatus::Valid {
                Tone::Good
            } else {
                Tone::Bad
            },
        });
    }
    points
}

/// The timeline as inline SVG: one marker per claimed time on a proportional axis.
fn timeline_svg(points: &[TimelinePoint], attested: usize, stamped: usize) -> Markup {
    const WIDTH: i64 = 960;
    const LEFT: i64 = 40;
    const RIGHT: i64 = 40;
    /// Markers closer than this (in drawing units) stack upwards...
    const CLOSE: i64 = 26;
    /// ... at most this many levels high (more overlap on the top level).
    const MAX_LEVEL: i64 = 4;
    let first = points.iter().map(|p| p.at).min().unwrap_or(0);
    let last = points.iter().map(|p| p.at).max().unwrap_or(0);
    let span = (last - first).max(1);
    // How many markers sit at each x so far: a marker's level is the number already
    // placed within CLOSE of it (linear in the number of markers, which a bundle bounds
    // at 100 000 events).
    let mut at_x = vec![0i64; (WIDTH + 1) as usize];
    let placed: Vec<(i64, i64, &TimelinePoint)> = points
        .iter()
        .map(|point| {
            let x = LEFT + (point.at - first) * (WIDTH - LEFT - RIGHT) / span;
            let (from, to) = ((x - CLOSE + 1).max(0), (x + CLOSE - 1).min(WIDTH));
            let level = at_x[from as usize..=to as usize]
                .iter()
                .sum::<i64>()
                .min(MAX_LEVEL);
            at_x[x as usize] += 1;
            (x, level, point)
        })
        .collect();
    let top = placed.iter().map(|(_, level, _)| *level).max().unwrap_or(0);
    let axis_y = 30 + top * CLOSE;
    let markers: Vec<(i64, i64, &TimelinePoint, Tone)> = placed
        .into_iter()
        .map(|(x, level, point)| (x, axis_y - level * CLOSE, point, point.tone))
        .collect();
    let height = axis_y + 70;
    let describe = |seconds: i64| {
        if seconds <= 0 {
            "all at one time".to_string()
        } else {
            format!("{} from first to last", describe_seconds(seconds))
        }
    };
    let start = points
        .iter()
        .min_by_key(|p| p.at)
        .map(|p| format_unix(p.at))
        .unwrap_or_default();
    let end = points
        .iter()
        .max_by_key(|p| p.at)
        .map(|p| format_unix(p.at))
        .unwrap_or_default();
    html! {
        svg.timeline #timeline-svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label="custody timeline, claimed times" {
            line.axis x1=(LEFT) y1=(axis_y) x2=(WIDTH - RIGHT) y2=(axis_y) {}
            // The stems of stacked markers first, so that no stem crosses a marker.
            @for (x, y, _, _) in &markers {
                @if *y != axis_y { line x1=(x) y1=(axis_y) x2=(x) y2=(y) stroke="#888" stroke-width="1" {} }
            }
            @for (x, y, point, tone) in &markers {
                g.marker.(tone.class()) {
                    title { (Shown(&point.title)) }
                    circle cx=(x) cy=(y) r="11" {}
                    text x=(x) y=(y + 4) text-anchor="middle" { (point.label) }
                }
            }
            text x=(LEFT) y=(axis_y + 28) text-anchor="start" { "claimed: " (start) }
            text x=(WIDTH - RIGHT) y=(axis_y + 28) text-anchor="end" { (end) " (" (describe(last - first)) ")" }
            // Attested (time-stamp authority) times are listed in the table below the drawing.
            text.lane #attested-lane x=(LEFT) y=(axis_y + 55) text-anchor="start" {
                @if attested == 0 {
                    "attested times: none in this report (every time above is as claimed by its signer)"
                } @else {
                    "times above are as claimed by the signers; " (attested) " of " (stamped)
                    " attested by a trusted time-stamp authority (table below)"
                }
            }
        }
    }
}

/// The transparency-log receipt records and what each showed (spec/log.md §7.2,
/// spec/report.md §2.9); the log's origin and witness names are attacker text, escaped.
fn log_receipts_section(receipts: &[crate::log_receipt_checks::ReceiptReport]) -> Markup {
    use crate::log_receipt_checks::ReceiptStatus;
    html! {
        section #log-receipts {
            h2 { "Transparency log receipts" }
            table #log-receipts-table {
                thead { tr { th { "Message" } th { "Entry" } th { "Log" } th { "Index" } th { "Witnesses" } th { "Status" } } }
                tbody {
                    @for r in receipts {
                        tr {
                            td { (Shown(&r.message)) }
                            td { (Shown(r.kind.as_deref().unwrap_or("—"))) }
                            td.mono { (Shown(&r.log)) }
                            td.mono {
                                @match (r.index, r.tree_size) {
                                    (Some(i), Some(n)) => { (i) " of " (n) }
                                    (Some(i), None) => { (i) }
                                    _ => { "—" }
                                }
                            }
                            td { @if r.witnesses.is_empty() { "none" } @else { (Shown(&r.witnesses.join(", "))) } }
                            td {
                                @match r.status {
                                    ReceiptStatus::Counted => { span.good { "counted" } }
                                    ReceiptStatus::Unwitnessed => { span.caution { "unwitnessed (not counted)" } }
                                    ReceiptStatus::UntrustedLog => { span.caution { "untrusted log (ignored)" } }
                                    ReceiptStatus::Invalid => { span.bad { "invalid" } }
                                    ReceiptStatus::Modified => { span.bad { "modified" } }
                                }
                                @if let Some(detail) = &r.detail { br; (Shown(detail)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Claimed and attested time of each message side by side (RFC 3161 tokens,
/// spec/timestamps.md §6.1); every string from a token is attacker text, escaped.
fn trusted_time_table(times: &[MessageTime]) -> Markup {
    html! {
        table #trusted-time-table {
            caption { "Trusted time (RFC 3161 tokens)" }
            thead { tr { th { "Message" } th { "Claimed time" } th { "Attested time" } th { "Time-stamp authority" } th { "Tokens" } } }
            tbody {
                @for t in times {
                    tr {
                        td { (Shown(&t.message)) }
                        td.mono.time { (Shown(t.claimed.as_deref().unwrap_or("unknown"))) }
                        td.mono.time {
                            @if let Some(at) = &t.attested { span.good { (Shown(at)) } }
                            @else { span.caution { "not attested" } }
                        }
                        td {
                            @if let Some(tsa) = &t.tsa { (Shown(tsa)) } @else { "—" }
                            @if !t.unattested.is_empty() {
                                ul.lines { @for why in &t.unattested { li.caution { (Shown(why)) } } }
                            }
                        }
                        td { (t.tokens) }
                    }
                }
            }
        }
    }
}

fn format_unix(at: i64) -> String {
    OffsetDateTime::from_unix_timestamp(at).map_or_else(|_| at.to_string(), format_time)
}

fn custody_section(
    seal: Option<&SealSummary>,
    seal_ok: bool,
    events: &[EventRecord],
    gaps: &[Option<i64>],
    policy: &[RuleFailure],
    times: &[MessageTime],
) -> Markup {
    let points = timeline_points(seal, seal_ok, events);
    let attested = times.iter().filter(|t| t.attested.is_some()).count();
    let by_subject = failures_by_subject(policy);
    let unplaced: Vec<u64> = events
        .iter()
        .filter(|e| e.time.as_deref().and_then(unix_seconds).is_none())
        .map(|e| e.position)
        .collect();
    html! {
        section #custody {
            h2 { "Custody timeline" }
            @if !points.is_empty() {
                (timeline_svg(&points, attested, times.len()))
            }
            @if !times.is_empty() {
                (trusted_time_table(times))
            }
            @if !unplaced.is_empty() {
                p.none { "Not on the drawing (no readable time): custody event(s) "
                    (unplaced.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")) "." }
            }
            @if events.is_empty() {
                p.none { "No custody events after the seal." }
            } @else {
                table #custody-table {
                    thead { tr { th { "#" } th { "Claimed time" } th { "After" } th { "Kind" } th { "Signer (role)" } th { "Details" } th { "Status" } } }
                    tbody {
                        @for (i, event) in events.iter().enumerate() {
                            @let gap = gaps.get(i).copied().flatten();
                            @let said = by_subject.get(format!("custody event {}", event.position).as_str()).cloned().unwrap_or_default();
                            tr {
                                td { (event.position) }
                                td.mono.time { (Shown(event.time.as_deref().unwrap_or("unknown"))) }
                                td { @if let Some(gap) = gap { (describe_seconds(gap)) } @else { "—" } }
                                td { (Shown(&event.kind)) }
                                td { (Shown(event.signer.as_deref().unwrap_or("?"))) " (" (Shown(event.role.as_deref().unwrap_or("?"))) ")" }
                                td {
                                    @if let Some(meaning) = &event.meaning { "meaning: " (Shown(meaning)) br; }
                                    @if let Some(to) = &event.to { "to: " (Shown(to)) br; }
                                    @if let Some(host) = &event.host { "at: " (Shown(host)) br; }
                                    @if let Some(note) = &event.note { "note: " (Shown(note)) br; }
                                    @if let Some(v) = &event.verification { "recorded verification: " (v.ok) " ok of " (v.files) " files" br; }
                                    @if let Some(d) = &event.derived { "derived: " (Shown(&d.subject)) br; }
                                }
                                td {
                                    @if event.problems.is_empty() && event.signature == SignatureStatus::Valid && event.linked {
                                        span.mark.good { "signature valid, linked" }
                                    } @else {
                                        span.mark.bad { "signature " (signature_word(event.signature)) @if !event.linked { ", NOT linked" } }
                                    }
                                    @if !event.problems.is_empty() {
                                        ul.lines { @for p in &event.problems { li.bad { (Shown(p)) } } }
                                    }
                                    @if !said.is_empty() {
                                        ul.lines { @for f in &said { li.caution { "policy " code { (Shown(&f.rule)) } ": " (Shown(&f.detail)) } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---- problems and findings ----------------------------------------------------------

fn problems_section(errors: &[String], policy: &[RuleFailure], warnings: &[String]) -> Markup {
    html! {
        section #problems {
            h2 { "Problems and warnings" }
            @if errors.is_empty() && policy.is_empty() && warnings.is_empty() {
                p.none { "None." }
            }
            @if !errors.is_empty() {
                h3.bad { "Integrity problems" }
                ul.lines #errors { @for e in errors { li { (Shown(e)) } } }
            }
            @if !policy.is_empty() {
                h3.caution { "Failed policy rules" }
                table #policy-table {
                    thead { tr { th { "Rule" } th { "Concerns" } th { "Detail" } } }
                    tbody { @for f in policy { tr { td { code { (Shown(&f.rule)) } } td { (Shown(&f.subject)) } td { (Shown(&f.detail)) } } } }
                }
            }
            @if !warnings.is_empty() {
                h3 { "Warnings (they do not change the verdict)" }
                ul.lines #warnings { @for w in warnings { li { (Shown(w)) } } }
            }
        }
    }
}

fn findings_section(summary: &Summary, files: &[crate::report::FileFinding]) -> Markup {
    let count = |class: FileClass| files.iter().filter(|f| f.class == class).count();
    let shown_classes: Vec<(&str, usize)> = CLASSES
        .iter()
        .map(|(class, name)| (*name, count(*class)))
        .filter(|(_, n)| *n > 0)
        .collect();
    html! {
        section #findings-section {
            h2 { "Findings" }
            p {
                "Per class: " (summary.ok) " ok, " (summary.modified) " modified, " (summary.missing) " missing, "
                (summary.extra) " extra, " (summary.moved) " moved, " (summary.type_changed) " type changed, "
                (summary.recompressed) " recompressed. Entries that are ok are only counted."
            }
            @if files.is_empty() {
                p.none #no-findings { "No findings: no path differs from the seal." }
            } @else {
                p.screen-only { "Show the classes:" }
                @for (name, n) in &shown_classes {
                    input.filter type="checkbox" id=(format!("show-{name}")) checked;
                    label.filter-label for=(format!("show-{name}")) { (name) " (" (n) ")" }
                }
                p.shown #shown { (files.len()) " findings" }
                table #findings {
                    thead { tr { th { "Class" } th { "Path" } th { "Detail" } } }
                    tbody {
                        @for f in files {
                            @let name = class_name(f.class);
                            tr class=(format!("row-{name}")) {
                                td.class { (name) }
                                td.path {
                                    (Shown(&f.path))
                                    @if let Some(from) = &f.from { br; "from " (Shown(from)) }
                                    @if let Some(file) = &f.file { br; "file given: " (Shown(file)) }
                                }
                                td { (Shown(&f.detail)) }
                            }
                        }
                    }
                }
                p.screen-only { "Printed copies list every finding, whatever the filters on screen." }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custody_timeline::TimelineEvent;
    use crate::report::{FileFinding, REPORT_VERSION};

    const HOSTILE: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>";

    fn seal(signer: &str) -> SealSummary {
        SealSummary {
            signer: signer.into(),
            role: "sequencing core".into(),
            meaning: "authorship".into(),
            key_id: "ab".repeat(32),
            public_key: "cd".repeat(32),
            key_storage: None,
            time: "2026-01-02T03:04:05Z".into(),
            tool: "seqprov 0.1.0".into(),
            subject: "260102_M00001_0001".into(),
            entries: 3,
            files: 3,
            bytes: 300,
            digests: vec!["blake3".into()],
            root: "0123456789abcdef".repeat(4),
            custody_events: 1,
            run: None,
            mode: None,
            derived_from: None,
            missing: None,
            unexpected: None,
        }
    }

    fn event(signer: &str) -> EventRecord {
        EventRecord {
            position: 1,
            payload: None,
            kind: "transfer".into(),
            time: Some("2026-01-03T03:04:05Z".into()),
            signer: Some(signer.into()),
            role: Some("courier".into()),
            meaning: Some("responsibility".into()),
            key_id: "ef".repeat(32),
            key_storage: None,
            host: Some(HOSTILE.into()),
            to: Some("lab".into()),
            note: None,
            verification: None,
            derived: None,
            signature: SignatureStatus::Valid,
            linked: true,
            problems: Vec::new(),
        }
    }

    fn report(verdict: Verdict, files: Vec<FileFinding>, signer: &str) -> Report {
        let mut summary = Summary {
            ok: 2,
            ..Summary::default()
        };
        for f in &files {
            summary.count(f.class);
        }
        Report {
            timestamps: Vec::new(),
            log_online: Vec::new(),
            log_unchecked: Vec::new(),
            log_receipts: Vec::new(),
            report_version: REPORT_VERSION,
            tool: "seqprov 0.1.0".into(),
            verdict,
            exit_code: match verdict {
                Verdict::Verified => 0,
                Verdict::IntegrityFailure => 1,
                _ => 3,
            },
            seal: Some(seal(signer)),
            signature: SignatureStatus::Valid,
            trusted: true,
            root: RootStatus::Match,
            errors: Vec::new(),
            policy: Vec::new(),
            warnings: Vec::new(),
            custody: vec![event(signer)],
            lineage: None,
            summary,
            files,
        }
    }

    fn finding(path: &str, class: FileClass) -> FileFinding {
        FileFinding {
            path: path.into(),
            class,
            from: None,
            file: None,
            detail: format!("detail of {path}"),
        }
    }

    fn context() -> PageContext {
        PageContext {
            generated: "2026-01-04T00:00:00Z".into(),
            inputs: vec![("directory".into(), format!("/runs/{HOSTILE}"))],
        }
    }

    #[test]
    fn a_verified_report_has_a_green_verified_banner_and_no_findings() {
        let page = verification_page(&report(Verdict::Verified, vec![], "Core"), &context());
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("class=\"banner good\""), "{page}");
        assert!(page.contains(">VERIFIED<"));
        assert!(!page.contains("INTEGRITY FAILURE"));
        assert!(page.contains("id=\"no-findings\""));
        assert!(is_report_page(page.as_bytes()));
    }

    #[test]
    fn log_receipts_are_listed_with_their_status_and_hostile_origins_escaped() {
        use crate::log_receipt_checks::{ReceiptReport, ReceiptStatus};
        let mut with = report(Verdict::Verified, vec![], "Core");
        with.log_receipts = vec![
            ReceiptReport {
                message: "seal".into(),
                kind: Some("seal".into()),
                log: "lab.example.org/seqprov".into(),
                index: Some(0),
                tree_size: Some(2),
                witnesses: vec!["witness.example.org".into()],
                status: ReceiptStatus::Counted,
                detail: None,
            },
            ReceiptReport {
                message: "custody event 1".into(),
                kind: Some("custody".into()),
                log: "<script>alert(1)</script>".into(),
                index: None,
                tree_size: None,
                witnesses: Vec::new(),
                status: ReceiptStatus::UntrustedLog,
                detail: Some("from a log the policy does not list: ignored".into()),
            },
        ];
        let page = verification_page(&with, &context());
        assert!(page.contains("id=\"log-receipts-table\""));
        assert!(page.contains("0 of 2") && page.contains("witness.example.org"));
        assert!(page.contains(">counted<") && page.contains("untrusted log (ignored)"));
        assert!(!page.contains("<script>alert(1)"), "the origin is escaped");
        let plain = verification_page(&report(Verdict::Verified, vec![], "Core"), &context());
        assert!(!plain.contains("log-receipts-table"));
    }

    #[test]
    fn each_verdict_has_its_words_and_colour() {
        for (verdict, headline, tone) in [
            (Verdict::Verified, "VERIFIED", "good"),
            (Verdict::RangeVerified, "RANGE VERIFIED", "caution"),
            (Verdict::IntegrityFailure, "INTEGRITY FAILURE", "bad"),
            (Verdict::Untrusted, "NOT TRUSTED", "caution"),
            (
                Verdict::PolicyNotSatisfied,
                "POLICY NOT SATISFIED",
                "caution",
            ),
            (Verdict::Error, "ERROR", "neutral"),
        ] {
            let page = verification_page(&report(verdict, vec![], "Core"), &context());
            assert!(
                page.contains(&format!(
                    "class=\"banner {tone}\" id=\"verdict\" role=\"status\"><p class=\"headline\">{headline}</p>"
                )),
                "{verdict:?}: {page}"
            );
        }
    }

    #[test]
    fn a_failed_report_has_a_red_banner_a_row_per_finding_and_a_filter_per_class() {
        let files = vec![
            finding("a.fastq.gz", FileClass::Modified),
            finding("b.fastq.gz", FileClass::Missing),
            finding("c.txt", FileClass::Extra),
        ];
        let page = verification_page(
            &report(Verdict::IntegrityFailure, files, "Core"),
            &context(),
        );
        assert!(page.contains("class=\"banner bad\""));
        assert!(page.contains(">INTEGRITY FAILURE<"));
        assert!(page.contains("1 modified, 1 missing, 1 extra; 2 entries ok"));
        for class in ["modified", "missing", "extra"] {
            assert_eq!(
                page.matches(&format!("<tr class=\"row-{class}\">")).count(),
                1
            );
            assert!(page.contains(&format!("id=\"show-{class}\" checked")));
        }
        assert!(
            !page.contains("id=\"show-moved\""),
            "no filter for an absent class"
        );
    }

    #[test]
    fn hostile_strings_are_escaped_everywhere() {
        let files = vec![finding(HOSTILE, FileClass::Modified)];
        let page = verification_page(
            &report(Verdict::IntegrityFailure, files, HOSTILE),
            &context(),
        );
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(
            !page.contains("\"'>"),
            "an attribute could be closed: {page}"
        );
        assert!(page.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;'&gt;&lt;img src=x onerror=alert(2)&gt;"
        ));
        let custody = custody_page(&timeline(HOSTILE), &context());
        assert!(!custody.contains("<script>alert") && !custody.contains("<img"));
        assert!(custody.contains("&lt;script&gt;alert(1)"));
        // The only script element is the page's own.
        assert_eq!(page.matches("<script").count(), 1);
    }

    #[test]
    fn control_and_bidirectional_characters_are_shown_as_escapes() {
        let files = vec![finding("evil\u{202e}txt.exe\n\u{1b}[2J", FileClass::Extra)];
        let page = verification_page(
            &report(Verdict::IntegrityFailure, files, "Core"),
            &context(),
        );
        assert!(page.contains("evil\\u{202e}txt.exe\\n\\x1b[2J"), "{page}");
        assert!(!page.contains('\u{202e}') && !page.contains('\u{1b}'));
    }

    #[test]
    fn the_page_loads_nothing_and_admits_only_its_own_style_and_script() {
        let mut report = report(Verdict::Verified, vec![], "Core");
        report.custody[0].host = None;
        let page = verification_page(&report, &PageContext::default());
        // The only URL is the SVG namespace name, which is never fetched.
        let urls: Vec<&str> = page
            .match_indices("http")
            .map(|(i, _)| &page[i..(i + 40).min(page.len())])
            .collect();
        assert!(
            urls.iter()
                .all(|u| u.starts_with("http-equiv")
                    || u.starts_with("http://www.w3.org/2000/svg\"")),
            "{urls:?}"
        );
        for forbidden in [
            "src=", "href=", "@import", "url(", "<link", "<img", "<iframe",
        ] {
            assert!(!page.contains(forbidden), "{forbidden} in the page");
        }
        assert!(page.contains("default-src 'none'"));
        assert!(!page.contains("unsafe-inline"));
        let style = page
            .split_once("<style>")
            .and_then(|(_, rest)| rest.split_once("</style>"))
            .map(|(style, _)| style)
            .expect("a style element");
        assert!(page.contains(&format!("style-src {}", csp_hash(style))));
        assert!(page.contains(&format!("script-src {}", csp_hash(SCRIPT))));
    }

    #[test]
    fn the_print_stylesheet_puts_the_root_and_page_numbers_on_every_page() {
        let page = verification_page(&report(Verdict::Verified, vec![], "Core"), &context());
        let root = "0123456789abcdef".repeat(4);
        assert!(page.contains(&format!("@bottom-left {{ content: \"bundle root {root}\"")));
        assert!(page.contains("counter(page)") && page.contains("counter(pages)"));
        // A root that is not hex never reaches the stylesheet.
        assert_eq!(
            page_rule(Some("\"; } body { display: none")),
            page_rule(None)
        );
    }

    fn timeline(signer: &str) -> CustodyTimeline {
        CustodyTimeline {
            timestamps: Vec::new(),
            custody_version: 1,
            seal: Some(seal(signer)),
            signature: SignatureStatus::Valid,
            root: RootStatus::Match,
            trusted: Some(true),
            events: vec![TimelineEvent {
                record: event(signer),
                gap_seconds: Some(86_400),
            }],
            errors: Vec::new(),
            policy: Vec::new(),
            warnings: Vec::new(),
            exit_code: 0,
        }
    }

    #[test]
    fn a_custody_page_draws_each_claimed_time_and_labels_the_attested_lane() {
        let page = custody_page(&timeline("Courier"), &context());
        assert!(page.contains(">CUSTODY CHAIN INTACT<"));
        assert!(page.contains("<svg class=\"timeline\" id=\"timeline-svg\""));
        assert_eq!(page.matches("<circle").count(), 2, "the seal and one event");
        assert!(page.contains("id=\"attested-lane\""));
        assert!(page.contains("1d"), "the gap in words");
        let mut broken = timeline("Courier");
        broken.exit_code = 1;
        broken.errors = vec!["custody event 1: bad signature".into()];
        broken.events[0].record.problems = vec!["bad signature".into()];
        broken.events[0].record.signature = SignatureStatus::Invalid;
        let page = custody_page(&broken, &context());
        assert!(page.contains("class=\"banner bad\"") && page.contains(">INTEGRITY FAILURE<"));
    }

    #[test]
    fn a_custody_page_shows_claimed_and_attested_time_side_by_side_with_the_tsa_escaped() {
        let mut stamped = timeline("Courier");
        stamped.timestamps = vec![
            MessageTime {
                message: "seal".into(),
                claimed: Some("2026-01-01T00:00:00Z".into()),
                attested: Some("2026-01-01T00:00:02Z".into()),
                tsa: Some("CN=Evil <script>alert(1)</script>".into()),
                tokens: 1,
                unattested: Vec::new(),
            },
            MessageTime {
                message: "custody event 1".into(),
                claimed: Some("2026-01-02T00:00:00Z".into()),
                attested: None,
                tsa: None,
                tokens: 1,
                unattested: vec!["the TSA's root is not trusted".into()],
            },
        ];
        let page = custody_page(&stamped, &context());
        assert!(page.contains("id=\"trusted-time-table\""));
        assert!(page.contains("2026-01-01T00:00:02Z"), "the attested time");
        assert!(page.contains("1 of 2 attested by a trusted time-stamp authority"));
        assert!(page.contains("not attested") && page.contains("root is not trusted"));
        assert!(
            !page.contains("<script>alert(1)"),
            "the TSA's name is escaped"
        );
        assert!(page.contains("&lt;script&gt;alert(1)"));
        // Without tokens there is no table, and the lane says every time is claimed.
        let plain = custody_page(&timeline("Courier"), &context());
        assert!(!plain.contains("trusted-time-table"));
        assert!(plain.contains("attested times: none in this report"));
    }

    #[test]
    fn a_page_of_the_most_events_a_bundle_holds_is_made_in_linear_time() {
        let mut timeline = timeline("Courier");
        let template = timeline.events[0].clone();
        timeline.events = (1..=100_000u64)
            .map(|position| {
                let mut event = template.clone();
                event.record.position = position;
                event
            })
            .collect();
        timeline.policy = (1..=100_000u64)
            .map(|n| RuleFailure::new("untrusted_signer", &format!("custody event {n}"), "no"))
            .collect();
        let started = std::time::Instant::now();
        let page = custody_page(&timeline, &context());
        assert_eq!(page.matches("<circle").count(), 100_001);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn an_error_report_says_why_and_shows_no_seal() {
        let report = Report::from_error(&Error::Refused("no such bundle".into()));
        let page = verification_page(&report, &context());
        assert!(page.contains("class=\"banner neutral\"") && page.contains(">ERROR<"));
        assert!(page.contains("no such bundle"));
        assert!(page.contains("bundle root") || page.contains("no seal read"));
    }

    #[test]
    fn write_page_replaces_a_page_but_never_another_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.html");
        let page = verification_page(&report(Verdict::Verified, vec![], "Core"), &context());
        write_page(&path, &page).unwrap();
        write_page(&path, &page).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), page);
        let bundle = dir.path().join("run.seqprov");
        std::fs::write(&bundle, b"\xd2\x84 not a page").unwrap();
        let refused = write_page(&bundle, &page).unwrap_err();
        assert!(matches!(refused, Error::Refused(_)), "{refused}");
        assert_eq!(std::fs::read(&bundle).unwrap(), b"\xd2\x84 not a page");
        let refused = write_page(dir.path(), &page).unwrap_err();
        assert!(matches!(refused, Error::Refused(_)), "{refused}");
    }
}
