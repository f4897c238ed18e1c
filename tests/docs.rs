//! The console examples in `README.md` and `docs/*.md` are tests, so a page cannot drift from the
//! binary again.
//!
//! Every ` ```console ` block runs. Each `$ ` line is a shell command (`\` at the end continues it
//! on the next line); the lines up to the next `$ ` are what it prints, stdout and stderr together,
//! as a terminal shows them. The expected text may elide: `[..]` matches the rest of a line (or a
//! part of it), a line `...` matches any number of lines (snapbox's matching). UUIDs, RFC 3339
//! timestamps, SHA-256 digests and `"elapsed_ms"` values are normalised on both sides, so a page
//! can show realistic ones.
//!
//! The HTML comment on the line before the fence says where the block runs:
//! `<!-- doctest: dir=NAME [live] -->`. `dir=NAME` copies `tests/docs/NAME/` into a temporary
//! directory (blocks of one page naming the same `dir` share it, in page order, so a later block
//! sees the files an earlier one wrote); `dir=repo` runs in the repository itself (read-only
//! commands only). `live` points the commands at the emulator: the fixture's account IDs of twelve
//! equal digits (`111111111111`, `222222222222`, …) are replaced by fresh emulator accounts, each
//! given the CAPA role (except those named by `norole=ID`), and mapped back in what the commands print. Without a comment the block
//! runs in an empty temporary directory. `xacct` on the `PATH` is the binary under test.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{root, CAPA_ROLE};

/// One `$ ` command of a block and the text it is documented to print.
#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    expected: String,
}

#[derive(Debug)]
struct Block {
    page: String,
    line: usize,
    dir: Option<String>,
    live: bool,
    /// Page accounts that get no CAPA role (`norole=ID`, repeatable).
    norole: Vec<String>,
    steps: Vec<Step>,
}

fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The console blocks of one page, with their `doctest` settings.
fn blocks(page: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(page).unwrap();
    let rel = page.strip_prefix(root()).unwrap().display().to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_start();
        if !fence.starts_with("```") {
            i += 1;
            continue;
        }
        let ticks = fence.len() - fence.trim_start_matches('`').len();
        let lang = fence.trim_start_matches('`').trim();
        let start = i;
        i += 1;
        let mut body = Vec::new();
        // A fence closes on a line of at least as many backticks and nothing else (so a
        // ````console block can show output that holds a ``` fence).
        let closes = |l: &str| {
            let l = l.trim();
            l.len() >= ticks && l.bytes().all(|b| b == b'`')
        };
        while i < lines.len() && !closes(lines[i]) {
            body.push((i + 1, lines[i]));
            i += 1;
        }
        i += 1;
        if lang != "console" {
            continue;
        }
        let (mut dir, mut live, mut norole) = (None, false, Vec::new());
        if let Some(comment) = start.checked_sub(1).map(|p| lines[p].trim()) {
            if let Some(settings) = comment.strip_prefix("<!-- doctest:").and_then(|c| c.strip_suffix("-->")) {
                for word in settings.split_whitespace() {
                    match word.split_once('=') {
                        Some(("dir", d)) => dir = Some(d.to_string()),
                        Some(("norole", a)) => norole.push(a.to_string()),
                        None if word == "live" => live = true,
                        _ => panic!("{rel}:{start}: unknown doctest setting `{word}`"),
                    }
                }
            }
        }
        let mut steps: Vec<Step> = Vec::new();
        let mut continuing = false;
        for (n, l) in body {
            if continuing {
                let step = steps.last_mut().unwrap();
                step.command.push('\n');
                step.command.push_str(l);
                continuing = l.ends_with('\\');
            } else if let Some(cmd) = l.strip_prefix("$ ") {
                steps.push(Step { line: n, command: cmd.to_string(), expected: String::new() });
                continuing = cmd.ends_with('\\');
            } else {
                let step = steps
                    .last_mut()
                    .unwrap_or_else(|| panic!("{rel}:{n}: a console block must start with a `$ ` command"));
                step.expected.push_str(l);
                step.expected.push('\n');
            }
        }
        assert!(!steps.is_empty(), "{rel}:{}: a console block without a `$ ` command", start + 1);
        out.push(Block { page: rel.clone(), line: start + 1, dir, live, norole, steps });
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("fixture {}: {e}", from.display())) {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every account ID of twelve equal digits in the files under `dir`.
fn placeholder_accounts(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            placeholder_accounts(&path, found);
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        for d in '1'..='9' {
            let id: String = std::iter::repeat_n(d, 12).collect();
            if text.contains(&id) && !found.contains(&id) {
                found.push(id);
            }
        }
    }
}

