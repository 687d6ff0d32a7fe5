//! `verify --html` and `custody show --html`, through the real binary: the page is
//! written atomically beside the usual output, names are escaped, a file that is not a
//! page is never replaced. With `SEQPROV_BROWSER_TESTS=1` (as in CI) the pages of a
//! verified, a failed, a hostile and a custody case are also loaded in Debian's Chromium
//! driven by Playwright (`tests/browser/run_page_checks.sh`): verdicts, rows, filters
//! with and without JavaScript, no network request, print to PDF; the screenshots and
//! PDFs are kept in `target/report-page-browser/`.

mod tree_copy;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as ProcessCommand;
use tree_copy::copy_tree;

use assert_cmd::Command;
use serde_json::{Value, json};

/// A file name and a signer name that are markup.
const SCRIPT_NAME: &str = "<script>alert(1)</script>";
const IMG_NAME: &str = "\"'><img src=x onerror=alert(2)>";
const HOSTILE_SIGNER: &str = "<script>alert(3)</script>\"'><img src=x onerror=alert(4)>";

fn seqprov() -> Command {
    Command::cargo_bin("seqprov").unwrap()
}

/// Run seqprov in `dir`; return its exit code and stdout.
fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = seqprov().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// The bundled example run folder, copied to `dir/name`.
fn example_run(dir: &Path, name: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/run-folder");
    let to = dir.join(name);
    copy_tree(&from, &to);
    to
}

/// Keys `core` and `courier`, a sealed, intact run `good` and a sealed run `bad` with a
/// modified, a missing, a moved and an extra file.
fn lab(dir: &Path) {
    for (name, full) in [("core", "Core Facility"), ("courier", "Carl Courier")] {
        assert_eq!(run(dir, &["keygen", "--out", name, "--name", full]).0, 0);
    }
    for name in ["good", "bad"] {
        example_run(dir, name);
        assert_eq!(run(dir, &["seal", name, "--key", "core.key", "-q"]).0, 0);
    }
    let bad = dir.join("bad");
    let mut sheet = fs::read(bad.join("SampleSheet.csv")).unwrap();
    sheet.extend_from_slice(b"Sample9,altered\n");
    fs::write(bad.join("SampleSheet.csv"), sheet).unwrap();
    fs::remove_file(bad.join("RTAComplete.txt")).unwrap();
    fs::rename(bad.join("RunInfo.xml"), bad.join("RunInfo.moved.xml")).unwrap();
    fs::write(bad.join("notes.txt"), "not sealed\n").unwrap();
}

fn page_of(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

#[test]
fn verify_html_writes_the_page_beside_the_text_or_json_output() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    lab(dir);
    let (code, text) = run(
        dir,
        &[
            "verify",
            "good",
            "--trust",
            "core.pub",
            "--html",
            "good.html",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("verified: 7 entries ok"),
        "text output as before: {text}"
    );
    let page = page_of(&dir.join("good.html"));
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(">VERIFIED<") && page.contains("class=\"banner good\""));

    let (code, json_text) = run(
        dir,
        &[
            "verify", "bad", "--trust", "core.pub", "--json", "--html", "bad.html",
        ],
    );
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&json_text).unwrap();
    let (_, plain_json) = run(dir, &["verify", "bad", "--trust", "core.pub", "--json"]);
    assert_eq!(
        report,
        serde_json::from_str::<Value>(&plain_json).unwrap(),
        "--html changes nothing in the JSON"
    );
    let page = page_of(&dir.join("bad.html"));
    assert!(page.contains(">INTEGRITY FAILURE<") && page.contains("class=\"banner bad\""));
    let files = report["files"].as_array().unwrap();
    assert!(files.len() >= 4, "{report}");
    for finding in files {
        let class = finding["class"].as_str().unwrap();
        assert!(
            page.contains(&format!("id=\"show-{class}\"")),
            "a filter for {class}"
        );
    }
    assert_eq!(page.matches("<tr class=\"row-").count(), files.len());
    assert!(page.contains(report["seal"]["root"].as_str().unwrap()));
}

