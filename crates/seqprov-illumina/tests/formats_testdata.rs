//! Real-data tier for `seqprov_illumina`: instrument output from `../shared/testdata`
//! (see its README). Set `SEQPROV_TESTDATA` to point elsewhere. Without the folder each
//! test prints that the tier did not run; under CI (`CI` set) a missing folder fails.
//!
//! Values asserted here were read by hand from the XML and FASTQ files.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use seqprov_illumina::fastq::{Compression, ContentHasher, ContentOutcome, content_of_reader};
use seqprov_illumina::run_info::{
    DateStyle, ReadInfo, RunMetadata, Tile, parse_run_info, parse_run_parameters, read_run_folder,
};
use seqprov_illumina::run_layout::{COPY_COMPLETE, LayoutFamily, RTA_COMPLETE, check_completeness};
use seqprov_illumina::run_mode::{Corroboration, RunMode};
use seqprov_illumina::structure::{
    CheckOptions, Depth, StrictMode, StructureChecker, StructureError, StructureSummary,
};

#[path = "../../../tests/support/testdata_dir.rs"]
mod testdata_dir;
use testdata_dir::testdata;

/// Every regular file below `root`, as `/`-separated paths relative to it, sorted.
fn files_below(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn reads(list: &[(u32, u32, bool)]) -> Vec<ReadInfo> {
    list.iter()
        .map(|&(number, cycles, indexed)| ReadInfo {
            number,
            cycles,
            indexed,
            reverse_complement: None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Run metadata

#[test]
fn every_run_metadata_file_parses() {
    let Some(data) = testdata() else { return };
    let dir = data.join("run-metadata");
    let mut infos = 0;
    let mut params = 0;
    for name in files_below(&dir) {
        let bytes = read(&dir.join(&name));
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("runinfo.") {
            let info = parse_run_info(&bytes, &name).unwrap_or_else(|e| panic!("{e}"));
            assert!(!info.reads.is_empty(), "{name}");
            let date = info
                .date
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: no date"));
            assert!(date.normalized.is_some(), "{name}: {date:?}");
            assert!(info.layout.is_some(), "{name}");
            infos += 1;
        } else if lower.starts_with("runparameters.") {
            let p = parse_run_parameters(&bytes, &name).unwrap_or_else(|e| panic!("{e}"));
            assert!(p.application_name.is_some(), "{name}");
            assert!(
                p.instrument_serial.is_some() || name.contains("hiseq"),
                "{name}"
            );
            // Every run parameters file in the set is from research (RUO) software.
            let meta = RunMetadata {
                run_info: parse_run_info(
                    br#"<RunInfo><Run Id="x" Number="1"/></RunInfo>"#,
                    "RunInfo.xml",
                )
                .unwrap(),
                run_parameters: Some(p),
            };
            let evidence = seqprov_illumina::run_mode::evidence_of(&meta);
            assert_eq!(
                evidence.indicates,
                Some(RunMode::Ruo),
                "{name}: {evidence:?}"
            );
            assert_eq!(evidence.corroborates(RunMode::Ruo), Corroboration::Agrees);
            assert!(matches!(
                evidence.corroborates(RunMode::Clinical),
                Corroboration::Disagrees(_)
            ));
            params += 1;
        } else {
            panic!("unexpected file {name} in run-metadata/");
        }
    }
    assert_eq!((infos, params), (17, 19));
}

fn run_info_of(data: &Path, name: &str) -> seqprov_illumina::run_info::RunInfo {
    parse_run_info(&read(&data.join("run-metadata").join(name)), name).unwrap()
}

fn run_parameters_of(data: &Path, name: &str) -> seqprov_illumina::run_info::RunParameters {
    parse_run_parameters(&read(&data.join("run-metadata").join(name)), name).unwrap()
}

#[test]
fn run_info_values_read_by_hand() {
    let Some(data) = testdata() else { return };

    let rr = run_info_of(&data, "runInfo.hiseq.rr.single.xml");
    assert_eq!(rr.run_id, "180511_HS35_25835_A_HGM3FBCX2");
    assert_eq!(rr.run_number, 797);
    assert_eq!(rr.version, Some(2));
    assert_eq!(rr.flowcell.as_deref(), Some("HGM3FBCX2"));
    assert_eq!(rr.instrument.as_deref(), Some("D00323"));
    let date = rr.date.unwrap();
    assert_eq!(date.style, DateStyle::Yymmdd);
    assert_eq!(date.normalized.as_deref(), Some("2018-05-11"));
    assert_eq!(
        rr.reads,
        reads(&[(1, 42, false), (2, 12, true), (3, 8, true)])
    );
    let layout = rr.layout.unwrap();
    assert_eq!(
        (
            layout.lanes,
            layout.surfaces,
            layout.swaths,
            layout.tiles_per_swath
        ),
        (2, 2, 2, 16)
    );
    assert!(layout.tiles.is_empty());
    assert_eq!(
        seqprov_illumina::run_layout::effective_tiles(&layout).len(),
        2 * 2 * 2 * 16
    );

    let nova = run_info_of(&data, "runInfo.novaseq.xml");
    assert_eq!(nova.run_id, "180517_A00512_0010_BH3WCVDSXX");
    assert_eq!(nova.run_number, 10);
    assert_eq!(nova.version, None);
    assert_eq!(nova.instrument.as_deref(), Some("A00512"));
    let date = nova.date.as_ref().unwrap();
    assert_eq!(date.raw, "5/17/2018 3:36:07 PM");
    assert_eq!(date.style, DateStyle::UsTwelveHour);
    assert_eq!(date.normalized.as_deref(), Some("2018-05-17T15:36:07"));
    assert_eq!(nova.total_cycles(), 318);
    let layout = nova.layout.unwrap();
    assert_eq!(
        (
            layout.lanes,
            layout.surfaces,
            layout.swaths,
            layout.tiles_per_swath
        ),
        (4, 2, 6, 78)
    );
    assert_eq!(layout.flowcell_side, Some(2));
    assert_eq!(layout.tile_naming.as_deref(), Some("FourDigit"));
    assert_eq!(layout.tiles.len(), 3744);
    let listed: BTreeSet<Tile> = layout.tiles.iter().copied().collect();
    let derived: BTreeSet<Tile> = {
        let mut counts_only = layout.clone();
        counts_only.tiles.clear();
        seqprov_illumina::run_layout::effective_tiles(&counts_only)
            .into_iter()
            .collect()
    };
    assert_eq!(
        listed, derived,
        "the counts describe exactly the listed tiles"
    );

    let x = run_info_of(&data, "runInfo.novaseqx.xml");
    assert_eq!(x.run_id, "NovaSeqX_WHGS_TruSeqPF_NA12878");
    assert_eq!((x.run_number, x.version), (30, Some(6)));
    assert_eq!(x.flowcell.as_deref(), Some("222VLMLT3"));
    assert_eq!(x.instrument.as_deref(), Some("Pi1-9"));
    let date = x.date.unwrap();
    assert_eq!(date.style, DateStyle::Iso8601);
    assert_eq!(date.normalized.as_deref(), Some("2023-01-31T03:08:30Z"));
    let flags: Vec<Option<bool>> = x.reads.iter().map(|r| r.reverse_complement).collect();
    assert_eq!(flags, [Some(false), Some(false), Some(true), Some(false)]);
    let layout = x.layout.unwrap();
    assert_eq!(
        (
            layout.lanes,
            layout.surfaces,
            layout.swaths,
            layout.tiles_per_swath
        ),
        (8, 2, 2, 98)
    );
    assert_eq!(layout.tiles.len(), 3136);

    // A trimmed five-digit layout: the list (56 tiles) is what counts, not the counts (60).
    let next = run_info_of(&data, "runInfo.nextseq.xml");
    assert_eq!(next.run_id, "160607_ML-PT1-15_0009_A000H02MFC");
    assert_eq!(next.instrument.as_deref(), Some("ML-PT1-15"));
    let layout = next.layout.unwrap();
    assert_eq!(layout.tile_naming.as_deref(), Some("FiveDigit"));
    assert_eq!(
        (layout.sections_per_lane, layout.lanes_per_section),
        (Some(1), Some(1))
    );
    assert_eq!(layout.tiles.len(), 56);
    assert_eq!(
        layout.tiles[0],
        Tile {
            lane: 1,
            tile: 11102
        }
    );
    assert_eq!(
        seqprov_illumina::run_layout::effective_tiles(&layout).len(),
        56
    );

    let miseq = run_info_of(&data, "runInfo.miseq.xml");
    assert_eq!(miseq.flowcell.as_deref(), Some("000000000-BF5NJ"));
    assert_eq!(
        miseq.reads,
        reads(&[(1, 150, false), (2, 11, true), (3, 150, false)])
    );
    assert_eq!(miseq.layout.unwrap().tiles_per_swath, 14);

    let lite = run_info_of(&data, "runInfo.novaseq.xp.lite.xml");
    assert_eq!(lite.reads, reads(&[(1, 3, false)]));
    assert!(lite.layout.unwrap().tiles.is_empty());
}

#[test]
fn run_parameters_values_read_by_hand() {
    let Some(data) = testdata() else { return };

    let miseq = run_parameters_of(&data, "runParameters.miseq.xml");
    assert_eq!(
        miseq.application_name.as_deref(),
        Some("MiSeq Control Software")
    );
    assert_eq!(miseq.application_version.as_deref(), Some("2.5.0.5"));
    assert_eq!(miseq.rta_version.as_deref(), Some("1.18.54"));
    assert_eq!(miseq.instrument_serial.as_deref(), Some("M02069"));
    assert_eq!(
        miseq.run_id.as_deref(),
        Some("171114_MS6_24347_A_MS5534842-300V2")
    );
    assert_eq!(miseq.run_number, Some(596));
    assert_eq!(
        (
            miseq.ucs_version.as_deref(),
            miseq.instrument_type.as_deref()
        ),
        (None, None)
    );

    let hiseq = run_parameters_of(&data, "runParameters.hiseq4000.xml");
    assert_eq!(
        hiseq.application_name.as_deref(),
        Some("HiSeq Control Software")
    );
    assert_eq!(hiseq.application_version.as_deref(), Some("HD 3.4.0.38"));
    assert_eq!(hiseq.rta_version.as_deref(), Some("2.7.7"));
    assert_eq!(hiseq.instrument_serial.as_deref(), Some("K00340"));
    // Setup/RunID, not the BaseSpace RunId nested deeper.
    assert_eq!(
        hiseq.run_id.as_deref(),
        Some("171116_HF1_24359_A_HLG55BBXX")
    );

    let next = run_parameters_of(&data, "RunParameters.nextseq.xml");
    assert_eq!(
        next.application_name.as_deref(),
        Some("NextSeq Control Software")
    );
    assert_eq!(next.application_version.as_deref(), Some("2.0.0.24"));
    assert_eq!(next.rta_version.as_deref(), Some("2.4.6"));
    assert_eq!(next.system_suite_version.as_deref(), Some("2.0.1.2"));
    assert_eq!(next.instrument_serial.as_deref(), Some("NS500114"));
    assert_eq!(next.run_number, Some(2));

    let nova = run_parameters_of(&data, "RunParameters.novaseq.xml");
    assert_eq!(
        nova.application_name.as_deref(),
        Some("NovaSeq Control Software")
    );
    assert_eq!(nova.application_version.as_deref(), Some("1.4.0"));
    assert_eq!(nova.rta_version.as_deref(), Some("v3.3.3"));
    assert_eq!(nova.ucs_version, None, "<UcsVersion /> is empty");
    assert_eq!(nova.instrument_serial.as_deref(), Some("A00512"));

    let ucs = run_parameters_of(&data, "RunParameters.novaseq.xp.v1.5.xml");
    assert_eq!(ucs.ucs_version.as_deref(), Some("1.6.3.1575"));
    assert_eq!(ucs.rta_version.as_deref(), Some("v3.4.4"));

    let x = run_parameters_of(&data, "RunParameters.novaseqx.xml");
    assert_eq!(x.application_name.as_deref(), Some("control-software"));
    assert_eq!(x.application_version, None);
    assert_eq!(x.rta_version, None);
    assert_eq!(x.instrument_type.as_deref(), Some("NovaSeqXPlus"));
    assert_eq!(x.instrument_serial.as_deref(), Some("Pi1-9"));
    assert_eq!(x.system_suite_version.as_deref(), Some("1.0.0.4155"));
    assert_eq!(x.run_number, Some(30));

    let prod = run_parameters_of(&data, "RunParameters.novaseqx.prod.xml");
    assert_eq!(
        prod.application_name.as_deref(),
        Some("NovaSeqXSeries Control Software")
    );
    assert_eq!(prod.instrument_serial.as_deref(), Some("LH00275"));
}

// ---------------------------------------------------------------------------------------
// Run folders

const NOVASEQ: &str = "190414_A00111_0296_AHJCWWDSXX";
const HISEQX: &str = "160919_hiseqx_0557_FC";

fn run_meta(data: &Path, run: &str) -> RunMetadata {
    read_run_folder(&data.join("runs").join(run))
        .unwrap()
        .unwrap_or_else(|| panic!("{run} has no RunInfo.xml"))
}

#[test]
fn real_runs_metadata_read_by_hand() {
    let Some(data) = testdata() else { return };

    let nova = run_meta(&data, NOVASEQ);
    let info = &nova.run_info;
    assert_eq!(info.run_id, NOVASEQ);
    assert_eq!((info.run_number, info.version), (296, Some(5)));
    assert_eq!(info.flowcell.as_deref(), Some("HJCWWDSXX"));
    assert_eq!(info.instrument.as_deref(), Some("A00111"));
    let date = info.date.as_ref().unwrap();
    assert_eq!(date.raw, "4/14/2019 1:17:20 PM");
    assert_eq!(date.normalized.as_deref(), Some("2019-04-14T13:17:20"));
    assert_eq!(
        info.reads,
        reads(&[(1, 4, false), (2, 8, true), (3, 8, true), (4, 4, false)])
    );
    let layout = info.layout.as_ref().unwrap();
    assert_eq!(
        (
            layout.lanes,
            layout.surfaces,
            layout.swaths,
            layout.tiles_per_swath
        ),
        (1, 1, 6, 3)
    );
    assert_eq!(layout.flowcell_side, Some(1));
    let tiles: Vec<String> = layout.tiles.iter().map(Tile::to_string).collect();
    assert_eq!(tiles, ["1_1101", "1_1102", "1_1103"]);
    assert!(nova.run_parameters.is_none());
    assert_eq!(
        seqprov_illumina::run_mode::evidence_of(&nova).corroborates(RunMode::Clinical),
        Corroboration::Unknown
    );

    let hx = run_meta(&data, HISEQX);
    let info = &hx.run_info;
    assert_eq!(info.run_id, "160919_hiseqx_0557");
    assert_eq!((info.run_number, info.version), (2, Some(4)));
    // Flowcell and Instrument sit directly under <RunInfo> in this folder.
    assert_eq!(info.flowcell.as_deref(), Some("TESTFLOWCELL"));
    assert_eq!(info.instrument.as_deref(), Some("hiseqx"));
    assert_eq!(
        info.date.as_ref().unwrap().normalized.as_deref(),
        Some("2016-09-19")
    );
    assert_eq!(info.reads, reads(&[(1, 16, false), (2, 16, false)]));
    let layout = info.layout.as_ref().unwrap();
    assert_eq!(
        (
            layout.lanes,
            layout.surfaces,
            layout.swaths,
            layout.tiles_per_swath
        ),
        (1, 2, 2, 2)
    );
    assert_eq!(layout.tiles.len(), 8);
    let params = hx.run_parameters.as_ref().unwrap();
    assert_eq!(params.file_name, "runParameters.xml");
    assert_eq!(
        params.application_name.as_deref(),
        Some("HiSeq Control Software")
    );
    assert_eq!(params.application_version.as_deref(), Some("3.3.39"));
    assert_eq!(params.rta_version, None);
    assert_eq!(
        seqprov_illumina::run_mode::evidence_of(&hx).corroborates(RunMode::Ruo),
        Corroboration::Agrees
    );

    // The metadata of every run encodes to canonical CBOR and back unchanged.
    for meta in [&nova, &hx] {
        let value = ciborium::value::Value::serialized(meta).unwrap();
        let bytes = seqprov_format::cbor::encode(value).unwrap();
        let back: RunMetadata = seqprov_format::cbor::decode_exact(&bytes)
            .unwrap()
            .deserialized()
            .unwrap();
        assert_eq!(&back, meta);
    }
}

#[test]
fn real_runs_lack_only_their_completion_markers() {
    let Some(data) = testdata() else { return };
    let runs = data.join("runs");
    let mut seen = 0;
    for entry in std::fs::read_dir(&runs).unwrap() {
        let dir = entry.unwrap().path();
        let meta = read_run_folder(&dir)
            .unwrap()
            .expect("every test run has RunInfo.xml");
        let present: BTreeSet<String> = files_below(&dir).into_iter().collect();
        let result = check_completeness(&meta, &present).unwrap();
        let missing_of = |result: &seqprov_illumina::Completeness| -> Vec<String> {
            result.missing.as_ref().map_or(Vec::new(), |set| {
                seqprov_illumina::run_layout::expand_file_set(set, &meta, usize::MAX).unwrap()
            })
        };
        // The published subsets keep every base call and filter of the tiles they list,
        // but neither publisher kept the markers the instrument writes at the end.
        for missing in &missing_of(&result) {
            assert!(
                missing == RTA_COMPLETE || missing == COPY_COMPLETE,
                "{}: {missing} is missing",
                dir.display()
            );
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        match name.as_str() {
            NOVASEQ => {
                assert_eq!(result.family, LayoutFamily::Cbcl);
                assert_eq!(result.expected, 24 + 3 + 2);
                assert_eq!(missing_of(&result), [COPY_COMPLETE, RTA_COMPLETE]);
            }
            HISEQX => {
                assert_eq!(result.family, LayoutFamily::PerTileBcl);
                assert_eq!(result.expected, 32 * 8 + 8 + 1);
                assert_eq!(missing_of(&result), [RTA_COMPLETE]);
            }
            other => eprintln!("{other}: {result:?}"),
        }
        // With the markers in place the runs are complete.
        let mut with_markers = present.clone();
        with_markers.insert(RTA_COMPLETE.into());
        with_markers.insert(COPY_COMPLETE.into());
        assert!(
            check_completeness(&meta, &with_markers)
                .unwrap()
                .is_complete()
        );
        // Removing one base call of a listed tile is reported as exactly that.
        let one = present
            .iter()
            .find(|p| p.ends_with(".cbcl") || p.ends_with(".bcl.gz"))
            .unwrap()
            .clone();
        with_markers.remove(&one);
        assert_eq!(
            missing_of(&check_completeness(&meta, &with_markers).unwrap()),
            [one]
        );
        seen += 1;
    }
    assert_eq!(seen, 2);
}

// ---------------------------------------------------------------------------------------
// Structure checks

const ALL_OPTIONS: [CheckOptions; 4] = [
    CheckOptions {
        mode: StrictMode::Strict,
        depth: Depth::Framing,
    },
    CheckOptions {
        mode: StrictMode::Strict,
        depth: Depth::Full,
    },
    CheckOptions {
        mode: StrictMode::Lenient,
        depth: Depth::Framing,
    },
    CheckOptions {
        mode: StrictMode::Lenient,
        depth: Depth::Full,
    },
];

fn check_bytes(
    path: &str,
    bytes: &[u8],
    options: CheckOptions,
    piece: usize,
) -> Option<Result<StructureSummary, StructureError>> {
    let mut checker = StructureChecker::for_path(path, options)?;
    for chunk in bytes.chunks(piece) {
        checker.update(chunk);
    }
    Some(checker.finish(bytes.len() as u64))
}

/// What each Picard reader test file must give: `Pass`, `Fail` (every mode), `StrictOnly`
/// (fails strict, passes lenient with a note), or `Unchecked` (not a checked kind).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Pass,
    Fail,
    StrictOnly,
    Unchecked,
}

fn picard_expectations() -> BTreeMap<&'static str, Expect> {
    use Expect::*;
    BTreeMap::from([
        ("bcl_passing.bcl", Pass),
        // Called bases with quality 0 (failing) and 1 (failing2): Picard's minimum-quality
        // rule. The HiSeq X test run has the same property, so only strict mode rejects it.
        ("bcl_failing.bcl", StrictOnly),
        ("bcl_failing2.bcl", StrictOnly),
        ("bcl_tooLong.bcl", Fail),
        ("bcl_tooShort.bcl", Fail),
        ("binary_passing.bin", Unchecked),
        ("cbcls/C1.1/L001_1.cbcl", Pass),
        ("cbcls/C2.1/L001_1.cbcl", Pass),
        // Picard's "empty tile" case: the header of tile 1101 was edited to declare a
        // 2-byte block and 0 bytes, while the data still holds its 22-byte gzip member.
        // Picard passes it only because its test never reads tile 1102.
        ("cbcls/C3.1/L001_1.cbcl", Fail),
        ("cbcls/tile_1101.filter", Pass),
        ("pf_badOpeningBytes.filter", Fail),
        ("pf_badVersionBytes.filter", Fail),
        ("pf_failing1.filter", Fail),
        ("pf_failing2.filter", Fail),
        ("pf_passing.filter", Pass),
        ("pf_tooLarge.filter", Fail),
        ("pf_tooShort.filter", Fail),
        ("pos_failing1_pos.txt", Fail),
        // Picard's PosFileReaderTest lists these three as invalid data (a negative
        // coordinate; `7.A0`; `11.0C`); the empty one is valid.
        ("s_1_1101_pos.txt", Fail),
        ("s_1_1102_pos.txt", Fail),
        ("s_1_1103_pos.txt", Fail),
        ("s_1_1104_pos.txt", Pass),
        ("s_2_1101_pos.txt", Pass),
        // Picard's LocsFileReaderTest lists 7 to 10 as invalid: 4 and 1 extra bytes,
        // a wrong first word, a wrong float.
        ("s_1_6.locs", Pass),
        ("s_1_7.locs", Fail),
        ("s_1_8.locs", Fail),
        ("s_1_9.locs", Fail),
        ("s_1_10.locs", Fail),
        ("s_1_2106.clocs", Pass),
        ("s_2_1101.clocs", Pass),
        ("s_3_2102.clocs", Pass),
        ("s_3_2103.clocs", Pass),
        ("s_3_2104.clocs", Pass),
        ("s_3_2105.clocs", Pass),
        ("tile_1101.filter", Pass),
        ("tile_1102.filter", Pass),
    ])
}

#[test]
fn picard_reader_files_pass_and_fail_as_named() {
    let Some(data) = testdata() else { return };
    let dir = data.join("illumina-readers");
    let expectations = picard_expectations();
    let files = files_below(&dir);
    assert_eq!(
        files.iter().map(String::as_str).collect::<Vec<_>>(),
        expectations.keys().copied().collect::<Vec<_>>(),
        "every file in illumina-readers/ has an expectation"
    );
    for name in &files {
        let bytes = read(&dir.join(name));
        let expect = expectations[name.as_str()];
        let lower = name.to_ascii_lowercase();
        if ["failing", "tooshort", "toolong", "bad"]
            .iter()
            .any(|word| lower.contains(word))
        {
            assert_ne!(expect, Expect::Pass, "{name} is named as failing");
        }
        for options in ALL_OPTIONS {
            for piece in [1, 13, 1 << 20] {
                let result = check_bytes(name, &bytes, options, piece);
                let strict = options.mode == StrictMode::Strict;
                match (expect, result) {
                    (Expect::Unchecked, None) => {}
                    (Expect::Pass, Some(Ok(summary))) => {
                        assert!(summary.notes.is_empty(), "{name}: {summary:?}")
                    }
                    (Expect::Fail, Some(Err(e))) => assert!(!e.reason.is_empty()),
                    (Expect::StrictOnly, Some(Err(e))) if strict => {
                        assert!(e.reason.contains("quality"), "{e}")
                    }
                    (Expect::StrictOnly, Some(Ok(summary))) if !strict => {
                        assert_eq!(summary.notes.len(), 1, "{name}")
                    }
                    (expect, got) => panic!("{name} {options:?}: expected {expect:?}, got {got:?}"),
                }
            }
        }
        if let Some(Err(e)) = check_bytes(name, &bytes, ALL_OPTIONS[0], 1 << 20) {
            eprintln!("strict: {e}");
        }
    }
}

#[test]
fn real_run_files_pass_lenient_and_strict_says_why_not() {
    let Some(data) = testdata() else { return };
    let runs = data.join("runs");
    let mut checked = 0;
    let mut above_41 = 0;
    let mut strict_failures: BTreeMap<(String, Depth), Vec<String>> = BTreeMap::new();
    for rel in files_below(&runs) {
        let bytes = read(&runs.join(&rel));
        for options in ALL_OPTIONS {
            let Some(result) = check_bytes(&rel, &bytes, options, 64 << 10) else {
                break;
            };
            match (options.mode, result) {
                (StrictMode::Lenient, Ok(summary)) => {
                    assert!(summary.clusters.is_some(), "{rel}");
                    if options.depth == Depth::Full {
                        checked += 1;
                    }
                }
                // The HiSeq X subset's bcl.gz files are synthetic: their qualities run
                // up to 63, above any instrument's 41, which full depth sees inside the
                // gzip data and refuses in every mode (issue 12 item 23).
                (StrictMode::Lenient, Err(e))
                    if options.depth == Depth::Full
                        && rel.starts_with(HISEQX)
                        && e.to_string().contains("quality above 41") =>
                {
                    above_41 += 1;
                }
                (StrictMode::Lenient, Err(e)) => panic!("lenient mode rejects a real file: {e}"),
                (StrictMode::Strict, Ok(_)) => {}
                (StrictMode::Strict, Err(e)) => {
                    let run = rel.split('/').next().unwrap().to_string();
                    strict_failures
                        .entry((run, options.depth))
                        .or_default()
                        .push(e.to_string());
                }
            }
        }
    }
    // 24 CBCL + 3 filters + s.locs; 256 bcl.gz + 8 filters + s.locs, of which the 256
    // bcl.gz fail at full depth on their synthetic qualities above 41.
    assert_eq!(checked, 28 + 265 - 256);
    assert_eq!(above_41, 256);
    for ((run, depth), failures) in &strict_failures {
        eprintln!(
            "strict {depth:?} on {run}: {} files fail, e.g. {}",
            failures.len(),
            failures[0]
        );
    }
    let count = |run: &str, depth| {
        strict_failures
            .get(&(run.to_string(), depth))
            .map_or(0, Vec::len)
    };
    // The NovaSeq subset is exact. The HiSeq X subset's s.locs declares 500 clusters but
    // holds 55,278 records, and its bcl.gz files (synthetic data) call bases with
    // quality 0 or 1 and above 41, which only full depth sees inside the gzip data.
    assert_eq!(count(NOVASEQ, Depth::Framing), 0);
    assert_eq!(count(NOVASEQ, Depth::Full), 0);
    assert_eq!(count(HISEQX, Depth::Framing), 1);
    assert_eq!(count(HISEQX, Depth::Full), 1 + 256);
}

#[test]
fn damaged_real_cbcl_is_caught() {
    let Some(data) = testdata() else { return };
    let path = data
        .join("runs")
        .join(NOVASEQ)
        .join("Data/Intensities/BaseCalls/L001/C5.1/L001_1.cbcl");
    let good = read(&path);
    let name = "L001/C5.1/L001_1.cbcl";
    let mut bad_header = good.clone();
    bad_header[2] += 1; // header size field
    let mut bad_tile = good.clone();
    bad_tile[0x3c] += 1; // tile 1101's compressed block size
    let mut flipped = good.clone();
    let last = flipped.len() - 20;
    flipped[last] ^= 0x10; // inside the last tile's deflate data
    for options in ALL_OPTIONS {
        assert!(check_bytes(name, &good, options, 7).unwrap().is_ok());
        for damaged in [&bad_header, &bad_tile, &good[..good.len() - 1]] {
            let result = check_bytes(name, damaged, options, 7).unwrap();
            assert!(result.is_err(), "{options:?}");
        }
    }
    let full = CheckOptions {
        mode: StrictMode::Strict,
        depth: Depth::Full,
    };
    assert!(check_bytes(name, &flipped, full, 7).unwrap().is_err());
}

// ---------------------------------------------------------------------------------------
// FASTQ content identity

fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// BGZF written here with flate2, block by block (the SAM specification's layout).
fn bgzf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in data.chunks(65_280).chain(std::iter::once(&[][..])) {
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(5));
        raw.write_all(piece).unwrap();
        let deflated = raw.finish().unwrap();
        let bsize = (18 + deflated.len() + 8 - 1) as u16;
        out.extend_from_slice(&[
            0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, b'B', b'C', 2, 0,
        ]);
        out.extend_from_slice(&bsize.to_le_bytes());
        out.extend_from_slice(&deflated);
        let mut crc = flate2::Crc::new();
        crc.update(piece);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(piece.len() as u32).to_le_bytes());
    }
    out
}

