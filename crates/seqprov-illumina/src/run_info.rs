//! Illumina run metadata: `RunInfo.xml` and `RunParameters.xml` (any casing of the name)
//! read into [`RunMetadata`], the record a seal embeds for a run folder.
//!
//! Every type here holds only text, unsigned integers, booleans, options, vectors and
//! structs, so it encodes to deterministic CBOR (no floats). See `spec/run-folders.md`.

use std::path::Path;

use crate::xml_tree::{self, Element};
pub use seqprov_format::run_record::{
    DateStyle, FlowcellLayout, ReadInfo, RunDate, RunInfo, RunMetadata, RunParameters, Tile,
};

/// The name of the run description file at the root of a run folder.
pub const RUN_INFO_NAME: &str = "RunInfo.xml";
/// The run parameters file; instruments write it as `RunParameters.xml` or
/// `runParameters.xml`, so it is matched without regard to case.
pub const RUN_PARAMETERS_NAME: &str = "RunParameters.xml";

/// A problem reading run metadata, naming the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not well-formed XML (or too large, or not UTF-8).
    #[error("{file}: not readable as XML: {reason}")]
    Xml {
        /// The file.
        file: String,
        /// What the XML reader found.
        reason: String,
    },
    /// A required element or attribute is absent or empty.
    #[error("{file}: {what} is missing")]
    Missing {
        /// The file.
        file: String,
        /// The element or attribute, as a path such as `Run/@Number`.
        what: String,
    },
    /// An element or attribute has a value that cannot be what it claims to be.
    #[error("{file}: {what} is `{value}`: {reason}")]
    Invalid {
        /// The file.
        file: String,
        /// The element or attribute, as a path such as `Read/@NumCycles`.
        what: String,
        /// The value found.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// More than one file in a folder matches a name compared without regard to case.
    #[error("{dir}: several files are named {name} apart from case: {found:?}")]
    Ambiguous {
        /// The folder.
        dir: String,
        /// The name looked for.
        name: String,
        /// Every matching name.
        found: Vec<String>,
    },
}

/// Largest `RunInfo.xml` or run parameters file read.
pub const MAX_METADATA_BYTES: u64 = 16 << 20;

/// Read `RunInfo.xml` (and the run parameters file beside it, if any) from a run folder;
/// `Ok(None)` when `dir` has no `RunInfo.xml` at its root, so it is not a run folder.
pub fn read_run_folder(dir: &Path) -> Result<Option<RunMetadata>, MetadataError> {
    Ok(read_run_folder_checked(dir)?.map(|folder| folder.meta))
}

/// A run folder's metadata, and whether its two metadata files name the same run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunFolder {
    /// What the seal records.
    pub meta: RunMetadata,
    /// `RunInfo.xml` and the run parameters file name different runs: what differs
    /// (see [`run_mismatch`]).
    pub mismatch: Option<String>,
}

