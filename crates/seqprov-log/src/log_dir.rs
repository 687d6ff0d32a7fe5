//! A log on disk (spec/log.md §3): creating it, holding its lock, appending batches with
//! the write discipline that makes every acknowledged entry durable (a batch is one
//! [`crate::journal`] record, fdatasynced, before its tiles and checkpoint are renamed into
//! place), recovering after a crash by replaying the journal, and proving entries against
//! the published checkpoint.
//!
//! In memory an open log keeps every stored hash of its tree (levels of complete subtree
//! hashes, about 64 bytes per entry), a duplicate index (a 16-byte record-hash prefix per
//! entry) and the entries of the last, partial entry bundle; proofs are computed from
//! memory, and every tile is on disk under `public/` for readers.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, MAX_CHECKPOINT_LEN};
use crate::dir_writer::{DirWriter, StagedFile};
use crate::journal::{self, JOURNAL_FILE, JournalReader, MAX_RECORD_ENTRIES, Record};
use crate::merkle::{self, StoredHashes};
use crate::note_keys::{LogSigner, LogVerifier, check_key_name};
use crate::proof_text::TlogProof;
use crate::tile_path::TilePath;
use crate::{Hash, LogError, MAX_ENTRY_LEN, TILE_WIDTH, entry_bundle};

/// The config file's name in a log directory.
pub const CONFIG_FILE: &str = "seqprov-log.toml";
/// The vkey file's name in a log directory.
pub const VKEY_FILE: &str = "log.vkey";
/// The published directory's name in a log directory.
pub const PUBLIC_DIR: &str = "public";

/// The largest entry bundle: 256 entries of the largest size with their prefixes.
pub const MAX_ENTRY_BUNDLE_LEN: usize = TILE_WIDTH as usize * (MAX_ENTRY_LEN + 2);
/// The largest hash tile: 256 hashes.
pub const MAX_HASH_TILE_LEN: usize = TILE_WIDTH as usize * 32;

/// What `log init` records in `DIR/seqprov-log.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// The log's origin.
    pub origin: String,
    /// The path of the log's private key file, as given to `log init` (made absolute).
    pub key_path: PathBuf,
}

/// The config file's fields (spec/log.md §3).
#[derive(Serialize, Deserialize)]
struct ConfigFile {
    format: String,
    version: u64,
    origin: String,
    key_path: String,
    /// POSIX seconds of `log init`.
    created: u64,
}

const CONFIG_FORMAT: &str = "seqprov.log-config";

/// Signs the checkpoint note of a new tree (size, root) with the log key. Called by
/// [`LogDir::append`] before the batch is written to the journal (the journal holds the
/// signed note, so that a replayed batch is one the log key signed).
pub type Publish<'a> = dyn FnMut(u64, &Hash) -> Result<Vec<u8>, LogError> + 'a;

/// Adds witness cosignatures to a log-signed checkpoint note; called by
/// [`LogDir::append_cosigned`] once the batch is durable in the journal and its tiles are in
/// place, before the checkpoint is. An error publishes the note without cosignatures.
pub type Cosign<'a> = dyn FnMut(&[u8]) -> Result<Vec<u8>, LogError> + 'a;

/// How many spare checkpoint files the log rewrites in turn and swaps with
/// `public/checkpoint` (`DIR/checkpoint.spare.0` … `.3`; spec/log.md §3).
pub const CHECKPOINT_SPARES: usize = 4;

/// The spare checkpoint files' name, before their number.
const CHECKPOINT_SPARE_PREFIX: &str = "checkpoint.spare.";

/// The journal length from which a batch is followed by a compaction: everything written
/// is made durable with one `syncfs(2)` and the journal starts again from the published
/// checkpoint.
pub const JOURNAL_COMPACT_AT: u64 = 64 << 20;

/// Every stored hash of a tree: `levels[k][n]` is the hash of the complete subtree of
/// `2^k` records starting at record `n·2^k`.
#[derive(Default)]
struct TreeHashes {
    levels: Vec<Vec<Hash>>,
}

impl TreeHashes {
    fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    fn push(&mut self, record: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(record);
        let mut k = 0;
        while self.levels[k].len().is_multiple_of(2) {
            let level = &self.levels[k];
            let node = merkle::node_hash(&level[level.len() - 2], &level[level.len() - 1]);
            if self.levels.len() == k + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[k + 1].push(node);
            k += 1;
        }
    }

    /// Forgets every record from `size` on.
    fn truncate(&mut self, size: u64) {
        for (k, level) in self.levels.iter_mut().enumerate() {
            level.truncate((size >> k) as usize);
        }
        while self.levels.last().is_some_and(|l| l.is_empty()) {
            self.levels.pop();
        }
    }

    /// The RFC 6962 root: the complete subtrees of the size's one bits, joined right to left.
    fn root(&self) -> Hash {
        let size = self.size();
        let mut root: Option<Hash> = None;
        for (k, level) in self.levels.iter().enumerate() {
            if (size >> k) & 1 == 1 {
                let subtree = level[level.len() - 1];
                root = Some(match root {
                    None => subtree,
                    Some(right) => merkle::node_hash(&subtree, &right),
                });
            }
        }
        root.unwrap_or_else(merkle::empty_root)
    }

    /// The hashes at tree level `k`, `n`.. `n + width`, concatenated (a hash tile).
    fn tile_bytes(&self, k: usize, start: usize, width: usize) -> Vec<u8> {
        self.levels[k][start..start + width].concat()
    }
}

