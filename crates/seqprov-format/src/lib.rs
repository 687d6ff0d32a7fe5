//! # seqprov-format
//!
//! The bytes of seqprov, and nothing else: the crate a second implementation mirrors
//! and the fuzzers target. It owns deterministic CBOR ([`cbor`]), COSE_Sign1 with
//! Ed25519 ([`cose`], [`key_id`]), entries and entry paths ([`manifest`],
//! [`entry_path`], [`entry_list`], [`entry_table`]), the signed exclude-pattern grammar ([`exclude`]),
//! the Merkle tree and inclusion paths ([`merkle`]), custody event payloads ([`event`]), timestamp records ([`timestamp_record`]), transparency-log entries ([`log_entry`]) and receipt records ([`log_receipt_record`]),
//! what a seal records about sequencing data ([`run_record`]), and the encoding and
//! strict, bounded decoding of bundles ([`bundle`]) and proofs ([`proof`]).
//!
//! It must not know about the file system, threads of work, keys on disk or trust:
//! no walking, no reading files, no policy. Parsing here never checks a signature
//! against a trusted key; it only decodes and checks that the bytes hold together. That
//! is the job of the `seqprov` crate.
//!
//! Start reading at [`bundle::Bundle::parse`]; the normative text is `spec/bundle.md`
//! and `spec/proof.md`.

#![warn(missing_docs)]

pub mod bundle;
mod byte_window;
pub mod bytes32;
pub mod cbor;
pub mod cose;
pub mod entry_list;
pub mod entry_path;
pub mod entry_table;
pub mod error;
pub mod event;
pub mod exclude;
pub mod key_id;
pub mod log_entry;
pub mod log_receipt_record;
pub mod manifest;
pub mod merkle;
pub mod proof;
pub mod run_record;
pub mod shard;
pub mod timestamp_record;

pub use bundle::Bundle;
pub use cose::{Ed25519Signer, SignedMessage};
pub use error::{FormatError, Result};
pub use key_id::KeyId;
pub use manifest::{Bytes32, Entry, EntryKind, SealPayload};

/// Name and version of this implementation, as recorded in seals (`tool`) and reports.
pub const TOOL: &str = concat!("seqprov ", env!("CARGO_PKG_VERSION"));
