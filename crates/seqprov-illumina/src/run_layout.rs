//! Layout families of Illumina run folders and the completeness rule: from `RunInfo.xml`,
//! derive every base-call file, filter file and completion marker a finished run holds,
//! and list the ones that are not there. See `spec/run-folders.md`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use seqprov_format::manifest::Bytes32;
use seqprov_format::run_record::{
    FileGroup, FileSet, FlowcellLayout, MAX_FILE_GROUPS, RunMetadata, Tile,
};

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completeness {
    /// The layout family the expectations were derived for.
    pub family: LayoutFamily,
    /// How the family was decided.
    pub family_from: FamilySource,
    /// Number of expected files (a tile's `.bcl` and `.bcl.gz` count as one).
    pub expected: u64,
    /// Expected files that are absent, recorded compactly; `None` when none is.
    pub missing: Option<FileSet>,
    /// The first missing paths in byte order (at most [`SHOWN`]), for messages.
    pub shown: Vec<String>,
    /// Base-call and filter files of lanes the layout does not have, with their lane,
    /// sorted by path bytes.
    pub unexpected: Vec<(u32, String)>,
}

/// How many missing paths a [`Completeness`] keeps by name for messages.
pub const SHOWN: usize = 20;

impl Completeness {
    /// True when nothing expected is missing.
    pub fn is_complete(&self) -> bool {
        self.missing.is_none()
    }

