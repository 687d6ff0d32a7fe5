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
    /// Write the public half (SPKI PEM) of a key file, a PKCS#11 token key or an
    /// ssh-agent key.
    Pubkey(PubkeyArgs),
    /// Hash every file of a directory and write a signed bundle beside it.
    Seal(SealArgs),
    /// Walk a directory once (metadata only) and cut its files into N parts balanced by
    /// bytes, for `hash-part` on many nodes and `seal --from-parts` (spec/sharded.md).
    Plan(PlanArgs),
    /// Hash one part of a plan on this node and write the part file.
    HashPart(HashPartArgs),
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
    /// Watch instrument shares: find run folders under each ROOT, wait until each is
    /// complete and has stopped changing, seal each once beside itself, and report every
    /// step as one JSON line (see spec/watch.md).
    Watch(WatchArgs),
    /// The lab's transparency log (spec/log.md): create it, serve it, witness it, submit to
    /// it, show it.
    #[command(subcommand)]
    Log(LogCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) on standard
    /// output.
    Completions(CompletionsArgs),
    /// Write the manual pages (roff, section 1, one per command) into a directory.
    Man(ManArgs),
}

/// `seqprov completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `seqprov man`.
#[derive(Args, Debug)]
pub struct ManArgs {
    /// The directory to write seqprov.1, seqprov-seal.1, … into (created if absent). A
    /// page already there is replaced only if an earlier `seqprov man` wrote it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `seqprov custody ...`.
#[derive(Subcommand, Debug)]
pub enum CustodyCommand {
    /// Sign and append a custody event (crash- and concurrency-safe).
    Append(Box<AppendArgs>),
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
    /// Private key: a PKCS#8 PEM file, a PKCS#11 token key `pkcs11:token=…;object=…`
    /// (RFC 7512) or an ssh-agent key `ssh-agent:SHA256:…`.
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
    /// Where a `pkcs11:` or `ssh-agent:` --key is found.
    #[command(flatten)]
    pub token: TokenArgs,
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
    /// Submit the new event (and its tokens) to transparency logs once it is appended.
    #[command(flatten)]
    pub log: LogSubmitTargets,
}

/// `seqprov custody show`.
#[derive(Args, Debug)]
pub struct CustodyShowArgs {
    /// The bundle.
    pub bundle: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write the timeline as one self-contained HTML page to FILE, for people to
    /// read and print (not an interface: programs read --json).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
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
    /// Submit the new event (and its tokens) to transparency logs once it is appended.
    #[command(flatten)]
    pub log: LogSubmitTargets,
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
    #[arg(long, conflicts_with = "pkcs11")]
    pub encrypt: bool,
    /// Make the key on this PKCS#11 token instead (`pkcs11:token=…;object=LABEL`): a
    /// sensitive, non-extractable Ed25519 key; only NAME.pub is written.
    #[arg(long, value_name = "URI")]
    pub pkcs11: Option<String>,
    /// Where the PKCS#11 module is found.
    #[command(flatten)]
    pub token: TokenArgs,
}

/// Where a key kept in a token is found (the PIN is never an argument: it comes from
/// SEQPROV_PKCS11_PIN or the terminal).
#[derive(Args, Debug, Clone, Default)]
pub struct TokenArgs {
    /// The PKCS#11 module (a shared library) for a `pkcs11:` key [default:
    /// SEQPROV_PKCS11_MODULE, else the URI's `module-path`].
    #[arg(long, value_name = "PATH")]
    pub pkcs11_module: Option<PathBuf>,
}

/// `seqprov pubkey`.
#[derive(Args, Debug)]
pub struct PubkeyArgs {
    /// The key: a PKCS#8 PEM private key file, `pkcs11:…` or `ssh-agent:SHA256:…`.
    #[arg(value_name = "KEYREF")]
    pub key: PathBuf,
    /// The public key file to write (SPKI PEM; must not exist yet).
    #[arg(long, value_name = "NAME.pub")]
    pub out: PathBuf,
    /// Load a private key file even if group or others can read it.
    #[arg(long)]
    pub allow_insecure_key_permissions: bool,
    /// Where a `pkcs11:` key is found.
    #[command(flatten)]
    pub token: TokenArgs,
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
    /// Private key: a PKCS#8 PEM file, a PKCS#11 token key `pkcs11:token=…;object=…`
    /// (RFC 7512) or an ssh-agent key `ssh-agent:SHA256:…`.
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
    /// Seal from the parts of a plan hashed on other nodes (`hash-part`), instead of
    /// hashing here; needs --plan. Digests, checks and excludes come from the plan.
    #[arg(
        long,
        value_name = "PART",
        num_args = 1..,
        requires = "plan",
        conflicts_with_all = ["sha256", "content", "exclude", "outboard", "strict_structure",
            "full_structure_check", "no_structure_check", "test_salt_seed"]
    )]
    pub from_parts: Vec<PathBuf>,
    /// With --from-parts: the plan the parts belong to.
    #[arg(long, value_name = "PLAN", requires = "from_parts")]
    pub plan: Option<PathBuf>,
    /// With --from-parts: the fraction (0 to 1) of files and ranges re-hashed on this
    /// host; a mismatch refuses the seal and names the part [default: 0.01].
    #[arg(long, value_name = "FRACTION", requires = "from_parts")]
    pub recheck: Option<f64>,
    /// With --from-parts: do not append the custody event that records which node hashed
    /// which part (the bundle is then byte for byte the one `seal` would write).
    #[arg(long, requires = "from_parts")]
    pub no_nodes_event: bool,
    /// Test only: the salt seed (64 hex digits) instead of fresh random bytes. A known
    /// seed makes the salts guessable.
    #[arg(long, value_name = "HEX", hide = true)]
    pub test_salt_seed: Option<String>,
    /// Test only: the seal time (YYYY-MM-DDTHH:MM:SSZ) instead of now.
    #[arg(long, value_name = "TIME", hide = true)]
    pub test_time: Option<String>,
    /// Where a `pkcs11:` or `ssh-agent:` --key is found.
    #[command(flatten)]
    pub token: TokenArgs,
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
    /// Submit the new seal (and its tokens) to transparency logs once it is written.
    #[command(flatten)]
    pub log: LogSubmitTargets,
}