fn replace_in_files(dir: &Path, map: &[(String, String)]) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            replace_in_files(&path, map);
            continue;
        }
        let Ok(mut text) = std::fs::read_to_string(&path) else { continue };
        for (from, to) in map {
            text = text.replace(from, to);
        }
        std::fs::write(&path, text).unwrap();
    }
}

/// What both sides go through before they are compared: UUIDs and timestamps made constant,
/// trailing spaces and blank lines at the end dropped.
fn normalise(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(normalise_line(line).trim_end());
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn normalise_line(line: &str) -> String {
    let b = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if is_uuid(&b[i..]) {
            out.push_str("2b1f6c0e-0000-4000-8000-000000000001");
            i += 36;
        } else if b.len() - i >= 64 && b[i..i + 64].iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
            // A SHA-256 (a manifest's digest depends on the fresh account IDs in it).
            out.push_str(&"0".repeat(64));
            i += 64;
        } else if let Some(rest) = line[i..].strip_prefix("\"elapsed_ms\":") {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            out.push_str("\"elapsed_ms\":0");
            i += "\"elapsed_ms\":".len() + digits;
        } else if let Some(n) = timestamp_len(&b[i..]) {
            out.push_str("2026-01-01T00:00:00Z");
            i += n;
        } else {
            let c = line[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() >= 36
        && b[..36].iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
        })
}

/// `2026-12-01T19:01:37Z` or with fractional seconds and/or an offset.
fn timestamp_len(b: &[u8]) -> Option<usize> {
    let shape = b"dddd-dd-ddTdd:dd:dd";
    if b.len() < shape.len() || !shape.iter().zip(b).all(|(s, c)| if *s == b'd' { c.is_ascii_digit() } else { s == c })
    {
        return None;
    }
    let mut n = shape.len();
    if b.get(n) == Some(&b'.') {
        n += 1;
        while b.get(n).is_some_and(u8::is_ascii_digit) {
            n += 1;
        }
    }
    match b.get(n) {
        Some(b'Z') => Some(n + 1),
        Some(b'+' | b'-') if b.len() >= n + 6 => Some(n + 6),
        _ => Some(n),
    }
}

struct Place {
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    /// fresh account → the page's account
    accounts: Vec<(String, String)>,
    env: Vec<(String, String)>,
}

