//! Views of a [`DriftReport`].

use xacct_plan::drift::DriftReport;
use xacct_plan::Drift;

use crate::human;
use crate::md;
use crate::style::{Style, Tone};
use crate::text;

fn errors(report: &DriftReport) -> usize {
    report.diagnostics.iter().filter(|d| d.severity == xacct_plan::Level::Error).count()
}

/// `Drift: 2 of 5 resources changed outside xacct.` or a `No drift` sentence, without the call count.
fn verdict(report: &DriftReport) -> String {
    let errors = errors(report);
    if !report.in_sync() {
        format!(
            "Drift: {} of {} changed outside xacct.",
            report.drift.len(),
            text::plural(report.checked, "resource", "resources")
        )
    } else if errors > 0 {
        format!("No drift found, but {} kept xacct from checking everything.", text::plural(errors, "error", "errors"))
    } else if report.checked == 0 {
        "No drift: state holds nothing xacct has applied yet.".to_string()
    } else {
        let n = text::plural(report.checked, "resource matches", "resources match");
        format!("No drift: {n} what xacct last applied.")
    }
}

/// The stored → live diff of one drift entry.
fn rows(d: &Drift) -> Vec<text::Row> {
    text::json_diff(&d.stored, &d.live)
}

/// The terminal view: each drifted resource with its kind, detail and a stored → live diff, then
/// diagnostics and a verdict line.
pub fn drift_human(report: &DriftReport, style: &Style) -> String {
    let mut out = String::new();
    if !report.drift.is_empty() {
        out.push_str("Changed outside xacct since xacct last applied them (- stored, + live):\n\n");
        for d in &report.drift {
            out.push_str(&format!(
                "  {} {}  ({})\n",
                style.paint(human::drift_tone(d.kind), text::drift_symbol(d.kind)),
                style.paint(Tone::Bold, &d.address.to_string()),
                text::drift_word(d.kind)
            ));
            human::push_note(&mut out, style, &d.detail);
            human::push_rows(&mut out, style, &rows(d));
            out.push('\n');
        }
    }
    human::push_diagnostics(&mut out, style, &report.diagnostics);
    let tone = if report.in_sync() && errors(report) == 0 { Tone::Bold } else { Tone::BoldYellow };
    out.push_str(&style.paint(tone, &format!("{} ({})", verdict(report), text::aws_calls(report.aws_calls))));
    out.push('\n');
    out
}

/// The machine view (`drift --json`): the versioned report, pretty-printed, trailing newline.
pub fn drift_json(report: &DriftReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("drift reports serialize to JSON");
    s.push('\n');
    s
}

/// The pull-request or issue comment view: a heading, a table and collapsed stored → live diffs.
/// Never contains ANSI escapes.
pub fn drift_markdown(report: &DriftReport) -> String {
    let mut out = String::new();
    if report.in_sync() {
        out.push_str("### xacct drift: none\n\n");
    } else {
        out.push_str(&format!(
            "### xacct drift: {} of {} changed outside xacct\n\n",
            report.drift.len(),
            text::plural(report.checked, "resource", "resources")
        ));
    }
    if report.in_sync() {
        out.push_str(&format!("{} · ", md::cell(&verdict(report))));
    }
    out.push_str(&format!("{}\n\n", text::aws_calls(report.aws_calls)));
    // Like the plan's, this fits an issue or pull-request comment (65,536 characters): the diffs
    // are left out first, then rows and diagnostics beyond the first 200 and 50.
    let mut details = String::new();
    for d in &report.drift {
        let diff = text::diff_text(&rows(d));
        if !diff.is_empty() {
            let summary = format!(
                "<code>{}</code> ({}): stored → live",
                md::html(&text::clean(&d.address.to_string())),
                text::drift_word(d.kind)
            );
            md::push_details(&mut details, &summary, &diff);
        }
    }
    let mut table = String::new();
    if !report.drift.is_empty() {
        md::push_drift_table(&mut table, &report.drift);
    }
    let mut diagnostics = String::new();
    md::push_diagnostics(&mut diagnostics, &report.diagnostics);
    let limit = crate::plan::MARKDOWN_LIMIT;
    if out.len() + table.len() + diagnostics.len() > limit {
        table.clear();
        md::push_drift_rows(&mut table, &report.drift, 200);
        diagnostics.clear();
        md::push_diagnostics_limited(&mut diagnostics, &report.diagnostics, 50);
    }
    out.push_str(&table);
    if out.len() + details.len() + diagnostics.len() <= limit {
        out.push_str(&details);
    } else if !details.is_empty() {
        out.push_str("> **Note:** the stored → live diffs are left out to keep this comment under GitHub's size limit; `xacct drift` shows them.\n\n");
    }
    out.push_str(&diagnostics);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
