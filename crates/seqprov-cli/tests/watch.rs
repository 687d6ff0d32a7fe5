//! `seqprov watch`, driving the real binary: a simulated instrument writes run folders
//! file by file while `watch` runs; runs are sealed once each, after their completion
//! marker and a settle time; a run that never completes is refused after `--timeout`; a
//! run missing a base-call file is refused and not sealed; a bundle that does not verify
//! is reported and left as it is; SIGTERM stops `watch` cleanly and a restart seals each
//! run exactly once. The synthetic tests need nothing outside the repository; the real-
//! data test copies runs from `../shared/testdata` (skipped with a note when absent, a
//! failure under CI), and the systemd test checks `examples/systemd/` with
//! `systemd-analyze verify`.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

#[path = "../../../tests/support/testdata_dir.rs"]
mod testdata_dir;
use testdata_dir::testdata;

fn seqprov() -> Command {
    Command::cargo_bin("seqprov").unwrap()
}

fn keygen(work: &Path) {
    seqprov()
        .current_dir(work)
        .args(["keygen", "--out", "lab", "--name", "Watch Lab"])
        .assert()
        .success();
}

/// A synthetic per-tile-BCL run (MiSeq style, 2 cycles × 1 tile), as (relative path,
/// bytes) in the order an instrument writes it: `RunInfo.xml` first, `RTAComplete.txt`
/// last.
fn synthetic_run(run_id: &str) -> Vec<(String, Vec<u8>)> {
    let run_info = format!(
        r#"<?xml version="1.0"?>
<RunInfo Version="2">
  <Run Id="{run_id}" Number="42">
    <Flowcell>000000000-ABCDE</Flowcell>
    <Instrument>M01234</Instrument>
    <Date>261126</Date>
    <Reads><Read Number="1" NumCycles="2" IsIndexedRead="N" /></Reads>
    <FlowcellLayout LaneCount="1" SurfaceCount="1" SwathCount="1" TileCount="1">
      <TileSet TileNamingConvention="FourDigit"><Tiles><Tile>1_1101</Tile></Tiles></TileSet>
    </FlowcellLayout>
  </Run>
</RunInfo>
"#
    );
    let calls = "Data/Intensities/BaseCalls/L001";
    vec![
        ("RunInfo.xml".into(), run_info.into_bytes()),
        (
            "runParameters.xml".into(),
            b"<?xml version=\"1.0\"?>\n<RunParameters><Setup><ApplicationName>MiSeq Control \
              Software</ApplicationName></Setup><RTAVersion>1.18.54</RTAVersion></RunParameters>\n"
                .to_vec(),
        ),
        (
            format!("{calls}/C1.1/s_1_1101.bcl"),
            vec![3, 0, 0, 0, 0x41, 0x82, 0xa3],
        ),
        (
            format!("{calls}/C2.1/s_1_1101.bcl"),
            vec![3, 0, 0, 0, 0x42, 0x81, 0xa0],
        ),
        (
            format!("{calls}/s_1_1101.filter"),
            vec![0, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 1, 0, 1],
        ),
        ("RTAComplete.txt".into(), b"done\n".to_vec()),
    ]
}

/// Write `files` under `dir` one by one, `pause` apart, as an instrument would.
fn write_slowly(dir: &Path, files: &[(String, Vec<u8>)], pause: Duration) {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, bytes).unwrap();
        std::thread::sleep(pause);
    }
}

/// Every file of a real run folder, as (relative path, bytes): `RunInfo.xml` and the
/// run parameters first, then the rest in name order (the completion markers are added
/// by the caller).
fn real_run(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let rel = path
                    .strip_prefix(folder)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                files.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    files.sort_by_key(|(rel, _)| {
        let metadata = rel.eq_ignore_ascii_case("RunInfo.xml")
            || rel.eq_ignore_ascii_case("RunParameters.xml");
        (!metadata, rel.clone())
    });
    files
}