    /// Number of missing files.
    pub fn missing_count(&self) -> u64 {
        self.missing.as_ref().map_or(0, |m| m.count)
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
///
/// Expected files are never listed one by one: presence is kept as one bit per
/// expected file (at most 16,384 tiles × 2,000 cycles within the limits of
/// `spec/run-folders.md` §2.5) and the missing ones are recorded as ranges.
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
    let shape = Shape::of(meta)?;
    let kinds: &[Kind] = match family {
        LayoutFamily::PerTileBcl if gzipped_bcl => &[Kind::BclGz, Kind::Filter],
        LayoutFamily::PerTileBcl => &[Kind::Bcl, Kind::Filter],
        LayoutFamily::LaneBgzf => &[Kind::Bgzf, Kind::LaneFilter, Kind::Bci],
        LayoutFamily::Cbcl => &[Kind::Cbcl, Kind::Filter],
    };
    let mut grids: Vec<Grid> = kinds.iter().map(|&k| shape.grid(k, true)).collect();
    let mut markers: Vec<String> = family
        .required_markers()
        .iter()
        .map(|m| m.to_string())
        .collect();
    let expected = grids.iter().map(Grid::len).sum::<u64>() + markers.len() as u64;
    markers.retain(|m| !present.contains(m));
    markers.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut unexpected = Vec::new();
    for path in present {
        let Some((kind, lane, unit, cycle)) = parse_lane_file(path) else {
            continue;
        };
        if !shape.lanes.contains(&lane) {
            unexpected.push((lane, path.clone()));
            continue;
        }
        // A tile's `.bcl` and `.bcl.gz` satisfy the same expectation.
        let same = |k: Kind| {
            k == kind
                || matches!(
                    (k, kind),
                    (Kind::Bcl, Kind::BclGz) | (Kind::BclGz, Kind::Bcl)
                )
        };
        if let Some(grid) = grids.iter_mut().find(|g| same(g.kind)) {
            grid.set(lane, unit, cycle, false);
        }
    }
    let mut hasher = blake3::Hasher::new();
    let mut count = 0u64;
    let mut shown = Vec::new();
    emit(&grids, &markers, &mut |path| {
        hasher.update(path.as_bytes());
        hasher.update(b"\n");
        count += 1;
        if shown.len() < SHOWN {
            shown.push(path.to_string());
        }
    });
    let missing = (count > 0).then(|| {
        let mut groups: Vec<FileGroup> = grids.iter().flat_map(Grid::groups).collect();
        groups.sort_by(|a, b| {
            (a.kind.as_bytes(), a.lane, a.first, a.cfirst).cmp(&(
                b.kind.as_bytes(),
                b.lane,
                b.first,
                b.cfirst,
            ))
        });
        let names = if groups.len() > MAX_FILE_GROUPS {
            groups.clear();
            shown.clone()
        } else {
            markers.clone()
        };
        FileSet {
            count,
            blake3: Bytes32(*hasher.finalize().as_bytes()),
            groups,
            names,
        }
    });
    Ok(Completeness {
        family,
        family_from,
        expected,
        missing,
        shown,
        unexpected,
    })
}

/// Record a sorted list of paths as a [`FileSet`] without groups: count, digest and the
/// first [`SHOWN`] paths.
pub fn file_set_of(sorted: &[String]) -> Option<FileSet> {
    if sorted.is_empty() {
        return None;
    }
    let mut hasher = blake3::Hasher::new();
    for path in sorted {
        hasher.update(path.as_bytes());
        hasher.update(b"\n");
    }
    Some(FileSet {
        count: sorted.len() as u64,
        blake3: Bytes32(*hasher.finalize().as_bytes()),
        groups: Vec::new(),
        names: sorted.iter().take(SHOWN).cloned().collect(),
    })
}

/// Expand an exact [`FileSet`] recorded for `meta` into its paths, sorted by bytes, and
/// check them against its count and digest (`spec/bundle.md` §6.3). `limit` stops the
/// collection of paths (not the check) after that many.
pub fn expand_file_set(
    set: &FileSet,
    meta: &RunMetadata,
    limit: usize,
) -> Result<Vec<String>, String> {
    if !set.is_exact() {
        return Err("the set is recorded by count, digest and a sample only".into());
    }
    meta.run_info
        .check_bounds()
        .map_err(|e| format!("the recorded run metadata is out of range: {}", e.what))?;
    let mut grids: Vec<Grid> = Vec::new();
    // Every marked path counts against the record's own count: a forged record cannot
    // make the expansion do more work than the paths it claims.
    let mut budget = set.count;
    if !set.groups.is_empty() {
        let shape = Shape::of(meta).map_err(|e| e.to_string())?;
        for group in &set.groups {
            let kind = Kind::from_name(&group.kind)
                .ok_or_else(|| format!("unknown group kind `{}`", group.kind))?;
            if !grids.iter().any(|g| g.kind == kind) {
                grids.push(shape.grid(kind, false));
            }
            let grid = grids.iter_mut().find(|g| g.kind == kind).expect("added");
            grid.mark_group(group, &mut budget)?;
        }
    }
    let mut names = set.names.clone();
    names.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut hasher = blake3::Hasher::new();
    let mut count = 0u64;
    let mut out = Vec::new();
    emit(&grids, &names, &mut |path| {
        hasher.update(path.as_bytes());
        hasher.update(b"\n");
        count += 1;
        if out.len() < limit {
            out.push(path.to_string());
        }
    });
    if count != set.count || *hasher.finalize().as_bytes() != set.blake3.0 {
        return Err(format!(
            "its groups and names expand to {count} path(s) that do not match its count \
             ({}) and digest",
            set.count
        ));
    }
    Ok(out)
}

/// Describe a [`FileSet`] in words: up to `most` groups and names.
pub fn describe_file_set(set: &FileSet, most: usize) -> String {
    let range = |what: &str, a: u32, b: u32| {
        if a == b {
            format!("{what} {a}")
        } else {
            format!("{what}s {a}\u{2013}{b}")
        }
    };
    let mut parts: Vec<String> = set
        .groups
        .iter()
        .map(|g| {
            let unit = match g.kind.as_str() {
                "cbcl" => Some(range("surface", g.first, g.last)),
                "bcl" | "bcl.gz" | "filter" => Some(range("tile", g.first, g.last)),
                _ => None,
            };
            let cycles = (g.cfirst != 0).then(|| range("cycle", g.cfirst, g.clast));
            let mut text = format!("lane {}", g.lane);
            for part in [unit, cycles].into_iter().flatten() {
                text.push(' ');
                text.push_str(&part);
            }
            format!("{text} ({})", g.kind)
        })
        .chain(set.names.iter().cloned())
        .collect();
    let total = parts.len();
    parts.truncate(most);
    let mut text = parts.join(", ");
    if total > most {
        text.push_str(&format!(", and {} more", total - most));
    }
    if !set.is_exact() {
        text.push_str(", …");
    }
    text
}

/// The kinds of expected file below `Data/Intensities/BaseCalls/L00N/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bcl,
    BclGz,
    Cbcl,
    Bgzf,
    Filter,
    LaneFilter,
    Bci,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Bcl,
        Kind::BclGz,
        Kind::Cbcl,
        Kind::Bgzf,
        Kind::Filter,
        Kind::LaneFilter,
        Kind::Bci,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Bcl => "bcl",
            Kind::BclGz => "bcl.gz",
            Kind::Cbcl => "cbcl",
            Kind::Bgzf => "bcl.bgzf",
            Kind::Filter => "filter",
            Kind::LaneFilter => "lane-filter",
            Kind::Bci => "bci",
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    fn per_cycle(self) -> bool {
        matches!(self, Kind::Bcl | Kind::BclGz | Kind::Cbcl | Kind::Bgzf)
    }

