//! Views of a [`Plan`].

use serde_json::Value;
use xacct_plan::{Action, Change, Plan, Target};

use crate::human;
use crate::md;
use crate::style::{Style, Tone};
use crate::text;

/// The fields of each change that are for the executor only (whole documents), left out of the
/// machine view.
const EXECUTOR_FIELDS: [&str; 2] = ["live", "write"];

/// The changes a view lists: pending ones, and role preconditions a diagnostic is about.
fn listed(plan: &Plan) -> impl Iterator<Item = &Change> {
    plan.changes.iter().filter(|c| text::shown(c, &plan.diagnostics))
}

fn symbol(change: &Change) -> &'static str {
    if change.kind == "role" {
        "!"
    } else {
        text::action_symbol(change.action())
    }
}

fn action_word(change: &Change) -> &'static str {
    if change.kind == "role" {
        "precondition"
    } else {
        change.action().as_str()
    }
}

/// What "no changes" means for this plan.
fn no_changes(plan: &Plan) -> &'static str {
    if plan.errors().next().is_some() {
        "No changes planned."
    } else if !plan.refreshed {
        "No changes. Stored state matches the desired-state file (live IAM was not read)."
    } else {
        "No changes. Live IAM and manifests match the desired-state file."
    }
}

/// `Plan: 2 to create, … 1 drifted. (7 AWS calls)` or a `No changes.` line.
fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    let drifted = if s.drift > 0 { format!(" {} drifted.", s.drift) } else { String::new() };
    let calls = text::aws_calls(s.aws_calls);
    if plan.has_changes() {
        format!("Plan: {}.{drifted} ({calls})", text::counts(s))
    } else {
        format!("{}{drifted} ({calls})", no_changes(plan))
    }
}

/// Why the plan cannot be applied, when it cannot.
fn blocked(plan: &Plan) -> Option<String> {
    if plan.applyable {
        return None;
    }
    let mut why = Vec::new();
    let errors = plan.errors().count();
    if errors > 0 {
        why.push(text::plural(errors, "error", "errors") + " above");
    }
    if !plan.refreshed {
        why.push("live IAM was not read (--refresh=false)".to_string());
    }
    if why.is_empty() {
        why.push("the plan is marked as not applyable".to_string());
    }
    Some(format!("This plan cannot be applied: {}.", why.join("; ")))
}

/// Notes on how the plan was made, shown first.
fn notes(plan: &Plan) -> Vec<String> {
    let mut notes = Vec::new();
    if !plan.targets.is_empty() {
        notes.push(format!(
            "only these addresses were planned (--target): {}; other changes may be pending",
            plan.targets.join(", ")
        ));
    }
    if !plan.refreshed {
        notes
            .push("live IAM was not read (--refresh=false): this plan compares the file with stored state only".into());
    }
    notes
}

