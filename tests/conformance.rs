//! Second test tier: real instrument data from `../shared/testdata` (see its README).
//!
//! The folder is read-only: bundles go to a temporary directory, and tamper tests work on
//! a temporary copy. Set `SEQPROV_TESTDATA` to point elsewhere. Without the folder the
//! tests fail under CI (`CI` set) and are skipped with a message otherwise.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

#[path = "support/testdata_dir.rs"]
mod testdata_dir;
use testdata_dir::testdata;

fn seqprov() -> Command {
    Command::cargo_bin("seqprov").unwrap()
}

fn keygen(work: &Path) {
    seqprov()
        .current_dir(work)
        .args(["keygen", "--out", "lab", "--name", "Conformance Lab"])
        .assert()
        .success();
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir(from) {
        let rel = entry.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if entry.is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else {
            fs::create_dir_all(dest.parent().unwrap()).unwrap();
            fs::copy(&entry, &dest).unwrap();
        }
    }
}

fn walkdir(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        if out[i].is_dir() {
            let mut children: Vec<PathBuf> = fs::read_dir(&out[i])
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            children.sort();
            out.extend(children);
        }
        i += 1;
    }
    out
}

fn count_files(root: &Path) -> usize {
    walkdir(root).iter().filter(|p| p.is_file()).count()
}

