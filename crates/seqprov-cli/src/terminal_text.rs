//! Making text that came from outside (file names, link targets, signer names, roles,
//! notes, hosts, meanings, error details, warnings, paths) safe to print on a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` as it may be shown on a terminal in TEXT output: every character that a
/// terminal would act on or that would reorder or hide what is shown is replaced by a
/// visible escape, so a hostile name can neither move the cursor, erase or rewrite a
/// line, start a new line, nor reverse the text around it.
///
/// Escaped:
/// - the backslash itself, as `\\`, so that every escape below is unambiguous;
/// - C0 controls and DEL: `\t`, `\n`, `\r` by name, the others as `\xHH` (`\x1b` for
///   ESC, `\x7f` for DEL);
/// - C1 controls U+0080–U+009F, as `\u{HH}` (never `\xHH`, which names a raw byte of a
///   non-UTF-8 name);
/// - bidirectional and format controls U+061C, U+200E, U+200F, U+202A–U+202E,
///   U+2066–U+2069, and the line and paragraph separators U+2028, U+2029, as `\u{HHHH}`.
///
/// Everything else, including other non-ASCII letters, is kept. Borrows when nothing
/// needs escaping. JSON output never goes through this: serde_json escapes exactly.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{0}'..='\u{1f}' | '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\\' | '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{061c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in ["", "Data/L001/s_1.bcl", "Ana Müller (lab)", "café ✓ 日本"] {
            assert!(matches!(terminal_safe(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn c0_controls_and_del_are_shown() {
        assert_eq!(terminal_safe("a\rb\nc\td"), "a\\rb\\nc\\td");
        assert_eq!(terminal_safe("\u{1b}[2K"), "\\x1b[2K");
        assert_eq!(terminal_safe("\0\u{7}\u{7f}"), "\\x00\\x07\\x7f");
    }

    #[test]
    fn c1_and_bidi_controls_are_shown() {
        assert_eq!(terminal_safe("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(terminal_safe("\u{85}"), "\\u{85}");
        assert_eq!(terminal_safe("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(
            terminal_safe("\u{200e}\u{200f}\u{202a}\u{2066}\u{2069}\u{2028}\u{2029}\u{61c}"),
            "\\u{200e}\\u{200f}\\u{202a}\\u{2066}\\u{2069}\\u{2028}\\u{2029}\\u{61c}"
        );
        // Neighbours of the escaped ranges are kept.
        assert_eq!(
            terminal_safe("\u{a0}\u{200d}\u{202f}\u{206a}"),
            "\u{a0}\u{200d}\u{202f}\u{206a}"
        );
    }

    #[test]
    fn backslash_is_doubled_so_escapes_are_unambiguous() {
        assert_eq!(terminal_safe("a\\x1b"), "a\\\\x1b");
        assert_ne!(terminal_safe("a\\x1b"), terminal_safe("a\u{1b}"));
        assert_eq!(terminal_safe("\\"), "\\\\");
    }

    #[test]
    fn output_has_no_character_that_needs_escaping_but_the_backslash() {
        let hostile = "x\rverified: 7 entries ok\u{1b}[2K\u{202e}\nfake\u{9b}\u{2029}";
        let shown = terminal_safe(hostile);
        assert!(
            !shown.chars().any(|c| c != '\\' && needs_escape(c)),
            "{shown}"
        );
    }
}
