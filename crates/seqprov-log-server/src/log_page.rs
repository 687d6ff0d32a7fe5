//! The log's page for people (spec/log.md §9): `GET /` lists the runs in the log,
//! `GET /?q=TEXT` searches, `GET /run?id=RUN` is one run's timeline (its seals, custody
//! events and timestamps in log order, with the witnesses of the checkpoint that includes
//! them).
//!
//! The page is rendered from [`LogIndex`], an in-memory index of the decoded entries that
//! the sequencer updates after every published batch. It loads nothing (no external
//! resource, no script); its only style is inline and admitted by hash in the
//! Content-Security-Policy the service sends ([`CONTENT_SECURITY_POLICY`]). Every string
//! from an entry or a request is HTML-escaped by maud and its control characters are
//! shown as visible escapes.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use base64ct::{Base64, Encoding as _};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use seqprov::report_page::Shown;
use seqprov_format::log_entry::LogEntry;
use sha2::{Digest as _, Sha256};

/// The most rows one page shows (runs on `/`, entries of a search).
pub const MAX_ROWS: usize = 500;

/// The longest search text looked at, in bytes.
pub const MAX_QUERY_LEN: usize = 256;

/// One decoded log entry as the page shows it (spec/log.md §2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageEntry {
    /// Its index in the log.
    pub index: u64,
    /// `seal`, `custody` or `timestamp`.
    pub kind: String,
    /// 0: the seal; i >= 1: custody event i.
    pub covers: u64,
    /// SHA-256 of the logged message.
    pub message: [u8; 32],
    /// The signer's seqprov key id.
    pub signer: [u8; 32],
    /// The seal digest of the bundle.
    pub seal: [u8; 32],
    /// The run id, when the seal has one.
    pub run: Option<String>,
    /// The flow cell, when the seal has one.
    pub flowcell: Option<String>,
}

impl PageEntry {
    /// Decodes an entry's bytes; `None` if they are not a log entry (it is then counted
    /// as undecodable and not shown).
    pub fn decode(index: u64, bytes: &[u8]) -> Option<PageEntry> {
        let entry = LogEntry::decode(bytes).ok()?;
        Some(PageEntry {
            index,
            kind: entry.kind.name().to_owned(),
            covers: entry.covers,
            message: entry.message,
            signer: entry.signer,
            seal: entry.seal,
            run: entry.run,
            flowcell: entry.flowcell,
        })
    }

    /// Whether the entry matches a search: run id or flow cell containing `query`, or
    /// seal digest, message digest or key id starting with it (hex, any case).
    fn matches(&self, query: &str) -> bool {
        let text = |field: &Option<String>| field.as_deref().is_some_and(|v| v.contains(query));
        if text(&self.run) || text(&self.flowcell) {
            return true;
        }
        let hex_query = query.to_ascii_lowercase();
        if hex_query.len() < 4 || !hex_query.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
        [&self.seal, &self.message, &self.signer]
            .iter()
            .any(|digest| hex::encode(digest).starts_with(&hex_query))
    }
}

/// The checkpoint the page reports entries against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckpointView {
    /// The published tree size.
    pub size: u64,
    /// The witnesses whose cosignatures verified, with their cosignature times (POSIX).
    pub witnesses: Vec<(String, u64)>,
}

/// Every entry of the log, decoded, for the page.
#[derive(Clone, Debug, Default)]
pub struct LogIndex {
    /// The log's origin.
    pub origin: String,
    /// The log's vkey.
    pub vkey: String,
    /// Entries in index order (undecodable ones left out).
    pub entries: Vec<PageEntry>,
    /// How many entries could not be decoded.
    pub undecodable: u64,
    /// The published checkpoint.
    pub checkpoint: CheckpointView,
}

impl LogIndex {
    /// An empty index of the log `origin`.
    pub fn new(origin: String, vkey: String) -> LogIndex {
        LogIndex {
            origin,
            vkey,
            ..LogIndex::default()
        }
    }

    /// Adds entry `index` (its raw bytes).
    pub fn add(&mut self, index: u64, bytes: &[u8]) {
        match PageEntry::decode(index, bytes) {
            Some(entry) => self.entries.push(entry),
            None => self.undecodable += 1,
        }
    }

    /// The runs in the log: run id → (entries, distinct seals), most recent first.
    fn runs(&self) -> Vec<(String, RunSummary)> {
        let mut runs: BTreeMap<&str, RunSummary> = BTreeMap::new();
        for entry in &self.entries {
            let Some(run) = entry.run.as_deref() else {
                continue;
            };
            let summary = runs.entry(run).or_default();
            summary.entries += 1;
            summary.last_index = entry.index;
            if entry.kind == "seal" && !summary.seals.contains(&entry.seal) {
                summary.seals.push(entry.seal);
            }
            if let Some(flowcell) = &entry.flowcell
                && !summary.flowcells.contains(flowcell)
            {
                summary.flowcells.push(flowcell.clone());
            }
        }
        let mut runs: Vec<(String, RunSummary)> =
            runs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        runs.sort_by_key(|run| std::cmp::Reverse(run.1.last_index));
        runs
    }
}

