//! The interoperability checks with independent Python implementations
//! (`tests/python/run_interop.sh`: cbor2 + pycose + blake3, securesystemslib, jsonschema
//! with HL7's FHIR R4 JSON Schema). They need Python 3, pip and npm with access to their
//! registries, so they run only when `SEQPROV_PYTHON_TESTS=1` is set (as in CI).

use std::path::Path;
use std::process::Command;

#[test]
fn python_implementations_check_bundles_and_exports() {
    if std::env::var("SEQPROV_PYTHON_TESTS").as_deref() != Ok("1") {
        println!(
            "interop_python: did not run the Python interoperability checks; \
             set SEQPROV_PYTHON_TESTS=1 to run tests/python/run_interop.sh"
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("tests/python/run_interop.sh");
    // The binary cargo built for this test: the script must not run cargo itself while
    // this test holds the build directory.
    let status = Command::new("bash")
        .arg(&script)
        .env("SEQPROV_BIN", env!("CARGO_BIN_EXE_seqprov"))
        .current_dir(&root)
        .status()
        .expect("bash runs");
    assert!(status.success(), "{} failed: {status}", script.display());
}
