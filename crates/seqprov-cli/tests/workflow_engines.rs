//! The Snakemake example (`examples/snakemake/`) run by the real Snakemake (pipeline tier,
//! `SEQPROV_PYTHON_TESTS=1`, tools from `tests/pipeline/setup_venv.sh`): the local
//! executor with `--cores 2` over two runs, one still being written when the flow starts;
//! a FASTQ altered after sealing stops the flow before the analysis; and the same flow
//! through the `cluster-generic` executor with a fake submit script
//! (`tests/pipeline/fake_submit.sh`). Also the example nf-core modules, checked offline
//! against nf-core's schemas and conventions (same tier: it needs PyYAML and jsonschema).

#[path = "../../../tests/support/pipeline_tools.rs"]
mod pipeline_tools;

mod tree_copy;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tree_copy::copy_tree;

use serde_json::Value;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An instrument share with run folders copied from the bundled example, and the core's
/// key pair.
struct Share {
    _work: tempfile::TempDir,
    root: PathBuf,
}

impl Share {
    fn new() -> Share {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().to_path_buf();
        fs::create_dir(root.join("share")).unwrap();
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_seqprov"))
            .current_dir(&root)
            .args(["keygen", "--out", "core", "--name", "Sequencing Core"])
            .output()
            .unwrap();
        assert!(status.status.success(), "{status:?}");
        Share { _work: work, root }
    }

    fn run_dir(&self, run: &str) -> PathBuf {
        self.root.join("share").join(run)
    }

    /// A complete run: the example run folder with both completion markers, as an
    /// instrument that writes CopyComplete.txt after RTAComplete.txt leaves it.
    fn add_complete_run(&self, run: &str) {
        copy_tree(
            &repository().join("examples/run-folder"),
            &self.run_dir(run),
        );
        fs::write(self.run_dir(run).join("CopyComplete.txt"), "").unwrap();
    }

    /// A run the instrument is still writing: no completion marker yet; they appear
    /// after `delay` (RTAComplete.txt, then CopyComplete.txt), from another thread.
    fn add_run_completing_after(&self, run: &str, delay: Duration) -> std::thread::JoinHandle<()> {
        copy_tree(
            &repository().join("examples/run-folder"),
            &self.run_dir(run),
        );
        fs::remove_file(self.run_dir(run).join("RTAComplete.txt")).unwrap();
        let dir = self.run_dir(run);
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            fs::write(dir.join("RTAComplete.txt"), "").unwrap();
            fs::write(dir.join("CopyComplete.txt"), "").unwrap();
        })
    }

    /// Snakemake on the example Snakefile, working in `work/`, with `args` before the
    /// `--config` of this share (and `extra_config`).
    fn snakemake(&self, bin: &Path, args: &[&str], extra_config: &[&str]) -> std::process::Output {
        let root = &self.root;
        let mut command = std::process::Command::new(bin.join("snakemake"));
        command
            .current_dir(root)
            .arg("--snakefile")
            .arg(repository().join("examples/snakemake/Snakefile"))
            .args(["--directory", "work"])
            .args(args)
            .arg("--config")
            .arg(format!("share={}", root.join("share").display()))
            .arg(format!("seqprov={}", env!("CARGO_BIN_EXE_seqprov")))
            .arg(format!("key={}", root.join("core.key").display()))
            .arg(format!("trust=[\"{}\"]", root.join("core.pub").display()))
            .arg(format!("python={}", bin.join("python").display()))
            .arg("wait_timeout=60s")
            .args(extra_config);
        let out = command.output().expect("snakemake runs");
        // Snakemake's own log lines, kept for a failing assertion's message.
        fs::write(root.join("snakemake.log"), &out.stderr).unwrap();
        out
    }

    fn work(&self, path: &str) -> PathBuf {
        self.root.join("work").join(path)
    }

    fn json(&self, path: &str) -> Value {
        serde_json::from_slice(&fs::read(self.work(path)).unwrap()).unwrap()
    }
}

