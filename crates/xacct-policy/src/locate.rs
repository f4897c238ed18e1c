//! Best-effort mapping of a finding path (`Statement[1].Principal`) to a line and
//! column in the original JSON text, for error messages that point at the source.

/// One step of a finding path.
#[derive(Debug, PartialEq, Eq)]
enum Seg<'p> {
    Key(&'p str),
    Index(usize),
}

fn parse_path(path: &str) -> Option<Vec<Seg<'_>>> {
    let mut segs = Vec::new();
    if path.is_empty() || path == "(document)" {
        return Some(segs);
    }
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            segs.push(Seg::Key(key));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let end = stripped.find(']')?;
            segs.push(Seg::Index(stripped[..end].parse().ok()?));
            rest = &stripped[end + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(segs)
}

/// The 1-based line and column of `path` in `text`: the key of an object member,
/// the first character of an array element, the document start for an empty path.
/// Index `0` also finds a single value where IAM accepts a one-element list (a
/// single-object `Statement`, a string `Action` or principal). `None` when the text is not
/// JSON enough to walk or the path is absent.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let segs = parse_path(path)?;
    let offset = Walker { b: text.as_bytes() }.find(0, &segs)?;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, col))
}

struct Walker<'t> {
    b: &'t [u8],
}

impl Walker<'_> {
    fn ws(&self, mut pos: usize) -> usize {
        while pos < self.b.len() && matches!(self.b[pos], b' ' | b'\t' | b'\n' | b'\r') {
            pos += 1;
        }
        pos
    }

    /// Position just past the string starting at `pos` (which must be `"`).
    fn skip_string(&self, mut pos: usize) -> Option<usize> {
        pos += 1;
        while pos < self.b.len() {
            match self.b[pos] {
                b'\\' => pos += 2,
                b'"' => return Some(pos + 1),
                _ => pos += 1,
            }
        }
        None
    }

    fn skip_value(&self, pos: usize) -> Option<usize> {
        let pos = self.ws(pos);
        match *self.b.get(pos)? {
            b'"' => self.skip_string(pos),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut p = pos;
                while p < self.b.len() {
                    match self.b[p] {
                        b'"' => {
                            p = self.skip_string(p)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(p + 1);
                            }
                        }
                        _ => {}
                    }
                    p += 1;
                }
                None
            }
            _ => {
                let mut p = pos;
                while p < self.b.len() && !matches!(self.b[p], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    p += 1;
                }
                Some(p)
            }
        }
    }

    fn find(&self, pos: usize, segs: &[Seg<'_>]) -> Option<usize> {
        let mut pos = self.ws(pos);
        let Some(first) = segs.first() else {
            return Some(pos);
        };
        match (first, *self.b.get(pos)?) {
            (Seg::Key(want), b'{') => {
                pos += 1;
                loop {
                    pos = self.ws(pos);
                    if *self.b.get(pos)? != b'"' {
                        return None;
                    }
                    let key_start = pos;
                    let key_end = self.skip_string(pos)?;
                    let raw = std::str::from_utf8(&self.b[key_start..key_end]).ok()?;
                    let key: String = serde_json::from_str(raw).ok()?;
                    pos = self.ws(key_end);
                    if *self.b.get(pos)? != b':' {
                        return None;
                    }
                    pos += 1;
                    if key == *want {
                        return if segs.len() == 1 { Some(key_start) } else { self.find(pos, &segs[1..]) };
                    }
                    pos = self.ws(self.skip_value(pos)?);
                    match *self.b.get(pos)? {
                        b',' => pos += 1,
                        _ => return None,
                    }
                }
            }
            (Seg::Index(want), b'[') => {
                pos += 1;
                let mut i = 0;
                loop {
                    pos = self.ws(pos);
                    if *self.b.get(pos)? == b']' {
                        return None;
                    }
                    if i == *want {
                        return self.find(pos, &segs[1..]);
                    }
                    pos = self.ws(self.skip_value(pos)?);
                    match *self.b.get(pos)? {
                        b',' => pos += 1,
                        _ => return None,
                    }
                    i += 1;
                }
            }
            // A single value stands for a one-element list: `Statement[0]` finds a single
            // statement object, `Action[0]` a single action string.
            (Seg::Index(0), c) if c != b'[' => self.find(pos, &segs[1..]),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"a:b\", \"Resource\": \"*\"},\n    {\n      \"Effect\": \"Allow\",\n      \"Principal\": {\"AWS\": [\"x\", \"y]\"]},\n      \"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"e\"}}\n    }\n  ]\n}";

    #[test]
    fn locates_keys_and_elements() {
        assert_eq!(locate(DOC, ""), Some((1, 1)));
        assert_eq!(locate(DOC, "Version"), Some((2, 3)));
        assert_eq!(locate(DOC, "Statement[0]"), Some((4, 5)));
        assert_eq!(locate(DOC, "Statement[0].Resource"), Some((4, 42)));
        assert_eq!(locate(DOC, "Statement[1].Principal"), Some((7, 7)));
        assert_eq!(locate(DOC, "Statement[1].Principal.AWS[1]"), Some((7, 34)));
        assert_eq!(locate(DOC, "Statement[1].Condition.StringEquals.sts:ExternalId"), Some((8, 38)));
    }

    #[test]
    fn single_statement_object_answers_index_zero() {
        let doc = r#"{"Statement":{"Effect":"Allow"}}"#;
        assert_eq!(locate(doc, "Statement[0].Effect"), Some((1, 15)));
        assert_eq!(locate(doc, "Statement.Effect"), Some((1, 15)));
    }

    #[test]
    fn single_string_answers_index_zero() {
        let doc = r#"{"Statement":[{"Principal":{"AWS":"AROAX"},"Action":"sts:*"}]}"#;
        assert_eq!(locate(doc, "Statement[0].Action[0]"), Some((1, 53)));
        assert_eq!(locate(doc, "Statement[0].Principal.AWS[0]"), Some((1, 35)));
        assert_eq!(locate(doc, "Statement[0].Action[1]"), None);
    }

    #[test]
    fn absent_or_malformed_is_none() {
        assert_eq!(locate(DOC, "Statement[5]"), None);
        assert_eq!(locate(DOC, "Id"), None);
        assert_eq!(locate(DOC, "Statement[x]"), None);
        assert_eq!(locate("{\"a\" 1}", "b"), None);
    }
}
