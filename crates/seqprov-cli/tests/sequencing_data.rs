//! What seqprov knows about sequencing data, through the real binary: run metadata,
//! completeness, structure checks, run mode, FASTQ content identity, read-name lineage,
//! exclude rules and `--wait`. Fixtures are generated here; the real-data tier is
//! `tests/conformance.rs`.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt as _;
use serde_json::Value;
use tempfile::TempDir;

fn seqprov() -> Command {
    Command::cargo_bin("seqprov").unwrap()
}

const RUN_ID: &str = "261126_M01234_0042_000000000-ABCDE";

fn run_info(tiles: &[u32]) -> String {
    let tiles: String = tiles
        .iter()
        .map(|t| format!("<Tile>1_{t}</Tile>"))
        .collect();
    format!(
        r#"<?xml version="1.0"?>
<RunInfo Version="2">
  <Run Id="{RUN_ID}" Number="42">
    <Flowcell>000000000-ABCDE</Flowcell>
    <Instrument>M01234</Instrument>
    <Date>261126</Date>
    <Reads>
      <Read Number="1" NumCycles="2" IsIndexedRead="N" />
    </Reads>
    <FlowcellLayout LaneCount="1" SurfaceCount="1" SwathCount="1" TileCount="{n}">
      <TileSet TileNamingConvention="FourDigit"><Tiles>{tiles}</Tiles></TileSet>
    </FlowcellLayout>
  </Run>
</RunInfo>
"#,
        n = tiles.len()
    )
}

/// A complete per-tile-BCL run folder (MiSeq style): 2 cycles × 1 tile.
struct Run {
    _work: TempDir,
    root: PathBuf,
    run: PathBuf,
}

impl Run {
    fn new() -> Run {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().to_path_buf();
        let run = root.join(RUN_ID);
        let calls = run.join("Data/Intensities/BaseCalls/L001");
        for cycle in 1..=2 {
            fs::create_dir_all(calls.join(format!("C{cycle}.1"))).unwrap();
            // u32 cluster count, then one byte per cluster.
            fs::write(
                calls.join(format!("C{cycle}.1/s_1_1101.bcl")),
                [3, 0, 0, 0, 0x41, 0x82, 0xa3],
            )
            .unwrap();
        }
        // u32 0, u32 version 3, u32 cluster count, one byte per cluster.
        fs::write(
            calls.join("s_1_1101.filter"),
            [0, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 1, 0, 1],
        )
        .unwrap();
        fs::write(run.join("RunInfo.xml"), run_info(&[1101])).unwrap();
        fs::write(
            run.join("runParameters.xml"),
            "<?xml version=\"1.0\"?>\n<RunParameters><Setup><ApplicationName>MiSeq Control Software</ApplicationName>\
             <ApplicationVersion>2.6.2.1</ApplicationVersion></Setup><RTAVersion>1.18.54</RTAVersion></RunParameters>\n",
        )
        .unwrap();
        fs::write(run.join("RTAComplete.txt"), "done\n").unwrap();
        seqprov()
            .current_dir(&root)
            .args(["keygen", "--out", "core"])
            .assert()
            .success();
        Run {
            _work: work,
            root,
            run,
        }
    }

    fn seal(&self, extra: &[&str]) -> assert_cmd::assert::Assert {
        seqprov()
            .current_dir(&self.root)
            .args(["seal", RUN_ID, "--key", "core.key", "--force"])
            .args(extra)
            .assert()
    }