/// [`read_run_folder`], also comparing the run and flow cell the two files name.
pub fn read_run_folder_checked(dir: &Path) -> Result<Option<RunFolder>, MetadataError> {
    let listing = std::fs::read_dir(dir).map_err(|e| MetadataError::Io {
        file: dir.display().to_string(),
        source: e,
    })?;
    let mut names = Vec::new();
    for entry in listing {
        let entry = entry.map_err(|e| MetadataError::Io {
            file: dir.display().to_string(),
            source: e,
        })?;
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if let (true, Ok(name)) = (is_file, entry.file_name().into_string()) {
            names.push(name);
        }
    }
    let dir_name = dir.display().to_string();
    let Some(info_name) = find_case_insensitive(&names, RUN_INFO_NAME, &dir_name)? else {
        return Ok(None);
    };
    // Read without following a symlink swapped in since the listing, and at most
    // MAX_METADATA_BYTES (a real RunInfo.xml is a few kilobytes).
    let read = |name: &str| -> Result<Vec<u8>, MetadataError> {
        use std::io::Read as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let io = |e| MetadataError::Io {
            file: name.to_string(),
            source: e,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(dir.join(name))
            .map_err(io)?;
        // The listing said "file", but a FIFO or device may have been swapped in since:
        // check the opened handle itself (O_NONBLOCK kept the open from waiting on a FIFO).
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(MetadataError::Io {
                file: name.to_string(),
                source: std::io::Error::other("not a regular file; not run metadata"),
            });
        }
        let mut bytes = Vec::new();
        file.take(MAX_METADATA_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_METADATA_BYTES {
            return Err(MetadataError::Io {
                file: name.to_string(),
                source: std::io::Error::other(format!(
                    "larger than {MAX_METADATA_BYTES} bytes; not run metadata"
                )),
            });
        }
        Ok(bytes)
    };
    let run_info = parse_run_info(&read(info_name)?, info_name)?;
    let (run_parameters, flowcell) = match find_run_parameters(&names, &dir_name)? {
        Some(name) => {
            let (parameters, flowcell) = parse_run_parameters_with_flowcell(&read(name)?, name)?;
            (Some(parameters), flowcell)
        }
        None => (None, None),
    };
    let mismatch = run_parameters
        .as_ref()
        .and_then(|p| run_mismatch(&run_info, p, flowcell.as_deref()));
    Ok(Some(RunFolder {
        meta: RunMetadata {
            run_info,
            run_parameters,
        },
        mismatch,
    }))
}

/// Whether `RunInfo.xml` and the run parameters file name different runs: their run
/// ids differ (compared trimmed, without regard to ASCII case), or their flow cells
/// differ (likewise, a leading flow-cell side letter `A` or `B` on either ignored, as
/// NovaSeq writes `AHJCWWDSXX` for flow cell `HJCWWDSXX`). Only values both files
/// state are compared (`spec/run-folders.md` §2.6).
pub fn run_mismatch(
    info: &RunInfo,
    parameters: &RunParameters,
    parameters_flowcell: Option<&str>,
) -> Option<String> {
    let norm = |s: &str| s.trim().to_ascii_uppercase();
    let run_differs = parameters
        .run_id
        .as_deref()
        .is_some_and(|id| norm(id) != norm(&info.run_id));
    let same_flowcell = |a: &str, b: &str| {
        let (a, b) = (norm(a), norm(b));
        let side = |x: &str| {
            x.strip_prefix(['A', 'B'])
                .map(str::to_string)
                .filter(|rest| !rest.is_empty())
        };
        a == b || side(&a).as_deref() == Some(&b) || side(&b).as_deref() == Some(&a)
    };
    let flowcell_differs = match (info.flowcell.as_deref(), parameters_flowcell) {
        (Some(a), Some(b)) => !same_flowcell(a, b),
        _ => false,
    };
    if !run_differs && !flowcell_differs {
        return None;
    }
    let describe = |run: Option<&str>, flowcell: Option<&str>| {
        let mut text = format!("run {}", run.unwrap_or("(not stated)"));
        if let Some(flowcell) = flowcell {
            text.push_str(&format!(" (flow cell {flowcell})"));
        }
        text
    };
    Some(format!(
        "{RUN_INFO_NAME} names {} but {} names {}",
        describe(Some(&info.run_id), info.flowcell.as_deref()),
        parameters.file_name,
        describe(parameters.run_id.as_deref(), parameters_flowcell)
    ))
}

/// Find the run parameters file among the file names of one folder, comparing names
/// without regard to case; two candidates that differ only in case are an error.
pub fn find_run_parameters<'a, S: AsRef<str>>(
    names: &'a [S],
    dir: &str,
) -> Result<Option<&'a str>, MetadataError> {
    find_case_insensitive(names, RUN_PARAMETERS_NAME, dir)
}

