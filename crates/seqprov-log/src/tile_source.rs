//! Reading a log that someone else runs: from a directory (a copy of `public/`, or a log
//! directory) or over HTTP(S), with every response bounded; and checking what it serves.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::log_dir::{
    MAX_ENTRY_BUNDLE_LEN, MAX_HASH_TILE_LEN, level_count, read_bounded, tile_width,
};
use crate::merkle::{self, RootBuilder, StoredHashes};
use crate::tile_path::TilePath;
use crate::{Hash, LogError, MAX_ENTRY_LEN, TILE_WIDTH, entry_bundle};

/// How long connecting, and each wait for bytes, may take over HTTP.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The time limits of reading a log over HTTP (spec/log.md §8): each request, from
/// connecting to the last byte of the answer, and all requests of one source together.
/// A server that trickles bytes is cut off by them, not only by the per-read timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// One request, connecting to the end of its answer (default 30 s).
    pub request: Duration,
    /// Every request of the source together, counted from its opening (default 10 min).
    pub total: Duration,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            request: Duration::from_secs(30),
            total: Duration::from_secs(600),
        }
    }
}

/// Where a log's published files are read from.
pub trait TileSource: Send + Sync {
    /// The file at `rel_path` (`checkpoint`, `tile/…`), at most `limit` bytes; a larger
    /// file is an error.
    fn get(&self, rel_path: &str, limit: usize) -> Result<Vec<u8>, LogError>;

    /// How to name this source in messages (URL or directory).
    fn describe(&self) -> String;
}

/// The detail of a [`LogError::Remote`] for an HTTP 404.
const NOT_FOUND_OVER_HTTP: &str = "not found (HTTP 404)";

/// Whether a source's error says the file does not exist (rather than that it could not
/// be read).
fn is_not_found(error: &LogError) -> bool {
    match error {
        LogError::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
        LogError::Remote { detail, .. } => detail == NOT_FOUND_OVER_HTTP,
        _ => false,
    }
}

