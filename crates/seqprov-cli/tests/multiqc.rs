//! `verify --multiqc`: the custom-content files through the real binary, and (pipeline
//! tier, `SEQPROV_PYTHON_TESTS=1`) the real MultiQC reading a folder of a verified, a
//! failed and an unreadable result, with hostile names, checked in `multiqc_data/`.

#[path = "../../../tests/support/pipeline_tools.rs"]
mod pipeline_tools;

mod tree_copy;

use std::fs;
use std::path::{Path, PathBuf};
use tree_copy::copy_tree;

use assert_cmd::Command;
use serde_json::Value;

fn seqprov() -> Command {
    Command::cargo_bin("seqprov").unwrap()
}

/// A work directory with a key (whose holder's name is hostile markup) and three runs
/// copied from the bundled example run folder and sealed: `run-ok` (left as sealed),
/// `run-bad` (its sample sheet altered after sealing) and a run whose folder name is
/// markup. `qc/` is empty.
struct Runs {
    _work: tempfile::TempDir,
    root: PathBuf,
}

const HOSTILE_SIGNER: &str = "Core <script>alert(1)</script>";
const HOSTILE_RUN: &str = "run<img src=x onerror=alert(2)>";

impl Runs {
    fn sealed() -> Runs {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().to_path_buf();
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/run-folder");
        seqprov()
            .current_dir(&root)
            .args(["keygen", "--out", "core", "--name", HOSTILE_SIGNER])
            .assert()
            .success();
        for run in ["run-ok", "run-bad", HOSTILE_RUN] {
            copy_tree(&example, &root.join(run));
            seqprov()
                .current_dir(&root)
                .args(["seal", run, "--key", "core.key", "--quiet"])
                .assert()
                .success();
        }
        let sheet = root.join("run-bad/SampleSheet.csv");
        let mut text = fs::read(&sheet).unwrap();
        text.extend_from_slice(b"PATIENT-9999,added later\n");
        fs::write(&sheet, text).unwrap();
        fs::create_dir(root.join("qc")).unwrap();
        Runs { _work: work, root }
    }

    /// `seqprov verify RUN --trust core.pub --multiqc qc/NAME_mqc.json`; its exit code.
    fn verify(&self, run: &str, name: &str) -> i32 {
        let out = seqprov()
            .current_dir(&self.root)
            .args(["verify", run, "--trust", "core.pub", "--quiet", "--multiqc"])
            .arg(format!("qc/{name}_mqc.json"))
            .output()
            .unwrap();
        out.status.code().unwrap()
    }

    fn read(&self, file: &str) -> Value {
        serde_json::from_slice(&fs::read(self.root.join("qc").join(file)).unwrap()).unwrap()
    }
}

