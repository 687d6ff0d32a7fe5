//! Parsing a large bundle stays within a bounded multiple of its size (issue 12 item 7).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use seqprov::format::manifest::{Bytes32, Entry, EntryKind};
use seqprov::seal::{SealOptions, sign_entries};
use seqprov::{Bundle, PrivateKey};

/// Counts the bytes allocated now and the most at any time.
struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The counters are process-wide: one measuring test at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn big_bundle(n: usize) -> Vec<u8> {
    let entries: Vec<Entry> = (0..n)
        .map(|i| Entry {
            path: format!(
                "Data/Intensities/BaseCalls/L001/C{:03}.1/s_1_{:07}.bcl.gz",
                i / 1000,
                i
            ),
            kind: EntryKind::File,
            salt: Bytes32(*blake3::hash(&i.to_le_bytes()).as_bytes()),
            size: Some(i as u64),
            blake3: Some(Bytes32([7; 32])),
            sha256: None,
            target: None,
            content: None,
        })
        .collect();
    let key = PrivateKey::from_seed(&[3; 32], None);
    sign_entries(entries, "run", &key, &SealOptions::default())
        .unwrap()
        .bundle
}

#[test]
fn parsing_a_large_bundle_stays_under_twice_its_size() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = big_bundle(200_000);
    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let bundle = Bundle::parse(&bytes).unwrap();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    assert_eq!(bundle.entries.len(), 200_000);
    eprintln!("size_of::<Entry>() = {}", std::mem::size_of::<Entry>());
    eprintln!(
        "bundle {} bytes, parse peak {} bytes ({:.2}x)",
        bytes.len(),
        peak,
        peak as f64 / bytes.len() as f64
    );
    assert!(
        peak <= 2 * bytes.len() + (16 << 20),
        "peak {peak} for {} bytes",
        bytes.len()
    );
}

/// A bundle whose seal does not verify is reported as such without its entry list being
/// decoded: a forged bundle costs no memory for its entries.
#[test]
fn a_bad_seal_is_rejected_before_the_entries_are_decoded() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut bytes = big_bundle(200_000);
    let (_, seal_len) = seqprov::format::cbor::decode_first(&bytes).unwrap();
    // The signature is the seal's last 64 bytes: flip one bit of it.
    bytes[seal_len - 10] ^= 1;
    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let bundle = seqprov::bundle_file::parse_bundle(&bytes).unwrap();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    assert!(bundle.entries.is_empty());
    assert!(!bundle.root_matches());
    assert!(seqprov::integrity::check_seal_signature(&bundle).is_err());
    // What is left is a constant: the read window and the seal, whatever the size.
    assert!(peak < 4 << 20, "peak {peak} for {} bytes", bytes.len());
    let policy = seqprov::Policy::trusting(vec![PrivateKey::from_seed(&[3; 32], None).public()]);
    let checks = seqprov::bundle_checks::check_bundle(&bundle, &policy, &Default::default());
    assert_eq!(checks.signature, seqprov::report::SignatureStatus::Invalid);
}
