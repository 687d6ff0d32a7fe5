//! The watch loop: scan the roots, follow each run folder from discovery to its seal, run
//! up to `parallel` seals at once on their own threads, and stop cleanly when asked.
//!
//! A bundle is only ever written under the *write gate*: a seal that finishes hashing
//! takes the gate, and writes (atomically, refusing to replace anything) only if no stop
//! was asked for. Stopping takes the gate too, so once [`watch`] returns no bundle is
//! being written and none will be: seals still hashing are abandoned with nothing
//! written, and the caller may end the process.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use seqprov_format::exclude::Excludes;
use seqprov_illumina::completion::{Completion, completion_state};

use super::discovery::scan_root;
use super::event::{EventKind, WaitingFor, WatchEvent};
use super::settle::{Fingerprint, fingerprint};
use super::state_file::{RunState, WatchState};
use crate::bundle_file::{OutputDir, Overwrite, default_bundle_path};
use crate::error::{Error, Result};
use crate::keys::Signer;
use crate::policy::Policy;
use crate::seal::{SealOptions, seal_directory};

/// How to watch.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// The roots to search for run folders.
    pub roots: Vec<PathBuf>,
    /// One pass: scan once, seal what becomes ready within one settle time, then return.
    pub once: bool,
    /// How long a complete folder must stay unchanged before it is sealed.
    pub settle: Duration,
    /// How often roots are scanned and runs looked at.
    pub interval: Duration,
    /// How long after it was first seen a run may take to become ready before it is
    /// refused.
    pub timeout: Duration,
    /// Most seals running at once (at least 1).
    pub parallel: usize,
    /// Deepest level searched below each root (a folder directly in a root is at 1).
    pub max_depth: usize,
    /// Globs (`spec/cli.md` §3.1) of paths relative to a root that are not searched.
    pub exclude: Vec<String>,
    /// The state file (`--state`), if any.
    pub state: Option<PathBuf>,
    /// How each run is sealed.
    pub seal: SealOptions,
    /// RFC 3161 timestamps for each new seal (`--tsa`), as `seal --tsa` asks for them.
    pub timestamps: Option<WatchTimestamps>,
}

/// Where a watch asks for trusted time over each seal it makes (`spec/watch.md` §2).
#[derive(Clone, Debug)]
pub struct WatchTimestamps {
    /// The TSAs to ask; every one must answer.
    pub tsa: Vec<String>,
    /// How long one exchange with a TSA may take.
    pub timeout: Duration,
    /// When a TSA fails, write the bundle unstamped (with a warning) instead of writing
    /// nothing (`--timestamp-later`).
    pub later: bool,
}

/// How a watch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchOutcome {
    /// The exit code: see [`watch`].
    pub exit_code: u8,
    /// Whether a signal (the `stop` flag) ended it.
    pub stopped: bool,
}

/// Where a run folder stands.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// No completion marker yet.
    Pending,
    /// Complete; unchanged since `since` with this fingerprint.
    Settling {
        fingerprint: Fingerprint,
        since: Instant,
    },
    /// Ready and waiting for a free seal slot.
    Queued,
    /// Being sealed.
    Sealing,
    /// Done with in this process (sealed, skipped, refused, failed, or in a `--once`
    /// pass, left for the next pass).
    Finished,
}

struct Run {
    watch_root: PathBuf,
    first_seen: SystemTime,
    phase: Phase,
    /// The last `waiting` detail reported, so each is reported once.
    reported_waiting: Option<String>,
}

enum SealResult {
    Sealed {
        bundle: PathBuf,
        payload: Box<seqprov_format::manifest::SealPayload>,
        warnings: Vec<String>,
        seconds: f64,
    },
    AlreadySealed(PathBuf),
    Abandoned,
    Failed(Error),
    /// Already sent (only inside [`seal_one`]).
    Delivered,
}