#[test]
fn verify_writes_a_table_row_and_a_general_statistics_column() {
    let runs = Runs::sealed();
    assert_eq!(runs.verify("run-ok", "run-ok"), 0);
    assert_eq!(runs.verify("run-bad", "run-bad"), 1);
    assert_eq!(runs.verify("run-gone", "run-gone"), 2, "no such run");

    let table = runs.read("run-ok_mqc.json");
    assert_eq!(table["id"], "seqprov");
    assert_eq!(table["plot_type"], "table");
    assert_eq!(table["seqprov_multiqc_version"], 1);
    let row = &table["data"]["run-ok"];
    assert_eq!(row["verdict"], "verified");
    assert_eq!(row["exit_code"], 0);
    assert_eq!(row["trusted"], "yes");
    assert_eq!(row["ok"], 7);
    assert_eq!(row["modified"], 0);
    assert_eq!(row["custody_events"], 0);
    assert_eq!(row["lineage"], "none");
    assert!(
        row["run"]
            .as_str()
            .unwrap()
            .starts_with("261125_EXAMPLE_0001_AEXAMPLEXX"),
        "{row}"
    );
    // The signer's name is HTML-escaped: MultiQC puts it in its page as it is.
    let signer = row["signer"].as_str().unwrap();
    assert!(
        signer.starts_with("Core &lt;script&gt;alert(1)&lt;&#x2F;script&gt; (key "),
        "{signer}"
    );
    for column in [
        "run",
        "verdict",
        "exit_code",
        "signer",
        "trusted",
        "ok",
        "modified",
        "missing",
        "extra",
        "moved",
        "custody_events",
        "lineage",
    ] {
        assert!(table["headers"][column]["title"].is_string(), "{column}");
    }
    let stats = runs.read("run-ok_general_stats_mqc.json");
    assert_eq!(stats["plot_type"], "generalstats");
    assert_eq!(stats["data"]["run-ok"]["seqprov_verified"], 1);

    let bad = &runs.read("run-bad_mqc.json")["data"]["run-bad"];
    assert_eq!(bad["verdict"], "integrity_failure");
    assert_eq!(bad["exit_code"], 1);
    assert_eq!(bad["modified"], 1);
    assert_eq!(bad["ok"], 6);
    let bad_stats = runs.read("run-bad_general_stats_mqc.json");
    assert_eq!(bad_stats["data"]["run-bad"]["seqprov_verified"], 0);

    // No bundle: still a row, with the verdict and no counts.
    let gone = &runs.read("run-gone_mqc.json")["data"]["run-gone"];
    assert_eq!(gone["verdict"], "error");
    assert_eq!(gone["exit_code"], 2);
    assert!(gone.get("ok").is_none(), "{gone}");
    assert_eq!(
        runs.read("run-gone_general_stats_mqc.json")["data"]["run-gone"]["seqprov_verified"],
        0
    );
}