/// `bgzip -c` of `data`, when the command exists.
fn bgzip_command(data: &[u8]) -> Option<Vec<u8>> {
    let mut child = std::process::Command::new("bgzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    output.status.success().then_some(output.stdout)
}

fn content(bytes: &[u8]) -> ContentOutcome {
    content_of_reader(bytes).unwrap()
}

#[test]
fn fastq_counts_read_by_hand() {
    let Some(data) = testdata() else { return };
    // 36 lines each (no final line feed): 9 records; R1's first record has an empty
    // sequence and quality. Bases: 1208 and 1359.
    for (name, reads, bases) in [("R1.fq", 9, 1208), ("R2.fq", 9, 1359)] {
        let got = content(&read(&data.join("fastq").join(name)));
        assert_eq!(
            (got.content.reads, got.content.bases),
            (reads, bases),
            "{name}"
        );
        assert_eq!(got.compression, Compression::Plain);
    }
}

#[test]
fn recompressed_fastq_keeps_its_content_digest_and_one_quality_change_does_not() {
    let Some(data) = testdata() else { return };
    let fastqs = data.join("runs").join(NOVASEQ).join("fastqs");
    let mut all_plain = Vec::new();
    for name in files_below(&fastqs) {
        let original = read(&fastqs.join(&name));
        let got = content(&original);
        assert_eq!(got.compression, Compression::Gzip, "{name}");
        let mut plain = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::MultiGzDecoder::new(&original[..]),
            &mut plain,
        )
        .unwrap();
        assert_eq!(content(&plain).content, got.content, "{name}");
        all_plain.extend_from_slice(&plain);
    }
    // All 132 files concatenated: 444 reads, 1776 bases (counted with zcat and awk).
    let reference = content(&all_plain).content;
    assert_eq!((reference.reads, reference.bases), (444, 1776));
    let r1 = read(&data.join("fastq/R1.fq"));
    for text in [&all_plain, &r1] {
        let reference = content(text).content;
        let mut multi = gzip(&text[..text.len() / 3], 1);
        multi.extend(gzip(&text[text.len() / 3..], 9));
        for (compressed, kind) in [
            (gzip(text, 1), Compression::Gzip),
            (gzip(text, 9), Compression::Gzip),
            (multi, Compression::Gzip),
            (bgzf(text), Compression::Bgzf),
        ] {
            let got = content(&compressed);
            assert_eq!(got.content, reference);
            assert_eq!(got.compression, kind);
        }
        // Cross-check with the reference BGZF writer when it is installed.
        match bgzip_command(text) {
            Some(by_bgzip) => {
                let got = content(&by_bgzip);
                assert_eq!(
                    (got.content, got.compression),
                    (reference, Compression::Bgzf)
                );
            }
            None => eprintln!("bgzip is not installed: BGZF checked with flate2 blocks only"),
        }
        // One quality character changed: the fourth line of the second record.
        let lines: Vec<usize> = text
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        let at = lines[6] + 1;
        let mut changed = text.to_vec();
        changed[at] = if changed[at] == b'F' { b'E' } else { b'F' };
        let got = content(&gzip(&changed, 6)).content;
        assert_eq!((got.reads, got.bases), (reference.reads, reference.bases));
        assert_ne!(got.digest, reference.digest);
    }
}

