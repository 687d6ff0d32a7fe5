//! Command-line arguments (parsing only; the work is in the library).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Seal sequencing output with signed, Merkle-rooted manifests and verify chain of custody.
#[derive(Parser, Debug)]
#[command(name = "seqprov", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 verified; 1 integrity failure (content, signature, chain, \
lineage, malformed bundle, data refused at seal); 2 usage or I/O error; 3 intact but a \
signer is not trusted or a policy rule is not satisfied. See spec/cli.md."
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
    /// Write a per-sample proof: the seal, the chosen entries with their Merkle inclusion
    /// paths, and the custody events — nothing about any other entry.
    Prove(ProveArgs),
    /// Custody events: append one, or show the timeline.
    #[command(subcommand)]
    Custody(CustodyCommand),
    /// Verify a directory at its destination and, only if it verifies, append a signed
    /// `receive` event to its bundle.
    Receive(ReceiveArgs),
    /// Export a bundle for other tools: an in-toto statement in a signed DSSE envelope, or
    /// a FHIR R4 Provenance resource (see spec/export.md).
    Export(ExportArgs),
    /// Ask RFC 3161 Time-Stamp Authorities for tokens over the seal or custody events and
    /// store them in the bundle (see spec/timestamps.md).
    Timestamp(TimestampArgs),
}

/// `seqprov custody ...`.
#[derive(Subcommand, Debug)]
pub enum CustodyCommand {
    /// Sign and append a custody event (crash- and concurrency-safe).
    Append(AppendArgs),
    /// Print the custody timeline: who, when, what, meaning, signature status, gaps.
    Show(CustodyShowArgs),
}

/// Who trusts what: `--trust` keys and/or a `--policy` file.
#[derive(Args, Debug, Clone)]
pub struct TrustArgs {
    /// A trusted public key (SPKI PEM), trusted for every role at any time; repeatable.
    #[arg(long, value_name = "KEY.pub")]
    pub trust: Vec<PathBuf>,
    /// A lab policy file (TOML, see spec/policy.md); `--trust` keys are added to it.
    #[arg(long, value_name = "POLICY.toml")]
    pub policy: Option<PathBuf>,
}

/// What a signer says about an event.
#[derive(Args, Debug, Clone)]
pub struct SignerArgs {
    /// Private key (PKCS#8 PEM).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Signer's printed name [default: the key file's name].
    #[arg(long, value_name = "NAME")]
    pub signer: Option<String>,
    /// Role the signer acts in (for example `courier`, `lab`, `clinician`).
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Meaning of the signature (21 CFR 11.50), e.g. "review", "approval", "responsibility".
    #[arg(long, value_name = "TEXT")]
    pub meaning: Option<String>,
    /// Host or location where the event happens [default: this host's name].
    #[arg(long, value_name = "TEXT")]
    pub host: Option<String>,
    /// Free-text note.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Load a private key even if group or others can read it.
    #[arg(long)]
    pub allow_insecure_key_permissions: bool,
}

/// `seqprov custody append`.
#[derive(Args, Debug)]
pub struct AppendArgs {
    /// The bundle to append to.
    pub bundle: PathBuf,
    /// Event kind: transfer, attest, or derive (receive events come from `seqprov receive`).
    #[arg(long, value_name = "KIND")]
    pub kind: String,
    /// Recipient of a transfer.
    #[arg(long, value_name = "TEXT")]
    pub to: Option<String>,
    /// For `derive`: the derived bundle.
    #[arg(long, value_name = "BUNDLE")]
    pub derived_bundle: Option<PathBuf>,
    /// Signer options.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Stamp the new event with an RFC 3161 TSA (repeatable) once it is appended.
    #[command(flatten)]
    pub tsa: TsaArgs,
}

/// `seqprov custody show`.
#[derive(Args, Debug)]
pub struct CustodyShowArgs {
    /// The bundle.
    pub bundle: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Trust options (to show whether each signer is trusted).
    #[command(flatten)]
    pub trust: TrustArgs,
}

