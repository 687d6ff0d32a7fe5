//! The JSON Schemas of `spec/report.md` §8 know every verdict, finding class and policy
//! rule the code can print (issue 12: the schema lacked `range_verified`, the `ok` rows and
//! `file` member of proof reports, and the `run_mismatch` and `external_symlinks` rules,
//! and nothing noticed). The interoperability tier validates real outputs against the
//! same schemas (`tests/python/check_report_schema.py`); this test needs no Python.

use std::fs;
use std::path::Path;

use seqprov::report::{FileClass, Verdict};
use serde_json::Value;

fn repository() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The schemas of §8, as printed there.
fn schemas() -> Vec<Value> {
    let spec = fs::read_to_string(repository().join("spec/report.md")).unwrap();
    let start = spec.find("\n## 8. JSON Schema").expect("report.md has §8");
    let end = spec[start..].find("\n## 9.").expect("report.md has §9") + start;
    spec[start..end]
        .split("```json\n")
        .skip(1)
        .map(|block| {
            let json = &block[..block.find("\n```").expect("a closed block")];
            serde_json::from_str(json).expect("each schema in §8 is JSON")
        })
        .collect()
}

fn report_schema() -> Value {
    schemas()
        .into_iter()
        .find(|s| {
            s["$id"]
                .as_str()
                .unwrap_or_default()
                .ends_with("/report-v1.schema.json")
        })
        .expect("§8 has the report schema")
}

fn enum_of(value: &Value) -> Vec<String> {
    value["enum"]
        .as_array()
        .expect("an enum")
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

fn name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

/// Every verdict; the `match` has no wildcard, so a new variant does not compile here
/// until it is added to the list.
fn all_verdicts() -> Vec<Verdict> {
    let all = vec![
        Verdict::Verified,
        Verdict::RangeVerified,
        Verdict::IntegrityFailure,
        Verdict::Untrusted,
        Verdict::PolicyNotSatisfied,
        Verdict::Error,
    ];
    for v in &all {
        match v {
            Verdict::Verified
            | Verdict::RangeVerified
            | Verdict::IntegrityFailure
            | Verdict::Untrusted
            | Verdict::PolicyNotSatisfied
            | Verdict::Error => {}
        }
    }
    all
}

/// Every finding class, likewise.
fn all_classes() -> Vec<FileClass> {
    let all = vec![
        FileClass::Ok,
        FileClass::Modified,
        FileClass::Missing,
        FileClass::Extra,
        FileClass::Moved,
        FileClass::TypeChanged,
        FileClass::Recompressed,
    ];
    for c in &all {
        match c {
            FileClass::Ok
            | FileClass::Modified
            | FileClass::Missing
            | FileClass::Extra
            | FileClass::Moved
            | FileClass::TypeChanged
            | FileClass::Recompressed => {}
        }
    }
    all
}

#[test]
fn the_schema_knows_every_verdict_and_finding_class() {
    let schema = report_schema();
    let verdicts = enum_of(&schema["properties"]["verdict"]);
    for v in all_verdicts() {
        assert!(verdicts.contains(&name(v)), "verdict {} not in §8", name(v));
    }
    let classes = enum_of(&schema["$defs"]["finding"]["properties"]["class"]);
    for c in all_classes() {
        assert!(classes.contains(&name(c)), "class {} not in §8", name(c));
    }
    assert!(
        schema["$defs"]["finding"]["properties"]["file"].is_object(),
        "the finding's `file` member is not in §8"
    );
}

/// The rule names the library reports: the first string literal after each
/// `RuleFailure::new(` in crates/seqprov/src.
fn rules_in_code() -> Vec<String> {
    let mut rules = Vec::new();
    let mut dirs = vec![repository().join("crates/seqprov/src")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let code = fs::read_to_string(&path).unwrap();
                for (at, _) in code.match_indices("RuleFailure::new(") {
                    let rest = &code[at + "RuleFailure::new(".len()..];
                    let rest = rest.trim_start();
                    if let Some(literal) = rest.strip_prefix('"') {
                        let rule = &literal[..literal.find('"').unwrap()];
                        if !rules.iter().any(|r| r == rule) {
                            rules.push(rule.to_string());
                        }
                    }
                }
            }
        }
    }
    rules
}

#[test]
fn the_schema_and_the_rule_table_know_every_policy_rule() {
    let rules = rules_in_code();
    assert!(rules.len() >= 10, "found only {rules:?}");
    let schema = enum_of(&report_schema()["$defs"]["rule_failure"]["properties"]["rule"]);
    let spec = fs::read_to_string(repository().join("spec/report.md")).unwrap();
    let start = spec.find("### 2.5").unwrap();
    let table = &spec[start..start + spec[start..].find("\n### ").unwrap_or(4000)];
    for rule in &rules {
        assert!(schema.contains(rule), "rule {rule} is not in the §8 schema");
        assert!(
            table.contains(&format!("`{rule}`")),
            "rule {rule} is not in report.md §2.5"
        );
    }
}

