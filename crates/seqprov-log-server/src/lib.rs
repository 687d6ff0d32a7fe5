//! The services of the seqprov transparency log (spec/log.md §4–§6, §9).
//!
//! - [`log_service`]: `seqprov log serve`: the published files, `POST /add`, the page.
//! - [`sequencer`]: group commit: one thread integrates every pending submission at once.
//! - [`log_page`]: the page for people at `/`.
//! - [`witness_service`]: `seqprov log witness`: `POST /add-checkpoint` (tlog-witness).
//! - [`witness_push`]: the log's side of tlog-witness: asking witnesses to cosign.
//! - [`witness_pull`]: the witness reading a log itself (`log witness --log`).
//! - [`http_limits`]: the timeouts, body deadline and connection limit of both services.
//! - [`large_submissions`]: at most two large submissions read and checked at once.

pub mod http_limits;
pub mod large_submissions;
pub mod log_page;
pub mod log_service;
pub mod sequencer;
pub mod witness_pull;
pub mod witness_push;
pub mod witness_service;
