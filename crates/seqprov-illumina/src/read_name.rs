//! Illumina read names (`@<instrument>:<run>:<flowcell>:<lane>:<tile>:<x>:<y>[:<umi>]
//! <read>:<filtered>:<control>:<index>`) and their agreement with the run a FASTQ file
//! was derived from.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::run_info::RunMetadata;

/// An Illumina read name, borrowed from a FASTQ header line (without the `@`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadName<'a> {
    /// Instrument serial.
    pub instrument: &'a str,
    /// Run number (the instrument's run counter).
    pub run_number: u32,
    /// Flow cell id as written (NovaSeq writes the side letter before it: `AHJCWWDSXX`).
    pub flowcell: &'a str,
    /// Lane number.
    pub lane: u32,
    /// Tile number.
    pub tile: u32,
    /// Cluster x coordinate.
    pub x: u32,
    /// Cluster y coordinate.
    pub y: u32,
    /// Unique molecular identifier, when an eighth field is present.
    pub umi: Option<&'a str>,
    /// Read number from the comment (`1`, `2`, ...).
    pub read: Option<u32>,
    /// The filter flag from the comment as written (`Y`, `N`).
    pub filtered: Option<&'a str>,
    /// Control number from the comment.
    pub control: Option<u32>,
    /// Index sequence (or sample number) from the comment.
    pub index: Option<&'a str>,
}

impl<'a> ReadName<'a> {
    /// Parse a header line without its leading `@`. The identifier (before the first
    /// space or tab) must have the seven (or eight, with a UMI) Illumina fields; the
    /// comment is read as far as it follows the Illumina form and never fails.
    pub fn parse(name: &'a str) -> Result<ReadName<'a>, String> {
        let (id, comment) = match name.find([' ', '\t']) {
            Some(i) => (&name[..i], Some(name[i + 1..].trim_start())),
            None => (name, None),
        };
        let fields: Vec<&str> = id.split(':').collect();
        if !(7..=8).contains(&fields.len()) {
            return Err(format!(
                "`{id}` has {} colon-separated fields, not the 7 of an Illumina read name",
                fields.len()
            ));
        }
        let number = |i: usize, what: &str| -> Result<u32, String> {
            let text = fields[i];
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("the {what} `{text}` is not a number"));
            }
            text.parse()
                .map_err(|_| format!("the {what} `{text}` is too large"))
        };
        if fields[0].is_empty() || fields[2].is_empty() {
            return Err("the instrument or flow cell field is empty".into());
        }
        let mut parsed = ReadName {
            instrument: fields[0],
            run_number: number(1, "run number")?,
            flowcell: fields[2],
            lane: number(3, "lane")?,
            tile: number(4, "tile")?,
            x: number(5, "x coordinate")?,
            y: number(6, "y coordinate")?,
            umi: fields.get(7).copied(),
            read: None,
            filtered: None,
            control: None,
            index: None,
        };
        if let Some(comment) = comment {
            let first = comment.split([' ', '\t']).next().unwrap_or("");
            let mut parts = first.splitn(4, ':');
            parsed.read = parts.next().and_then(|s| s.parse().ok());
            parsed.filtered = parts.next().filter(|s| !s.is_empty());
            parsed.control = parts.next().and_then(|s| s.parse().ok());
            parsed.index = parts.next().filter(|s| !s.is_empty());
        }
        Ok(parsed)
    }
}