    fn show(&self) -> Value {
        let out = seqprov()
            .current_dir(&self.root)
            .args(["show", &format!("{RUN_ID}.seqprov"), "--json"])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn verify(&self, extra: &[&str]) -> (Value, i32) {
        let out = seqprov()
            .current_dir(&self.root)
            .args(["verify", RUN_ID, "--trust", "core.pub", "--json"])
            .args(extra)
            .output()
            .unwrap();
        (
            serde_json::from_slice(&out.stdout).unwrap(),
            out.status.code().unwrap(),
        )
    }
}

#[test]
fn run_metadata_is_recorded_in_the_signed_seal() {
    let run = Run::new();
    run.seal(&[]).success();
    let shown = run.show();
    assert_eq!(
        shown["seal"]["run"],
        format!("{RUN_ID} (instrument M01234, flow cell 000000000-ABCDE, 2 cycles)")
    );
    let bundle = seqprov::read_bundle(&run.root.join(format!("{RUN_ID}.seqprov"))).unwrap();
    let meta = bundle.payload.run.expect("run metadata in the payload");
    assert_eq!(meta.run_info.run_number, 42);
    assert_eq!(
        meta.run_info.date.as_ref().unwrap().normalized.as_deref(),
        Some("2026-11-26")
    );
    assert_eq!(
        meta.run_parameters.unwrap().application_name.as_deref(),
        Some("MiSeq Control Software")
    );
    assert_eq!(run.verify(&[]).1, 0);
}

#[test]
fn incomplete_run_is_refused_with_the_missing_files_named() {
    for (missing, name) in [
        (
            "Data/Intensities/BaseCalls/L001/C2.1/s_1_1101.bcl",
            "a cycle",
        ),
        (
            "Data/Intensities/BaseCalls/L001/s_1_1101.filter",
            "a tile's filter",
        ),
        ("RTAComplete.txt", "the completion marker"),
    ] {
        let run = Run::new();
        fs::remove_file(run.run.join(missing)).unwrap();
        run.seal(&[])
            .code(1)
            .stderr(predicates::str::contains("the run is incomplete"))
            .stderr(predicates::str::contains(missing));
        assert!(
            !run.root.join(format!("{RUN_ID}.seqprov")).exists(),
            "{name}"
        );
        run.seal(&["--allow-incomplete"]).success();
        let bundle = seqprov::read_bundle(&run.root.join(format!("{RUN_ID}.seqprov"))).unwrap();
        let set = bundle.payload.missing.as_ref().unwrap();
        let run_meta = bundle.payload.run.as_ref().unwrap();
        assert_eq!(
            seqprov::illumina::run_layout::expand_file_set(set, run_meta, usize::MAX).unwrap(),
            [missing],
            "{name}"
        );
        assert!(bundle.payload.incomplete.is_empty());
        let (report, code) = run.verify(&[]);
        assert_eq!(code, 0);
        assert!(
            report["warnings"][0].as_str().unwrap().contains(missing),
            "{report:#}"
        );
    }
}

#[test]
fn structurally_broken_bcl_is_refused_naming_path_and_reason() {
    let run = Run::new();
    // Declares 3 clusters but holds 2 bytes of calls.
    let bcl = "Data/Intensities/BaseCalls/L001/C1.1/s_1_1101.bcl";
    fs::write(run.run.join(bcl), [3, 0, 0, 0, 0x41, 0x82]).unwrap();
    run.seal(&[])
        .code(1)
        .stderr(predicates::str::contains(bcl))
        .stderr(predicates::str::contains("not a valid bcl file"));
    run.seal(&["--allow-broken"]).success();
    let bundle = seqprov::read_bundle(&run.root.join(format!("{RUN_ID}.seqprov"))).unwrap();
    assert_eq!(bundle.payload.broken.len(), 1);
    assert_eq!(bundle.payload.broken[0].path, bcl);
    run.seal(&["--no-structure-check"]).success();
}

#[test]
fn run_mode_claim_is_recorded_and_a_contradiction_reported() {
    let run = Run::new();
    run.seal(&["--mode", "clinical"])
        .success()
        .stderr(predicates::str::contains("run mode"))
        .stderr(predicates::str::contains("MiSeq Control Software"));
    let bundle = seqprov::read_bundle(&run.root.join(format!("{RUN_ID}.seqprov"))).unwrap();
    let mode = bundle.payload.mode.unwrap();
    assert_eq!(mode.claim.name(), "clinical");
    assert_eq!(mode.corroboration, "disagrees");
    // A lab policy that requires clinical runs refuses it.
    fs::write(run.root.join("p.toml"), "version = 1\n[[signer]]\nname = \"c\"\nkey = \"core.pub\"\n[requirements]\nrequire_mode = \"clinical\"\n").unwrap();
    let (report, code) = run.verify(&["--policy", "p.toml"]);
    assert_eq!(code, 3);
    assert_eq!(report["policy"][0]["rule"], "run_mode");
    // An RUO claim agrees with the control software.
    run.seal(&["--mode", "ruo"]).success();
    let bundle = seqprov::read_bundle(&run.root.join(format!("{RUN_ID}.seqprov"))).unwrap();
    assert_eq!(bundle.payload.mode.unwrap().corroboration, "agrees");
    run.seal(&["--mode", "dx"]).code(2);
}

#[test]
fn macos_metadata_is_reported_and_excluded_only_by_a_recorded_rule() {
    let run = Run::new();
    fs::write(run.run.join("._RunInfo.xml"), [0u8; 8]).unwrap();
    fs::write(run.run.join(".DS_Store"), [0u8; 8]).unwrap();
    run.seal(&[])
        .success()
        .stderr(predicates::str::contains(
            "macOS metadata file sealed: ._RunInfo.xml",
        ))
        .stderr(predicates::str::contains(
            "macOS metadata file sealed: .DS_Store",
        ));
    assert_eq!(run.show()["seal"]["files"], 8);
    run.seal(&["--exclude", "**/._*", "--exclude", ".DS_Store"])
        .success()
        .stderr("");
    let bundle = seqprov::read_bundle(&run.root.join(format!("{RUN_ID}.seqprov"))).unwrap();
    assert_eq!(bundle.payload.exclude, ["**/._*", ".DS_Store"]);
    assert_eq!(bundle.payload.files, 6);
    // Verify applies the recorded rule: new AppleDouble files are not extra.
    fs::write(run.run.join("Data/._x"), [1u8; 4]).unwrap();
    let (report, code) = run.verify(&[]);
    assert_eq!(code, 0, "{report:#}");
    fs::write(run.run.join("Data/notes.txt"), "x").unwrap();
    assert_eq!(run.verify(&[]).1, 1);
}

#[test]
fn wait_seals_once_the_marker_appears_and_times_out_otherwise() {
    let run = Run::new();
    fs::remove_file(run.run.join("RTAComplete.txt")).unwrap();
    run.seal(&["--wait", "--wait-timeout", "1s"])
        .code(2)
        .stderr(predicates::str::contains("RTAComplete.txt"));
    let marker = run.run.join("RTAComplete.txt");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        fs::write(marker, "done\n").unwrap();
    });
    run.seal(&["--wait", "--wait-timeout", "60s"]).success();
    writer.join().unwrap();
}

