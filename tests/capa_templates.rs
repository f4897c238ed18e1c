//! Conformance over real manifests: every `*.yaml` in the directory named by
//! `XACCT_CAPA_TEMPLATES` (CAPA's cluster templates, rendered) is listed under one workload of a
//! fresh emulator scenario and taken through `plan`, `apply --auto-approve` and
//! `destroy --auto-approve` with the real binary. For each file, either plan and apply refuse it
//! with a clear error, or all of this holds:
//!
//! - every original line is still there, in order, apart from the value of an `identityRef`
//!   (or of a ClusterClass `identityRef` variable) that xacct replaces;
//! - every identity-carrying object (`AWSCluster`, `AWSClusterTemplate`, `AWSManagedControlPlane`,
//!   `AWSManagedControlPlaneTemplate`, `ROSAControlPlane`, `ROSANetwork`, `ROSARoleConfig`, a
//!   topology `Cluster`'s `identityRef` variable) names the workload's `AWSClusterRoleIdentity`;
//! - exactly one identity document was added, and the file's own identity documents are kept
//!   byte for byte;
//! - destroy gives back the exact original bytes.
//!
//! It prints one line per file and `N passed, M failed`, and fails when any file failed.
//! `scripts/conformance-capa-templates DIR` runs it. Without `XACCT_CAPA_TEMPLATES` (the normal
//! test run) it checks nothing and says so.
#![allow(clippy::print_stdout)]

mod common;

use std::path::{Path, PathBuf};

use common::{Run, Scenario};

const DIR_ENV: &str = "XACCT_CAPA_TEMPLATES";
const MANIFEST: &str = "clusters/dev-1.yaml";
const IDENTITY: &str = "dev-account-role";
const ROLE_IDENTITY: &str = "AWSClusterRoleIdentity";