/// Fetches a tile; when the source no longer has a partial tile (tlog-tiles lets a log
/// delete it once the full one exists) fetches the full tile instead. Returns the bytes
/// and the path of what was fetched, and whether that is the full tile.
fn get_tile(
    source: &dyn TileSource,
    tile: TilePath,
    limit: usize,
    full_limit: usize,
) -> Result<(Vec<u8>, String, bool), LogError> {
    let full = match tile {
        TilePath::Hash { level, index, .. } => TilePath::Hash {
            level,
            index,
            width: TILE_WIDTH as u16,
        },
        TilePath::Entries { index, .. } => TilePath::Entries {
            index,
            width: TILE_WIDTH as u16,
        },
    };
    if tile == full {
        return Ok((source.get(&tile.to_path(), limit)?, tile.to_path(), true));
    }
    match source.get(&tile.to_path(), limit) {
        Ok(bytes) => Ok((bytes, tile.to_path(), false)),
        Err(e) if is_not_found(&e) => match source.get(&full.to_path(), full_limit) {
            Ok(bytes) => Ok((bytes, full.to_path(), true)),
            Err(_) => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// Refuses a relative path that is neither `checkpoint` nor a canonical tile path (so no
/// request leaves the log's files).
fn check_rel_path(rel_path: &str) -> Result<(), LogError> {
    if rel_path == "checkpoint" {
        return Ok(());
    }
    TilePath::parse(rel_path).map(|_| ())
}

/// A log's published files in a directory.
struct DirSource {
    dir: PathBuf,
}

impl TileSource for DirSource {
    fn get(&self, rel_path: &str, limit: usize) -> Result<Vec<u8>, LogError> {
        check_rel_path(rel_path)?;
        let path = self.dir.join(rel_path);
        read_bounded(&path, limit)?.ok_or_else(|| LogError::Io {
            path,
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

/// A log's published files over HTTP(S).
struct HttpSource {
    base: String,
    agent: ureq::Agent,
    limits: HttpLimits,
    deadline: Instant,
}

impl TileSource for HttpSource {
    fn get(&self, rel_path: &str, limit: usize) -> Result<Vec<u8>, LogError> {
        check_rel_path(rel_path)?;
        let url = format!("{}/{rel_path}", self.base);
        let remote = |detail: String| LogError::Remote {
            url: url.clone(),
            detail,
        };
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(remote(format!(
                "not read: reading the log took longer than the {} s allowed in all",
                self.limits.total.as_secs_f64()
            )));
        }
        let mut response = self
            .agent
            .get(&url)
            .config()
            .timeout_global(Some(self.limits.request.min(left)))
            .build()
            .call()
            .map_err(|e| {
                remote(format!(
                    "cannot be read: {}",
                    timeout_words(e, self.limits, left)
                ))
            })?;
        let status = response.status();
        if status == 404 {
            return Err(remote(NOT_FOUND_OVER_HTTP.into()));
        }
        if status != 200 {
            return Err(remote(format!("answered HTTP {status}")));
        }
        response
            .body_mut()
            .with_config()
            .limit(limit as u64)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => {
                    remote(format!("the answer is larger than {limit} bytes"))
                }
                e => remote(format!(
                    "reading the answer: {}",
                    timeout_words(e, self.limits, left)
                )),
            })
    }

    fn describe(&self) -> String {
        self.base.clone()
    }
}

/// A ureq error in words; a timeout says which limit it hit (`left`: what remained of
/// the total when the request started).
fn timeout_words(error: ureq::Error, limits: HttpLimits, left: Duration) -> String {
    match error {
        ureq::Error::Timeout(ureq::Timeout::Global) if left < limits.request => format!(
            "no complete answer before the end of the {} s allowed for reading the log in all",
            limits.total.as_secs_f64()
        ),
        ureq::Error::Timeout(ureq::Timeout::Global) => format!(
            "no complete answer within {} s (the time limit of one request)",
            limits.request.as_secs_f64()
        ),
        ureq::Error::Timeout(which) => format!("timed out ({which})"),
        other => other.to_string(),
    }
}

/// A source for `URL_OR_DIR` with the default [`HttpLimits`]; see [`open_source_with`].
pub fn open_source(url_or_dir: &str) -> Result<Box<dyn TileSource>, LogError> {
    open_source_with(url_or_dir, HttpLimits::default())
}

/// A source for `URL_OR_DIR`: `http://` or `https://` is read over HTTP (each request
/// within `limits.request`, all within `limits.total`, each wait for bytes within
/// [`HTTP_TIMEOUT`], no redirect followed, bounded bodies), anything else is a directory
/// (its `public/` if it has one).
pub fn open_source_with(
    url_or_dir: &str,
    limits: HttpLimits,
) -> Result<Box<dyn TileSource>, LogError> {
    if url_or_dir.starts_with("http://") || url_or_dir.starts_with("https://") {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(HTTP_TIMEOUT))
            .timeout_recv_response(Some(HTTP_TIMEOUT))
            .timeout_per_read(Some(HTTP_TIMEOUT))
            .timeout_global(Some(limits.request))
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        return Ok(Box::new(HttpSource {
            base: url_or_dir.trim_end_matches('/').to_string(),
            agent,
            limits,
            deadline: Instant::now() + limits.total,
        }));
    }
    let dir = PathBuf::from(url_or_dir);
    let public = dir.join(crate::log_dir::PUBLIC_DIR);
    let dir = if public.is_dir() { public } else { dir };
    if !dir.is_dir() {
        return Err(LogError::Io {
            path: dir,
            source: std::io::Error::other("is not a directory (nor an http(s):// URL)"),
        });
    }
    Ok(Box::new(DirSource { dir }))
}

/// The stored hashes of the tree of `size` records of a log read through `source`
/// (hash tiles fetched as needed, at their width for this size, and cached).
pub struct SourceHashes<'a> {
    source: &'a dyn TileSource,
    size: u64,
    tiles: Mutex<HashMap<TilePath, Vec<u8>>>,
}

impl<'a> SourceHashes<'a> {
    /// Hashes of the tree of `size` records.
    pub fn new(source: &'a dyn TileSource, size: u64) -> SourceHashes<'a> {
        SourceHashes {
            source,
            size,
            tiles: Mutex::new(HashMap::new()),
        }
    }

    /// The hash tile `tile`, fetched once; it must hold exactly its width of hashes.
    fn tile(&self, tile: TilePath, width: u16) -> Result<Vec<u8>, LogError> {
        let mut tiles = self.tiles.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bytes) = tiles.get(&tile) {
            return Ok(bytes.clone());
        }
        let expected = usize::from(width) * 32;
        let (mut bytes, path, full) = get_tile(self.source, tile, expected, MAX_HASH_TILE_LEN)?;
        let wanted = if full { MAX_HASH_TILE_LEN } else { expected };
        if bytes.len() != wanted {
            return Err(LogError::Verification(format!(
                "{}: {path} has {} bytes, not {wanted} ({} hashes)",
                self.source.describe(),
                bytes.len(),
                wanted / 32
            )));
        }
        bytes.truncate(expected);
        tiles.insert(tile, bytes.clone());
        Ok(bytes)
    }

    /// The stored hash at tree level `level`, index `n`: read from the hash tile at tile
    /// level `level / 8`, or computed from the `2^(level % 8)` hashes under it there.
    fn hash(&self, level: u8, n: u64) -> Result<Hash, LogError> {
        let not_in_tree = || {
            LogError::Verification(format!(
                "{}: hash {n} at level {level} is not in the tree of {} entries",
                self.source.describe(),
                self.size
            ))
        };
        let tile_level = level / 8;
        let below = u32::from(level % 8);
        let count = 1u64 << below;
        let first = n.checked_mul(count).ok_or_else(not_in_tree)?;
        let hashes_at_level = level_count(self.size, tile_level);
        if first
            .checked_add(count)
            .is_none_or(|end| end > hashes_at_level)
        {
            return Err(not_in_tree());
        }
        let index = first / TILE_WIDTH;
        let width = tile_width(hashes_at_level, index);
        let tile = TilePath::Hash {
            level: tile_level,
            index,
            width,
        };
        let bytes = self.tile(tile, width)?;
        let start = (first % TILE_WIDTH) as usize;
        let mut hashes: Vec<Hash> = bytes[start * 32..(start + count as usize) * 32]
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0; 32];
                h.copy_from_slice(c);
                h
            })
            .collect();
        while hashes.len() > 1 {
            hashes = hashes
                .chunks_exact(2)
                .map(|pair| merkle::node_hash(&pair[0], &pair[1]))
                .collect();
        }
        Ok(hashes[0])
    }
}