/// `seqprov plan`.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The directory to plan (every node that hashes a part mounts it at the same path).
    pub dir: PathBuf,
    /// Number of parts.
    #[arg(long, value_name = "N")]
    pub parts: u64,
    /// The plan file to write.
    #[arg(long, value_name = "PLAN")]
    pub out: PathBuf,
    /// Replace an existing plan file.
    #[arg(long)]
    pub force: bool,
    /// Also record SHA-256 digests (files are then hashed whole, never cut).
    #[arg(long)]
    pub sha256: bool,
    /// As for seal: strict format checks with full inflation.
    #[arg(long)]
    pub strict_structure: bool,
    /// As for seal: inflate every compressed block.
    #[arg(long, conflicts_with = "no_structure_check")]
    pub full_structure_check: bool,
    /// As for seal: no format checks.
    #[arg(long, conflicts_with = "strict_structure")]
    pub no_structure_check: bool,
    /// Leave out paths matching this glob (recorded in the seal). Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Cut files longer than this many bytes (a power of two, at least 1024) into ranges
    /// [default: the largest power of two not above an eighth of the bytes of one part,
    /// at least 1 MiB].
    #[arg(long, value_name = "BYTES")]
    pub range_len: Option<u64>,
    /// Test only: the salt seed (64 hex digits).
    #[arg(long, value_name = "HEX", hide = true)]
    pub test_salt_seed: Option<String>,
}

