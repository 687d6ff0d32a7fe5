//! `seqprov log witness`: a c2sp.org/tlog-witness witness (spec/log.md §6).
//!
//! It answers `POST /add-checkpoint`: the body is `old <size>`, at most 63 consistency
//! proof lines, an empty line and a checkpoint. It keeps, per trusted log origin, the size
//! and root of the last checkpoint it cosigned in a state file (temporary file, fsync,
//! rename, directory fsync), and cosigns (`cosignature/v1`) only a checkpoint signed by
//! the log's key that extends that tree. The check of `old` against the stored size and
//! the update of the state are one critical section, so two requests cannot roll the
//! state back: within a process behind a mutex, and across processes sharing the state
//! directory (a listening witness and a pull run) behind an exclusive `flock` of the state
//! directory itself (not of a file in it, which whoever can write there could unlink and
//! replace), under which the state file is read again before it is compared and written.
//! The lock is waited for at most [`STATE_LOCK_WAIT`]; the directory must be the
//! process's own, mode 0700 (it is created so), so that no other user can hold its lock.
//!
//! Answers: 200 and the cosignature line; 400 a malformed body or `old` past the
//! checkpoint's size; 403 a checkpoint whose log signature is missing or bad; 404 an
//! unknown origin (tlog-witness) or path; 405 another method; 409 `old` is not the stored
//! size, the body the stored size (`text/x.tlog.size`); 413 a body over
//! [`MAX_BODY_LEN`]; 422 a consistency proof that does not verify (a fork) or a size-0
//! checkpoint whose root is not the empty tree's; 500 the state could not be written.

use std::collections::HashMap;
use std::fs::File;

use crate::http_limits::{self, HttpLimits};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};
use tiny_http::{Header, Method, Response, Server};

use seqprov::bundle_file::{Overwrite, write_atomically};
use seqprov_log::checkpoint::{self, MAX_CHECKPOINT_LEN};
use seqprov_log::merkle;
use seqprov_log::note_keys::{LogVerifier, WitnessSigner};
use seqprov_log::{Hash, LogError};

/// The most consistency proof lines a request may carry (tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

/// The largest request body: the old line, 63 proof lines, the empty line, a checkpoint.
pub const MAX_BODY_LEN: usize = 32 + MAX_PROOF_LINES * 45 + 1 + MAX_CHECKPOINT_LEN;

/// The content type of a 409 answer.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// What the witness is: its key, the logs it follows, where it keeps its state.
pub struct WitnessConfig {
    /// The witness's signing key and name.
    pub signer: WitnessSigner,
    /// The trusted logs, one key per origin.
    pub logs: Vec<LogVerifier>,
    /// The directory of the state files (one per origin), created if absent.
    pub state_dir: PathBuf,
    /// Timeouts, the body deadline and the most connections open at once.
    pub http: HttpLimits,
}

/// What went wrong starting the witness.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}: {detail}")]
    Bind {
        /// The address asked.
        addr: String,
        /// Why.
        detail: String,
    },
    /// The state directory or a state file could not be read or created.
    #[error(transparent)]
    State(#[from] LogError),
    /// Two trusted logs have the same origin.
    #[error("two log keys for the origin {0:?}")]
    DuplicateOrigin(String),
}

/// The tree the witness last cosigned for one origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WitnessedTree {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// An answer of the witness: HTTP status, content type, body.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body (one line).
    pub body: String,
}

impl Answer {
    fn text(status: u16, body: impl Into<String>) -> Answer {
        let mut body = body.into();
        body.push('\n');
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }
}

/// The witness's state: the trusted logs and, behind one lock, the last cosigned trees.
pub struct Witness {
    config: WitnessConfig,
    /// The trees as last read or written; the state files stay authoritative (another
    /// process may share the directory), so each use reads them again under the flock.
    trees: Mutex<HashMap<String, WitnessedTree>>,
    /// The state directory, opened: flocked exclusively around each read-compare-write.
    state_lock: File,
}

