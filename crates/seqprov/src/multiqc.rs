//! MultiQC custom content from a verification [`Report`] (`verify --multiqc`,
//! `spec/report.md` §10): a table section with one row per verification (run, verdict,
//! signer, trust, entries per class, custody events, lineage) and a General Statistics
//! column that is 1 when the verdict is `verified` and 0 otherwise.
//!
//! MultiQC reads one section per custom-content file, so the two are two documents,
//! written by the caller to `NAME_mqc.json` and `NAME_general_stats_mqc.json`
//! ([`general_stats_path`]). Every row of every file carries the same section ids, so
//! MultiQC merges the files of many runs into one table and one column.
//!
//! MultiQC inserts the values into its HTML page as they are (MultiQC 1.35 does not
//! escape table cells), so every string that comes from the bundle or the command line
//! is HTML-escaped here, and the row name is reduced to a safe character set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::report::{Report, Verdict};

/// The id of the table section (and of the MultiQC module it appears under).
pub const TABLE_ID: &str = "seqprov";
/// The id of the General Statistics document.
pub const GENERAL_STATS_ID: &str = "seqprov_general_stats";
/// The General Statistics column: 1 verified, 0 anything else.
pub const VERIFIED_COLUMN: &str = "seqprov_verified";
/// How the `--multiqc` file's name must end, for MultiQC to find it.
pub const FILE_SUFFIX: &str = "_mqc.json";
/// How the General Statistics file's name ends: `NAME_mqc.json` gets
/// `NAME_general_stats_mqc.json` beside it.
pub const GENERAL_STATS_SUFFIX: &str = "_general_stats_mqc.json";
/// Version of this content's layout (the `seqprov_multiqc_version` member).
pub const MULTIQC_CONTENT_VERSION: u32 = 1;

/// The two custom-content documents of one verification.
#[derive(Debug, Clone, Serialize)]
pub struct MultiqcContent {
    /// The table section (`plot_type: table`).
    pub table: CustomContent<TableRow>,
    /// The General Statistics column (`plot_type: generalstats`).
    pub general_stats: CustomContent<GeneralStatsRow>,
}

/// One MultiQC custom-content file.
#[derive(Debug, Clone, Serialize)]
pub struct CustomContent<R> {
    /// Section id: the same in every file, so MultiQC merges the rows.
    pub id: &'static str,
    /// This layout's version, [`MULTIQC_CONTENT_VERSION`].
    pub seqprov_multiqc_version: u32,
    /// The section's heading.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<&'static str>,
    /// The section's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'static str>,
    /// `table` or `generalstats`.
    pub plot_type: &'static str,
    /// The table's configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pconfig: Option<TableConfig>,
    /// Column headers, by column id.
    pub headers: BTreeMap<&'static str, Header>,
    /// The rows, by row (sample) name: one per file.
    pub data: BTreeMap<String, R>,
}

/// A table's `pconfig`.
#[derive(Debug, Clone, Serialize)]
pub struct TableConfig {
    /// The table's id (MultiQC names its data file `multiqc_ID.txt` after it).
    pub id: &'static str,
    /// The table's title.
    pub title: &'static str,
    /// The column namespace.
    pub namespace: &'static str,
}

/// A column header.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    /// Column title.
    pub title: &'static str,
    /// What the column holds.
    pub description: &'static str,
    /// Column order (lower first).
    pub placement: u32,
    /// Number format, for numeric columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    /// Smallest value, for numeric columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    /// Largest value, for the 0/1 column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// Colour scale (`RdYlGn`), or `false` for none.
    pub scale: serde_json::Value,
    /// Colour rules for text columns (`pass`, `warn`, `fail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cond_formatting_rules: Option<serde_json::Value>,
    /// The column namespace, for General Statistics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<&'static str>,
}

/// One row of the table: the report's facts, strings HTML-escaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRow {
    /// The run id, instrument, flow cell and cycles of a run folder; otherwise the sealed
    /// directory's name; absent when the bundle could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The verdict, as in the JSON report (`verified`, `integrity_failure`, …).
    pub verdict: String,
    /// The exit code the verdict stands for.
    pub exit_code: u8,
    /// The seal's signer and the first 16 hex digits of its key id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// `yes` when the seal's key is trusted, else `no`.
    pub trusted: &'static str,
    /// Identical entries (the counts are absent when the bundle could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ok: Option<u64>,
    /// Modified entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<u64>,
    /// Missing entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<u64>,
    /// Extra paths.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<u64>,
    /// Moved entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved: Option<u64>,
    /// Entries whose kind changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_changed: Option<u64>,
    /// Recompressed FASTQ files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recompressed: Option<u64>,
    /// Custody events after the seal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custody_events: Option<u64>,
    /// The lineage status (`verified`, `not_given`, `failed`, `untrusted`), or `none`
    /// when the seal records no derived-from bundle.
    pub lineage: String,
}

