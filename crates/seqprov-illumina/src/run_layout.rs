//! Layout families of Illumina run folders and the completeness rule: from `RunInfo.xml`,
//! derive every base-call file, filter file and completion marker a finished run holds,
//! and list the ones that are not there. See `spec/run-folders.md`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use seqprov_format::run_record::{FlowcellLayout, RunMetadata, Tile};

/// Folder of base calls, relative to the run folder.
pub const BASECALLS: &str = "Data/Intensities/BaseCalls";
/// Marker RTA writes when primary analysis has finished.
pub const RTA_COMPLETE: &str = "RTAComplete.txt";
/// Marker the control software writes when the run folder has been copied to its
/// output location.
pub const COPY_COMPLETE: &str = "CopyComplete.txt";

/// How base calls are laid out on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayoutFamily {
    /// One file per tile and cycle, `L00N/C<cycle>.1/s_<lane>_<tile>.bcl` or `.bcl.gz`,
    /// filters `L00N/s_<lane>_<tile>.filter` (MiSeq, HiSeq 2000/2500/3000/4000/X).
    PerTileBcl,
    /// One BGZF file per lane and cycle, `L00N/<cycle:04>.bcl.bgzf`, filter
    /// `L00N/s_<lane>.filter` and tile index `L00N/s_<lane>.bci` per lane
    /// (NextSeq 500/550, MiniSeq).
    LaneBgzf,
    /// One CBCL file per lane, surface and cycle, `L00N/C<cycle>.1/L00N_<surface>.cbcl`,
    /// filters `L00N/s_<lane>_<tile>.filter` (NovaSeq 6000, NovaSeq X, NextSeq
    /// 1000/2000, iSeq 100).
    Cbcl,
}

impl LayoutFamily {
    /// The family's name as written in bundles and reports.
    pub fn name(self) -> &'static str {
        match self {
            LayoutFamily::PerTileBcl => "per-tile-bcl",
            LayoutFamily::LaneBgzf => "lane-bgzf",
            LayoutFamily::Cbcl => "cbcl",
        }
    }

    /// The completion markers a finished run of this family holds at its root.
    ///
    /// Every RTA version writes `RTAComplete.txt`. `CopyComplete.txt` is written by the
    /// control software of the CBCL instruments only; on the older families it is
    /// recorded when present but not required, so their runs can be complete.
    pub fn required_markers(self) -> &'static [&'static str] {
        match self {
            LayoutFamily::Cbcl => &[RTA_COMPLETE, COPY_COMPLETE],
            LayoutFamily::PerTileBcl | LayoutFamily::LaneBgzf => &[RTA_COMPLETE],
        }
    }

    /// The marker whose appearance means the run folder is final, for `seal --wait`:
    /// `CopyComplete.txt` where the family writes it, `RTAComplete.txt` otherwise.
    pub fn final_marker(self) -> &'static str {
        match self {
            LayoutFamily::Cbcl => COPY_COMPLETE,
            LayoutFamily::PerTileBcl | LayoutFamily::LaneBgzf => RTA_COMPLETE,
        }
    }
}

/// How the layout family was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FamilySource {
    /// From the base-call files present (the family with the most files).
    Files,
    /// No base-call file is present: from the metadata (five-digit tiles → lane BGZF;
    /// RunInfo version 5 or later, or NovaSeq software → CBCL; otherwise per-tile BCL).
    Metadata,
}

/// The result of the completeness check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Completeness {
    /// The layout family the expectations were derived for.
    pub family: LayoutFamily,
    /// How the family was decided.
    pub family_from: FamilySource,
    /// Number of expected files (a tile's `.bcl` and `.bcl.gz` count as one).
    pub expected: u64,
    /// Expected files that are absent, sorted by path bytes.
    pub missing: Vec<String>,
}

impl Completeness {
    /// True when nothing expected is missing.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Why the expected files cannot be derived.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// `RunInfo.xml` has no `FlowcellLayout`.
    #[error("RunInfo.xml has no FlowcellLayout, so the expected tiles are unknown")]
    NoLayout,
    /// `RunInfo.xml` lists no reads, or reads of zero cycles only.
    #[error("RunInfo.xml lists no cycles, so the expected base calls are unknown")]
    NoCycles,
    /// The layout describes no tile.
    #[error("RunInfo.xml's FlowcellLayout describes no tile")]
    NoTiles,
}