/// The longest a witness waits for another process's lock of the state directory
/// (another witness holds it only for one read, compare and write of a state file).
pub const STATE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Holds the exclusive flock of the state directory; released when dropped.
struct StateDirLock<'a>(&'a File);

impl<'a> StateDirLock<'a> {
    /// Takes the state directory's lock, waiting at most [`STATE_LOCK_WAIT`] (never
    /// forever: a process holding it longer is not a witness at work).
    fn acquire(file: &'a File, path: &Path) -> Result<StateDirLock<'a>, LogError> {
        let until = std::time::Instant::now() + STATE_LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(StateDirLock(file)),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < until => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(io_error(
                        path,
                        std::io::Error::other(format!(
                            "locked by another process for over {} s",
                            STATE_LOCK_WAIT.as_secs()
                        )),
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io_error(path, e)),
            }
        }
    }
}

impl Drop for StateDirLock<'_> {
    fn drop(&mut self) {
        // Closing the file would release it too; the file lives as long as the witness.
        let _ = self.0.unlock();
    }
}

/// The state file of an origin: `state_dir/<hex SHA-256(origin)>`.
pub fn state_path(state_dir: &Path, origin: &str) -> PathBuf {
    state_dir.join(hex::encode(Sha256::digest(origin.as_bytes())))
}

fn io_error(path: &Path, source: std::io::Error) -> LogError {
    LogError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a state file: `<size>\n<base64 root>\n`; `None` if there is none. It must be a
/// regular file (a FIFO, device or symbolic link there is an error, never a wait:
/// `seqprov_log::log_dir::read_regular`).
fn read_state(path: &Path) -> Result<Option<WitnessedTree>, LogError> {
    let Some(bytes) = seqprov_log::log_dir::read_regular(path, 128)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    let malformed = || LogError::Malformed {
        what: "witness state",
        detail: format!("{} is not <size>\\n<root>\\n", path.display()),
    };
    let mut lines = text.split('\n');
    let size = lines
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(malformed)?;
    let mut root = [0u8; 32];
    let decoded = lines
        .next()
        .and_then(|r| Base64::decode(r, &mut root).ok().map(|d| d.len()));
    if decoded != Some(32) || lines.next() != Some("") || lines.next().is_some() {
        return Err(malformed());
    }
    Ok(Some(WitnessedTree { size, root }))
}

/// Writes a state file the way seqprov writes every file it replaces
/// (`seqprov::bundle_file::write_atomically`: temporary file, fsync, rename, directory
/// fsync).
fn write_state(path: &Path, tree: &WitnessedTree) -> Result<(), LogError> {
    let text = format!("{}\n{}\n", tree.size, Base64::encode_string(&tree.root));
    write_atomically(path, text.as_bytes(), Overwrite::Replace)
        .map_err(|e| io_error(path, std::io::Error::other(e.to_string())))
}

/// The tree to compare against: the state file's, which another process sharing the
/// directory may have advanced, unless it is gone or behind the tree this process knows
/// it cosigned (the file was removed or replaced under the witness): then an error, never
/// a silent step back.
fn newest_tree(
    known: Option<WitnessedTree>,
    on_disk: Option<WitnessedTree>,
) -> Result<Option<WitnessedTree>, String> {
    match (known, on_disk) {
        (Some(known), None) => Err(format!(
            "the state file is gone, yet this witness cosigned a tree of {} entries",
            known.size
        )),
        (Some(known), Some(disk))
            if disk.size < known.size || (disk.size == known.size && disk.root != known.root) =>
        {
            Err(format!(
                "the state file holds a tree of {} entries, not the tree of {} this witness \
                 cosigned or a later one",
                disk.size, known.size
            ))
        }
        (_, on_disk) => Ok(on_disk),
    }
}

/// Creates the state directory (mode 0700) if absent and opens it, refusing one that is
/// not a directory or that other users may open (any group or other permission bit):
/// whoever can open it can hold its lock, and whoever can write in it can change the state.
fn open_state_dir(dir: &Path) -> Result<File, LogError> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_error(dir, e)),
    }
    let opened = File::open(dir).map_err(|e| io_error(dir, e))?;
    let meta = opened.metadata().map_err(|e| io_error(dir, e))?;
    if !meta.is_dir() {
        return Err(io_error(dir, std::io::Error::other("is not a directory")));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(io_error(
            dir,
            std::io::Error::other(format!(
                "the witness state directory is open to other users (mode {mode:04o}); make \
                 it 0700 (chmod 700)"
            )),
        ));
    }
    Ok(opened)
}