    fn in_cycle_dir(self) -> bool {
        matches!(self, Kind::Bcl | Kind::BclGz | Kind::Cbcl)
    }

    /// The file's path below the lane directory; `cycle` is 0 for kinds without cycles.
    fn file_name(self, lane: u32, unit: u32, cycle: u32) -> String {
        match self {
            Kind::Bcl => format!("C{cycle}.1/s_{lane}_{unit}.bcl"),
            Kind::BclGz => format!("C{cycle}.1/s_{lane}_{unit}.bcl.gz"),
            Kind::Cbcl => format!("C{cycle}.1/L{lane:03}_{unit}.cbcl"),
            Kind::Bgzf => format!("{cycle:04}.bcl.bgzf"),
            Kind::Filter => format!("s_{lane}_{unit}.filter"),
            Kind::LaneFilter => format!("s_{lane}.filter"),
            Kind::Bci => format!("s_{lane}.bci"),
        }
    }
}

/// `Data/Intensities/BaseCalls/L00N/<name>` as (kind, lane, unit, cycle), when the name
/// is exactly how that kind's file is written (no leading zeros elsewhere).
fn parse_lane_file(path: &str) -> Option<(Kind, u32, u32, u32)> {
    let rest = path.strip_prefix(BASECALLS)?.strip_prefix('/')?;
    let (lane_dir, name) = rest.split_once('/')?;
    let lane = lane_number(lane_dir)?;
    let number = |text: &str| -> Option<u32> { is_number(text).then(|| text.parse().ok())? };
    let (kind, unit, cycle) = if let Some((dir, file)) = name.split_once('/') {
        let cycle = cycle_number(dir)?;
        if let Some(stem) = file.strip_suffix(".cbcl") {
            let (_, surface) = stem.split_once('_')?;
            (Kind::Cbcl, number(surface)?, cycle)
        } else if let Some(stem) = file.strip_suffix(".bcl.gz") {
            (Kind::BclGz, number(stem.rsplit_once('_')?.1)?, cycle)
        } else {
            let stem = file.strip_suffix(".bcl")?;
            (Kind::Bcl, number(stem.rsplit_once('_')?.1)?, cycle)
        }
    } else if let Some(cycle) = name.strip_suffix(".bcl.bgzf") {
        (Kind::Bgzf, 0, number(cycle)?)
    } else if let Some(stem) = name.strip_suffix(".bci") {
        let _ = stem;
        (Kind::Bci, 0, 0)
    } else {
        let stem = name.strip_suffix(".filter")?.strip_prefix("s_")?;
        match stem.split_once('_') {
            Some((_, tile)) => (Kind::Filter, number(tile)?, 0),
            None => (Kind::LaneFilter, 0, 0),
        }
    };
    (kind.file_name(lane, unit, cycle) == name).then_some((kind, lane, unit, cycle))
}

