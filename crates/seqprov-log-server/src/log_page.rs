//! The log's page for people (spec/log.md §9): `GET /` lists the runs in the log,
//! `GET /?q=TEXT` searches, `GET /run?id=RUN` is one run's timeline (its seals, custody
//! events and timestamps in log order, with the witnesses of the checkpoint that includes
//! them).
//!
//! The page is rendered from [`LogIndex`], an in-memory index of the decoded entries that
//! the sequencer updates after every published batch. The index keeps each run's summary
//! and entry positions as entries are added, so no page groups the log by run; a page
//! copies what it shows out of the index ([`LogIndex::snapshot`], under the index's lock,
//! linear in what it shows, or in the runs for `/`, or in the entries for a search) and is
//! rendered from that copy after the lock is released. It loads nothing (no external
//! resource, no script); its only style is inline and admitted by hash in the
//! Content-Security-Policy the service sends ([`CONTENT_SECURITY_POLICY`]). Every string
//! from an entry or a request is HTML-escaped by maud and its control characters are
//! shown as visible escapes.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use base64ct::{Base64, Encoding as _};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use seqprov::report_page::Shown;
use seqprov_format::log_entry::LogEntry;
use sha2::{Digest as _, Sha256};

/// The most rows one page shows (runs on `/`, entries of a search).
pub const MAX_ROWS: usize = 500;

/// The most entries a run's page shows (the first, in log order).
pub const MAX_RUN_ENTRIES: usize = 2_000;

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
        if query.len() < 4 || !query.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
        [&self.seal, &self.message, &self.signer]
            .iter()
            .any(|digest| hex_prefix_of(query.as_bytes(), digest))
    }
}

/// Whether the hex digits `prefix` (either case, at most 64) begin the hex of `digest`;
/// compared nibble by nibble, nothing allocated (a search looks at every entry).
fn hex_prefix_of(prefix: &[u8], digest: &[u8; 32]) -> bool {
    if prefix.len() > 64 {
        return false;
    }
    prefix.iter().enumerate().all(|(i, &c)| {
        let byte = digest[i / 2];
        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
        char::from(c).to_digit(16) == Some(u32::from(nibble))
    })
}

/// The checkpoint the page reports entries against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckpointView {
    /// The published tree size.
    pub size: u64,
    /// The witnesses whose cosignatures verified, with their cosignature times (POSIX).
    pub witnesses: Vec<(String, u64)>,
}

/// Every entry of the log, decoded, for the page, with what the pages need per run kept
/// up to date as entries are added (so that no page groups the whole log by run).
#[derive(Clone, Debug, Default)]
pub struct LogIndex {
    /// The log's origin.
    pub origin: String,
    /// The log's vkey.
    pub vkey: String,
    /// Entries in index order (undecodable ones left out); added only through
    /// [`LogIndex::add`] or [`LogIndex::push`], which keep the per-run maps.
    entries: Vec<PageEntry>,
    /// How many entries could not be decoded.
    pub undecodable: u64,
    /// The published checkpoint.
    pub checkpoint: CheckpointView,
    /// Per run id: its summary and the positions of its entries in `entries`.
    runs: HashMap<String, RunEntries>,
}

/// What the index keeps of one run.
#[derive(Clone, Debug, Default)]
struct RunEntries {
    summary: RunSummary,
    seals: HashSet<[u8; 32]>,
    positions: Vec<usize>,
}

/// The pages' view of one run on the front page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Its entries in the log.
    pub entries: u64,
    /// The index of its last entry.
    pub last_index: u64,
    /// How many different seals it has.
    pub seals: usize,
    /// Its flow cells (at most [`MAX_FLOWCELLS_SHOWN`] kept), in order of appearance.
    pub flowcells: Vec<String>,
    /// Whether it has more flow cells than kept.
    pub more_flowcells: bool,
}