async fn place(block: &Block) -> Place {
    if block.dir.as_deref() == Some("repo") {
        return Place { dir: root(), _temp: None, accounts: Vec::new(), env: Vec::new() };
    }
    let temp = tempfile::tempdir().unwrap();
    if let Some(d) = &block.dir {
        copy_dir(&root().join("tests/docs").join(d), temp.path());
    }
    let mut accounts = Vec::new();
    let mut env = Vec::new();
    if block.live {
        let moto = xacct_test_support::moto();
        let mut ids = Vec::new();
        placeholder_accounts(temp.path(), &mut ids);
        let mut map = Vec::new();
        for id in ids {
            let fresh = moto.fresh_account();
            if !block.norole.contains(&id) {
                moto.create_role(&fresh, CAPA_ROLE, xacct_test_support::EC2_TRUST).await;
            }
            map.push((id.clone(), fresh.clone()));
            accounts.push((fresh, id));
        }
        replace_in_files(temp.path(), &map);
        for (k, v) in [
            ("AWS_ENDPOINT_URL", moto.endpoint_url()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_CONFIG_FILE", "/nonexistent/xacct-test"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/xacct-test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            env.push((k.to_string(), v.to_string()));
        }
    }
    Place { dir: temp.path().to_path_buf(), _temp: Some(temp), accounts, env }
}

/// Run one command in `place`; `status` is the exit status of the block's previous command (what
/// `$?` shows), and becomes this one's.
fn run(place: &Place, command: &str, status: &mut i32) -> String {
    let mut command = command.to_string();
    for (fresh, page) in &place.accounts {
        command = command.replace(page, fresh);
    }
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_xacct")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("(exit {status}); {{ {command}\n}} 2>&1"))
        .current_dir(&place.dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("XACCT_FILE")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(std::process::Stdio::null());
    for (k, v) in &place.env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run sh");
    *status = out.status.code().unwrap_or(-1);
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    for (fresh, page) in &place.accounts {
        text = text.replace(fresh, page);
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn every_console_example_in_the_docs_prints_what_it_shows() {
    let assert = snapbox::Assert::new().action(snapbox::assert::Action::Verify).normalize_paths(false);
    let mut failures = Vec::new();
    let mut ran = 0;
    for page in pages() {
        // Blocks of one page naming the same `dir` share one place, in page order.
        let mut places: BTreeMap<(String, bool), Place> = BTreeMap::new();
        for block in blocks(&page) {
            let key = (block.dir.clone().unwrap_or_default(), block.live);
            if block.dir.is_none() || !places.contains_key(&key) {
                let p = place(&block).await;
                places.insert(key.clone(), p);
            }
            let place = &places[&key];
            let mut status = 0;
            for step in &block.steps {
                let actual = tokio::task::block_in_place(|| run(place, &step.command, &mut status));
                ran += 1;
                let (actual, expected) = (normalise(&actual), normalise(&step.expected));
                if let Err(e) = assert.try_eq(Some(&"actual"), actual.into(), expected.into()) {
                    failures.push(format!(
                        "{}:{} (block at line {}): `$ {}` printed something else:\n{e}",
                        block.page, step.line, block.line, step.command
                    ));
                }
            }
        }
    }
    assert!(ran >= 10, "only {ran} documented commands found: is the block syntax still ```console?");
    assert!(
        failures.is_empty(),
        "{} of {ran} documented commands differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_runner_reads_blocks_commands_continuations_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.md");
    std::fs::write(
        &page,
        "text\n<!-- doctest: dir=policy-diff live -->\n```console\n$ xacct a \\\n    b\nout 1\n$ echo $?\n0\n```\n```sh\n$ not run\n```\n````console\n$ plain\n```\nfenced\n```\n````\n",
    )
    .unwrap();
    // `blocks` wants pages under the repository; read this one directly.
    let text = std::fs::read_to_string(&page).unwrap();
    let copy = root().join("target/doctest-runner-self-test.md");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::write(&copy, text).unwrap();
    let b = blocks(&copy);
    assert_eq!(b.len(), 2);
    assert_eq!((b[0].dir.as_deref(), b[0].live, b[0].line), (Some("policy-diff"), true, 3));
    assert!(b[0].norole.is_empty());
    assert_eq!(b[0].steps.len(), 2);
    assert_eq!(b[0].steps[0].command, "xacct a \\\n    b");
    assert_eq!(b[0].steps[0].expected, "out 1\n");
    assert_eq!((b[0].steps[1].command.as_str(), b[0].steps[1].expected.as_str()), ("echo $?", "0\n"));
    assert_eq!((b[1].dir.as_deref(), b[1].live), (None, false));
    assert_eq!(b[1].steps[0].expected, "```\nfenced\n```\n");
    assert_eq!(
        normalise("lock 0f3c2a9e-1b2c-4d5e-8f90-123456789abc at 2026-12-01T19:01:37.123Z  \n\n"),
        "lock 2b1f6c0e-0000-4000-8000-000000000001 at 2026-01-01T00:00:00Z\n"
    );
    assert_eq!(
        normalise(&format!("{{\"sha256\": \"{}\", \"elapsed_ms\":321}}", "ab12".repeat(16))),
        format!("{{\"sha256\": \"{}\", \"elapsed_ms\":0}}\n", "0".repeat(64))
    );
}
