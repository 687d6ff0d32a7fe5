//! `seqprov log serve` (spec/log.md §4): the published files (`GET /checkpoint`,
//! `GET /tile/…`, read only through [`LogDir::read_public`], so no request path ever
//! reaches the file system), `POST /add` (a submission checked, then appended by the
//! [`sequencer`]), and the page (`GET /`, `/?q=`, `/run?id=`).
//!
//! A pool of worker threads takes requests from tiny_http's queue, so a slow client holds
//! one worker and no other; every connection has read and write timeouts. Every error is
//! a status and one line of text, and appends nothing. [`serve`] returns once `stop` is
//! set: it stops taking requests, lets the batch in progress finish and its waiters be
//! answered, and releases the log.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use seqprov::Policy;
use seqprov_log::checkpoint::{self, OpenedCheckpoint};
use seqprov_log::entry_bundle;
use seqprov_log::log_dir::LogDir;
use seqprov_log::note_keys::{LogSigner, LogVerifier, WitnessVerifier};
use seqprov_log::tile_path::TilePath;
use seqprov_log::{LogError, TILE_WIDTH};
use tiny_http::{Header, Method, Request, Response, Server};

use crate::http_limits::{self, HttpLimits};
use crate::large_submissions::{self, LargeSubmissions};
use crate::log_page::{self, CheckpointView, LogIndex, PageRequest};
use crate::sequencer::{self, SequencerError, SequencerHandle};
use crate::witness_push::{self, WitnessEndpoint};

/// The largest `POST /add` body accepted (a submission carries a seal, an event and a
/// token; a seal is small, but the limit matches the bundle reader's message limit).
pub const MAX_SUBMISSION_LEN: usize = 17 * 1024 * 1024;

/// Worker threads answering requests.
pub const DEFAULT_WORKERS: usize = 16;

/// How often idle workers look at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// A refused submission: the HTTP status and the one line of text the client gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// 400, 403, 413, 422 … (spec/log.md §4).
    pub status: u16,
    /// One line saying why.
    pub reason: String,
}

/// Checks a submission body and returns the log entry it becomes (spec/log.md §5).
pub type AdmitSubmission = dyn Fn(&[u8]) -> Result<Vec<u8>, Refusal> + Send + Sync;

/// Asks witnesses to cosign a signed checkpoint note of the tree `(size, root)`; returns
/// the cosignature lines it got (a witness that does not answer is left out).
pub type CosignCheckpoint = dyn FnMut(&[u8]) -> Vec<String> + Send;

/// Asks `witnesses` (each with its tlog-witness URL) to cosign every new checkpoint of the
/// log in `dir`, with a consistency proof read from the log's tiles (in place, and the batch
/// durable in the journal, before a checkpoint is cosigned); a witness
/// that fails is left out, and its old size is learned again from its 409 answer.
pub fn witness_cosigner(dir: &Path, witnesses: Vec<WitnessEndpoint>) -> Box<CosignCheckpoint> {
    let public = dir.to_string_lossy().into_owned();
    let mut endpoints: Vec<(WitnessEndpoint, u64)> =
        witnesses.into_iter().map(|w| (w, 0)).collect();
    Box::new(move |note: &[u8]| {
        let Ok((_, size, _)) = checkpoint::parse_unverified(note) else {
            return Vec::new();
        };
        let Ok(source) = seqprov_log::tile_source::open_source(&public) else {
            return Vec::new();
        };
        let proof = |old: u64| {
            let hashes = seqprov_log::tile_source::SourceHashes::new(&*source, size);
            seqprov_log::merkle::consistency_proof(&hashes, size, old)
        };
        let (lines, results) = witness_push::cosign_all(&endpoints, note, &proof);
        for ((_, old), result) in endpoints.iter_mut().zip(results) {
            if let Ok(cosigned) = result {
                *old = cosigned;
            }
        }
        lines
    })
}

