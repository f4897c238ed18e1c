//! `--fail-on`: `verify` and `policy check` fail only on findings at or above a severity; a
//! broken trust chain always fails `verify`.

mod common;

use common::{Scenario, CAPA_ROLE};
use serde_json::Value;
use xacct_test_support::moto;

#[tokio::test(flavor = "multi_thread")]
async fn verify_fails_on_the_chosen_severity_and_always_on_a_broken_chain() {
    let s = Scenario::new(&["dev"]).await;
    let dev = s.workloads[0].1.clone();
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    s.run(&["verify"]).assert_code(0);

    // Someone else's statement requiring a source identity: a WARNING (CAPA never sets one), on a
    // statement xacct does not own; the chain itself stays allowed.
    let mut trust: Value = serde_json::from_str(&moto().trust_of(&dev, CAPA_ROLE).await.unwrap()).unwrap();
    trust["Statement"].as_array_mut().unwrap().push(serde_json::json!({
        "Sid": "Audited", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:SourceIdentity": "auditor"}}
    }));
    moto().put_trust(&dev, CAPA_ROLE, &trust.to_string()).await;
    let r = s.run(&["verify", "--json"]);
    r.assert_code(2);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let severities: Vec<&str> =
        v["findings"].as_array().unwrap().iter().map(|f| f["severity"].as_str().unwrap()).collect();
    assert_eq!(severities, ["warning"], "{v:#}");
    assert!(v["checks"].as_array().unwrap().iter().all(|c| c["outcome"] == "allowed"), "{v:#}");

    // The default (`warning`) and `--fail-on warning` fail; `error` and `security-warning` pass, saying so.
    s.run(&["verify", "--fail-on", "warning"]).assert_code(2);
    for level in ["error", "security-warning"] {
        let r = s.run(&["verify", "--fail-on", level]);
        r.assert_code(0);
        assert!(r.stderr.contains(&format!("1 finding below --fail-on {level}: not failing on it")), "{}", r.stderr);
        assert!(r.stdout.contains("warning: trust.dev:"), "the finding is still printed: {}", r.stdout);
    }

    // A broken chain (xacct's trust statement removed by hand) fails even at `--fail-on error`.
    trust["Statement"].as_array_mut().unwrap().retain(|st| !st["Sid"].as_str().unwrap_or("").starts_with("XacctTrust"));
    moto().put_trust(&dev, CAPA_ROLE, &trust.to_string()).await;
    let r = s.run(&["verify", "--fail-on", "error"]);
    r.assert_code(2);
    assert!(r.stdout.contains("FAIL dev:"), "{}", r.stdout);
}

#[test]
fn policy_check_fails_on_the_chosen_severity() {
    let dir = tempfile::tempdir().unwrap();
    // A WARNING (no Version) and a SUGGESTION-free ERROR-free document otherwise.
    std::fs::write(
        dir.path().join("p.json"),
        r#"{"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::222222222222:role/capa"}]}"#,
    )
    .unwrap();
    let run = |args: &[&str]| common::xacct_in(dir.path(), args, &[]);
    let r = run(&["policy", "check", "p.json", "--json"]);
    r.assert_code(2);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let severities: Vec<&str> =
        v["findings"].as_array().unwrap().iter().map(|f| f["severity"].as_str().unwrap()).collect();
    assert_eq!(severities, ["WARNING"], "{v:#}");
    run(&["policy", "check", "p.json", "--fail-on", "warning"]).assert_code(2);
    run(&["policy", "check", "p.json", "--fail-on", "suggestion"]).assert_code(2);
    run(&["policy", "check", "p.json", "--fail-on", "security-warning"]).assert_code(0);
    run(&["policy", "check", "p.json", "--fail-on", "error"]).assert_code(0);
    let r = run(&["policy", "check", "p.json", "--fail-on", "loud"]);
    r.assert_code(1);
    assert!(r.stderr.contains("[possible values: error, security-warning, warning, suggestion]"), "{}", r.stderr);
}