fn fastq(records: &[(&str, &str, &str)]) -> String {
    records
        .iter()
        .map(|(name, seq, qual)| format!("@{name}\n{seq}\n+\n{qual}\n"))
        .collect()
}

fn gzip(text: &str, level: u32) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

fn reads() -> String {
    fastq(&[
        (
            "M01234:42:000000000-ABCDE:1:1101:1000:2000 1:N:0:ACGT",
            "ACGTACGTAC",
            "IIIIIIIIII",
        ),
        (
            "M01234:42:000000000-ABCDE:1:1101:1010:2010 1:N:0:ACGT",
            "TTGCAAGGCC",
            "FFFF:FFFFF",
        ),
    ])
}

struct Fastqs {
    _work: TempDir,
    root: PathBuf,
}

impl Fastqs {
    fn new(text: &str) -> Fastqs {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().to_path_buf();
        fs::create_dir_all(root.join("fastq")).unwrap();
        fs::write(root.join("fastq/S1_R1.fastq.gz"), gzip(text, 6)).unwrap();
        seqprov()
            .current_dir(&root)
            .args(["keygen", "--out", "core"])
            .assert()
            .success();
        Fastqs { _work: work, root }
    }

    fn path(&self) -> PathBuf {
        self.root.join("fastq/S1_R1.fastq.gz")
    }

    fn verify(&self, extra: &[&str]) -> (Value, i32) {
        let out = seqprov()
            .current_dir(&self.root)
            .args(["verify", "fastq", "--trust", "core.pub", "--json"])
            .args(extra)
            .output()
            .unwrap();
        (
            serde_json::from_slice(&out.stdout).unwrap(),
            out.status.code().unwrap(),
        )
    }
}

