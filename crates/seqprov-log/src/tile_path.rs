//! tlog-tiles paths (spec/log.md §3): `tile/<L>/<N>[.p/<W>]` and
//! `tile/entries/<N>[.p/<W>]`, with `<N>` in `x`-prefixed 3-digit groups.

use crate::LogError;

/// A tile named by a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TilePath {
    /// A hash tile at `level` (0 = record hashes), tile `index`, `width` hashes (1–256).
    Hash {
        /// Tile level L.
        level: u8,
        /// Tile index N within the level.
        index: u64,
        /// Number of hashes; 256 for a full tile.
        width: u16,
    },
    /// An entry bundle: tile `index`, `width` entries (1–256).
    Entries {
        /// Tile index N.
        index: u64,
        /// Number of entries; 256 for a full bundle.
        width: u16,
    },
}

impl TilePath {
    /// The path of this tile relative to the log's root (no leading `/`).
    pub fn to_path(&self) -> String {
        todo!()
    }

    /// Parses a relative path (no leading `/`); anything that is not exactly a tile path
    /// in its one canonical spelling is an error (so `..`, `//`, leading zeros beyond the
    /// 3-digit groups, widths 0 or 256 with `.p`, or levels above 63 never name a file).
    pub fn parse(path: &str) -> Result<TilePath, LogError> {
        todo!("{path}")
    }
}
