//! The NFC collision check (`entry_path::normalisation_collision`) holds only hashes of
//! the keys of the paths normalisation may change (issue 12 item 7). These properties
//! compare it with the check it replaced, which kept every key in a map, on short paths
//! built from code points where normalisation is subtle: composed and decomposed
//! letters, singletons (KELVIN SIGN, ANGSTROM SIGN, OHM SIGN), composition exclusions,
//! Hangul syllables and jamo, marks that reorder, and characters whose quick check says
//! "maybe".

use std::borrow::Cow;
use std::collections::HashMap;

use proptest::prelude::*;
use seqprov_format::entry_path::normalisation_collision;
use unicode_normalization::UnicodeNormalization;

/// The check before the compact entry table (commit c97a541^), verbatim but for names.
fn reference<'a>(paths: impl IntoIterator<Item = &'a str>) -> Option<(&'a str, &'a str)> {
    use unicode_normalization::{IsNormalized, is_nfc_quick};
    let needs_nfc =
        |path: &str| !path.is_ascii() && is_nfc_quick(path.chars()) != IsNormalized::Yes;
    let paths: Vec<&'a str> = paths.into_iter().collect();
    if !paths.iter().any(|p| needs_nfc(p)) {
        return None;
    }
    let mut seen: HashMap<Cow<'a, str>, &'a str> = HashMap::new();
    for path in paths {
        let key = if needs_nfc(path) {
            Cow::Owned(path.nfc().collect::<String>())
        } else {
            Cow::Borrowed(path)
        };
        if let Some(first) = seen.insert(key, path)
            && first != path
        {
            return Some((first, path));
        }
    }
    None
}

/// The code points paths are made of, in groups.
const TRICKY: &[&str] = &[
    "aAeKkds;/.",                                        // ASCII
    "\u{e9}\u{c5}\u{e5}\u{b7}",                          // composed Latin-1
    "\u{301}\u{300}\u{30a}\u{308}\u{323}\u{307}\u{327}", // marks
    "\u{344}\u{340}\u{341}",                             // marks that decompose (singletons)
    "\u{212a}\u{212b}\u{2126}\u{3a9}\u{37e}\u{387}",     // singletons and their targets
    "\u{1e0b}\u{1e0d}\u{1e9b}\u{17f}",                   // dots and long s
    "\u{ac00}\u{ac01}\u{1100}\u{1161}\u{11a8}",          // Hangul syllables and jamo
    "\u{958}\u{915}\u{93c}",                             // a composition exclusion (Devanagari)
    "\u{fb2c}\u{5e9}\u{5c1}\u{5bc}",                     // Hebrew, excluded from composition
    "\u{f73}\u{f71}\u{f72}",                             // Tibetan, never composed
    "\u{9be}\u{9c7}\u{9cb}",                             // Bengali, quick check "maybe"
    "\u{1d15e}\u{1d157}\u{1d165}",                       // musical symbols, excluded
];

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(TRICKY.concat().chars().collect::<Vec<char>>()),
        1..5,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// A bundle's paths: sorted by bytes, without repeats.
fn sorted_paths() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(path(), 0..12).prop_map(|mut paths| {
        paths.sort();
        paths.dedup();
        paths
    })
}