fn only_class(report: &Value) -> String {
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{report:#}");
    files[0]["class"].as_str().unwrap().to_string()
}

#[test]
fn recompressed_fastq_keeps_its_content_identity() {
    let fx = Fastqs::new(&reads());
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "fastq", "--key", "core.key", "--content"])
        .assert()
        .success();
    let bundle = seqprov::read_bundle(&fx.root.join("fastq.seqprov")).unwrap();
    let content = bundle
        .entries
        .get(0)
        .and_then(|e| e.content())
        .copied()
        .expect("content identity recorded");
    assert_eq!((content.reads, content.bases), (2, 20));
    fs::write(fx.path(), gzip(&reads(), 1)).unwrap();
    let (report, code) = fx.verify(&[]);
    assert_eq!(
        code, 1,
        "recompressed is a failure unless the policy allows it"
    );
    assert_eq!(only_class(&report), "recompressed");
    fs::write(fx.root.join("p.toml"), "version = 1\n[[signer]]\nname = \"c\"\nkey = \"core.pub\"\n[requirements]\nallow_recompressed = true\n").unwrap();
    let (report, code) = fx.verify(&["--policy", "p.toml"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("recompressed")
    );
}

#[test]
fn one_quality_character_changed_is_modified_not_recompressed() {
    let fx = Fastqs::new(&reads());
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "fastq", "--key", "core.key", "--content"])
        .assert()
        .success();
    let altered = reads().replacen("FFFF:FFFFF", "FFFF:FFFFA", 1);
    fs::write(fx.path(), gzip(&altered, 1)).unwrap();
    let (report, code) = fx.verify(&[]);
    assert_eq!(code, 1);
    assert_eq!(only_class(&report), "modified");
}

#[test]
fn malformed_fastq_is_refused_at_seal_with_the_record_number() {
    let fx = Fastqs::new("@r1\nACGT\n+\nIII\n");
    seqprov()
        .current_dir(&fx.root)
        .args(["seal", "fastq", "--key", "core.key", "--content"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("FASTQ record 1"));
}

#[test]
fn read_names_are_checked_against_the_run_they_derive_from() {
    let run = Run::new();
    run.seal(&[]).success();
    let run_bundle = run.root.join(format!("{RUN_ID}.seqprov"));
    let write_fastqs = |text: &str| {
        let dir = run.root.join("fastq");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("S1_R1.fastq.gz"), gzip(text, 6)).unwrap();
    };
    let seal_fastqs = || {
        seqprov()
            .current_dir(&run.root)
            .args([
                "seal",
                "fastq",
                "--key",
                "core.key",
                "--content",
                "--force",
                "--step",
                "bcl-convert 4.2.7",
            ])
            .arg("--derived-from")
            .arg(&run_bundle)
            .assert()
    };
    write_fastqs(&reads());
    seal_fastqs().success();
    // Reads from another flow cell: they do not derive from this run.
    write_fastqs(&reads().replace("000000000-ABCDE", "000000000-ZZZZZ"));
    seal_fastqs()
        .code(1)
        .stderr(predicates::str::contains(
            "read names disagree with the derived-from run",
        ))
        .stderr(predicates::str::contains("flow cell"));
}

/// A corrupted deflate stream inside a gzip-compressed BCL keeps its framing (header and
/// trailer sizes) intact: the default framing check seals it, a full check refuses it.
#[test]
fn full_structure_check_inflates_and_catches_a_corrupt_block() {
    let run = Run::new();
    let bcl = run
        .run
        .join("Data/Intensities/BaseCalls/L001/C1.1/s_1_1101.bcl");
    fs::remove_file(&bcl).unwrap();
    let body: Vec<u8> = [3u8, 0, 0, 0, 0x41, 0x82, 0xa3].to_vec();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    encoder.write_all(&body).unwrap();
    let mut gz = encoder.finish().unwrap();
    // A stored (level 0) block holds the bytes as they are: change a base call, keep the
    // CRC and size in the trailer as they were.
    let at = gz.windows(3).position(|w| w == [0x41, 0x82, 0xa3]).unwrap();
    gz[at] = 0x42;
    fs::write(bcl.with_extension("bcl.gz"), &gz).unwrap();
    run.seal(&[]).success();
    run.seal(&["--full-structure-check"])
        .code(1)
        .stderr(predicates::str::contains("s_1_1101.bcl.gz"));
}