/// The terminal view: a legend, each pending change with its diff, drift, diagnostics and a
/// summary line.
pub fn plan_human(plan: &Plan, style: &Style) -> String {
    let mut out = String::new();
    for note in notes(plan) {
        out.push_str(&format!("{} {}\n", style.paint(Tone::Bold, "note:"), text::clean(&note)));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    let changes: Vec<&Change> = listed(plan).collect();
    if !changes.is_empty() {
        let legend = [
            (Action::Create, "create"),
            (Action::Update, "update"),
            (Action::Delete, "delete"),
            (Action::Adopt, "adopt (no write)"),
            (Action::Forget, "forget (state only)"),
        ];
        let mut items: Vec<String> = legend
            .iter()
            .map(|(a, word)| format!("{} {word}", style.paint(human::action_tone(*a), text::action_symbol(*a))))
            .collect();
        if changes.iter().any(|c| c.kind == "role") {
            items.push(format!("{} precondition", style.paint(Tone::BoldRed, "!")));
        }
        out.push_str(&format!("Symbols: {}\n\n", items.join("   ")));
        out.push_str("xacct will:\n\n");
        for change in changes {
            push_change(&mut out, plan, change, style);
        }
    }
    if !plan.drift.is_empty() {
        out.push_str(&format!(
            "{} changed outside xacct since the last apply ({}):\n",
            style.paint(Tone::Bold, "Drift:"),
            text::plural(plan.drift.len(), "resource", "resources")
        ));
        for d in &plan.drift {
            out.push_str(&format!(
                "  {} {}  ({}) {}\n",
                style.paint(human::drift_tone(d.kind), text::drift_symbol(d.kind)),
                style.paint(Tone::Bold, &d.address.to_string()),
                text::drift_word(d.kind),
                text::clean(&d.detail)
            ));
        }
        out.push('\n');
    }
    human::push_diagnostics(&mut out, style, &plan.diagnostics);
    if let Some(line) = text::organizations(&plan.summary) {
        out.push_str(&text::clean(&line));
        out.push('\n');
    }
    out.push_str(&style.paint(Tone::Bold, &summary_line(plan)));
    out.push('\n');
    if let Some(line) = blocked(plan) {
        out.push_str(&style.paint(Tone::BoldRed, &line));
        out.push('\n');
    }
    out
}

/// Where a change lands, for a reviewer checking accounts: `account 222222222222, role …`.
fn place(change: &Change) -> Option<String> {
    match &change.target {
        Target::Trust { account, role } => Some(format!("trust policy of role {role} in account {account}")),
        Target::InlinePolicy { account, role, policy } => {
            Some(format!("inline policy {policy} of role {role} in account {account}"))
        }
        Target::Iam { account, kind, name } => Some(format!("{} {name} in account {account}", kind.noun())),
        Target::Role { .. } | Target::Manifest { .. } => None,
    }
}

fn push_change(out: &mut String, plan: &Plan, change: &Change, style: &Style) {
    let tone = if change.kind == "role" { Tone::BoldRed } else { human::action_tone(change.action()) };
    out.push_str(&format!(
        "  {} {}  ({})",
        style.paint(tone, symbol(change)),
        style.paint(Tone::Bold, &change.address.to_string()),
        action_word(change)
    ));
    if change.drift {
        out.push_str(&format!(
            " {}",
            style.paint(Tone::Yellow, &format!("(drift: {})", text::drift_note(change, &plan.drift)))
        ));
    }
    out.push('\n');
    if let Some(place) = place(change) {
        human::push_note(out, style, &place);
    }
    if let Some(reason) = &change.reason {
        human::push_note(out, style, reason);
    }
    if let Some(note) = text::no_write_note(change) {
        human::push_note(out, style, note);
    } else if text::is_document(change) {
        human::push_rows(out, style, &text::json_diff(&change.before, &change.after));
    } else if let Some(diff) = &change.diff {
        human::push_unified(out, style, diff);
    }
    out.push('\n');
}

/// The machine view (`--json`): the versioned plan format without each change's executor-only
/// `live` and `write` documents. Pretty-printed, with a trailing newline.
pub fn plan_json(plan: &Plan) -> String {
    let mut value = serde_json::to_value(plan).expect("plans serialize to JSON");
    if let Some(changes) = value.get_mut("changes").and_then(Value::as_array_mut) {
        for change in changes.iter_mut().filter_map(Value::as_object_mut) {
            for field in EXECUTOR_FIELDS {
                change.remove(field);
            }
        }
    }
    let mut s = serde_json::to_string_pretty(&value).expect("JSON values print");
    s.push('\n');
    s
}

/// The pull-request comment view: a heading, a table of changes, collapsed diffs, drift and
/// diagnostics. Never contains ANSI escapes.
pub fn plan_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let s = &plan.summary;
    if plan.has_changes() {
        out.push_str(&format!("### xacct plan: {}\n\n", text::counts(s)));
    } else {
        out.push_str("### xacct plan: no changes\n\n");
    }
    let mut facts = Vec::new();
    if s.drift > 0 {
        facts.push(format!("**{} drifted** (changed outside xacct)", s.drift));
    }
    facts.push(text::aws_calls(s.aws_calls));
    if let Some(line) = text::organizations(s) {
        facts.push(md::cell(&line));
    }
    if !plan.has_changes() {
        facts.insert(0, no_changes(plan).to_string());
    }
    out.push_str(&facts.join(" · "));
    out.push_str("\n\n");
    for note in notes(plan) {
        out.push_str(&format!("> **Note:** {}\n\n", md::cell(&note)));
    }
    let changes: Vec<&Change> = listed(plan).collect();
    let mut rows = Vec::new();
    let mut details = String::new();
    if !changes.is_empty() {
        for c in &changes {
            let drift = if c.drift { text::drift_note(c, &plan.drift) } else { "" };
            let reason = c.reason.as_deref().map(md::cell).unwrap_or_default();
            let account = match &c.target {
                Target::Role { account, .. }
                | Target::Trust { account, .. }
                | Target::InlinePolicy { account, .. }
                | Target::Iam { account, .. } => md::code(account),
                Target::Manifest { .. } => String::new(),
            };
            rows.push(format!(
                "| {} | {} | {} | {account} | {drift} | {reason} |\n",
                md::code(symbol(c)),
                md::code(&c.address.to_string()),
                action_word(c)
            ));
        }
        for c in &changes {
            let summary =
                format!("<code>{}</code> ({})", md::html(&text::clean(&c.address.to_string())), action_word(c));
            if text::no_write_note(c).is_some() {
                continue;
            }
            let diff = if text::is_document(c) {
                text::diff_text(&text::json_diff(&c.before, &c.after))
            } else {
                c.diff.clone().unwrap_or_default()
            };
            if !diff.is_empty() {
                md::push_details(&mut details, &summary, &diff);
            }
        }
    }
    // Drift and diagnostics, whole when they leave room for the changes, else the first of them.
    let tail_of = |max: usize| {
        let mut tail = String::new();
        if !plan.drift.is_empty() {
            tail.push_str("#### Drift\n\n");
            md::push_drift_rows(&mut tail, &plan.drift, max);
        }
        md::push_diagnostics_limited(&mut tail, &plan.diagnostics, max);
        if let Some(line) = blocked(plan) {
            tail.push_str(&format!("**{}**\n", md::cell(&line)));
        }
        tail
    };
    let mut tail = tail_of(usize::MAX);
    if tail.len() > MARKDOWN_LIMIT / 3 {
        tail = tail_of(50);
    }
    fit_comment(&mut out, rows, details, &tail);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// GitHub refuses a comment longer than 65,536 characters; stay well under it.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// Append the changes table, the diffs and `tail` to `out`, leaving out the diffs, then table rows,
/// when the whole would pass [`MARKDOWN_LIMIT`] — saying so, never cutting a row or a diff in half.
fn fit_comment(out: &mut String, rows: Vec<String>, details: String, tail: &str) {
    const HEADER: &str = "| | Address | Action | Account | Drift | Reason |\n|---|---|---|---|---|---|\n";
    // Room for `tail` and a note.
    let fits = |out: &String, extra: usize| out.len() + extra + tail.len() + 400 <= MARKDOWN_LIMIT;
    if !rows.is_empty() {
        out.push_str(HEADER);
        let all = rows.len();
        let mut shown = 0;
        for row in rows {
            if !fits(out, row.len() + 1) {
                break;
            }
            out.push_str(&row);
            shown += 1;
        }
        out.push('\n');
        if shown < all {
            out.push_str(&format!(
                "> **Note:** {} more changes and every diff are left out to keep this comment under GitHub's size limit; `xacct plan` shows them all.\n\n",
                all - shown
            ));
        } else if fits(out, details.len()) {
            out.push_str(&details);
        } else if !details.is_empty() {
            out.push_str(
                "> **Note:** the diffs are left out to keep this comment under GitHub's size limit; `xacct plan` shows them.\n\n",
            );
        }
    }
    out.push_str(tail);
}
