//! End to end on the emulator: workload accounts discovered from AWS Organizations, through the
//! real binary, against an organization arranged in moto with the SDK (one per test, from a fresh
//! management account: moto keeps one organization per management account).
//!
//! ```text
//! root ─┬─ workloads ─── team ─── deep
//!       │  workloads: Workloads Tagged (capa=enabled), Workloads Untagged
//!       │  team:      Team Tagged (capa=enabled), Team Excepted (capa=enabled, in `except`),
//!       │             Team Closed (capa=enabled, then CloseAccount)
//!       │  deep:      Deep Tagged (capa=enabled), Deep Untagged
//!       └─ other:     Other Tagged (capa=enabled): outside both selectors
//! ```
//!
//! Two selectors: every account below `deep`; and below `workloads` those tagged
//! `capa: enabled`, except `Team Excepted`. Every account has the CAPA role with a trust xacct
//! did not write (EC2's statement and a foreign one), which must survive everything.

mod common;

use std::collections::BTreeMap;

use common::{statements, xacct_in, Run, CAPA_ROLE};
use serde_json::Value;
use xacct_test_support::moto;
use xacct_test_support::org::{trust_with_foreign_statement, Org};

/// The organization, the directory holding `xacct.yaml` and its state, and the accounts.
struct World {
    org: Org,
    dir: tempfile::TempDir,
    workloads: String,
    team: String,
    deep: String,
    other: String,
    /// Account IDs by the workload name each account's name gives (`Deep Tagged` → `deep-tagged`).
    ids: BTreeMap<&'static str, String>,
    env: Vec<(&'static str, String)>,
}

/// What each account is called, where it goes, and whether it gets `capa: enabled`.
const LAYOUT: [(&str, &str, &str, bool); 8] = [
    ("workloads-tagged", "Workloads Tagged", "workloads", true),
    ("workloads-untagged", "Workloads Untagged", "workloads", false),
    ("team-tagged", "Team Tagged", "team", true),
    ("team-excepted", "Team Excepted", "team", true),
    ("team-closed", "Team Closed", "team", true),
    ("deep-tagged", "Deep Tagged", "deep", true),
    ("deep-untagged", "Deep Untagged", "deep", false),
    ("other-tagged", "Other Tagged", "other", true),
];

/// The selected accounts of the layout, by workload name.
const SELECTED: [&str; 4] = ["deep-tagged", "deep-untagged", "team-tagged", "workloads-tagged"];

impl World {
    async fn new() -> World {
        let m = moto();
        let org = Org::create(m).await;
        m.create_role(&org.management, CAPA_ROLE, xacct_test_support::EC2_TRUST).await;
        let chain = org.create_ou_chain(&org.root, &["workloads", "team", "deep"]).await;
        let other = org.create_ou(&org.root, "other").await;
        let (workloads, team, deep) = (chain[0].clone(), chain[1].clone(), chain[2].clone());
        let mut w = World {
            org,
            dir: tempfile::tempdir().unwrap(),
            workloads,
            team,
            deep,
            other,
            ids: BTreeMap::new(),
            env: vec![
                ("AWS_ENDPOINT_URL", m.endpoint_url().to_string()),
                ("AWS_ACCESS_KEY_ID", "testing".into()),
                ("AWS_SECRET_ACCESS_KEY", "testing".into()),
                ("AWS_REGION", m.region().to_string()),
                ("AWS_CONFIG_FILE", "/nonexistent/xacct-test".into()),
                ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/xacct-test".into()),
                ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ],
        };
        for (key, name, ou, tagged) in LAYOUT {
            let tags: &[(&str, &str)] = if tagged { &[("capa", "enabled")] } else { &[] };
            let id = w.create_account(name, w.ou(ou), tags).await;
            w.ids.insert(key, id);
        }
        w.org.close_account(&w.ids["team-closed"]).await;
        w.write_spec();
        w
    }

    fn ou(&self, name: &str) -> &str {
        match name {
            "workloads" => &self.workloads,
            "team" => &self.team,
            "deep" => &self.deep,
            "other" => &self.other,
            _ => panic!("no OU {name}"),
        }
    }

