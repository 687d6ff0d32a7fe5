//! The events `seqprov watch` reports, one JSON object per line: a stable interface
//! (`spec/watch.md`) that carries a version, so that readers can tell what they read.

use serde::Serialize;

/// The version of the event lines; raised only when a field changes meaning or goes
/// away (new fields and new event kinds do not raise it).
pub const EVENT_VERSION: u32 = 1;

/// One event: when it happened and what it was.
#[derive(Clone, Debug, Serialize)]
pub struct WatchEvent {
    /// Always [`EVENT_VERSION`].
    pub version: u32,
    /// When the event happened, RFC 3339 UTC with seconds (`2026-12-05T07:01:57Z`).
    pub time: String,
    /// The event itself; its name is in the `event` field.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl WatchEvent {
    /// An event happening now.
    pub fn now(kind: EventKind) -> WatchEvent {
        WatchEvent {
            version: EVENT_VERSION,
            time: seqprov_format::manifest::format_time(time::OffsetDateTime::now_utc()),
            kind,
        }
    }

    /// The exit code this event stands for, if it reports a failure (`refused`, `error`).
    pub fn failure_code(&self) -> Option<u8> {
        match &self.kind {
            EventKind::Refused { exit_code, .. } | EventKind::Error { exit_code, .. } => {
                Some(*exit_code)
            }
            _ => None,
        }
    }
}

/// What a run is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingFor {
    /// A readable `RunInfo.xml` and the layout family's completion marker.
    CompletionMarker,
    /// The folder to stop changing for the settle time.
    Settle,
}

/// The kinds of event (the `event` field) and their fields. Paths are absolute.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// Watching has begun.
    Started {
        /// The watched roots.
        roots: Vec<String>,
        /// Whether this is a single pass (`--once`).
        once: bool,
    },
    /// A run folder was found (once per run folder per process).
    Discovered {
        /// The watched root it was found under.
        watch_root: String,
        /// The run folder.
        run_dir: String,
    },
    /// A run is not ready yet (reported when what it waits for changes).
    Waiting {
        /// The watched root.
        watch_root: String,
        /// The run folder.
        run_dir: String,
        /// What it waits for.
        #[serde(rename = "for")]
        waiting_for: WaitingFor,
        /// In words: the marker's path, or how long the folder must stay unchanged.
        detail: String,
    },
    /// A run was sealed and its bundle written.
    Sealed {
        /// The watched root.
        watch_root: String,
        /// The run folder.
        run_dir: String,
        /// `RunInfo.xml`'s run id, when the seal recorded run metadata.
        run_id: Option<String>,
        /// The bundle written (`DIR.seqprov` beside the run folder).
        bundle: String,
        /// The signed Merkle root, 64 hex digits.
        root: String,
        /// Regular files sealed.
        files: u64,
        /// Their bytes.
        bytes: u64,
        /// Seconds the seal took (hashing, checks, signing, writing).
        seconds: f64,
        /// The seal's warnings (as `seal` prints them).
        warnings: Vec<String>,
    },
    /// A run is left alone: it is sealed already (its bundle exists and verifies), or an
    /// earlier pass refused it (the state file says so).
    Skipped {
        /// The watched root.
        watch_root: String,
        /// The run folder.
        run_dir: String,
        /// The bundle, when one exists.
        bundle: Option<String>,
        /// Why, in words.
        reason: String,
    },
    /// A run was not sealed and will not be retried by this process: its data is refused
    /// as it is (exit code 1, as `seal` would exit), it did not become ready before
    /// `--timeout` (exit code 2), or its existing bundle does not verify (exit code 1; the
    /// bundle is left as it is).
    Refused {
        /// The watched root.
        watch_root: String,
        /// The run folder.
        run_dir: String,
        /// The bundle concerned, for an existing bundle that does not verify.
        bundle: Option<String>,
        /// Why, in words (the error `seal` would print).
        reason: String,
        /// The exit code `seal` (or `verify`) would have given.
        exit_code: u8,
    },
    /// Something went wrong that says nothing about the data (an unreadable directory,
    /// a key or disk problem); the run, if any, is not retried by this process.
    Error {
        /// The watched root, when the error concerns one.
        watch_root: Option<String>,
        /// The run folder, when the error concerns one.
        run_dir: Option<String>,
        /// What went wrong.
        message: String,
        /// The exit code it stands for (2 for I/O errors).
        exit_code: u8,
    },
    /// Watching has ended: a `--once` pass finished, or a signal asked it to stop.
    Stopped {
        /// `once` (the pass finished) or `signal`.
        reason: String,
        /// Run folders whose seal was abandoned (no bundle written for them).
        abandoned: Vec<String>,
        /// The exit code the process exits with.
        exit_code: u8,
    },
}