/// What the flow leaves for a run that went through: sealed run, verified run, FASTQs
/// sealed with their lineage and verified with --require-lineage, MultiQC content, and
/// the analysis output.
fn assert_run_went_through(share: &Share, run: &str) {
    let run_report = share.json(&format!("verified/{run}.run.json"));
    assert_eq!(run_report["verdict"], "verified", "{run_report}");
    assert_eq!(run_report["seal"]["subject"], run);
    assert_eq!(run_report["summary"]["extra"], 0);

    let fastq = share.json(&format!("verified/{run}.fastq.json"));
    assert_eq!(fastq["verdict"], "verified", "{fastq}");
    assert_eq!(fastq["seal"]["subject"], format!("{run}-fastq"));
    assert_eq!(fastq["lineage"]["status"], "verified", "{fastq}");
    assert_eq!(fastq["lineage"]["subject"], run);
    assert_eq!(
        fastq["lineage"]["step"],
        "stand_in_convert.py 1.0 (stand-in for bcl-convert)"
    );
    assert_eq!(fastq["lineage"]["sample_sheet_in_run"], true);

    for qc in [
        format!("qc/{run}.run_mqc.json"),
        format!("qc/{run}.fastq_mqc.json"),
        format!("qc/{run}.fastq_general_stats_mqc.json"),
    ] {
        assert!(share.work(&qc).is_file(), "{qc}");
    }
    let counts = fs::read_to_string(share.work(&format!("analysis/{run}.counts.tsv"))).unwrap();
    assert_eq!(counts, "file\treads\tbases\nS1_S1_R1_001.fastq.gz\t4\t8\n");
}

/// The daily flow with the local executor: two runs, one still being written when the
/// flow starts (seal_run waits for it); every run sealed once, converted, its FASTQs sealed
/// with `--derived-from` and `--step`, verified with `--require-lineage`, then analysed.
/// Then the attack: a FASTQ altered in place after sealing; the rerun stops at
/// verify_fastq (exit 1 from seqprov), and the analysis does not run on it.
#[test]
fn snakemake_runs_the_daily_flow_and_stops_on_an_altered_fastq() {
    let Some(bin) = pipeline_tools::pipeline_bin() else {
        return;
    };
    let share = Share::new();
    share.add_complete_run("runA");
    let instrument = share.add_run_completing_after("runB", Duration::from_secs(3));
    let started = Instant::now();
    let out = share.snakemake(&bin, &["--cores", "2"], &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "snakemake failed:\n{log}");
    instrument.join().unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "runB cannot have been sealed before its completion marker appeared"
    );
    assert!(log.contains("13 of 13 steps (100%) done"), "{log}");
    assert_run_went_through(&share, "runA");
    assert_run_went_through(&share, "runB");
    // runB was sealed complete: its markers are in the seal (else they would be extra).
    let sealed_files = share.json("verified/runB.run.json")["seal"]["files"].clone();
    assert_eq!(
        sealed_files, 8,
        "the example run folder's files and CopyComplete.txt"
    );

    // Nothing left to do: every run is sealed once.
    let bundle = fs::read(share.work("bundles/run/runA.seqprov")).unwrap();
    let again = share.snakemake(&bin, &["--cores", "2"], &[]);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("Nothing to be done"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        fs::read(share.work("bundles/run/runA.seqprov")).unwrap(),
        bundle
    );

    // The attack: runA's FASTQ is altered in place after sealing; its verification and
    // analysis are asked for again.
    let fastq = share.work("fastq/runA-fastq/S1_S1_R1_001.fastq.gz");
    let mut bytes = fs::read(&fastq).unwrap();
    let last = bytes.len() - 9;
    bytes[last] ^= 0x01;
    fs::OpenOptions::new()
        .write(true)
        .open(&fastq)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
        .unwrap();
    fs::remove_file(share.work("verified/runA.fastq.json")).unwrap();
    fs::remove_file(share.work("analysis/runA.counts.tsv")).unwrap();
    let out = share.snakemake(&bin, &["--cores", "2"], &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the flow went on past an altered FASTQ:\n{log}"
    );
    assert!(
        log.contains("Error in rule verify_fastq"),
        "it stopped at verify_fastq:\n{log}"
    );
    assert!(
        !share.work("analysis/runA.counts.tsv").exists(),
        "the analysis ran on an altered FASTQ"
    );
    assert!(!share.work("verified/runA.fastq.json").exists());
    assert_eq!(
        fs::read(&fastq).unwrap(),
        bytes,
        "the flow did not regenerate the altered FASTQ and reseal it"
    );
    // The failed verification is kept for MultiQC (its files are the job's logs), and
    // verifying by hand names the altered file.
    let failed = share.json("qc/runA.fastq_mqc.json");
    assert_eq!(
        failed["data"]["runA-fastq"]["verdict"], "integrity_failure",
        "{failed}"
    );
    assert_eq!(failed["data"]["runA-fastq"]["modified"], 1, "{failed}");
    assert_eq!(
        share.json("qc/runA.fastq_general_stats_mqc.json")["data"]["runA-fastq"]["seqprov_verified"],
        0
    );
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_seqprov"))
        .current_dir(share.work(""))
        .args([
            "verify",
            "fastq/runA-fastq",
            "--bundle",
            "bundles/fastq/runA-fastq.seqprov",
        ])
        .arg("--trust")
        .arg(share.root.join("core.pub"))
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("S1_S1_R1_001.fastq.gz"));
}