    /// `CreateAccount` below `parent`, and the CAPA role in it with the foreign trust.
    async fn create_account(&self, name: &str, parent: &str, tags: &[(&str, &str)]) -> String {
        let id = self.org.create_account(name, parent, tags).await;
        moto().create_role(&id, CAPA_ROLE, &trust_with_foreign_statement(&id)).await;
        id
    }

    fn spec(&self) -> String {
        format!(
            "version: 1\n\
             defaults:\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\n\
             management:\n  account: \"{m}\"\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\n  assume_policy: {{ grant: organization }}\n\
             organization:\n  access: {{ assume_role: {{ role_arn: \"arn:aws:iam::{m}:role/OrganizationAccountAccessRole\" }} }}\n  workloads:\n    - ou: {deep}\n    - ou: {workloads}\n      tags: {{ capa: enabled }}\n      except: [\"{excepted}\"]\n",
            m = self.org.management,
            deep = self.deep,
            workloads = self.workloads,
            excepted = self.ids["team-excepted"],
        )
    }

    fn write_spec(&self) {
        std::fs::write(self.dir.path().join("xacct.yaml"), self.spec()).unwrap();
    }

    fn run(&self, args: &[&str]) -> Run {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        tokio::task::block_in_place(|| xacct_in(self.dir.path(), args, &env))
    }

    /// `xacct plan --json ARGS`, exit 0, parsed.
    fn plan(&self, args: &[&str]) -> Value {
        let mut all = vec!["plan", "--json"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        r.assert_code(0);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("plan JSON ({e}): {}", r.stdout))
    }

    fn state_bytes(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("state/default.json")).expect("the state file")
    }

    /// The live trust of every arranged account's CAPA role (the closed one included).
    async fn trusts(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (key, id) in &self.ids {
            out.insert(key.to_string(), moto().trust_of(id, CAPA_ROLE).await.unwrap());
        }
        out
    }

    fn mgmt_role(&self) -> String {
        format!("arn:aws:iam::{}:role/{CAPA_ROLE}", self.org.management)
    }
}