/// One way a read name disagrees with its run.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderMismatch {
    /// The instrument serial differs from `RunInfo.xml`'s `Instrument`.
    #[error("instrument `{read}` in the read name, `{run}` in RunInfo.xml")]
    Instrument {
        /// In the read name.
        read: String,
        /// In the run.
        run: String,
    },
    /// The run number differs from `RunInfo.xml`'s `Run/@Number`.
    #[error("run number {read} in the read name, {run} in RunInfo.xml")]
    RunNumber {
        /// In the read name.
        read: u32,
        /// In the run.
        run: u32,
    },
    /// The flow cell differs from `RunInfo.xml`'s `Flowcell`.
    #[error("flow cell `{read}` in the read name, `{run}` in RunInfo.xml")]
    Flowcell {
        /// In the read name.
        read: String,
        /// In the run.
        run: String,
    },
    /// The lane is beyond the run's lane count.
    #[error("lane {lane} in the read name; the run has {lanes} lanes")]
    Lane {
        /// In the read name.
        lane: u32,
        /// The run's lane count.
        lanes: u32,
    },
    /// The tile is not among the tiles `RunInfo.xml` lists.
    #[error("tile {lane}_{tile} in the read name is not among the tiles RunInfo.xml lists")]
    Tile {
        /// Lane of the read.
        lane: u32,
        /// Tile of the read.
        tile: u32,
    },
    /// The header is not an Illumina read name.
    #[error("not an Illumina read name: {0}")]
    Unparsed(String),
}

/// What read names of a run must say, prepared once from its metadata.
#[derive(Clone, Debug)]
pub struct RunExpectation {
    instrument: Option<String>,
    run_number: u32,
    flowcell: Option<String>,
    flowcell_with_side: Option<String>,
    lanes: Option<u32>,
    tiles: Option<HashSet<(u32, u32)>>,
}

impl RunExpectation {
    /// Prepare the expectation for the run `meta` describes.
    ///
    /// The flow cell matches the `Flowcell` element, or the run id's last `_` field when
    /// that is one side letter followed by the `Flowcell` value (NovaSeq writes
    /// `AHJCWWDSXX` in read names for flow cell `HJCWWDSXX` in position A). Tiles are
    /// checked only when `RunInfo.xml` lists them.
    pub fn from_run(meta: &RunMetadata) -> RunExpectation {
        let info = &meta.run_info;
        let flowcell_with_side = info.flowcell.as_ref().and_then(|fc| {
            let last = info.run_id.rsplit('_').next()?;
            let side = last.strip_suffix(fc.as_str())?;
            (side.len() == 1 && side.bytes().all(|b| b.is_ascii_uppercase()))
                .then(|| last.to_string())
        });
        let layout = info.layout.as_ref();
        RunExpectation {
            instrument: info.instrument.clone(),
            run_number: info.run_number,
            flowcell: info.flowcell.clone(),
            flowcell_with_side,
            lanes: layout.map(|l| l.lanes),
            tiles: layout
                .filter(|l| !l.tiles.is_empty())
                .map(|l| l.tiles.iter().map(|t| (t.lane, t.tile)).collect()),
        }
    }

    /// Every way `name` disagrees with the run; empty when it agrees.
    pub fn check(&self, name: &ReadName<'_>) -> Vec<HeaderMismatch> {
        let mut out = Vec::new();
        if let Some(run) = self
            .instrument
            .as_ref()
            .filter(|run| name.instrument != *run)
        {
            out.push(HeaderMismatch::Instrument {
                read: name.instrument.into(),
                run: run.clone(),
            });
        }
        if name.run_number != self.run_number {
            out.push(HeaderMismatch::RunNumber {
                read: name.run_number,
                run: self.run_number,
            });
        }
        let side = self.flowcell_with_side.as_deref();
        if let Some(run) = self
            .flowcell
            .as_ref()
            .filter(|run| name.flowcell != *run && side != Some(name.flowcell))
        {
            out.push(HeaderMismatch::Flowcell {
                read: name.flowcell.into(),
                run: run.clone(),
            });
        }
        if let Some(lanes) = self.lanes.filter(|&l| name.lane == 0 || name.lane > l) {
            out.push(HeaderMismatch::Lane {
                lane: name.lane,
                lanes,
            });
        }
        let lane_ok = name.lane != 0 && self.lanes.is_none_or(|l| name.lane <= l);
        let listed = |tiles: &HashSet<(u32, u32)>| tiles.contains(&(name.lane, name.tile));
        if self
            .tiles
            .as_ref()
            .is_some_and(|tiles| lane_ok && !listed(tiles))
        {
            out.push(HeaderMismatch::Tile {
                lane: name.lane,
                tile: name.tile,
            });
        }
        out
    }