/// What `seqprov log serve` was told.
pub struct ServeOptions {
    /// The log directory (`log init`).
    pub dir: PathBuf,
    /// The address to bind, exactly as given.
    pub listen: SocketAddr,
    /// Only submissions whose signer this policy trusts are appended (`--allow`).
    pub allow: Option<Policy>,
    /// The witnesses' vkeys (`--witness-key`): whose cosignatures the page counts.
    pub witness_keys: Vec<WitnessVerifier>,
    /// Asks the witnesses (`--witness`), if any.
    pub cosign: Option<Box<CosignCheckpoint>>,
    /// Worker threads.
    pub workers: usize,
    /// Timeouts, the body deadline and the most connections open at once.
    pub http: HttpLimits,
    /// With `cosign`: when the published checkpoint's newest cosignature (of
    /// `witness_keys`) is older than this, or it has none, the same checkpoint is sent to
    /// the witnesses again and published with the fresh cosignatures (at most one try per
    /// period; spec/log.md §6). `None`: never.
    pub witness_refresh: Option<Duration>,
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The log directory could not be opened or read.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The log key could not be loaded.
    #[error(transparent)]
    Key(#[from] seqprov::Error),
    /// The address could not be bound or a thread could not be started.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// An append failed once its batch was (or may have been) in the log's journal: the
    /// service stopped, so that a supervisor starts it again and opening the log replays
    /// the journal.
    #[error("the log stopped appending after a storage error (start it again to recover): {0}")]
    Stopped(String),
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let what = what.into();
    move |source| ServeError::Io { what, source }
}

/// Shared by the workers.
struct Service {
    log: Arc<RwLock<LogDir>>,
    /// What `GET` serves: the published checkpoint and size, kept apart from the log (a
    /// batch holds the log's lock while it appends, and a reader waiting for it waited
    /// behind every later batch under a steady stream of submissions).
    published: Arc<Mutex<Published>>,
    /// The log's `public/` directory.
    public: PathBuf,
    index: Arc<Mutex<LogIndex>>,
    sequencer: Mutex<Option<SequencerHandle>>,
    admit: Box<AdmitSubmission>,
    stop: Arc<AtomicBool>,
    body_deadline: Duration,
    /// At most two submissions over 1 MiB are read and checked at once.
    large: LargeSubmissions,
}

/// The published checkpoint and its tree size.
struct Published {
    checkpoint: Vec<u8>,
    size: u64,
}

/// Loads the log's signing key named in its config, as a [`LogSigner`]; it must be the
/// key of the log's `log.vkey` (whoever can write the config could name another key file,
/// spec/threat-model.md §4.4).
pub fn load_log_signer(dir: &Path) -> Result<LogSigner, ServeError> {
    let config = LogDir::read_config(dir)?;
    let key = seqprov::PrivateKey::load(&config.key_path, seqprov::PermissionCheck::Strict)?;
    let signer = LogSigner {
        origin: config.origin,
        key: key.signing_key().clone(),
    };
    let vkey_path = dir.join(seqprov_log::log_dir::VKEY_FILE);
    let published = seqprov_log::log_dir::read_regular(&vkey_path, 4096)?.unwrap_or_default();
    if String::from_utf8_lossy(&published).trim_end_matches('\n') != signer.vkey() {
        return Err(ServeError::Log(LogError::Verification(format!(
            "{}: the key file {} named in the log's config is not the key of its {}",
            dir.display(),
            config.key_path.display(),
            seqprov_log::log_dir::VKEY_FILE
        ))));
    }
    Ok(signer)
}

/// The submission check of spec/log.md §5 with `--allow POLICY`.
pub fn submission_check(allow: Option<Policy>) -> Box<AdmitSubmission> {
    Box::new(move |body: &[u8]| {
        let submission = seqprov::log_submission::Submission::decode(body).map_err(refusal)?;
        let entry = seqprov::log_submission::check_submission(&submission, allow.as_ref())
            .map_err(refusal)?;
        Ok(entry.encode())
    })
}

fn refusal(r: seqprov::log_submission::SubmissionRefusal) -> Refusal {
    Refusal {
        status: r.status,
        reason: r.reason,
    }
}

/// Runs the log service until `stop` is set. `listening` is called once with the bound
/// address, before the first request is taken.
pub fn serve(
    options: ServeOptions,
    stop: Arc<AtomicBool>,
    listening: &mut dyn FnMut(SocketAddr),
) -> Result<(), ServeError> {
    let signer = load_log_signer(&options.dir)?;
    let verifier = LogVerifier::from_vkey(&signer.vkey())?;
    let log = LogDir::open(&options.dir)?;
    let index = Arc::new(Mutex::new(build_index(
        &log,
        &signer,
        &verifier,
        &options.witness_keys,
    )?));
    let published = Arc::new(Mutex::new(Published {
        checkpoint: log.checkpoint().to_vec(),
        size: log.size(),
    }));
    let public = log.root().join(seqprov_log::log_dir::PUBLIC_DIR);
    let log = Arc::new(RwLock::new(log));

    let refresh_every = options
        .witness_refresh
        .filter(|every| !every.is_zero() && options.cosign.is_some());
    let refresh_verifier = verifier.clone();
    let mut cosign = options.cosign;
    let publish = sequencer::PublishCheckpoint {
        sign: Box::new(move |size, root| Ok(checkpoint::sign(&signer, size, root))),
        cosign: Box::new(move |note| match cosign.as_mut() {
            Some(cosign) => {
                let lines = cosign(note);
                if lines.is_empty() {
                    Ok(note.to_vec())
                } else {
                    checkpoint::add_signature_lines(note, &lines)
                }
            }
            None => Ok(note.to_vec()),
        }),
    };
    let commit_index = Arc::clone(&index);
    let witness_keys = options.witness_keys.clone();
    let commit_published = Arc::clone(&published);
    let on_commit: sequencer::OnCommit = Box::new(move |fresh, note| {
        if let Ok((_, size, _)) = checkpoint::parse_unverified(note) {
            let mut published = match commit_published.lock() {
                Ok(published) => published,
                Err(poisoned) => poisoned.into_inner(),
            };
            published.checkpoint = note.to_vec();
            published.size = size;
        }
        let mut index = match commit_index.lock() {
            Ok(index) => index,
            Err(poisoned) => poisoned.into_inner(),
        };
        for (i, entry) in fresh {
            index.add(*i, entry);
        }
        if let Ok(opened) = checkpoint::open(note, &verifier, &witness_keys) {
            index.checkpoint = view_of(&opened);
        }
    });
    let (handle, sequencer_thread) = sequencer::start(Arc::clone(&log), publish, on_commit)
        .map_err(io_error("starting the sequencer"))?;
    let refresher = match refresh_every {
        Some(every) => {
            let refresh = CosignatureRefresh {
                every,
                sequencer: handle.clone(),
                index: Arc::clone(&index),
                stop: Arc::clone(&stop),
                verifier: refresh_verifier,
                witness_keys: options.witness_keys.clone(),
            };
            Some(
                std::thread::Builder::new()
                    .name("seqprov-log-cosignature-refresh".into())
                    .spawn(move || refresh.run())
                    .map_err(io_error("starting the cosignature refresh"))?,
            )
        }
        None => None,
    };

    let listener = TcpListener::bind(options.listen)
        .map_err(io_error(format!("binding {}", options.listen)))?;
    let bound = listener
        .local_addr()
        .map_err(io_error("reading the bound address"))?;
    let server = Server::from_listener_with_limits(listener, None, options.http.server_limits())
        .map_err(|e| ServeError::Io {
            what: format!("serving {bound}"),
            source: std::io::Error::other(e.to_string()),
        })?;
    let service = Arc::new(Service {
        log,
        published,
        public,
        index,
        sequencer: Mutex::new(Some(handle)),
        admit: submission_check_or(options.allow),
        stop: Arc::clone(&stop),
        body_deadline: options.http.body_deadline,
        large: LargeSubmissions::default(),
    });
    listening(bound);

    let server = Arc::new(server);
    let mut workers = Vec::new();
    for n in 0..options.workers.max(1) {
        let server = Arc::clone(&server);
        let service = Arc::clone(&service);
        let worker = std::thread::Builder::new()
            .name(format!("seqprov-log-worker-{n}"))
            .spawn(move || work(&server, &service))
            .map_err(io_error("starting a worker"))?;
        workers.push(worker);
    }
    for worker in workers {
        let _ = worker.join();
    }
    // The refresh holds a sequencer handle: it ends (it looks at `stop`) before the queue
    // is closed.
    if let Some(refresher) = refresher {
        let _ = refresher.join();
    }
    // Every worker has answered its request; close the queue so the sequencer ends after
    // the batch it is on.
    drop(server);
    if let Ok(mut handle) = service.sequencer.lock() {
        handle.take();
    }
    let _ = sequencer_thread.join();
    match log_stopped(&service.log) {
        Some(why) => Err(ServeError::Stopped(why)),
        None => Ok(()),
    }
}

/// Why the log stopped appending, if it did ([`LogDir::stopped`]).
fn log_stopped(log: &RwLock<LogDir>) -> Option<String> {
    let log = log.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    log.stopped().map(str::to_owned)
}

/// A 500 answer that names what failed but not why (the cause, which may name the
/// server's paths, goes to standard error only).
fn internal_error(what: &str, cause: &dyn std::fmt::Display) -> Reply {
    eprintln!(
        "seqprov log serve: {what}: {}",
        cause.to_string().escape_debug()
    );
    Reply::text(
        500,
        &format!("internal error: {what} (see the server's log)"),
    )
}

/// Keeps the published checkpoint's cosignatures fresh while no entries arrive
/// (`--witness-refresh`, spec/log.md §6).
struct CosignatureRefresh {
    every: Duration,
    sequencer: SequencerHandle,
    index: Arc<Mutex<LogIndex>>,
    stop: Arc<AtomicBool>,
    verifier: LogVerifier,
    witness_keys: Vec<WitnessVerifier>,
}

impl CosignatureRefresh {
    /// Looks every quarter period (at least every second) until `stop`.
    fn run(self) {
        let tick = (self.every / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let mut last_try: Option<Instant> = None;
        while !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(tick);
            let newest = {
                let index = match self.index.lock() {
                    Ok(index) => index,
                    Err(poisoned) => poisoned.into_inner(),
                };
                index.checkpoint.witnesses.iter().map(|(_, t)| *t).max()
            };
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let stale =
                newest.is_none_or(|t| now.saturating_sub(Duration::from_secs(t)) >= self.every);
            let due = last_try.is_none_or(|at| at.elapsed() >= self.every);
            if stale && due && !self.stop.load(Ordering::Relaxed) {
                last_try = Some(Instant::now());
                let verifier = self.verifier.clone();
                let witness_keys = self.witness_keys.clone();
                let _ = self
                    .sequencer
                    .run_task(Box::new(move |log, publish, on_commit| {
                        republish_cosigned(log, publish, on_commit, &verifier, &witness_keys);
                    }));
            }
        }
    }
}

/// Signs the published tree again, asks the witnesses (`publish`), keeps the old
/// cosignatures of the witnesses that gave no fresh one, and publishes the result in place
/// of the checkpoint when its newest cosignature is newer (same size, same root;
/// [`LogDir::replace_checkpoint`]).
fn republish_cosigned(
    log: &mut LogDir,
    publish: &mut sequencer::PublishCheckpoint,
    on_commit: &mut sequencer::OnCommit,
    verifier: &LogVerifier,
    witness_keys: &[WitnessVerifier],
) {
    let newest = |note: &[u8]| {
        checkpoint::open(note, verifier, witness_keys)
            .ok()
            .and_then(|opened| opened.witnesses.iter().map(|(_, t)| *t).max())
    };
    let old = log.checkpoint().to_vec();
    let Ok(fresh) = publish.publish(log.size(), &log.root_hash()) else {
        return;
    };
    let Ok(note) = witness_push::carry_over_cosignatures(&old, &fresh, witness_keys) else {
        return;
    };
    if newest(&note) > newest(&old) && log.replace_checkpoint(&note).is_ok() {
        on_commit(&[], log.checkpoint());
    }
}

fn submission_check_or(allow: Option<Policy>) -> Box<AdmitSubmission> {
    submission_check(allow)
}

fn view_of(opened: &OpenedCheckpoint) -> CheckpointView {
    CheckpointView {
        size: opened.size,
        witnesses: opened.witnesses.clone(),
    }
}

/// The page's index of every entry in the log, read tile by tile.
fn build_index(
    log: &LogDir,
    signer: &LogSigner,
    verifier: &LogVerifier,
    witness_keys: &[WitnessVerifier],
) -> Result<LogIndex, ServeError> {
    let mut index = LogIndex::new(signer.origin.clone(), signer.vkey());
    let size = log.size();
    let mut tile = 0u64;
    while tile * TILE_WIDTH < size {
        let width = (size - tile * TILE_WIDTH).min(TILE_WIDTH);
        let path = TilePath::Entries {
            index: tile,
            width: width as u16,
        }
        .to_path();
        let bytes = log.read_public(&path)?.ok_or_else(|| LogError::Malformed {
            what: "log directory",
            detail: format!("{path} is missing"),
        })?;
        for (i, entry) in entry_bundle::decode(&bytes, width as usize)?
            .iter()
            .enumerate()
        {
            index.add(tile * TILE_WIDTH + i as u64, entry);
        }
        tile += 1;
    }
    if let Ok(opened) = checkpoint::open(log.checkpoint(), verifier, witness_keys) {
        index.checkpoint = view_of(&opened);
    } else {
        index.checkpoint.size = size;
    }
    Ok(index)
}

/// One worker: take requests until stopped.
fn work(server: &Server, service: &Service) {
    while !service.stop.load(Ordering::Relaxed) {
        match server.recv_timeout(POLL) {
            Ok(Some(request)) => answer(request, service),
            Ok(None) => {}
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// A response: status, content type, body and extra headers.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    cache: Option<&'static str>,
    csp: bool,
}

impl Reply {
    fn text(status: u16, line: &str) -> Reply {
        let mut body = line.replace(['\r', '\n'], " ").into_bytes();
        body.push(b'\n');
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
            cache: Some("no-store"),
            csp: false,
        }
    }

    fn page(html: String) -> Reply {
        Reply {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: html.into_bytes(),
            cache: Some("no-cache"),
            csp: true,
        }
    }
}

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

fn answer(mut request: Request, service: &Service) {
    let reply = route(&mut request, service);
    let mut response = Response::from_data(reply.body).with_status_code(reply.status);
    let mut headers = vec![
        header("Content-Type", reply.content_type),
        header("X-Content-Type-Options", "nosniff"),
    ];
    if let Some(cache) = reply.cache {
        headers.push(header("Cache-Control", cache));
    }
    if reply.csp {
        headers.push(header(
            "Content-Security-Policy",
            &log_page::CONTENT_SECURITY_POLICY,
        ));
    }
    for h in headers.into_iter().flatten() {
        response.add_header(h);
    }
    let _ = request.respond(response);
}

fn route(request: &mut Request, service: &Service) -> Reply {
    let url = request.url().to_owned();
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url.as_str(), None),
    };
    let method = request.method().clone();
    let is_get = matches!(method, Method::Get | Method::Head);
    match path {
        "/add" => {
            if method != Method::Post {
                return Reply::text(405, "use POST for /add");
            }
            add(request, service)
        }
        "/" | "/run" => {
            if !is_get {
                return Reply::text(405, "use GET for the page");
            }
            page(path, query, service)
        }
        _ => {
            if let Some(rel) = path.strip_prefix('/')
                && query.is_none()
                && (rel == "checkpoint" || rel.starts_with("tile/"))
            {
                if !is_get {
                    return Reply::text(405, "the log's files are read with GET");
                }
                return published_file(rel, service);
            }
            Reply::text(404, "no such path")
        }
    }
}

