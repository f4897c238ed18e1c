//! Building blocks of the Markdown views (pull-request comments). Nothing here emits ANSI, and
//! text from plans is escaped so it cannot break a table, a fence or the surrounding HTML.

use xacct_plan::{Diagnostic, Drift, Level};

use crate::text;

/// Text for a table cell: no line breaks, no `|`, no raw HTML.
pub(crate) fn cell(s: &str) -> String {
    html(&text::clean(s)).replace('|', "\\|").replace('\n', "<br>")
}

/// An inline code span that survives backticks inside, for a table cell or prose.
pub(crate) fn code(s: &str) -> String {
    let s = text::clean(s).replace('\n', " ");
    let ticks = "`".repeat(longest_run(&s, '`') + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') { " " } else { "" };
    format!("{ticks}{pad}{s}{pad}{ticks}").replace('|', "\\|")
}

/// HTML-escaped text (for `<summary>`).
pub(crate) fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for x in s.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// A collapsed block holding a ```diff fence.
pub(crate) fn push_details(out: &mut String, summary: &str, diff: &str) {
    let body: String = text::lines(diff).into_iter().map(|l| l + "\n").collect();
    let fence = "`".repeat(longest_run(&body, '`').max(2) + 1);
    out.push_str(&format!("<details><summary>{summary}</summary>\n\n{fence}diff\n{body}{fence}\n\n</details>\n\n"));
}

/// Drift as a table: symbol, address, kind, detail.
pub(crate) fn push_drift_table(out: &mut String, drift: &[Drift]) {
    push_drift_rows(out, drift, usize::MAX);
}

/// [`push_drift_table`] with at most `max` rows, and a line saying how many were left out.
pub(crate) fn push_drift_rows(out: &mut String, drift: &[Drift], max: usize) {
    out.push_str("| | Address | Kind | Detail |\n|---|---|---|---|\n");
    for d in drift.iter().take(max) {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            code(text::drift_symbol(d.kind)),
            code(&d.address.to_string()),
            text::drift_word(d.kind),
            cell(&d.detail)
        ));
    }
    if drift.len() > max {
        out.push_str(&format!(
            "\n… and {} more drifted resources (`xacct drift` lists them all).\n",
            drift.len() - max
        ));
    }
    out.push('\n');
}

/// Diagnostics as a list, errors first, hints nested.
pub(crate) fn push_diagnostics(out: &mut String, diagnostics: &[Diagnostic]) {
    push_diagnostics_limited(out, diagnostics, usize::MAX);
}

/// [`push_diagnostics`] with at most `max` entries (errors first), and a line for the rest.
pub(crate) fn push_diagnostics_limited(out: &mut String, diagnostics: &[Diagnostic], max: usize) {
    if diagnostics.is_empty() {
        return;
    }
    out.push_str("#### Diagnostics\n\n");
    let ordered = diagnostics
        .iter()
        .filter(|d| d.severity == Level::Error)
        .chain(diagnostics.iter().filter(|d| d.severity == Level::Warning));
    for d in ordered.take(max) {
        out.push_str(&format!("- **{}**", text::level_word(d.severity)));
        if let Some(address) = &d.address {
            out.push_str(&format!(" {}", code(address)));
        }
        out.push_str(&format!(": {}\n", cell(&d.message)));
        if let Some(hint) = &d.hint {
            out.push_str(&format!("  - hint: {}\n", cell(hint)));
        }
    }
    if diagnostics.len() > max {
        out.push_str(&format!("- … and {} more (`xacct plan` shows them all)\n", diagnostics.len() - max));
    }
    out.push('\n');
}

/// A command that failed before it had anything to show (a held lock, unreadable state, an
/// invalid file), as Markdown: a heading saying so and the error in a fence. CI posts stdout as
/// the comment, so the comment says what went wrong instead of being empty.
pub fn failure_markdown(command: &str, error: &str) -> String {
    let body: String = text::lines(error).into_iter().map(|l| l + "\n").collect();
    let fence = "`".repeat(longest_run(&body, '`').max(2) + 1);
    format!("### xacct {command}: failed\n\nNothing was planned or changed.\n\n{fence}\n{body}{fence}\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_failure_is_a_heading_and_a_fence_that_backticks_cannot_close() {
        let md = super::failure_markdown("plan", "error: state is locked by `ci`\n```\nhint: wait");
        assert!(md.starts_with("### xacct plan: failed\n\nNothing was planned or changed.\n\n````\n"), "{md}");
        assert!(md.ends_with("hint: wait\n````\n"), "{md}");
        assert!(!md.contains('\u{1b}'));
    }
}