/// The same flow through Snakemake's `cluster-generic` executor: every job goes through
/// the submit command (a stand-in for sbatch that runs the job script in the background
/// and prints a job id), and the run comes out sealed, verified and analysed.
#[test]
fn snakemake_cluster_generic_executor_submits_every_step() {
    let Some(bin) = pipeline_tools::pipeline_bin() else {
        return;
    };
    let share = Share::new();
    share.add_complete_run("runA");
    let submit = repository().join("tests/pipeline/fake_submit.sh");
    let submit = submit.to_str().unwrap();
    let out = share.snakemake(
        &bin,
        &[
            "--executor",
            "cluster-generic",
            "--cluster-generic-submit-cmd",
            submit,
            "--jobs",
            "2",
            "--seconds-between-status-checks",
            "1",
        ],
        &["runs=[\"runA\"]"],
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "snakemake failed:\n{log}");
    assert_run_went_through(&share, "runA");
    let submitted = fs::read_to_string(share.work("cluster-jobs/submitted.log")).unwrap();
    let mut rules: Vec<&str> = submitted
        .lines()
        .map(|l| {
            let script = l.rsplit('/').next().unwrap();
            script
                .strip_prefix("snakejob.")
                .and_then(|s| s.split('.').next())
                .unwrap_or_else(|| panic!("not a job script: {l}"))
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            "analysis",
            "convert",
            "seal_fastq",
            "seal_run",
            "verify_fastq",
            "verify_run"
        ],
        "every step went through the submit command:\n{submitted}"
    );
    for line in submitted.lines() {
        let id = line.split(' ').next().unwrap();
        assert!(
            log.contains(&format!("external jobid '{id}'")) || log.contains(id),
            "Snakemake did not take the job id {id}:\n{log}"
        );
    }
}

/// The example nf-core modules, checked offline (`nf-core modules lint` needs Nextflow):
/// meta.yml and environment.yml against nf-core's JSON Schemas, main.nf's conventions
/// (topic-channel versions, `task.ext.args`, stub), meta.yml against main.nf, and the
/// pinned version against the workspace's and the bioconda recipe's
/// (`tests/pipeline/check_nf_core_modules.py`).
#[test]
fn nf_core_modules_pass_the_offline_checks() {
    let Some(bin) = pipeline_tools::pipeline_bin() else {
        return;
    };
    let out = std::process::Command::new(bin.join("python"))
        .arg(repository().join("tests/pipeline/check_nf_core_modules.py"))
        .arg(repository())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains(" passed, 0 failed"), "{report}");
    assert!(
        report.lines().filter(|l| l.starts_with("ok ")).count() >= 40,
        "{report}"
    );
}
