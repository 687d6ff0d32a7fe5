//! Keys that never touch the disk, through the real binary: a real SoftHSM2 token
//! (PKCS#11) and a real OpenSSH `ssh-agent`. Each test makes its own token directory and
//! `SOFTHSM2_CONF`, or its own agent, and removes them at the end.
//!
//! They need Debian's `softhsm2` and `openssh-client`, so they run only when
//! `SEQPROV_TOKEN_TESTS=1` is set (as `.ci/run` does, after installing them); then a
//! missing tool FAILS the test instead of skipping it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use assert_cmd::Command;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use seqprov::KeyStorage;

const PIN: &str = "123456";
const SO_PIN: &str = "87654321";

/// Whether the token tier runs (CI sets `SEQPROV_TOKEN_TESTS=1`).
fn enabled(test: &str) -> bool {
    let on = std::env::var("SEQPROV_TOKEN_TESTS").as_deref() == Ok("1");
    if !on {
        eprintln!("skipping {test}: set SEQPROV_TOKEN_TESTS=1 (needs softhsm2, openssh-client)");
    }
    on
}

/// The SoftHSM2 module; a missing one fails the test (the tier is switched on).
fn softhsm_module() -> PathBuf {
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
    .expect("SEQPROV_TOKEN_TESTS=1 but libsofthsm2.so is not installed (apt-get install softhsm2)")
}

/// A SoftHSM2 token of this test's own, in a temporary directory.
struct Token {
    dir: tempfile::TempDir,
    conf: PathBuf,
    module: PathBuf,
    label: &'static str,
}

