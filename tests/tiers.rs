//! The four-tier example (`examples/tiers`) end to end on the emulator: from nothing to applied, a
//! second plan empty, every chain provably allowed, and destroy giving back every role's trust and
//! inline policies and every manifest byte for byte — foreign statements and policies included.

mod common;

use std::collections::BTreeMap;

use common::{root, statements, Scenario, CAPA_ROLE};
use serde_json::{json, Value};
use xacct_test_support::moto;

const TIERS: [(&str, &str); 4] =
    [("dev", "222222222222"), ("test", "333333333333"), ("acc", "444444444444"), ("prod", "555555555555")];

/// Everything xacct may touch: each role's trust and inline policies (their text as IAM returns
/// it, decoded), and each manifest's bytes.
#[derive(Debug, PartialEq)]
struct World {
    trust: BTreeMap<String, String>,
    inline: BTreeMap<String, String>,
    manifests: BTreeMap<String, Vec<u8>>,
}

async fn world(s: &Scenario, accounts: &BTreeMap<&str, String>) -> World {
    let mut trust = BTreeMap::new();
    for (name, acct) in accounts {
        trust.insert(name.to_string(), moto().trust_of(acct, CAPA_ROLE).await.unwrap());
    }
    let mut manifests = BTreeMap::new();
    for (name, _) in TIERS {
        manifests.insert(name.to_string(), std::fs::read(s.path(&format!("clusters/{name}-1.yaml"))).unwrap());
    }
    World { trust, inline: moto().inline_policies(&s.mgmt, CAPA_ROLE).await, manifests }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_tiers_from_nothing_to_applied_and_back() {
    // The scenario gives a management account with the CAPA role; the example supplies the rest.
    let s = Scenario::new(&[]).await;
    let example = root().join("examples/tiers");
    let mut spec = std::fs::read_to_string(example.join("xacct.yaml")).unwrap();
    spec = spec
        .replace("management:\n  account: \"111111111111\"\n", &format!("management:\n  account: \"{}\"\n", s.mgmt));
    let mut accounts = BTreeMap::new();
    accounts.insert("management", s.mgmt.clone());
    for (name, example_account) in TIERS {
        let acct = moto().fresh_account();
        // The prerequisites' trust (ec2) plus a foreign grant some other team added in prod.
        let mut trust = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]});
        if name == "prod" {
            trust["Statement"].as_array_mut().unwrap().push(json!({
                "Sid": "BreakGlass", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{acct}:role/break-glass")}, "Action": "sts:AssumeRole"
            }));
        }
        moto().create_role(&acct, CAPA_ROLE, &trust.to_string()).await;
        spec = spec.replace(&format!("\"{example_account}\""), &format!("\"{acct}\""));
        let manifest = std::fs::read_to_string(example.join(format!("clusters/{name}-1.yaml"))).unwrap();
        std::fs::write(s.path(&format!("clusters/{name}-1.yaml")), manifest).unwrap();
        accounts.insert(name, acct);
    }
    assert!(!spec.contains("111111111111") && !spec.contains("555555555555"), "{spec}");
    std::fs::write(s.path("xacct.yaml"), &spec).unwrap();
    // A foreign inline policy on the management role, which xacct must leave alone.
    let foreign =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}"#;
    moto().put_inline_policy(&s.mgmt, CAPA_ROLE, "capa-controllers", foreign).await;
    let before = world(&s, &accounts).await;

    s.run(&["validate"]).assert_code(0);
    let r = s.run(&["plan", "-o", "tiers.plan", "--json"]);
    r.assert_code(0);
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["applyable"], true);
    // 4 trust statements, the assume policy and 4 manifests.
    assert_eq!(plan["summary"]["create"], 9, "{:#}", plan["summary"]);
    s.run(&["apply", "tiers.plan"]).assert_code(0);

    // Applied: one statement per tier beside the foreign ones, the assume policy beside the
    // foreign policy, each manifest carrying its identity.
    let after = world(&s, &accounts).await;
    let mgmt_arn = format!("arn:aws:iam::{}:role/{CAPA_ROLE}", s.mgmt);
    for (name, _) in TIERS {
        let (stmts, foreign) = (&statements(&after.trust[name]), &statements(&before.trust[name]));
        assert_eq!(stmts.len(), foreign.len() + 1, "{name}: {stmts:#?}");
        assert_eq!(stmts[..stmts.len() - 1], foreign[..], "{name}: foreign statements kept in place");
        let ours = stmts.last().unwrap();
        assert_eq!(ours["Principal"]["AWS"], mgmt_arn);
        let external = &ours["Condition"]["StringEquals"]["sts:ExternalId"];
        match name {
            "acc" => assert_eq!(external, "capa-acc-2f9c1e"),
            "prod" => assert_eq!(external, "capa-prod-7d41aa"),
            _ => assert!(external.is_null(), "{name}: {ours}"),
        }
        let text = String::from_utf8(after.manifests[name].clone()).unwrap();
        assert!(text.contains(&format!("name: {name}-account-role")), "{name}:\n{text}");
        assert!(text.contains(&format!("roleARN: arn:aws:iam::{}:role/{CAPA_ROLE}", accounts[name])), "{text}");
    }
    assert_eq!(after.inline["capa-controllers"], before.inline["capa-controllers"]);
    let assume = &after.inline["xacct-assume-workload-roles"];
    for (name, _) in TIERS {
        assert!(assume.contains(&format!("arn:aws:iam::{}:role/{CAPA_ROLE}", accounts[name])), "{assume}");
    }
    let prod = String::from_utf8(after.manifests["prod"].clone()).unwrap();
    assert!(prod.contains("sessionName: capa-prod") && prod.contains("externalID: capa-prod-7d41aa"), "{prod}");

    // A second plan is empty, nothing drifted, every chain is provably allowed.
    let r = s.run(&["plan", "--detailed-exitcode"]);
    r.assert_code(0);
    assert!(r.stdout.contains("No changes"), "{}", r.stdout);
    s.run(&["drift"]).assert_code(0);
    let r = s.run(&["verify", "--json"]);
    r.assert_code(0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["checks"].as_array().unwrap().len(), 4, "{v:#}");

    // Destroy gives back exactly what was there.
    s.run(&["destroy", "--auto-approve"]).assert_code(0);
    assert_eq!(world(&s, &accounts).await, before);
    assert_eq!(s.run(&["state", "list"]).stdout.trim(), "");
    let r = s.run(&["plan", "--json"]);
    r.assert_code(0);
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["summary"]["create"], 9, "after destroy the same plan as at the start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eks_example_points_the_managed_control_plane_at_the_identity_and_back() {
    let s = Scenario::new(&[]).await;
    let example = root().join("examples/eks");
    let acct = moto().fresh_account();
    moto().create_role(&acct, CAPA_ROLE, xacct_test_support::EC2_TRUST).await;
    let spec = std::fs::read_to_string(example.join("xacct.yaml"))
        .unwrap()
        .replace("\"111111111111\"", &format!("\"{}\"", s.mgmt))
        .replace("\"666666666666\"", &format!("\"{acct}\""));
    std::fs::write(s.path("xacct.yaml"), spec).unwrap();
    let manifest = std::fs::read(example.join("clusters/analytics-eks.yaml")).unwrap();
    std::fs::write(s.path("clusters/analytics-eks.yaml"), &manifest).unwrap();

    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let patched = std::fs::read_to_string(s.path("clusters/analytics-eks.yaml")).unwrap();
    let plane = patched.split("kind: AWSManagedControlPlane\nmetadata").nth(1).unwrap();
    assert!(
        plane.contains("identityRef:\n    kind: AWSClusterRoleIdentity\n    name: analytics-account-role"),
        "{patched}"
    );
    assert!(patched.contains("externalID: capa-analytics-51c0"), "{patched}");
    let ours = statements(&moto().trust_of(&acct, CAPA_ROLE).await.unwrap()).pop().unwrap();
    assert_eq!(ours["Condition"]["StringEquals"]["sts:ExternalId"], "capa-analytics-51c0");
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    s.run(&["verify"]).assert_code(0);
    s.run(&["destroy", "--auto-approve"]).assert_code(0);
    assert_eq!(std::fs::read(s.path("clusters/analytics-eks.yaml")).unwrap(), manifest);
    assert_eq!(moto().trust_of(&acct, CAPA_ROLE).await.unwrap(), xacct_test_support::EC2_TRUST);
}