/// One row of the General Statistics document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneralStatsRow {
    /// 1 when the verdict is `verified`, else 0.
    pub seqprov_verified: u8,
}

/// HTML-escape a string from the data (`&`, `<`, `>`, `"`, `'`, `/`).
fn escaped(text: &str) -> String {
    html_escape::encode_safe(text).into_owned()
}

/// The row name MultiQC shows (its "sample"): the sealed directory's name, or
/// `fallback` (the path verified) when the bundle could not be read, with every character
/// outside `A-Z a-z 0-9 . _ - +` replaced by `_` (MultiQC cuts names at `/` and shows
/// them unescaped), at most 200 characters, without `_`, `-` or `.` at either end;
/// `seqprov` if nothing is left.
pub fn row_name(report: &Report, fallback: &str) -> String {
    let source = report
        .seal
        .as_ref()
        .map_or(fallback, |s| s.subject.as_str());
    let name: String = source
        .chars()
        .take(200)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // MultiQC strips these from the ends of a sample name; stripped here, the row has the
    // name MultiQC shows.
    let name = name.trim_matches(['_', '-', '.']);
    if name.is_empty() {
        "seqprov".into()
    } else {
        name.into()
    }
}

/// The MultiQC content of one verification; `fallback` names the row when the bundle
/// could not be read (see [`row_name`]).
pub fn custom_content(report: &Report, fallback: &str) -> MultiqcContent {
    let name = row_name(report, fallback);
    let verdict = serde_json::to_value(report.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "error".into());
    let seal = report.seal.as_ref();
    let counts = seal.map(|_| &report.summary);
    let row = TableRow {
        run: seal.map(|s| escaped(s.run.as_deref().unwrap_or(&s.subject))),
        verdict,
        exit_code: report.exit_code,
        signer: seal.map(|s| {
            let short_id = s.key_id.get(..16).unwrap_or(&s.key_id);
            escaped(&format!("{} (key {short_id})", s.signer))
        }),
        trusted: if report.trusted { "yes" } else { "no" },
        ok: counts.map(|c| c.ok),
        modified: counts.map(|c| c.modified),
        missing: counts.map(|c| c.missing),
        extra: counts.map(|c| c.extra),
        moved: counts.map(|c| c.moved),
        type_changed: counts.map(|c| c.type_changed),
        recompressed: counts.map(|c| c.recompressed),
        custody_events: seal.map(|_| report.custody.len() as u64),
        lineage: report
            .lineage
            .as_ref()
            .map_or_else(|| "none".into(), |l| escaped(&l.status)),
    };
    let verified = u8::from(report.verdict == Verdict::Verified);
    MultiqcContent {
        table: CustomContent {
            id: TABLE_ID,
            seqprov_multiqc_version: MULTIQC_CONTENT_VERSION,
            section_name: Some("seqprov verification"),
            description: Some(
                "Provenance seals checked by <code>seqprov verify</code>: the verdict, who \
                 sealed and whether that key is trusted, the entries per class, the custody \
                 events and the lineage (spec/report.md).",
            ),
            plot_type: "table",
            pconfig: Some(TableConfig {
                id: "seqprov_verification",
                title: "seqprov: verification",
                namespace: "seqprov",
            }),
            headers: table_headers(),
            data: BTreeMap::from([(name.clone(), row)]),
        },
        general_stats: CustomContent {
            id: GENERAL_STATS_ID,
            seqprov_multiqc_version: MULTIQC_CONTENT_VERSION,
            section_name: None,
            description: None,
            plot_type: "generalstats",
            pconfig: None,
            headers: BTreeMap::from([(
                VERIFIED_COLUMN,
                Header {
                    title: "Verified",
                    description: "seqprov verify: 1 when the verdict is verified, else 0",
                    placement: 10,
                    format: Some("{:,.0f}"),
                    min: Some(0),
                    max: Some(1),
                    scale: "RdYlGn".into(),
                    cond_formatting_rules: None,
                    namespace: Some("seqprov"),
                },
            )]),
            data: BTreeMap::from([(
                name,
                GeneralStatsRow {
                    seqprov_verified: verified,
                },
            )]),
        },
    }
}