/// The units of a layout: its tiles, (lane, surface) pairs and lanes.
struct Shape {
    tiles: Vec<(u32, u32)>,
    surfaces: Vec<(u32, u32)>,
    lanes: BTreeSet<u32>,
    cycles: u32,
}

impl Shape {
    fn of(meta: &RunMetadata) -> Result<Shape, LayoutError> {
        let layout = meta.run_info.layout.as_ref().ok_or(LayoutError::NoLayout)?;
        let cycles = meta.total_cycles();
        if cycles == 0 {
            return Err(LayoutError::NoCycles);
        }
        let mut tiles: Vec<(u32, u32)> = effective_tiles(layout)
            .iter()
            .map(|t| (t.lane, t.tile))
            .collect();
        tiles.sort_unstable();
        tiles.dedup();
        if tiles.is_empty() {
            return Err(LayoutError::NoTiles);
        }
        let mut surfaces: Vec<(u32, u32)> = tiles
            .iter()
            .map(|&(lane, tile)| (lane, surface_of(layout, tile)))
            .collect();
        surfaces.dedup();
        let lanes = tiles.iter().map(|t| t.0).collect();
        Ok(Shape {
            tiles,
            surfaces,
            lanes,
            cycles,
        })
    }

    /// A grid of `kind` with every bit `missing`.
    fn grid(&self, kind: Kind, missing: bool) -> Grid {
        let rows: Vec<(u32, u32)> = match kind {
            Kind::Bcl | Kind::BclGz | Kind::Filter => self.tiles.clone(),
            Kind::Cbcl => self.surfaces.clone(),
            Kind::Bgzf | Kind::LaneFilter | Kind::Bci => {
                self.lanes.iter().map(|&lane| (lane, 0)).collect()
            }
        };
        let cols = if kind.per_cycle() { self.cycles } else { 1 };
        let len = rows.len() as u64 * u64::from(cols);
        let fill = if missing { u64::MAX } else { 0 };
        Grid {
            kind,
            rows,
            cols,
            bits: vec![fill; len.div_ceil(64) as usize],
        }
    }
}

/// One bit per expected file of one kind: a row per unit (sorted by lane, then unit),
/// a column per cycle (one column for kinds without cycles). A set bit is a missing
/// file.
struct Grid {
    kind: Kind,
    rows: Vec<(u32, u32)>,
    cols: u32,
    bits: Vec<u64>,
}

impl Grid {
    fn len(&self) -> u64 {
        self.rows.len() as u64 * u64::from(self.cols)
    }

    fn column(&self, cycle: u32) -> Option<u32> {
        if self.kind.per_cycle() {
            (1..=self.cols).contains(&cycle).then(|| cycle - 1)
        } else {
            (cycle == 0).then_some(0)
        }
    }

    fn index(&self, row: usize, col: u32) -> usize {
        row * self.cols as usize + col as usize
    }

    fn get(&self, row: usize, col: u32) -> bool {
        let i = self.index(row, col);
        self.bits[i / 64] >> (i % 64) & 1 == 1
    }

    fn put(&mut self, row: usize, col: u32, value: bool) {
        let i = self.index(row, col);
        if value {
            self.bits[i / 64] |= 1 << (i % 64);
        } else {
            self.bits[i / 64] &= !(1 << (i % 64));
        }
    }

    fn set(&mut self, lane: u32, unit: u32, cycle: u32, value: bool) {
        if let (Ok(row), Some(col)) = (self.rows.binary_search(&(lane, unit)), self.column(cycle)) {
            self.put(row, col, value);
        }
    }