/// A running `seqprov watch` whose event lines (stdout) are collected as they come.
struct Watch {
    child: Child,
    events: Arc<Mutex<Vec<Value>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Watch {
    fn start(work: &Path, args: &[&str]) -> Watch {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("seqprov"))
            .current_dir(work)
            .arg("watch")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let reader = {
            let events = Arc::clone(&events);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let line = line.unwrap();
                    let event: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("not a JSON event line ({e}): {line}"));
                    events.lock().unwrap().push(event);
                }
            })
        };
        Watch {
            child,
            events,
            reader: Some(reader),
        }
    }

    fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// Wait (at most 30 s, a bound for slow machines) until `done` holds for the events
    /// so far.
    fn wait_until(&self, what: &str, done: impl Fn(&[Value]) -> bool) {
        let start = Instant::now();
        while !done(&self.events()) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}; events: {:#?}",
                self.events()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Send SIGTERM and wait for the exit; returns the exit code and every event.
    fn terminate(mut self) -> (i32, Vec<Value>) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "watch did not stop within 10 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        self.reader.take().unwrap().join().unwrap();
        (status.code().expect("exited, not killed"), self.events())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

fn count(events: &[Value], kind: &str, run_dir: &Path) -> usize {
    of_kind(events, kind)
        .iter()
        .filter(|e| e["run_dir"] == run_dir.to_str().unwrap())
        .count()
}

fn bundle_of(run: &Path) -> PathBuf {
    run.with_file_name(format!(
        "{}.seqprov",
        run.file_name().unwrap().to_str().unwrap()
    ))
}

fn verify(work: &Path, run: &Path) {
    seqprov()
        .current_dir(work)
        .args([
            "verify",
            run.to_str().unwrap(),
            "--trust",
            "lab.pub",
            "--json",
        ])
        .assert()
        .code(0);
}

/// No temporary bundle file is left anywhere under `dir`.
fn assert_no_temporary_files(dir: &Path) {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            assert!(
                !(name.starts_with(".seqprov-") && name.ends_with(".tmp")),
                "a temporary file was left: {}",
                path.display()
            );
            if path.is_dir() && !path.is_symlink() {
                pending.push(path);
            }
        }
    }
}

fn watch_once(work: &Path, args: &[&str]) -> (i32, Vec<Value>) {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("seqprov"))
        .current_dir(work)
        .arg("watch")
        .args(args)
        .arg("--once")
        .output()
        .unwrap();
    let events = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.code().unwrap(), events)
}

const FAST: [&str; 6] = ["--settle", "1s", "--interval", "1s", "--key", "lab.key"];