fn published_file(rel: &str, service: &Service) -> Reply {
    let (size, checkpoint) = {
        let published = match service.published.lock() {
            Ok(published) => published,
            Err(poisoned) => poisoned.into_inner(),
        };
        (
            published.size,
            (rel == "checkpoint").then(|| published.checkpoint.clone()),
        )
    };
    let read = match checkpoint {
        Some(note) => Ok(Some(note)),
        None => seqprov_log::log_dir::read_published_tile(&service.public, size, rel),
    };
    match read {
        Ok(Some(body)) => {
            let (content_type, cache) = if rel == "checkpoint" {
                ("text/plain; charset=utf-8", "no-cache")
            } else if matches!(TilePath::parse(rel), Ok(t) if tile_is_full(&t)) {
                (
                    "application/octet-stream",
                    "public, max-age=31536000, immutable",
                )
            } else {
                ("application/octet-stream", "no-cache")
            };
            Reply {
                status: 200,
                content_type,
                body,
                cache: Some(cache),
                csp: false,
            }
        }
        Ok(None) => Reply::text(404, "no such file in the log"),
        Err(e) => internal_error("reading the log", &e),
    }
}

fn tile_is_full(tile: &TilePath) -> bool {
    match tile {
        TilePath::Hash { width, .. } | TilePath::Entries { width, .. } => {
            u64::from(*width) == TILE_WIDTH
        }
    }
}