#[test]
fn novaseq_fastq_read_names_match_their_run() {
    let Some(data) = testdata() else { return };
    let meta = run_meta(&data, NOVASEQ);
    let fastqs = data.join("runs").join(NOVASEQ).join("fastqs");
    let mut reads = 0;
    for name in files_below(&fastqs) {
        let mut hasher = ContentHasher::with_run(&meta);
        hasher.update(&read(&fastqs.join(&name)));
        let got = hasher.finish().unwrap();
        let lineage = got.lineage.unwrap();
        assert_eq!(lineage.checked, got.content.reads, "{name}");
        assert_eq!(lineage.mismatched, 0, "{name}: {:?}", lineage.examples);
        reads += lineage.checked;
    }
    assert_eq!(reads, 444);
    // Reads from another instrument and run (the NextSeq R1.fq) disagree on every name.
    let mut hasher = ContentHasher::with_run(&meta);
    hasher.update(&read(&data.join("fastq/R1.fq")));
    let lineage = hasher.finish().unwrap().lineage.unwrap();
    assert_eq!((lineage.checked, lineage.mismatched), (9, 9));
    let first = lineage.examples[0]
        .1
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>();
    assert_eq!(
        first,
        [
            "instrument `AS500713` in the read name, `A00111` in RunInfo.xml",
            "run number 64 in the read name, 296 in RunInfo.xml",
            "flow cell `HFKJJBGXY` in the read name, `HJCWWDSXX` in RunInfo.xml",
            "tile 1_11101 in the read name is not among the tiles RunInfo.xml lists",
        ]
    );
}
