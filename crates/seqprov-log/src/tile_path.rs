//! tlog-tiles paths (spec/log.md §3): `tile/<L>/<N>[.p/<W>]` and
//! `tile/entries/<N>[.p/<W>]`, with `<N>` in `x`-prefixed 3-digit groups.
//!
//! This is the C2SP spelling, not the Go sumdb one (`tile/8/<L>/…`) that
//! `tlog_tiles::Tile::path` writes; [`TilePath::parse`] accepts exactly one spelling of each
//! tile so a path from a request can name a file without further checks.

use crate::LogError;

/// The largest tile level tlog-tiles allows.
pub const MAX_LEVEL: u8 = 63;

/// A tile named by a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    ///
    /// The tile must be valid (level at most 63, width 1–256); an invalid one is a
    /// programming error and is spelled as given.
    pub fn to_path(&self) -> String {
        let (head, index, width) = match *self {
            TilePath::Hash {
                level,
                index,
                width,
            } => (format!("tile/{level}/"), index, width),
            TilePath::Entries { index, width } => ("tile/entries/".to_string(), index, width),
        };
        let mut path = head;
        path.push_str(&index_groups(index));
        if width < crate::TILE_WIDTH as u16 {
            path.push_str(&format!(".p/{width}"));
        }
        path
    }

    /// Parses a relative path (no leading `/`); anything that is not exactly a tile path
    /// in its one canonical spelling is an error (so `..`, `//`, leading zeros beyond the
    /// 3-digit groups, widths 0 or 256 with `.p`, or levels above 63 never name a file).
    pub fn parse(path: &str) -> Result<TilePath, LogError> {
        let bad = |why: &str| LogError::Malformed {
            what: "tile path",
            detail: format!("{}: {why}", path.escape_debug()),
        };
        if path.len() > 64 {
            return Err(bad("too long"));
        }
        let mut parts: Vec<&str> = path.split('/').collect();
        if parts.len() < 3 || parts[0] != "tile" {
            return Err(bad("not tile/<L>/<N> or tile/entries/<N>"));
        }
        // A partial tile ends in `.p/<W>`: the group before it carries the `.p` suffix.
        let mut width = crate::TILE_WIDTH as u16;
        if parts.len() >= 4 {
            let before = parts[parts.len() - 2];
            if let Some(group) = before.strip_suffix(".p") {
                let w = parse_decimal(parts[parts.len() - 1])
                    .ok_or_else(|| bad("the width is not a decimal without leading zeros"))?;
                if !(1..crate::TILE_WIDTH).contains(&w) {
                    return Err(bad("a partial tile's width must be 1 to 255"));
                }
                width = w as u16;
                parts.pop();
                let last = parts.len() - 1;
                parts[last] = group;
            }
        }
        let index = parse_index_groups(&parts[2..]).ok_or_else(|| {
            bad("the tile index is not in canonical 3-digit groups (x001/x234/067)")
        })?;
        if parts[1] == "entries" {
            return Ok(TilePath::Entries { index, width });
        }
        let level = parse_decimal(parts[1])
            .filter(|l| *l <= u64::from(MAX_LEVEL))
            .ok_or_else(|| bad("the level is not a decimal from 0 to 63 without leading zeros"))?;
        Ok(TilePath::Hash {
            level: level as u8,
            index,
            width,
        })
    }
}

/// `index` as zero-padded 3-digit groups, all but the last prefixed `x`.
fn index_groups(index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut rest = index / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// The inverse of [`index_groups`], accepting only its output.
fn parse_index_groups(groups: &[&str]) -> Option<u64> {
    let (last, leading) = groups.split_last()?;
    let mut index: u64 = 0;
    for (i, group) in leading.iter().enumerate() {
        let digits = group.strip_prefix('x')?;
        let value = three_digits(digits)?;
        if i == 0 && value == 0 {
            // `x000/…` would be a second spelling of a smaller index.
            return None;
        }
        index = index.checked_mul(1000)?.checked_add(value)?;
    }
    index.checked_mul(1000)?.checked_add(three_digits(last)?)
}

/// Exactly three ASCII digits.
fn three_digits(s: &str) -> Option<u64> {
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A decimal without sign or leading zeros (`0` itself is allowed), at most 3 digits.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty()
        || s.len() > 3
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spells_the_examples_of_tlog_tiles() {
        let t = TilePath::Hash {
            level: 0,
            index: 1_234_067,
            width: 256,
        };
        assert_eq!(t.to_path(), "tile/0/x001/x234/067");
        let t = TilePath::Hash {
            level: 2,
            index: 5,
            width: 17,
        };
        assert_eq!(t.to_path(), "tile/2/005.p/17");
        let t = TilePath::Entries {
            index: 1000,
            width: 1,
        };
        assert_eq!(t.to_path(), "tile/entries/x001/000.p/1");
        let t = TilePath::Entries {
            index: u64::MAX,
            width: 256,
        };
        assert_eq!(
            t.to_path(),
            "tile/entries/x018/x446/x744/x073/x709/x551/615"
        );
        assert_eq!(TilePath::parse(&t.to_path()).unwrap(), t);
    }

    #[test]
    fn refuses_every_other_spelling() {
        for path in [
            "",
            "tile",
            "tile/0",
            "tile/0/",
            "/tile/0/000",
            "tile/0/000/",
            "tile//000",
            "tile/0//000",
            "tile/00/000",
            "tile/64/000",
            "tile/-1/000",
            "tile/+1/000",
            "tile/0/5",
            "tile/0/0005",
            "tile/0/x000/005",
            "tile/0/x001/5",
            "tile/0/001/005",
            "tile/0/x001",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/012",
            "tile/0/000.p/",
            "tile/0/000.p",
            "tile/0/000.p/1/",
            "tile/0/000.p/1/2",
            "tile/entries/000.p/0",
            "tile/entries/../000",
            "tile/../0/000",
            "tile/0/../000",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x999/x999/x999/x999/x999/x999/999",
            "tile/entry/000",
            "TILE/0/000",
            "tile/0/000 ",
            "tile/0/00a",
            "tile/0/x00١/000",
            "checkpoint",
        ] {
            assert!(TilePath::parse(path).is_err(), "{path:?} was accepted");
        }
    }

    fn any_tile() -> impl Strategy<Value = TilePath> {
        let index = prop_oneof![0u64..2000, any::<u64>()];
        (any::<bool>(), 0u8..=63, index, 1u16..=256).prop_map(|(entries, level, index, width)| {
            if entries {
                TilePath::Entries { index, width }
            } else {
                TilePath::Hash {
                    level,
                    index,
                    width,
                }
            }
        })
    }

    proptest! {
        #[test]
        fn to_path_and_parse_round_trip(tile in any_tile()) {
            prop_assert_eq!(TilePath::parse(&tile.to_path()).unwrap(), tile);
        }

        #[test]
        fn a_parsed_path_is_spelled_back_exactly(path in "tile/(entries|[0-9]{1,2})/(x[0-9]{3}/){0,2}[0-9]{3}(\\.p/[0-9]{1,3})?") {
            if let Ok(tile) = TilePath::parse(&path) {
                prop_assert_eq!(tile.to_path(), path);
            }
        }
    }
}