/// Every change of a plan: (address, action, the account it lands in).
fn changes(plan: &Value) -> Vec<(String, String, String)> {
    plan["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changes list: {plan:#}"))
        .iter()
        .map(|c| {
            let actions = c["actions"].as_array().unwrap();
            assert_eq!(actions.len(), 1, "{c}");
            (
                c["address"].as_str().unwrap().to_string(),
                actions[0].as_str().unwrap().to_string(),
                c["target"]["account"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The changes other than `no-op`: (address, action).
fn writes(plan: &Value) -> Vec<(String, String)> {
    changes(plan).into_iter().filter(|(_, a, _)| a != "no-op").map(|(addr, a, _)| (addr, a)).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_plans_joins_leaves_closures_and_refuses_a_mass_removal() {
    let mut w = World::new().await;
    let m = moto();
    let original = w.trusts().await;
    assert_eq!(w.org.state_of(&w.ids["team-closed"]).await, "SUSPENDED", "moto's CloseAccount suspends");

    // The first plan selects exactly the four accounts: a role precondition and a trust
    // statement to create in each, in its own account, and the assume policy.
    w.run(&["validate"]).assert_code(0);
    let plan = w.plan(&[]);
    // Role preconditions for the management account too, sorted by name.
    let mut want: Vec<(String, String, String)> = SELECTED
        .iter()
        .map(|key| (format!("role.{key}"), "no-op".to_string(), w.ids[*key].clone()))
        .chain([("role.management".to_string(), "no-op".to_string(), w.org.management.clone())])
        .collect();
    want.sort();
    for key in SELECTED {
        want.push((format!("trust.{key}"), "create".to_string(), w.ids[key].clone()));
    }
    want.push(("assume_policy.management".to_string(), "create".to_string(), w.org.management.clone()));
    assert_eq!(changes(&plan), want, "{:#}", plan["changes"]);
    let summary = &plan["summary"];
    assert_eq!(summary["organization"]["org_id"], w.org.id.as_str(), "{summary}");
    assert_eq!(summary["organization"]["selectors"], 2, "{summary}");
    assert_eq!(summary["organization"]["selected"], 4, "{summary}");
    assert_eq!(summary["organization"]["new"], 4, "{summary}");
    assert_eq!(summary["organization"]["listed"], 0, "{summary}");
    assert_eq!(summary["organization"]["inactive"], serde_json::json!({"SUSPENDED": 1}), "{summary}");
    // DescribeOrganization; ListParents deep → team → workloads → root; one page each of
    // ListAccountsForParent and ListOrganizationalUnitsForParent for deep, workloads and team
    // (deep once for both selectors); ListTagsForResource for the five ACTIVE candidates of the
    // tag selector (not the excepted nor the suspended account). `other` is never listed.
    assert_eq!(summary["organizations_calls"], 1 + 3 + 3 * 2 + 5, "{summary}");
    // The assume policy grants by the organization discovery found.
    let policy = plan["changes"].as_array().unwrap().iter().find(|c| c["address"] == "assume_policy.management");
    let policy = policy.unwrap()["after"].to_string();
    assert!(policy.contains(&w.org.id), "{policy}");

    // Apply: xacct's statement joins each selected trust after the two that were there; nothing
    // else is touched.
    w.run(&["apply", "--auto-approve"]).assert_code(0);
    let applied = w.trusts().await;
    for (key, trust) in &applied {
        if SELECTED.contains(&key.as_str()) {
            let stmts = statements(trust);
            assert_eq!(stmts.len(), 3, "{key}: {trust}");
            assert_eq!(stmts[..2], statements(&original[key])[..], "{key}: {trust}");
            assert_eq!(stmts[2]["Principal"]["AWS"], w.mgmt_role(), "{key}: {trust}");
        } else {
            assert_eq!(trust, &original[key], "{key} is not selected");
        }
    }
    let policies = m.inline_policies(&w.org.management, CAPA_ROLE).await;
    assert!(policies["xacct-assume-workload-roles"].contains(&w.org.id), "{policies:?}");

    // A second plan is empty.
    w.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // A new account in the nested OU is the only change of the next plan.
    let new = w.create_account("Deep New", &w.deep, &[]).await;
    let plan = w.plan(&[]);
    assert_eq!(writes(&plan), pairs(&[("trust.deep-new", "create")]), "{:#}", plan["changes"]);
    let target = changes(&plan).into_iter().find(|(a, _, _)| a == "trust.deep-new").unwrap().2;
    assert_eq!(target, new);
    w.run(&["apply", "--auto-approve"]).assert_code(0);
    w.ids.insert("deep-new", new.clone());
    let new_original = trust_with_foreign_statement(&new);
    w.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // Moving an account out of the selection plans exactly its delete; the apply removes only
    // xacct's statement: the trust is again the document that was there, byte for byte.
    let moved = w.ids["workloads-tagged"].clone();
    w.org.move_account(&moved, &w.other).await;
    let plan = w.plan(&[]);
    assert_eq!(writes(&plan), pairs(&[("trust.workloads-tagged", "delete")]), "{:#}", plan["changes"]);
    w.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(m.trust_of(&moved, CAPA_ROLE).await.unwrap(), original["workloads-tagged"]);
    let listed = w.run(&["state", "list"]);
    listed.assert_code(0);
    assert!(!listed.stdout.contains("trust.workloads-tagged"), "{}", listed.stdout);
    w.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // Moving every selected account out at once is refused, and nothing changes.
    let remaining = ["deep-new", "deep-tagged", "deep-untagged", "team-tagged"];
    let state_before = w.state_bytes();
    let live_before = w.trusts().await;
    let (deep_from, team_from) = (w.deep.clone(), w.team.clone());
    for key in remaining {
        w.org.move_account(&w.ids[key], &w.other).await;
    }
    for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let r = w.run(args);
        r.assert_code(1);
        // The refusal is one of the plan's errors, printed with the plan (stdout).
        let refusal =
            "refusing to remove 4 of the 4 trust statements state holds for accounts discovered from AWS Organizations";
        assert!(r.stdout.contains(refusal), "{args:?}: {}\n--- stderr\n{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("--allow-removals"), "{args:?}: {}", r.stdout);
        assert_eq!(w.state_bytes(), state_before, "{args:?} wrote the state");
        assert_eq!(w.trusts().await, live_before, "{args:?} wrote a trust");
    }
    // With --allow-removals the plan lists the four deletes, and the assume policy's (no
    // workload left); not applied here.
    let plan = w.plan(&["--allow-removals"]);
    let mut want: Vec<(String, String)> =
        remaining.iter().map(|k| (format!("trust.{k}"), "delete".to_string())).collect();
    want.push(("assume_policy.management".to_string(), "delete".to_string()));
    assert_eq!(writes(&plan), want, "{:#}", plan["changes"]);
    assert_eq!(w.state_bytes(), state_before);

    // Moving them back: nothing to do.
    for key in remaining {
        let to = if key == "team-tagged" { &team_from } else { &deep_from };
        w.org.move_account(&w.ids[key], to).await;
    }
    w.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    assert_eq!(w.trusts().await, live_before);

    // Closing an account: its statement is forgotten, with a warning naming the state moto
    // reports (SUSPENDED: moto's CloseAccount never passes through PENDING_CLOSURE or CLOSED).
    let closed = w.ids["deep-untagged"].clone();
    w.org.close_account(&closed).await;
    assert_eq!(w.org.state_of(&closed).await, "SUSPENDED");
    let plan = w.plan(&[]);
    assert_eq!(writes(&plan), pairs(&[("trust.deep-untagged", "forget")]), "{:#}", plan["changes"]);
    let forget = plan["changes"].as_array().unwrap().iter().find(|c| c["address"] == "trust.deep-untagged").unwrap();
    assert_eq!(forget["unreachable"], true, "{forget}");
    let warnings: Vec<&Value> = plan["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "warning" && d["address"] == "trust.deep-untagged")
        .collect();
    assert_eq!(warnings.len(), 1, "{:#}", plan["diagnostics"]);
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(message.contains("SUSPENDED"), "{message}");
    assert!(message.contains(&closed), "{message}");
    let live_before = w.trusts().await;
    w.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(w.trusts().await, live_before, "a forget writes nothing, in the closed account or elsewhere");
    let listed = w.run(&["state", "list"]);
    assert!(!listed.stdout.contains("trust.deep-untagged"), "{}", listed.stdout);
    w.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // The accounts never selected still have the trust they started with.
    let now = w.trusts().await;
    for key in ["workloads-untagged", "team-excepted", "team-closed", "other-tagged", "workloads-tagged"] {
        assert_eq!(now[key], original[key], "{key}");
    }
    let deep_new = statements(&now["deep-new"]);
    assert_eq!(deep_new[..2], statements(&new_original)[..], "{}", now["deep-new"]);
    assert_eq!(deep_new.len(), 3, "deep-new keeps xacct's statement: {}", now["deep-new"]);
}

#[test]
fn an_ou_id_of_the_wrong_shape_is_a_positioned_error() {
    let dir = tempfile::tempdir().unwrap();
    let spec = "version: 1\nmanagement:\n  account: \"111111111111\"\norganization:\n  workloads:\n    - ou: ou-TEAM\n";
    std::fs::write(dir.path().join("xacct.yaml"), spec).unwrap();
    let r = xacct_in(dir.path(), &["validate"], &[]);
    r.assert_code(1);
    assert!(r.stderr.contains("xacct.yaml:6:11: organization.workloads[0].ou: expected"), "{}", r.stderr);
    assert!(r.stderr.contains("ou-TEAM"), "{}", r.stderr);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "validate wrote nothing");
}

/// `identities_dir` through the binary: each discovered account's `AWSClusterRoleIdentity` is
/// written to `identities/<workload>.yaml` (the directory created), left alone when unchanged,
/// written back after an edit by hand, removed when its account leaves, kept (with a warning)
/// when edited by hand before it leaves, and removed by `destroy`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_dir_writes_one_identity_file_per_discovered_account() {
    let w = World::new().await;
    let spec = format!(
        "version: 1\n\
         defaults:\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\n\
         management:\n  account: \"{m}\"\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\n\
         organization:\n  access: {{ assume_role: {{ role_arn: \"arn:aws:iam::{m}:role/OrganizationAccountAccessRole\" }} }}\n  workloads:\n    - ou: {deep}\n      identities_dir: identities/\n",
        m = w.org.management,
        deep = w.deep,
    );
    std::fs::write(w.dir.path().join("xacct.yaml"), spec).unwrap();
    let file = |key: &str| w.dir.path().join(format!("identities/{key}.yaml"));
    let read = |key: &str| std::fs::read_to_string(file(key)).ok();
    let want = |key: &str| {
        format!(
            "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSClusterRoleIdentity\nmetadata:\n  name: {key}\nspec:\n  allowedNamespaces:\n    list: []\n  roleARN: arn:aws:iam::{}:role/{CAPA_ROLE}\n  sourceIdentityRef:\n    kind: AWSClusterControllerIdentity\n    name: default\n",
            w.ids[key]
        )
    };
    let address = |key: &str| format!("manifest.{key}[\"identities/{key}.yaml\"]");

    w.run(&["validate"]).assert_code(0);
    let plan = w.plan(&[]);
    assert_eq!(
        writes(&plan),
        pairs(&[
            ("trust.deep-tagged", "create"),
            ("trust.deep-untagged", "create"),
            ("assume_policy.management", "create"),
            (&address("deep-tagged"), "create"),
            (&address("deep-untagged"), "create"),
        ]),
        "{:#}",
        plan["changes"]
    );
    assert!(!w.dir.path().join("identities").exists());
    w.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(read("deep-tagged"), Some(want("deep-tagged")));
    assert_eq!(read("deep-untagged"), Some(want("deep-untagged")));
    w.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // Edited by hand: drift, written back.
    std::fs::write(file("deep-tagged"), want("deep-tagged").replace("list: []", "{}")).unwrap();
    let plan = w.plan(&[]);
    assert_eq!(writes(&plan), pairs(&[(&address("deep-tagged"), "update")]), "{:#}", plan["changes"]);
    assert_eq!(plan["drift"][0]["address"], address("deep-tagged"), "{:#}", plan["drift"]);
    w.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(read("deep-tagged"), Some(want("deep-tagged")));

    // An account that leaves: its unchanged file is removed with its statement (and its role
    // from the assume policy).
    w.org.move_account(&w.ids["deep-untagged"], &w.other).await;
    let plan = w.plan(&[]);
    assert_eq!(
        writes(&plan),
        pairs(&[
            ("trust.deep-untagged", "delete"),
            ("assume_policy.management", "update"),
            (&address("deep-untagged"), "delete"),
        ]),
        "{:#}",
        plan["changes"]
    );
    w.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(read("deep-untagged"), None);
    w.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // Edited by hand, then leaving: kept, with a warning, and forgotten.
    let mine = format!("# ours now\n{}", want("deep-tagged"));
    std::fs::write(file("deep-tagged"), &mine).unwrap();
    let r = w.run(&["destroy", "--auto-approve"]);
    r.assert_code(0);
    // The warning is printed with the plan.
    assert!(
        r.stdout.contains("warning: manifest.deep-tagged[\"identities/deep-tagged.yaml\"]: `identities/deep-tagged.yaml` was changed by hand since xacct wrote it: keeping the file, and forgetting it (identity `deep-tagged`)"),
        "{}\n--- stderr\n{}",
        r.stdout,
        r.stderr
    );
    assert!(r.stdout.contains("only state changes: the file is left as it is, nothing is written"), "{}", r.stdout);
    assert_eq!(read("deep-tagged"), Some(mine));
    let listed = w.run(&["state", "list"]);
    listed.assert_code(0);
    assert!(!listed.stdout.contains("manifest."), "{}", listed.stdout);
}
