//! Turning whatever a learner types into a safe full-text query.
//!
//! Each whitespace-separated word becomes a quoted FTS5 phrase (quotes doubled), so operators,
//! parentheses, colons and stray quotes are just text. The index uses trigram tokens, which match
//! substrings in any script; words shorter than three characters cannot use trigrams and are
//! matched with an escaped `LIKE` instead. Nothing a learner types can make the query fail.

/// The parts of a search, ready to bind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SafeQuery {
    /// An FTS5 MATCH expression of quoted phrases, if any word is long enough.
    pub match_expr: Option<String>,
    /// `LIKE` patterns (with `\` as the escape character) for short words.
    pub like_patterns: Vec<String>,
}

impl SafeQuery {
    /// `None` when the query has no words at all.
    pub fn parse(query: &str) -> Option<SafeQuery> {
        let mut phrases = Vec::new();
        let mut like_patterns = Vec::new();
        for word in query.split_whitespace().take(MAX_WORDS) {
            let word: String = word.chars().filter(|c| !c.is_control()).take(MAX_WORD_CHARS).collect();
            if word.is_empty() {
                continue;
            }
            if word.chars().count() >= 3 {
                phrases.push(format!("\"{}\"", word.replace('"', "\"\"")));
            } else {
                let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                like_patterns.push(format!("%{escaped}%"));
            }
        }
        if phrases.is_empty() && like_patterns.is_empty() {
            return None;
        }
        let match_expr = (!phrases.is_empty()).then(|| phrases.join(" AND "));
        Some(SafeQuery { match_expr, like_patterns })
    }
}

const MAX_WORDS: usize = 16;
const MAX_WORD_CHARS: usize = 64;

#[cfg(test)]
mod tests {
    use super::SafeQuery;

    #[test]
    fn operators_and_quotes_become_plain_text() {
        let q = SafeQuery::parse(r#"NEAR(http "cache OR a*"#).unwrap();
        assert_eq!(q.match_expr.as_deref(), Some(r#""NEAR(http" AND """cache""#));
        assert_eq!(q.like_patterns, ["%OR%", "%a*%"]);
        assert_eq!(SafeQuery::parse("   \t "), None);
        let q = SafeQuery::parse("5% a_b").unwrap();
        assert_eq!(q.like_patterns, ["%5\\%%"]);
        assert_eq!(q.match_expr.as_deref(), Some("\"a_b\""));
    }
}