fn nfc(path: &str) -> String {
    path.nfc().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// On a bundle's paths the new check finds a collision exactly when the old one does,
    /// and what it names is one: two different paths with the same NFC form.
    #[test]
    fn the_hashed_check_agrees_with_the_map_it_replaced(paths in sorted_paths()) {
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let new = normalisation_collision(refs.iter().copied());
        let old = reference(refs.iter().copied());
        prop_assert_eq!(new.is_some(), old.is_some(), "new {:?}, old {:?}", new, old);
        if let Some((a, b)) = new {
            prop_assert_ne!(a, b);
            prop_assert_eq!(nfc(a), nfc(b));
            let (i, j) = (
                refs.iter().position(|&p| p == a).unwrap(),
                refs.iter().position(|&p| p == b).unwrap(),
            );
            prop_assert!(i < j, "{:?} is not listed before {:?}", a, b);
        }
    }

    /// The same in any order, with repeats (which are not collisions): the check does not
    /// lean on the order the bundle reader guarantees.
    #[test]
    fn the_hashed_check_agrees_in_any_order(paths in prop::collection::vec(path(), 0..12)) {
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let new = normalisation_collision(refs.iter().copied());
        let old = reference(refs.iter().copied());
        prop_assert_eq!(new.is_some(), old.is_some(), "new {:?}, old {:?}", new, old);
        if let Some((a, b)) = new {
            prop_assert_ne!(a, b);
            prop_assert_eq!(nfc(a), nfc(b));
        }
    }

    /// A path, and its decomposed spelling (NFD), collide with their NFC form whenever
    /// they differ from it, whatever else is listed.
    #[test]
    fn every_spelling_of_a_path_collides_with_its_nfc_form(
        p in path(),
        others in prop::collection::vec(path(), 0..6),
    ) {
        for spelling in [p.nfd().collect::<String>(), p.clone()] {
            let composed = nfc(&spelling);
            if composed == spelling {
                continue;
            }
            let mut paths = others.clone();
            paths.push(spelling.clone());
            paths.push(composed.clone());
            paths.sort();
            paths.dedup();
            let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
            prop_assert!(
                normalisation_collision(refs.iter().copied()).is_some(),
                "{:?} and {:?} among {:?}", spelling, composed, refs
            );
        }
    }
}

/// Named cases: each pair is two spellings of one name.
#[test]
fn singletons_hangul_and_reordered_marks_collide() {
    for (a, b) in [
        ("\u{212b}", "\u{c5}"),                 // ANGSTROM SIGN, A WITH RING
        ("A\u{30a}", "\u{212b}"),               // decomposed, ANGSTROM SIGN
        ("\u{2126}", "\u{3a9}"),                // OHM SIGN, OMEGA
        ("\u{212a}x", "Kx"),                    // KELVIN SIGN, K
        ("\u{1100}\u{1161}", "\u{ac00}"),       // jamo, syllable
        ("\u{ac00}\u{11a8}", "\u{ac01}"),       // LV + T, LVT
        ("d\u{323}\u{307}", "d\u{307}\u{323}"), // marks in either order
        ("\u{37e}", ";"),                       // GREEK QUESTION MARK, semicolon
        ("\u{915}\u{93c}", "\u{958}"),          // excluded from composition
        ("e\u{341}", "\u{e9}"),                 // a mark that is a singleton
    ] {
        let mut paths = [a, b];
        paths.sort();
        assert!(
            normalisation_collision(paths).is_some(),
            "{a:?} and {b:?} are not found to collide"
        );
        assert_eq!(
            normalisation_collision(paths).is_some(),
            reference(paths).is_some()
        );
    }
}

/// Many paths that normalisation changes, none colliding, and the same with every one of
/// them colliding with an NFC path listed after all of them: linear, not quadratic (each
/// run takes well under a second; a quadratic check would take minutes).
#[test]
fn many_changing_paths_are_checked_in_about_linear_time() {
    let n = 100_000;
    let changing: Vec<String> = (0..n).map(|i| format!("e\u{301}{i:06}")).collect();
    let start = std::time::Instant::now();
    assert_eq!(
        normalisation_collision(changing.iter().map(String::as_str)),
        None
    );
    let mut with_nfc = changing.clone();
    with_nfc.extend((0..n).map(|i| format!("\u{e9}{i:06}")));
    let found = normalisation_collision(with_nfc.iter().map(String::as_str));
    assert_eq!(
        found,
        Some(("e\u{301}000000", "\u{e9}000000")),
        "the first changing path and its NFC spelling"
    );
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
}