impl StoredHashes for TreeHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, LogError> {
        indexes
            .iter()
            .map(|&i| {
                let (level, n) = tlog_tiles::split_stored_hash_index(i);
                self.levels
                    .get(usize::from(level))
                    .and_then(|l| l.get(usize::try_from(n).ok()?))
                    .copied()
                    .ok_or_else(|| {
                        LogError::Verification(format!(
                            "stored hash {i} (level {level}, {n}) is not in the tree of {} entries",
                            self.size()
                        ))
                    })
            })
            .collect()
    }
}

/// Record hash → index, keyed by a 16-byte prefix (the full hash is in the tree); the
/// rare entry whose prefix is taken goes to a second map under its full hash.
#[derive(Default)]
struct DuplicateIndex {
    by_prefix: HashMap<[u8; 16], u64>,
    collisions: HashMap<Hash, u64>,
}

impl DuplicateIndex {
    fn prefix(hash: &Hash) -> [u8; 16] {
        let mut p = [0; 16];
        p.copy_from_slice(&hash[..16]);
        p
    }

    fn find(&self, hash: &Hash, tree: &TreeHashes) -> Option<u64> {
        if let Some(&i) = self.by_prefix.get(&Self::prefix(hash))
            && tree.levels.first().and_then(|l| l.get(i as usize)) == Some(hash)
        {
            return Some(i);
        }
        self.collisions.get(hash).copied()
    }

    /// Records `hash` at `index` unless it is already there.
    fn insert(&mut self, hash: &Hash, index: u64, tree: &TreeHashes) {
        if self.find(hash, tree).is_some() {
            return;
        }
        match self.by_prefix.entry(Self::prefix(hash)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(index);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collisions.insert(*hash, index);
            }
        }
    }
}

/// An open log directory, holding its exclusive lock for as long as it lives.
pub struct LogDir {
    root: PathBuf,
    public: PathBuf,
    config: LogConfig,
    /// The log key of `log.vkey`: every note the log journals or publishes must open with
    /// it (as replaying a journaled note and opening a base require).
    verifier: LogVerifier,
    checkpoint: Vec<u8>,
    tree: TreeHashes,
    duplicates: DuplicateIndex,
    /// The entries of the last entry bundle when it is partial (size % 256 of them).
    tail: Vec<Vec<u8>>,
    /// Writes and removes under the log directory through opened directory handles
    /// (never through a symbolic link).
    writer: DirWriter,
    /// The journal, open for appending (`None` only while opening, or after a compaction
    /// that could not reopen it).
    journal: Option<File>,
    /// The journal's length: where the next record goes.
    journal_len: u64,
    /// The journal length at which the next compaction is tried: [`JOURNAL_COMPACT_AT`],
    /// or 8 MiB past the length at which one failed.
    compact_at: u64,
    /// The spare checkpoint file used last (`CHECKPOINT_SPARE_PREFIX` and this number).
    spare_turn: usize,
    /// Why appending stopped: set when an append failed after its batch reached the
    /// journal (or may have); the log appends nothing more until it is opened again, which
    /// replays the journal.
    failed: Option<String>,
    /// The log directory, opened and flocked for the lifetime of the value: the flock is
    /// released when it closes.
    _lock: File,
}

fn io_error(path: &Path, source: std::io::Error) -> LogError {
    LogError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Opens `path` for reading only when it is a regular file; `None` if it does not exist.
///
/// A FIFO, a device, a socket or a directory planted in a log directory would block a
/// reader (a FIFO's `open` waits for a writer) or feed it without end, and a symbolic link
/// could lead anywhere: the path is opened with `O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC` (an
/// open that never waits, and fails on a symbolic link), the *opened handle* must be a
/// regular file, and `O_NONBLOCK` is then cleared.
pub(crate) fn open_regular(path: &Path) -> Result<Option<File>, LogError> {
    use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
    let flags = rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW;
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
            return Err(not_regular(path, "a symbolic link"));
        }
        Err(e) => return Err(io_error(path, e)),
    };
    let file_type = file.metadata().map_err(|e| io_error(path, e))?.file_type();
    if !file_type.is_file() {
        let kind = if file_type.is_fifo() {
            "a FIFO"
        } else if file_type.is_dir() {
            "a directory"
        } else if file_type.is_socket() {
            "a socket"
        } else if file_type.is_block_device() || file_type.is_char_device() {
            "a device"
        } else {
            "not a regular file"
        };
        return Err(not_regular(path, kind));
    }
    rustix::fs::fcntl_setfl(&file, rustix::fs::OFlags::empty())
        .map_err(|e| io_error(path, e.into()))?;
    Ok(Some(file))
}

fn not_regular(path: &Path, kind: &str) -> LogError {
    io_error(
        path,
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("is {kind}, not a regular file (refused)"),
        ),
    )
}

/// Reads a regular file ([`open_regular`]) of at most `limit` bytes; `None` if it does not
/// exist.
pub(crate) fn read_bounded(path: &Path, limit: usize) -> Result<Option<Vec<u8>>, LogError> {
    let Some(file) = open_regular(path)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    if bytes.len() > limit {
        return Err(io_error(
            path,
            std::io::Error::other(format!("larger than {limit} bytes")),
        ));
    }
    Ok(Some(bytes))
}

/// Reads the regular file `path` of at most `limit` bytes; `None` if it does not exist. A
/// FIFO, device, socket, directory or symbolic link there is an error, never a wait
/// (opened with `O_NONBLOCK | O_NOFOLLOW`, the opened handle checked): for files anyone
/// might plant, such as a witness's state files.
pub fn read_regular(path: &Path, limit: usize) -> Result<Option<Vec<u8>>, LogError> {
    read_bounded(path, limit)
}