#[test]
fn the_page_replaces_an_old_page_but_never_a_bundle_or_other_file() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    lab(dir);
    let args = ["verify", "good", "--trust", "core.pub", "--html", "r.html"];
    assert_eq!(run(dir, &args).0, 0);
    assert_eq!(run(dir, &args).0, 0, "a page is replaced");

    let bundle = fs::read(dir.join("good.seqprov")).unwrap();
    let out = seqprov()
        .current_dir(dir)
        .args([
            "verify",
            "good",
            "--trust",
            "core.pub",
            "--html",
            "good.seqprov",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("exists and is not a seqprov report page; not replacing it"),
        "{stderr}"
    );
    assert_eq!(fs::read(dir.join("good.seqprov")).unwrap(), bundle);

    // With --json, the refusal is the report's error (one JSON object, exit 2).
    let (code, stdout) = run(
        dir,
        &[
            "verify", "good", "--trust", "core.pub", "--json", "--html", "core.pub",
        ],
    );
    assert_eq!(code, 2);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["verdict"], "error");
    assert_eq!(report["exit_code"], 2);

    fs::create_dir(dir.join("adir")).unwrap();
    assert_eq!(
        run(dir, &["custody", "show", "good.seqprov", "--html", "adir"]).0,
        2
    );
    // No temporary file is left behind.
    let leftovers: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_verification_that_cannot_run_still_writes_its_page() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    fs::create_dir(dir.join("run")).unwrap();
    let (code, _) = run(dir, &["verify", "run", "--html", "err.html"]);
    assert_eq!(code, 2);
    let page = page_of(&dir.join("err.html"));
    assert!(page.contains(">ERROR<") && page.contains("class=\"banner neutral\""));
    assert!(page.contains("run.seqprov"), "the page says what failed");

    let (code, _) = run(
        dir,
        &["custody", "show", "missing.seqprov", "--html", "c.html"],
    );
    assert_eq!(code, 2);
    assert!(page_of(&dir.join("c.html")).contains(">ERROR<"));
}

#[test]
fn custody_show_html_draws_the_timeline_with_the_same_exit_code() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    lab(dir);
    let (code, _) = run(
        dir,
        &[
            "custody",
            "append",
            "good.seqprov",
            "--key",
            "courier.key",
            "--kind",
            "transfer",
            "--to",
            "Lab B",
            "--host",
            "courier-van",
        ],
    );
    assert_eq!(code, 0);
    let (plain_code, plain_json) = run(
        dir,
        &[
            "custody",
            "show",
            "good.seqprov",
            "--trust",
            "core.pub",
            "--json",
        ],
    );
    let (code, json_text) = run(
        dir,
        &[
            "custody",
            "show",
            "good.seqprov",
            "--trust",
            "core.pub",
            "--json",
            "--html",
            "c.html",
        ],
    );
    assert_eq!((code, plain_code), (3, 3), "the courier is not trusted");
    assert_eq!(json_text, plain_json);
    let page = page_of(&dir.join("c.html"));
    assert!(page.contains(">POLICY NOT SATISFIED<"));
    assert!(page.contains("id=\"timeline-svg\""));
    assert!(page.contains("untrusted_signer"));
    assert!(page.contains("courier-van"));
    let (code, _) = run(
        dir,
        &[
            "custody",
            "show",
            "good.seqprov",
            "--trust",
            "core.pub",
            "--trust",
            "courier.pub",
            "--html",
            "c.html",
        ],
    );
    assert_eq!(code, 0);
    assert!(page_of(&dir.join("c.html")).contains(">CUSTODY CHAIN INTACT<"));
}

/// A run sealed by a signer whose name is markup, with files whose names are markup
/// (`<script>alert(1)</script>` is a folder `<script>alert(1)<` holding `script>`), then
/// altered so that they are findings, and a transfer whose recipient is markup.
fn hostile_lab(dir: &Path) {
    assert_eq!(
        run(dir, &["keygen", "--out", "evil", "--name", HOSTILE_SIGNER]).0,
        0
    );
    let (folder, file) = SCRIPT_NAME.split_once('/').unwrap();
    let run_dir = dir.join("hostile");
    fs::create_dir_all(run_dir.join(folder)).unwrap();
    fs::write(run_dir.join(folder).join(file), "one\n").unwrap();
    fs::write(run_dir.join("plain.txt"), "two\n").unwrap();
    assert_eq!(
        run(dir, &["seal", "hostile", "--key", "evil.key", "-q"]).0,
        0
    );
    fs::write(run_dir.join(folder).join(file), "changed\n").unwrap();
    fs::write(run_dir.join(IMG_NAME), "extra\n").unwrap();
    let (code, _) = run(
        dir,
        &[
            "custody",
            "append",
            "hostile.seqprov",
            "--key",
            "evil.key",
            "--kind",
            "transfer",
            "--to",
            SCRIPT_NAME,
            "--note",
            IMG_NAME,
        ],
    );
    assert_eq!(code, 0);
}

#[test]
fn names_that_are_markup_are_escaped() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    hostile_lab(dir);
    let (code, _) = run(
        dir,
        &[
            "verify", "hostile", "--trust", "evil.pub", "--html", "h.html",
        ],
    );
    assert_eq!(code, 1);
    let (code, _) = run(
        dir,
        &["custody", "show", "hostile.seqprov", "--html", "hc.html"],
    );
    assert_eq!(code, 0);
    for page in [page_of(&dir.join("h.html")), page_of(&dir.join("hc.html"))] {
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert_eq!(page.matches("<script").count(), 1, "only the page's own");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&lt;script&gt;alert(3)&lt;/script&gt;&quot;'&gt;&lt;img"));
    }
    assert!(page_of(&dir.join("h.html")).contains("&quot;'&gt;&lt;img src=x onerror=alert(2)&gt;"));
}