/// `seqprov receive`.
#[derive(Args, Debug)]
pub struct ReceiveArgs {
    /// The received directory.
    pub dir: PathBuf,
    /// The bundle [default: DIR.seqprov beside DIR].
    #[arg(long, value_name = "BUNDLE")]
    pub bundle: Option<PathBuf>,
    /// Trust options.
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Signer options for the receive event.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Print the verification report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Reading options.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Stamp the new event with an RFC 3161 TSA (repeatable) once it is appended.
    #[command(flatten)]
    pub tsa: TsaArgs,
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
    /// Encrypt the private key with a passphrase (PBES2: PBKDF2-SHA256, AES-256-CBC),
    /// taken from SEQPROV_PASSPHRASE or asked on the terminal.
    #[arg(long)]
    pub encrypt: bool,
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
    /// The bundle of the data this directory was derived from (e.g. the run's bundle for
    /// FASTQs); recorded in the seal.
    #[arg(long, value_name = "BUNDLE", requires = "step")]
    pub derived_from: Option<PathBuf>,
    /// The processing step that derived this data (program, version, arguments).
    #[arg(long, value_name = "TEXT", requires = "derived_from")]
    pub step: Option<String>,
    /// The sample sheet used by the step; its digest is recorded.
    #[arg(long, value_name = "FILE", requires = "derived_from")]
    pub sample_sheet: Option<PathBuf>,
    /// Record FASTQ content identity (reads, bases, digest of the records) for .fastq,
    /// .fq and their .gz forms, so a recompressed file can be told from an altered one.
    #[arg(long)]
    pub content: bool,
    /// The mode the run was made in, attested by the signer: clinical or ruo.
    #[arg(long, value_name = "MODE")]
    pub mode: Option<String>,
    /// Seal a run folder that lacks expected files, recording what is missing.
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Seal files that fail a format check (BCL, CBCL, filter, FASTQ…), recording them.
    #[arg(long)]
    pub allow_broken: bool,
    /// Hold binary files to their formats strictly (no lenient deviations) and inflate
    /// every compressed block (slower).
    #[arg(long)]
    pub strict_structure: bool,
    /// Inflate every compressed block and check its CRC-32 and size (gzip, BGZF, CBCL),
    /// keeping lenient mode (slower; implied by --strict-structure).
    #[arg(long, conflicts_with = "no_structure_check")]
    pub full_structure_check: bool,
    /// Do not run format checks while hashing.
    #[arg(long, conflicts_with = "strict_structure")]
    pub no_structure_check: bool,
    /// Leave out paths matching this glob (`*` within a component, `**` across); the
    /// rule is recorded in the seal. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Wait until the run's completion marker (CopyComplete.txt or RTAComplete.txt)
    /// appears before sealing, for use as a pipeline step.
    #[arg(long)]
    pub wait: bool,
    /// Also write BLAKE3 (Bao) outboard trees of files of 1 MiB or more into
    /// BUNDLE.outboard/, so `verify --range` can check a byte range without reading the
    /// whole file (about 6.25 % of those files' size).
    #[arg(long)]
    pub outboard: bool,
    /// How long `--wait` waits before giving up (e.g. 90m, 12h).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "24h",
        requires = "wait"
    )]
    pub wait_timeout: String,
    /// Load a private key even if group or others can read it.
    #[arg(long)]
    pub allow_insecure_key_permissions: bool,
    /// Reading options.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Stamp the new seal with an RFC 3161 TSA (repeatable) before the bundle is written.
    #[command(flatten)]
    pub tsa: TsaArgs,
    /// With --tsa: if a TSA fails, write the bundle anyway, unstamped (stamp it later with
    /// `seqprov timestamp BUNDLE --which seal`); without it no bundle is written.
    #[arg(long, requires = "tsa")]
    pub timestamp_later: bool,
}

