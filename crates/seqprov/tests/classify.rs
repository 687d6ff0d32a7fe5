//! The file classes of verification, through the library API an LIS embeds (the same
//! scenarios run through the binary in crates/seqprov-cli/tests/cli.rs).

use std::fs;

use seqprov::report::FileClass;
use seqprov::{Bundle, NoProgress, Policy, PrivateKey, SealOptions, VerifyOptions};

struct Sealed {
    _work: tempfile::TempDir,
    dir: std::path::PathBuf,
    bundle: Bundle,
    key: PrivateKey,
}

fn sealed() -> Sealed {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("run");
    fs::create_dir_all(dir.join("Data")).unwrap();
    fs::create_dir_all(dir.join("Empty")).unwrap();
    fs::write(dir.join("Data/a.bin"), vec![7u8; 5 << 20]).unwrap();
    fs::write(dir.join("notes.txt"), "sealed\n").unwrap();
    fs::write(dir.join("S1.fastq"), "@r\nACGT\n+\nIIII\n").unwrap();
    std::os::unix::fs::symlink("notes.txt", dir.join("link")).unwrap();
    let key = PrivateKey::from_seed(&[3; 32], None);
    let sealed = seqprov::seal_directory(&dir, &key, &SealOptions::default(), &NoProgress).unwrap();
    let bundle = Bundle::parse(&sealed.bundle).unwrap();
    Sealed {
        _work: work,
        dir,
        bundle,
        key,
    }
}

/// Verify and return the (path, class) of every finding and the exit code.
fn findings(s: &Sealed) -> (Vec<(String, FileClass)>, u8) {
    let policy = Policy::trusting(vec![s.key.public()]);
    let report = seqprov::verify_directory(
        &s.dir,
        &s.bundle,
        &policy,
        VerifyOptions::default(),
        &NoProgress,
    )
    .unwrap();
    (
        report
            .files
            .iter()
            .map(|f| (f.path.clone(), f.class))
            .collect(),
        report.exit_code,
    )
}

fn expect(s: &Sealed, path: &str, class: FileClass) {
    let (found, code) = findings(s);
    assert_eq!(found, [(path.to_string(), class)]);
    assert_eq!(code, 1);
}

#[test]
fn untouched_is_verified() {
    let s = sealed();
    assert_eq!(findings(&s), (vec![], 0));
}

#[test]
fn byte_changed_in_a_large_file_is_modified() {
    let s = sealed();
    let mut data = fs::read(s.dir.join("Data/a.bin")).unwrap();
    data[3 << 20] ^= 1;
    fs::write(s.dir.join("Data/a.bin"), data).unwrap();
    expect(&s, "Data/a.bin", FileClass::Modified);
}

#[test]
fn deleted_is_missing_and_added_is_extra() {
    let s = sealed();
    fs::remove_file(s.dir.join("notes.txt")).unwrap();
    fs::write(s.dir.join("Data/new.txt"), "x").unwrap();
    let (found, code) = findings(&s);
    assert_eq!(code, 1);
    assert!(
        found.contains(&("notes.txt".into(), FileClass::Missing)),
        "{found:?}"
    );
    assert!(
        found.contains(&("Data/new.txt".into(), FileClass::Extra)),
        "{found:?}"
    );
}

#[test]
fn renamed_is_moved() {
    let s = sealed();
    fs::rename(s.dir.join("S1.fastq"), s.dir.join("S2.fastq")).unwrap();
    expect(&s, "S2.fastq", FileClass::Moved);
}

#[test]
fn file_replaced_by_symlink_is_type_changed() {
    let s = sealed();
    fs::remove_file(s.dir.join("notes.txt")).unwrap();
    std::os::unix::fs::symlink("S1.fastq", s.dir.join("notes.txt")).unwrap();
    expect(&s, "notes.txt", FileClass::TypeChanged);
}

#[test]
fn file_created_in_a_directory_sealed_empty_is_extra() {
    let s = sealed();
    fs::write(s.dir.join("Empty/planted"), "x").unwrap();
    expect(&s, "Empty/planted", FileClass::Extra);
}

#[test]
fn untrusted_key_is_exit_3() {
    let s = sealed();
    let other = Policy::trusting(vec![PrivateKey::from_seed(&[4; 32], None).public()]);
    let report = seqprov::verify_directory(
        &s.dir,
        &s.bundle,
        &other,
        VerifyOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.exit_code, 3);
    assert!(report.files.is_empty());
}