/// `seqprov hash-part`.
#[derive(Args, Debug)]
pub struct HashPartArgs {
    /// The plan.
    pub plan: PathBuf,
    /// Which part (0-based).
    #[arg(long, value_name = "I")]
    pub part: u64,
    /// The part file to write.
    #[arg(long, value_name = "PART")]
    pub out: PathBuf,
    /// Replace an existing part file.
    #[arg(long)]
    pub force: bool,
    /// The node name recorded in the part [default: this host's name].
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Reading options.
    #[command(flatten)]
    pub read: ReadArgs,
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
    /// Also write the result as MultiQC custom content: a table row to FILE (its name
    /// must end in `_mqc.json`) and a General Statistics 0/1 column to
    /// `NAME_general_stats_mqc.json` beside it, whatever the verdict (spec/report.md §10).
    #[arg(long, value_name = "FILE")]
    pub multiqc: Option<PathBuf>,
    /// Also write the report as one self-contained HTML page to FILE, for people to read
    /// and print (not an interface: programs read --json).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Take the files' digests from the parts of a plan hashed on other nodes instead of
    /// reading them here (files changed since the plan are read here); needs --plan.
    #[arg(
        long,
        value_name = "PART",
        num_args = 1..,
        requires = "plan",
        conflicts_with_all = ["proof", "range"]
    )]
    pub from_parts: Vec<PathBuf>,
    /// With --from-parts: the plan the parts belong to.
    #[arg(long, value_name = "PLAN", requires = "from_parts")]
    pub plan: Option<PathBuf>,
    /// With --from-parts: the fraction (0 to 1) of files and ranges re-hashed here; a
    /// mismatch refuses the parts and names the part [default: 0.01].
    #[arg(long, value_name = "FRACTION", requires = "from_parts")]
    pub recheck: Option<f64>,
    /// Also check online against a transparency log (a URL or a copy of its directory):
    /// consistency with the bundle's receipts (a fork is exit 1), custody events logged
    /// but missing from the bundle (a rollback, exit 1), other seals of the same run
    /// (exit 3 with the policy's `one_seal_per_run`). Repeatable; the log's key must be in
    /// the policy's `[log] keys` (spec/log.md §8).
    #[arg(long = "log", value_name = "URL_OR_DIR", conflicts_with_all = ["proof", "range"])]
    pub log: Vec<String>,
    /// Seconds one request to a --log URL may take, from connecting to the last byte of
    /// the answer (all requests to one log together: at most 10 minutes).
    #[arg(long, value_name = "SECONDS", default_value_t = 30, requires = "log")]
    pub log_timeout: u64,
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
    /// Private key that signs the DSSE envelope, normally the sealer's: a PKCS#8 PEM file,
    /// `pkcs11:…` or `ssh-agent:…` (as for `seal --key`).
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
    /// Where a `pkcs11:` or `ssh-agent:` --key is found.
    #[command(flatten)]
    pub token: TokenArgs,
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
    /// Submit the new tokens to transparency logs once they are stored.
    #[command(flatten)]
    pub log: LogSubmitTargets,
}

