//! Where a note or highlight points, and finding a text passage again after the text changed.
//!
//! Text offsets are UTF-16 code units, the unit of Kotlin/Java `String` indices and of iOS
//! `NSRange`, so apps pass their selection through unchanged.

use serde::{Deserialize, Serialize};

/// What a note or highlight is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NoteAnchor {
    /// A stretch of a video, in milliseconds.
    Time { start_ms: i64, end_ms: i64 },
    /// A passage of a reading or transcript: the quoted text, a little context either side (so it
    /// can be found again after the text is edited), and its offsets in UTF-16 code units.
    Text { quote: String, prefix: String, suffix: String, start: i32, end: i32 },
}

/// Finds `quote` in `text` again: at its old offsets if still there; else the occurrence whose
/// surroundings best match the stored context (ties: nearest the old place); else the same words
/// with different spacing or line breaks. `None` means the passage is gone.
pub fn reanchor(text: &str, quote: &str, prefix: &str, suffix: &str, start: i32) -> Option<(i32, i32)> {
    let text16: Vec<u16> = text.encode_utf16().collect();
    let quote16: Vec<u16> = quote.encode_utf16().collect();
    if quote16.is_empty() {
        return None;
    }
    let prefix16: Vec<u16> = prefix.encode_utf16().collect();
    let suffix16: Vec<u16> = suffix.encode_utf16().collect();
    let old = usize::try_from(start).unwrap_or(0);

    if text16.get(old..old + quote16.len()) == Some(quote16.as_slice()) {
        return to_i32(old, old + quote16.len());
    }

    let exact: Vec<(usize, usize)> = occurrences(&text16, &quote16).map(|p| (p, p + quote16.len())).collect();
    let candidates = if exact.is_empty() { spacing_insensitive(&text16, &quote16) } else { exact };
    let best = candidates.into_iter().max_by_key(|&(s, e)| {
        let before = common_suffix(&text16[..s], &prefix16);
        let after = common_prefix(&text16[e..], &suffix16);
        // Higher context match first, then nearer the old place.
        (before + after, std::cmp::Reverse(s.abs_diff(old)))
    })?;
    to_i32(best.0, best.1)
}

fn to_i32(start: usize, end: usize) -> Option<(i32, i32)> {
    Some((i32::try_from(start).ok()?, i32::try_from(end).ok()?))
}

fn occurrences<'a>(haystack: &'a [u16], needle: &'a [u16]) -> impl Iterator<Item = usize> + 'a {
    haystack.windows(needle.len()).enumerate().filter(move |(_, w)| *w == needle).map(|(i, _)| i)
}

fn is_space(unit: u16) -> bool {
    char::from_u32(u32::from(unit)).is_some_and(char::is_whitespace)
}

/// Matches of the quote when every run of whitespace counts as one space, mapped back to
/// offsets in the original text.
fn spacing_insensitive(text: &[u16], quote: &[u16]) -> Vec<(usize, usize)> {
    let (norm_text, map) = collapse_spaces(text);
    let (norm_quote, _) = collapse_spaces(quote);
    let norm_quote = trim_spaces(&norm_quote);
    if norm_quote.is_empty() {
        return Vec::new();
    }
    occurrences(&norm_text, norm_quote).map(|p| (map[p], map[p + norm_quote.len() - 1] + 1)).collect()
}

/// Text with whitespace runs collapsed to one space, and for each kept unit its original index.
fn collapse_spaces(text: &[u16]) -> (Vec<u16>, Vec<usize>) {
    let mut out = Vec::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len());
    for (i, &unit) in text.iter().enumerate() {
        if is_space(unit) {
            if out.last() == Some(&u16::from(b' ')) {
                continue;
            }
            out.push(u16::from(b' '));
        } else {
            out.push(unit);
        }
        map.push(i);
    }
    (out, map)
}

fn trim_spaces(s: &[u16]) -> &[u16] {
    let start = s.iter().position(|u| *u != u16::from(b' ')).unwrap_or(s.len());
    let end = s.iter().rposition(|u| *u != u16::from(b' ')).map_or(start, |i| i + 1);
    &s[start..end]
}

fn common_suffix(a: &[u16], b: &[u16]) -> usize {
    a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count()
}

