//! What a seal records about the sequencing data, as plain data: the run metadata read
//! from `RunInfo.xml` and the run parameters file, the signer's run-mode claim, and the
//! content identity of a FASTQ file. Their CBOR forms are part of the seal payload and
//! entries (`spec/run-folders.md`, `spec/fastq-content.md`); reading them out of a run
//! folder is the job of `seqprov-illumina`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::bytes32::Bytes32;

/// Everything a seal records about a run folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMetadata {
    /// What `RunInfo.xml` says.
    pub run_info: RunInfo,
    /// What the run parameters file says, when the folder has one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub run_parameters: Option<RunParameters>,
}

impl RunMetadata {
    /// Total number of cycles over all reads.
    pub fn total_cycles(&self) -> u32 {
        self.run_info.total_cycles()
    }
}

/// The contents of `RunInfo.xml` that identify the run and shape its output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    /// `Run/@Id`, normally the run folder's name.
    pub run_id: String,
    /// `Run/@Number`: the instrument's run counter.
    pub run_number: u32,
    /// `RunInfo/@Version`, the schema version, when given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<u32>,
    /// Flow cell barcode (`Flowcell`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flowcell: Option<String>,
    /// Instrument serial (`Instrument`), as written in FASTQ read names.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub instrument: Option<String>,
    /// Run date (`Date`) in its raw and normalised forms.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub date: Option<RunDate>,
    /// Reads in order (`Reads/Read`).
    pub reads: Vec<ReadInfo>,
    /// Flow cell layout (`FlowcellLayout`), when given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub layout: Option<FlowcellLayout>,
}

impl RunInfo {
    /// Total number of cycles over all reads; saturates at `u32::MAX` instead of
    /// wrapping (metadata within [`RunInfo::check_bounds`] sums to at most
    /// [`MAX_TOTAL_CYCLES`]).
    pub fn total_cycles(&self) -> u32 {
        self.reads
            .iter()
            .fold(0u32, |sum, r| sum.saturating_add(r.cycles))
    }

    /// Check every count against the limits of `spec/run-folders.md` §2.5; the error
    /// names the first field out of range. Nothing derived from the metadata (expected
    /// files, tiles) is computed before this passes.
    pub fn check_bounds(&self) -> Result<(), OutOfBounds> {
        let over = |what: &str, value: u64, limit: u64, of: &str| {
            if value > limit {
                Err(OutOfBounds {
                    what: what.to_string(),
                    value: value.to_string(),
                    reason: format!(
                        "more than {limit}, the most {of} seqprov accepts (spec/run-folders.md §2.5)"
                    ),
                })
            } else {
                Ok(())
            }
        };
        for read in &self.reads {
            over(
                "Read/@NumCycles",
                read.cycles.into(),
                MAX_CYCLES_PER_READ.into(),
                "cycles per read",
            )?;
        }
        over(
            "Reads/Read",
            self.reads.len() as u64,
            MAX_READS as u64,
            "reads",
        )?;
        let total: u64 = self.reads.iter().map(|r| u64::from(r.cycles)).sum();
        over(
            "Reads/Read/@NumCycles (sum)",
            total,
            MAX_TOTAL_CYCLES.into(),
            "cycles in a run",
        )?;
        let Some(layout) = &self.layout else {
            return Ok(());
        };
        for (what, value, limit, of) in [
            (
                "FlowcellLayout/@LaneCount",
                layout.lanes,
                MAX_LANES,
                "lanes",
            ),
            (
                "FlowcellLayout/@SurfaceCount",
                layout.surfaces,
                MAX_SURFACES,
                "surfaces",
            ),
            (
                "FlowcellLayout/@SwathCount",
                layout.swaths,
                MAX_SWATHS,
                "swaths",
            ),
            (
                "FlowcellLayout/@TileCount",
                layout.tiles_per_swath,
                MAX_TILES_PER_SWATH,
                "tiles per swath",
            ),
            (
                "FlowcellLayout/@SectionPerLane",
                layout.sections_per_lane.unwrap_or(1),
                MAX_SECTIONS,
                "sections per lane",
            ),
        ] {
            over(what, value.into(), limit.into(), of)?;
        }
        over(
            "Tiles/Tile",
            layout.tiles.len() as u64,
            MAX_TILES as u64,
            "listed tiles",
        )?;
        for tile in &layout.tiles {
            if tile.lane == 0 || tile.lane > MAX_LANES || tile.tile > MAX_TILE_NUMBER {
                return Err(OutOfBounds {
                    what: "Tiles/Tile".into(),
                    value: tile.to_string(),
                    reason: format!(
                        "lanes are 1 to {MAX_LANES} and tile numbers at most {MAX_TILE_NUMBER} \
                         (spec/run-folders.md §2.5)"
                    ),
                });
            }
        }
        if layout.tiles.is_empty() {
            let sections = if layout.tile_naming.as_deref() == Some("FiveDigit") {
                layout.sections_per_lane.unwrap_or(1).max(1)
            } else {
                1
            };
            let derived = [
                layout.surfaces,
                layout.swaths,
                sections,
                layout.tiles_per_swath,
            ]
            .iter()
            .fold(u64::from(layout.lanes), |product, &n| {
                product.saturating_mul(n.into())
            });
            over(
                "FlowcellLayout (LaneCount × SurfaceCount × SwathCount × SectionPerLane × TileCount)",
                derived,
                MAX_TILES as u64,
                "tiles",
            )?;
        }
        Ok(())
    }
}