/// Issue 12 item 23: a per-tile BCL whose second half holds qualities 61-63 (and many
/// calls of quality 0 or 1) is broken in the default mode: no Illumina instrument writes
/// a quality above 41.
#[test]
fn bcl_with_impossible_qualities_is_refused() {
    let run = Run::new();
    let bcl = "Data/Intensities/BaseCalls/L001/C1.1/s_1_1101.bcl";
    let clusters = 3000u32;
    let mut data = clusters.to_le_bytes().to_vec();
    for i in 0..clusters {
        data.push(if i < clusters / 2 {
            if i % 2 == 0 { 0x05 } else { 0x93 }
        } else {
            ((61 + (i % 3) as u8) << 2) | (i % 4) as u8
        });
    }
    fs::write(run.run.join(bcl), &data).unwrap();
    // The other cycle and the filter must agree on the cluster count.
    let mut other = clusters.to_le_bytes().to_vec();
    other.extend(std::iter::repeat_n(0x93u8, clusters as usize));
    fs::write(
        run.run
            .join("Data/Intensities/BaseCalls/L001/C2.1/s_1_1101.bcl"),
        &other,
    )
    .unwrap();
    run.seal(&[])
        .code(1)
        .stderr(predicates::str::contains(bcl))
        .stderr(predicates::str::contains("quality above 41"));
    assert!(!run.root.join(format!("{RUN_ID}.seqprov")).exists());
    run.seal(&["--allow-broken"]).success();
    let (report, code) = run.verify(&[]);
    assert_eq!(code, 0);
    assert!(
        report["warnings"].to_string().contains("quality above 41"),
        "{report:#}"
    );
}

/// Issue 12 item 5: a 316-byte RunInfo.xml claiming a million cycles on an
/// 8 × 2 × 9 × 99-tile layout is refused at once, naming the field, within bounded
/// memory (the process runs under a 2 GiB address-space limit), and nothing is written.
#[test]
fn absurd_run_metadata_is_refused_quickly_and_names_the_field() {
    let run = Run::new();
    let absurd = format!(
        "<?xml version=\"1.0\" ?>\n<RunInfo Version=\"2\"><Run Id=\"{RUN_ID}\" Number=\"42\">\
         <Instrument>M0123</Instrument><Date>261126</Date><Reads><Read Number=\"1\" \
         NumCycles=\"1000000\" IsIndexedRead=\"N\"/></Reads><FlowcellLayout LaneCount=\"8\" \
         SurfaceCount=\"2\" SwathCount=\"9\" TileCount=\"99\"/></Run></RunInfo>\n"
    );
    assert_eq!(absurd.len(), 316);
    fs::write(run.run.join("RunInfo.xml"), absurd).unwrap();
    let started = std::time::Instant::now();
    let binary = assert_cmd::cargo::cargo_bin("seqprov");
    let out = std::process::Command::new("sh")
        .current_dir(&run.root)
        .arg("-c")
        .arg(r#"ulimit -v 2097152 && exec "$0" seal "$1" --key core.key"#)
        .arg(&binary)
        .arg(RUN_ID)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Read/@NumCycles"), "{stderr}");
    assert!(stderr.contains("1000000"), "{stderr}");
    assert!(stderr.contains("more than 1000"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(!run.root.join(format!("{RUN_ID}.seqprov")).exists());
}

/// Issue 12 item 24: RunInfo.xml and the run parameters file naming different runs (run
/// ids or flow cells) are recorded in the seal, reported at seal and at verify, and a
/// policy with `refuse_run_mismatch = true` refuses the bundle (exit 3).
#[test]
fn run_info_and_run_parameters_naming_different_runs_are_reported() {
    let run = Run::new();
    let parameters = |run_id: &str, flowcell: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n<RunParameters><RunID>{run_id}</RunID><Setup>\
             <ApplicationName>MiSeq Control Software</ApplicationName></Setup>\
             <FlowcellRFIDTag><SerialNumber>{flowcell}</SerialNumber></FlowcellRFIDTag>\
             </RunParameters>\n"
        )
    };
    // The same run, the flow cell written in another case: nothing to report.
    fs::write(
        run.run.join("runParameters.xml"),
        parameters(RUN_ID, "000000000-abcde"),
    )
    .unwrap();
    run.seal(&[])
        .success()
        .stderr(predicates::str::contains("names run").not());
    assert_eq!(run.verify(&[]).1, 0);
    for (other_run, other_flowcell) in [
        ("261127_M01234_0043_000000000-FGHIJ", "000000000-ABCDE"),
        (RUN_ID, "000000000-FGHIJ"),
    ] {
        fs::write(
            run.run.join("runParameters.xml"),
            parameters(other_run, other_flowcell),
        )
        .unwrap();
        run.seal(&[])
            .success()
            .stderr(predicates::str::contains(format!(
                "RunInfo.xml names run {RUN_ID} (flow cell 000000000-ABCDE) but runParameters.xml \
             names run {other_run} (flow cell {other_flowcell})"
            )));
        let bundle = seqprov::read_bundle(&run.root.join(format!("{RUN_ID}.seqprov"))).unwrap();
        assert!(bundle.payload.run_mismatch.is_some());
        let (report, code) = run.verify(&[]);
        assert_eq!(code, 0, "{report:#}");
        assert!(
            report["warnings"].to_string().contains("names run"),
            "{report:#}"
        );
        let policy = run.root.join("lab.toml");
        fs::write(
            &policy,
            "version = 1\n[[signer]]\nname = \"Core\"\nkey = \"core.pub\"\n\
             [requirements]\nrefuse_run_mismatch = true\n",
        )
        .unwrap();
        let out = seqprov()
            .current_dir(&run.root)
            .args(["verify", RUN_ID, "--policy", "lab.toml", "--json"])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(3), "{report:#}");
        assert!(
            report["policy"].to_string().contains("run_mismatch"),
            "{report:#}"
        );
    }
}

