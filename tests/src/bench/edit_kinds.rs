//! `course_update_edit:*`: what a 5% edit of text of real length costs as a patch, by the kind
//! of edit, beside the edited text compressed whole. The sample course's texts are 0.5–2.6 KB,
//! where a patch's frame overhead weighs heavily; an hour's transcript is about 50 KB. These
//! rows patch prose that no one here wrote (Debian's licence texts, 11–35 KB, in every Debian
//! system's base-files) with the packer's own patch function, and compress the result whole
//! at the packer's level for text, so the owner of `course_update_5pct_bytes` can see which
//! kinds of edit meet its goal and which do not.
//!
//! The edits, each touching 5% of the text:
//! - `typos`: one letter changed in every 20th word (a corrected ASR or spelling error);
//! - `reworded`: every 20th sentence with its words in another order (a sentence rewritten
//!   with mostly the same words);
//! - `passage`: 5% of the text replaced, in one place, by text of another document (a new
//!   paragraph);
//! - `words_replaced`: every 20th word replaced by a word of another length (the course
//!   bench's edit, the worst case for zstd: every later match moves by a new offset).

use std::path::Path;

use anyhow::{Context, Result};
use satchel_server::pack::patches::patch_bytes;

use super::report::{Goal, Row};

/// Prose of real length, from base-files.
const TEXTS: &[&str] = &["Apache-2.0", "GPL-3", "MPL-2.0", "LGPL-2.1", "GFDL-1.3"];
/// Where a new passage comes from.
const OTHER_TEXT: &str = "GPL-2";
const LICENSES: &str = "/usr/share/common-licenses";
/// The packer's zstd level for text blobs.
const TEXT_LEVEL: i32 = 19;

fn read(name: &str) -> Result<String> {
    let path = Path::new(LICENSES).join(name);
    std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {} (Debian's base-files)", path.display()))
}

/// `text` with every 20th word passed through `change`, spaces and line breaks kept.
fn every_20th_word(text: &str, change: impl Fn(&str) -> String) -> String {
    let mut count = 0usize;
    text.split(' ')
        .map(|word| {
            if word.trim().is_empty() {
                return word.to_owned();
            }
            count += 1;
            if count.is_multiple_of(20) { change(word) } else { word.to_owned() }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn typo(word: &str) -> String {
    // The middle letter becomes another letter: same length, as most corrections are.
    let mut chars: Vec<char> = word.chars().collect();
    let middle = chars.len() / 2;
    if let Some(c) = chars.get_mut(middle).filter(|c| c.is_ascii_alphabetic()) {
        *c = if *c == 'e' { 'a' } else { 'e' };
    }
    chars.into_iter().collect()
}

/// Every 20th sentence with its words reversed.
fn reword(text: &str) -> String {
    text.split_inclusive(". ")
        .enumerate()
        .map(|(i, sentence)| {
            if i % 20 != 19 {
                return sentence.to_owned();
            }
            let words: Vec<&str> = sentence.split_whitespace().rev().collect();
            format!("{} ", words.join(" "))
        })
        .collect()
}

/// The first character boundary of `text` at or after `at` (its end if `at` is past it).
fn boundary(text: &str, at: usize) -> usize {
    (at.min(text.len())..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len())
}

/// 5% of `text` at its first third replaced by as many bytes of `other`.
fn new_passage(text: &str, other: &str) -> String {
    let len = text.len() / 20;
    let start = boundary(text, text.len() / 3);
    let end = boundary(text, start + len);
    let from = boundary(other, other.len() / 4);
    let to = boundary(other, from + len);
    format!("{}{}{}", &text[..start], &other[from..to], &text[end..])
}

/// One kind of edit: the text before, the text after.
type Edit<'a> = Box<dyn Fn(&str) -> String + 'a>;

pub fn rows() -> Result<Vec<Row>> {
    let other = read(OTHER_TEXT)?;
    let edits: [(&str, Edit); 4] = [
        ("typos", Box::new(|t| every_20th_word(t, typo))),
        ("reworded", Box::new(reword)),
        ("passage", Box::new(|t| new_passage(t, &other))),
        ("words_replaced", Box::new(|t| every_20th_word(t, |_| "revised".to_owned()))),
    ];
    let texts: Vec<String> = TEXTS.iter().map(|name| read(name)).collect::<Result<_>>()?;
    let raw: usize = texts.iter().map(String::len).sum();
    let mut rows = Vec::new();
    for (name, edit) in &edits {
        let (mut patches, mut whole) = (0usize, 0usize);
        for text in &texts {
            let edited = edit(text);
            anyhow::ensure!(edited != *text, "the {name} edit changed nothing");
            let patch = patch_bytes(text.as_bytes(), edited.as_bytes())?.context("a patch for prose")?;
            patches += patch.len();
            whole += zstd::bulk::compress(edited.as_bytes(), TEXT_LEVEL)?.len();
        }
        eprintln!("bench: {name}: {patches} B of patches, {whole} B whole, over {raw} B of prose");
        rows.push(Row::new(
            &format!("course_update_edit:{name}"),
            patches as f64,
            "bytes",
            "the edited texts compressed whole",
            whole as f64,
            Goal::RatioAtMost(0.10),
        ));
    }
    Ok(rows)
}