/// Decide the layout family from the base-call files present (relative paths), or
/// `None` when there is none of any family.
pub fn detect_family<S: AsRef<str>>(present: impl IntoIterator<Item = S>) -> Option<LayoutFamily> {
    let mut counts = [0u64; 3];
    for path in present {
        if let Some(family) = base_call_family(path.as_ref()) {
            counts[family as usize] += 1;
        }
    }
    let families = [
        LayoutFamily::PerTileBcl,
        LayoutFamily::LaneBgzf,
        LayoutFamily::Cbcl,
    ];
    let (best, count) = families
        .iter()
        .zip(counts)
        .max_by_key(|(family, count)| (*count, std::cmp::Reverse(**family as usize)))?;
    (count > 0).then_some(*best)
}

/// The family a path's name says it is a base-call file of, if any.
pub fn base_call_family(path: &str) -> Option<LayoutFamily> {
    let rest = path.strip_prefix(BASECALLS)?.strip_prefix('/')?;
    let mut parts = rest.split('/');
    let lane_dir = parts.next()?;
    let lane = lane_number(lane_dir)?;
    let second = parts.next()?;
    match parts.next() {
        None => {
            // L00N/<cycle:04>.bcl.bgzf
            let cycle = second.strip_suffix(".bcl.bgzf")?;
            (cycle.len() == 4 && cycle.bytes().all(|b| b.is_ascii_digit()))
                .then_some(LayoutFamily::LaneBgzf)
        }
        Some(name) => {
            if parts.next().is_some() || cycle_number(second).is_none() {
                return None;
            }
            if let Some(stem) = name.strip_suffix(".cbcl") {
                let (l, surface) = stem.split_once('_')?;
                (lane_number(l) == Some(lane) && is_number(surface)).then_some(LayoutFamily::Cbcl)
            } else {
                let stem = name
                    .strip_suffix(".bcl.gz")
                    .or_else(|| name.strip_suffix(".bcl"))?;
                let (l, tile) = stem.strip_prefix("s_")?.split_once('_')?;
                (l.parse::<u32>().ok() == Some(lane) && is_number(tile))
                    .then_some(LayoutFamily::PerTileBcl)
            }
        }
    }
}

fn lane_number(dir: &str) -> Option<u32> {
    let digits = dir.strip_prefix('L')?;
    (digits.len() == 3 && is_number(digits))
        .then(|| digits.parse().ok())
        .flatten()
}

fn cycle_number(dir: &str) -> Option<u32> {
    let digits = dir.strip_prefix('C')?.strip_suffix(".1")?;
    is_number(digits).then(|| digits.parse().ok()).flatten()
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Guess the family from metadata alone (see [`FamilySource::Metadata`]).
pub fn family_from_metadata(meta: &RunMetadata) -> LayoutFamily {
    let info = &meta.run_info;
    if info.layout.as_ref().is_some_and(five_digit) {
        return LayoutFamily::LaneBgzf;
    }
    let novaseq = meta
        .run_parameters
        .as_ref()
        .and_then(|p| p.application_name.as_deref())
        .is_some_and(|name| name.to_ascii_lowercase().contains("novaseq"));
    if novaseq || info.version.is_some_and(|v| v >= 5) {
        LayoutFamily::Cbcl
    } else {
        LayoutFamily::PerTileBcl
    }
}

/// One expected file: present when any of its alternative paths is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedFile {
    /// The path reported when the file is missing.
    pub path: String,
    /// Another accepted path for the same content (`.bcl` for `.bcl.gz` and back).
    pub alternative: Option<String>,
}

impl ExpectedFile {
    fn one(path: String) -> ExpectedFile {
        ExpectedFile {
            path,
            alternative: None,
        }
    }

    /// True when the file or its alternative is in `present`.
    pub fn is_present(&self, present: &BTreeSet<String>) -> bool {
        present.contains(&self.path)
            || self
                .alternative
                .as_ref()
                .is_some_and(|alt| present.contains(alt))
    }
}