fn find_case_insensitive<'a, S: AsRef<str>>(
    names: &'a [S],
    wanted: &str,
    dir: &str,
) -> Result<Option<&'a str>, MetadataError> {
    let found: Vec<&str> = names
        .iter()
        .map(AsRef::as_ref)
        .filter(|n| n.eq_ignore_ascii_case(wanted))
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(MetadataError::Ambiguous {
            dir: dir.to_string(),
            name: wanted.to_string(),
            found: found.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

/// Parse the bytes of a `RunInfo.xml`; `file` names it in errors.
pub fn parse_run_info(bytes: &[u8], file: &str) -> Result<RunInfo, MetadataError> {
    let root = xml_tree::parse(bytes).map_err(|reason| MetadataError::Xml {
        file: file.into(),
        reason,
    })?;
    let ctx = Ctx { file };
    if root.name != "RunInfo" {
        return Err(ctx.invalid("root element", &root.name, "expected <RunInfo>"));
    }
    let run = root.child("Run").ok_or_else(|| ctx.missing("Run"))?;
    let run_id = run
        .attribute("Id")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ctx.missing("Run/@Id"))?
        .trim()
        .to_string();
    let run_number = ctx.number(run.attribute("Number"), "Run/@Number")?;
    let version = match root.attribute("Version") {
        Some(v) => Some(ctx.number(Some(v), "RunInfo/@Version")?),
        None => None,
    };
    // Flowcell, Instrument and Date belong under <Run>; some published test folders have
    // them directly under <RunInfo>, which is accepted too.
    let text_of = |name: &str| {
        run.child(name)
            .or_else(|| root.child(name))
            .map(|e| e.text.clone())
            .filter(|t| !t.is_empty())
    };
    let date = text_of("Date")
        .map(|raw| normalize_date(&raw))
        .transpose()
        .map_err(|(value, reason)| ctx.invalid("Run/Date", &value, &reason))?;
    let mut reads = Vec::new();
    if let Some(list) = run.child("Reads") {
        for read in list.children_named("Read") {
            reads.push(ReadInfo {
                number: ctx.number(read.attribute("Number"), "Read/@Number")?,
                cycles: ctx.number(read.attribute("NumCycles"), "Read/@NumCycles")?,
                indexed: ctx.flag(read.attribute("IsIndexedRead"), "Read/@IsIndexedRead")?,
                reverse_complement: match read.attribute("IsReverseComplement") {
                    Some(v) => Some(ctx.flag(Some(v), "Read/@IsReverseComplement")?),
                    None => None,
                },
            });
        }
    }
    let layout = match run.child("FlowcellLayout") {
        Some(layout) => Some(parse_layout(layout, &ctx)?),
        None => None,
    };
    let info = RunInfo {
        run_id,
        run_number,
        version,
        flowcell: text_of("Flowcell"),
        instrument: text_of("Instrument"),
        date,
        reads,
        layout,
    };
    info.check_bounds()
        .map_err(|e| ctx.invalid(&e.what, &e.value, &e.reason))?;
    Ok(info)
}

fn parse_layout(layout: &Element, ctx: &Ctx<'_>) -> Result<FlowcellLayout, MetadataError> {
    let optional = |name: &str| -> Result<Option<u32>, MetadataError> {
        match layout.attribute(name) {
            Some(v) => Ok(Some(
                ctx.number(Some(v), &format!("FlowcellLayout/@{name}"))?,
            )),
            None => Ok(None),
        }
    };
    let tile_set = layout.child("TileSet");
    let mut tiles = Vec::new();
    if let Some(list) = tile_set.and_then(|t| t.child("Tiles")) {
        for tile in list.children_named("Tile") {
            if tiles.len() > seqprov_format::run_record::MAX_TILES {
                break; // refused by check_bounds, which counts them
            }
            let parsed: Tile = tile
                .text
                .parse()
                .map_err(|why: String| ctx.invalid("Tiles/Tile", &tile.text, &why))?;
            tiles.push(parsed);
        }
    }
    Ok(FlowcellLayout {
        lanes: ctx.number(layout.attribute("LaneCount"), "FlowcellLayout/@LaneCount")?,
        surfaces: ctx.number(
            layout.attribute("SurfaceCount"),
            "FlowcellLayout/@SurfaceCount",
        )?,
        swaths: ctx.number(layout.attribute("SwathCount"), "FlowcellLayout/@SwathCount")?,
        tiles_per_swath: ctx.number(layout.attribute("TileCount"), "FlowcellLayout/@TileCount")?,
        sections_per_lane: optional("SectionPerLane")?,
        lanes_per_section: optional("LanePerSection")?,
        flowcell_side: optional("FlowcellSide")?,
        tile_naming: tile_set
            .and_then(|t| t.attribute("TileNamingConvention"))
            .map(str::to_string),
        tiles,
    })
}

/// Parse the bytes of a run parameters file; `file` is its name as found.
pub fn parse_run_parameters(bytes: &[u8], file: &str) -> Result<RunParameters, MetadataError> {
    Ok(parse_run_parameters_with_flowcell(bytes, file)?.0)
}

/// [`parse_run_parameters`], and the flow cell the file names, which is compared with
/// `RunInfo.xml` but not recorded: the first of `FlowCellSerial`,
/// `FlowCellSerialNumber`, `FlowcellRFIDTag/SerialNumber` (MiSeq),
/// `RfidsInfo/FlowCellSerialBarcode` (NovaSeq 6000) and `Barcode` (HiSeq), among the
/// root element's and its `Setup` element's children.
pub fn parse_run_parameters_with_flowcell(
    bytes: &[u8],
    file: &str,
) -> Result<(RunParameters, Option<String>), MetadataError> {
    let root = xml_tree::parse(bytes).map_err(|reason| MetadataError::Xml {
        file: file.into(),
        reason,
    })?;
    let ctx = Ctx { file };
    if !root.name.eq_ignore_ascii_case("RunParameters") {
        return Err(ctx.invalid("root element", &root.name, "expected <RunParameters>"));
    }
    let setup = root
        .children
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case("Setup"));
    let field = |names: &[&str]| -> Option<String> {
        for name in names {
            let scopes = std::iter::once(&root).chain(setup);
            for scope in scopes {
                let hit = scope
                    .children
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(name) && !c.text.is_empty());
                if let Some(hit) = hit {
                    return Some(hit.text.clone());
                }
            }
        }
        None
    };
    let run_number = match field(&["RunNumber", "RunCounter"]) {
        Some(text) => Some(ctx.number(Some(&text), "RunNumber")?),
        None => None,
    };
    let nested = |outer: &str, inner: &str| -> Option<String> {
        std::iter::once(&root).chain(setup).find_map(|scope| {
            scope
                .children
                .iter()
                .filter(|c| c.name.eq_ignore_ascii_case(outer))
                .flat_map(|c| c.children.iter())
                .find(|c| c.name.eq_ignore_ascii_case(inner) && !c.text.trim().is_empty())
                .map(|c| c.text.trim().to_string())
        })
    };
    let flowcell = field(&["FlowCellSerial", "FlowCellSerialNumber"])
        .or_else(|| nested("FlowcellRFIDTag", "SerialNumber"))
        .or_else(|| nested("RfidsInfo", "FlowCellSerialBarcode"))
        .or_else(|| field(&["Barcode"]));
    let parameters = RunParameters {
        file_name: file.to_string(),
        application_name: field(&["ApplicationName", "Application"]),
        application_version: field(&["ApplicationVersion"]),
        rta_version: field(&["RTAVersion"]),
        ucs_version: field(&["UcsVersion"]),
        system_suite_version: field(&["SystemSuiteVersion"]),
        instrument_type: field(&["InstrumentType"]),
        instrument_serial: field(&[
            "InstrumentSerialNumber",
            "InstrumentID",
            "InstrumentName",
            "ScannerID",
        ]),
        run_id: field(&["RunID"]),
        run_number,
    };
    Ok((parameters, flowcell))
}