/// Most cycles in one read (the longest read of any instrument is 301 cycles).
pub const MAX_CYCLES_PER_READ: u32 = 1000;
/// Most reads in a run (real runs have at most 4, plus UMI reads).
pub const MAX_READS: usize = 16;
/// Most cycles over all reads (real runs have at most about 650).
pub const MAX_TOTAL_CYCLES: u32 = 2000;
/// Most lanes (HiSeq 2000 to X and NovaSeq X have 8).
pub const MAX_LANES: u32 = 8;
/// Most surfaces (a tile number's first digit is 1 or 2).
pub const MAX_SURFACES: u32 = 2;
/// Most swaths (one digit of a tile number; real flow cells have at most 6).
pub const MAX_SWATHS: u32 = 9;
/// Most tiles per swath (two digits of a tile number; real flow cells have at most 98).
pub const MAX_TILES_PER_SWATH: u32 = 99;
/// Most sections per lane (one digit of a five-digit tile number).
pub const MAX_SECTIONS: u32 = 9;
/// Most tiles in a run, listed or derived (the largest real layout has 3,744).
pub const MAX_TILES: usize = 16_384;
/// Largest tile number (five digits).
pub const MAX_TILE_NUMBER: u32 = 99_999;

/// A count in run metadata beyond the limits of `spec/run-folders.md` §2.5.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutOfBounds {
    /// The element or attribute, as a path such as `Read/@NumCycles`.
    pub what: String,
    /// The value found.
    pub value: String,
    /// Why it is refused.
    pub reason: String,
}

/// How a `RunInfo.xml` date was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateStyle {
    /// `160919`: two-digit year, month, day (MiSeq, HiSeq, NextSeq 500); read as 20YY.
    Yymmdd,
    /// `4/14/2019 1:17:20 PM`: month/day/year with a 12-hour clock (NovaSeq 6000).
    UsTwelveHour,
    /// ISO 8601 such as `2023-01-31T03:08:30Z` (NovaSeq X, NextSeq 1000/2000).
    Iso8601,
    /// None of the three: kept raw, not normalised.
    Unrecognised,
}

/// A run date as written and as normalised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunDate {
    /// The text of the `Date` element, trimmed.
    pub raw: String,
    /// Which style it was written in.
    pub style: DateStyle,
    /// ISO 8601: `YYYY-MM-DD` for a date alone, `YYYY-MM-DDTHH:MM:SS` for an instrument
    /// local time without zone, with `Z` or `±HH:MM` appended when the raw text had a
    /// zone. Absent for [`DateStyle::Unrecognised`].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub normalized: Option<String>,
}