impl Token {
    fn new() -> Token {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let label = "seqprov-test";
        let status = std::process::Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args(["--init-token", "--free", "--label", label])
            .args(["--pin", PIN, "--so-pin", SO_PIN])
            .stdout(Stdio::null())
            .status()
            .expect(
                "SEQPROV_TOKEN_TESTS=1 but softhsm2-util cannot run (apt-get install softhsm2)",
            );
        assert!(status.success(), "softhsm2-util --init-token failed");
        Token {
            dir,
            conf,
            module: softhsm_module(),
            label,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn uri(&self, object: &str) -> String {
        format!("pkcs11:token={};object={object}", self.label)
    }

    /// `seqprov` with this token's configuration, module and PIN in the environment.
    fn seqprov(&self) -> Command {
        let mut command = Command::cargo_bin("seqprov").unwrap();
        command
            .env("SOFTHSM2_CONF", &self.conf)
            .env("SEQPROV_PKCS11_MODULE", &self.module)
            .env("SEQPROV_PKCS11_PIN", PIN)
            .env_remove("SSH_AUTH_SOCK");
        command
    }

    /// `keygen --pkcs11` of a key labelled `object`; returns the .pub path.
    fn keygen(&self, object: &str) -> PathBuf {
        let out = self.path(object);
        self.seqprov()
            .args(["keygen", "--pkcs11", &self.uri(object), "--out"])
            .arg(&out)
            .assert()
            .code(0);
        self.path(&format!("{object}.pub"))
    }

    /// A logged-in read-write session on the token, straight through cryptoki, held with
    /// the lock that keeps every other in-process use of the module out meanwhile.
    fn session(&self) -> TokenSession {
        let guard = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SoftHSM2 finds its token directory only through the SOFTHSM2_CONF environment
        // variable, read at C_Initialize, so this process must set it.
        // SAFETY: `set_var` is unsafe in edition 2024 because another thread could read the
        // environment at the same moment; in this file only this function touches
        // SOFTHSM2_CONF in-process, under ENV_LOCK (the seqprov commands get it through
        // `Command::env`, which does not touch this process's environment).
        unsafe { std::env::set_var("SOFTHSM2_CONF", &self.conf) };
        let context = Pkcs11::new(&self.module).unwrap();
        context
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .unwrap();
        let slot = context
            .get_slots_with_token()
            .unwrap()
            .into_iter()
            .find(|slot| context.get_token_info(*slot).unwrap().label() == self.label)
            .unwrap();
        let session = context.open_rw_session(slot).unwrap();
        session
            .login(UserType::User, Some(&AuthPin::from(PIN)))
            .unwrap();
        TokenSession {
            session,
            _context: context,
            _guard: guard,
        }
    }
}

/// A cryptoki session; dropped in field order: the session, then the module (finalised),
/// then the lock.
struct TokenSession {
    session: cryptoki::session::Session,
    _context: Pkcs11,
    _guard: std::sync::MutexGuard<'static, ()>,
}

static ENV_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A small folder to seal.
fn run_folder(parent: &Path) -> PathBuf {
    let dir = parent.join("run");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("S1_R1.fastq"), "@r1\nACGT\n+\nIIII\n").unwrap();
    fs::write(dir.join("SampleSheet.csv"), "[Data]\nSample_ID\nS1\n").unwrap();
    dir
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One clear line on stderr, containing `expected`.
fn assert_one_error_line(output: &std::process::Output, expected: &str) {
    let stderr = stderr_of(output);
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
    assert!(stderr.starts_with("seqprov: error: "), "{stderr}");
    assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
}

fn seal_storage(bundle: &Path) -> Option<KeyStorage> {
    seqprov::read_bundle(bundle)
        .unwrap()
        .payload
        .signer
        .key_storage
}

#[test]
fn a_token_key_seals_appends_receives_exports_and_verifies_with_its_pub() {
    if !enabled("a_token_key_seals_appends_receives_exports_and_verifies_with_its_pub") {
        return;
    }
    let token = Token::new();
    let core_pub = token.keygen("core");
    let courier_pub = token.keygen("courier");
    // Only the public half is written.
    assert!(!token.path("core.key").exists());
    let text = fs::read_to_string(&core_pub).unwrap();
    assert!(text.contains("BEGIN PUBLIC KEY") && !text.contains("PRIVATE"));

    let run = run_folder(token.dir.path());
    let bundle = token.path("run.seqprov");
    token
        .seqprov()
        .args(["seal"])
        .arg(&run)
        .args(["--key", &token.uri("core"), "--out"])
        .arg(&bundle)
        .assert()
        .code(0);
    assert_eq!(seal_storage(&bundle), Some(KeyStorage::Pkcs11));
    let output = token
        .seqprov()
        .arg("verify")
        .arg(&run)
        .arg("--bundle")
        .arg(&bundle)
        .arg("--trust")
        .arg(&core_pub)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["seal"]["key_storage"], "pkcs11");
    token
        .seqprov()
        .arg("show")
        .arg(&bundle)
        .assert()
        .code(0)
        .stdout(predicates::str::contains(
            "key held:  pkcs11 (as claimed by the signer)",
        ));

    token
        .seqprov()
        .args(["custody", "append"])
        .arg(&bundle)
        .args(["--key", &token.uri("courier"), "--kind", "transfer"])
        .args(["--to", "Genomics lab", "--role", "courier"])
        .assert()
        .code(0);
    token
        .seqprov()
        .arg("receive")
        .arg(&run)
        .arg("--bundle")
        .arg(&bundle)
        .args(["--key", &token.uri("courier"), "--role", "lab"])
        .arg("--trust")
        .arg(&core_pub)
        .arg("--trust")
        .arg(&courier_pub)
        .assert()
        .code(0);
    let parsed = seqprov::read_bundle(&bundle).unwrap();
    assert_eq!(parsed.events.len(), 2);
    for event in &parsed.events {
        let payload = seqprov::format::event::EventPayload::from_cbor(event.payload()).unwrap();
        assert_eq!(payload.signer.key_storage, Some(KeyStorage::Pkcs11));
    }
    let output = token
        .seqprov()
        .args(["custody", "show", "--json"])
        .arg(&bundle)
        .output()
        .unwrap();
    let timeline: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for event in timeline["events"].as_array().unwrap() {
        assert_eq!(event["key_storage"], "pkcs11", "{event}");
    }
    token
        .seqprov()
        .arg("verify")
        .arg(&run)
        .arg("--bundle")
        .arg(&bundle)
        .arg("--trust")
        .arg(&core_pub)
        .arg("--trust")
        .arg(&courier_pub)
        .assert()
        .code(0);
    // Without the courier's key the events' signer is untrusted: the keys are really used.
    token
        .seqprov()
        .arg("verify")
        .arg(&run)
        .arg("--bundle")
        .arg(&bundle)
        .arg("--trust")
        .arg(&core_pub)
        .assert()
        .code(3);

    // The in-toto envelope signed on the token verifies with the exported public key.
    let output = token
        .seqprov()
        .arg("export")
        .arg(&bundle)
        .args(["--format", "in-toto", "--key", &token.uri("core")])
        .arg("--trust")
        .arg(&core_pub)
        .arg("--trust")
        .arg(&courier_pub)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let envelope: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let decode = |field: &serde_json::Value| {
        use base64ct::Encoding;
        base64ct::Base64::decode_vec(field.as_str().unwrap()).unwrap()
    };
    let statement = decode(&envelope["payload"]);
    let signature = decode(&envelope["signatures"][0]["sig"]);
    let public = seqprov::PublicKey::load(&core_pub).unwrap();
    let pae = seqprov::export::pae("application/vnd.in-toto+json", &statement);
    public.verify_strict(&pae, &signature).unwrap();
    assert_eq!(
        envelope["signatures"][0]["keyid"].as_str().unwrap(),
        public.id().to_hex()
    );

    // `pubkey` of the token key gives the same key as keygen wrote.
    let exported = token.path("exported.pub");
    token
        .seqprov()
        .args(["pubkey", &token.uri("core"), "--out"])
        .arg(&exported)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("held in:    pkcs11"));
    assert_eq!(
        seqprov::PublicKey::load(&exported).unwrap().id(),
        public.id()
    );
    // The module may also come from --pkcs11-module or the URI's module-path.
    let by_flag = token.path("by-flag.pub");
    token
        .seqprov()
        .env_remove("SEQPROV_PKCS11_MODULE")
        .args(["pubkey", &token.uri("core"), "--pkcs11-module"])
        .arg(&token.module)
        .arg("--out")
        .arg(&by_flag)
        .assert()
        .code(0);
    let by_uri = token.path("by-uri.pub");
    token
        .seqprov()
        .env_remove("SEQPROV_PKCS11_MODULE")
        .arg("pubkey")
        .arg(format!(
            "{}?module-path={}",
            token.uri("core"),
            token.module.display()
        ))
        .arg("--out")
        .arg(&by_uri)
        .assert()
        .code(0);
    for path in [by_flag, by_uri] {
        assert_eq!(seqprov::PublicKey::load(&path).unwrap().id(), public.id());
    }
}