/// A parsed add-checkpoint body.
struct AddCheckpoint<'a> {
    old: u64,
    proof: Vec<Hash>,
    checkpoint: &'a [u8],
}

fn parse_body(body: &[u8]) -> Result<AddCheckpoint<'_>, String> {
    let mut rest = body;
    let mut next_line = || -> Result<&[u8], String> {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("the body ends before the empty line")?;
        let line = &rest[..end];
        rest = &rest[end + 1..];
        Ok(line)
    };
    let old_line = next_line()?;
    let old = old_line
        .strip_prefix(b"old ")
        .and_then(|d| std::str::from_utf8(d).ok())
        .filter(|d| !d.is_empty() && (d.len() == 1 || !d.starts_with('0')))
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u64>().ok())
        .ok_or_else(|| {
            format!(
                "first line \"{}\" is not \"old <size>\"",
                old_line[..old_line.len().min(40)].escape_ascii()
            )
        })?;
    let mut proof = Vec::new();
    loop {
        let line = next_line()?;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(format!("more than {MAX_PROOF_LINES} proof lines"));
        }
        let mut hash = [0u8; 32];
        let ok = line.len() == 44
            && std::str::from_utf8(line)
                .ok()
                .and_then(|l| Base64::decode(l, &mut hash).ok())
                .is_some_and(|d| d.len() == 32);
        if !ok {
            return Err(format!(
                "proof line \"{}\" is not the base64 of 32 bytes",
                line[..line.len().min(48)].escape_ascii()
            ));
        }
        proof.push(hash);
    }
    Ok(AddCheckpoint {
        old,
        proof,
        checkpoint: rest,
    })
}

impl Witness {
    /// A witness with its state read from `config.state_dir` (created if absent).
    pub fn new(config: WitnessConfig) -> Result<Witness, WitnessError> {
        let state_lock = open_state_dir(&config.state_dir)?;
        let mut trees = HashMap::new();
        for (i, log) in config.logs.iter().enumerate() {
            if config.logs[..i].iter().any(|l| l.origin == log.origin) {
                return Err(WitnessError::DuplicateOrigin(log.origin.clone()));
            }
            if let Some(tree) = read_state(&state_path(&config.state_dir, &log.origin))? {
                trees.insert(log.origin.clone(), tree);
            }
        }
        Ok(Witness {
            config,
            trees: Mutex::new(trees),
            state_lock,
        })
    }

    /// The key of the followed log whose origin is `origin`, if any.
    pub fn followed_log(&self, origin: &str) -> Option<LogVerifier> {
        self.config
            .logs
            .iter()
            .find(|l| l.origin == origin)
            .cloned()
    }

    /// The tree last cosigned for `origin`, if any: its state file read again (another
    /// witness process may have cosigned since), or, if that cannot be read, the tree this
    /// process last knew ([`Witness::add_checkpoint`] reads the file again in any case).
    pub fn witnessed(&self, origin: &str) -> Option<WitnessedTree> {
        let mut trees = self
            .trees
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Ok(_flock) = StateDirLock::acquire(&self.state_lock, &self.config.state_dir) {
            let _ = self.stored_tree(&mut trees, origin);
        }
        trees.get(origin).copied()
    }

