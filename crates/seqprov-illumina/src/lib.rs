//! # seqprov-illumina
//!
//! The sequencing knowledge of seqprov: what an Illumina run folder and a FASTQ file
//! are, beyond bytes. Usable alone, for example to check a run folder without sealing
//! it.
//!
//! - [`run_info`]: `RunInfo.xml` and `RunParameters.xml` into a
//!   [`seqprov_format::run_record::RunMetadata`].
//! - [`run_mode`]: the clinical / RUO claim and its corroboration by the software name.
//! - [`run_layout`]: layout families, tile numbering and the completeness of a run
//!   folder; [`completion`]: waiting for the instrument's completion marker.
//! - [`structure`]: streaming structure checks of BCL, CBCL, filter and position files,
//!   fed the same chunks the hashing engine hashes.
//! - [`fastq`]: compression-independent content identity of FASTQ files (gzip, BGZF).
//! - [`read_name`]: Illumina read names and their agreement with the run they come from.
//!
//! It must not know about signatures, bundles, keys or trust, nor walk or hash trees:
//! every function is pure or reads only the file it is given. The records it produces
//! are the plain data types of `seqprov-format`. Start reading at
//! [`run_info::read_run_folder`]; the normative description is in
//! `spec/run-folders.md` and `spec/fastq-content.md`.

#![warn(missing_docs)]

pub mod completion;
pub mod fastq;
mod gzip;
pub mod read_name;
pub mod run_info;
pub mod run_layout;
pub mod run_mode;
pub mod structure;
mod xml_tree;

pub use fastq::{ContentHasher, FastqContent, FastqError};
pub use read_name::{HeaderMismatch, ReadName};
pub use run_info::{MetadataError, RunMetadata, read_run_folder};
pub use run_layout::{Completeness, LayoutFamily, check_completeness};
pub use run_mode::{Corroboration, RunMode, RunModeEvidence};
pub use structure::{CheckOptions, StructureChecker, StructureError, StructureSummary};