fn read_required(path: &Path, limit: usize) -> Result<Vec<u8>, LogError> {
    read_bounded(path, limit)?
        .ok_or_else(|| io_error(path, std::io::Error::from(std::io::ErrorKind::NotFound)))
}

/// Whether `name` is one the log's own writer gives a temporary file under `public/`
/// (`dir_writer::temp_name`): `.checkpoint.tmp`, or `.<N>.tmp` for a tile file `<N>` (1–3
/// ASCII digits: a tile index group or a partial width).
fn is_own_temp_name(name: &std::ffi::OsStr) -> bool {
    let Some(inner) = name
        .to_str()
        .and_then(|n| n.strip_prefix('.'))
        .and_then(|n| n.strip_suffix(".tmp"))
    else {
        return false;
    };
    inner == "checkpoint"
        || (!inner.is_empty() && inner.len() <= 3 && inner.bytes().all(|b| b.is_ascii_digit()))
}

/// Removes, under `rel` (a directory relative to the log root; not following symbolic
/// links, at most 16 directories deep), the entries named as the log's writer names its
/// temporary files ([`is_own_temp_name`]), left by a crash between writing and renaming:
/// regular files and symbolic links (a link is removed, never followed). Nothing else is
/// touched.
fn remove_stale_temp_files(
    writer: &mut DirWriter,
    root: &Path,
    rel: &Path,
    depth: usize,
) -> Result<(), LogError> {
    let path = root.join(rel);
    if !writer.dir_exists(rel)? {
        return Ok(());
    }
    let entries = match fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(&path, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| io_error(&path, e))?;
        let file_type = entry.file_type().map_err(|e| io_error(&entry.path(), e))?;
        let entry_rel = rel.join(entry.file_name());
        if file_type.is_dir() && depth < 16 {
            remove_stale_temp_files(writer, root, &entry_rel, depth + 1)?;
        } else if (file_type.is_file() || file_type.is_symlink())
            && is_own_temp_name(&entry.file_name())
        {
            writer.remove(&entry_rel)?;
        }
    }
    Ok(())
}

/// The number of complete hashes at tile level `level` (tree level 8·level) in a tree of
/// `size` records.
pub(crate) fn level_count(size: u64, level: u8) -> u64 {
    let shift = 8 * u32::from(level);
    if shift >= 64 { 0 } else { size >> shift }
}

/// Whether `tile` lies within the tree of `size` records (its last hash or entry is in it).
pub(crate) fn tile_within(tile: &TilePath, size: u64) -> bool {
    let (count, index, width) = match *tile {
        TilePath::Hash {
            level,
            index,
            width,
        } => (level_count(size, level), index, width),
        TilePath::Entries { index, width } => (size, index, width),
    };
    index
        .checked_mul(TILE_WIDTH)
        .and_then(|start| start.checked_add(u64::from(width)))
        .is_some_and(|end| end <= count)
}

/// The width of tile `index` when `count` hashes or entries exist at its level.
pub(crate) fn tile_width(count: u64, index: u64) -> u16 {
    (count - index * TILE_WIDTH).min(TILE_WIDTH) as u16
}