/// `seqprov verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The sealed directory; with --proof, the files to check against the proof.
    #[arg(required = true, value_name = "DIR|FILE")]
    pub paths: Vec<PathBuf>,
    /// The bundle [default: DIR.seqprov beside DIR].
    #[arg(long, value_name = "BUNDLE", conflicts_with = "proof")]
    pub bundle: Option<PathBuf>,
    /// Check the given files against a per-sample proof instead of a directory against
    /// its bundle.
    #[arg(long, value_name = "PROOF")]
    pub proof: Option<PathBuf>,
    /// With --proof: check FILE as the disclosed entry PATH (when its name is not that
    /// entry's last path component, or is shared by several); repeatable.
    #[arg(long = "as", value_name = "FILE=PATH", requires = "proof")]
    pub as_entry: Vec<String>,
    /// With --proof: take each file as whichever disclosed entry has its content,
    /// whatever its name; with --range and --entry: accept FILE as that entry whatever its
    /// name. Gives up the check that a file is the entry it claims to be.
    #[arg(long)]
    pub match_content_ignoring_names: bool,
    /// Check only this byte range of one FILE (START:LEN, decimal bytes) against its
    /// sealed BLAKE3, with its outboard tree; with --bundle or --proof.
    #[arg(long, value_name = "START:LEN")]
    pub range: Option<String>,
    /// With --range: the sealed path of FILE [default: the entry with FILE's name].
    #[arg(long, value_name = "PATH", requires = "range")]
    pub entry: Option<String>,
    /// With --range: the outboard directory [default: BUNDLE.outboard or PROOF.outboard].
    #[arg(long, value_name = "DIR", requires = "range")]
    pub outboard: Option<PathBuf>,
    /// Trust options. Without any, a valid seal exits 3 (not trusted).
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The bundle this data says it was derived from; repeatable.
    #[arg(long, value_name = "BUNDLE")]
    pub derived_from: Vec<PathBuf>,
    /// Require the seal's derived-from bundle to be given, valid, trusted and matching.
    #[arg(long)]
    pub require_lineage: bool,
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

/// `seqprov export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The bundle to export (its seal signature, root and custody chain must hold).
    pub bundle: PathBuf,
    /// What to write: `in-toto` (a DSSE envelope, one JSON line) or `fhir` (a Provenance).
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Private key (PKCS#8 PEM) that signs the DSSE envelope, normally the sealer's.
    #[arg(long, value_name = "KEY", required_if_eq("format", "in-toto"))]
    pub key: Option<PathBuf>,
    /// Trust options (one is required, or --no-trust-check): the seal's and every event's
    /// signer must be trusted and every policy rule met, as for `verify`.
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Verify this directory against the bundle first: export only if every file is
    /// identical (a bundle, not a proof).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Export without judging trust (only the signatures, root and chain are checked); the
    /// export then says `trustChecked: false`.
    #[arg(long, conflicts_with_all = ["trust", "policy", "dir"])]
    pub no_trust_check: bool,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace an existing `--out` file.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Load a private key even if group or others can read it.
    #[arg(long)]
    pub allow_insecure_key_permissions: bool,
}

/// The formats of `seqprov export`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// An in-toto Statement v1 in a DSSE envelope signed with `--key`.
    InToto,
    /// A FHIR R4 Provenance resource carrying the seal's COSE_Sign1.
    Fhir,
}

/// `seqprov prove`.
#[derive(Args, Debug)]
pub struct ProveArgs {
    /// The bundle to take the entries from.
    pub bundle: PathBuf,
    /// Entry paths to disclose (globs: `*` within a component, `**` across); repeatable.
    #[arg(long = "path", value_name = "GLOB", required = true)]
    pub paths: Vec<String>,
    /// The proof file to write.
    #[arg(long, value_name = "PROOF")]
    pub out: PathBuf,
    /// Replace an existing proof file.
    #[arg(long)]
    pub force: bool,
}

/// Which messages `seqprov timestamp` stamps.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StampWhich {
    /// The seal.
    Seal,
    /// The last message: the last custody event, else the seal.
    Last,
    /// Every message that has no token yet.
    All,
}

/// Where to ask for trusted time (`--tsa`), shared by the commands that can stamp.
#[derive(Args, Debug, Clone, Default)]
pub struct TsaArgs {
    /// URL of an RFC 3161 Time-Stamp Authority (http:// or https://); repeatable: every
    /// TSA named is asked, and all must answer.
    #[arg(long = "tsa", value_name = "URL")]
    pub tsa: Vec<String>,
    /// Seconds one exchange with a TSA may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub tsa_timeout: u64,
}

/// `seqprov timestamp`.
#[derive(Args, Debug)]
pub struct TimestampArgs {
    /// The bundle whose messages are stamped (tokens are appended to it).
    pub bundle: PathBuf,
    /// Which messages to stamp.
    #[arg(long, value_enum, default_value_t = StampWhich::Last)]
    pub which: StampWhich,
    /// The TSAs to ask (at least one).
    #[command(flatten)]
    pub tsa: TsaArgs,
}