#[test]
fn the_token_key_is_sensitive_and_not_extractable() {
    if !enabled("the_token_key_is_sensitive_and_not_extractable") {
        return;
    }
    let token = Token::new();
    token.keygen("core");
    let held = token.session();
    let session = &held.session;
    let keys = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(b"core".to_vec()),
        ])
        .unwrap();
    assert_eq!(keys.len(), 1);
    let attributes = session
        .get_attributes(
            keys[0],
            &[
                AttributeType::Extractable,
                AttributeType::Sensitive,
                AttributeType::NeverExtractable,
                AttributeType::Token,
                AttributeType::Decrypt,
            ],
        )
        .unwrap();
    for attribute in &attributes {
        match attribute {
            Attribute::Extractable(value) => assert!(!value, "CKA_EXTRACTABLE"),
            Attribute::Sensitive(value) => assert!(value, "CKA_SENSITIVE"),
            Attribute::NeverExtractable(value) => assert!(value, "CKA_NEVER_EXTRACTABLE"),
            Attribute::Token(value) => assert!(value, "CKA_TOKEN"),
            Attribute::Decrypt(value) => assert!(!value, "CKA_DECRYPT"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(attributes.len(), 5);
    // The key's value cannot be read.
    let value = session
        .get_attributes(keys[0], &[AttributeType::Value])
        .unwrap();
    assert!(
        value.is_empty(),
        "the token gave out the private key: {value:?}"
    );
}

#[test]
fn wrong_pin_missing_module_and_unknown_object_are_exit_2_with_one_line() {
    if !enabled("wrong_pin_missing_module_and_unknown_object_are_exit_2_with_one_line") {
        return;
    }
    let token = Token::new();
    token.keygen("core");
    let run = run_folder(token.dir.path());
    let bundle = token.path("run.seqprov");
    let seal = |command: &mut Command, object: &str| {
        command
            .arg("seal")
            .arg(&run)
            .args(["--key", &token.uri(object), "--out"])
            .arg(&bundle)
            .output()
            .unwrap()
    };
    let output = seal(token.seqprov().env("SEQPROV_PKCS11_PIN", "000000"), "core");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "refused the PIN (CKR_PIN_INCORRECT)");

    let output = seal(
        token
            .seqprov()
            .env("SEQPROV_PKCS11_MODULE", token.path("no-such-module.so")),
        "core",
    );
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "no-such-module.so: no such file");

    let output = seal(token.seqprov().env_remove("SEQPROV_PKCS11_MODULE"), "core");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "no module named");

    let output = seal(&mut token.seqprov(), "nobody");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "has no Ed25519 private key object \"nobody\"");

    // A PIN in the URI is refused before anything is loaded.
    let output = token
        .seqprov()
        .arg("seal")
        .arg(&run)
        .args(["--key", "pkcs11:object=core?pin-value=123456", "--out"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "the PIN never goes on the command line");
    assert!(!bundle.exists(), "no bundle is written on any of these");

    // keygen refuses a label already on the token, and makes nothing.
    let output = token
        .seqprov()
        .args(["keygen", "--pkcs11", &token.uri("core"), "--out"])
        .arg(token.path("again"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "already holds an object labelled \"core\"");
    assert!(!token.path("again.pub").exists());
}

#[test]
fn a_token_that_signs_with_another_key_is_refused_and_nothing_is_written() {
    if !enabled("a_token_that_signs_with_another_key_is_refused_and_nothing_is_written") {
        return;
    }
    let token = Token::new();
    let core_pub = token.keygen("core");
    token.keygen("other");
    let run = run_folder(token.dir.path());
    let bundle = token.path("run.seqprov");
    token
        .seqprov()
        .arg("seal")
        .arg(&run)
        .args(["--key", &token.uri("core"), "--out"])
        .arg(&bundle)
        .assert()
        .code(0);
    let before = fs::read(&bundle).unwrap();
    // Swap the public key objects: the token now presents "other"'s public key under the
    // label "core", while the private key labelled "core" still signs with core's key.
    {
        let held = token.session();
        let session = &held.session;
        let public = |label: &[u8]| {
            session
                .find_objects(&[
                    Attribute::Class(ObjectClass::PUBLIC_KEY),
                    Attribute::Label(label.to_vec()),
                ])
                .unwrap()[0]
        };
        let (core, other) = (public(b"core"), public(b"other"));
        session.destroy_object(core).unwrap();
        session
            .update_attributes(other, &[Attribute::Label(b"core".to_vec())])
            .unwrap();
    }
    let output = token
        .seqprov()
        .args(["custody", "append"])
        .arg(&bundle)
        .args(["--key", &token.uri("core"), "--kind", "attest"])
        .args(["--meaning", "review"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "does not verify; nothing was signed");
    assert_eq!(fs::read(&bundle).unwrap(), before, "bundle unchanged");

    let second = token.path("second.seqprov");
    let output = token
        .seqprov()
        .arg("seal")
        .arg(&run)
        .args(["--key", &token.uri("core"), "--out"])
        .arg(&second)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "signing failed");
    assert!(!second.exists());
    // The first bundle still verifies with the real key.
    token
        .seqprov()
        .arg("verify")
        .arg(&run)
        .arg("--bundle")
        .arg(&bundle)
        .arg("--trust")
        .arg(&core_pub)
        .assert()
        .code(0);
}

/// A policy trusting `key` in every role, requiring `key_storage`.
fn policy_requiring(dir: &Path, key: &Path, storage: &str) -> PathBuf {
    let path = dir.join(format!("policy-{storage}.toml"));
    fs::write(
        &path,
        format!(
            "version = 1\n[[signer]]\nname = \"Core\"\nkey = \"{}\"\nroles = [\"*\"]\nkey_storage = \"{storage}\"\n",
            key.display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_policy_requiring_a_token_refuses_a_key_file_seal_with_exit_3() {
    if !enabled("a_policy_requiring_a_token_refuses_a_key_file_seal_with_exit_3") {
        return;
    }
    let token = Token::new();
    let token_pub = token.keygen("core");
    let run = run_folder(token.dir.path());
    let token_bundle = token.path("token.seqprov");
    token
        .seqprov()
        .arg("seal")
        .arg(&run)
        .args(["--key", &token.uri("core"), "--out"])
        .arg(&token_bundle)
        .assert()
        .code(0);
    // The same lab with a key file: the claim is absent.
    token
        .seqprov()
        .args(["keygen", "--out"])
        .arg(token.path("file"))
        .assert()
        .code(0);
    let file_bundle = token.path("file.seqprov");
    token
        .seqprov()
        .arg("seal")
        .arg(&run)
        .arg("--key")
        .arg(token.path("file.key"))
        .arg("--out")
        .arg(&file_bundle)
        .assert()
        .code(0);
    assert_eq!(seal_storage(&file_bundle), None);

    let verify = |bundle: &Path, policy: &Path| {
        token
            .seqprov()
            .arg("verify")
            .arg(&run)
            .arg("--bundle")
            .arg(bundle)
            .arg("--policy")
            .arg(policy)
            .arg("--json")
            .output()
            .unwrap()
    };
    let output = verify(
        &token_bundle,
        &policy_requiring(token.dir.path(), &token_pub, "token"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let output = verify(
        &file_bundle,
        &policy_requiring(token.dir.path(), &token.path("file.pub"), "token"),
    );
    assert_eq!(output.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["policy"][0]["rule"], "key_storage_not_allowed");
    assert_eq!(report["policy"][0]["subject"], "seal");
    // Without the requirement the key-file seal is trusted as before.
    let output = verify(
        &file_bundle,
        &policy_requiring(token.dir.path(), &token.path("file.pub"), "any"),
    );
    assert_eq!(output.status.code(), Some(0));
}

/// A real `ssh-agent` on a socket of the test's own, stopped when dropped.
struct Agent {
    dir: tempfile::TempDir,
    socket: PathBuf,
    child: Child,
}

impl Agent {
    fn start() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("agent.sock");
        let child = std::process::Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "SEQPROV_TOKEN_TESTS=1 but ssh-agent cannot run (apt-get install openssh-client)",
            );
        for _ in 0..200 {
            if socket.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        assert!(socket.exists(), "ssh-agent made no socket");
        Agent { dir, socket, child }
    }

    /// Make an Ed25519 key with ssh-keygen, add it with ssh-add; its SHA256 fingerprint.
    fn add_key(&self, name: &str) -> String {
        let key = self.dir.path().join(name);
        let status = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(status.success());
        let status = std::process::Command::new("ssh-add")
            .env("SSH_AUTH_SOCK", &self.socket)
            .arg("-q")
            .arg(&key)
            .status()
            .unwrap();
        assert!(status.success(), "ssh-add failed");
        let output = std::process::Command::new("ssh-keygen")
            .arg("-l")
            .arg("-f")
            .arg(key.with_extension("pub"))
            .output()
            .unwrap();
        let line = String::from_utf8(output.stdout).unwrap();
        line.split_whitespace().nth(1).unwrap().to_string()
    }

    fn seqprov(&self) -> Command {
        let mut command = Command::cargo_bin("seqprov").unwrap();
        command.env("SSH_AUTH_SOCK", &self.socket);
        command
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_ssh_agent_key_seals_appends_and_verifies() {
    if !enabled("an_ssh_agent_key_seals_appends_and_verifies") {
        return;
    }
    let agent = Agent::start();
    let fingerprint = agent.add_key("courier");
    let key = format!("ssh-agent:{fingerprint}");
    let public = agent.dir.path().join("courier.pub.pem");
    agent
        .seqprov()
        .args(["pubkey", &key, "--out"])
        .arg(&public)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("held in:    ssh-agent"));
    let run = run_folder(agent.dir.path());
    let bundle = agent.dir.path().join("run.seqprov");
    agent
        .seqprov()
        .arg("seal")
        .arg(&run)
        .args(["--key", &key, "--out"])
        .arg(&bundle)
        .assert()
        .code(0);
    assert_eq!(seal_storage(&bundle), Some(KeyStorage::SshAgent));
    agent
        .seqprov()
        .args(["custody", "append"])
        .arg(&bundle)
        .args(["--key", &key, "--kind", "transfer", "--to", "lab"])
        .assert()
        .code(0);
    agent
        .seqprov()
        .arg("verify")
        .arg(&run)
        .arg("--bundle")
        .arg(&bundle)
        .arg("--trust")
        .arg(&public)
        .assert()
        .code(0);
    // A policy requiring a token does not take the agent's claim; token-or-agent does.
    let verify = |storage: &str| {
        agent
            .seqprov()
            .arg("verify")
            .arg(&run)
            .arg("--bundle")
            .arg(&bundle)
            .arg("--policy")
            .arg(policy_requiring(agent.dir.path(), &public, storage))
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(verify("token"), Some(3));
    assert_eq!(verify("token-or-agent"), Some(0));

    // A key the agent does not hold, and no agent at all: exit 2, one line.
    let output = agent
        .seqprov()
        .arg("seal")
        .arg(&run)
        .args([
            "--key",
            "ssh-agent:SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ])
        .arg("--out")
        .arg(agent.dir.path().join("x.seqprov"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "the agent holds no key with fingerprint");
    let output = agent
        .seqprov()
        .env_remove("SSH_AUTH_SOCK")
        .args(["pubkey", &key, "--out"])
        .arg(agent.dir.path().join("y.pub"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "SSH_AUTH_SOCK is not set");
}