fn common_prefix(a: &[u16], b: &[u16]) -> usize {
    a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::{NoteAnchor, reanchor};
    use proptest::prelude::*;

    #[test]
    fn a_passage_still_at_its_old_place_is_kept_there_even_with_copies_elsewhere() {
        let text = "ping ping ping";
        // Both offsets of a quote found where it was are returned, whatever the context says.
        assert_eq!(reanchor(text, "ping", "zzz", "zzz", 5), Some((5, 9)));
        assert_eq!(reanchor(text, "ping", "", "", 10), Some((10, 14)));
        assert_eq!(reanchor(text, "ping ping", "", "", 5), Some((5, 14)));
        // Kept there even when the context fits another copy better.
        assert_eq!(reanchor("ping pong ping", "ping", "pong ", "", 0), Some((0, 4)));
        // An old place past the end, or negative, falls back to searching.
        assert_eq!(reanchor(text, "ping", "ping ", " ping", 40), Some((5, 9)));
        assert_eq!(reanchor(text, "ping", "", " ping ping", -3), Some((0, 4)));
    }

    #[test]
    fn only_the_prefix_tells_two_copies_apart() {
        // Same suffix after both copies; the old place is nearer the first; the prefix names the
        // second.
        let text = "alpha: the key. beta: the key.";
        let second = utf16_find(text, "beta: the key") + 6;
        assert_eq!(reanchor(text, "the key", "beta: ", ".", 3), Some((second, second + 7)));
        let first = utf16_find(text, "the key");
        assert_eq!(reanchor(text, "the key", "alpha: ", ".", 29), Some((first, first + 7)));
    }

    #[test]
    fn only_the_suffix_tells_two_copies_apart() {
        // Same prefix before both copies; the old place is nearer the first; the suffix names the
        // second.
        let text = "see the key, one. see the key, two.";
        let first = utf16_find(text, "the key");
        let second = utf16_find(text, "the key, two");
        assert_eq!(reanchor(text, "the key", "see ", ", two", 0), Some((second, second + 7)));
        assert_eq!(reanchor(text, "the key", "see ", ", one", 40), Some((first, first + 7)));
    }

    #[test]
    fn prefix_and_suffix_matches_add_up() {
        // The first copy matches 2 units of prefix and 3 of suffix (5), the second 4 of prefix
        // and none of suffix (4): the sum picks the first, even from near the second.
        let text = "xab|Q|cde ... yzab|Q|qqq";
        let first = utf16_find(text, "|Q|");
        assert_eq!(reanchor(text, "|Q|", "yzab", "cdeXX", 20), Some((first, first + 3)));
        // 4 + 0 beats 1 + 2: a sum, not a product.
        let text = "aaaa|Q|zzz ba|Q|ccz";
        assert_eq!(reanchor(text, "|Q|", "aaaa", "ccc", 14), Some((4, 7)));
        // With equal context, the one nearer the old place wins, either side of it.
        let text = "k Q k k Q k k Q k";
        assert_eq!(reanchor(text, "Q", "k ", " k", 9), Some((8, 9)));
        assert_eq!(reanchor(text, "Q", "k ", " k", 13), Some((14, 15)));
        assert_eq!(reanchor(text, "Q", "k ", " k", 3), Some((2, 3)));
    }

    #[test]
    fn spacing_insensitive_matches_map_back_to_exact_offsets() {
        let text = "one  two\tthree\n\nfour";
        // The quote's own spacing differs, with spaces around it that do not count.
        assert_eq!(reanchor(text, " two three four ", "", "", 0), Some((5, 20)));
        assert_eq!(reanchor(text, "one two", "", "", 9), Some((0, 8)));
        assert_eq!(reanchor(text, "three four", "", "", 0), Some((9, 20)));
        // A quote of only whitespace, not in the text, is not found (and does not panic).
        assert_eq!(reanchor("a b", "\t\t", "", "", 0), None);
        assert_eq!(reanchor("ab", "", "", "", 0), None);
        // Different words stay different.
        assert_eq!(reanchor(text, "two  four", "", "", 0), None);
        // Context still picks among spacing-insensitive copies.
        let text = "A: x  y. B: x\ny.";
        assert_eq!(reanchor(text, "x y", "B: ", "", 0), Some((12, 15)));
        assert_eq!(reanchor(text, "x y", "A: ", "", 14), Some((3, 7)));
    }

    #[test]
    fn spacing_insensitive_matching_never_joins_or_splits_words() {
        // Runs of spaces are one space, but a space is never nothing.
        assert_eq!(reanchor("a scatter of words", "sc atter", "", "", 0), None);
        assert_eq!(reanchor("a sc atter of words", "scatter", "", "", 0), None);
        assert_eq!(reanchor("a sc   atter of words", "sc atter", "", "", 0), Some((2, 12)));
    }

    #[test]
    fn whitespace_is_any_unicode_space_and_nothing_else() {
        // No-break space and ideographic space are whitespace; letters and punctuation are not.
        let text = "mot\u{00a0}\u{3000}clé";
        assert_eq!(reanchor(text, "mot clé", "", "", 0), Some((0, 8)));
        assert_eq!(reanchor("mot-clé", "mot clé", "", "", 0), None);
        assert_eq!(reanchor("motXclé", "mot clé", "", "", 0), None);
    }

    #[test]
    fn text_anchors_are_tagged_json() {
        let anchor =
            NoteAnchor::Text { quote: "q".into(), prefix: "p".into(), suffix: "s".into(), start: 1, end: 2 };
        let json = serde_json::to_value(&anchor).unwrap();
        assert_eq!(json["type"], "text");
        assert_eq!(serde_json::from_value::<NoteAnchor>(json).unwrap(), anchor);
        let time = serde_json::to_value(NoteAnchor::Time { start_ms: 5, end_ms: 9 }).unwrap();
        assert_eq!(time, serde_json::json!({"type": "time", "start_ms": 5, "end_ms": 9}));
    }

    fn utf16_find(text: &str, quote: &str) -> i32 {
        let byte = text.find(quote).unwrap();
        text[..byte].encode_utf16().count() as i32
    }

    #[test]
    fn finds_a_passage_at_its_old_place_or_where_it_moved() {
        let text = "DNS turns names into addresses. Caches keep answers for a while.";
        let start = utf16_find(text, "Caches keep");
        assert_eq!(reanchor(text, "Caches keep", ". ", " answers", start), Some((start, start + 11)));

        let edited = "Intro added here. DNS turns names into addresses. Caches keep answers for a while.";
        let moved = utf16_find(edited, "Caches keep");
        assert_eq!(reanchor(edited, "Caches keep", ". ", " answers", start), Some((moved, moved + 11)));

        let gone = "DNS turns names into addresses.";
        assert_eq!(reanchor(gone, "Caches keep", ". ", " answers", start), None);
    }

    #[test]
    fn context_picks_the_right_one_of_repeated_quotes() {
        let text = "the server replies. Later, the server replies again.";
        let second = utf16_find(text, "again") as usize - "the server replies ".len();
        let found = reanchor(text, "the server replies", "Later, ", " again", 100).unwrap();
        assert_eq!(found.0 as usize, second);
    }

    #[test]
    fn reflowed_text_still_matches_and_offsets_are_utf16() {
        let text = "Amharic: ሰላም ዓለም. Emoji 🎓 then the\n   quoted   words here.";
        let (s, e) = reanchor(text, "the quoted words", "", "", 0).unwrap();
        let units: Vec<u16> = text.encode_utf16().collect();
        assert_eq!(String::from_utf16(&units[s as usize..e as usize]).unwrap(), "the\n   quoted   words");
    }

    proptest! {
        /// A passage moved anywhere in a text (by inserting unrelated text before it) is found at
        /// its new place.
        #[test]
        fn moved_passages_are_found(
            before in "[a-z ]{0,80}",
            inserted in "[A-Z0-9 ]{1,80}",
            quote in "[a-z]{5,20}",
            after in "[a-z ]{0,80}",
        ) {
            prop_assume!(!before.contains(&quote) && !after.contains(&quote));
            let original = format!("{before}<{quote}>{after}");
            let start = utf16_find(&original, &quote);
            let prefix: String = before.chars().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect::<String>() + "<";
            let edited = format!("{inserted}{before}<{quote}>{after}");
            let expected = utf16_find(&edited, &quote);
            let got = reanchor(&edited, &quote, &prefix, ">", start);
            prop_assert_eq!(got, Some((expected, expected + quote.encode_utf16().count() as i32)));
        }
    }
}