/// The target directory (`target/`), from the binary cargo built for this test.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_seqprov"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf()
}

#[test]
fn the_pages_work_in_a_real_browser() {
    if std::env::var("SEQPROV_BROWSER_TESTS").as_deref() != Ok("1") {
        println!(
            "report_page: did not run the browser checks; set SEQPROV_BROWSER_TESTS=1 \
             (needs Debian's chromium and Python 3) to run tests/browser/run_page_checks.sh"
        );
        return;
    }
    let out = target_dir().join("report-page-browser");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    lab(dir);
    hostile_lab(dir);
    assert_eq!(
        run(
            dir,
            &[
                "custody",
                "append",
                "good.seqprov",
                "--key",
                "courier.key",
                "--kind",
                "transfer",
                "--to",
                "Lab B",
            ],
        )
        .0,
        0
    );
    let page = |name: &str| out.join(name).to_string_lossy().into_owned();
    let mut cases = Vec::new();
    let mut case = |name: &str, args: &[&str], want: i32, extra: Value| {
        let html = page(&format!("{name}.html"));
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--json", "--html", html.as_str()]);
        let (code, stdout) = run(dir, &full);
        assert_eq!(code, want, "{name}: {stdout}");
        fs::write(out.join(format!("{name}.json")), &stdout).unwrap();
        let mut object = json!({
            "name": name,
            "page": format!("{name}.html"),
            "report": format!("{name}.json"),
        });
        for (k, v) in extra.as_object().unwrap() {
            object[k] = v.clone();
        }
        cases.push(object);
    };
    case(
        "verified",
        &[
            "verify",
            "good",
            "--trust",
            "core.pub",
            "--trust",
            "courier.pub",
        ],
        0,
        json!({"kind": "verify", "headline": "VERIFIED", "tone": "good"}),
    );
    case(
        "failed",
        &["verify", "bad", "--trust", "core.pub"],
        1,
        json!({"kind": "verify", "headline": "INTEGRITY FAILURE", "tone": "bad",
               "filter": ["modified", "extra"]}),
    );
    case(
        "hostile",
        &["verify", "hostile", "--trust", "evil.pub"],
        1,
        json!({"kind": "verify", "headline": "INTEGRITY FAILURE", "tone": "bad",
               "filter": ["modified"],
               "hostile": [SCRIPT_NAME, IMG_NAME, HOSTILE_SIGNER]}),
    );
    case(
        "untrusted",
        &["verify", "good"],
        3,
        json!({"kind": "verify", "headline": "NOT TRUSTED", "tone": "caution"}),
    );
    case(
        "custody",
        &[
            "custody",
            "show",
            "good.seqprov",
            "--trust",
            "core.pub",
            "--trust",
            "courier.pub",
        ],
        0,
        json!({"kind": "custody", "headline": "CUSTODY CHAIN INTACT", "tone": "good"}),
    );
    case(
        "hostile-custody",
        &["custody", "show", "hostile.seqprov", "--trust", "evil.pub"],
        0,
        json!({"kind": "custody", "headline": "CUSTODY CHAIN INTACT", "tone": "good",
               "hostile": [SCRIPT_NAME, IMG_NAME, HOSTILE_SIGNER]}),
    );
    fs::write(
        out.join("cases.json"),
        serde_json::to_string_pretty(&cases).unwrap(),
    )
    .unwrap();

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let started = std::time::Instant::now();
    let output = ProcessCommand::new("bash")
        .arg(root.join("tests/browser/run_page_checks.sh"))
        .arg(&out)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "browser checks failed ({:?}):\n{stdout}",
        output.status
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    for name in ["verified", "failed", "hostile", "custody"] {
        assert!(out.join(format!("{name}.png")).is_file(), "{name}.png kept");
    }
    println!(
        "browser checks took {:.1} s; screenshots and PDFs in {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
}

#[test]
fn a_proof_page_lists_every_given_file_with_the_entry_it_was_checked_as() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    lab(dir);
    let (code, _) = run(
        dir,
        &[
            "prove",
            "good.seqprov",
            "--path",
            "SampleSheet.csv",
            "--out",
            "sheet.seqprov-proof",
        ],
    );
    assert_eq!(code, 0);
    let (code, stdout) = run(
        dir,
        &[
            "verify",
            "good/SampleSheet.csv",
            "--proof",
            "sheet.seqprov-proof",
            "--trust",
            "core.pub",
            "--html",
            "proof.html",
        ],
    );
    assert_eq!(code, 0, "{stdout}");
    let page = page_of(&dir.join("proof.html"));
    assert!(page.contains(">VERIFIED<"));
    assert_eq!(page.matches("<tr class=\"row-ok\">").count(), 1);
    assert!(page.contains("id=\"show-ok\""));
    assert!(page.contains("file given: good/SampleSheet.csv"));
    assert!(page.contains("Input: proof"));
}
