//! `seqprov completions` and `seqprov man`, through the real binary: every command is
//! completed (and a real bash loads the script and completes with it), every page is
//! written, the `verify` page lists every flag, and `man --out` never replaces a file it
//! did not write nor writes through a symbolic link.

use std::fs;
use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;

fn seqprov() -> Command {
    Command::cargo_bin("seqprov").unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = seqprov().args(args).output().unwrap();
    assert!(out.status.success(), "seqprov {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The command names `--help` lists under "Commands:" (without `help`).
fn commands_in_help(args: &[&str]) -> Vec<String> {
    let help = stdout_of(args);
    let listed: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    assert!(listed.len() >= 2, "no commands found in {help}");
    listed
}

/// Every top-level command, as `--help` lists them; the list is checked against the
/// ones this change added, so a parse that found nothing cannot pass.
fn top_level_commands() -> Vec<String> {
    let names = commands_in_help(&["--help"]);
    for expected in ["keygen", "seal", "verify", "custody", "completions", "man"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    names
}

/// The flags of one command as its `--help` lists them (`--bundle`, `--json`, …).
fn long_flags_in_help(command: &str) -> Vec<String> {
    let help = stdout_of(&[command, "--help"]);
    let mut flags: Vec<String> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[' || c == ']')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_alphanumeric())
                .to_string()
        })
        .collect();
    flags.sort();
    flags.dedup();
    flags.retain(|f| f != "--help");
    flags
}

#[test]
fn every_shell_gets_a_script_naming_every_command() {
    let commands = top_level_commands();
    let custody = commands_in_help(&["custody", "--help"]);
    assert_eq!(custody, ["append", "show"]);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        for name in commands.iter().chain(&custody) {
            assert!(
                script.contains(name.as_str()),
                "the {shell} script does not complete `{name}`"
            );
        }
        for flag in ["--require-lineage", "--derived-from", "--wait-timeout"] {
            // fish names a long option without its dashes: `-l require-lineage`.
            let spelled = match shell {
                "fish" => format!("-l {}", &flag[2..]),
                _ => flag.to_string(),
            };
            assert!(script.contains(&spelled), "{shell} script lacks {spelled}");
        }
    }
    // The bash script defines one function per command path.
    let bash = stdout_of(&["completions", "bash"]);
    for name in &commands {
        // clap_complete spells a `-` inside a command name as it spells the separator
        // between commands: `hash-part` is `seqprov__subcmd__hash__subcmd__part`.
        let spelled = name.replace('-', "__subcmd__");
        assert!(
            bash.contains(&format!("seqprov__subcmd__{spelled})"))
                || bash.contains(&format!("seqprov__{spelled})")),
            "no bash case for {name}"
        );
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = seqprov().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("possible values: bash"), "{stderr}");
}

/// A real bash sources the script, registers it, and completes commands and flags with it.
#[test]
fn bash_loads_the_script_and_completes_with_it() {
    let bin = assert_cmd::cargo::cargo_bin("seqprov");
    let run = |body: &str| {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -e; source <(\"$SEQPROV\" completions bash); {body}"
            ))
            .env("SEQPROV", &bin)
            .output()
            .expect("bash runs");
        assert!(out.status.success(), "{body}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let registered = run("complete -p seqprov");
    assert!(
        registered.contains("-F _seqprov") && registered.trim_end().ends_with(" seqprov"),
        "{registered}"
    );
    let complete = |words: &str| {
        run(&format!(
            "COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
             _seqprov seqprov \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        ))
    };
    let commands = complete("seqprov ver");
    assert_eq!(
        commands.lines().collect::<Vec<_>>(),
        ["verify"],
        "{commands}"
    );
    let custody = complete("seqprov custody ''");
    assert!(
        custody.lines().any(|l| l == "append") && custody.lines().any(|l| l == "show"),
        "{custody}"
    );
    let flags = complete("seqprov verify --require");
    assert_eq!(
        flags.lines().collect::<Vec<_>>(),
        ["--require-lineage"],
        "{flags}"
    );
    let shells = complete("seqprov completions ''");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        assert!(shells.lines().any(|l| l == shell), "{shells}");
    }
}