#[test]
fn runs_written_while_watching_are_sealed_once_each_and_sigterm_stops_cleanly() {
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let share = work.path().join("share");
    fs::create_dir_all(share.join("M01234")).unwrap();
    let run1 = share.join("M01234/261126_M01234_0042_000000000-ABCDE");
    let run2 = share.join("M01234/261127_M01234_0043_000000000-FGHIJ");
    let watch = Watch::start(
        work.path(),
        &[&["share", "--parallel", "2"][..], &FAST].concat(),
    );
    let instrument = {
        let (run1, run2) = (run1.clone(), run2.clone());
        std::thread::spawn(move || {
            write_slowly(
                &run1,
                &synthetic_run("261126_M01234_0042_000000000-ABCDE"),
                Duration::from_millis(300),
            );
            // A second run appears while the first settles.
            write_slowly(
                &run2,
                &synthetic_run("261127_M01234_0043_000000000-FGHIJ"),
                Duration::from_millis(200),
            );
        })
    };
    watch.wait_until("both runs sealed", |events| {
        count(events, "sealed", &run1) == 1 && count(events, "sealed", &run2) == 1
    });
    instrument.join().unwrap();
    // Another interval: nothing is sealed twice.
    std::thread::sleep(Duration::from_millis(1500));
    let (code, events) = watch.terminate();
    assert_eq!(code, 0, "{events:#?}");
    for event in &events {
        assert_eq!(event["version"], 1, "{event}");
        assert!(event["time"].as_str().unwrap().ends_with('Z'), "{event}");
    }
    assert_eq!(events[0]["event"], "started");
    let last = events.last().unwrap();
    assert_eq!(
        (&last["event"], &last["reason"], &last["exit_code"]),
        (
            &Value::from("stopped"),
            &Value::from("signal"),
            &Value::from(0)
        )
    );
    for run in [&run1, &run2] {
        assert_eq!(count(&events, "discovered", run), 1, "{events:#?}");
        assert_eq!(count(&events, "sealed", run), 1, "{events:#?}");
        // It waited for the marker, then for the folder to settle, then was sealed.
        let order: Vec<String> = events
            .iter()
            .filter(|e| e["run_dir"] == run.to_str().unwrap())
            .map(|e| match e["event"].as_str().unwrap() {
                "waiting" => format!("waiting {}", e["for"].as_str().unwrap()),
                other => other.to_string(),
            })
            .collect();
        assert_eq!(
            order,
            [
                "discovered",
                "waiting completion_marker",
                "waiting settle",
                "sealed"
            ],
            "{events:#?}"
        );
        let sealed = of_kind(&events, "sealed")
            .into_iter()
            .find(|e| e["run_dir"] == run.to_str().unwrap())
            .unwrap();
        assert_eq!(sealed["bundle"], bundle_of(run).to_str().unwrap());
        assert_eq!(sealed["watch_root"], share.to_str().unwrap());
        assert_eq!(sealed["files"], 6);
        assert_eq!(sealed["root"].as_str().unwrap().len(), 64);
        assert!(sealed["seconds"].as_f64().unwrap() >= 0.0);
        verify(work.path(), run);
    }
    let sealed_run1 = of_kind(&events, "sealed")
        .into_iter()
        .find(|e| e["run_dir"] == run1.to_str().unwrap())
        .unwrap();
    assert_eq!(sealed_run1["run_id"], "261126_M01234_0042_000000000-ABCDE");
    assert_no_temporary_files(&share);
}

/// Start `watch` on runs that take seconds to hash, send SIGTERM while they are being
/// sealed, and return the `stopped` event.
fn stop_while_sealing(work: &Path, args: &[&str], runs: usize) -> Value {
    let watch = Watch::start(work, args);
    watch.wait_until("the settle waits", |events| {
        events
            .iter()
            .filter(|e| e["event"] == "waiting" && e["for"] == "settle")
            .count()
            == runs
    });
    // The seals start one settle time (1 s) later and hash for seconds.
    std::thread::sleep(Duration::from_millis(1600));
    let stopped_at = Instant::now();
    let (code, events) = watch.terminate();
    assert!(
        stopped_at.elapsed() < Duration::from_secs(2),
        "SIGTERM waited for the seals to finish"
    );
    assert_eq!(code, 0, "{events:#?}");
    assert!(of_kind(&events, "sealed").is_empty(), "{events:#?}");
    let last = events.last().unwrap().clone();
    assert_eq!(last["event"], "stopped", "{events:#?}");
    last
}

