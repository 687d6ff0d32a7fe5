//! # seqprov
//!
//! Provenance seals for DNA sequencing output. A *seal* is an Ed25519-signed COSE_Sign1
//! over a small header whose Merkle root commits to every file of a directory (an
//! Illumina run folder, a folder of FASTQs); the *bundle* is the sidecar file holding the
//! seal, the entry list and, later, custody events. The format is specified in `spec/`.
//!
//! The two calls an embedding pipeline or LIS needs:
//!
//! ```no_run
//! use std::path::Path;
//! use seqprov::{Bundle, NoProgress, PermissionCheck, PrivateKey, PublicKey, SealOptions, VerifyOptions};
//!
//! # fn main() -> Result<(), seqprov::Error> {
//! let key = PrivateKey::load(Path::new("core.key"), PermissionCheck::Strict)?;
//! let sealed = seqprov::seal_directory(Path::new("run"), &key, &SealOptions::default(), &NoProgress)?;
//! seqprov::write_atomically(Path::new("run.seqprov"), &sealed.bundle, seqprov::Overwrite::Refuse)?;
//!
//! let bundle = Bundle::read(Path::new("run.seqprov"))?;
//! let policy = seqprov::Policy::trusting(vec![PublicKey::load(Path::new("core.pub"))?]);
//! let report = seqprov::verify_directory(Path::new("run"), &bundle, &policy, VerifyOptions::default(), &NoProgress)?;
//! assert_eq!(report.exit_code, 0);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod bundle;
pub mod cbor;
pub mod chain;
pub mod completion;
pub mod cose;
pub mod custody;
pub mod entry_list;
pub mod entry_path;
pub mod error;
pub mod exclude;
pub mod export;
pub mod formats;
pub mod fuzz_entry;
pub mod hashing;
pub mod inspect;
pub mod keys;
pub mod lineage;
pub mod manifest;
mod mapped_file;
pub mod merkle;
pub mod outboard;
pub mod policy;
pub mod proof;
pub mod report;
pub mod schedule;
pub mod seal;
pub mod sha256_lanes;
pub mod verify;
pub mod walk;

pub use bundle::{Bundle, Overwrite, default_bundle_path, write_atomically};
pub use error::{Error, Result};
pub use hashing::{HashOptions, NoProgress, Progress, ReadMode};
pub use keys::{KeyId, PermissionCheck, PrivateKey, PublicKey};
pub use policy::Policy;
pub use report::{ExitStatus, FileClass, Report, Verdict};
pub use seal::{SealOptions, Sealed, seal_directory};
pub use verify::{VerifyOptions, verify_directory};
