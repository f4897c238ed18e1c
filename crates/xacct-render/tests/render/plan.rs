use serde_json::Value;
use xacct_plan::{Action, Plan};
use xacct_render::{plan_human, plan_json, plan_markdown, Style};

use crate::fixtures::*;
use crate::{has_ansi, snapshot, strip_ansi};

const PLAIN: Style = Style { color: false };
const COLOR: Style = Style { color: true };

fn all_plans() -> Vec<(&'static str, Plan)> {
    vec![("full", full_plan()), ("empty", empty_plan()), ("blocked", blocked_plan())]
}

#[test]
fn human_snapshots() {
    for (name, plan) in all_plans() {
        snapshot(&format!("plan_{name}.txt"), &plan_human(&plan, &PLAIN));
    }
}

#[test]
fn markdown_snapshots() {
    for (name, plan) in all_plans() {
        snapshot(&format!("plan_{name}.md"), &plan_markdown(&plan));
    }
}

#[test]
fn json_snapshot() {
    snapshot("plan_full.json", &plan_json(&full_plan()));
}

#[test]
fn summary_lines_are_exact() {
    let full = plan_human(&full_plan(), &PLAIN);
    assert!(
        full.lines()
            .any(|l| l
                == "Plan: 2 to create, 2 to update, 1 to delete, 1 to adopt, 1 to forget. 1 drifted. (7 AWS calls)")
    );
    let empty = plan_human(&empty_plan(), &PLAIN);
    assert_eq!(empty, "No changes. Live IAM and manifests match the desired-state file. (5 AWS calls)\n");
}

#[test]
fn no_ops_and_quiet_roles_are_not_listed() {
    let text = plan_human(&full_plan(), &PLAIN);
    assert!(!text.contains("trust.prod"), "no-op listed");
    assert!(!text.contains("role.management"), "role without a diagnostic listed");
    assert!(text.contains("  ! role.dev  (precondition)"), "role with a diagnostic missing");
    let md = plan_markdown(&full_plan());
    assert!(!md.contains("trust.prod") && !md.contains("role.management"));
}