/// The most flow cells a run's summary keeps.
pub const MAX_FLOWCELLS_SHOWN: usize = 8;

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
            Some(entry) => self.push(entry),
            None => self.undecodable += 1,
        }
    }

    /// Adds a decoded entry (entries come in index order).
    pub fn push(&mut self, entry: PageEntry) {
        if let Some(run) = entry.run.as_deref() {
            let position = self.entries.len();
            let run = match self.runs.get_mut(run) {
                Some(run) => run,
                None => self.runs.entry(run.to_owned()).or_default(),
            };
            run.positions.push(position);
            let summary = &mut run.summary;
            summary.entries += 1;
            summary.last_index = entry.index;
            if entry.kind == "seal" && run.seals.insert(entry.seal) {
                summary.seals += 1;
            }
            if let Some(flowcell) = &entry.flowcell
                && !summary.flowcells.contains(flowcell)
            {
                if summary.flowcells.len() < MAX_FLOWCELLS_SHOWN {
                    summary.flowcells.push(flowcell.clone());
                } else {
                    summary.more_flowcells = true;
                }
            }
        }
        self.entries.push(entry);
    }

    /// The runs in the log, most recent first: at most `limit` of them (cloned), and how
    /// many there are. Linear in the number of runs.
    pub fn runs(&self, limit: usize) -> (Vec<(String, RunSummary)>, usize) {
        let mut recent: Vec<(u64, &str)> = self
            .runs
            .iter()
            .map(|(run, e)| (e.summary.last_index, run.as_str()))
            .collect();
        let count = recent.len();
        if recent.len() > limit && limit > 0 {
            recent.select_nth_unstable_by_key(limit - 1, |r| std::cmp::Reverse(r.0));
        }
        recent.truncate(limit);
        recent.sort_unstable_by_key(|r| std::cmp::Reverse(r.0));
        let runs = recent
            .into_iter()
            .filter_map(|(_, run)| {
                self.runs
                    .get(run)
                    .map(|e| (run.to_owned(), e.summary.clone()))
            })
            .collect();
        (runs, count)
    }

    /// The first `limit` entries of run `run`, in index order (cloned), and how many it
    /// has. Linear in what is copied.
    pub fn run_entries(&self, run: &str, limit: usize) -> (Vec<PageEntry>, usize) {
        self.runs.get(run).map_or_else(
            || (Vec::new(), 0),
            |e| {
                let entries = e
                    .positions
                    .iter()
                    .take(limit)
                    .filter_map(|&p| self.entries.get(p).cloned())
                    .collect();
                (entries, e.positions.len())
            },
        )
    }

    /// The first `limit` entries that match `query` (cloned).
    pub fn search(&self, query: &str, limit: usize) -> Vec<PageEntry> {
        if query.is_empty() {
            return Vec::new();
        }
        self.entries
            .iter()
            .filter(|e| e.matches(query))
            .take(limit)
            .cloned()
            .collect()
    }

    /// What one page shows, taken from the index quickly (the caller holds its lock only
    /// for this); [`PageSnapshot::render`] then makes the page without the index.
    pub fn snapshot(&self, page: &PageRequest) -> PageSnapshot {
        let content = match page {
            PageRequest::Front => {
                let (runs, count) = self.runs(MAX_ROWS);
                PageContent::Front { runs, count }
            }
            PageRequest::Search(query) => {
                let query = bounded(query).to_owned();
                let hits = self.search(&query, MAX_ROWS + 1);
                PageContent::Search { query, hits }
            }
            PageRequest::Run(run) => {
                let run = bounded(run).to_owned();
                let (entries, count) = self.run_entries(&run, MAX_RUN_ENTRIES);
                PageContent::Run {
                    run,
                    entries,
                    count,
                }
            }
        };
        PageSnapshot {
            origin: self.origin.clone(),
            vkey: self.vkey.clone(),
            checkpoint: self.checkpoint.clone(),
            undecodable: self.undecodable,
            content,
        }
    }
}

/// Which page is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageRequest {
    /// `GET /`.
    Front,
    /// `GET /?q=TEXT`.
    Search(String),
    /// `GET /run?id=RUN`.
    Run(String),
}

/// Everything one page shows, copied out of the [`LogIndex`].
#[derive(Clone, Debug)]
pub struct PageSnapshot {
    origin: String,
    vkey: String,
    checkpoint: CheckpointView,
    undecodable: u64,
    content: PageContent,
}

#[derive(Clone, Debug)]
enum PageContent {
    Front {
        runs: Vec<(String, RunSummary)>,
        count: usize,
    },
    Search {
        query: String,
        hits: Vec<PageEntry>,
    },
    Run {
        run: String,
        entries: Vec<PageEntry>,
        count: usize,
    },
}