/// Watch `options.roots` until `stop` is set (or, with `options.once`, until the pass
/// is done), sealing each run folder once with `key`, and calling `emit` for every event.
///
/// Errors before watching begins (a root that is not a directory, a bad `--exclude`, a
/// state file that cannot be opened) are returned (exit 2). Then the outcome's exit code
/// is, for a `--once` pass (finished or stopped): the largest exit code among the
/// `refused` and `error` events it reported, 0 if none; for continuous watching stopped by
/// a signal: 0.
pub fn watch(
    options: &WatchOptions,
    key: Arc<dyn Signer>,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(&WatchEvent),
) -> Result<WatchOutcome> {
    let excludes = Excludes::new(&options.exclude, "exclude pattern").map_err(Error::Refused)?;
    let mut roots = Vec::new();
    for root in &options.roots {
        let absolute = std::path::absolute(root).map_err(|e| Error::io(root, e))?;
        let meta = std::fs::metadata(&absolute).map_err(|e| Error::io(root, e))?;
        if !meta.is_dir() {
            return Err(Error::Refused(format!(
                "{}: a watched root must be a directory",
                root.display()
            )));
        }
        roots.push(absolute);
    }
    let state = match &options.state {
        Some(path) => WatchState::open(path)?,
        None => WatchState::in_memory(),
    };
    let mut watcher = Watcher {
        options,
        key,
        excludes,
        roots,
        state,
        runs: BTreeMap::new(),
        queue: VecDeque::new(),
        in_flight: 0,
        gate: Arc::new(Mutex::new(false)),
        worst: 0,
        reported_errors: BTreeSet::new(),
        emit,
    };
    watcher.run(stop)
}

struct Watcher<'a> {
    options: &'a WatchOptions,
    key: Arc<dyn Signer>,
    excludes: Excludes,
    roots: Vec<PathBuf>,
    state: WatchState,
    runs: BTreeMap<PathBuf, Run>,
    queue: VecDeque<PathBuf>,
    in_flight: usize,
    /// The write gate: `true` once a stop was asked for.
    gate: Arc<Mutex<bool>>,
    /// The largest failure exit code reported.
    worst: u8,
    /// Scan errors reported already (each is reported once).
    reported_errors: BTreeSet<String>,
    emit: &'a mut dyn FnMut(&WatchEvent),
}