#[tokio::test(flavor = "multi_thread")]
async fn capa_templates_plan_apply_destroy() {
    let Some(dir) = std::env::var_os(DIR_ENV) else {
        println!(
            "capa_templates: {DIR_ENV} is not set, so no template was checked (this test passes without doing anything); \
             run `scripts/conformance-capa-templates DIR` to check the templates in DIR"
        );
        return;
    };
    let dir = PathBuf::from(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{DIR_ENV}={}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{DIR_ENV}={}: no .yaml file", dir.display());

    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        match check(file).await {
            Ok(Outcome::Passed(detail)) => {
                passed += 1;
                println!("ok       {name}: {detail}");
            }
            Ok(Outcome::Refused(why)) => {
                passed += 1;
                println!("refused  {name}: {why}");
            }
            Err(why) => {
                failed += 1;
                println!("FAILED   {name}: {why}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    assert_eq!(failed, 0, "{failed} of {} templates failed (see the lines above)", files.len());
}

enum Outcome {
    Passed(String),
    /// Refused with a clear error: the first error line.
    Refused(String),
}

/// Exit code 1 with an `error:` line that names the manifest, and no panic: a clear refusal.
fn refusal(step: &str, r: &Run) -> Result<Outcome, String> {
    let error =
        r.stdout.lines().chain(r.stderr.lines()).find(|l| l.trim_start().starts_with("error:") && l.contains(MANIFEST));
    match error {
        Some(line) if r.code == 1 && !r.stderr.contains("panicked") => {
            Ok(Outcome::Refused(format!("{step}: {}", line.trim())))
        }
        _ => Err(format!("{step} exited {} without a clear error:\n{}{}", r.code, r.stdout, r.stderr)),
    }
}

fn warnings(r: &Run) -> usize {
    r.stderr.lines().chain(r.stdout.lines()).filter(|l| l.trim_start().starts_with("warning:")).count()
}

async fn check(file: &Path) -> Result<Outcome, String> {
    let original = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let s = Scenario::new(&["dev"]).await;
    let path = s.path(MANIFEST);
    std::fs::write(&path, &original).map_err(|e| e.to_string())?;

    let plan = s.run(&["plan"]);
    if plan.code != 0 {
        return refusal("plan", &plan);
    }
    let apply = s.run(&["apply", "--auto-approve"]);
    if apply.code != 0 {
        return refusal("apply", &apply);
    }
    let patched = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    if patched == original {
        return Err("apply succeeded but left the manifest unchanged".into());
    }

    let mut problems = Vec::new();
    problems.extend(lines_kept(&original, &patched));
    let targets = targets_named(&patched, &mut problems);
    if targets == 0 {
        problems.push("no identity-carrying object in the patched file".into());
    }
    problems.extend(identity_documents(&original, &patched));

    let destroy = s.run(&["destroy", "--auto-approve"]);
    if destroy.code != 0 {
        problems.push(format!("destroy exited {}:\n{}{}", destroy.code, destroy.stdout, destroy.stderr));
    } else {
        let restored = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        if restored != original {
            problems.push("destroy did not restore the exact original bytes".into());
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(Outcome::Passed(format!(
        "{targets} object(s) name `{IDENTITY}`, 1 identity added, destroy restored the bytes ({} plan warning(s))",
        warnings(&plan)
    )))
}

// --- A small reader for block-style YAML, enough to find keys by path in these manifests. ---

/// A mapping key of a document: its path (`-` for a sequence item), its line, the text after
/// the colon, and the line of the sequence item that holds it (if any).
#[derive(Debug)]
struct Entry {
    path: Vec<String>,
    line: usize,
    rest: String,
    item: Option<usize>,
}

#[derive(Debug)]
enum Frame {
    Key { indent: usize, key: String },
    Item { indent: usize, line: usize },
}

impl Frame {
    fn indent(&self) -> usize {
        match self {
            Frame::Key { indent, .. } | Frame::Item { indent, .. } => *indent,
        }
    }
}

/// The key of `content` (`key: rest`), when it starts with one.
fn split_key(content: &str) -> Option<(String, String)> {
    let (key, rest) = if let Some(stripped) = content.strip_prefix('"') {
        let end = stripped.find('"')?;
        let after = stripped[end + 1..].strip_prefix(':')?;
        (stripped[..end].to_string(), after)
    } else {
        let colon = content.find(": ").or_else(|| content.strip_suffix(':').map(|s| s.len()))?;
        let key = &content[..colon];
        if key.is_empty() || key.contains(['{', '[', '#', '\'', '"']) {
            return None;
        }
        (key.to_string(), &content[colon + 1..])
    };
    Some((key, rest.trim().to_string()))
}

/// The entries of one document (lines `lines[start..end]`), in order.
fn entries(lines: &[&str], start: usize, end: usize) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut scalar_above: Option<usize> = None;
    for (i, raw) in lines.iter().enumerate().take(end).skip(start) {
        let content = raw.trim_start();
        let indent = raw.len() - content.len();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if let Some(k) = scalar_above {
            if indent > k {
                continue;
            }
            scalar_above = None;
        }
        let mut c = content;
        let mut at = indent;
        if c == "-" || c.starts_with("- ") {
            while stack.last().is_some_and(|f| f.indent() > at || (f.indent() == at && matches!(f, Frame::Item { .. })))
            {
                stack.pop();
            }
            stack.push(Frame::Item { indent: at, line: i });
            let after = c[1..].trim_start();
            at += c.len() - after.len();
            c = after;
            if c.is_empty() {
                continue;
            }
        } else {
            while stack.last().is_some_and(|f| f.indent() >= at) {
                stack.pop();
            }
        }
        let Some((key, rest)) = split_key(c) else { continue };
        let mut path: Vec<String> = stack
            .iter()
            .map(|f| match f {
                Frame::Key { key, .. } => key.clone(),
                Frame::Item { .. } => "-".to_string(),
            })
            .collect();
        path.push(key.clone());
        let item = stack.iter().rev().find_map(|f| match f {
            Frame::Item { line, .. } => Some(*line),
            Frame::Key { .. } => None,
        });
        if rest.starts_with('|') || rest.starts_with('>') {
            scalar_above = Some(at);
        }
        out.push(Entry { path, line: i, rest, item });
        stack.push(Frame::Key { indent: at, key });
    }
    out
}

/// The documents of a stream: line ranges between `---` markers.
fn documents(lines: &[&str]) -> Vec<(usize, usize)> {
    let mut docs = Vec::new();
    let mut start = 0;
    for (i, l) in lines.iter().enumerate() {
        if *l == "---" || l.starts_with("--- ") || *l == "..." {
            docs.push((start, i));
            start = i + 1;
        }
    }
    docs.push((start, lines.len()));
    docs
}

fn is(e: &Entry, path: &[&str]) -> bool {
    e.path.len() == path.len() && e.path.iter().zip(path).all(|(a, b)| a == b)
}

fn unquote(s: &str) -> &str {
    let s = s.split(" #").next().unwrap_or(s).trim();
    s.trim_matches('"').trim_matches('\'')
}

fn top(es: &[Entry], key: &str) -> Option<String> {
    es.iter().find(|e| is(e, &[key])).map(|e| unquote(&e.rest).to_string())
}

fn metadata(es: &[Entry], key: &str) -> Option<String> {
    es.iter().find(|e| is(e, &["metadata", key])).map(|e| unquote(&e.rest).to_string())
}

/// Whether the value of entry `at` is `{kind: AWSClusterRoleIdentity, name: IDENTITY}`, in flow or
/// block style.
fn names_identity(es: &[Entry], at: usize) -> bool {
    let e = &es[at];
    let (mut kind, mut name) = (None, None);
    if let Some(inner) = e.rest.strip_prefix('{').and_then(|r| r.split('}').next()) {
        for part in inner.split(',') {
            if let Some((k, v)) = part.split_once(':') {
                match k.trim() {
                    "kind" => kind = Some(unquote(v).to_string()),
                    "name" => name = Some(unquote(v).to_string()),
                    _ => {}
                }
            }
        }
    } else {
        for child in
            es[at + 1..].iter().take_while(|c| c.path.len() > e.path.len() && c.path[..e.path.len()] == e.path[..])
        {
            if child.path.len() == e.path.len() + 1 {
                match child.path.last().map(String::as_str) {
                    Some("kind") => kind = Some(unquote(&child.rest).to_string()),
                    Some("name") => name = Some(unquote(&child.rest).to_string()),
                    _ => {}
                }
            }
        }
    }
    kind.as_deref() == Some(ROLE_IDENTITY) && name.as_deref() == Some(IDENTITY)
}

/// Where each kind carries its identity reference.
fn identity_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "AWSCluster" | "AWSManagedControlPlane" | "ROSAControlPlane" | "ROSANetwork" | "ROSARoleConfig" => {
            Some(&["spec", "identityRef"])
        }
        "AWSClusterTemplate" | "AWSManagedControlPlaneTemplate" => Some(&["spec", "template", "spec", "identityRef"]),
        _ => None,
    }
}

/// The entry of a topology `Cluster`'s `identityRef` variable's `value`, and the variable's item line.
fn variable_value(es: &[Entry]) -> Option<(usize, usize)> {
    let vars = ["spec", "topology", "variables", "-"];
    let item =
        es.iter().find(|e| is(e, &[vars.as_slice(), &["name"]].concat()) && unquote(&e.rest) == "identityRef")?.item?;
    let at = es.iter().position(|e| e.item == Some(item) && is(e, &[vars.as_slice(), &["value"]].concat()))?;
    Some((at, item))
}

/// Counts the identity-carrying objects of `text`; records each one that does not name the
/// workload's identity.
fn targets_named(text: &str, problems: &mut Vec<String>) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let mut count = 0;
    for (start, end) in documents(&lines) {
        let es = entries(&lines, start, end);
        let Some(kind) = top(&es, "kind") else { continue };
        let object = format!("`{kind}` `{}`", metadata(&es, "name").unwrap_or_default());
        let at = if let Some(path) = identity_path(&kind) {
            match es.iter().position(|e| is(e, path)) {
                Some(at) => Some(at),
                None => {
                    problems.push(format!("{object} has no `{}`", path.join(".")));
                    continue;
                }
            }
        } else if kind == "Cluster" {
            variable_value(&es).map(|(at, _)| at)
        } else {
            None
        };
        let Some(at) = at else { continue };
        count += 1;
        if !names_identity(&es, at) {
            problems.push(format!("{object} (line {}) does not name `{ROLE_IDENTITY}` `{IDENTITY}`", es[at].line + 1));
        }
    }
    count
}

/// The original lines xacct may replace: inside an `identityRef` value, or inside the `value` of
/// a topology `Cluster`'s `identityRef` variable.
fn replaceable(lines: &[&str]) -> Vec<bool> {
    let mut out = vec![false; lines.len()];
    for (start, end) in documents(lines) {
        let es = entries(lines, start, end);
        let variable = variable_value(&es);
        for (i, e) in es.iter().enumerate() {
            let under_ref = e.path.iter().any(|k| k == "identityRef");
            let under_variable = variable.is_some_and(|(at, item)| {
                e.item == Some(item)
                    && e.path.len() >= es[at].path.len()
                    && e.path[..es[at].path.len()] == es[at].path[..]
            });
            if under_ref || under_variable {
                // The entry's own line and its continuation lines, up to the next entry.
                let next = es.get(i + 1).map_or(end, |n| n.line);
                for flag in &mut out[e.line..next] {
                    *flag = true;
                }
            }
        }
    }
    out
}

/// Every original line not in a replaceable value appears in `patched`, in the same order.
fn lines_kept(original: &str, patched: &str) -> Option<String> {
    let lines: Vec<&str> = original.lines().collect();
    let allowed = replaceable(&lines);
    let mut after = patched.lines().enumerate();
    for (i, line) in lines.iter().enumerate() {
        if allowed[i] {
            continue;
        }
        if !after.any(|(_, l)| l == *line) {
            return Some(format!("original line {} `{}` is missing or out of order", i + 1, line.trim()));
        }
    }
    None
}

/// The identity documents: one added, named IDENTITY; the file's own kept byte for byte.
fn identity_documents(original: &str, patched: &str) -> Vec<String> {
    let docs = |text: &str| -> Vec<(Option<String>, String)> {
        let lines: Vec<&str> = text.lines().collect();
        documents(&lines)
            .into_iter()
            .filter_map(|(start, end)| {
                let es = entries(&lines, start, end);
                (top(&es, "kind").as_deref() == Some(ROLE_IDENTITY))
                    .then(|| (metadata(&es, "name"), lines[start..end].join("\n")))
            })
            .collect()
    };
    let (before, after) = (docs(original), docs(patched));
    let mut problems = Vec::new();
    if after.len() != before.len() + 1 {
        problems.push(format!(
            "{} identity document(s) before, {} after (expected one more)",
            before.len(),
            after.len()
        ));
    }
    let ours = after.iter().filter(|(n, _)| n.as_deref() == Some(IDENTITY)).count();
    if ours != 1 {
        problems.push(format!("{ours} `{ROLE_IDENTITY}` `{IDENTITY}` documents (expected 1)"));
    }
    for (name, text) in &before {
        if !after.iter().any(|(_, t)| t == text) {
            problems.push(format!("the file's own `{ROLE_IDENTITY}` `{}` was changed", name.as_deref().unwrap_or("?")));
        }
    }
    problems
}

#[test]
fn the_yaml_reader_finds_paths_in_block_and_flush_sequences() {
    let text = "kind: Cluster\nmetadata:\n  name: c\nspec:\n  topology:\n    variables:\n    - name: region\n      value: x\n    - name: identityRef\n      value:\n        kind: AWSClusterRoleIdentity\n        name: dev-account-role\n    version: v1\n  data: |\n    kind: not-a-key\n---\nkind: AWSClusterTemplate\nspec:\n  template:\n    spec:\n      identityRef: {kind: AWSClusterRoleIdentity, name: other}\n";
    let mut problems = Vec::new();
    assert_eq!(targets_named(text, &mut problems), 2);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("`AWSClusterTemplate` ``"), "{problems:?}");
    let lines: Vec<&str> = text.lines().collect();
    let allowed: Vec<usize> = replaceable(&lines).iter().enumerate().filter(|(_, a)| **a).map(|(i, _)| i + 1).collect();
    assert_eq!(allowed, vec![10, 11, 12, 21]);
    assert_eq!(lines_kept("a: 1\nb: 2\n", "a: 1\nx: 0\nb: 2\n"), None);
    assert!(lines_kept("a: 1\nb: 2\n", "b: 2\na: 1\n").is_some());
    assert!(identity_documents(
        "kind: A\n",
        "kind: A\n---\nkind: AWSClusterRoleIdentity\nmetadata:\n  name: dev-account-role\n"
    )
    .is_empty());
    assert_eq!(identity_documents("kind: A\n", "kind: A\n").len(), 2);
}
