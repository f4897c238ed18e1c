//! A positioned YAML tree built from `saphyr-parser` events.
//!
//! Every node knows the byte range of its text: `start` is where the node begins (the first key
//! of a block mapping, the `-` of a block sequence, the `{`/`[` of a flow collection, the quote of
//! a quoted scalar) and `end` is just after its last non-blank character. Nothing here ever
//! re-serialises YAML; the ranges let the patcher splice text.

use saphyr_parser::{Event, Parser, ScalarStyle};

/// A YAML node with the byte range of its text.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub start: usize,
    pub end: usize,
    pub kind: NodeKind,
}

#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    Scalar { value: String, style: Quote },
    Map { entries: Vec<(Node, Node)>, flow: bool },
    Seq { items: Vec<Node>, flow: bool },
    Alias,
}

/// How a scalar is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quote {
    Plain,
    Single,
    Double,
    Block,
}

impl Node {
    /// The value under `key` in a mapping.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key and value nodes of `key` in a mapping (the first, if duplicated).
    pub(crate) fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            NodeKind::Map { entries, .. } => entries.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub(crate) fn str_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).and_then(Node::as_str)
    }

    pub(crate) fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    pub(crate) fn is_map(&self) -> bool {
        matches!(self.kind, NodeKind::Map { .. })
    }

    pub(crate) fn is_flow_map(&self) -> bool {
        matches!(self.kind, NodeKind::Map { flow: true, .. })
    }

    pub(crate) fn entries(&self) -> &[(Node, Node)] {
        match &self.kind {
            NodeKind::Map { entries, .. } => entries,
            _ => &[],
        }
    }

    pub(crate) fn items(&self) -> &[Node] {
        match &self.kind {
            NodeKind::Seq { items, .. } => items,
            _ => &[],
        }
    }

    /// An empty implicit scalar (`key:` with nothing after it).
    pub(crate) fn is_empty_scalar(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, style: Quote::Plain } if value.is_empty())
            && self.start == self.end
    }
}

/// One document of the stream.
#[derive(Clone, Debug)]
pub(crate) struct Doc {
    pub root: Option<Node>,
}

/// A syntax error: byte offset and the parser's message.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub at: usize,
    pub message: String,
}

enum Frame {
    Map { start: usize, flow: bool, entries: Vec<(Node, Node)>, key: Option<Node> },
    Seq { start: usize, flow: bool, items: Vec<Node> },
}

/// The `-` that introduces a block sequence item starting at `item`.
fn dash_before(text: &str, item: usize) -> Option<usize> {
    let before = text[..item].trim_end();
    before.ends_with('-').then(|| before.len() - 1)
}

/// Parses a multi-document YAML stream into positioned trees.
pub(crate) fn parse_stream(text: &str) -> Result<Vec<Doc>, SyntaxError> {
    // saphyr reports character indices; map them to byte offsets.
    let mut bytes: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    bytes.push(text.len());
    let byte = |index: usize| bytes[index.min(bytes.len() - 1)];

    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    for event in Parser::new_from_str(text) {
        let (event, span) =
            event.map_err(|e| SyntaxError { at: byte(e.marker().index()), message: e.info().to_string() })?;
        let (start, end) = (byte(span.start.index()), byte(span.end.index()));
        let node = match event {
            Event::DocumentStart(_) => {
                root = None;
                continue;
            }
            Event::DocumentEnd => {
                docs.push(Doc { root: root.take() });
                continue;
            }
            Event::MappingStart(..) => {
                let flow = text[start..].starts_with('{');
                stack.push(Frame::Map { start, flow, entries: Vec::new(), key: None });
                continue;
            }
            Event::SequenceStart(..) => {
                let flow = text[start..].starts_with('[');
                stack.push(Frame::Seq { start, flow, items: Vec::new() });
                continue;
            }
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map { start: s, flow, entries, .. }) => {
                    let last = entries.last().map_or(s, |(_, v)| v.end);
                    Node { start: s, end: if flow { end } else { last }, kind: NodeKind::Map { entries, flow } }
                }
                _ => continue,
            },
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq { start: s, flow, items }) => {
                    let last = items.last().map_or(s, |v| v.end);
                    let s = match items.first() {
                        Some(first) if !flow => dash_before(text, first.start).unwrap_or(s),
                        _ => s,
                    };
                    Node { start: s, end: if flow { end } else { last }, kind: NodeKind::Seq { items, flow } }
                }
                _ => continue,
            },
            Event::Scalar(value, style, ..) => {
                let quote = match style {
                    ScalarStyle::Plain => Quote::Plain,
                    ScalarStyle::SingleQuoted => Quote::Single,
                    ScalarStyle::DoubleQuoted => Quote::Double,
                    ScalarStyle::Literal | ScalarStyle::Folded => Quote::Block,
                };
                let end = if quote == Quote::Block { start + text[start..end].trim_end().len() } else { end };
                Node { start, end, kind: NodeKind::Scalar { value: value.into_owned(), style: quote } }
            }
            Event::Alias(_) => Node { start, end, kind: NodeKind::Alias },
            Event::StreamStart | Event::StreamEnd | Event::Nothing => continue,
        };
        match stack.last_mut() {
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            Some(Frame::Seq { items, .. }) => items.push(node),
            None => root = Some(node),
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_node_text() {
        let text = "a: 1\nb: |\n  text\n\n# c\nd: {x: \"y\"}\ne:\n- p\n- q  # c\n";
        let docs = parse_stream(text).unwrap();
        let root = docs[0].root.as_ref().unwrap();
        let slice = |n: &Node| &text[n.start..n.end];
        assert_eq!(slice(root.get("b").unwrap()), "text");
        assert_eq!(slice(root.get("d").unwrap()), "{x: \"y\"}");
        assert_eq!(slice(root.at(&["d", "x"]).unwrap()), "\"y\"");
        assert_eq!(slice(root.get("e").unwrap()), "- p\n- q");
        assert_eq!(slice(root), &text[..text.len() - 6]);
    }

    #[test]
    fn multibyte_text_maps_to_bytes() {
        let text = "a: \"é\"\nb: c\n";
        let docs = parse_stream(text).unwrap();
        let b = docs[0].root.as_ref().unwrap().entry("b").unwrap();
        assert_eq!(&text[b.0.start..b.1.end], "b: c");
    }
}