fn table_headers() -> BTreeMap<&'static str, Header> {
    let text = |title, description, placement| Header {
        title,
        description,
        placement,
        format: None,
        min: None,
        max: None,
        scale: false.into(),
        cond_formatting_rules: None,
        namespace: None,
    };
    let count = |title, description, placement| Header {
        format: Some("{:,.0f}"),
        min: Some(0),
        ..text(title, description, placement)
    };
    let mut verdict = text(
        "Verdict",
        "verified, range_verified, integrity_failure, untrusted, policy_not_satisfied or error",
        20,
    );
    verdict.cond_formatting_rules = Some(serde_json::json!({
        "pass": [{"s_eq": "verified"}],
        "warn": [{"s_eq": "range_verified"}],
        "fail": [
            {"s_eq": "integrity_failure"},
            {"s_eq": "untrusted"},
            {"s_eq": "policy_not_satisfied"},
            {"s_eq": "error"}
        ]
    }));
    let mut trusted = text("Trusted", "whether the seal's key is trusted", 50);
    trusted.cond_formatting_rules = Some(serde_json::json!({
        "pass": [{"s_eq": "yes"}],
        "fail": [{"s_eq": "no"}]
    }));
    BTreeMap::from([
        (
            "run",
            text(
                "Run",
                "run id, instrument, flow cell and cycles; or the sealed directory",
                10,
            ),
        ),
        ("verdict", verdict),
        (
            "exit_code",
            count("Exit", "the exit code of seqprov verify", 30),
        ),
        ("signer", text("Signer", "who sealed, and the key id", 40)),
        ("trusted", trusted),
        ("ok", count("OK", "entries identical to the seal", 60)),
        (
            "modified",
            count("Modified", "entries whose content changed", 70),
        ),
        ("missing", count("Missing", "entries absent", 80)),
        ("extra", count("Extra", "paths present but not sealed", 90)),
        (
            "moved",
            count("Moved", "entries found at another path", 100),
        ),
        (
            "type_changed",
            count("Type changed", "entries now of another kind", 110),
        ),
        (
            "recompressed",
            count(
                "Recompressed",
                "FASTQ files recompressed, same records",
                120,
            ),
        ),
        (
            "custody_events",
            count(
                "Custody events",
                "signed custody events after the seal",
                130,
            ),
        ),
        (
            "lineage",
            text(
                "Lineage",
                "the derived-from link: verified, not_given, failed, untrusted, or none",
                140,
            ),
        ),
    ])
}

/// Where the General Statistics document goes for a `--multiqc` file: `NAME_mqc.json`
/// gives `NAME_general_stats_mqc.json` beside it. A name that does not end in
/// [`FILE_SUFFIX`] (which MultiQC would not read) is refused, [`Error::Refused`].
pub fn general_stats_path(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().and_then(|n| n.to_str());
    match name.and_then(|n| n.strip_suffix(FILE_SUFFIX)) {
        Some(stem) if !stem.is_empty() && !stem.ends_with("_general_stats") => {
            Ok(path.with_file_name(format!("{stem}{GENERAL_STATS_SUFFIX}")))
        }
        _ => Err(Error::Refused(format!(
            "--multiqc {}: the file name must end in {FILE_SUFFIX} (MultiQC reads custom \
             content only from such files) and not in {GENERAL_STATS_SUFFIX}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn row_names_are_reduced_to_a_safe_set() {
        let report = Report::from_error(&Error::Refused("x".into()));
        assert_eq!(row_name(&report, "run_01-A.b"), "run_01-A.b");
        assert_eq!(row_name(&report, "run<b>1</b>"), "run_b_1__b");
        assert_eq!(row_name(&report, "-x-"), "x");
        assert_eq!(row_name(&report, "///"), "seqprov");
        assert_eq!(row_name(&report, &"x".repeat(500)).len(), 200);
    }

    #[test]
    fn general_stats_file_sits_beside_the_table_file() {
        assert_eq!(
            general_stats_path(Path::new("qc/run1_mqc.json")).unwrap(),
            Path::new("qc/run1_general_stats_mqc.json")
        );
        for bad in [
            "run1.json",
            "run1.seqprov",
            "_mqc.json",
            "qc/x_general_stats_mqc.json",
        ] {
            assert!(
                matches!(general_stats_path(Path::new(bad)), Err(Error::Refused(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_unreadable_bundle_gives_a_row_without_counts() {
        let report = Report::from_error(&Error::Malformed("truncated".into()));
        let content = custom_content(&report, "run<1>");
        let row = &content.table.data["run_1"];
        assert_eq!(row.verdict, "integrity_failure");
        assert_eq!(row.exit_code, 1);
        assert_eq!(row.ok, None);
        assert_eq!(row.signer, None);
        assert_eq!(row.lineage, "none");
        assert_eq!(content.general_stats.data["run_1"].seqprov_verified, 0);
    }
}
