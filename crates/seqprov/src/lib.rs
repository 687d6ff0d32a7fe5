//! # seqprov
//!
//! Provenance seals for DNA sequencing output, and the crate most embedding programs
//! import. A *seal* is an Ed25519-signed COSE_Sign1 over a small header whose Merkle
//! root commits to every file of a directory (an Illumina run folder, a folder of
//! FASTQs); the *bundle* is the sidecar file holding the seal, the entry list and, later,
//! custody events. The format is specified in `spec/`.
//!
//! This crate owns the decisions: keys ([`keys`]), sealing ([`seal`]), verification of
//! directories, proofs and byte ranges ([`verify_directory`], [`verify_files`],
//! [`verify_range()`]),
//! custody events, their chain and timeline ([`custody`], [`chain`],
//! [`custody_timeline`]), lab policy and trust ([`policy`]), transparency-log submissions, entries and receipts ([`log_submission`], [`log_receipts`]), lineage between bundles
//! ([`lineage`]), the report and its exit codes ([`report`]), the report's HTML page
//! ([`report_page`]) and its MultiQC form ([`multiqc`]), exports ([`export`]), and
//! watching instrument shares to seal each run folder once it is finished ([`watch`]).
//! It composes three lower layers and must not duplicate them: `seqprov-format` (the
//! bytes), `seqprov-engine` (walking and hashing) and `seqprov-illumina` (what run
//! folders and FASTQ files are). It prints nothing; the `seqprov` command does.
//!
//! Start reading at [`seal_directory`] and [`verify_directory`]. The two calls an
//! embedding pipeline or LIS needs:
//!
//! ```no_run
//! use std::path::Path;
//! use seqprov::{NoProgress, PermissionCheck, PrivateKey, PublicKey, SealOptions, VerifyOptions};
//!
//! # fn main() -> Result<(), seqprov::Error> {
//! let key = PrivateKey::load(Path::new("core.key"), PermissionCheck::Strict)?;
//! let sealed = seqprov::seal_directory(Path::new("run"), &key, &SealOptions::default(), &NoProgress)?;
//! seqprov::write_atomically(Path::new("run.seqprov"), &sealed.bundle, seqprov::Overwrite::Refuse)?;
//!
//! let bundle = seqprov::read_bundle(Path::new("run.seqprov"))?;
//! let policy = seqprov::Policy::trusting(vec![PublicKey::load(Path::new("core.pub"))?]);
//! let report = seqprov::verify_directory(Path::new("run"), &bundle, &policy, VerifyOptions::default(), &NoProgress)?;
//! assert_eq!(report.exit_code, 0);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod bundle_checks;
pub mod bundle_file;
pub mod chain;
pub mod custody;
pub mod custody_timeline;
mod error;
mod exit_status;
pub mod export;
pub mod fuzz_entry;
pub mod inspect;
pub mod integrity;
pub mod keys;
pub mod lineage;
pub mod log_client;
pub mod log_online;
pub mod log_receipt_checks;
pub mod log_receipts;
pub mod log_submission;
pub mod multiqc;
pub mod policy;
pub mod report;
pub mod report_page;
pub mod seal;
pub mod sharded;
pub mod timestamp_checks;
pub mod timestamp_request;
pub mod timestamp_token;
mod verdict;
mod verify;
mod verify_proof;
mod verify_range;
pub mod watch;

pub use bundle_checks::ProofMatching;
pub use bundle_file::{Overwrite, default_bundle_path, read_bundle, read_proof, write_atomically};
pub use error::{Error, Result};
pub use keys::{KeyId, KeyStorage, PermissionCheck, PrivateKey, PublicKey, Signer};
pub use policy::Policy;
pub use report::{ExitStatus, FileClass, Report, Verdict};
pub use seal::{SealOptions, Sealed, seal_directory};
pub use seqprov_engine::{HashOptions, NoProgress, Progress, ReadMode};
pub use seqprov_format::Bundle;
pub use verify::{VerifyOptions, verify_directory};
pub use verify_proof::verify_files;
pub use verify_range::verify_range;

/// The engine layer: walking and hashing (re-exported for embedding programs).
pub use seqprov_engine as engine;
/// The format layer: bundle and proof bytes (re-exported for embedding programs).
pub use seqprov_format as format;
/// The sequencing knowledge: run folders and FASTQ files (re-exported for embedding
/// programs).
pub use seqprov_illumina as illumina;