/// One read (`Reads/Read`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadInfo {
    /// `@Number`, 1-based.
    pub number: u32,
    /// `@NumCycles`.
    pub cycles: u32,
    /// `@IsIndexedRead` is `Y`.
    pub indexed: bool,
    /// `@IsReverseComplement`, when given (NovaSeq X).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reverse_complement: Option<bool>,
}

/// The flow cell layout (`FlowcellLayout`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowcellLayout {
    /// `@LaneCount`.
    pub lanes: u32,
    /// `@SurfaceCount`.
    pub surfaces: u32,
    /// `@SwathCount`.
    pub swaths: u32,
    /// `@TileCount`: tiles per swath (per section on five-digit layouts).
    pub tiles_per_swath: u32,
    /// `@SectionPerLane` (NextSeq 500/550, MiniSeq).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sections_per_lane: Option<u32>,
    /// `@LanePerSection` (NextSeq 500/550, MiniSeq).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lanes_per_section: Option<u32>,
    /// `@FlowcellSide` (NovaSeq 6000: 1 = A, 2 = B).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flowcell_side: Option<u32>,
    /// `TileSet/@TileNamingConvention`: `FourDigit` or `FiveDigit`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tile_naming: Option<String>,
    /// The tiles `TileSet/Tiles/Tile` lists, in document order; empty when none are
    /// listed. Runs trimmed for publication list only the tiles they kept.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tiles: Vec<Tile>,
}

/// A tile, written `<lane>_<tile>` as in `RunInfo.xml` (`1_1101`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tile {
    /// Lane number, 1-based.
    pub lane: u32,
    /// Tile number (`1101`, `11102`, ...).
    pub tile: u32,
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.lane, self.tile)
    }
}

impl std::str::FromStr for Tile {
    type Err = String;
    fn from_str(text: &str) -> Result<Tile, String> {
        let (lane, tile) = text
            .split_once('_')
            .ok_or_else(|| "a tile is written <lane>_<tile>".to_string())?;
        Ok(Tile {
            lane: parse_u32(lane).ok_or("the lane is not a number")?,
            tile: parse_u32(tile).ok_or("the tile is not a number")?,
        })
    }
}

impl Serialize for Tile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Tile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What the run parameters file says about the software and instrument.
///
/// Fields are read from the root element's children or, on MiSeq, HiSeq and NextSeq
/// 500/550, from its `Setup` element's children; element names are matched without
/// regard to case (`RTAVersion` and `RtaVersion` alike). Empty elements count as absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunParameters {
    /// The file's name as found in the folder (`RunParameters.xml`, `runParameters.xml`).
    pub file_name: String,
    /// Control or operating software name (`ApplicationName`, or `Application`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub application_name: Option<String>,
    /// Its version (`ApplicationVersion`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub application_version: Option<String>,
    /// Real-Time Analysis version (`RTAVersion` / `RtaVersion`); absent on NovaSeq X.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rta_version: Option<String>,
    /// Universal Copy Service version (`UcsVersion`), the copier named in CVE-2023-1966.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ucs_version: Option<String>,
    /// Software suite version (`SystemSuiteVersion`: NextSeq, NovaSeq X).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub system_suite_version: Option<String>,
    /// Instrument type as the file states it (`InstrumentType`, NovaSeq X); not inferred.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub instrument_type: Option<String>,
    /// Instrument serial: the first of `InstrumentSerialNumber`, `InstrumentID`,
    /// `InstrumentName`, `ScannerID` present.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub instrument_serial: Option<String>,
    /// Run id (`RunID` / `RunId`), to compare with `RunInfo.xml`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub run_id: Option<String>,
    /// Run number (`RunNumber`, or `RunCounter` on NovaSeq X).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub run_number: Option<u32>,
}

/// The mode a signer attests a run was made in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    /// Clinical diagnostic (Dx) mode.
    Clinical,
    /// Research use only.
    Ruo,
}