/// A second verification replaces the files (atomically; a symlink at the name is
/// replaced, not written through), and `--json` still prints the report.
#[test]
fn a_second_verification_replaces_the_files_never_through_a_symlink() {
    let runs = Runs::sealed();
    let victim = runs.root.join("victim.txt");
    fs::write(&victim, "keep").unwrap();
    std::os::unix::fs::symlink(&victim, runs.root.join("qc/run-ok_mqc.json")).unwrap();
    let out = seqprov()
        .current_dir(&runs.root)
        .args(["verify", "run-ok", "--trust", "core.pub", "--json"])
        .args(["--multiqc", "qc/run-ok_mqc.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "verified");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
    let written = runs.root.join("qc/run-ok_mqc.json");
    assert!(!fs::symlink_metadata(&written).unwrap().is_symlink());
    assert_eq!(
        runs.read("run-ok_mqc.json")["data"]["run-ok"]["verdict"],
        "verified"
    );
    let leftovers: Vec<_> = fs::read_dir(runs.root.join("qc"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Refused before anything is read (exit 2, nothing written): a name MultiQC would not
/// read (such as the bundle's own), and a file inside the directory being verified.
#[test]
fn bad_multiqc_destinations_are_usage_errors() {
    let runs = Runs::sealed();
    let bundle = fs::read(runs.root.join("run-ok.seqprov")).unwrap();
    for (file, message) in [
        ("run-ok.seqprov", "the file name must end in _mqc.json"),
        ("qc/x.json", "the file name must end in _mqc.json"),
        (
            "qc/x_general_stats_mqc.json",
            "not in _general_stats_mqc.json",
        ),
        (
            "run-ok/x_mqc.json",
            "is inside the directory being verified",
        ),
        ("no-such-dir/x_mqc.json", "no-such-dir"),
    ] {
        let out = seqprov()
            .current_dir(&runs.root)
            .args(["verify", "run-ok", "--trust", "core.pub", "--multiqc", file])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{file}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("seqprov: error: ") && stderr.contains(message),
            "{file}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{file}: nothing verified");
    }
    assert_eq!(fs::read(runs.root.join("run-ok.seqprov")).unwrap(), bundle);
    assert_eq!(fs::read_dir(runs.root.join("qc")).unwrap().count(), 0);
    assert!(!runs.root.join("run-ok/x_mqc.json").exists());
    // The run stays verifiable: nothing was added to it.
    seqprov()
        .current_dir(&runs.root)
        .args(["verify", "run-ok", "--trust", "core.pub", "--quiet"])
        .assert()
        .code(0);
}

/// The pipeline tier: the real MultiQC (pinned in tests/pipeline/requirements.txt) reads
/// the folder and puts both rows, with their values, in its table and General
/// Statistics; the hostile signer and run names reach its page only as text.
#[test]
fn multiqc_reads_a_verified_and_a_failed_result() {
    let Some(bin) = pipeline_tools::pipeline_bin() else {
        return;
    };
    let runs = Runs::sealed();
    assert_eq!(runs.verify("run-ok", "run-ok"), 0);
    assert_eq!(runs.verify("run-bad", "run-bad"), 1);
    assert_eq!(runs.verify(HOSTILE_RUN, "hostile"), 0);
    assert_eq!(runs.verify("run-gone", "run-gone"), 2);
    fs::write(
        runs.root.join("multiqc_config.yaml"),
        "no_version_check: true\n",
    )
    .unwrap();
    let out = std::process::Command::new(bin.join("multiqc"))
        .current_dir(&runs.root)
        .args(["--config", "multiqc_config.yaml", "--no-ansi", "--force"])
        .args(["--outdir", "report", "qc"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "multiqc failed: {log}");

    let data: Value = serde_json::from_slice(
        &fs::read(runs.root.join("report/multiqc_data/multiqc_data.json")).unwrap(),
    )
    .unwrap();
    let table = &data["report_saved_raw_data"]["multiqc_seqprov_verification"];
    let rows = table
        .as_object()
        .unwrap_or_else(|| panic!("no seqprov table in {log}"));
    let mut names: Vec<&str> = rows.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "run-bad",
            "run-gone",
            "run-ok",
            "run_img_src_x_onerror_alert_2"
        ]
    );
    assert_eq!(rows["run-ok"]["verdict"], "verified");
    assert_eq!(rows["run-ok"]["ok"], 7);
    assert_eq!(rows["run-ok"]["trusted"], "yes");
    assert_eq!(rows["run-bad"]["verdict"], "integrity_failure");
    assert_eq!(rows["run-bad"]["modified"], 1);
    assert_eq!(rows["run-bad"]["exit_code"], 1);
    assert_eq!(rows["run-gone"]["verdict"], "error");
    assert_eq!(
        rows["run_img_src_x_onerror_alert_2"]["run"],
        "261125_EXAMPLE_0001_AEXAMPLEXX (instrument EXAMPLE, flow cell EXAMPLEXX, 2 cycles)"
    );

    let general = &data["report_general_stats_data"];
    let column = general
        .as_array()
        .map(|a| a.iter().collect::<Vec<_>>())
        .or_else(|| general.as_object().map(|o| o.values().collect()))
        .unwrap()
        .into_iter()
        .find(|section| section.get("run-ok").is_some())
        .unwrap_or_else(|| panic!("no General Statistics rows: {general}"));
    assert_eq!(column["run-ok"]["seqprov_verified"], 1);
    assert_eq!(column["run-bad"]["seqprov_verified"], 0);
    assert_eq!(column["run-gone"]["seqprov_verified"], 0);

    // The tab-separated table MultiQC writes beside it has the same values.
    let tsv = fs::read_to_string(
        runs.root
            .join("report/multiqc_data/multiqc_seqprov_verification.txt"),
    )
    .unwrap();
    let header: Vec<&str> = tsv.lines().next().unwrap().split('\t').collect();
    let verdict = header.iter().position(|h| *h == "verdict").unwrap();
    let modified = header.iter().position(|h| *h == "modified").unwrap();
    let bad: Vec<&str> = tsv
        .lines()
        .find(|l| l.starts_with("run-bad\t"))
        .unwrap()
        .split('\t')
        .collect();
    assert_eq!((bad[verdict], bad[modified]), ("integrity_failure", "1"));

    let page = fs::read_to_string(runs.root.join("report/multiqc_report.html")).unwrap();
    assert!(page.contains("run-bad") && page.contains("integrity_failure"));
    assert!(
        !page.contains("<script>alert(1)"),
        "the signer's markup ran"
    );
    assert!(!page.contains("<img src=x"), "the run's markup ran");
    assert!(page.contains("&lt;script&gt;alert(1)"));
}