/// Issue 12 item 27: a metadata-only run on a HiSeq X layout (8 lanes × 96 tiles, 318
/// cycles: 244,993 expected files) seals with `--allow-incomplete` into a small bundle
/// (the missing files are recorded by count, digest and ranges, not by name), and show
/// and verify report the count.
#[test]
fn an_empty_hiseq_x_layout_seals_compactly() {
    let run = Run::new();
    fs::remove_dir_all(run.run.join("Data")).unwrap();
    fs::remove_file(run.run.join("RTAComplete.txt")).unwrap();
    let info = format!(
        r#"<?xml version="1.0"?>
<RunInfo Version="2"><Run Id="{RUN_ID}" Number="42"><Flowcell>000000000-ABCDE</Flowcell>
<Instrument>E00123</Instrument><Date>261126</Date><Reads>
<Read Number="1" NumCycles="151" IsIndexedRead="N"/><Read Number="2" NumCycles="8" IsIndexedRead="Y"/>
<Read Number="3" NumCycles="8" IsIndexedRead="Y"/><Read Number="4" NumCycles="151" IsIndexedRead="N"/>
</Reads><FlowcellLayout LaneCount="8" SurfaceCount="2" SwathCount="2" TileCount="24"/></Run></RunInfo>
"#
    );
    fs::write(run.run.join("RunInfo.xml"), info).unwrap();
    run.seal(&[]).code(1).stderr(predicates::str::contains(
        "244993 of 244993 expected files are missing",
    ));
    run.seal(&["--allow-incomplete"]).success();
    let path = run.root.join(format!("{RUN_ID}.seqprov"));
    let size = fs::metadata(&path).unwrap().len();
    assert!(size < 8 * 1024, "the bundle is {size} bytes");
    let expected = 768 * 318 + 768 + 1;
    assert_eq!(run.show()["seal"]["missing"], expected);
    let (report, code) = run.verify(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["seal"]["missing"], expected, "{report:#}");
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with(&format!("sealed incomplete: {expected} file(s)")),
        "{report:#}"
    );
}

/// Issue 12 item 25: base calls of a lane the layout does not have are recorded as
/// unexpected (a warning at seal and at verify); `--strict-structure` refuses them.
#[test]
fn base_calls_of_an_unknown_lane_are_unexpected() {
    let run = Run::new();
    let stray = "Data/Intensities/BaseCalls/L005/C1.1/s_5_1101.bcl";
    fs::create_dir_all(run.run.join(stray).parent().unwrap()).unwrap();
    fs::write(run.run.join(stray), [3, 0, 0, 0, 0x41, 0x82, 0xa3]).unwrap();
    run.seal(&[])
        .success()
        .stderr(predicates::str::contains(format!(
            "base calls for lane 5, which RunInfo.xml's layout does not have: 1 file(s) (first: \
         {stray})"
        )));
    assert_eq!(run.show()["seal"]["unexpected"], 1);
    let (report, code) = run.verify(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert!(report["warnings"].to_string().contains(stray), "{report:#}");
    run.seal(&["--strict-structure"])
        .code(1)
        .stderr(predicates::str::contains("lane 5"))
        .stderr(predicates::str::contains("--strict-structure"));
}
