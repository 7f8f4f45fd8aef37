//! Content made safe for a terminal.
//!
//! Titles, notes, cue text and error messages come from a course's publisher or a content
//! host, and a terminal obeys what it prints: `ESC ] 0 ;` retitles the window, `ESC [ 2 J`
//! clears it, an 8-bit CSI (U+009B) does the same on some terminals, and bidirectional
//! overrides make text read differently from what it is. Every CLI print of content goes
//! through [`safe`], which shows such characters as escapes instead.

use std::borrow::Cow;

/// `text` with every control character (C0 including newline and tab, DEL, C1) and every
/// bidirectional formatting character written as an escape (`\x1b`, `\u{202e}`); unchanged,
/// and not copied, when there is none.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !needs_escape(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// Whether a terminal would obey `c` rather than show it.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn control_and_bidi_characters_are_shown_not_obeyed() {
        assert_eq!(safe("Reading a URL"), "Reading a URL");
        assert!(matches!(safe("Reading a URL"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(safe("\u{1b}]0;owned\u{7}\u{1b}[2Jx"), "\\x1b]0;owned\\x07\\x1b[2Jx");
        assert_eq!(safe("a\nb\tc\u{7f}"), "a\\x0ab\\x09c\\x7f");
        assert_eq!(safe("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(safe("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(safe("Ünïcödé 日本語 ✓"), "Ünïcödé 日本語 ✓");
    }
}