impl PageSnapshot {
    /// The page's HTML.
    pub fn render(&self) -> String {
        match &self.content {
            PageContent::Front { runs, count } => render_front(self, runs, *count),
            PageContent::Search { query, hits } => render_search(self, query, hits),
            PageContent::Run {
                run,
                entries,
                count,
            } => render_run(self, run, entries, *count),
        }
    }
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

fn layout(index: &PageSnapshot, title: &str, query: &str, body: Markup) -> String {
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

fn check_state(index: &PageSnapshot, entry: &PageEntry) -> String {
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
    index.snapshot(&PageRequest::Front).render()
}

fn render_front(index: &PageSnapshot, runs: &[(String, RunSummary)], count: usize) -> String {
    let body = html! {
        h2 { "Runs in the log" }
        @if runs.is_empty() {
            p.note id="no-runs" { "No run has been logged yet." }
        } @else {
            p.note { (count) " runs" @if count > MAX_ROWS { ", the " (MAX_ROWS) " most recent shown" } "." }
            table id="runs" {
                thead { tr { th { "Run" } th { "Flow cell" } th { "Seals" } th { "Entries" } th { "Last index" } } }
                tbody {
                    @for (run, summary) in runs.iter().take(MAX_ROWS) {
                        tr {
                            td { a href=(run_link(run)) { (Shown(run)) } }
                            td {
                                @for (i, f) in summary.flowcells.iter().enumerate() { @if i > 0 { ", " } (Shown(f)) }
                                @if summary.more_flowcells { ", …" }
                            }
                            td { (summary.seals) }
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
    index
        .snapshot(&PageRequest::Search(query.to_owned()))
        .render()
}

fn render_search(index: &PageSnapshot, query: &str, hits: &[PageEntry]) -> String {
    let hits: Vec<&PageEntry> = hits.iter().collect();
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
    index.snapshot(&PageRequest::Run(run.to_owned())).render()
}

fn render_run(index: &PageSnapshot, run: &str, entries: &[PageEntry], count: usize) -> String {
    let timelines = timelines(entries);
    let body = html! {
        h2 { "Run " span id="run-id" { (Shown(run)) } }
        @if entries.is_empty() {
            p.note id="no-entries" { "The log has no entry for this run." }
        }
        @if count > entries.len() {
            p.warn id="run-cut" { "This run has " (count) " entries in the log; the first "
                (entries.len()) " are shown." }
        }
        @if timelines.len() > 1 {
            p.warn id="other-seals" { "This run has " (timelines.len()) " different seals in the log: \
                a re-seal of the same run. Check which one you were given." }
        }
        @for (seal, timeline) in &timelines {
            section.timeline {
                h3 { "Seal " code.digest { (hex::encode(seal)) } }
                (entry_table(index, timeline, false))
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

/// A run's entries grouped by seal, the seals in order of first appearance, in one pass
/// (a map from seal to its group), each group then in timeline order.
fn timelines(entries: &[PageEntry]) -> Vec<([u8; 32], Vec<&PageEntry>)> {
    let mut groups: Vec<([u8; 32], Vec<&PageEntry>)> = Vec::new();
    let mut group_of: HashMap<[u8; 32], usize> = HashMap::new();
    for entry in entries {
        let group = *group_of.entry(entry.seal).or_insert_with(|| {
            groups.push((entry.seal, Vec::new()));
            groups.len() - 1
        });
        groups[group].1.push(entry);
    }
    for (_, timeline) in &mut groups {
        timeline.sort_by_key(|e| timeline_key(e));
    }
    groups
}

/// The order of a seal's timeline: the seal, then each custody event, each followed by
/// its timestamps.
fn timeline_key(entry: &PageEntry) -> (u64, u8, u64) {
    (
        entry.covers,
        u8::from(entry.kind == "timestamp"),
        entry.index,
    )
}

fn entry_table(index: &PageSnapshot, entries: &[&PageEntry], with_run: bool) -> Markup {
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
        index.push(entry(0, "seal", 0, hostile));
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
        index.push(entry(0, "seal", 0, "RUN_A"));
        index.push(entry(1, "custody", 1, "RUN_A"));
        index.checkpoint.size = 2;
        assert!(search_page(&index, "RUN_A").contains("custody event 1"));
        assert!(search_page(&index, "HFLOW").contains("included in checkpoint 2, 0 witnesses"));
        assert!(search_page(&index, "5E5E5E").contains("RUN_A"));
        assert!(search_page(&index, "5e5").contains("No entry matches"));
        assert!(search_page(&index, "nothing").contains("No entry matches"));
        let run = run_page(&index, "RUN_A");
        assert!(run.contains("custody event 1") && run.contains(&hex::encode([0x5e; 32])));
    }

    fn entry_of(
        index: u64,
        kind: &str,
        covers: u64,
        run: &str,
        seal: u8,
        flowcell: &str,
    ) -> PageEntry {
        PageEntry {
            seal: [seal; 32],
            flowcell: Some(flowcell.into()),
            ..entry(index, kind, covers, run)
        }
    }

    #[test]
    fn runs_and_timelines_are_grouped_per_run_and_per_seal() {
        let mut index = LogIndex::new("o".into(), "v".into());
        let entries = [
            entry_of(0, "seal", 0, "RUN_A", 1, "FA"),
            entry_of(1, "seal", 0, "RUN_B", 2, "FB"),
            entry_of(2, "timestamp", 1, "RUN_A", 1, "FA"),
            entry_of(3, "custody", 1, "RUN_A", 1, "FA"),
            entry_of(4, "seal", 0, "RUN_C", 3, "FC"),
            entry_of(5, "seal", 0, "RUN_A", 4, "FA2"),
            entry_of(6, "timestamp", 0, "RUN_A", 1, "FA"),
            entry_of(7, "custody", 1, "RUN_B", 2, "FB"),
        ];
        for e in entries.iter().cloned() {
            index.push(e);
        }
        let mut no_run = entry(8, "seal", 0, "x");
        no_run.run = None;
        index.push(no_run);

        let (runs, count) = index.runs(2);
        assert_eq!(count, 3);
        let names: Vec<&str> = runs.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(names, ["RUN_B", "RUN_A"]);
        assert_eq!(
            runs[1].1,
            RunSummary {
                entries: 5,
                last_index: 6,
                seals: 2,
                flowcells: vec!["FA".into(), "FA2".into()],
                more_flowcells: false,
            }
        );
        let (all, _) = index.runs(MAX_ROWS);
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].0, "RUN_C");

        let (run_a, count) = index.run_entries("RUN_A", 100);
        assert_eq!(count, 5);
        let order: Vec<u64> = run_a.iter().map(|e| e.index).collect();
        assert_eq!(order, [0, 2, 3, 5, 6]);
        let grouped = timelines(&run_a);
        let shape: Vec<([u8; 32], Vec<u64>)> = grouped
            .iter()
            .map(|(seal, t)| (*seal, t.iter().map(|e| e.index).collect()))
            .collect();
        // Seal 1: the seal, its timestamp, custody event 1, that event's timestamp; then
        // the re-seal.
        assert_eq!(shape, [([1; 32], vec![0, 6, 3, 2]), ([4; 32], vec![5])]);
        assert_eq!(index.run_entries("RUN_NONE", 100), (Vec::new(), 0));
        assert_eq!(index.run_entries("RUN_A", 2).0.len(), 2);
        let page = run_page(&index, "RUN_A");
        assert!(page.contains("2 different seals"), "{page}");
    }

    #[test]
    fn flow_cells_of_a_run_are_capped() {
        let mut index = LogIndex::new("o".into(), "v".into());
        for i in 0..20u64 {
            index.push(entry_of(i, "seal", 0, "RUN", i as u8, &format!("F{i}")));
        }
        let (runs, _) = index.runs(10);
        assert_eq!(runs[0].1.flowcells.len(), MAX_FLOWCELLS_SHOWN);
        assert!(runs[0].1.more_flowcells);
        assert_eq!(runs[0].1.seals, 20);
        assert!(front_page(&index).contains("F7, …"));
    }

    /// One run with 20,000 different seals (what a submitter reusing a run id can make):
    /// grouping was quadratic in it. Prints the times (`--nocapture`).
    #[test]
    fn a_run_of_twenty_thousand_seals_is_grouped_in_linear_time() {
        let mut index = LogIndex::new("o".into(), "v".into());
        let start = std::time::Instant::now();
        for i in 0..20_000u64 {
            let mut e = entry(i, "seal", 0, "RUN");
            e.seal[..8].copy_from_slice(&i.to_be_bytes());
            index.push(e);
        }
        let built = start.elapsed();
        let start = std::time::Instant::now();
        let snapshot = index.snapshot(&PageRequest::Run("RUN".into()));
        let copied = start.elapsed();
        let start = std::time::Instant::now();
        let page = snapshot.render();
        let rendered = start.elapsed();
        let start = std::time::Instant::now();
        let front = front_page(&index);
        let front_time = start.elapsed();
        eprintln!(
            "20,000 seals in one run: index {built:?}, run snapshot {copied:?}, \
             run page {rendered:?} ({} bytes), front page {front_time:?}",
            page.len()
        );
        assert!(page.contains("2000 different seals"), "{page}");
        assert!(page.contains("This run has 20000 entries in the log; the first 2000 are shown"));
        assert!(front.contains("<td>20000</td>"), "{front}");
        assert!(copied + rendered + front_time < std::time::Duration::from_secs(20));
    }
}