/// Normalise a `RunInfo.xml` date; the error is `(raw text, reason)` for text that
/// looks like one of the three styles but is not a real date or time.
pub fn normalize_date(raw: &str) -> Result<RunDate, (String, String)> {
    let raw = raw.trim();
    let fail = |why: &str| Err((raw.to_string(), why.to_string()));
    let done = |style, normalized: String| {
        Ok(RunDate {
            raw: raw.to_string(),
            style,
            normalized: Some(normalized),
        })
    };
    if raw.len() == 6 && raw.bytes().all(|b| b.is_ascii_digit()) {
        let (y, m, d) = (&raw[0..2], &raw[2..4], &raw[4..6]);
        let year = 2000 + parse_u32(y).unwrap_or(0);
        return match calendar_date(year, parse_u32(m), parse_u32(d)) {
            Some(date) => done(DateStyle::Yymmdd, date),
            None => fail("not a calendar date (YYMMDD)"),
        };
    }
    if raw.contains('/') {
        return match us_twelve_hour(raw) {
            Some(normalized) => done(DateStyle::UsTwelveHour, normalized),
            None => fail("not a date in the form M/D/YYYY h:mm:ss AM|PM"),
        };
    }
    if raw.len() >= 10 && raw.as_bytes()[4] == b'-' {
        return match iso8601(raw) {
            Some(normalized) => done(DateStyle::Iso8601, normalized),
            None => fail("not an ISO 8601 date or date-time"),
        };
    }
    Ok(RunDate {
        raw: raw.to_string(),
        style: DateStyle::Unrecognised,
        normalized: None,
    })
}

