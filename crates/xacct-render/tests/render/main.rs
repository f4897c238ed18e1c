//! Snapshot-style tests of every view on hand-built plans and drift reports.
//!
//! Expected outputs live in `tests/render/snapshots/`; after an intended change of the output,
//! rerun with `XACCT_UPDATE_SNAPSHOTS=1` and review the diff of those files.

mod drift;
mod fixtures;
mod plan;

use std::path::PathBuf;

/// Whether a string holds an ANSI escape (or any ESC byte).
pub fn has_ansi(s: &str) -> bool {
    s.contains('\x1b')
}

/// The text with ANSI SGR sequences (`ESC [ … m`) removed.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            assert_eq!(chars.next(), Some('['), "only SGR escapes are expected");
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
                assert!(c.is_ascii_digit() || c == ';', "unexpected byte {c:?} in an escape");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Compare `actual` with the stored snapshot `name`, or rewrite it when `XACCT_UPDATE_SNAPSHOTS` is set.
pub fn snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/render/snapshots").join(name);
    if std::env::var_os("XACCT_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("snapshot {} unreadable ({e}); run with XACCT_UPDATE_SNAPSHOTS=1", path.display()));
    assert_eq!(actual, expected, "snapshot {name} differs; run with XACCT_UPDATE_SNAPSHOTS=1 and review");
}