/// `seqprov watch`.
#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Directories to search for run folders (folders holding a RunInfo.xml).
    #[arg(required = true, value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    /// Private key that signs every seal: a PKCS#8 PEM file, `pkcs11:…` or `ssh-agent:…`
    /// (as for `seal --key`).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// One pass: scan, seal what is ready (waiting one settle time), report the rest, exit.
    #[arg(long)]
    pub once: bool,
    /// How long a complete run folder must stay unchanged before it is sealed.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub settle: String,
    /// How often the roots are scanned and the runs looked at.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub interval: String,
    /// A run not ready this long after it was first seen is refused (with --once, across
    /// passes only with --state).
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub timeout: String,
    /// Most runs sealed at once.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Do not search paths (relative to a ROOT) matching this glob; repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Deepest level searched below each ROOT (a run folder directly in ROOT is at 1).
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub max_depth: u16,
    /// Remember when each run was first seen and which were refused, across restarts.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Append the event lines to this file instead of writing them on standard output.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Also record SHA-256 digests (as `seal --sha256`).
    #[arg(long)]
    pub sha256: bool,
    /// Record FASTQ content identity (as `seal --content`).
    #[arg(long)]
    pub content: bool,
    /// Signer's printed name [default: the key file's name].
    #[arg(long, value_name = "NAME")]
    pub signer: Option<String>,
    /// Role the signer acts in.
    #[arg(long, value_name = "ROLE", default_value = seqprov::seal::DEFAULT_ROLE)]
    pub role: String,
    /// Meaning of the signature (21 CFR 11.50).
    #[arg(long, value_name = "TEXT", default_value = seqprov::seal::DEFAULT_MEANING)]
    pub meaning: String,
    /// The mode the runs are made in, attested by the signer: clinical or ruo.
    #[arg(long, value_name = "MODE")]
    pub mode: Option<String>,
    /// Seal run folders that lack expected files, recording what is missing.
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Seal files that fail a format check, recording them.
    #[arg(long)]
    pub allow_broken: bool,
    /// Load a private key even if group or others can read it.
    #[arg(long)]
    pub allow_insecure_key_permissions: bool,
    /// Where a `pkcs11:` or `ssh-agent:` --key is found.
    #[command(flatten)]
    pub token: TokenArgs,
    /// Stamp each new seal with RFC 3161 trusted time (as `seal --tsa`).
    #[command(flatten)]
    pub tsa: TsaArgs,
    /// With --tsa: if a TSA fails, write the bundle anyway, unstamped (stamp it later with
    /// `seqprov timestamp`); without it, the run gets an `error` event and no bundle.
    #[arg(long, requires = "tsa")]
    pub timestamp_later: bool,
    /// Never memory-map files; read them through a buffer.
    #[arg(long)]
    pub no_mmap: bool,
}

// ---- `seqprov log …` (spec/log.md). `log init` and `log serve`: helper log-server;
// `log witness`: log-notes; `log submit` and `log show`: log-client. Each adds its variant
// to LogCommand and its Args struct after the others'.

// ---- log client (helper log-client): `--log URL` on the commands that write messages,
// `seqprov log submit` and `seqprov log show`. Kept apart from the log server's
// arguments to ease merging.

/// Where `--log URL` submits new messages (spec/log.md §4–§5, §7).
#[derive(Args, Debug, Clone, Default)]
pub struct LogSubmitTargets {
    /// URL of a seqprov transparency log (http:// or https://): every message this command
    /// writes is submitted to it (POST URL/add) and its receipt stored in the bundle;
    /// repeatable. A log that cannot be reached is exit 2; what was written stays valid.
    #[arg(long = "log", value_name = "URL")]
    pub log: Vec<String>,
    /// The log's vkey (repeatable): each receipt's checkpoint must be signed by it
    /// [default: none; only the receipt's inclusion proof is checked before it is stored].
    #[arg(long, value_name = "VKEY", requires = "log")]
    pub log_key: Vec<String>,
    /// Seconds one exchange with a log may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, requires = "log")]
    pub log_timeout: u64,
}

/// `seqprov log ...`.
#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Create an empty log in DIR (which must be absent or empty) and print its verifier key.
    Init(LogInitArgs),
    /// Serve the log: its checkpoint and tiles, POST /add and the page for people.
    Serve(LogServeArgs),
    /// Submit every message of a bundle that has no receipt from the log yet, and store
    /// the receipts in the bundle.
    Submit(LogSubmitArgs),
    /// List a log's entries (index, kind, run, flow cell, covered message, seal digest,
    /// signer key id) after checking them against its signed checkpoint.
    Show(LogShowArgs),
    /// Run a witness (c2sp.org/tlog-witness) for the lab's logs: cosign each new
    /// checkpoint that extends the tree it last cosigned (POST /add-checkpoint).
    Witness(LogWitnessArgs),
}

