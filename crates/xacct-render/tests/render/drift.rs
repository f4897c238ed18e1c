use xacct_plan::drift::DriftReport;
use xacct_plan::{Diagnostic, Level};
use xacct_render::{drift_human, drift_json, drift_markdown, Style};

use crate::fixtures::*;
use crate::{has_ansi, snapshot, strip_ansi};

const PLAIN: Style = Style { color: false };
const COLOR: Style = Style { color: true };

fn all_reports() -> Vec<(&'static str, DriftReport)> {
    vec![("drifted", drift_report()), ("in_sync", in_sync_report())]
}

#[test]
fn snapshots() {
    for (name, report) in all_reports() {
        snapshot(&format!("drift_{name}.txt"), &drift_human(&report, &PLAIN));
        snapshot(&format!("drift_{name}.md"), &drift_markdown(&report));
    }
    snapshot("drift_drifted.json", &drift_json(&drift_report()));
}

#[test]
fn verdict_lines_are_exact() {
    assert_eq!(
        drift_human(&in_sync_report(), &PLAIN),
        "No drift: 5 resources match what xacct last applied. (6 AWS calls)\n"
    );
    let text = drift_human(&drift_report(), &PLAIN);
    assert_eq!(text.lines().last(), Some("Drift: 2 of 5 resources changed outside xacct. (6 AWS calls)"));
    let one = DriftReport { checked: 1, aws_calls: 1, ..in_sync_report() };
    assert_eq!(drift_human(&one, &PLAIN), "No drift: 1 resource matches what xacct last applied. (1 AWS call)\n");
}

#[test]
fn errors_are_not_called_in_sync() {
    let mut report = in_sync_report();
    report.diagnostics.push(Diagnostic {
        severity: Level::Error,
        address: Some("trust.dev".into()),
        message: "cannot read role `capa` in account 222222222222: access denied".into(),
        hint: Some("check the `access` settings of workload `dev`".into()),
    });
    let text = drift_human(&report, &PLAIN);
    assert!(!text.contains("No drift:"), "{text}");
    assert!(text.starts_with("error: trust.dev: cannot read role"));
    assert!(text.contains("\n\nhint: check the `access` settings"));
    assert!(text.ends_with("No drift found, but 1 error kept xacct from checking everything. (6 AWS calls)\n"));
    assert!(drift_markdown(&report).contains("- **error** `trust.dev`: cannot read role"));
}

#[test]
fn colour_only_when_asked() {
    for (_, report) in all_reports() {
        let colored = drift_human(&report, &COLOR);
        assert!(has_ansi(&colored));
        assert!(!has_ansi(&drift_human(&report, &PLAIN)));
        assert_eq!(strip_ansi(&colored), drift_human(&report, &PLAIN));
        assert!(!has_ansi(&drift_markdown(&report)));
    }
}

#[test]
fn json_round_trips() {
    let report = drift_report();
    let json = drift_json(&report);
    assert!(json.starts_with("{\n  \"format_version\": 1,"));
    assert!(json.ends_with("}\n"));
    let back: DriftReport = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(&report).unwrap());
}

#[test]
fn hostile_detail_is_scrubbed() {
    let mut report = drift_report();
    report.drift[0].detail = "\x1b[2J cleared".into();
    assert!(!has_ansi(&drift_human(&report, &PLAIN)));
    assert!(!has_ansi(&drift_markdown(&report)));
}

#[test]
fn markdown_with_a_flood_of_drift_stays_under_the_comment_limit() {
    let mut report = drift_report();
    let one = report.drift[0].clone();
    report.drift = (0..3_000).map(|_| one.clone()).collect();
    let md = drift_markdown(&report);
    assert!(md.len() <= xacct_render::MARKDOWN_LIMIT, "{} characters", md.len());
    assert!(md.contains("and 2800 more drifted resources"), "{}", &md[md.len() - 300..]);
    assert!(md.contains("diffs are left out"));
}