    /// The rows of one lane, as a range of row indices.
    fn lane_rows(&self, lane: u32) -> std::ops::Range<usize> {
        let start = self.rows.partition_point(|r| r.0 < lane);
        let end = self.rows.partition_point(|r| r.0 <= lane);
        start..end
    }

    /// Mark a recorded group as missing; refuse cycles outside the layout.
    fn mark_group(&mut self, group: &FileGroup, budget: &mut u64) -> Result<(), String> {
        let cycles = if self.kind.per_cycle() {
            if group.cfirst == 0 || group.cfirst > group.clast || group.clast > self.cols {
                return Err(format!(
                    "a {} group has cycles {}-{} outside 1-{}",
                    group.kind, group.cfirst, group.clast, self.cols
                ));
            }
            group.cfirst..=group.clast
        } else {
            if (group.cfirst, group.clast) != (0, 0) {
                return Err(format!("a {} group has cycles", group.kind));
            }
            0..=0
        };
        let rows = self.lane_rows(group.lane);
        let mut any = false;
        for row in rows {
            let unit = self.rows[row].1;
            if unit < group.first || unit > group.last {
                continue;
            }
            for cycle in cycles.clone() {
                let col = self.column(cycle).expect("checked above");
                // Groups never overlap: so the marking work is bounded by the layout's
                // size, however many groups a (forged) record lists.
                if self.get(row, col) {
                    return Err(format!(
                        "{} groups overlap (lane {}, unit {unit}, cycle {cycle})",
                        group.kind, group.lane
                    ));
                }
                self.put(row, col, true);
                *budget = budget
                    .checked_sub(1)
                    .ok_or_else(|| "its groups name more paths than its count".to_string())?;
                any = true;
            }
        }
        if !any {
            return Err(format!(
                "a {} group of lane {} names no unit of the layout",
                group.kind, group.lane
            ));
        }
        Ok(())
    }