/// A failed write (here: a full device) is one error line and exit 2, not a panic.
#[test]
fn a_failed_write_is_an_error_line_not_a_panic() {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("seqprov"))
        .args(["completions", "zsh"])
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("seqprov: error: writing to standard output"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// The roff text with its escapes undone where they matter for a search: `\-` is `-`,
/// font changes dropped.
fn plain(roff: &str) -> String {
    roff.replace("\\-", "-")
        .replace("\\fB", "")
        .replace("\\fI", "")
        .replace("\\fR", "")
        .replace("\\fP", "")
}

fn page_names(commands: &[String]) -> Vec<String> {
    let mut names = vec!["seqprov.1".to_string()];
    names.extend(commands.iter().map(|c| format!("seqprov-{c}.1")));
    names.extend([
        "seqprov-custody-append.1".into(),
        "seqprov-custody-show.1".into(),
        "seqprov-log-init.1".into(),
        "seqprov-log-serve.1".into(),
        "seqprov-log-show.1".into(),
        "seqprov-log-submit.1".into(),
        "seqprov-log-witness.1".into(),
    ]);
    names.sort();
    names
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn man_writes_one_page_per_command_and_verify_lists_its_flags() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("share/man/man1");
    let printed = stdout_of(&["man", "--out", out.to_str().unwrap()]);
    let commands = top_level_commands();
    let expected = page_names(&commands);
    assert_eq!(
        files_in(&out),
        expected,
        "no temporary file left, no page missing"
    );
    assert_eq!(printed.lines().count(), expected.len(), "{printed}");

    let verify = plain(&fs::read_to_string(out.join("seqprov-verify.1")).unwrap());
    assert!(verify.contains(".TH seqprov-verify 1"), "{verify}");
    assert!(
        verify.contains(env!("CARGO_PKG_VERSION")),
        "the page names the release"
    );
    let flags = long_flags_in_help("verify");
    assert!(flags.len() >= 14, "{flags:?}");
    for flag in &flags {
        assert!(
            verify.contains(flag.as_str()),
            "seqprov-verify.1 lacks {flag}"
        );
    }
    let top = plain(&fs::read_to_string(out.join("seqprov.1")).unwrap());
    for command in &commands {
        assert!(
            top.contains(&format!("seqprov-{command}(1)")),
            "seqprov.1 does not refer to seqprov-{command}(1)"
        );
    }
    let append = plain(&fs::read_to_string(out.join("seqprov-custody-append.1")).unwrap());
    assert!(append.contains("--derived-bundle"), "{append}");

    // A second run replaces its own pages.
    fs::write(
        out.join("seqprov-seal.1"),
        format!(
            "{}\nold page\n",
            ".\\\" Written by `seqprov man`; the next `seqprov man` replaces this file."
        ),
    )
    .unwrap();
    stdout_of(&["man", "--out", out.to_str().unwrap()]);
    let seal = fs::read_to_string(out.join("seqprov-seal.1")).unwrap();
    assert!(!seal.contains("old page") && seal.contains(".TH seqprov-seal 1"));
    assert_eq!(files_in(&out), expected);
}

/// Attack: a file `seqprov man` did not write sits at a page's name (a hand-edited page,
/// another package's) — refused, exit 2, it is unchanged and no page is written.
#[test]
fn man_refuses_to_replace_a_file_it_did_not_write() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("man1");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("seqprov-seal.1"), ".TH hand-written 1\n").unwrap();
    let result = seqprov()
        .args(["man", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2), "{result:?}");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("is not a page written by `seqprov man`; refusing to replace it"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(
        fs::read_to_string(out.join("seqprov-seal.1")).unwrap(),
        ".TH hand-written 1\n"
    );
    assert_eq!(files_in(&out), ["seqprov-seal.1"], "nothing else written");
}

/// Attack: a symbolic link at a page's name, leading to a file elsewhere (or nowhere):
/// refused, exit 2, the link and its target unchanged. And `--out` itself a link, or a
/// file: refused.
#[test]
fn man_never_writes_through_a_symbolic_link() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("man1");
    fs::create_dir(&out).unwrap();
    let victim = work.path().join("victim");
    // Even a link to a page `seqprov man` wrote is refused, not followed.
    fs::write(
        &victim,
        ".\\\" Written by `seqprov man`; the next `seqprov man` replaces this file.\nkeep\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&victim, out.join("seqprov.1")).unwrap();
    std::os::unix::fs::symlink(work.path().join("nowhere"), out.join("seqprov-man.1")).unwrap();
    let result = seqprov()
        .args(["man", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2), "{result:?}");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("is a symbolic link; refusing"), "{stderr}");
    assert!(fs::read_to_string(&victim).unwrap().ends_with("keep\n"));
    assert!(!work.path().join("nowhere").exists());
    assert_eq!(files_in(&out), ["seqprov-man.1", "seqprov.1"]);
    assert!(
        fs::symlink_metadata(out.join("seqprov.1"))
            .unwrap()
            .is_symlink()
    );

    // A directory at a page's name.
    let dirs = work.path().join("dirs");
    fs::create_dir_all(dirs.join("seqprov-verify.1")).unwrap();
    let result = seqprov()
        .args(["man", "--out", dirs.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2), "{result:?}");
    assert!(String::from_utf8_lossy(&result.stderr).contains("is not a regular file"));

    let link = work.path().join("man-link");
    std::os::unix::fs::symlink(work.path().join("elsewhere"), &link).unwrap();
    fs::create_dir(work.path().join("elsewhere")).unwrap();
    let result = seqprov()
        .args(["man", "--out", link.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2), "{result:?}");
    assert!(String::from_utf8_lossy(&result.stderr).contains("is a symbolic link"));
    assert_eq!(
        fs::read_dir(work.path().join("elsewhere")).unwrap().count(),
        0
    );

    let file = work.path().join("a-file");
    fs::write(&file, "x").unwrap();
    let result = seqprov()
        .args(["man", "--out", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2), "{result:?}");
    assert!(String::from_utf8_lossy(&result.stderr).contains("is not a directory"));
}