impl Watcher<'_> {
    fn send(&mut self, kind: EventKind) {
        let event = WatchEvent::now(kind);
        if let Some(code) = event.failure_code() {
            self.worst = self.worst.max(code);
        }
        (self.emit)(&event);
    }

    fn run(&mut self, stop: &AtomicBool) -> Result<WatchOutcome> {
        let (done_tx, done_rx) = std::sync::mpsc::channel::<(PathBuf, SealResult)>();
        self.send(EventKind::Started {
            roots: self.roots.iter().map(|r| r.display().to_string()).collect(),
            once: self.options.once,
        });
        let mut scanned = false;
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(self.stop_now("signal", &done_rx));
            }
            if !self.options.once || !scanned {
                self.scan();
                scanned = true;
            }
            let dirs: Vec<PathBuf> = self.runs.keys().cloned().collect();
            for dir in dirs {
                self.advance(&dir);
            }
            self.start_seals(&done_tx);
            let busy = self.runs.values().any(|r| {
                matches!(
                    r.phase,
                    Phase::Settling { .. } | Phase::Queued | Phase::Sealing
                )
            });
            if self.options.once && !busy {
                let code = self.worst;
                self.send(EventKind::Stopped {
                    reason: "once".into(),
                    abandoned: Vec::new(),
                    exit_code: code,
                });
                return Ok(WatchOutcome {
                    exit_code: code,
                    stopped: false,
                });
            }
            self.pause(stop, &done_rx, &done_tx);
        }
    }

    /// Wait one interval, or until the earliest settle time ends, or until a seal
    /// finishes, looking at the stop flag every 50 ms.
    fn pause(
        &mut self,
        stop: &AtomicBool,
        done_rx: &Receiver<(PathBuf, SealResult)>,
        done_tx: &Sender<(PathBuf, SealResult)>,
    ) {
        let settle = self.options.settle;
        let until = self
            .runs
            .values()
            .filter_map(|r| match r.phase {
                Phase::Settling { since, .. } => Some(since + settle),
                _ => None,
            })
            .fold(Instant::now() + self.options.interval, Instant::min);
        loop {
            let now = Instant::now();
            if now >= until || stop.load(Ordering::SeqCst) {
                return;
            }
            match done_rx.recv_timeout((until - now).min(Duration::from_millis(50))) {
                Ok((dir, result)) => {
                    self.in_flight -= 1;
                    self.finish(&dir, result);
                    self.start_seals(done_tx);
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Take the write gate (waiting for a bundle being written), so that nothing more is
    /// written, and report what was abandoned.
    fn stop_now(
        &mut self,
        reason: &str,
        done_rx: &Receiver<(PathBuf, SealResult)>,
    ) -> WatchOutcome {
        *self.gate.lock().unwrap_or_else(|e| e.into_inner()) = true;
        // A seal that wrote its bundle sent its result before it let go of the gate.
        while let Ok((dir, result)) = done_rx.try_recv() {
            self.in_flight -= 1;
            self.finish(&dir, result);
        }
        let abandoned: Vec<String> = self
            .runs
            .iter()
            .filter(|(_, r)| matches!(r.phase, Phase::Sealing))
            .map(|(d, _)| d.display().to_string())
            .collect();
        let code = if self.options.once { self.worst } else { 0 };
        self.send(EventKind::Stopped {
            reason: reason.into(),
            abandoned,
            exit_code: code,
        });
        WatchOutcome {
            exit_code: code,
            stopped: true,
        }
    }

    fn scan(&mut self) {
        let roots = self.roots.clone();
        for root in &roots {
            let scan = scan_root(root, self.options.max_depth, &self.excludes);
            for problem in scan.unreadable {
                if self.reported_errors.insert(problem.clone()) {
                    self.send(EventKind::Error {
                        watch_root: Some(root.display().to_string()),
                        run_dir: None,
                        message: problem,
                        exit_code: 2,
                    });
                }
            }
            for dir in scan.run_folders {
                if !self.runs.contains_key(&dir) {
                    self.discover(root, dir);
                }
            }
        }
    }

    fn discover(&mut self, root: &Path, dir: PathBuf) {
        let watch_root = root.display().to_string();
        let run_dir = dir.display().to_string();
        self.send(EventKind::Discovered {
            watch_root: watch_root.clone(),
            run_dir: run_dir.clone(),
        });
        let remembered = self.state.get(&dir).cloned();
        let first_seen = remembered.as_ref().map_or_else(SystemTime::now, |s| {
            UNIX_EPOCH + Duration::from_secs(s.first_seen.max(0) as u64)
        });
        let mut run = Run {
            watch_root: root.to_path_buf(),
            first_seen,
            phase: Phase::Pending,
            reported_waiting: None,
        };
        match existing_bundle(&dir) {
            ExistingBundle::None => {}
            ExistingBundle::Verifies(bundle) => {
                run.phase = Phase::Finished;
                self.runs.insert(dir.clone(), run);
                self.send(EventKind::Skipped {
                    watch_root,
                    run_dir,
                    bundle: Some(bundle.display().to_string()),
                    reason: "sealed already: its bundle exists and verifies".into(),
                });
                let _ = self.state.forget(&dir);
                return;
            }
            ExistingBundle::Fails(bundle, why, code) => {
                run.phase = Phase::Finished;
                self.runs.insert(dir.clone(), run);
                self.send(EventKind::Refused {
                    watch_root,
                    run_dir,
                    bundle: Some(bundle.display().to_string()),
                    reason: format!(
                        "its bundle {} exists but does not verify ({why}); it is left as it \
                         is, not overwritten",
                        bundle.display()
                    ),
                    exit_code: code,
                });
                return;
            }
        }
        if let Some(why) = remembered.as_ref().and_then(|s| s.refused.clone()) {
            run.phase = Phase::Finished;
            self.runs.insert(dir, run);
            self.send(EventKind::Skipped {
                watch_root,
                run_dir,
                bundle: None,
                reason: format!("refused by an earlier pass (state file): {why}"),
            });
            return;
        }
        if remembered.is_none() {
            let seen = first_seen
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            self.save_state(
                &dir,
                RunState {
                    first_seen: seen,
                    refused: None,
                },
            );
        }
        self.runs.insert(dir, run);
    }

    fn save_state(&mut self, dir: &Path, state: RunState) {
        if let Err(e) = self.state.set(dir, state) {
            self.send(EventKind::Error {
                watch_root: None,
                run_dir: Some(dir.display().to_string()),
                message: format!("cannot save the state file: {e}"),
                exit_code: e.exit_status().code(),
            });
        }
    }

    fn waiting(&mut self, dir: &Path, waiting_for: WaitingFor, detail: String) {
        let Some(run) = self.runs.get_mut(dir) else {
            return;
        };
        if run.reported_waiting.as_deref() == Some(detail.as_str()) {
            return;
        }
        run.reported_waiting = Some(detail.clone());
        let watch_root = run.watch_root.display().to_string();
        self.send(EventKind::Waiting {
            watch_root,
            run_dir: dir.display().to_string(),
            waiting_for,
            detail,
        });
    }

    fn refuse(&mut self, dir: &Path, reason: String, exit_code: u8, remember: bool) {
        let Some(run) = self.runs.get_mut(dir) else {
            return;
        };
        run.phase = Phase::Finished;
        let first_seen = run
            .first_seen
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let watch_root = run.watch_root.display().to_string();
        if remember {
            self.save_state(
                dir,
                RunState {
                    first_seen,
                    refused: Some(reason.clone()),
                },
            );
        }
        self.send(EventKind::Refused {
            watch_root,
            run_dir: dir.display().to_string(),
            bundle: None,
            reason,
            exit_code,
        });
    }

    /// Look at a run again: marker, settle, timeout.
    fn advance(&mut self, dir: &Path) {
        let Some(run) = self.runs.get(dir) else {
            return;
        };
        let phase = run.phase;
        if matches!(phase, Phase::Queued | Phase::Sealing | Phase::Finished) {
            return;
        }
        if !dir.is_dir() {
            // Gone (moved or deleted): forget it; it is found again if it comes back.
            self.runs.remove(dir);
            let _ = self.state.forget(dir);
            return;
        }
        let age = SystemTime::now()
            .duration_since(run.first_seen)
            .unwrap_or_default();
        let once = self.options.once;
        match completion_state(dir) {
            Completion::Waiting(what) => {
                if age >= self.options.timeout {
                    let reason = format!(
                        "not complete {} after it was first seen: still waiting for {what}",
                        describe(self.options.timeout)
                    );
                    self.refuse(dir, reason, 2, true);
                    return;
                }
                self.set_phase(dir, Phase::Pending);
                self.waiting(dir, WaitingFor::CompletionMarker, what);
                if once {
                    self.set_phase(dir, Phase::Finished);
                }
            }
            Completion::Complete(_) => {
                let now_print = fingerprint(dir).ok();
                match (phase, now_print) {
                    (Phase::Settling { fingerprint, since }, Some(now)) if now == fingerprint => {
                        if since.elapsed() >= self.options.settle {
                            self.set_phase(dir, Phase::Queued);
                            self.queue.push_back(dir.to_path_buf());
                        }
                    }
                    (Phase::Settling { .. }, _) if once => {
                        self.waiting(
                            dir,
                            WaitingFor::Settle,
                            "the folder changed during the settle time; left for the next pass"
                                .into(),
                        );
                        self.set_phase(dir, Phase::Finished);
                    }
                    (_, print) => {
                        if age >= self.options.timeout {
                            let reason = format!(
                                "still changing {} after it was first seen",
                                describe(self.options.timeout)
                            );
                            self.refuse(dir, reason, 2, true);
                            return;
                        }
                        let print = print.unwrap_or(Fingerprint {
                            digest: [0; 32],
                            files: 0,
                            bytes: 0,
                        });
                        self.set_phase(
                            dir,
                            Phase::Settling {
                                fingerprint: print,
                                since: Instant::now(),
                            },
                        );
                        if self.options.settle.is_zero() {
                            self.set_phase(dir, Phase::Queued);
                            self.queue.push_back(dir.to_path_buf());
                        } else {
                            self.waiting(
                                dir,
                                WaitingFor::Settle,
                                format!("no change for {}", describe(self.options.settle)),
                            );
                        }
                    }
                }
            }
        }
    }

    fn set_phase(&mut self, dir: &Path, phase: Phase) {
        if let Some(run) = self.runs.get_mut(dir) {
            run.phase = phase;
        }
    }

    fn start_seals(&mut self, done: &Sender<(PathBuf, SealResult)>) {
        while self.in_flight < self.options.parallel.max(1) {
            let Some(dir) = self.queue.pop_front() else {
                return;
            };
            self.set_phase(&dir, Phase::Sealing);
            self.in_flight += 1;
            let key = Arc::clone(&self.key);
            let options = self.options.seal.clone();
            let timestamps = self.options.timestamps.clone();
            let gate = Arc::clone(&self.gate);
            let done = done.clone();
            let spawned = std::thread::Builder::new()
                .name("seqprov-watch-seal".into())
                .spawn({
                    let dir = dir.clone();
                    move || seal_one(&dir, &*key, &options, timestamps.as_ref(), &gate, &done)
                });
            if let Err(e) = spawned {
                self.in_flight -= 1;
                self.finish(&dir, SealResult::Failed(Error::io(&dir, e)));
            }
        }
    }

    fn finish(&mut self, dir: &Path, result: SealResult) {
        let Some(run) = self.runs.get(dir) else {
            return;
        };
        let watch_root = run.watch_root.display().to_string();
        let run_dir = dir.display().to_string();
        match result {
            SealResult::Sealed {
                bundle,
                payload,
                warnings,
                seconds,
            } => {
                self.set_phase(dir, Phase::Finished);
                let _ = self.state.forget(dir);
                self.send(EventKind::Sealed {
                    watch_root,
                    run_dir,
                    run_id: payload.run.as_ref().map(|r| r.run_info.run_id.clone()),
                    bundle: bundle.display().to_string(),
                    root: hex::encode(payload.root.0),
                    files: payload.files,
                    bytes: payload.bytes,
                    seconds,
                    warnings,
                });
            }
            SealResult::AlreadySealed(bundle) => {
                self.set_phase(dir, Phase::Finished);
                self.send(EventKind::Skipped {
                    watch_root,
                    run_dir,
                    bundle: Some(bundle.display().to_string()),
                    reason: "a bundle appeared at its place while it was being sealed; it is \
                             left as it is"
                        .into(),
                });
            }
            SealResult::Abandoned | SealResult::Delivered => self.set_phase(dir, Phase::Finished),
            SealResult::Failed(Error::FileChanged { path, what }) => {
                // Not settled after all: wait for it to settle again.
                self.set_phase(dir, Phase::Pending);
                self.waiting(
                    dir,
                    WaitingFor::Settle,
                    format!(
                        "{} changed while it was being sealed ({what}); nothing was written",
                        path.display()
                    ),
                );
                if self.options.once {
                    self.set_phase(dir, Phase::Finished);
                }
            }
            SealResult::Failed(e) => {
                let status = e.exit_status();
                let message = format!("sealing {} failed: {e}", dir.display());
                if status == crate::ExitStatus::IntegrityFailure {
                    self.refuse(dir, message, status.code(), true);
                } else {
                    self.set_phase(dir, Phase::Finished);
                    self.send(EventKind::Error {
                        watch_root: Some(watch_root),
                        run_dir: Some(run_dir),
                        message,
                        exit_code: status.code(),
                    });
                }
            }
        }
    }
}

/// A duration in the units `--settle` and `--timeout` take.
fn describe(d: Duration) -> String {
    crate::bundle_checks::describe_seconds(d.as_secs() as i64)
}

enum ExistingBundle {
    None,
    Verifies(PathBuf),
    /// The bundle, why it fails, and the exit code `verify` would give.
    Fails(PathBuf, String, u8),
}

/// Whether the run folder has a bundle at its default place, and whether that bundle
/// holds together on its own (readable, seal signature valid, entry list matching its
/// root, custody chain intact; the files are not hashed again).
fn existing_bundle(dir: &Path) -> ExistingBundle {
    let Ok(path) = default_bundle_path(dir) else {
        return ExistingBundle::None;
    };
    if std::fs::symlink_metadata(&path).is_err() {
        return ExistingBundle::None;
    }
    match crate::read_bundle(&path) {
        Err(e) => {
            let code = e.exit_status().code();
            ExistingBundle::Fails(path, e.to_string(), code)
        }
        Ok(bundle) => {
            let checks = crate::bundle_checks::check_bundle(
                &bundle,
                &Policy::default(),
                &crate::VerifyOptions::default(),
            );
            if checks.integrity.is_empty() {
                ExistingBundle::Verifies(path)
            } else {
                ExistingBundle::Fails(path, checks.integrity.join("; "), 1)
            }
        }
    }
}

/// Stamp the new seal in `bundle` as `seal --tsa` does. A failure is the error, unless
/// `later`: then it becomes a warning and the bundle stays as it is.
fn stamp_seal(
    bundle: &mut Vec<u8>,
    warnings: &mut Vec<String>,
    timestamps: &WatchTimestamps,
) -> Result<()> {
    match crate::timestamp_request::stamp_new_seal(bundle, &timestamps.tsa, timestamps.timeout) {
        Ok(_) => Ok(()),
        Err(e) if timestamps.later => {
            warnings.push(format!(
                "{e}; the bundle is written without a timestamp (--timestamp-later): stamp it \
                 with `seqprov timestamp BUNDLE --which seal`"
            ));
            Ok(())
        }
        Err(e) => Err(Error::Refused(format!(
            "the seal could not be stamped, so no bundle was written \
             (--timestamp-later writes it unstamped): {e}"
        ))),
    }
}

/// Seal one run folder to `DIR.seqprov` beside it, as `seal DIR` would, and send the
/// result on `done`. The bundle is written only under the write gate, only if no stop was
/// asked for, and the result of a written bundle is sent before the gate is let go.
/// With `timestamps`, the seal is stamped before the gate is taken; a TSA that fails
/// means no bundle (an `error` event, exit 2) unless `later` says to write it unstamped.
fn seal_one(
    dir: &Path,
    key: &dyn Signer,
    options: &SealOptions,
    timestamps: Option<&WatchTimestamps>,
    gate: &Mutex<bool>,
    done: &Sender<(PathBuf, SealResult)>,
) {
    let started = Instant::now();
    let attempt = || -> Result<SealResult> {
        let bundle = default_bundle_path(dir)?;
        let output = OutputDir::open(&bundle)?;
        output.check_outside(dir)?;
        if std::fs::symlink_metadata(&bundle).is_ok() {
            return Ok(SealResult::AlreadySealed(bundle));
        }
        let mut sealed = seal_directory(dir, key, options, &crate::NoProgress)?;
        if let Some(timestamps) = timestamps {
            stamp_seal(&mut sealed.bundle, &mut sealed.warnings, timestamps)?;
        }
        let stopping = gate.lock().unwrap_or_else(|e| e.into_inner());
        if *stopping {
            return Ok(SealResult::Abandoned);
        }
        output.check_outside(dir)?;
        match output.write(&sealed.bundle, Overwrite::Refuse, 0o644) {
            Ok(()) => {}
            Err(Error::Refused(_)) if std::fs::symlink_metadata(&bundle).is_ok() => {
                return Ok(SealResult::AlreadySealed(bundle));
            }
            Err(e) => return Err(e),
        }
        let _ = done.send((
            dir.to_path_buf(),
            SealResult::Sealed {
                bundle,
                payload: Box::new(sealed.payload),
                warnings: sealed.warnings,
                seconds: started.elapsed().as_secs_f64(),
            },
        ));
        drop(stopping);
        Ok(SealResult::Delivered)
    };
    match attempt() {
        Ok(SealResult::Delivered) => {}
        Ok(result) => {
            let _ = done.send((dir.to_path_buf(), result));
        }
        Err(e) => {
            let _ = done.send((dir.to_path_buf(), SealResult::Failed(e)));
        }
    }
}