#[test]
fn every_action_has_its_symbol_and_word() {
    let text = plan_human(&full_plan(), &PLAIN);
    for line in [
        "  + trust.dev  (create)",
        "  ~ trust.test  (update) (drift: changed outside xacct)",
        "  - trust.old  (delete)",
        "  = trust.acc  (adopt)",
        "  ± trust.gone  (forget)",
        "  + manifest.dev[\"clusters/dev-1.yaml\"]  (create)",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    assert!(text.contains("nothing is written"));
    assert!(text.contains("only state changes"));
}

#[test]
fn drift_of_a_deleted_resource_says_so() {
    let mut plan = full_plan();
    plan.drift[0].kind = xacct_plan::DriftKind::Deleted;
    let text = plan_human(&plan, &PLAIN);
    assert!(text.contains("  ~ trust.test  (update) (drift: deleted outside xacct)"), "{text}");
}

#[test]
fn colour_only_when_asked_and_never_alone() {
    for (_, plan) in all_plans() {
        let plain = plan_human(&plan, &PLAIN);
        let colored = plan_human(&plan, &COLOR);
        assert!(!has_ansi(&plain));
        assert!(has_ansi(&colored));
        // Colour adds escapes and nothing else: every symbol and word is there without it.
        assert_eq!(strip_ansi(&colored), plain);
    }
}

#[test]
fn markdown_never_has_ansi_even_from_hostile_text() {
    let mut plan = full_plan();
    plan.changes[2].reason = Some("evil \x1b[31mred\x1b[0m | <script>".into());
    plan.changes[8].diff = Some(format!("{MANIFEST_DIFF}+  note: \"\x1b]0;title\x07\"\n"));
    plan.diagnostics[0].message = "bad \u{9b}31m".into();
    let md = plan_markdown(&plan);
    assert!(!has_ansi(&md));
    assert!(!md.contains('\u{9b}') && !md.contains('\x07'));
    assert!(md.contains("evil \\u{1b}[31mred\\u{1b}[0m \\| &lt;script&gt;"), "{md}");
    // The human view scrubs file and AWS text too: only xacct's own escapes remain.
    let human = plan_human(&plan, &PLAIN);
    assert!(!has_ansi(&human));
    assert!(!has_ansi(&strip_ansi(&plan_human(&plan, &COLOR))));
}

#[test]
fn markdown_fences_survive_backticks_in_a_manifest() {
    let mut plan = full_plan();
    plan.changes[8].diff = Some(format!("{MANIFEST_DIFF}+  # ```\n"));
    let md = plan_markdown(&plan);
    assert!(md.contains("````diff\n"), "{md}");
}

#[test]
fn json_has_no_executor_fields() {
    let json = plan_json(&full_plan());
    let v: Value = serde_json::from_str(&json).unwrap();
    for c in v["changes"].as_array().unwrap() {
        let c = c.as_object().unwrap();
        assert!(!c.contains_key("live") && !c.contains_key("write"), "{c:?}");
        assert!(c.contains_key("state_after") && c.contains_key("live_fingerprint"));
    }
    assert!(!json.contains("whole document"));
    assert!(json.ends_with("}\n"));
    assert_eq!(v.as_object().unwrap().keys().next().map(String::as_str), Some("format_version"));
}

#[test]
fn json_round_trips_everything_else() {
    for (_, plan) in all_plans() {
        let back = Plan::from_json(&plan_json(&plan)).expect("the JSON view reads back as a plan");
        let mut expected = plan.clone();
        for c in &mut expected.changes {
            c.live = None;
            c.write = None;
        }
        assert_eq!(back, expected);
    }
}

#[test]
fn json_matches_the_plan_file_but_for_executor_fields() {
    let plan = full_plan();
    let mut file: Value = serde_json::from_str(&plan.to_json()).unwrap();
    for c in file["changes"].as_array_mut().unwrap() {
        let c = c.as_object_mut().unwrap();
        c.remove("live");
        c.remove("write");
    }
    assert_eq!(serde_json::from_str::<Value>(&plan_json(&plan)).unwrap(), file);
}

#[test]
fn unappliable_plan_says_why() {
    let text = plan_human(&blocked_plan(), &PLAIN);
    assert_eq!(
        text.lines().last(),
        Some("This plan cannot be applied: 1 error above; live IAM was not read (--refresh=false).")
    );
    let mut plan = empty_plan();
    plan.refreshed = false;
    plan.applyable = false;
    let text = plan_human(&plan, &PLAIN);
    assert!(text.ends_with("This plan cannot be applied: live IAM was not read (--refresh=false).\n"), "{text}");
    assert!(!plan_human(&full_plan(), &PLAIN).contains("cannot be applied"));
}

#[test]
fn errors_come_first_with_hints() {
    let text = plan_human(&blocked_plan(), &PLAIN);
    let error = text.find("error: trust.dev: the trust policy").unwrap();
    let hint = text.find("\n\nhint: ask AWS to raise").unwrap();
    let warning = text.find("warning: state has no lineage yet").unwrap();
    assert!(error < hint && hint < warning, "{text}");
}

#[test]
fn pending_manifest_without_diff_falls_back_to_documents() {
    let mut plan = empty_plan();
    let mut c = change("manifest.dev[\"a.yaml\"]", Action::Update);
    c.before = serde_json::json!({ "identity": "old" });
    c.after = serde_json::json!({ "identity": "new" });
    plan.changes.push(c);
    plan.summary.update = 1;
    let text = plan_human(&plan, &PLAIN);
    assert!(text.contains("      -   \"identity\": \"old\"\n      +   \"identity\": \"new\"\n"), "{text}");
}

#[test]
fn markdown_with_a_flood_of_drift_and_diagnostics_stays_under_the_comment_limit() {
    let mut plan = full_plan();
    let one = plan.drift[0].clone();
    plan.drift = (0..2_000).map(|_| one.clone()).collect();
    let diag = xacct_plan::Diagnostic {
        severity: xacct_plan::Level::Warning,
        address: Some("trust.dev".into()),
        message: "a warning long enough to matter ".repeat(5),
        hint: Some("a hint".into()),
    };
    plan.diagnostics = (0..500).map(|_| diag.clone()).collect();
    let md = plan_markdown(&plan);
    assert!(md.len() <= xacct_render::MARKDOWN_LIMIT, "{} characters", md.len());
    assert!(md.contains("and 1950 more drifted resources"), "{}", &md[md.len() - 400..]);
    assert!(md.contains("and 450 more (`xacct plan` shows them all)"));
    assert!(md.contains("| `+` | `trust.dev` | create |"), "changes are still listed");
}

fn with_organization(plan: &mut Plan, inactive: &[(&str, usize)], listed: usize, calls: u64) {
    plan.summary.organizations_calls = Some(calls);
    plan.summary.organization = Some(xacct_plan::OrgCounts {
        org_id: "o-exampleorg1".into(),
        selectors: 2,
        selected: 12,
        listed,
        new: 1,
        inactive: inactive.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
    });
}

#[test]
fn the_organizations_line_comes_before_the_summary() {
    let mut plan = empty_plan();
    with_organization(&mut plan, &[("SUSPENDED", 1)], 0, 9);
    assert_eq!(
        plan_human(&plan, &PLAIN),
        "Organizations: 12 accounts selected by 2 selectors (1 new), 1 SUSPENDED not selected; 9 Organizations calls.\n\
         No changes. Live IAM and manifests match the desired-state file. (5 AWS calls)\n"
    );
    with_organization(&mut plan, &[("CLOSED", 2), ("PENDING_CLOSURE", 1), ("SUSPENDED", 1)], 3, 1);
    assert!(plan_human(&plan, &PLAIN).starts_with(
        "Organizations: 12 accounts selected by 2 selectors (1 new, 3 also listed in the file), 2 CLOSED, 1 PENDING_CLOSURE and 1 SUSPENDED not selected; 1 Organizations call.\n"
    ));
    with_organization(&mut plan, &[], 0, 4);
    let md = plan_markdown(&plan);
    assert!(
        md.contains(
            "5 AWS calls · Organizations: 12 accounts selected by 2 selectors (1 new); 4 Organizations calls.\n"
        ),
        "{md}"
    );
    // Without an organization block, no such line.
    assert!(!plan_human(&empty_plan(), &PLAIN).contains("Organizations"));
    assert!(!plan_markdown(&empty_plan()).contains("Organizations"));
}

#[test]
fn an_unreachable_forget_says_nothing_is_read_there() {
    let mut plan = full_plan();
    let c = plan.changes.iter_mut().find(|c| c.address.to_string() == "trust.gone").unwrap();
    c.unreachable = true;
    let text = plan_human(&plan, &PLAIN);
    assert!(
        text.contains("# only state changes: the account cannot be reached, so nothing is read or written there"),
        "{text}"
    );
    assert!(!text.contains("it is already gone"), "{text}");
}