#[derive(Clone, Debug, Default)]
struct RunSummary {
    entries: u64,
    last_index: u64,
    seals: Vec<[u8; 32]>,
    flowcells: Vec<String>,
}

/// The stylesheet, inline and admitted by its hash.
const STYLE: &str = "\
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { border-bottom: 1px solid #ddd; padding: .3em .5em; text-align: left; vertical-align: top; }
code, .digest { font-family: ui-monospace, monospace; font-size: .9em; word-break: break-all; }
.note { color: #555; } .warn { background: #fdf1d6; padding: .5em; border-left: 4px solid #c90; }
.kind-seal { font-weight: bold; } form { margin: 1em 0; }
";

/// The Content-Security-Policy sent with every page: nothing but the inline stylesheet.
pub static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = Base64::encode_string(&Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; script-src 'none'; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
});

fn layout(index: &LogIndex, title: &str, query: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (Shown(title)) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { a href="/" { "Transparency log " } code { (Shown(&index.origin)) } }
                p.note {
                    "Verifier key: " code id="vkey" { (Shown(&index.vkey)) } br;
                    "Checkpoint: " span id="tree-size" { (index.checkpoint.size) } " entries, "
                    (witness_text(&index.checkpoint)) "."
                }
                form method="get" action="/" {
                    label for="q" { "Search run id, flow cell, seal or message digest, key id: " }
                    input id="q" type="search" name="q" value=(query) maxlength="256";
                    " " button type="submit" { "Search" }
                }
                (body)
            }
        }
    }
    .into_string()
}

fn witness_text(checkpoint: &CheckpointView) -> String {
    match checkpoint.witnesses.len() {
        0 => "no witness cosignatures".to_owned(),
        1 => "1 witness cosignature".to_owned(),
        n => format!("{n} witness cosignatures"),
    }
}

fn check_state(index: &LogIndex, entry: &PageEntry) -> String {
    format!(
        "included in checkpoint {}, {} witness{}",
        index.checkpoint.size,
        index.checkpoint.witnesses.len(),
        if index.checkpoint.witnesses.len() == 1 {
            ""
        } else {
            "es"
        }
    ) + if entry.index < index.checkpoint.size {
        ""
    } else {
        " (not yet published)"
    }
}

fn short(digest: &[u8; 32]) -> String {
    hex::encode(&digest[..8])
}

fn describe_kind(entry: &PageEntry) -> String {
    match entry.kind.as_str() {
        "seal" => "seal".to_owned(),
        "custody" => format!("custody event {}", entry.covers),
        "timestamp" if entry.covers == 0 => "timestamp of the seal".to_owned(),
        "timestamp" => format!("timestamp of custody event {}", entry.covers),
        other => other.to_owned(),
    }
}

/// `GET /`: the runs in the log, most recently logged first.
pub fn front_page(index: &LogIndex) -> String {
    let runs = index.runs();
    let body = html! {
        h2 { "Runs in the log" }
        @if runs.is_empty() {
            p.note id="no-runs" { "No run has been logged yet." }
        } @else {
            p.note { (runs.len()) " runs" @if runs.len() > MAX_ROWS { ", the " (MAX_ROWS) " most recent shown" } "." }
            table id="runs" {
                thead { tr { th { "Run" } th { "Flow cell" } th { "Seals" } th { "Entries" } th { "Last index" } } }
                tbody {
                    @for (run, summary) in runs.iter().take(MAX_ROWS) {
                        tr {
                            td { a href=(run_link(run)) { (Shown(run)) } }
                            td { @for (i, f) in summary.flowcells.iter().enumerate() { @if i > 0 { ", " } (Shown(f)) } }
                            td { (summary.seals.len()) }
                            td { (summary.entries) }
                            td { (summary.last_index) }
                        }
                    }
                }
            }
        }
        @if index.undecodable > 0 {
            p.warn { (index.undecodable) " entries are not seqprov log entries and are not shown." }
        }
    };
    layout(index, "Transparency log", "", body)
}

fn run_link(run: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("id", run)
        .finish();
    format!("/run?{query}")
}

/// `GET /?q=TEXT`: the entries that match the search.
pub fn search_page(index: &LogIndex, query: &str) -> String {
    let query = bounded(query);
    let hits: Vec<&PageEntry> = index
        .entries
        .iter()
        .filter(|e| !query.is_empty() && e.matches(query))
        .take(MAX_ROWS + 1)
        .collect();
    let body = html! {
        h2 { "Entries matching " q id="query" { (Shown(query)) } }
        @if hits.is_empty() {
            p.note id="no-hits" { "No entry matches." }
        } @else {
            @if hits.len() > MAX_ROWS { p.note { "The first " (MAX_ROWS) " matches are shown." } }
            (entry_table(index, &hits[..hits.len().min(MAX_ROWS)], true))
        }
    };
    layout(index, "Search the transparency log", query, body)
}