#[test]
fn sigterm_during_seals_abandons_them_without_a_bundle_and_a_restart_seals_each_once() {
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let runs: Vec<PathBuf> = ["share/run1", "share/run2"]
        .iter()
        .map(|r| work.path().join(r))
        .collect();
    for (i, run) in runs.iter().enumerate() {
        write_slowly(run, &synthetic_run(&format!("R9{i}")), Duration::ZERO);
        // 64 GiB of holes: far longer to hash than the test waits, whatever the machine
        // and its load (2 GiB could finish inside the wait on a loaded or fast machine),
        // and nothing on disk. Cut down to 1 MiB before the final restart.
        fs::File::create(run.join("image.bin"))
            .unwrap()
            .set_len(64 << 30)
            .unwrap();
    }
    let names: Vec<&str> = runs.iter().map(|r| r.to_str().unwrap()).collect();

    // --parallel 2: both seals run at once, and both are abandoned.
    let stopped = stop_while_sealing(
        work.path(),
        &[&["share", "--parallel", "2"][..], &FAST].concat(),
        2,
    );
    assert_eq!(stopped["abandoned"], serde_json::json!(names), "{stopped}");
    // --parallel 1: one seal runs, the other waits its turn.
    let stopped = stop_while_sealing(
        work.path(),
        &[&["share", "--parallel", "1"][..], &FAST].concat(),
        2,
    );
    assert_eq!(
        stopped["abandoned"].as_array().unwrap().len(),
        1,
        "{stopped}"
    );
    for run in &runs {
        assert!(!bundle_of(run).exists());
    }
    assert_no_temporary_files(work.path());

    for run in &runs {
        fs::OpenOptions::new()
            .write(true)
            .open(run.join("image.bin"))
            .unwrap()
            .set_len(1 << 20)
            .unwrap();
    }
    let last = Watch::start(
        work.path(),
        &[&["share", "--parallel", "2"][..], &FAST].concat(),
    );
    last.wait_until("both seals", |events| {
        runs.iter().all(|run| count(events, "sealed", run) == 1)
    });
    let (code, events) = last.terminate();
    assert_eq!(code, 0, "{events:#?}");
    for run in &runs {
        assert_eq!(count(&events, "sealed", run), 1, "{events:#?}");
        seqprov()
            .args(["show", bundle_of(run).to_str().unwrap()])
            .assert()
            .success();
    }
    assert_no_temporary_files(work.path());
}

#[test]
fn once_seals_what_is_ready_refuses_a_run_missing_a_base_call_file_and_remembers_it() {
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let share = work.path().join("share");
    let good = share.join("good");
    let broken = share.join("broken");
    let unfinished = share.join("unfinished");
    write_slowly(&good, &synthetic_run("R1"), Duration::ZERO);
    let mut missing_bcl = synthetic_run("R2");
    missing_bcl.retain(|(rel, _)| !rel.ends_with("C2.1/s_1_1101.bcl"));
    write_slowly(&broken, &missing_bcl, Duration::ZERO);
    let mut no_marker = synthetic_run("R3");
    no_marker.pop();
    write_slowly(&unfinished, &no_marker, Duration::ZERO);
    let args = [&["share", "--state", "state.json"][..], &FAST].concat();

    let (code, events) = watch_once(work.path(), &args);
    assert_eq!(code, 1, "{events:#?}");
    assert_eq!(count(&events, "sealed", &good), 1, "{events:#?}");
    verify(work.path(), &good);
    let refused = of_kind(&events, "refused");
    assert_eq!(refused.len(), 1, "{events:#?}");
    assert_eq!(refused[0]["run_dir"], broken.to_str().unwrap());
    assert_eq!(refused[0]["exit_code"], 1);
    let reason = refused[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("incomplete") && reason.contains("C2.1/s_1_1101.bcl"),
        "{reason}"
    );
    assert!(!bundle_of(&broken).exists());
    assert_eq!(count(&events, "waiting", &unfinished), 1, "{events:#?}");
    assert!(!bundle_of(&unfinished).exists());
    let last = events.last().unwrap();
    assert_eq!(
        (&last["event"], &last["exit_code"]),
        (&"stopped".into(), &1.into())
    );

    // The next pass: the sealed run is skipped (its bundle verifies), the refused one is
    // remembered by the state file and skipped too, nothing fails.
    let before = fs::read(bundle_of(&good)).unwrap();
    let (code, events) = watch_once(work.path(), &args);
    assert_eq!(code, 0, "{events:#?}");
    assert!(of_kind(&events, "sealed").is_empty(), "{events:#?}");
    assert!(of_kind(&events, "refused").is_empty(), "{events:#?}");
    let skipped = of_kind(&events, "skipped");
    assert_eq!(skipped.len(), 2, "{events:#?}");
    assert_eq!(fs::read(bundle_of(&good)).unwrap(), before);
    assert!(!bundle_of(&broken).exists());
    assert_no_temporary_files(&share);

    // Without the state file the refusal is reported again.
    let (code, events) = watch_once(work.path(), &[&["share"][..], &FAST].concat());
    assert_eq!(code, 1, "{events:#?}");
    assert_eq!(count(&events, "refused", &broken), 1, "{events:#?}");
}

