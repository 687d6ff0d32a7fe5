//! `examples/snakemake/sharded-seal/` run by Snakemake from PyPI (pinned in its
//! `requirements.txt`): plan -> hash-part x 4 -> seal, on a generated run folder with a
//! 5 MiB file cut into 1 MiB ranges spread over the parts, once with the local executor
//! and once with the `cluster-generic` executor whose fake submit script starts every job
//! as its own detached process. Both bundles must be byte for byte the bundle of
//! `seqprov seal` with the same salt seed and time.
//!
//! Like the Python interoperability tier it needs PyPI, so it runs only when
//! `SEQPROV_PYTHON_TESTS=1` is set, as `.ci/run` does. The virtual environment lives in
//! `SEQPROV_SNAKEMAKE_VENV`, or else under the target directory.
#![cfg(unix)]

mod tree_copy;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use tree_copy::copy_tree;

const SEED: &str = "0909090909090909090909090909090909090909090909090909090909090909";
const TIME: &str = "2026-01-02T03:04:05Z";

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/snakemake/sharded-seal")
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A virtual environment with the pinned Snakemake.
fn snakemake() -> PathBuf {
    let venv = match std::env::var_os("SEQPROV_SNAKEMAKE_VENV") {
        Some(dir) => PathBuf::from(dir),
        // target/debug/seqprov -> target/snakemake-venv
        None => Path::new(env!("CARGO_BIN_EXE_seqprov"))
            .parent()
            .and_then(Path::parent)
            .unwrap()
            .join("snakemake-venv"),
    };
    if !venv.join("bin/python").exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    }
    run(Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(example().join("requirements.txt")));
    venv.join("bin/snakemake")
}

#[test]
fn the_snakemake_workflow_seals_byte_identically_locally_and_through_a_cluster_executor() {
    if std::env::var("SEQPROV_PYTHON_TESTS").as_deref() != Ok("1") {
        println!(
            "snakemake_sharded: did not run the Snakemake workflow; set SEQPROV_PYTHON_TESTS=1"
        );
        return;
    }
    let snakemake = snakemake();
    let seqprov = env!("CARGO_BIN_EXE_seqprov");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let run_dir = root.join("run");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/run-folder"),
        &run_dir,
    );
    let big: Vec<u8> = (0..5u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    fs::write(run_dir.join("big.bin"), big).unwrap();
    run(Command::new(seqprov)
        .current_dir(root)
        .args(["keygen", "--out", "k"]));
    run(Command::new(seqprov).current_dir(root).args([
        "seal",
        "run",
        "--key",
        "k.key",
        "--out",
        "single.seqprov",
        "--test-salt-seed",
        SEED,
        "--test-time",
        TIME,
        "-q",
    ]));
    let single = fs::read(root.join("single.seqprov")).unwrap();

    let config = |name: &str| {
        let path = root.join(format!("{name}.yaml"));
        fs::write(
            &path,
            format!(
                "dir: {run}\nbundle: {out}\nkey: {key}\nparts: 4\nwork: {work}\nseqprov: {seqprov}\n\
                 plan_args: \"--test-salt-seed {SEED} --range-len 1048576\"\n\
                 seal_args: \"--test-time {TIME} --no-nodes-event --recheck 1\"\n\
                 hash_threads: 1\n",
                run = run_dir.display(),
                out = root.join(format!("{name}/run.seqprov")).display(),
                key = root.join("k.key").display(),
                work = root.join(format!("{name}/work")).display(),
            ),
        )
        .unwrap();
        path
    };
    let base = |name: &str| {
        let mut cmd = Command::new(&snakemake);
        cmd.arg("-s")
            .arg(example().join("Snakefile"))
            .arg("--configfile")
            .arg(config(name))
            .arg("--directory")
            .arg(root.join(format!("{name}/snakemake")))
            .env("XDG_CACHE_HOME", root.join("cache"));
        cmd
    };

    // The plan cuts big.bin into five ranges over several parts.
    run(base("local").args(["--cores", "2"]));
    assert_eq!(fs::read(root.join("local/run.seqprov")).unwrap(), single);
    let plan = seqprov::format::shard::Plan::from_cbor(
        &fs::read(root.join("local/work/plan.seqprov-plan")).unwrap(),
    )
    .unwrap();
    let big_index = plan
        .entries
        .iter()
        .position(|e| e.path == "big.bin")
        .unwrap() as u64;
    let parts_with_big = plan
        .parts
        .iter()
        .filter(|part| part.iter().any(|p| p.file == big_index))
        .count();
    assert!(parts_with_big >= 3, "{:?}", plan.parts);

    // cluster-generic: every hash-part job is a process of its own, started by the fake
    // submit script.
    let log = root.join("submit.log");
    run(base("cluster")
        .arg("--profile")
        .arg(example().join("profiles/cluster-generic-test"))
        .arg("--cluster-generic-submit-cmd")
        .arg(format!(
            "bash {}",
            example().join("fake-submit.sh").display()
        ))
        .env("FAKE_SUBMIT_LOG", &log));
    assert_eq!(fs::read(root.join("cluster/run.seqprov")).unwrap(), single);
    let jobs = fs::read_to_string(root.join("submit.log.jobs")).unwrap();
    let pids: std::collections::BTreeSet<&str> = jobs
        .lines()
        .filter(|l| l.contains("snakejob.hash_part"))
        .map(|l| l.split(' ').nth(1).unwrap())
        .collect();
    assert_eq!(pids.len(), 4, "{jobs}");
}
