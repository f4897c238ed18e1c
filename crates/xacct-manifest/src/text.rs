//! Byte positions, lines and the file's layout conventions (line ending, indentation).

/// Maps byte offsets to 1-based lines and columns and finds line boundaries.
#[derive(Clone, Debug)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts, len: text.len() }
    }

    fn line_of(&self, byte: usize) -> usize {
        match self.starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// 1-based line and column (the column counts characters).
    pub(crate) fn line_col(&self, text: &str, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.len);
        let line = self.line_of(byte);
        let col = text[self.starts[line]..byte].chars().count();
        (line + 1, col + 1)
    }

    /// Byte offset where the line containing `byte` starts.
    pub(crate) fn line_start(&self, byte: usize) -> usize {
        self.starts[self.line_of(byte.min(self.len))]
    }

    /// Byte offset of the line break (`\r\n` or `\n`) ending the line containing `byte`,
    /// or the end of the text.
    pub(crate) fn line_break(&self, text: &str, byte: usize) -> usize {
        let line = self.line_of(byte.min(self.len));
        match self.starts.get(line + 1) {
            Some(&next) if text[..next].ends_with("\r\n") => next - 2,
            Some(&next) => next - 1,
            None => self.len,
        }
    }

    /// Byte offset just after the line break ending the line containing `byte`.
    pub(crate) fn next_line(&self, byte: usize) -> usize {
        let line = self.line_of(byte.min(self.len));
        self.starts.get(line + 1).copied().unwrap_or(self.len)
    }
}

/// How the file writes things, so new text looks like the old.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// `"\n"` or `"\r\n"`.
    pub newline: &'static str,
    /// Spaces per nesting level of mappings.
    pub indent: usize,
    /// Whether block sequences under a key are indented (`key:\n  - a`) or not (`key:\n- a`).
    pub indent_sequences: bool,
}

impl Default for Layout {
    fn default() -> Self {
        Layout { newline: "\n", indent: 2, indent_sequences: false }
    }
}

/// Counts votes for the layout while walking the parsed tree.
#[derive(Default)]
pub(crate) struct LayoutVotes {
    indents: [usize; 9],
    seq_indented: usize,
    seq_flush: usize,
}

impl LayoutVotes {
    pub(crate) fn nested_map(&mut self, delta: usize) {
        if (1..self.indents.len()).contains(&delta) {
            self.indents[delta] += 1;
        }
    }

    pub(crate) fn nested_seq(&mut self, indented: bool) {
        if indented {
            self.seq_indented += 1;
        } else {
            self.seq_flush += 1;
        }
    }

    pub(crate) fn finish(&self, text: &str) -> Layout {
        let newline = match text.find('\n') {
            Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        };
        let mut indent = 2;
        let mut best = 0;
        for (delta, &votes) in self.indents.iter().enumerate() {
            if votes > best {
                best = votes;
                indent = delta;
            }
        }
        Layout { newline, indent, indent_sequences: self.seq_indented > self.seq_flush }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_handles_crlf() {
        let text = "a: 1\r\nbc: 2\r\nd";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 6), (2, 1));
        assert_eq!(idx.line_col(text, 8), (2, 3));
        assert_eq!(idx.line_start(9), 6);
        assert_eq!(idx.line_break(text, 7), 11);
        assert_eq!(idx.next_line(7), 13);
        assert_eq!(idx.line_break(text, 14), text.len());
    }
}