#[test]
fn every_testdata_folder_seals_and_verifies_in_place() {
    let Some(data) = testdata() else { return };
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let mut folders: Vec<PathBuf> = fs::read_dir(data.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.sort();
    folders.extend(
        ["fastq", "illumina-readers", "run-metadata"]
            .iter()
            .map(|d| data.join(d)),
    );
    for (i, folder) in folders.iter().enumerate() {
        let bundle = work.path().join(format!("{i}.seqprov"));
        seqprov()
            .current_dir(work.path())
            .args([
                "seal",
                folder.to_str().unwrap(),
                "--key",
                "lab.key",
                "--sha256",
                "--content",
                "--allow-incomplete",
                "--allow-broken",
                "--out",
                bundle.to_str().unwrap(),
            ])
            .assert()
            .success();
        let out = seqprov()
            .current_dir(work.path())
            .args([
                "verify",
                folder.to_str().unwrap(),
                "--bundle",
                bundle.to_str().unwrap(),
                "--trust",
                "lab.pub",
                "--json",
            ])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {report:#}",
            folder.display()
        );
        assert_eq!(
            report["summary"]["ok"].as_u64().unwrap() as usize,
            count_files(folder),
            "{}",
            folder.display()
        );
    }
}

/// spec/sharded.md §1: on every real folder (BCL, CBCL, filter, locs and FASTQ files,
/// broken files recorded with `--allow-broken`, notes of lenient checks), a seal made from
/// parts hashed separately, with small files cut into 4 KiB ranges, is byte for byte the
/// seal of `seqprov seal` with the same salt seed and time.
#[test]
fn every_testdata_folder_seals_from_parts_byte_identically() {
    let Some(data) = testdata() else { return };
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let seed = "2a".repeat(32);
    let time = "2026-02-03T04:05:06Z";
    let mut folders: Vec<PathBuf> = fs::read_dir(data.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.sort();
    folders.extend(
        ["fastq", "illumina-readers", "run-metadata"]
            .iter()
            .map(|d| data.join(d)),
    );
    let run = |args: &[&str]| {
        let out = seqprov()
            .current_dir(work.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Lenient (notes), and strict with full inflation (files recorded as broken).
    let mut broken_seen = 0;
    for checks in [None, Some("--strict-structure")] {
        for (i, folder) in folders.iter().enumerate() {
            let dir = folder.to_str().unwrap();
            let i = format!("{i}{}", if checks.is_some() { "s" } else { "" });
            let plan = format!("{i}.plan");
            let mut args = vec![
                "plan",
                dir,
                "--parts",
                "3",
                "--out",
                &plan,
                "--range-len",
                "4096",
                "--test-salt-seed",
                &seed,
            ];
            args.extend(checks);
            run(&args);
            let parts: Vec<String> = (0..3).map(|p| format!("{i}.part{p}")).collect();
            for (p, part) in parts.iter().enumerate() {
                run(&[
                    "hash-part",
                    &plan,
                    "--part",
                    &p.to_string(),
                    "--out",
                    part,
                    "-q",
                ]);
            }
            let from_parts = format!("{i}.parts.seqprov");
            let mut seal = vec![
                "seal",
                dir,
                "--key",
                "lab.key",
                "--out",
                &from_parts,
                "--allow-incomplete",
                "--allow-broken",
                "--test-time",
                time,
                "--no-nodes-event",
                "--recheck",
                "1",
                "-q",
                "--plan",
                &plan,
                "--from-parts",
            ];
            seal.extend(parts.iter().map(String::as_str));
            run(&seal);
            let single = format!("{i}.single.seqprov");
            let mut args = vec![
                "seal",
                dir,
                "--key",
                "lab.key",
                "--out",
                &single,
                "--allow-incomplete",
                "--allow-broken",
                "--test-time",
                time,
                "--test-salt-seed",
                &seed,
                "-q",
            ];
            args.extend(checks);
            run(&args);
            let bytes = fs::read(work.path().join(&single)).unwrap();
            assert!(
                fs::read(work.path().join(&from_parts)).unwrap() == bytes,
                "{} ({checks:?}): the seal from parts differs from the single seal",
                folder.display()
            );
            broken_seen += seqprov::read_bundle(&work.path().join(&single))
                .unwrap()
                .payload
                .broken
                .len();
        }
    }
    // The strict pass records broken files, so their reasons went through the parts.
    assert!(broken_seen > 0);
}

#[test]
fn altered_cbcl_and_swapped_fastq_in_a_real_novaseq_run_are_named() {
    let Some(data) = testdata() else { return };
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let run = work.path().join("190414_A00111_0296_AHJCWWDSXX");
    copy_tree(&data.join("runs/190414_A00111_0296_AHJCWWDSXX"), &run);
    seqprov()
        .current_dir(work.path())
        .args(["seal", "190414_A00111_0296_AHJCWWDSXX", "--key", "lab.key"])
        .arg("--allow-incomplete")
        .assert()
        .success();

    let cbcl = walkdir(&run)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "cbcl"))
        .expect("the NovaSeq run has CBCL files");
    let mut bytes = fs::read(&cbcl).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x04;
    fs::write(&cbcl, bytes).unwrap();

    let fastqs: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = fs::read_dir(run.join("fastqs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    // Swap two samples' R1 files: both are then modified (same names, other content).
    let (a, b) = (&fastqs[0], &fastqs[2]);
    let tmp = work.path().join("swap");
    fs::rename(a, &tmp).unwrap();
    fs::rename(b, a).unwrap();
    fs::rename(&tmp, b).unwrap();

    let out = seqprov()
        .current_dir(work.path())
        .args([
            "verify",
            "190414_A00111_0296_AHJCWWDSXX",
            "--trust",
            "lab.pub",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut named: Vec<(String, String)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["class"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    named.sort();
    let rel = |p: &Path| p.strip_prefix(&run).unwrap().to_str().unwrap().to_string();
    let mut expected = vec![
        (rel(&cbcl), "modified".to_string()),
        (rel(a), "modified".to_string()),
        (rel(b), "modified".to_string()),
    ];
    expected.sort();
    assert_eq!(named, expected);
}

fn show_json(work: &Path, bundle: &Path) -> Value {
    let out = seqprov()
        .current_dir(work)
        .args(["show", "--json"])
        .arg(bundle)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The recorded metadata, against values read by hand from each run's RunInfo.xml.
#[test]
fn recorded_run_metadata_matches_runinfo_read_by_hand() {
    let Some(data) = testdata() else { return };
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    for (run, expected, missing) in [
        (
            "190414_A00111_0296_AHJCWWDSXX",
            "190414_A00111_0296_AHJCWWDSXX (instrument A00111, flow cell HJCWWDSXX, 24 cycles)",
            vec!["CopyComplete.txt", "RTAComplete.txt"],
        ),
        (
            "160919_hiseqx_0557_FC",
            "160919_hiseqx_0557 (instrument hiseqx, flow cell TESTFLOWCELL, 32 cycles)",
            vec!["RTAComplete.txt"],
        ),
    ] {
        let folder = data.join("runs").join(run);
        let bundle = work.path().join(format!("{run}.seqprov"));
        // Without --allow-incomplete the missing markers are named and nothing is written.
        seqprov()
            .current_dir(work.path())
            .args([
                "seal",
                folder.to_str().unwrap(),
                "--key",
                "lab.key",
                "--out",
                bundle.to_str().unwrap(),
            ])
            .assert()
            .code(1)
            .stderr(predicates::str::contains(missing[0]));
        assert!(!bundle.exists());
        seqprov()
            .current_dir(work.path())
            .args([
                "seal",
                folder.to_str().unwrap(),
                "--key",
                "lab.key",
                "--allow-incomplete",
            ])
            .args(["--out", bundle.to_str().unwrap()])
            .assert()
            .success();
        let shown = show_json(work.path(), &bundle);
        let recorded = shown["seal"]["run"].as_str().unwrap();
        let parsed = seqprov::read_bundle(&bundle).unwrap();
        let meta = parsed.payload.run.as_ref().unwrap();
        if run.starts_with("190414") {
            assert_eq!(recorded, expected);
            assert_eq!(meta.run_info.run_number, 296);
            let date = meta.run_info.date.as_ref().unwrap();
            assert_eq!(date.raw, "4/14/2019 1:17:20 PM");
            assert_eq!(date.normalized.as_deref(), Some("2019-04-14T13:17:20"));
            assert_eq!(meta.run_info.reads.iter().filter(|r| r.indexed).count(), 2);
            assert_eq!(meta.run_info.layout.as_ref().unwrap().tiles.len(), 3);
        } else {
            assert_eq!(recorded, expected);
            assert_eq!(meta.run_info.run_number, 2);
            assert_eq!(
                meta.run_info.date.as_ref().unwrap().normalized.as_deref(),
                Some("2016-09-19")
            );
            assert_eq!(meta.run_info.layout.as_ref().unwrap().tiles.len(), 8);
            assert_eq!(meta.run_info.layout.as_ref().unwrap().surfaces, 2);
        }
        assert_eq!(missing_paths(&parsed.payload), missing);
    }
}

#[test]
fn a_real_run_missing_one_cbcl_is_refused_naming_it() {
    let Some(data) = testdata() else { return };
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let run = work.path().join("190414_A00111_0296_AHJCWWDSXX");
    copy_tree(&data.join("runs/190414_A00111_0296_AHJCWWDSXX"), &run);
    let cbcl = walkdir(&run)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "cbcl"))
        .unwrap();
    fs::remove_file(&cbcl).unwrap();
    let rel = cbcl
        .strip_prefix(&run)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    seqprov()
        .current_dir(work.path())
        .args([
            "seal",
            "190414_A00111_0296_AHJCWWDSXX",
            "--key",
            "lab.key",
            "--allow-incomplete",
        ])
        .assert()
        .success();
    let bundle =
        seqprov::read_bundle(&work.path().join("190414_A00111_0296_AHJCWWDSXX.seqprov")).unwrap();
    let missing = missing_paths(&bundle.payload);
    assert!(missing.contains(&rel), "{missing:?}");
}

/// The missing files a seal records (`missing`, or the older `incomplete`), expanded.
fn missing_paths(payload: &seqprov::format::manifest::SealPayload) -> Vec<String> {
    match (&payload.missing, &payload.run) {
        (Some(set), Some(run)) => {
            seqprov::illumina::run_layout::expand_file_set(set, run, usize::MAX).unwrap()
        }
        _ => payload.incomplete.clone(),
    }
}

/// Picard's reader test files: every one named as failing must be caught (strict mode,
/// full depth), and the passing ones accepted.
#[test]
fn picard_reader_files_that_must_fail_are_caught() {
    let Some(data) = testdata() else { return };
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let folder = data.join("illumina-readers");
    let bundle = work.path().join("readers.seqprov");
    seqprov()
        .current_dir(work.path())
        .args([
            "seal",
            folder.to_str().unwrap(),
            "--key",
            "lab.key",
            "--strict-structure",
        ])
        .args(["--out", bundle.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("bcl_tooShort.bcl"));
    seqprov()
        .current_dir(work.path())
        .args([
            "seal",
            folder.to_str().unwrap(),
            "--key",
            "lab.key",
            "--strict-structure",
            "--allow-broken",
        ])
        .args(["--out", bundle.to_str().unwrap()])
        .assert()
        .success();
    let parsed = seqprov::read_bundle(&bundle).unwrap();
    let broken: Vec<&str> = parsed
        .payload
        .broken
        .iter()
        .map(|b| b.path.as_str())
        .collect();
    let mut named_failing = 0;
    for entry in &parsed.entries {
        let name = entry
            .path()
            .rsplit('/')
            .next()
            .unwrap()
            .to_ascii_lowercase();
        let must_fail = ["fail", "tooshort", "toolong", "toolarge", "bad"]
            .iter()
            .any(|w| name.contains(w));
        if must_fail {
            named_failing += 1;
            assert!(
                broken.contains(&entry.path()),
                "{} should be caught; broken: {broken:?}",
                entry.path()
            );
        }
        if name.contains("passing") {
            assert!(
                !broken.contains(&entry.path()),
                "{} should pass",
                entry.path()
            );
        }
    }
    assert!(named_failing >= 10, "{named_failing}");
}
