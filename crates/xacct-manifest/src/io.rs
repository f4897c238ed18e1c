//! Diffs for plans and atomic writes for apply.

use std::io::Write;
use std::path::Path;

/// A unified diff (3 lines of context) between two versions of a file, labelled
/// `a/<label>` and `b/<label>`. Empty when the texts are equal.
pub fn unified_diff(path_label: &str, before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path_label}"), &format!("b/{path_label}"))
        .to_string()
}

/// Replaces the file at `path` with `text` atomically: a temporary file in the same directory,
/// flushed to disk, then renamed over the original (keeping the original's permissions).
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".xacct-").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Make the rename durable where the platform allows syncing a directory.
        let _ = d.sync_all();
    }
    Ok(())
}