impl LogDir {
    /// Creates a new, empty log in `dir` (created if absent; it must be empty if present):
    /// the config, `log.vkey`, `public/` and a signed checkpoint of size 0. Returns the
    /// log's vkey.
    pub fn init(
        dir: &Path,
        origin: &str,
        key: &SigningKey,
        key_path: &Path,
    ) -> Result<String, LogError> {
        check_key_name(origin)?;
        match fs::read_dir(dir) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(io_error(
                        dir,
                        std::io::Error::new(
                            std::io::ErrorKind::AlreadyExists,
                            "is not empty (a log is created in a new or empty directory)",
                        ),
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
            }
            Err(e) => return Err(io_error(dir, e)),
        }
        let key_path = std::path::absolute(key_path).map_err(|e| io_error(key_path, e))?;
        let key_path_text = key_path.to_str().ok_or_else(|| {
            io_error(
                &key_path,
                std::io::Error::other("the key file path is not UTF-8"),
            )
        })?;
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let config = toml::to_string(&ConfigFile {
            format: CONFIG_FORMAT.to_string(),
            version: 1,
            origin: origin.to_string(),
            key_path: key_path_text.to_string(),
            created,
        })
        .map_err(|e| io_error(&dir.join(CONFIG_FILE), std::io::Error::other(e)))?;
        let signer = LogSigner {
            origin: origin.to_string(),
            key: key.clone(),
        };
        let vkey = signer.vkey();
        let mut writer = DirWriter::new(dir)?;
        writer.write(Path::new(CONFIG_FILE), config.as_bytes())?;
        writer.write(Path::new(VKEY_FILE), format!("{vkey}\n").as_bytes())?;
        let note = checkpoint::sign(&signer, 0, &merkle::empty_root());
        writer.write(Path::new(JOURNAL_FILE), &journal::encode_base(&note))?;
        writer.write(&Path::new(PUBLIC_DIR).join("checkpoint"), &note)?;
        writer.sync()?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error(dir, e))?;
        Ok(vkey)
    }

    /// Reads a log's config without opening (locking) the log.
    pub fn read_config(dir: &Path) -> Result<LogConfig, LogError> {
        let path = dir.join(CONFIG_FILE);
        let bytes = read_required(&path, 64 * 1024)?;
        let bad = |detail: String| LogError::Malformed {
            what: "log config",
            detail: format!("{}: {detail}", path.display()),
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| bad("not UTF-8".into()))?;
        let file: ConfigFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if file.format != CONFIG_FORMAT || file.version != 1 {
            return Err(bad(format!(
                "format {:?} version {} (expected {CONFIG_FORMAT:?} version 1)",
                file.format, file.version
            )));
        }
        check_key_name(&file.origin)?;
        Ok(LogConfig {
            origin: file.origin,
            key_path: PathBuf::from(file.key_path),
        })
    }

    /// Opens a log for appending: takes the exclusive lock (failing with
    /// [`LogError::Locked`] if another process holds it), reads the published checkpoint
    /// and the entries up to its size (rebuilding the duplicate index and checking the
    /// root), forgets anything beyond that size, and removes the temporary files a crash
    /// left under `public/`. Every file it reads must be a regular file (a FIFO, device or
    /// symbolic link is an error, never a hang).
    pub fn open(dir: &Path) -> Result<LogDir, LogError> {
        let config = Self::read_config(dir)?;
        // Regression (hostile review 2, stop 21): the lock was the file `lock`, opened by
        // path (a symbolic link planted there was followed, creating or truncating its
        // target) and replaceable: unlinked while held, the next opener locked a new file
        // and two appenders signed two checkpoints of one size. The directory itself is
        // locked now; only whoever can write its parent can replace it.
        let lock = File::open(dir).map_err(|e| io_error(dir, e))?;
        match rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => return Err(LogError::Locked(dir.to_path_buf())),
            Err(e) => return Err(io_error(dir, e.into())),
        }
        let vkey_path = dir.join(VKEY_FILE);
        let vkey_bytes = read_required(&vkey_path, 4096)?;
        let vkey = String::from_utf8_lossy(&vkey_bytes);
        let verifier = LogVerifier::from_vkey(vkey.trim_end_matches('\n'))?;
        if verifier.origin != config.origin {
            return Err(LogError::Verification(format!(
                "{}: its vkey names the origin {:?}, its config {:?}",
                dir.display(),
                verifier.origin,
                config.origin
            )));
        }
        let public = dir.join(PUBLIC_DIR);
        let corrupt = |detail: String| {
            LogError::Verification(format!("{}: the log is corrupt: {detail}", dir.display()))
        };
        // The base: the journal's first record, or (a log made before the journal, which
        // fsynced every tile) the published checkpoint.
        let journal_path = dir.join(JOURNAL_FILE);
        // Regression (journal review): a journal with another name (a hard link to a
        // file elsewhere) was opened for appending as it was, so batch records were
        // written to that file too. It is read, then written afresh (a new file).
        let mut linked = false;
        let mut reader = match open_regular(&journal_path)? {
            Some(file) => {
                use std::os::unix::fs::MetadataExt as _;
                linked = file
                    .metadata()
                    .map_err(|e| io_error(&journal_path, e))?
                    .nlink()
                    != 1;
                Some(JournalReader::new(&journal_path, file)?)
            }
            None => None,
        };
        let base_note = match reader.as_mut() {
            Some(reader) => match reader.next_record()? {
                Some(Record::Base { note }) => note,
                _ => {
                    return Err(corrupt(
                        "its journal does not start with a base checkpoint".into(),
                    ));
                }
            },
            None => read_required(&public.join("checkpoint"), MAX_CHECKPOINT_LEN)?,
        };
        let opened = checkpoint::open(&base_note, &verifier, &[])?;
        let mut log = LogDir {
            root: dir.to_path_buf(),
            public,
            config,
            verifier: verifier.clone(),
            checkpoint: base_note,
            tree: TreeHashes::default(),
            duplicates: DuplicateIndex::default(),
            tail: Vec::new(),
            writer: DirWriter::new(dir)?,
            journal: None,
            journal_len: 0,
            spare_turn: 0,
            compact_at: JOURNAL_COMPACT_AT,
            failed: None,
            _lock: lock,
        };
        let size = opened.size;
        for n in 0..size.div_ceil(TILE_WIDTH) {
            let tile = TilePath::Entries {
                index: n,
                width: tile_width(size, n),
            };
            let path = log.public.join(tile.to_path());
            let bytes = read_required(&path, MAX_ENTRY_BUNDLE_LEN)?;
            let entries = entry_bundle::decode(&bytes, usize::from(tile_width(size, n)))
                .map_err(|e| LogError::Verification(format!("{}: {e}", path.display())))?;
            for entry in &entries {
                let hash = merkle::record_hash(entry);
                let index = log.tree.size();
                log.tree.push(hash);
                log.duplicates.insert(&hash, index, &log.tree);
            }
            if tile_width(size, n) < TILE_WIDTH as u16 {
                log.tail = entries;
            }
        }
        let root = log.tree.root();
        if root != opened.root {
            return Err(corrupt(format!(
                "its {size} entries have the root {} but its checkpoint says {}",
                hex::encode(root),
                hex::encode(opened.root)
            )));
        }
        log.check_hash_tiles()?;
        // Replay: every batch the journal holds after the base, each checked against the
        // log-signed checkpoint it was journaled with; its tiles are written again (they
        // may not have reached the disk).
        let mut replayed = 0u64;
        if let Some(reader) = reader.as_mut() {
            while let Some(record) = reader.next_record()? {
                let Record::Batch {
                    old_size,
                    entries,
                    note,
                } = record
                else {
                    return Err(corrupt("its journal has a second base checkpoint".into()));
                };
                log.replay(old_size, &entries, note)
                    .map_err(|e| corrupt(format!("its journal's batch at {old_size}: {e}")))?;
                replayed += 1;
            }
        }
        // The published checkpoint: kept when it states the replayed tree (it may carry
        // cosignatures); replaced when it is missing, unreadable or older (the journal's
        // batch was durable before it was renamed into place); a tree the journal does not
        // hold is corruption.
        let published =
            read_bounded(&log.public.join("checkpoint"), MAX_CHECKPOINT_LEN)?.and_then(|bytes| {
                let opened = checkpoint::open(&bytes, &verifier, &[]).ok()?;
                Some((bytes, opened))
            });
        let republish = match published {
            Some((bytes, opened))
                if opened.size == log.size() && opened.root == log.tree.root() =>
            {
                log.checkpoint = bytes;
                false
            }
            Some((_, opened)) if opened.size >= log.size() => {
                return Err(corrupt(format!(
                    "its published checkpoint states a tree of {} entries that its tiles and journal do not hold",
                    opened.size
                )));
            }
            _ => true,
        };
        log.remove_unpublished()?;
        remove_stale_temp_files(&mut log.writer, dir, Path::new(PUBLIC_DIR), 0)?;
        let torn = reader.as_ref().is_some_and(JournalReader::torn);
        if reader.is_none() || replayed > 0 || torn || republish || linked {
            // Everything replayed is made durable, then the checkpoint, then the journal
            // starts again from it.
            log.writer.sync_filesystem()?;
            if republish {
                let note = log.checkpoint.clone();
                log.writer
                    .write(&Path::new(PUBLIC_DIR).join("checkpoint"), &note)?;
            }
            log.restart_journal()?;
        } else {
            log.writer.sync()?;
            log.journal_len = reader.as_ref().map_or(0, JournalReader::good_len);
            log.journal = Some(log.writer.open_append(Path::new(JOURNAL_FILE))?);
        }
        Ok(log)
    }

    /// Replays one journaled batch on the tree of `old_size` entries: its entries are
    /// appended, its checkpoint must open with the log key and state the new tree, and its
    /// tiles are written again (renamed into place, made durable by the caller).
    fn replay(
        &mut self,
        old_size: u64,
        entries: &[Vec<u8>],
        note: Vec<u8>,
    ) -> Result<(), LogError> {
        if old_size != self.size() {
            return Err(LogError::Verification(format!(
                "it extends a tree of {old_size} entries, not the {} before it",
                self.size()
            )));
        }
        let new: Vec<(&[u8], Hash)> = entries
            .iter()
            .map(|e| (e.as_slice(), merkle::record_hash(e)))
            .collect();
        for (_, hash) in &new {
            self.tree.push(*hash);
        }
        let opened = checkpoint::open(&note, &self.verifier, &[])?;
        if opened.size != self.size() || opened.root != self.tree.root() {
            return Err(LogError::Verification(format!(
                "its checkpoint states size {} and not the root of its {} entries",
                opened.size,
                self.size()
            )));
        }
        for (i, (_, hash)) in new.iter().enumerate() {
            self.duplicates
                .insert(hash, old_size + i as u64, &self.tree);
        }
        self.writer.forget_dirs();
        let (staged, tail) = self.stage_tiles(old_size, &new)?;
        self.writer.rename_all(staged)?;
        self.tail = tail;
        self.checkpoint = note;
        Ok(())
    }

    /// Writes the journal afresh with the published checkpoint as its base (temporary
    /// file, fsync, rename, directory fsync) and opens it for appending. Everything the
    /// checkpoint states must be durable already. If the new journal is in place but cannot
    /// be opened, appending stops (the old handle names a file no longer there).
    fn restart_journal(&mut self) -> Result<(), LogError> {
        let base = journal::encode_base(&self.checkpoint);
        self.writer.write(Path::new(JOURNAL_FILE), &base)?;
        self.journal = None;
        let reopened = self
            .writer
            .sync()
            .and_then(|()| self.writer.open_append(Path::new(JOURNAL_FILE)));
        match reopened {
            Ok(file) => {
                self.journal = Some(file);
                self.journal_len = base.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.failed = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Requires every hash tile of the published tree, at its width for the published
    /// size, to hold exactly the hashes recomputed from the entries (readers prove with
    /// them).
    fn check_hash_tiles(&self) -> Result<(), LogError> {
        let size = self.size();
        for level in 0..8u8 {
            let count = level_count(size, level);
            if count == 0 {
                break;
            }
            for n in 0..count.div_ceil(TILE_WIDTH) {
                let width = tile_width(count, n);
                let tile = TilePath::Hash {
                    level,
                    index: n,
                    width,
                };
                let path = self.public.join(tile.to_path());
                let expected = self.tree.tile_bytes(
                    8 * usize::from(level),
                    (n * TILE_WIDTH) as usize,
                    usize::from(width),
                );
                if read_required(&path, MAX_HASH_TILE_LEN)? != expected {
                    return Err(LogError::Verification(format!(
                        "{}: the log is corrupt: the hash tile {} does not hold the hashes of its entries",
                        self.root.display(),
                        tile.to_path()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Removes the tiles a failed or interrupted append left beyond the published size, so
    /// that no file under `public/` ever disagrees with a published tree.
    fn remove_unpublished(&mut self) -> Result<(), LogError> {
        let size = self.size();
        let public = Path::new(PUBLIC_DIR);
        let mut levels: Vec<(Option<u8>, u64)> = vec![(None, size)];
        levels.extend((0..8u8).map(|l| (Some(l), level_count(size, l))));
        for (level, count) in levels {
            let tile = |index: u64, width: u16| match level {
                None => TilePath::Entries { index, width },
                Some(level) => TilePath::Hash {
                    level,
                    index,
                    width,
                },
            };
            let mut n = count / TILE_WIDTH;
            loop {
                let published = if n == count / TILE_WIDTH {
                    count % TILE_WIDTH
                } else {
                    0
                };
                let full = public.join(tile(n, TILE_WIDTH as u16).to_path());
                let mut found = self.writer.remove(&full)?;
                let partial = public.join(tile(n, 1).to_path());
                let partial_dir = partial.parent().unwrap_or(public);
                if self.writer.dir_exists(partial_dir)? {
                    found = true;
                    for w in (published + 1)..TILE_WIDTH {
                        self.writer.remove(&partial_dir.join(w.to_string()))?;
                    }
                }
                if !found {
                    break;
                }
                n += 1;
            }
        }
        self.writer.sync()
    }

    /// Publishes `note` in place of the current checkpoint when it states the same origin,
    /// size and root (a checkpoint re-signed or re-cosigned, e.g. with fresh witness
    /// cosignatures; spec/log.md §6): written by temporary file, fsync, rename and
    /// directory fsync. Anything else is refused and nothing is written: a tree is never
    /// changed here.
    pub fn replace_checkpoint(&mut self, note: &[u8]) -> Result<(), LogError> {
        self.check_note(note, self.size(), &self.root_hash())
            .map_err(|e| {
                LogError::Verification(format!(
                    "the checkpoint to publish again is refused (it must open with the log key and state the published tree): {e}"
                ))
            })?;
        self.writer.forget_dirs();
        self.writer
            .write(&Path::new(PUBLIC_DIR).join("checkpoint"), note)?;
        self.checkpoint = note.to_vec();
        self.writer.sync()
    }

    /// Why appending stopped, if it did: an append failed once its batch was (or may
    /// have been) journaled, and the log appends again only once it is opened again.
    pub fn stopped(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// The log directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The log's config.
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// The published tree size.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// The published tree root.
    pub fn root_hash(&self) -> Hash {
        self.tree.root()
    }

    /// The published checkpoint note, verbatim.
    pub fn checkpoint(&self) -> &[u8] {
        &self.checkpoint
    }

    /// The index of an entry already in the log, if any.
    pub fn find(&self, entry: &[u8]) -> Option<u64> {
        self.duplicates
            .find(&merkle::record_hash(entry), &self.tree)
    }

    /// The entry at `index` (< size).
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        let size = self.size();
        if index >= size {
            return Err(LogError::Verification(format!(
                "entry {index} is not in the log of {size} entries"
            )));
        }
        let n = index / TILE_WIDTH;
        let offset = (index % TILE_WIDTH) as usize;
        if n == size / TILE_WIDTH {
            return Ok(self.tail[offset].clone());
        }
        let path = self.public.join(
            TilePath::Entries {
                index: n,
                width: TILE_WIDTH as u16,
            }
            .to_path(),
        );
        let bytes = read_required(&path, MAX_ENTRY_BUNDLE_LEN)?;
        let mut entries = entry_bundle::decode(&bytes, TILE_WIDTH as usize)
            .map_err(|e| LogError::Verification(format!("{}: {e}", path.display())))?;
        Ok(entries.swap_remove(offset))
    }

    /// Appends a batch without witness cosignatures: [`LogDir::append_cosigned`] with
    /// cosigning that leaves the note as it is.
    pub fn append(
        &mut self,
        entries: &[Vec<u8>],
        sign: &mut Publish<'_>,
    ) -> Result<Vec<u64>, LogError> {
        self.append_cosigned(entries, sign, &mut |note: &[u8]| Ok(note.to_vec()))
    }

    /// Appends a batch: entries already in the log (or repeated in the batch) keep their
    /// index and are not appended again. For each [`MAX_RECORD_ENTRIES`] entries: `sign`
    /// signs the new tree's checkpoint; the entries and that note are written to the
    /// journal and fdatasynced (from then on the batch survives a crash); the tiles are
    /// renamed into place; `cosign` adds witness cosignatures; the checkpoint is renamed
    /// into place; and only then are the indexes returned. On error nothing of the failing
    /// batch was published (an earlier batch of the same call may have been); an error
    /// once its record may be in the journal stops appending until the log is opened
    /// again (which replays the journal).
    pub fn append_cosigned(
        &mut self,
        entries: &[Vec<u8>],
        sign: &mut Publish<'_>,
        cosign: &mut Cosign<'_>,
    ) -> Result<Vec<u64>, LogError> {
        if let Some((i, e)) = entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.len() > MAX_ENTRY_LEN)
        {
            return Err(LogError::Malformed {
                what: "log entry",
                detail: format!(
                    "entry {i} of the batch has {} bytes, more than {MAX_ENTRY_LEN}",
                    e.len()
                ),
            });
        }
        let mut indexes = Vec::with_capacity(entries.len());
        for chunk in entries.chunks(MAX_RECORD_ENTRIES) {
            indexes.extend(self.append_batch(chunk, sign, cosign)?);
        }
        Ok(indexes)
    }

    /// Appends at most [`MAX_RECORD_ENTRIES`] entries as one journaled batch.
    fn append_batch(
        &mut self,
        entries: &[Vec<u8>],
        sign: &mut Publish<'_>,
        cosign: &mut Cosign<'_>,
    ) -> Result<Vec<u64>, LogError> {
        if let Some(why) = &self.failed {
            return Err(LogError::Verification(format!(
                "{}: the log stopped appending after an error and appends again once it is opened again (restart `log serve`): {why}",
                self.root.display()
            )));
        }
        let old_size = self.size();
        let mut indexes = Vec::with_capacity(entries.len());
        let mut batch: HashMap<Hash, u64> = HashMap::new();
        let mut new: Vec<(&[u8], Hash)> = Vec::new();
        for entry in entries {
            let hash = merkle::record_hash(entry);
            if let Some(i) = self.duplicates.find(&hash, &self.tree) {
                indexes.push(i);
            } else if let Some(&i) = batch.get(&hash) {
                indexes.push(i);
            } else {
                let i = old_size + new.len() as u64;
                batch.insert(hash, i);
                new.push((entry, hash));
                indexes.push(i);
            }
        }
        if new.is_empty() {
            return Ok(indexes);
        }
        for (_, hash) in &new {
            self.tree.push(*hash);
        }
        let new_size = self.size();
        let root = self.tree.root();
        // Signed first: the journal keeps the log-signed note with the batch.
        let record = sign(new_size, &root).and_then(|note| {
            self.check_note(&note, new_size, &root)?;
            let entries: Vec<&[u8]> = new.iter().map(|(e, _)| *e).collect();
            Ok((journal::encode_batch(old_size, &entries, &note)?, note))
        });
        let (record, note) = match record {
            Ok(record) => record,
            Err(e) => {
                self.tree.truncate(old_size);
                return Err(e);
            }
        };
        // One write and one fdatasync make the batch durable.
        if let Err(e) = self.write_journal(&record) {
            self.tree.truncate(old_size);
            self.failed = Some(e.to_string());
            return Err(e);
        }
        if let Err(e) = self.publish_batch(old_size, &new, &root, note, cosign) {
            // The checkpoint was not renamed into place: readers keep the old tree, and
            // opening the log again publishes the journaled batch.
            self.tree.truncate(old_size);
            self.failed = Some(e.to_string());
            // Best effort: the error that matters is the one already in hand.
            let _ = self.remove_unpublished();
            return Err(e);
        }
        for (i, (_, hash)) in new.iter().enumerate() {
            self.duplicates
                .insert(hash, old_size + i as u64, &self.tree);
        }
        if self.journal_len >= self.compact_at {
            // A failure leaves the old journal, which still replays to this tree; it is
            // tried again 8 MiB later (not at every batch: each try costs a syncfs), or
            // appending stopped, if the new journal could not be opened.
            let compacted = self
                .writer
                .sync_filesystem()
                .and_then(|()| self.restart_journal());
            self.compact_at = match compacted {
                Ok(()) => JOURNAL_COMPACT_AT,
                Err(_) => self.journal_len + JOURNAL_COMPACT_AT / 8,
            };
        }
        Ok(indexes)
    }

    /// Requires a note to journal or publish to open with the log key (of `log.vkey`) and
    /// to state the log's origin, `size` and `root`.
    ///
    /// Regression (journal review): only the origin, size and root were checked, so a
    /// note the log key did not sign was journaled and acknowledged, and opening the log
    /// then refused its record (the log could not be opened); and a cosigned note whose
    /// log signature no longer verified was published, then made the journal's base by a
    /// compaction.
    fn check_note(&self, note: &[u8], size: u64, root: &Hash) -> Result<(), LogError> {
        let opened = checkpoint::open(note, &self.verifier, &[])?;
        if opened.size != size || opened.root != *root {
            return Err(LogError::Verification(format!(
                "the checkpoint to publish states {:?} size {}, not {:?} size {size} with the new root",
                opened.origin, opened.size, self.config.origin
            )));
        }
        Ok(())
    }

    /// Appends a framed record to the journal and fdatasyncs it.
    fn write_journal(&mut self, record: &[u8]) -> Result<(), LogError> {
        use std::io::Write as _;
        let path = self.root.join(JOURNAL_FILE);
        let journal = self.journal.as_mut().ok_or_else(|| {
            io_error(
                &path,
                std::io::Error::other("the journal is not open for appending"),
            )
        })?;
        journal
            .write_all(record)
            .and_then(|()| journal.sync_data())
            .map_err(|e| io_error(&path, e))?;
        self.journal_len += record.len() as u64;
        Ok(())
    }

    /// Publishes a journaled batch: its tiles renamed into place, the note cosigned, the
    /// checkpoint renamed into place (none fsynced: the journal holds the batch until the
    /// next compaction's `syncfs`). Updates the checkpoint and the tail only once the
    /// checkpoint is in place.
    fn publish_batch(
        &mut self,
        old_size: u64,
        new: &[(&[u8], Hash)],
        root: &Hash,
        note: Vec<u8>,
        cosign: &mut Cosign<'_>,
    ) -> Result<(), LogError> {
        self.writer.forget_dirs();
        let (staged, new_tail) = self.stage_tiles(old_size, new)?;
        self.writer.rename_all(staged)?;
        // The signed note was checked before it was journaled: only a changed one (with
        // cosignatures) is checked again.
        let note = match cosign(&note) {
            Ok(cosigned) if cosigned == note => note,
            Ok(cosigned) if self.check_note(&cosigned, self.size(), root).is_ok() => cosigned,
            _ => note,
        };
        // Swapped in with one of the spares (no inode created or deleted per batch); the
        // spare used last holds the checkpoint before, so a reader still reading that one
        // has CHECKPOINT_SPARES batches' time before its file is rewritten.
        self.spare_turn = (self.spare_turn + 1) % CHECKPOINT_SPARES;
        let spare = format!("{CHECKPOINT_SPARE_PREFIX}{}", self.spare_turn);
        self.writer.exchange_into(
            &Path::new(PUBLIC_DIR).join("checkpoint"),
            Path::new(&spare),
            &note,
        )?;
        self.checkpoint = note;
        self.tail = new_tail;
        Ok(())
    }

    /// Writes to temporary names the tiles of the records `old_size..` (already pushed
    /// into the tree): the entry bundles from the old partial bundle on, and at each tile
    /// level the hash tiles whose hash count grew, at their new widths. Returns them and
    /// the entries of the new partial bundle.
    fn stage_tiles(
        &mut self,
        old_size: u64,
        new: &[(&[u8], Hash)],
    ) -> Result<(Vec<StagedFile>, Vec<Vec<u8>>), LogError> {
        let new_size = self.size();
        let public = Path::new(PUBLIC_DIR);
        let mut tiles = Vec::new();
        let first_tile = old_size / TILE_WIDTH;
        let pending: Vec<&[u8]> = self
            .tail
            .iter()
            .map(Vec::as_slice)
            .chain(new.iter().map(|(e, _)| *e))
            .collect();
        let mut new_tail = Vec::new();
        for (j, chunk) in pending.chunks(TILE_WIDTH as usize).enumerate() {
            let tile = TilePath::Entries {
                index: first_tile + j as u64,
                width: chunk.len() as u16,
            };
            tiles.push(
                self.writer
                    .stage(&public.join(tile.to_path()), &entry_bundle::encode(chunk)?)?,
            );
            if chunk.len() < TILE_WIDTH as usize {
                new_tail = chunk.iter().map(|e| e.to_vec()).collect();
            }
        }
        for level in 0..8u8 {
            let (old_count, new_count) =
                (level_count(old_size, level), level_count(new_size, level));
            if new_count == old_count {
                break;
            }
            let k = 8 * usize::from(level);
            for n in old_count / TILE_WIDTH..new_count.div_ceil(TILE_WIDTH) {
                let width = tile_width(new_count, n);
                let tile = TilePath::Hash {
                    level,
                    index: n,
                    width,
                };
                let bytes = self
                    .tree
                    .tile_bytes(k, (n * TILE_WIDTH) as usize, usize::from(width));
                tiles.push(self.writer.stage(&public.join(tile.to_path()), &bytes)?);
            }
        }
        Ok((tiles, new_tail))
    }

    /// The receipt of entry `index` against the published checkpoint.
    pub fn receipt(&self, index: u64) -> Result<TlogProof, LogError> {
        Ok(TlogProof {
            index,
            path: merkle::inclusion_proof(&self.tree, self.size(), index)?,
            checkpoint: self.checkpoint.clone(),
        })
    }

    /// The consistency proof from the tree of `old_size` to the published tree.
    pub fn consistency_proof(&self, old_size: u64) -> Result<Vec<Hash>, LogError> {
        merkle::consistency_proof(&self.tree, self.size(), old_size)
    }

    /// Reads a published file by its relative path (`checkpoint` or a tile path that
    /// [`crate::tile_path::TilePath::parse`] accepts and that lies within the published
    /// tree); `None` for any other path.
    pub fn read_public(&self, rel_path: &str) -> Result<Option<Vec<u8>>, LogError> {
        if rel_path == "checkpoint" {
            return Ok(Some(self.checkpoint.clone()));
        }
        read_published_tile(&self.public, self.size(), rel_path)
    }
}

/// Reads the tile `rel_path` of the log whose published directory is `public` and whose
/// published tree has `size` entries: only a path that
/// [`crate::tile_path::TilePath::parse`] accepts and that lies within that tree (else
/// `None`), opened as [`read_regular`] does and bounded by the tile's largest size. For a
/// server that keeps the published size apart from the [`LogDir`] (whose lock a batch
/// holds while it appends).
pub fn read_published_tile(
    public: &Path,
    size: u64,
    rel_path: &str,
) -> Result<Option<Vec<u8>>, LogError> {
    let Ok(tile) = TilePath::parse(rel_path) else {
        return Ok(None);
    };
    if !tile_within(&tile, size) {
        return Ok(None);
    }
    let limit = match tile {
        TilePath::Hash { .. } => MAX_HASH_TILE_LEN,
        TilePath::Entries { .. } => MAX_ENTRY_BUNDLE_LEN,
    };
    read_bounded(&public.join(tile.to_path()), limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_hashes_root_and_truncate_match_the_root_builder() {
        let mut tree = TreeHashes::default();
        let mut builder = merkle::RootBuilder::default();
        assert_eq!(tree.root(), builder.root());
        for i in 0..600u32 {
            let h = merkle::record_hash(&i.to_be_bytes());
            tree.push(h);
            builder.push(h);
            assert_eq!(tree.root(), builder.root(), "size {}", i + 1);
        }
        let mut small = merkle::RootBuilder::default();
        for i in 0..257u32 {
            small.push(merkle::record_hash(&i.to_be_bytes()));
        }
        tree.truncate(257);
        assert_eq!(tree.size(), 257);
        assert_eq!(tree.root(), small.root());
        tree.truncate(0);
        assert_eq!(tree.root(), merkle::empty_root());
    }

    #[test]
    fn tiles_within_a_tree() {
        let e = |index, width| TilePath::Entries { index, width };
        let h = |level, index, width| TilePath::Hash {
            level,
            index,
            width,
        };
        assert!(tile_within(&e(0, 256), 300));
        assert!(tile_within(&e(1, 44), 300));
        assert!(tile_within(&e(1, 3), 300));
        assert!(!tile_within(&e(1, 45), 300));
        assert!(!tile_within(&e(2, 1), 300));
        assert!(tile_within(&h(1, 0, 1), 300));
        assert!(!tile_within(&h(1, 0, 2), 300));
        assert!(!tile_within(&h(2, 0, 1), 300));
        assert!(!tile_within(&h(63, 0, 1), u64::MAX));
        assert!(!tile_within(&e(u64::MAX, 256), u64::MAX));
    }
}