impl RunMode {
    /// The name used on the command line and in the bundle: `clinical` or `ruo`.
    pub fn name(self) -> &'static str {
        match self {
            RunMode::Clinical => "clinical",
            RunMode::Ruo => "ruo",
        }
    }
}

impl std::str::FromStr for RunMode {
    type Err = String;
    fn from_str(text: &str) -> Result<RunMode, String> {
        match text {
            "clinical" => Ok(RunMode::Clinical),
            "ruo" => Ok(RunMode::Ruo),
            other => Err(format!(
                "run mode `{other}` is neither `clinical` nor `ruo`"
            )),
        }
    }
}

/// The content identity of a FASTQ file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FastqContent {
    /// Number of records.
    pub reads: u64,
    /// Number of bases (sum of sequence lengths).
    pub bases: u64,
    /// BLAKE3 (derive-key mode, the content context (`spec/fastq-content.md`)) of the canonical form.
    pub digest: Bytes32,
}

fn parse_u32(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A set of file paths a seal records compactly (`spec/bundle.md` §6.3): files of a
/// run folder that its layout expects but that were missing (`missing`), or base calls
/// the layout does not have (`unexpected`). `count` and `blake3` always bind the exact
/// set; `groups` and `names` name it, either exactly or (when the set is too scattered
/// to be grouped) by a sample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSet {
    /// Number of paths in the set (at least 1).
    pub count: u64,
    /// BLAKE3 of the paths sorted by their bytes, each followed by a line feed (0x0A).
    pub blake3: Bytes32,
    /// Ranges of expected files, each expanded against the run layout recorded in the
    /// same payload (`spec/bundle.md` §6.3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<FileGroup>,
    /// Paths not in any group (completion markers), or, when `groups` is empty and
    /// `count` is larger than the number of names, the first paths of the sorted set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// Most groups in a [`FileSet`]; a set needing more is recorded by count, digest and
/// sample names only.
pub const MAX_FILE_GROUPS: usize = 4096;
/// Most names in a [`FileSet`].
pub const MAX_FILE_SET_NAMES: usize = 64;

impl FileSet {
    /// True when `groups` and `names` together name every path of the set; false when
    /// `names` is only a sample (no groups, fewer names than `count`).
    pub fn is_exact(&self) -> bool {
        !self.groups.is_empty() || self.count == self.names.len() as u64
    }

    /// Check the shape: a non-empty set, at most [`MAX_FILE_GROUPS`] groups and
    /// [`MAX_FILE_SET_NAMES`] names, no more names than paths.
    pub fn validate(&self) -> Result<(), String> {
        if self.count == 0 {
            return Err("a recorded file set has a count of 0".into());
        }
        if self.groups.len() > MAX_FILE_GROUPS || self.names.len() > MAX_FILE_SET_NAMES {
            return Err(format!(
                "a recorded file set has more than {MAX_FILE_GROUPS} groups or \
                 {MAX_FILE_SET_NAMES} names"
            ));
        }
        if self.names.len() as u64 > self.count {
            return Err("a recorded file set names more paths than its count".into());
        }
        Ok(())
    }
}

/// Expected files of one kind in one lane: every unit of the lane in the run layout
/// with `first ≤ unit ≤ last`, for every cycle `cfirst` to `clast` (`spec/bundle.md`
/// §6.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileGroup {
    /// `bcl`, `bcl.gz`, `cbcl`, `bcl.bgzf`, `filter`, `lane-filter` or `bci`.
    pub kind: String,
    /// The lane.
    pub lane: u32,
    /// First unit: a tile (`bcl`, `bcl.gz`, `filter`), a surface (`cbcl`), 0 otherwise.
    pub first: u32,
    /// Last unit.
    pub last: u32,
    /// First cycle; 0 for kinds without cycles (`filter`, `lane-filter`, `bci`).
    pub cfirst: u32,
    /// Last cycle; 0 for kinds without cycles.
    pub clast: u32,
}