/// `GET /run?id=RUN`: a run's timeline, one section per seal of the run.
pub fn run_page(index: &LogIndex, run: &str) -> String {
    let run = bounded(run);
    let entries: Vec<&PageEntry> = index
        .entries
        .iter()
        .filter(|e| e.run.as_deref() == Some(run))
        .collect();
    let mut seals: Vec<[u8; 32]> = Vec::new();
    for entry in &entries {
        if !seals.contains(&entry.seal) {
            seals.push(entry.seal);
        }
    }
    let body = html! {
        h2 { "Run " span id="run-id" { (Shown(run)) } }
        @if entries.is_empty() {
            p.note id="no-entries" { "The log has no entry for this run." }
        }
        @if seals.len() > 1 {
            p.warn id="other-seals" { "This run has " (seals.len()) " different seals in the log: \
                a re-seal of the same run. Check which one you were given." }
        }
        @for seal in &seals {
            @let timeline = timeline_of(&entries, seal);
            section.timeline {
                h3 { "Seal " code.digest { (hex::encode(seal)) } }
                (entry_table(index, &timeline, false))
            }
        }
        h3 { "Witnesses of checkpoint " (index.checkpoint.size) }
        @if index.checkpoint.witnesses.is_empty() {
            p.note id="witnesses" { "No witness has cosigned this checkpoint." }
        } @else {
            ul id="witnesses" {
                @for (name, time) in &index.checkpoint.witnesses {
                    li { (Shown(name)) " at " (posix_time(*time)) }
                }
            }
        }
    };
    layout(index, &format!("Run {run}"), "", body)
}

/// The entries of one seal in timeline order: the seal, then each custody event, each
/// followed by its timestamps.
fn timeline_of<'a>(entries: &[&'a PageEntry], seal: &[u8; 32]) -> Vec<&'a PageEntry> {
    let mut timeline: Vec<&PageEntry> = entries
        .iter()
        .copied()
        .filter(|e| &e.seal == seal)
        .collect();
    timeline.sort_by_key(|e| (e.covers, u8::from(e.kind == "timestamp"), e.index));
    timeline
}

fn entry_table(index: &LogIndex, entries: &[&PageEntry], with_run: bool) -> Markup {
    html! {
        table.entries {
            thead { tr {
                th { "Index" } th { "What" } @if with_run { th { "Run" } }
                th { "Signer key id" } th { "Message digest" } @if with_run { th { "Seal digest" } }
                th { "Check state" }
            } }
            tbody {
                @for entry in entries {
                    tr class=(format!("entry kind-{}", entry.kind)) {
                        td { (entry.index) }
                        td { (describe_kind(entry)) }
                        @if with_run {
                            td { @if let Some(run) = &entry.run { a href=(run_link(run)) { (Shown(run)) } } @else { "—" } }
                        }
                        td { code.digest title=(hex::encode(entry.signer)) { (short(&entry.signer)) } }
                        td { code.digest title=(hex::encode(entry.message)) { (short(&entry.message)) } }
                        @if with_run { td { code.digest title=(hex::encode(entry.seal)) { (short(&entry.seal)) } } }
                        td { (check_state(index, entry)) }
                    }
                }
            }
        }
    }
}

fn posix_time(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map_or_else(
            || seconds.to_string(),
            seqprov_format::manifest::format_time,
        )
}

/// At most [`MAX_QUERY_LEN`] bytes, cut at a character boundary.
fn bounded(text: &str) -> &str {
    if text.len() <= MAX_QUERY_LEN {
        return text;
    }
    let mut end = MAX_QUERY_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, kind: &str, covers: u64, run: &str) -> PageEntry {
        PageEntry {
            index,
            kind: kind.into(),
            covers,
            message: [index as u8; 32],
            signer: [0xab; 32],
            seal: [0x5e; 32],
            run: Some(run.into()),
            flowcell: Some("HFLOW".into()),
        }
    }

    #[test]
    fn hostile_run_ids_are_text() {
        let hostile = "<img src=x onerror=alert(1)>";
        let mut index = LogIndex::new("lab.example/log".into(), "v".into());
        index.entries.push(entry(0, "seal", 0, hostile));
        for page in [
            front_page(&index),
            run_page(&index, hostile),
            search_page(&index, hostile),
        ] {
            assert!(!page.contains("<img"), "{page}");
            assert!(
                page.contains("&lt;img src=x onerror=alert(1)&gt;"),
                "{page}"
            );
        }
    }

    #[test]
    fn search_finds_runs_flowcells_and_hex_prefixes() {
        let mut index = LogIndex::new("o".into(), "v".into());
        index.entries.push(entry(0, "seal", 0, "RUN_A"));
        index.entries.push(entry(1, "custody", 1, "RUN_A"));
        index.checkpoint.size = 2;
        assert!(search_page(&index, "RUN_A").contains("custody event 1"));
        assert!(search_page(&index, "HFLOW").contains("included in checkpoint 2, 0 witnesses"));
        assert!(search_page(&index, "5E5E5E").contains("RUN_A"));
        assert!(search_page(&index, "5e5").contains("No entry matches"));
        assert!(search_page(&index, "nothing").contains("No entry matches"));
        let run = run_page(&index, "RUN_A");
        assert!(run.contains("custody event 1") && run.contains(&hex::encode([0x5e; 32])));
    }
}