    /// The tree stored for `origin`: its state file read again (the caller holds the state
    /// directory's flock) and checked against `trees` by [`newest_tree`], which is updated.
    fn stored_tree(
        &self,
        trees: &mut HashMap<String, WitnessedTree>,
        origin: &str,
    ) -> Result<Option<WitnessedTree>, String> {
        let on_disk =
            read_state(&state_path(&self.config.state_dir, origin)).map_err(|e| e.to_string())?;
        let stored = newest_tree(trees.get(origin).copied(), on_disk)?;
        if let Some(tree) = stored {
            trees.insert(origin.to_owned(), tree);
        }
        Ok(stored)
    }

    /// Handles one add-checkpoint body (already bounded) at POSIX `time`.
    pub fn add_checkpoint(&self, body: &[u8], time: u64) -> Answer {
        if body.len() > MAX_BODY_LEN {
            return Answer::text(413, format!("body over {MAX_BODY_LEN} bytes"));
        }
        let request = match parse_body(body) {
            Ok(request) => request,
            Err(detail) => return Answer::text(400, detail),
        };
        let (origin, _, _) = match checkpoint::parse_unverified(request.checkpoint) {
            Ok(parsed) => parsed,
            Err(e) => return Answer::text(400, e.to_string()),
        };
        let Some(log) = self.config.logs.iter().find(|l| l.origin == origin) else {
            return Answer::text(404, format!("unknown log origin {origin:?}"));
        };
        let opened = match checkpoint::open(request.checkpoint, log, &[]) {
            Ok(opened) => opened,
            Err(e) => return Answer::text(403, e.to_string()),
        };
        if request.old > opened.size {
            return Answer::text(
                400,
                format!(
                    "old size {} is past the checkpoint's {}",
                    request.old, opened.size
                ),
            );
        }
        if opened.size == 0 && opened.root != merkle::empty_root() {
            return Answer::text(
                422,
                "a checkpoint of size 0 whose root is not the empty tree's",
            );
        }
        let mut trees = self
            .trees
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Regression (hostile review, stop 21): two processes sharing the state directory
        // each compared against the tree they had read at start, so one could cosign a
        // checkpoint older than the other had cosigned and write the state back. The
        // flock spans the read, the comparison and the write.
        let flock = match StateDirLock::acquire(&self.state_lock, &self.config.state_dir) {
            Ok(flock) => flock,
            Err(e) => return Answer::text(500, format!("the witness state cannot be locked: {e}")),
        };
        let stored = match self.stored_tree(&mut trees, &origin) {
            Ok(stored) => stored,
            Err(e) => return Answer::text(500, format!("the witness state cannot be used: {e}")),
        };
        let stored_size = stored.map_or(0, |t| t.size);
        if request.old != stored_size {
            return Answer {
                status: 409,
                content_type: SIZE_CONTENT_TYPE,
                body: format!("{stored_size}\n"),
            };
        }
        match stored {
            None => {
                if !request.proof.is_empty() {
                    return Answer::text(422, "a consistency proof from size 0 must be empty");
                }
            }
            Some(tree) if tree.size == opened.size => {
                if tree.root != opened.root || !request.proof.is_empty() {
                    return Answer::text(
                        422,
                        format!(
                            "the checkpoint of size {} is not the cosigned tree of that size",
                            opened.size
                        ),
                    );
                }
            }
            Some(tree) => {
                if let Err(e) = merkle::check_consistency(
                    &request.proof,
                    opened.size,
                    &opened.root,
                    tree.size,
                    &tree.root,
                ) {
                    return Answer::text(
                        422,
                        format!(
                            "the checkpoint of size {} does not extend the cosigned tree of size {}: {e}",
                            opened.size, tree.size
                        ),
                    );
                }
            }
        }
        let new_tree = WitnessedTree {
            size: opened.size,
            root: opened.root,
        };
        if let Err(e) = write_state(&state_path(&self.config.state_dir, &origin), &new_tree) {
            return Answer::text(500, format!("the witness state could not be written: {e}"));
        }
        trees.insert(origin, new_tree);
        drop(flock);
        drop(trees);
        let body = checkpoint::body(&opened.origin, opened.size, &opened.root);
        Answer {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: self
                .config
                .signer
                .cosignature_line(body.as_bytes(), time.max(1)),
        }
    }
}