/// The members `verify --log` prints (`log_online`, report.md §2.10) and their entry
/// objects are exactly the ones the schema requires and knows.
#[test]
fn the_schema_knows_every_member_of_the_online_log_check() {
    use seqprov::log_online::{
        Freshness, FreshnessStatus, ListedEntry, OnlineCheck, ReceiptConsistency, ReceiptStatus,
        Rollback, WitnessCosignature,
    };
    let entry = ListedEntry {
        index: 3,
        kind: "custody".into(),
        covers: 2,
        run: Some("RUN".into()),
        flowcell: Some("FC".into()),
        seal: "00".repeat(32),
        message: "11".repeat(32),
        signer: "22".repeat(32),
    };
    let check = OnlineCheck {
        log: "http://127.0.0.1:1".into(),
        origin: "lab.example.org/seqprov".into(),
        size: 4,
        root: "33".repeat(32),
        witnesses: vec!["w.example".into()],
        freshness: Freshness {
            status: FreshnessStatus::Proven,
            max_age: Some(3600),
            checked_at: 1_800_000_000,
            cosignatures: vec![WitnessCosignature {
                witness: "w.example".into(),
                time: 1_799_999_000,
            }],
            fresh_witnesses: vec!["w.example".into()],
            detail: "z".into(),
        },
        receipts: vec![ReceiptConsistency {
            covers: 0,
            index: 0,
            size: 1,
            status: ReceiptStatus::Fork,
            detail: "x".into(),
        }],
        seal_logged: true,
        entries: vec![entry.clone()],
        rollback: vec![Rollback {
            entry: entry.clone(),
            detail: "y".into(),
        }],
        other_seals: vec![entry.clone()],
        untrusted_entries: vec![entry.clone()],
        unreadable_entries: 0,
        // Reported as a rule failure, never as a member of `log_online`.
        revoked_signer_events: vec![Rollback {
            entry,
            detail: "w".into(),
        }],
    };
    let json = serde_json::to_value(&check).unwrap();
    let schema = report_schema();
    assert_eq!(
        schema["properties"]["log_online"]["items"]["$ref"],
        "#/$defs/log_online"
    );
    let defs = &schema["$defs"];
    let keys_of = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let required_of = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(keys_of(&json), required_of(&defs["log_online"]));
    assert_eq!(keys_of(&json), keys_of(&defs["log_online"]["properties"]));
    let entry_keys = keys_of(&json["entries"][0]);
    assert_eq!(entry_keys, keys_of(&defs["log_entry"]["properties"]));
    let receipt = &defs["log_online"]["properties"]["receipts"]["items"];
    assert_eq!(keys_of(&json["receipts"][0]), required_of(receipt));
    let statuses = enum_of(&receipt["properties"]["status"]);
    for s in [
        ReceiptStatus::Consistent,
        ReceiptStatus::Fork,
        ReceiptStatus::NotSigned,
    ] {
        assert!(statuses.contains(&name(s)), "status {} not in §8", name(s));
    }
    let freshness = &defs["log_online"]["properties"]["freshness"];
    assert_eq!(
        keys_of(&json["freshness"]),
        keys_of(&freshness["properties"])
    );
    assert_eq!(
        keys_of(&json["freshness"]["cosignatures"][0]),
        required_of(&freshness["properties"]["cosignatures"]["items"])
    );
    let statuses = enum_of(&freshness["properties"]["status"]);
    for s in [
        FreshnessStatus::Proven,
        FreshnessStatus::NotProven,
        FreshnessStatus::NotRequired,
    ] {
        assert!(
            statuses.contains(&name(s)),
            "freshness {} not in §8",
            name(s)
        );
    }
    let unchecked = serde_json::to_value(seqprov::log_online::UncheckedReceipt {
        covers: 1,
        log: "lab.example.org/seqprov".into(),
    })
    .unwrap();
    assert_eq!(
        schema["properties"]["log_unchecked"]["items"]["$ref"],
        "#/$defs/log_unchecked"
    );
    assert_eq!(keys_of(&unchecked), required_of(&defs["log_unchecked"]));
    assert_eq!(
        keys_of(&unchecked),
        keys_of(&defs["log_unchecked"]["properties"])
    );
}

/// Every receipt status the library reports is in the `log_receipts` schema of §8 and
/// the table of §2.9; the `match` has no wildcard, so a new status does not compile here
/// until it is listed.
#[test]
fn the_schema_knows_every_log_receipt_status() {
    use seqprov::log_receipt_checks::ReceiptStatus;
    let all = [
        ReceiptStatus::Counted,
        ReceiptStatus::Unwitnessed,
        ReceiptStatus::UntrustedLog,
        ReceiptStatus::Invalid,
        ReceiptStatus::Modified,
    ];
    for s in &all {
        match s {
            ReceiptStatus::Counted
            | ReceiptStatus::Unwitnessed
            | ReceiptStatus::UntrustedLog
            | ReceiptStatus::Invalid
            | ReceiptStatus::Modified => {}
        }
    }
    let schema = report_schema();
    let item = &schema["properties"]["log_receipts"]["items"];
    let statuses = enum_of(&item["properties"]["status"]);
    let spec = fs::read_to_string(repository().join("spec/report.md")).unwrap();
    let start = spec
        .find("### 2.9 `log_receipts`")
        .expect("report.md has §2.9");
    let table = &spec[start..start + spec[start..].find("\n## ").unwrap()];
    for s in all {
        assert!(statuses.contains(&name(s)), "status {} not in §8", name(s));
        assert!(
            table.contains(&format!("`{}`", name(s))),
            "status {} not in §2.9",
            name(s)
        );
    }
}