fn calendar_date(year: u32, month: Option<u32>, day: Option<u32>) -> Option<String> {
    let month = u8::try_from(month?).ok()?;
    let day = u8::try_from(day?).ok()?;
    let year = i32::try_from(year).ok()?;
    let m = time::Month::try_from(month).ok()?;
    time::Date::from_calendar_date(year, m, day).ok()?;
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

fn clock(h: u32, m: u32, s: u32) -> Option<String> {
    (h < 24 && m < 60 && s < 61).then(|| format!("{h:02}:{m:02}:{s:02}"))
}

fn us_twelve_hour(raw: &str) -> Option<String> {
    let mut parts = raw.split_whitespace();
    let date = parts.next()?;
    let time_part = parts.next();
    let meridiem = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let mut d = date.split('/');
    let (month, day, year) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() || year.len() != 4 {
        return None;
    }
    let date = calendar_date(parse_u32(year)?, parse_u32(month), parse_u32(day))?;
    let Some(time_part) = time_part else {
        return Some(date);
    };
    let mut t = time_part.split(':');
    let hour = parse_u32(t.next()?)?;
    let minute = parse_u32(t.next()?)?;
    let second = match t.next() {
        Some(s) => parse_u32(s)?,
        None => 0,
    };
    if t.next().is_some() {
        return None;
    }
    let hour = match meridiem.map(str::to_ascii_uppercase).as_deref() {
        Some("AM") if (1..=12).contains(&hour) => hour % 12,
        Some("PM") if (1..=12).contains(&hour) => hour % 12 + 12,
        None => hour,
        _ => return None,
    };
    Some(format!("{date}T{}", clock(hour, minute, second)?))
}

fn iso8601(raw: &str) -> Option<String> {
    let date = calendar_date(
        parse_u32(raw.get(0..4)?)?,
        parse_u32(raw.get(5..7)?),
        parse_u32(raw.get(8..10)?),
    )
    .filter(|_| raw.as_bytes().get(7) == Some(&b'-'))?;
    let rest = &raw[10..];
    if rest.is_empty() {
        return Some(date);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    // Split off the zone: `Z`, or `+`/`-` after the time.
    let (time_text, zone) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let (time_text, fraction) = match time_text.split_once(['.', ',']) {
        Some((t, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (t, Some(f)),
        Some(_) => return None,
        None => (time_text, None),
    };
    let mut t = time_text.split(':');
    let hour = parse_u32(t.next()?)?;
    let minute = parse_u32(t.next()?)?;
    let second = match t.next() {
        Some(s) => parse_u32(s)?,
        None => 0,
    };
    if t.next().is_some() {
        return None;
    }
    let mut out = format!("{date}T{}", clock(hour, minute, second)?);
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    match zone {
        None => {}
        Some("Z" | "z") => out.push('Z'),
        Some(zone) => {
            let sign = &zone[..1];
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !zone[1..].bytes().all(|b| b.is_ascii_digit() || b == b':') {
                return None;
            }
            let (h, m) = (parse_u32(&digits[..2])?, parse_u32(&digits[2..])?);
            if h > 23 || m > 59 {
                return None;
            }
            out.push_str(&format!("{sign}{h:02}:{m:02}"));
        }
    }
    Some(out)
}

fn parse_u32(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Error construction for one file.
struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn missing(&self, what: &str) -> MetadataError {
        MetadataError::Missing {
            file: self.file.into(),
            what: what.into(),
        }
    }

    fn invalid(&self, what: &str, value: &str, reason: &str) -> MetadataError {
        MetadataError::Invalid {
            file: self.file.into(),
            what: what.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }

    fn number(&self, value: Option<&str>, what: &str) -> Result<u32, MetadataError> {
        let value = value
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| self.missing(what))?;
        parse_u32(value).ok_or_else(|| self.invalid(what, value, "not an unsigned integer"))
    }

    fn flag(&self, value: Option<&str>, what: &str) -> Result<bool, MetadataError> {
        match value.map(str::trim) {
            Some("Y" | "y" | "true" | "True") => Ok(true),
            Some("N" | "n" | "false" | "False") => Ok(false),
            Some(other) => Err(self.invalid(what, other, "expected Y or N")),
            None => Err(self.missing(what)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_date_styles_normalise() {
        let d = normalize_date("160919").unwrap();
        assert_eq!(
            (d.style, d.normalized.as_deref()),
            (DateStyle::Yymmdd, Some("2016-09-19"))
        );
        let d = normalize_date("4/14/2019 1:17:20 PM").unwrap();
        assert_eq!(d.style, DateStyle::UsTwelveHour);
        assert_eq!(d.normalized.as_deref(), Some("2019-04-14T13:17:20"));
        assert_eq!(
            normalize_date("12/12/2017 12:05:00 AM")
                .unwrap()
                .normalized
                .as_deref(),
            Some("2017-12-12T00:05:00")
        );
        assert_eq!(
            normalize_date("5/17/2018 12:36:07 PM")
                .unwrap()
                .normalized
                .as_deref(),
            Some("2018-05-17T12:36:07")
        );
        let d = normalize_date("2023-01-31T03:08:30Z").unwrap();
        assert_eq!(d.style, DateStyle::Iso8601);
        assert_eq!(d.normalized.as_deref(), Some("2023-01-31T03:08:30Z"));
        assert_eq!(
            normalize_date("2023-01-31T03:08:30.250-0700")
                .unwrap()
                .normalized
                .as_deref(),
            Some("2023-01-31T03:08:30.250-07:00")
        );
        assert_eq!(
            normalize_date("2023-01-31").unwrap().normalized.as_deref(),
            Some("2023-01-31")
        );
        assert_eq!(
            normalize_date("Tuesday").unwrap().style,
            DateStyle::Unrecognised
        );
        assert!(normalize_date("160231").is_err());
        assert!(normalize_date("13/14/2019 1:17:20 PM").is_err());
        assert!(normalize_date("4/14/2019 13:17:20 PM").is_err());
        assert!(normalize_date("2023-02-30T00:00:00Z").is_err());
    }

    #[test]
    fn tiles_round_trip_as_text() {
        let tile: Tile = "2_11102".parse().unwrap();
        assert_eq!(
            tile,
            Tile {
                lane: 2,
                tile: 11102
            }
        );
        assert_eq!(tile.to_string(), "2_11102");
        assert!("1101".parse::<Tile>().is_err());
        assert!("1_x".parse::<Tile>().is_err());
    }

    const MINIMAL: &str = r#"<?xml version="1.0"?>
<RunInfo Version="2"><Run Id="R1" Number="7"><Flowcell>FC1</Flowcell><Instrument>M1</Instrument>
<Date>171114</Date><Reads><Read Number="1" NumCycles="3" IsIndexedRead="N"/>
<Read Number="2" NumCycles="2" IsIndexedRead="Y"/></Reads>
<FlowcellLayout LaneCount="2" SurfaceCount="2" SwathCount="1" TileCount="2"/></Run></RunInfo>"#;

    #[test]
    fn derives_tiles_from_counts_when_none_are_listed() {
        let info = parse_run_info(MINIMAL.as_bytes(), "RunInfo.xml").unwrap();
        assert_eq!(info.total_cycles(), 5);
        let layout = info.layout.unwrap();
        let tiles: Vec<String> = crate::run_layout::effective_tiles(&layout)
            .iter()
            .map(Tile::to_string)
            .collect();
        assert_eq!(
            tiles,
            [
                "1_1101", "1_1102", "1_2101", "1_2102", "2_1101", "2_1102", "2_2101", "2_2102"
            ]
        );
    }

    #[test]
    fn errors_name_file_and_field() {
        let bad = MINIMAL.replace("NumCycles=\"3\"", "NumCycles=\"x\"");
        let err = parse_run_info(bad.as_bytes(), "RunInfo.xml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "RunInfo.xml: Read/@NumCycles is `x`: not an unsigned integer"
        );
        let err = parse_run_info(b"<RunInfo><Run Id=\"a\"/></RunInfo>", "RunInfo.xml").unwrap_err();
        assert_eq!(err.to_string(), "RunInfo.xml: Run/@Number is missing");
        let err = parse_run_info(b"<RunInfo><Run", "x/RunInfo.xml").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x/RunInfo.xml: not readable as XML"),
            "{err}"
        );
    }

    /// Issue 12 item 5: every count from run metadata is bounded at parse time, and the
    /// error names the field; cycle sums never wrap.
    #[test]
    fn out_of_range_counts_are_refused_naming_the_field() {
        let refuse = |from: &str, to: &str, field: &str| {
            let bad = MINIMAL.replace(from, to);
            assert_ne!(bad, MINIMAL, "{from}");
            let err = parse_run_info(bad.as_bytes(), "RunInfo.xml").unwrap_err();
            assert!(
                matches!(&err, MetadataError::Invalid { what, .. } if what == field),
                "{from}: {err}"
            );
        };
        refuse(
            "NumCycles=\"3\"",
            "NumCycles=\"1000000\"",
            "Read/@NumCycles",
        );
        refuse("NumCycles=\"3\"", "NumCycles=\"1001\"", "Read/@NumCycles");
        // Two reads of u32::MAX / 2 + 1 cycles: refused, not wrapped to a small sum.
        let half = (u32::MAX / 2 + 1).to_string();
        refuse(
            "NumCycles=\"3\"",
            &format!("NumCycles=\"{half}\""),
            "Read/@NumCycles",
        );
        refuse(
            "NumCycles=\"2\" IsIndexedRead=\"Y\"/>",
            "NumCycles=\"1000\" IsIndexedRead=\"Y\"/>\
             <Read Number=\"3\" NumCycles=\"1000\" IsIndexedRead=\"N\"/>",
            "Reads/Read/@NumCycles (sum)",
        );
        refuse(
            "LaneCount=\"2\"",
            "LaneCount=\"9\"",
            "FlowcellLayout/@LaneCount",
        );
        refuse(
            "SurfaceCount=\"2\"",
            "SurfaceCount=\"3\"",
            "FlowcellLayout/@SurfaceCount",
        );
        refuse(
            "SwathCount=\"1\"",
            "SwathCount=\"10\"",
            "FlowcellLayout/@SwathCount",
        );
        refuse(
            "TileCount=\"2\"",
            "TileCount=\"100\"",
            "FlowcellLayout/@TileCount",
        );
        let reads: String = (1..=17)
            .map(|n| format!("<Read Number=\"{n}\" NumCycles=\"1\" IsIndexedRead=\"N\"/>"))
            .collect();
        refuse(
            "<Read Number=\"1\" NumCycles=\"3\" IsIndexedRead=\"N\"/>",
            &reads,
            "Reads/Read",
        );
        let tiles: String = (0..16_385).map(|_| "<Tile>1_1101</Tile>").collect();
        refuse(
            "TileCount=\"2\"/>",
            &format!("TileCount=\"2\"><TileSet><Tiles>{tiles}</Tiles></TileSet></FlowcellLayout>"),
            "Tiles/Tile",
        );
        refuse(
            "TileCount=\"2\"/>",
            "TileCount=\"2\"><TileSet><Tiles><Tile>9_1101</Tile></Tiles></TileSet></FlowcellLayout>",
            "Tiles/Tile",
        );
        // Each count within its limit, their product beyond 16,384 tiles.
        refuse(
            "LaneCount=\"2\" SurfaceCount=\"2\" SwathCount=\"1\" TileCount=\"2\"/>",
            "LaneCount=\"8\" SurfaceCount=\"2\" SwathCount=\"9\" TileCount=\"99\" \
             SectionPerLane=\"9\"><TileSet TileNamingConvention=\"FiveDigit\"/></FlowcellLayout>",
            "FlowcellLayout (LaneCount × SurfaceCount × SwathCount × SectionPerLane × TileCount)",
        );
        let info = RunInfo {
            reads: vec![
                ReadInfo {
                    number: 1,
                    cycles: u32::MAX,
                    indexed: false,
                    reverse_complement: None,
                };
                2
            ],
            ..parse_run_info(MINIMAL.as_bytes(), "RunInfo.xml").unwrap()
        };
        assert_eq!(info.total_cycles(), u32::MAX);
    }

    #[test]
    fn run_parameters_name_is_matched_without_case() {
        let names = ["RunInfo.xml", "runParameters.xml", "Data"];
        assert_eq!(
            find_run_parameters(&names, "d").unwrap(),
            Some("runParameters.xml")
        );
        let two = ["RunParameters.xml", "runparameters.xml"];
        assert!(matches!(
            find_run_parameters(&two, "d"),
            Err(MetadataError::Ambiguous { .. })
        ));
        assert_eq!(find_run_parameters(&["x.xml"], "d").unwrap(), None);
    }

    #[test]
    fn metadata_encodes_to_canonical_cbor_and_back() {
        let info = parse_run_info(MINIMAL.as_bytes(), "RunInfo.xml").unwrap();
        let meta = RunMetadata {
            run_info: info,
            run_parameters: None,
        };
        let value = ciborium::value::Value::serialized(&meta).unwrap();
        let bytes = seqprov_format::cbor::encode(value).unwrap();
        let back: RunMetadata = seqprov_format::cbor::decode_exact(&bytes)
            .unwrap()
            .deserialized()
            .unwrap();
        assert_eq!(back, meta);
    }
}
