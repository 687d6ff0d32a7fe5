//! Format checks that ride along with hashing: the same chunks the engine hashes are fed
//! to a structure checker (BCL, CBCL, filter, locs…) and, for FASTQ with content identity
//! on, to the content hasher, so every file is read once.

use seqprov_engine::ChunkSink;
use seqprov_format::run_record::RunMetadata;
use seqprov_illumina::fastq::{self, ContentHasher, ContentOutcome, FastqError};
use seqprov_illumina::structure::{
    CheckOptions, StructureChecker, StructureError, StructureSummary,
};

/// Which checks to run on which files.
#[derive(Clone, Debug, Default)]
pub struct InspectOptions {
    /// Structure checks of Illumina binary files (`None` turns them off).
    pub structure: Option<CheckOptions>,
    /// Compute FASTQ content identity (`--content`).
    pub content: bool,
    /// The run FASTQ read names must agree with (known from the derived-from bundle).
    pub run: Option<RunMetadata>,
}

/// The checks running on one file.
pub struct Inspection {
    // Boxed: most files have neither, and the engine moves an inspection per file.
    structure: Option<Box<StructureChecker>>,
    fastq: Option<Box<ContentHasher>>,
}

/// What the checks of one file found.
#[derive(Debug, Default)]
pub struct Findings {
    /// The structure check's outcome, if one ran.
    pub structure: Option<Result<StructureSummary, StructureError>>,
    /// The content identity, if it was computed.
    pub content: Option<Result<ContentOutcome, FastqError>>,
}

impl Findings {
    /// `None` when there is nothing to record (no check ran, or a structure check passed
    /// without notes), so a tree of many small files keeps no per-file findings.
    pub fn worth_keeping(mut self) -> Option<Box<Findings>> {
        if matches!(&self.structure, Some(Ok(summary)) if summary.notes.is_empty()) {
            self.structure = None;
        }
        (self.structure.is_some() || self.content.is_some()).then(|| Box::new(self))
    }
}

impl Inspection {
    /// The checks that apply to the file at entry path `path` of `size` bytes.
    pub fn for_file(path: &str, size: u64, options: &InspectOptions) -> Inspection {
        let structure = options
            .structure
            .and_then(|o| StructureChecker::for_path(path, o))
            .map(|c| Box::new(c.with_len(size)));
        let fastq = (options.content && fastq::is_fastq_name(path)).then(|| {
            Box::new(match &options.run {
                Some(run) => ContentHasher::with_run(run),
                None => ContentHasher::new(),
            })
        });
        Inspection { structure, fastq }
    }

    /// A FASTQ content check only (verification of recompressed files).
    pub fn content_only(path: &str) -> Inspection {
        Inspection {
            structure: None,
            fastq: fastq::is_fastq_name(path).then(|| Box::new(ContentHasher::new())),
        }
    }

    /// True when no check applies (the engine can skip feeding chunks).
    pub fn is_empty(&self) -> bool {
        self.structure.is_none() && self.fastq.is_none()
    }

    /// Close the checks; `len` is the file's length.
    pub fn finish(self, len: u64) -> Findings {
        Findings {
            structure: self.structure.map(|c| c.finish(len)),
            content: self.fastq.map(|f| f.finish()),
        }
    }
}

impl ChunkSink for Inspection {
    fn update(&mut self, chunk: &[u8]) {
        if let Some(c) = &mut self.structure {
            c.update(chunk);
        }
        if let Some(f) = &mut self.fastq {
            f.update(chunk);
        }
    }
}
