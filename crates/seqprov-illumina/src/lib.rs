//! Format knowledge: what an Illumina run folder and a FASTQ file are, beyond bytes.
//!
//! - [`run_info`]: `RunInfo.xml` and `RunParameters.xml` into [`run_info::RunMetadata`].
//! - [`run_mode`]: the clinical / RUO claim and its corroboration by the software name.
//! - [`run_layout`]: layout families and the completeness of a run folder.
//! - [`structure`]: streaming structure checks of BCL, CBCL, filter and position files,
//!   fed the same chunks the hashing engine hashes.
//! - [`fastq`]: compression-independent content identity of FASTQ files.
//! - [`read_name`]: Illumina read names and their agreement with the run they come from.
//!
//! Every function here is pure or reads only what it is given; none walks, hashes or
//! signs. The normative description is in `spec/run-folders.md` and
//! `spec/fastq-content.md`.

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
