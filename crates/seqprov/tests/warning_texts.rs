//! Every warning a report can carry is listed in `spec/report.md` §2.4, and the code emits
//! no warning the spec does not list (issue 12 item 20: the list was incomplete and two
//! texts differed from the binary).

use std::fs;
use std::path::Path;

use seqprov::report::WARNING_PREFIXES;

fn repository() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The text of `spec/report.md` §2.4.
fn warnings_section() -> String {
    let spec = fs::read_to_string(repository().join("spec/report.md")).unwrap();
    let start = spec.find("### 2.4").expect("report.md has §2.4");
    let end = spec[start..].find("### 2.5").expect("report.md has §2.5") + start;
    // Joined lines: a listed text may be wrapped.
    spec[start..end]
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_spec_lists_every_warning_prefix() {
    let section = warnings_section();
    for prefix in WARNING_PREFIXES {
        assert!(
            section.contains(&format!("`{prefix}")),
            "spec/report.md §2.4 does not list warnings beginning {prefix:?}"
        );
    }
}

/// The literal text that begins the first string after `at` in `code` (up to the first
/// `{` placeholder, escaped line break or closing quote).
fn literal_start(code: &str, at: usize) -> Option<String> {
    let open = code[at..].find('"')? + at + 1;
    let text: String = code[open..]
        .chars()
        .take_while(|&c| c != '{' && c != '"' && c != '\\')
        .collect();
    Some(text)
}

#[test]
fn the_code_emits_no_warning_the_spec_does_not_list() {
    let sources = [
        "crates/seqprov/src/bundle_checks.rs",
        "crates/seqprov/src/chain.rs",
        "crates/seqprov/src/verify.rs",
        "crates/seqprov/src/verify_proof.rs",
        "crates/seqprov/src/verify_range.rs",
    ];
    let mut found = 0;
    for source in sources {
        let code = fs::read_to_string(repository().join(source)).unwrap();
        let code = code.split("#[cfg(test)]").next().unwrap();
        // Pushes onto a report's warnings, and `seal_warnings`' own list.
        let mut starts: Vec<usize> = code
            .match_indices("warnings.push(")
            .map(|(i, _)| i)
            .collect();
        if let Some(fn_at) = code.find("fn seal_warnings") {
            let body_end = code[fn_at..].find("\n}\n").unwrap() + fn_at;
            starts.extend(
                code[fn_at..body_end]
                    .match_indices("out.push(")
                    .map(|(i, _)| i + fn_at),
            );
        }
        for at in starts {
            let call_end = code[at..].find(';').unwrap() + at;
            let Some(text) = literal_start(&code[..call_end], at) else {
                continue; // a warning built elsewhere (checked where it is built)
            };
            if text.is_empty() {
                continue;
            }
            found += 1;
            assert!(
                WARNING_PREFIXES
                    .iter()
                    .any(|p| text.starts_with(p) || p.starts_with(&text)),
                "{source}: a warning beginning {text:?} is not in WARNING_PREFIXES"
            );
        }
    }
    assert!(
        found >= 10,
        "found only {found} warning texts: the scan is broken"
    );
    let link = seqprov::seal::external_link_warning("a", "/b");
    assert!(
        WARNING_PREFIXES.iter().any(|p| link.starts_with(p)),
        "{link}"
    );
}
