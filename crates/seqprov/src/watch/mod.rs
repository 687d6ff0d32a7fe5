//! Watching instrument shares (`seqprov watch`): find run folders under one or more roots
//! as instruments create them, wait until each is complete and has stopped changing, seal
//! each once beside itself, and tell what happens as a stream of events.
//!
//! The parts, one job each: [`discovery`] finds run folders; [`settle`] tells whether a
//! folder has stopped changing; [`event`] is the event stream's vocabulary (a stable
//! interface, `spec/watch.md`); [`state_file`] remembers, across restarts, when each run
//! was first seen and which were refused; [`watcher`] runs the loop and the seals.

pub mod discovery;
pub mod event;
pub mod settle;
pub mod state_file;
pub mod watcher;

pub use event::{EVENT_VERSION, EventKind, WaitingFor, WatchEvent};
pub use watcher::{WatchOptions, WatchOutcome, WatchTimestamps, watch};