/// A running witness; stopped (and its thread joined) when dropped.
pub struct WitnessHandle {
    addr: SocketAddr,
    server: Arc<Server>,
    threads: Vec<JoinHandle<()>>,
    witness: Arc<Witness>,
    stopping: Arc<AtomicBool>,
}

impl WitnessHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL prefix of its endpoints (`http://ADDR`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The witness behind the service.
    pub fn witness(&self) -> &Witness {
        &self.witness
    }

    /// Serves until the process ends (for `seqprov log witness`).
    pub fn wait(mut self) {
        for thread in std::mem::take(&mut self.threads) {
            let _ = thread.join();
        }
    }
}

impl Drop for WitnessHandle {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Each unblock wakes one waiting worker.
        for _ in 0..self.threads.len() {
            self.server.unblock();
        }
        for thread in std::mem::take(&mut self.threads) {
            let _ = thread.join();
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_secs())
}

fn respond(request: tiny_http::Request, answer: Answer) {
    let mut response = Response::from_string(answer.body).with_status_code(answer.status);
    if let Ok(header) = Header::from_bytes("Content-Type", answer.content_type) {
        response = response.with_header(header);
    }
    // The client may have gone; nothing to do then.
    let _ = request.respond(response);
}

fn handle(witness: &Witness, mut request: tiny_http::Request) {
    let path = request.url().split('?').next().unwrap_or("");
    if path != "/add-checkpoint" {
        return respond(request, Answer::text(404, "not found"));
    }
    if *request.method() != Method::Post {
        return respond(request, Answer::text(405, "use POST"));
    }
    let body = match http_limits::read_body(
        &mut request,
        MAX_BODY_LEN,
        witness.config.http.body_deadline,
    ) {
        Ok(body) => body,
        Err(e) => return respond(request, Answer::text(e.status(), e.to_string())),
    };
    let answer = witness.add_checkpoint(&body, now());
    respond(request, answer);
}

/// Threads answering requests.
pub const WORKERS: usize = 4;

/// Starts the witness on `addr` (e.g. `127.0.0.1:0`): [`WORKERS`] threads answer
/// requests; every connection is held to `config.http` ([`HttpLimits`]).
pub fn serve(addr: &str, config: WitnessConfig) -> Result<WitnessHandle, WitnessError> {
    let witness = Arc::new(Witness::new(config)?);
    let bind_error = |detail: String| WitnessError::Bind {
        addr: addr.to_string(),
        detail,
    };
    let listener = TcpListener::bind(addr).map_err(|e| bind_error(e.to_string()))?;
    let limits = witness.config.http.server_limits();
    let server = Server::from_listener_with_limits(listener, None, limits)
        .map_err(|e| bind_error(e.to_string()))?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| WitnessError::Bind {
            addr: addr.to_string(),
            detail: "not an IP address".to_string(),
        })?;
    let server = Arc::new(server);
    let stopping = Arc::new(AtomicBool::new(false));
    let threads = (0..WORKERS)
        .map(|_| {
            let server = Arc::clone(&server);
            let witness = Arc::clone(&witness);
            let stopping = Arc::clone(&stopping);
            std::thread::spawn(move || {
                loop {
                    match server.recv() {
                        Ok(request) => handle(&witness, request),
                        // An unblock (shutdown) or an accept error (go on serving).
                        Err(_) if stopping.load(Ordering::SeqCst) => break,
                        Err(_) => {}
                    }
                }
            })
        })
        .collect();
    Ok(WitnessHandle {
        addr: bound,
        server,
        threads,
        witness,
        stopping,
    })
}