impl StoredHashes for SourceHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, LogError> {
        indexes
            .iter()
            .map(|&i| {
                let (level, n) = tlog_tiles::split_stored_hash_index(i);
                self.hash(level, n)
            })
            .collect()
    }
}

/// What [`scan_entries`] calls for each entry: `visit(index, entry)`.
pub type EntryVisitor<'a> = dyn FnMut(u64, &[u8]) -> Result<(), LogError> + 'a;

/// Reads every entry of the tree of `size` records in order, calls `visit(index, entry)`
/// for each, and checks that their tree root is `root` (so a source cannot leave entries
/// out or change them). The visit sees entries before the root is known to match; callers
/// act on their findings only when this returns `Ok`.
pub fn scan_entries(
    source: &dyn TileSource,
    size: u64,
    root: &Hash,
    visit: &mut EntryVisitor<'_>,
) -> Result<(), LogError> {
    let mut builder = RootBuilder::default();
    for n in 0..size.div_ceil(TILE_WIDTH) {
        let width = tile_width(size, n);
        let tile = TilePath::Entries { index: n, width };
        let limit = usize::from(width) * (MAX_ENTRY_LEN + 2);
        let (bytes, path, full) = get_tile(source, tile, limit, MAX_ENTRY_BUNDLE_LEN)?;
        let count = if full {
            TILE_WIDTH as usize
        } else {
            usize::from(width)
        };
        let mut entries = entry_bundle::decode(&bytes, count)
            .map_err(|e| LogError::Verification(format!("{}: {path}: {e}", source.describe())))?;
        entries.truncate(usize::from(width));
        for entry in entries {
            visit(builder.size(), &entry)?;
            builder.push(merkle::record_hash(&entry));
        }
    }
    if builder.root() != *root {
        return Err(LogError::Verification(format!(
            "{}: its {size} entries do not have the checkpoint's root (entries changed, left out or added)",
            source.describe()
        )));
    }
    Ok(())
}
