//! Command-line arguments (parsing only; the work is in the library).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Seal sequencing output with signed, Merkle-rooted manifests and verify chain of custody.
#[derive(Parser, Debug)]
#[command(name = "seqprov", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 verified; 1 integrity failure; 2 usage or I/O error; \
3 valid but not trusted. See spec/cli.md."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make a new Ed25519 key pair: NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub (SPKI PEM).
    Keygen(KeygenArgs),
    /// Hash every file of a directory and write a signed bundle beside it.
    Seal(SealArgs),
    /// Check a directory against its bundle: signature, trust, Merkle root, every file.
    Verify(VerifyArgs),
    /// Print what a bundle says.
    Show(ShowArgs),
}

/// `seqprov keygen`.
#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Base name of the key files (NAME.key and NAME.pub are written).
    #[arg(long, value_name = "NAME")]
    pub out: PathBuf,
    /// The key holder's full name, recorded in the key files and used as signer name.
    #[arg(long, value_name = "FULL NAME")]
    pub name: Option<String>,
}

/// Options shared by the commands that read file contents.
#[derive(Args, Debug, Clone, Copy)]
pub struct ReadArgs {
    /// Never memory-map files; read them through a buffer (better on spinning disks and
    /// network file systems).
    #[arg(long)]
    pub no_mmap: bool,
    /// No progress bar and no summary on success.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `seqprov seal`.
#[derive(Args, Debug)]
pub struct SealArgs {
    /// The directory to seal (a run folder or a folder of FASTQs).
    pub dir: PathBuf,
    /// Private key (PKCS#8 PEM).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Bundle to write [default: DIR.seqprov beside DIR].
    #[arg(long, value_name = "BUNDLE")]
    pub out: Option<PathBuf>,
    /// Also record SHA-256 digests (for systems that only speak SHA-2).
    #[arg(long)]
    pub sha256: bool,
    /// Signer's printed name [default: the key file's name].
    #[arg(long, value_name = "NAME")]
    pub signer: Option<String>,
    /// Role the signer acts in.
    #[arg(long, value_name = "ROLE", default_value = seqprov::seal::DEFAULT_ROLE)]
    pub role: String,
    /// Meaning of the signature (21 CFR 11.50), e.g. "authorship", "review", "approval".
    #[arg(long, value_name = "TEXT", default_value = seqprov::seal::DEFAULT_MEANING)]
    pub meaning: String,
    /// Replace an existing bundle.
    #[arg(long)]
    pub force: bool,
    /// Load a private key even if group or others can read it.
    #[arg(long)]
    pub allow_insecure_key_permissions: bool,
    /// Reading options.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `seqprov verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The sealed directory.
    pub dir: PathBuf,
    /// The bundle [default: DIR.seqprov beside DIR].
    #[arg(long, value_name = "BUNDLE")]
    pub bundle: Option<PathBuf>,
    /// A trusted public key (SPKI PEM); repeat for several. Without any, a valid seal
    /// exits 3 (not trusted).
    #[arg(long, value_name = "KEY.pub")]
    pub trust: Vec<PathBuf>,
    /// Print one JSON object (schema: spec/report.md) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Reading options.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `seqprov show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The bundle to describe.
    pub bundle: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}
