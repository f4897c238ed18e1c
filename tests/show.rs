//! `xacct show PLAN` renders a saved plan byte for byte as `xacct plan` printed it, with no AWS
//! call and no state read; `--check` says whether apply would still take it.

mod common;

use common::Scenario;

#[tokio::test(flavor = "multi_thread")]
async fn show_prints_what_plan_printed_in_every_format_without_calling_aws() {
    let s = Scenario::new(&["dev", "test"]).await;
    // A port nothing listens on: any AWS call `show` made would fail (the emulator is "stopped"
    // for it), and the state is moved away so that reading it would fail too.
    let dead = [("AWS_ENDPOINT_URL", "http://127.0.0.1:9"), ("AWS_MAX_ATTEMPTS", "1")];
    for (flags, name) in [(&[][..], "human"), (&["--json"][..], "json"), (&["--format", "markdown"][..], "markdown")] {
        let plan_file = format!("{name}.plan");
        let mut args = vec!["plan", "-o", plan_file.as_str()];
        args.extend_from_slice(flags);
        let planned = s.run(&args);
        planned.assert_code(0);
        assert!(!planned.stdout.is_empty());
        let mut args = vec!["show", plan_file.as_str()];
        args.extend_from_slice(flags);
        let shown = s.run_with(&args, &dead);
        shown.assert_code(0);
        assert_eq!(shown.stdout, planned.stdout, "`xacct show` in {name} differs from what `xacct plan` printed");
        assert!(shown.stderr.is_empty(), "show wrote to stderr: {}", shown.stderr);
    }
    // No state was written by any of it.
    assert!(!s.path("state/default.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn show_check_says_whether_the_plan_is_still_applyable() {
    let s = Scenario::new(&["dev"]).await;
    s.run(&["plan", "-o", "a.plan"]).assert_code(0);
    let r = s.run(&["show", "a.plan", "--check"]);
    r.assert_code(0);
    assert!(r.stderr.contains("a.plan is still applyable"), "{}", r.stderr);
    // Someone applies in between: the saved plan is stale, and `show --check` says so, like apply.
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let r = s.run(&["show", "a.plan", "--check"]);
    r.assert_code(1);
    assert!(r.stderr.contains("the saved plan is stale; nothing was written"), "{}", r.stderr);
    assert!(r.stderr.contains("state serial is"), "{}", r.stderr);
    // It still printed the plan first.
    assert!(r.stdout.contains("trust.dev"), "{}", r.stdout);
}

#[test]
fn show_refuses_what_is_not_a_plan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("garbage.plan"), "{ not json").unwrap();
    let r = common::xacct_in(dir.path(), &["show", "garbage.plan"], &[]);
    r.assert_code(1);
    assert!(
        r.stderr.contains("error: cannot show `garbage.plan`\n  caused by: the plan file is not a valid xacct plan"),
        "{}",
        r.stderr
    );
    let r = common::xacct_in(dir.path(), &["show", "missing.plan"], &[]);
    r.assert_code(1);
    assert!(r.stderr.contains("cannot read the plan `missing.plan`"), "{}", r.stderr);
}