    /// Missing cycles of a row as inclusive ranges (`(0, 0)` for kinds without cycles).
    fn row_ranges(&self, row: usize) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut start = None;
        for col in 0..=self.cols {
            let set = col < self.cols && self.get(row, col);
            match (set, start) {
                (true, None) => start = Some(col),
                (false, Some(s)) => {
                    out.push(if self.kind.per_cycle() {
                        (s + 1, col)
                    } else {
                        (0, 0)
                    });
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    /// Maximal groups: consecutive units of a lane with the same missing cycles.
    fn groups(&self) -> Vec<FileGroup> {
        let mut out = Vec::new();
        let lanes: BTreeSet<u32> = self.rows.iter().map(|r| r.0).collect();
        for lane in lanes {
            let mut run: Option<UnitRun> = None;
            let mut close = |run: &mut Option<UnitRun>| {
                if let Some((first, last, ranges)) = run.take() {
                    for (cfirst, clast) in ranges {
                        out.push(FileGroup {
                            kind: self.kind.name().to_string(),
                            lane,
                            first,
                            last,
                            cfirst,
                            clast,
                        });
                    }
                }
            };
            for row in self.lane_rows(lane) {
                let unit = self.rows[row].1;
                let ranges = self.row_ranges(row);
                match &mut run {
                    Some((_, last, current)) if !ranges.is_empty() && *current == ranges => {
                        *last = unit;
                    }
                    _ => {
                        close(&mut run);
                        if !ranges.is_empty() {
                            run = Some((unit, unit, ranges));
                        }
                    }
                }
            }
            close(&mut run);
        }
        out
    }
}

/// Consecutive units (first, last) of a lane with the same missing cycle ranges.
type UnitRun = (u32, u32, Vec<(u32, u32)>);

/// Call `f` with every path the grids mark and every name, in byte order.
fn emit(grids: &[Grid], names: &[String], f: &mut dyn FnMut(&str)) {
    let mut names = names.iter().peekable();
    let mut put = |path: &str, f: &mut dyn FnMut(&str)| {
        while let Some(name) = names.next_if(|n| n.as_bytes() < path.as_bytes()) {
            f(name);
        }
        f(path);
    };
    let lanes: BTreeSet<u32> = grids
        .iter()
        .flat_map(|g| g.rows.iter().map(|r| r.0))
        .collect();
    enum Item {
        File(String),
        CycleDir(u32),
    }
    for lane in lanes {
        let prefix = format!("{BASECALLS}/L{lane:03}/");
        let mut items: Vec<(String, Item)> = Vec::new();
        let mut cycle_dirs: BTreeSet<u32> = BTreeSet::new();
        for grid in grids {
            for row in grid.lane_rows(lane) {
                let unit = grid.rows[row].1;
                for col in 0..grid.cols {
                    if !grid.get(row, col) {
                        continue;
                    }
                    let cycle = if grid.kind.per_cycle() { col + 1 } else { 0 };
                    if grid.kind.in_cycle_dir() {
                        cycle_dirs.insert(cycle);
                    } else {
                        let name = grid.kind.file_name(lane, unit, cycle);
                        items.push((name.clone(), Item::File(name)));
                    }
                }
            }
        }
        items.extend(
            cycle_dirs
                .into_iter()
                .map(|c| (format!("C{c}.1/"), Item::CycleDir(c))),
        );
        items.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (_, item) in items {
            match item {
                Item::File(name) => put(&format!("{prefix}{name}"), f),
                Item::CycleDir(cycle) => {
                    let mut files = Vec::new();
                    for grid in grids.iter().filter(|g| g.kind.in_cycle_dir()) {
                        let col = cycle - 1;
                        for row in grid.lane_rows(lane) {
                            if grid.get(row, col) {
                                files.push(grid.kind.file_name(lane, grid.rows[row].1, cycle));
                            }
                        }
                    }
                    files.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
                    for file in files {
                        put(&format!("{prefix}{file}"), f);
                    }
                }
            }
        }
    }
    for name in names {
        f(name);
    }
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
            assert!(complete.is_complete(), "{family:?}: {:?}", complete.shown);
            let cycle = files
                .iter()
                .find(|f| base_call_family(f).is_some())
                .unwrap();
            let filter = files.iter().find(|f| f.ends_with(".filter")).unwrap();
            for removed in [cycle.as_str(), filter.as_str(), RTA_COMPLETE] {
                let mut fewer = all.clone();
                fewer.remove(removed);
                let result = check_completeness(&meta, &fewer).unwrap();
                assert_eq!(missing_paths(&result, &meta), [removed], "{family:?}");
            }
            if family == LayoutFamily::Cbcl {
                let mut fewer = all.clone();
                fewer.remove(COPY_COMPLETE);
                let result = check_completeness(&meta, &fewer).unwrap();
                assert_eq!(missing_paths(&result, &meta), [COPY_COMPLETE]);
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
        assert_eq!(empty.missing_count(), empty.expected);
        assert_eq!(missing_paths(&empty, &meta).len() as u64, empty.expected);
    }

    /// The missing paths a completeness result records, expanded from its groups.
    fn missing_paths(result: &Completeness, meta: &RunMetadata) -> Vec<String> {
        match &result.missing {
            None => Vec::new(),
            Some(set) => expand_file_set(set, meta, usize::MAX).unwrap(),
        }
    }

    /// Issue 12 item 27: for every family and many subsets of a run's files, the compact
    /// record of what is missing expands to exactly the expected files (listed one by
    /// one, as before) that are absent, in byte order, and matches its count and digest.
    #[test]
    fn compact_missing_record_expands_to_exactly_the_absent_files() {
        for family in [
            LayoutFamily::PerTileBcl,
            LayoutFamily::LaneBgzf,
            LayoutFamily::Cbcl,
        ] {
            let (dir, _) = generated_run(family);
            let meta = crate::run_info::read_run_folder(dir.path())
                .unwrap()
                .unwrap();
            let all: Vec<String> = present(dir.path()).into_iter().collect();
            let mut state = 0x9e37_79b9_u64;
            for round in 0..200 {
                let kept: BTreeSet<String> = all
                    .iter()
                    .filter(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        round == 0 || !state.is_multiple_of(3)
                    })
                    .cloned()
                    .collect();
                let result = check_completeness(&meta, &kept).unwrap();
                let gz = kept.iter().any(|p| p.ends_with(".bcl.gz"));
                let mut old: Vec<String> = expected_files(&meta, result.family, gz)
                    .unwrap()
                    .into_iter()
                    .filter(|e| !e.is_present(&kept))
                    .map(|e| e.path)
                    .collect();
                old.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
                assert_eq!(missing_paths(&result, &meta), old, "{family:?} {round}");
                assert_eq!(result.shown, old[..old.len().min(SHOWN)]);
                if let Some(set) = &result.missing {
                    assert_eq!(set.count, old.len() as u64);
                    assert_eq!(
                        Some(set),
                        file_set_of(&old)
                            .map(|s| FileSet {
                                groups: set.groups.clone(),
                                names: set.names.clone(),
                                ..s
                            })
                            .as_ref()
                    );
                    // A changed count or group is caught by the expansion.
                    let mut wrong = set.clone();
                    wrong.count += 1;
                    assert!(expand_file_set(&wrong, &meta, 0).is_err());
                    // Hostile review round 2: a group repeated (overlapping groups), or
                    // groups naming more paths than the count, are refused while marking,
                    // so a forged record cannot make the expansion do unbounded work.
                    if let Some(first) = set.groups.first() {
                        let mut repeated = set.clone();
                        repeated.groups = vec![first.clone(); 4096];
                        let err = expand_file_set(&repeated, &meta, 0).unwrap_err();
                        assert!(err.contains("overlap"), "{err}");
                        let mut small = set.clone();
                        small.count = 0;
                        let err = expand_file_set(&small, &meta, 0).unwrap_err();
                        assert!(err.contains("more paths than its count"), "{err}");
                    }
                }
            }
        }
    }

    /// Issue 12 item 27: a metadata-only HiSeq X layout (8 lanes × 96 tiles × 318
    /// cycles) is recorded in a handful of groups, expanded without listing the files.
    #[test]
    fn an_empty_hiseq_x_layout_is_a_few_groups() {
        let info = r#"<?xml version="1.0"?><RunInfo Version="2"><Run Id="R" Number="1">
            <Flowcell>F</Flowcell><Instrument>I</Instrument><Date>160919</Date><Reads>
            <Read Number="1" NumCycles="151" IsIndexedRead="N"/>
            <Read Number="2" NumCycles="8" IsIndexedRead="Y"/>
            <Read Number="3" NumCycles="8" IsIndexedRead="Y"/>
            <Read Number="4" NumCycles="151" IsIndexedRead="N"/></Reads>
            <FlowcellLayout LaneCount="8" SurfaceCount="2" SwathCount="2" TileCount="24"/>
            </Run></RunInfo>"#;
        let meta = RunMetadata {
            run_info: crate::run_info::parse_run_info(info.as_bytes(), "RunInfo.xml").unwrap(),
            run_parameters: None,
        };
        let only_info: BTreeSet<String> = ["RunInfo.xml".to_string()].into();
        let result = check_completeness(&meta, &only_info).unwrap();
        assert_eq!(result.family, LayoutFamily::PerTileBcl);
        let set = result.missing.as_ref().unwrap();
        assert_eq!(set.count, 768 * 318 + 768 + 1);
        assert_eq!(set.groups.len(), 16);
        assert_eq!(set.names, [RTA_COMPLETE]);
        assert_eq!(expand_file_set(set, &meta, 3).unwrap().len(), 3);
    }

    #[test]
    fn macos_metadata_is_recognised() {
        assert!(is_macos_metadata(".DS_Store"));
        assert!(is_macos_metadata("Data/._RunInfo.xml"));
        assert!(!is_macos_metadata("Data/RunInfo.xml"));
    }
}