fn page(path: &str, query: Option<&str>, service: &Service) -> Reply {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .take(8)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let request = if path == "/run" {
        match value("id") {
            Some(run) => PageRequest::Run(run.to_owned()),
            None => return Reply::text(400, "/run needs ?id=RUN"),
        }
    } else {
        match value("q") {
            Some(q) if !q.is_empty() => PageRequest::Search(q.to_owned()),
            _ => PageRequest::Front,
        }
    };
    // The index's lock (which the sequencer takes after every batch) is held only to copy
    // what the page shows; the page is rendered after it is released.
    let snapshot = {
        let index = match service.index.lock() {
            Ok(index) => index,
            Err(poisoned) => poisoned.into_inner(),
        };
        index.snapshot(&request)
    };
    Reply::page(snapshot.render())
}

fn add(request: &mut Request, service: &Service) -> Reply {
    if service.stop.load(Ordering::Relaxed) {
        return Reply::text(503, "the log is shutting down");
    }
    let content_type = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Content-Type"))
        .map(|h| h.value.as_str().to_owned());
    let essence = content_type
        .as_deref()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if essence.as_deref() != Some("application/cbor") {
        return Reply::text(415, "a submission is Content-Type: application/cbor");
    }
    let Some(length) = request.body_length() else {
        return Reply::text(411, "a submission needs a Content-Length");
    };
    if length > MAX_SUBMISSION_LEN {
        return Reply::text(
            413,
            &format!("the submission is over {MAX_SUBMISSION_LEN} bytes"),
        );
    }
    // A large body waits for its turn before it is read (spec/log.md §4).
    let _turn = if length > large_submissions::LARGE {
        match service.large.turn(large_submissions::WAIT) {
            Some(turn) => Some(turn),
            None => {
                return Reply::text(
                    503,
                    "too many large submissions at once; send it again later",
                );
            }
        }
    } else {
        None
    };
    let body = match http_limits::read_body(request, MAX_SUBMISSION_LEN, service.body_deadline) {
        Ok(body) => body,
        Err(e) => return Reply::text(e.status(), &e.to_string()),
    };
    let entry = match (service.admit)(&body) {
        Ok(entry) => entry,
        Err(refusal) => return Reply::text(refusal.status, &refusal.reason),
    };
    let handle = match service.sequencer.lock() {
        Ok(handle) => handle.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    let Some(handle) = handle else {
        return Reply::text(503, "the log is shutting down");
    };
    let receipt = match handle.append(entry) {
        Ok(receipt) => receipt,
        Err(SequencerError::Stopped) => return Reply::text(503, "the log is shutting down"),
        Err(e) => {
            if log_stopped(&service.log).is_some() {
                // Fail-stop: the service ends (exit status 2) so that a supervisor starts
                // it again, which replays the journal.
                service.stop.store(true, Ordering::Relaxed);
                eprintln!("seqprov log serve: {}", e.to_string().escape_debug());
                return Reply::text(
                    503,
                    "the log stopped appending after a storage error and is stopping; it appends again once started again",
                );
            }
            return internal_error("appending", &e);
        }
    };
    Reply {
        status: 200,
        content_type: "text/plain; charset=utf-8",
        body: receipt.to_text().into_bytes(),
        cache: Some("no-store"),
        csp: false,
    }
}