#[test]
fn a_run_that_never_completes_is_refused_after_the_timeout() {
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let run = work.path().join("share/stuck");
    let mut files = synthetic_run("R4");
    files.pop();
    write_slowly(&run, &files, Duration::ZERO);
    let watch = Watch::start(
        work.path(),
        &[&["share", "--timeout", "2s"][..], &FAST].concat(),
    );
    watch.wait_until("the refusal", |events| count(events, "refused", &run) == 1);
    let (code, events) = watch.terminate();
    // A stop by a signal exits 0; the refusal was reported as an event.
    assert_eq!(code, 0);
    let refused = of_kind(&events, "refused")[0];
    assert_eq!(refused["exit_code"], 2);
    let reason = refused["reason"].as_str().unwrap();
    assert!(
        reason.contains("not complete 2s") && reason.contains("RTAComplete.txt"),
        "{reason}"
    );
    assert!(!bundle_of(&run).exists());

    // With --once, the time is counted from when the state file first saw the run.
    let args = [
        &["share", "--timeout", "2s", "--state", "s.json"][..],
        &FAST,
    ]
    .concat();
    let other = work.path().join("share/stuck2");
    write_slowly(&other, &files, Duration::ZERO);
    let (code, events) = watch_once(work.path(), &args);
    assert_eq!(code, 0, "{events:#?}");
    assert_eq!(count(&events, "waiting", &other), 1, "{events:#?}");
    std::thread::sleep(Duration::from_millis(2100));
    let (code, events) = watch_once(work.path(), &args);
    assert_eq!(code, 2, "{events:#?}");
    assert_eq!(count(&events, "refused", &other), 1, "{events:#?}");
}

#[test]
fn an_existing_bundle_that_does_not_verify_is_reported_and_left_as_it_is() {
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let run = work.path().join("share/run");
    write_slowly(&run, &synthetic_run("R5"), Duration::ZERO);
    seqprov()
        .current_dir(work.path())
        .args(["seal", "share/run", "--key", "lab.key", "--quiet"])
        .assert()
        .success();
    let bundle = bundle_of(&run);
    let mut bytes = fs::read(&bundle).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&bundle, &bytes).unwrap();
    let (code, events) = watch_once(work.path(), &[&["share"][..], &FAST].concat());
    assert_eq!(code, 1, "{events:#?}");
    let refused = of_kind(&events, "refused");
    assert_eq!(refused.len(), 1, "{events:#?}");
    assert_eq!(refused[0]["bundle"], bundle.to_str().unwrap());
    assert!(
        refused[0]["reason"]
            .as_str()
            .unwrap()
            .contains("not overwritten"),
        "{events:#?}"
    );
    assert!(of_kind(&events, "sealed").is_empty());
    assert_eq!(fs::read(&bundle).unwrap(), bytes, "the bundle was changed");
}

