//! Text splicing and the spans patch and unpatch agree on.

use crate::manifest::Manifest;
use crate::tree::Node;

/// Replace `start..end` with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Splice {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

impl Splice {
    pub(crate) fn new(start: usize, end: usize, text: &str) -> Self {
        Splice { start, end, text: text.to_string() }
    }
}

/// Applies non-overlapping splices; an insertion sorts before a replacement at the same start.
pub(crate) fn apply(text: &str, mut splices: Vec<Splice>) -> Result<String, ()> {
    splices.sort_by_key(|s| (s.start, s.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut cursor = 0;
    for s in &splices {
        if s.start < cursor || s.end < s.start || s.end > text.len() {
            return Err(());
        }
        out.push_str(&text[cursor..s.start]);
        out.push_str(&s.text);
        cursor = s.end;
    }
    out.push_str(&text[cursor..]);
    Ok(out)
}

/// End of a mapping entry: the end of its value, or just after the `:` when the value is empty.
pub(crate) fn entry_end(text: &str, key: &Node, value: &Node) -> usize {
    if value.is_empty_scalar() {
        let from = key.end.max(value.start);
        match text[from..].find(':') {
            Some(i) => from + i + 1,
            None => value.end.max(key.end),
        }
    } else {
        value.end.max(key.end)
    }
}

/// An identity document's recorded span: its first key to the end of its last line.
pub(crate) fn identity_span(m: &Manifest, root: &Node) -> (usize, usize) {
    (root.start, m.lines().line_break(m.text(), root.end))
}