/// Every file a finished run of `family` holds, derived from the metadata.
///
/// `gzipped_bcl` chooses the reported name of per-tile base calls (`.bcl.gz` or `.bcl`);
/// either name satisfies the expectation.
pub fn expected_files(
    meta: &RunMetadata,
    family: LayoutFamily,
    gzipped_bcl: bool,
) -> Result<Vec<ExpectedFile>, LayoutError> {
    let layout = meta.run_info.layout.as_ref().ok_or(LayoutError::NoLayout)?;
    let cycles = meta.total_cycles();
    if cycles == 0 {
        return Err(LayoutError::NoCycles);
    }
    let tiles: Vec<Tile> = {
        let mut tiles = effective_tiles(layout);
        tiles.sort();
        tiles.dedup();
        tiles
    };
    if tiles.is_empty() {
        return Err(LayoutError::NoTiles);
    }
    let lanes: BTreeSet<u32> = tiles.iter().map(|t| t.lane).collect();
    let mut out = Vec::new();
    match family {
        LayoutFamily::PerTileBcl => {
            let (main, alt) = if gzipped_bcl {
                (".bcl.gz", ".bcl")
            } else {
                (".bcl", ".bcl.gz")
            };
            for cycle in 1..=cycles {
                for t in &tiles {
                    let stem = format!(
                        "{BASECALLS}/L{:03}/C{cycle}.1/s_{}_{}",
                        t.lane, t.lane, t.tile
                    );
                    out.push(ExpectedFile {
                        path: format!("{stem}{main}"),
                        alternative: Some(format!("{stem}{alt}")),
                    });
                }
            }
            push_tile_filters(&mut out, &tiles);
        }
        LayoutFamily::LaneBgzf => {
            for &lane in &lanes {
                for cycle in 1..=cycles {
                    out.push(ExpectedFile::one(format!(
                        "{BASECALLS}/L{lane:03}/{cycle:04}.bcl.bgzf"
                    )));
                }
                out.push(ExpectedFile::one(format!(
                    "{BASECALLS}/L{lane:03}/s_{lane}.filter"
                )));
                out.push(ExpectedFile::one(format!(
                    "{BASECALLS}/L{lane:03}/s_{lane}.bci"
                )));
            }
        }
        LayoutFamily::Cbcl => {
            let surfaces: BTreeSet<(u32, u32)> = tiles
                .iter()
                .map(|t| (t.lane, surface_of(layout, t.tile)))
                .collect();
            for cycle in 1..=cycles {
                for &(lane, surface) in &surfaces {
                    out.push(ExpectedFile::one(format!(
                        "{BASECALLS}/L{lane:03}/C{cycle}.1/L{lane:03}_{surface}.cbcl"
                    )));
                }
            }
            push_tile_filters(&mut out, &tiles);
        }
    }
    for marker in family.required_markers() {
        out.push(ExpectedFile::one(marker.to_string()));
    }
    Ok(out)
}

fn push_tile_filters(out: &mut Vec<ExpectedFile>, tiles: &[Tile]) {
    for t in tiles {
        out.push(ExpectedFile::one(format!(
            "{BASECALLS}/L{:03}/s_{}_{}.filter",
            t.lane, t.lane, t.tile
        )));
    }
}

/// Check a run folder's completeness: `present` holds the relative paths of its regular
/// files. The family is detected from the files (see [`detect_family`]); the tiles are
/// those `RunInfo.xml` lists, or those its counts describe when it lists none.
pub fn check_completeness(
    meta: &RunMetadata,
    present: &BTreeSet<String>,
) -> Result<Completeness, LayoutError> {
    let (family, family_from) = match detect_family(present) {
        Some(family) => (family, FamilySource::Files),
        None => (family_from_metadata(meta), FamilySource::Metadata),
    };
    let gzipped_bcl = present
        .iter()
        .any(|p| p.ends_with(".bcl.gz") && base_call_family(p).is_some());
    let expected = expected_files(meta, family, gzipped_bcl)?;
    let mut missing: Vec<String> = expected
        .iter()
        .filter(|e| !e.is_present(present))
        .map(|e| e.path.clone())
        .collect();
    missing.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(Completeness {
        family,
        family_from,
        expected: expected.len() as u64,
        missing,
    })
}

/// Files that macOS leaves on volumes it touches: `._*` AppleDouble files and
/// `.DS_Store`. They are not instrument output; seal reports them and excludes them only
/// under an explicit, recorded exclude rule.
pub fn is_macos_metadata(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == ".DS_Store" || name.starts_with("._")
}

// Tile numbering of a flow cell layout (`spec/run-folders.md`).
/// True when tile numbers have five digits (surface, swath, section, two-digit tile).
pub fn five_digit(layout: &FlowcellLayout) -> bool {
    layout.tile_naming.as_deref() == Some("FiveDigit")
}