    /// Parse a header line (without `@`) and check it; an unparsable header is one
    /// [`HeaderMismatch::Unparsed`].
    pub fn check_header(&self, header: &str) -> Vec<HeaderMismatch> {
        match ReadName::parse(header) {
            Ok(name) => self.check(&name),
            Err(why) => vec![HeaderMismatch::Unparsed(why)],
        }
    }
}

/// Check one header line (without `@`) against a run: instrument, run number, flow cell,
/// lane within the lane count, and tile when `RunInfo.xml` lists tiles.
pub fn check_header(header: &str, meta: &RunMetadata) -> Vec<HeaderMismatch> {
    RunExpectation::from_run(meta).check_header(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_info::parse_run_info;

    #[test]
    fn parses_illumina_names() {
        let name =
            ReadName::parse("A00111:296:AHJCWWDSXX:1:1101:1850:1000 1:N:0:CTGTATGC+AGCCGTAA")
                .unwrap();
        assert_eq!(name.instrument, "A00111");
        assert_eq!(name.run_number, 296);
        assert_eq!(name.flowcell, "AHJCWWDSXX");
        assert_eq!(
            (name.lane, name.tile, name.x, name.y),
            (1, 1101, 1850, 1000)
        );
        assert_eq!(name.read, Some(1));
        assert_eq!(name.filtered, Some("N"));
        assert_eq!(name.control, Some(0));
        assert_eq!(name.index, Some("CTGTATGC+AGCCGTAA"));
        let umi = ReadName::parse("M1:5:FC:2:11101:1:2:ACGTAC").unwrap();
        assert_eq!(umi.umi, Some("ACGTAC"));
        assert_eq!(umi.read, None);
        assert!(ReadName::parse("SRR001666.1 071112_SLXA").is_err());
        assert!(ReadName::parse("M1:x:FC:1:1:1:1").is_err());
    }

    #[test]
    fn checks_against_the_run() {
        let xml = br#"<RunInfo><Run Id="190414_A00111_0296_AHJCWWDSXX" Number="296">
            <Flowcell>HJCWWDSXX</Flowcell><Instrument>A00111</Instrument>
            <Reads><Read Number="1" NumCycles="4" IsIndexedRead="N"/></Reads>
            <FlowcellLayout LaneCount="2" SurfaceCount="1" SwathCount="1" TileCount="1">
            <TileSet><Tiles><Tile>1_1101</Tile><Tile>2_1101</Tile></Tiles></TileSet>
            </FlowcellLayout></Run></RunInfo>"#;
        let meta = RunMetadata {
            run_info: parse_run_info(xml, "RunInfo.xml").unwrap(),
            run_parameters: None,
        };
        assert!(check_header("A00111:296:AHJCWWDSXX:1:1101:1:1 1:N:0:A", &meta).is_empty());
        assert!(check_header("A00111:296:HJCWWDSXX:2:1101:1:1", &meta).is_empty());
        let wrong = check_header("A00999:12:BHJCWWDSXX:3:1101:1:1", &meta);
        assert_eq!(
            wrong,
            vec![
                HeaderMismatch::Instrument {
                    read: "A00999".into(),
                    run: "A00111".into()
                },
                HeaderMismatch::RunNumber { read: 12, run: 296 },
                HeaderMismatch::Flowcell {
                    read: "BHJCWWDSXX".into(),
                    run: "HJCWWDSXX".into()
                },
                HeaderMismatch::Lane { lane: 3, lanes: 2 },
            ]
        );
        assert_eq!(
            check_header("A00111:296:HJCWWDSXX:1:2101:1:1", &meta),
            vec![HeaderMismatch::Tile {
                lane: 1,
                tile: 2101
            }]
        );
        assert!(matches!(
            check_header("read7", &meta).as_slice(),
            [HeaderMismatch::Unparsed(_)]
        ));
    }
}
