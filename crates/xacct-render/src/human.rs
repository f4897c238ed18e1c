//! Building blocks of the terminal views.

use xacct_plan::{Action, Diagnostic, DriftKind, Level};

use crate::style::{Style, Tone};
use crate::text::{self, Row};

/// Indent of everything under a change's heading line.
pub(crate) const BODY: &str = "      ";

pub(crate) fn action_tone(action: Action) -> Tone {
    match action {
        Action::Create => Tone::Green,
        Action::Update => Tone::Yellow,
        Action::Delete => Tone::Red,
        Action::Adopt => Tone::Cyan,
        Action::Forget => Tone::Magenta,
        Action::NoOp => Tone::Dim,
    }
}

pub(crate) fn drift_tone(kind: DriftKind) -> Tone {
    match kind {
        DriftKind::Modified | DriftKind::UniqueIdPrincipal => Tone::Yellow,
        DriftKind::Deleted | DriftKind::RoleMissing => Tone::Red,
    }
}

/// A `# comment` line under a heading.
pub(crate) fn push_note(out: &mut String, style: &Style, note: &str) {
    for line in text::lines(note) {
        out.push_str(BODY);
        out.push_str(&style.paint(Tone::Dim, &format!("# {line}")));
        out.push('\n');
    }
}

/// A JSON line diff, `+`/`-` prefixed and indented.
pub(crate) fn push_rows(out: &mut String, style: &Style, rows: &[Row]) {
    for row in rows {
        out.push_str(BODY);
        let line = match row {
            Row::Same(t) => format!("  {t}"),
            Row::Added(t) => style.paint(Tone::Green, &format!("+ {t}")),
            Row::Removed(t) => style.paint(Tone::Red, &format!("- {t}")),
            Row::Hidden(n) => style
                .paint(Tone::Dim, &format!("  ... ({} hidden)", text::plural(*n, "unchanged line", "unchanged lines"))),
        };
        out.push_str(&line);
        out.push('\n');
    }
}

/// A unified diff (already made by the planner), indented.
pub(crate) fn push_unified(out: &mut String, style: &Style, diff: &str) {
    for line in text::lines(diff) {
        out.push_str(BODY);
        let tone = if line.starts_with("+++") || line.starts_with("---") {
            Some(Tone::Bold)
        } else if line.starts_with('+') {
            Some(Tone::Green)
        } else if line.starts_with('-') {
            Some(Tone::Red)
        } else if line.starts_with("@@") {
            Some(Tone::Cyan)
        } else {
            None
        };
        match tone {
            Some(t) => out.push_str(&style.paint(t, &line)),
            None => out.push_str(&line),
        }
        out.push('\n');
    }
}

/// `error: trust.dev: message`, then a blank line and `hint: …` when there is one. Errors first,
/// each diagnostic followed by a blank line.
pub(crate) fn push_diagnostics(out: &mut String, style: &Style, diagnostics: &[Diagnostic]) {
    let ordered = diagnostics
        .iter()
        .filter(|d| d.severity == Level::Error)
        .chain(diagnostics.iter().filter(|d| d.severity == Level::Warning));
    for d in ordered {
        let tone = match d.severity {
            Level::Error => Tone::BoldRed,
            Level::Warning => Tone::BoldYellow,
        };
        out.push_str(&style.paint(tone, &format!("{}:", text::level_word(d.severity))));
        out.push(' ');
        if let Some(address) = &d.address {
            out.push_str(&style.paint(Tone::Bold, &text::clean(address)));
            out.push_str(": ");
        }
        out.push_str(&text::clean(&d.message));
        out.push('\n');
        if let Some(hint) = &d.hint {
            out.push('\n');
            out.push_str(&style.paint(Tone::BoldCyan, "hint:"));
            out.push(' ');
            out.push_str(&text::clean(hint));
            out.push('\n');
        }
        out.push('\n');
    }
}