#[test]
fn usage_errors_exit_2_before_watching() {
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    fs::create_dir(work.path().join("share")).unwrap();
    for (args, message) in [
        (vec!["nope"], "nope"),
        (vec!["share", "--settle", "5x"], "--settle"),
        (vec!["share", "--exclude", "**.txt"], "exclude pattern"),
        (vec!["share", "--parallel", "0"], "--parallel"),
    ] {
        seqprov()
            .current_dir(work.path())
            .arg("watch")
            .args(&args)
            .args(["--key", "lab.key", "--once"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(message));
    }
    // One watcher per state file.
    let first = Watch::start(
        work.path(),
        &[&["share", "--state", "s.json"][..], &FAST].concat(),
    );
    first.wait_until("the start", |events| !events.is_empty());
    seqprov()
        .current_dir(work.path())
        .args([
            "watch", "share", "--key", "lab.key", "--once", "--state", "s.json",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("another seqprov watch"));
    assert_eq!(first.terminate().0, 0);
}

#[test]
fn events_go_to_a_file_and_a_terminal_gets_escaped_human_lines() {
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let hostile = "run\u{1b}[2K\rsealed";
    let run = work.path().join("share").join(hostile);
    write_slowly(&run, &synthetic_run("R6"), Duration::ZERO);
    let bin = assert_cmd::cargo::cargo_bin("seqprov");
    let out = std::process::Command::new("script")
        .current_dir(work.path())
        .args([
            "-qec",
            &format!(
                "{} watch share --key lab.key --once --settle 0s --events events.jsonl",
                bin.display()
            ),
            "/dev/null",
        ])
        .output()
        .expect("`script` (util-linux) runs a command on a pseudo-terminal");
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(
        terminal.contains("seqprov watch: ") && terminal.contains("run\\x1b[2K\\rsealed"),
        "{terminal}"
    );
    assert!(!terminal.contains('\u{1b}'), "{terminal:?}");
    // The events file has the exact names, one JSON object per line, appended.
    let lines = fs::read_to_string(work.path().join("events.jsonl")).unwrap();
    let events: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(count(&events, "sealed", &run), 1, "{events:#?}");
    let (code, _) = watch_once(
        work.path(),
        &[
            "share",
            "--key",
            "lab.key",
            "--settle",
            "0s",
            "--events",
            "events.jsonl",
        ],
    );
    assert_eq!(code, 0);
    let again = fs::read_to_string(work.path().join("events.jsonl")).unwrap();
    assert!(again.starts_with(&lines) && again.len() > lines.len());
}

#[test]
fn excluded_and_linked_folders_are_not_watched() {
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let share = work.path().join("share");
    write_slowly(&share.join("old/run"), &synthetic_run("R7"), Duration::ZERO);
    write_slowly(
        &work.path().join("outside/run"),
        &synthetic_run("R8"),
        Duration::ZERO,
    );
    std::os::unix::fs::symlink(work.path().join("outside"), share.join("link")).unwrap();
    let (code, events) = watch_once(
        work.path(),
        &[
            &["share", "--exclude", "old", "--settle", "0s"][..],
            &FAST[2..],
        ]
        .concat(),
    );
    assert_eq!(code, 0);
    assert!(of_kind(&events, "discovered").is_empty(), "{events:#?}");
    assert!(!work.path().join("outside/run.seqprov").exists());
}

/// The real-data tier: NovaSeq 6000 and HiSeq X runs from `../shared/testdata` copied file
/// by file into the share while `watch` runs, `watch` stopped with SIGTERM mid-run and
/// started again, and a copy missing a base-call file.
#[test]
fn real_runs_copied_while_watching_survive_a_restart_and_are_sealed_once() {
    let Some(data) = testdata() else { return };
    let work = tempfile::tempdir().unwrap();
    keygen(work.path());
    let share = work.path().join("share");
    fs::create_dir_all(&share).unwrap();
    let hiseq = share.join("160919_hiseqx_0557_FC");
    let novaseq = share.join("190414_A00111_0296_AHJCWWDSXX");
    let broken = share.join("190414_A00111_0296_AHJCWWDSXX_copy2");
    let mut hiseq_files = real_run(&data.join("runs/160919_hiseqx_0557_FC"));
    hiseq_files.push(("RTAComplete.txt".into(), b"done\n".to_vec()));
    let mut novaseq_files = real_run(&data.join("runs/190414_A00111_0296_AHJCWWDSXX"));
    novaseq_files.push(("RTAComplete.txt".into(), b"done\n".to_vec()));
    novaseq_files.push(("CopyComplete.txt".into(), b"done\n".to_vec()));
    let mut broken_files = novaseq_files.clone();
    let dropped = broken_files
        .iter()
        .position(|(rel, _)| rel.ends_with(".cbcl"))
        .expect("the NovaSeq run has CBCL files");
    let dropped = broken_files.remove(dropped).0;
    write_slowly(&broken, &broken_files, Duration::ZERO);

    let args = [
        &["share", "--parallel", "2", "--state", "state.json"][..],
        &FAST,
    ]
    .concat();
    let first = Watch::start(work.path(), &args);
    let instrument = {
        let (hiseq, novaseq) = (hiseq.clone(), novaseq.clone());
        std::thread::spawn(move || {
            let second = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(500));
                write_slowly(&novaseq, &novaseq_files, Duration::from_millis(10));
            });
            write_slowly(&hiseq, &hiseq_files, Duration::from_millis(8));
            second.join().unwrap();
        })
    };
    // Stopped while the instrument is still writing.
    first.wait_until("the HiSeq run found", |events| {
        count(events, "discovered", &hiseq) == 1
    });
    std::thread::sleep(Duration::from_millis(700));
    let (code, first_events) = first.terminate();
    assert_eq!(code, 0, "{first_events:#?}");
    assert_no_temporary_files(&share);
    let second = Watch::start(work.path(), &args);
    second.wait_until(
        "both real runs sealed and the broken copy refused",
        |events| {
            let all: Vec<Value> = first_events.iter().chain(events).cloned().collect();
            count(&all, "sealed", &hiseq) == 1
                && count(&all, "sealed", &novaseq) == 1
                && count(&all, "refused", &broken) == 1
        },
    );
    instrument.join().unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let (code, second_events) = second.terminate();
    assert_eq!(code, 0, "{second_events:#?}");
    let all: Vec<Value> = first_events.iter().chain(&second_events).cloned().collect();
    for run in [&hiseq, &novaseq] {
        assert_eq!(count(&all, "sealed", run), 1, "{all:#?}");
        verify(work.path(), run);
    }
    let refused = of_kind(&all, "refused");
    assert_eq!(refused.len(), 1, "{all:#?}");
    assert_eq!(refused[0]["exit_code"], 1);
    assert!(
        refused[0]["reason"].as_str().unwrap().contains(&dropped),
        "{refused:#?} should name {dropped}"
    );
    assert!(!bundle_of(&broken).exists());
    let sealed = of_kind(&all, "sealed");
    let ids: Vec<&str> = sealed
        .iter()
        .map(|e| e["run_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"160919_hiseqx_0557"), "{ids:?}");
    assert_no_temporary_files(&share);

    // A third start seals nothing again.
    let (code, events) = watch_once(work.path(), &args);
    assert_eq!(code, 0, "{events:#?}");
    assert!(of_kind(&events, "sealed").is_empty(), "{events:#?}");
    assert_eq!(of_kind(&events, "skipped").len(), 3, "{events:#?}");
}

/// `examples/systemd/` passes `systemd-analyze verify` (with `ExecStart` pointed at the
/// binary under test). Under CI (`SEQPROV_SYSTEMD_TESTS`) a missing `systemd-analyze`
/// is a failure; elsewhere the test says it did not run.
#[test]
fn systemd_units_verify() {
    let analyze = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output();
    if analyze.is_err() {
        assert!(
            std::env::var_os("SEQPROV_SYSTEMD_TESTS").is_none(),
            "SEQPROV_SYSTEMD_TESTS is set but systemd-analyze is missing (apt-get install systemd)"
        );
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "systemd unit check did not run: systemd-analyze not found"
        );
        return;
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/systemd");
    let units = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("seqprov");
    for name in [
        "seqprov-watch.service",
        "seqprov-watch-once.service",
        "seqprov-watch.timer",
    ] {
        let text = fs::read_to_string(examples.join(name)).unwrap();
        assert!(text.contains("/usr/local/bin/seqprov") || name.ends_with(".timer"));
        fs::write(
            units.path().join(name),
            text.replace("/usr/local/bin/seqprov", bin.to_str().unwrap()),
        )
        .unwrap();
    }
    for name in [
        "seqprov-watch.service",
        "seqprov-watch-once.service",
        "seqprov-watch.timer",
    ] {
        let out = std::process::Command::new("systemd-analyze")
            .current_dir(units.path())
            .args(["verify", "--man=no", name])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Complaints about this machine's own units or users are not about ours.
        let ours: Vec<&str> = stderr.lines().filter(|l| l.contains("seqprov")).collect();
        assert!(
            out.status.success() && ours.is_empty(),
            "systemd-analyze verify {name}: {stderr}"
        );
    }
}