/// `seqprov log init`.
#[derive(Args, Debug)]
pub struct LogInitArgs {
    /// The new log's directory.
    pub dir: PathBuf,
    /// The log's private key (a seqprov key file from `seqprov keygen`); it signs every
    /// checkpoint and stays where it is (its path is recorded in DIR/seqprov-log.toml).
    #[arg(long, value_name = "LOG_KEY")]
    pub key: PathBuf,
    /// The log's origin, a schema-less URL such as `lab.example.org/seqprov`.
    #[arg(long, value_name = "ORIGIN")]
    pub origin: String,
}

/// `seqprov log serve`.
#[derive(Args, Debug)]
pub struct LogServeArgs {
    /// The log directory (`seqprov log init`).
    pub dir: PathBuf,
    /// The address to listen on, exactly (e.g. 127.0.0.1:8080; port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// Append only submissions whose signer this policy trusts (spec/policy.md).
    #[arg(long, value_name = "POLICY.toml")]
    pub allow: Option<PathBuf>,
    /// A witness to ask for a cosignature of every new checkpoint (its tlog-witness base
    /// URL); repeatable, each with its --witness-key in the same order.
    #[arg(long, value_name = "URL")]
    pub witness: Vec<String>,
    /// The verifier key of the witness named by the --witness at the same position.
    #[arg(long, value_name = "VKEY")]
    pub witness_key: Vec<String>,
    /// Worker threads answering requests.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,
    /// With --witness: when the published checkpoint's newest cosignature is older than
    /// SECS (or it has none), send the same checkpoint to the witnesses again and publish
    /// it with their fresh cosignatures, even when no entries arrive (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(0..=31_536_000))]
    pub witness_refresh: u64,
}

/// `seqprov log submit`.
#[derive(Args, Debug)]
pub struct LogSubmitArgs {
    /// The bundle whose messages are submitted (receipts are appended to it).
    pub bundle: PathBuf,
    /// The logs (at least one).
    #[command(flatten)]
    pub log: LogSubmitTargets,
}

/// `seqprov log show`.
#[derive(Args, Debug)]
pub struct LogShowArgs {
    /// The log: a URL or a directory (a log directory or a copy of its public/ folder).
    #[arg(value_name = "URL_OR_DIR")]
    pub log: String,
    /// Only the entries whose run id or flow cell is ID.
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// The log's trusted vkey (repeatable) [default: the policy's [log] keys].
    #[arg(long, value_name = "VKEY")]
    pub log_key: Vec<String>,
    /// A lab policy whose [log] keys and witnesses are trusted.
    #[arg(long, value_name = "POLICY.toml")]
    pub policy: Option<PathBuf>,
    /// Seconds one request to the log may take, from connecting to the last byte of the
    /// answer (all requests together: at most 10 minutes).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub log_timeout: u64,
}

/// `seqprov log witness` (helper log-notes).
#[derive(Args, Debug)]
pub struct LogWitnessArgs {
    /// The witness's private key (a seqprov key file from `seqprov keygen`).
    #[arg(long, value_name = "WITNESS_KEY")]
    pub key: PathBuf,
    /// The witness's name, a schema-less URL such as `witness.example.org/w1`.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// A log to witness: its verifier key (`seqprov log init` prints it); repeatable.
    #[arg(long = "log-key", value_name = "VKEY", required = true)]
    pub log_key: Vec<String>,
    /// The directory where the witness keeps the last tree it cosigned for each log.
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,
    /// Serve add-checkpoint (tlog-witness) on this address, exactly (e.g. 127.0.0.1:8081;
    /// port 0 picks a free one), until SIGTERM or SIGINT.
    #[arg(
        long,
        value_name = "ADDR:PORT",
        required_unless_present = "log",
        conflicts_with = "log"
    )]
    pub listen: Option<std::net::SocketAddr>,
    /// Instead of serving: read this log's latest checkpoint and tiles (its URL or a copy
    /// of its directory), cosign the checkpoint if it extends the tree cosigned last, print
    /// the cosigned checkpoint, and exit.
    #[arg(long, value_name = "URL_OR_DIR")]
    pub log: Option<String>,
}