/// The tiles of the run: the listed ones when RunInfo lists tiles, otherwise every
/// tile the counts describe (`S W TT` or, five-digit, `S W C TT`).
pub fn effective_tiles(layout: &FlowcellLayout) -> Vec<Tile> {
    if !layout.tiles.is_empty() {
        return layout.tiles.clone();
    }
    let sections = if five_digit(layout) {
        layout.sections_per_lane.unwrap_or(1).max(1)
    } else {
        1
    };
    let mut tiles = Vec::new();
    for lane in 1..=layout.lanes {
        for surface in 1..=layout.surfaces {
            for swath in 1..=layout.swaths {
                for section in 1..=sections {
                    for tile in 1..=layout.tiles_per_swath {
                        let number = if five_digit(layout) {
                            surface * 10_000 + swath * 1000 + section * 100 + tile
                        } else {
                            surface * 1000 + swath * 100 + tile
                        };
                        tiles.push(Tile { lane, tile: number });
                    }
                }
            }
        }
    }
    tiles
}

/// The surface a tile number belongs to (its leading digit).
pub fn surface_of(layout: &FlowcellLayout, tile: u32) -> u32 {
    if five_digit(layout) {
        tile / 10_000
    } else {
        tile / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_call_names_are_classified() {
        let f = |p: &str| base_call_family(p);
        assert_eq!(
            f("Data/Intensities/BaseCalls/L001/C1.1/s_1_1101.bcl"),
            Some(LayoutFamily::PerTileBcl)
        );
        assert_eq!(
            f("Data/Intensities/BaseCalls/L002/C310.1/s_2_2228.bcl.gz"),
            Some(LayoutFamily::PerTileBcl)
        );
        assert_eq!(
            f("Data/Intensities/BaseCalls/L001/0001.bcl.bgzf"),
            Some(LayoutFamily::LaneBgzf)
        );
        assert_eq!(
            f("Data/Intensities/BaseCalls/L001/C1.1/L001_2.cbcl"),
            Some(LayoutFamily::Cbcl)
        );
        assert_eq!(f("Data/Intensities/BaseCalls/L001/C1.1/L002_2.cbcl"), None);
        assert_eq!(f("Data/Intensities/BaseCalls/L001/C1.1/s_2_1101.bcl"), None);
        assert_eq!(f("Data/Intensities/BaseCalls/L001/s_1_1101.filter"), None);
        assert_eq!(f("Data/Intensities/BaseCalls/L001/0001.bcl.bgzf.bci"), None);
        assert_eq!(
            f("x/Data/Intensities/BaseCalls/L001/C1.1/s_1_1101.bcl"),
            None
        );
    }

    /// Write a run folder of `family` with three cycles and the listed `tiles` (of a
    /// larger layout, as in a trimmed run); returns the folder and the files written.
    fn generated_run(family: LayoutFamily) -> (tempfile::TempDir, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let (naming, tiles): (&str, &[(u32, u32)]) = match family {
            LayoutFamily::LaneBgzf => ("FiveDigit", &[(1, 11101), (2, 11101)]),
            _ => ("FourDigit", &[(1, 1101), (1, 2101), (2, 1101)]),
        };
        let listed: String = tiles
            .iter()
            .map(|(l, t)| format!("<Tile>{l}_{t}</Tile>"))
            .collect();
        let run_info = format!(
            r#"<?xml version="1.0"?><RunInfo Version="5"><Run Id="R" Number="1">
            <Flowcell>FC</Flowcell><Instrument>I</Instrument><Date>2024-01-02</Date><Reads>
            <Read Number="1" NumCycles="2" IsIndexedRead="N"/>
            <Read Number="2" NumCycles="1" IsIndexedRead="Y"/></Reads>
            <FlowcellLayout LaneCount="2" SurfaceCount="2" SwathCount="2" TileCount="4">
            <TileSet TileNamingConvention="{naming}"><Tiles>{listed}</Tiles></TileSet>
            </FlowcellLayout></Run></RunInfo>"#
        );
        let b = BASECALLS;
        let mut files = vec!["RunInfo.xml".to_string(), RTA_COMPLETE.to_string()];
        match family {
            LayoutFamily::PerTileBcl => {
                for c in 1..=3 {
                    for (l, t) in tiles {
                        files.push(format!("{b}/L00{l}/C{c}.1/s_{l}_{t}.bcl.gz"));
                    }
                }
                for (l, t) in tiles {
                    files.push(format!("{b}/L00{l}/s_{l}_{t}.filter"));
                }
            }
            LayoutFamily::LaneBgzf => {
                for l in 1..=2 {
                    for c in 1..=3 {
                        files.push(format!("{b}/L00{l}/000{c}.bcl.bgzf"));
                    }
                    files.push(format!("{b}/L00{l}/s_{l}.filter"));
                    files.push(format!("{b}/L00{l}/s_{l}.bci"));
                }
            }
            LayoutFamily::Cbcl => {
                for c in 1..=3 {
                    for (l, s) in [(1, 1), (1, 2), (2, 1)] {
                        files.push(format!("{b}/L00{l}/C{c}.1/L00{l}_{s}.cbcl"));
                    }
                }
                for (l, t) in tiles {
                    files.push(format!("{b}/L00{l}/s_{l}_{t}.filter"));
                }
                files.push(COPY_COMPLETE.to_string());
            }
        }
        for file in &files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let bytes = if file == "RunInfo.xml" {
                run_info.as_bytes()
            } else {
                b""
            };
            std::fs::write(path, bytes).unwrap();
        }
        (dir, files)
    }

    /// The files below `dir`, as `/`-separated relative paths.
    fn present(dir: &std::path::Path) -> BTreeSet<String> {
        fn visit(root: &std::path::Path, dir: &std::path::Path, out: &mut BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    visit(root, &path, out);
                } else {
                    let relative = path.strip_prefix(root).unwrap();
                    out.insert(relative.to_str().unwrap().to_string());
                }
            }
        }
        let mut out = BTreeSet::new();
        visit(dir, dir, &mut out);
        out
    }

    #[test]
    fn generated_runs_are_complete_and_each_removal_is_reported() {
        for (family, expected) in [
            (LayoutFamily::PerTileBcl, 13),
            (LayoutFamily::LaneBgzf, 11),
            (LayoutFamily::Cbcl, 14),
        ] {
            let (dir, files) = generated_run(family);
            let meta = crate::run_info::read_run_folder(dir.path())
                .unwrap()
                .unwrap();
            let all = present(dir.path());
            let complete = check_completeness(&meta, &all).unwrap();
            assert_eq!(complete.family, family);
            assert_eq!(complete.family_from, FamilySource::Files);
            assert_eq!(complete.expected, expected, "{family:?}");
            assert!(complete.is_complete(), "{family:?}: {:?}", complete.missing);
            let cycle = files
                .iter()
                .find(|f| base_call_family(f).is_some())
                .unwrap();
            let filter = files.iter().find(|f| f.ends_with(".filter")).unwrap();
            for removed in [cycle.as_str(), filter.as_str(), RTA_COMPLETE] {
                let mut fewer = all.clone();
                fewer.remove(removed);
                let result = check_completeness(&meta, &fewer).unwrap();
                assert_eq!(result.missing, vec![removed.to_string()], "{family:?}");
            }
            if family == LayoutFamily::Cbcl {
                let mut fewer = all.clone();
                fewer.remove(COPY_COMPLETE);
                let result = check_completeness(&meta, &fewer).unwrap();
                assert_eq!(result.missing, vec![COPY_COMPLETE.to_string()]);
            }
        }
    }

    #[test]
    fn plain_bcl_satisfies_a_gzipped_expectation_and_empty_runs_use_metadata() {
        let (dir, _) = generated_run(LayoutFamily::PerTileBcl);
        let meta = crate::run_info::read_run_folder(dir.path())
            .unwrap()
            .unwrap();
        let renamed: BTreeSet<String> = present(dir.path())
            .into_iter()
            .map(|p| p.strip_suffix(".gz").map(str::to_string).unwrap_or(p))
            .collect();
        assert!(check_completeness(&meta, &renamed).unwrap().is_complete());
        let only_info: BTreeSet<String> = ["RunInfo.xml".to_string()].into();
        let empty = check_completeness(&meta, &only_info).unwrap();
        // RunInfo Version 5 and four-digit tiles: the CBCL family.
        assert_eq!(empty.family, LayoutFamily::Cbcl);
        assert_eq!(empty.family_from, FamilySource::Metadata);
        assert_eq!(empty.missing.len() as u64, empty.expected);
    }

    #[test]
    fn macos_metadata_is_recognised() {
        assert!(is_macos_metadata(".DS_Store"));
        assert!(is_macos_metadata("Data/._RunInfo.xml"));
        assert!(!is_macos_metadata("Data/RunInfo.xml"));
    }
}
