//! Bootstrap end to end on the emulator, through the real binary (issue #14's "Done when"):
//! CAPA's default set made from empty accounts, kept (an empty second plan read in bulk, drift of
//! an attachment and a base trust statement repaired), verified and destroyed back to what the
//! accounts held before; the same set made beforehand as the CloudFormation stack makes it,
//! refused without `adopt` and taken over with it; bad configurations refused before anything is
//! written.

mod common;

use std::collections::BTreeMap;

use common::{statements, Scenario, CAPA_ROLE};
use serde_json::Value;
use xacct_bootstrap::{Profile, ResourceSet, Source};
use xacct_test_support::{decode_document, moto};

const SFX: &str = ".cluster-api-provider-aws.sigs.k8s.io";

fn capa_set() -> ResourceSet {
    xacct_bootstrap::resource_set(&Source::Profile(Profile::Capa), "aws")
}

/// Everything IAM holds in `account`, one line per entity with its parts (documents decoded and
/// in a canonical JSON form), read through the SDK's `GetAccountAuthorizationDetails`.
async fn snapshot(account: &str) -> BTreeMap<String, String> {
    let iam = moto().iam(account).await;
    let doc = |text: Option<&str>| -> String {
        let text = decode_document(text.unwrap_or_default());
        serde_json::from_str::<Value>(&text).map(|v| v.to_string()).unwrap_or(text)
    };
    let mut out = BTreeMap::new();
    let mut marker: Option<String> = None;
    loop {
        let page = iam
            .get_account_authorization_details()
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetAccountAuthorizationDetails in {account}: {e:?}"));
        for r in page.role_detail_list() {
            let mut attached: Vec<&str> = r.attached_managed_policies().iter().filter_map(|p| p.policy_arn()).collect();
            attached.sort();
            let mut inline: Vec<String> = r
                .role_policy_list()
                .iter()
                .map(|p| format!("{}={}", p.policy_name().unwrap_or_default(), doc(p.policy_document())))
                .collect();
            inline.sort();
            let mut profiles: Vec<&str> = r.instance_profile_list().iter().map(|p| p.instance_profile_name()).collect();
            profiles.sort();
            out.insert(
                format!("role {}{}", r.path().unwrap_or_default(), r.role_name().unwrap_or_default()),
                format!(
                    "trust {} attached {attached:?} inline {inline:?} profiles {profiles:?}",
                    doc(r.assume_role_policy_document())
                ),
            );
        }
        // Customer-managed policies only (the emulator lists AWS-managed ones too).
        for p in page.policies().iter().filter(|p| p.arn().is_some_and(|a| a.contains(&format!(":iam::{account}:")))) {
            let mut versions: Vec<String> = p
                .policy_version_list()
                .iter()
                .map(|v| {
                    format!(
                        "{}{} {}",
                        v.version_id().unwrap_or_default(),
                        if v.is_default_version() { " (default)" } else { "" },
                        doc(v.document())
                    )
                })
                .collect();
            versions.sort();
            out.insert(format!("policy {}", p.arn().unwrap_or_default()), format!("{versions:?}"));
        }
        for u in page.user_detail_list() {
            out.insert(format!("user {}", u.user_name().unwrap_or_default()), format!("{:?}", u.group_list()));
        }
        for g in page.group_detail_list() {
            out.insert(format!("group {}", g.group_name().unwrap_or_default()), String::new());
        }
        if page.is_truncated() {
            marker = page.marker().map(str::to_string);
        } else {
            break;
        }
    }
    let profiles = iam.list_instance_profiles().send().await.unwrap();
    for p in profiles.instance_profiles() {
        let roles: Vec<&str> = p.roles().iter().map(|r| r.role_name()).collect();
        out.insert(format!("instance profile {}{}", p.path(), p.instance_profile_name()), format!("{roles:?}"));
    }
    out
}

/// The accounts of `s`, management first.
fn accounts(s: &Scenario) -> Vec<String> {
    std::iter::once(s.mgmt.clone()).chain(s.workloads.iter().map(|(_, a)| a.clone())).collect()
}

async fn snapshots(s: &Scenario) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    for a in accounts(s) {
        out.push(snapshot(&a).await);
    }
    out
}

/// Rewrite the scenario's file: `bootstrap` as given at the top, the management account and
/// every workload with no role, identity or manifests (a bootstrapped account's role is the set's
/// controllers role).
fn write_file(s: &Scenario, bootstrap: &str) {
    let mut yaml = format!(
        "version: 1\nbootstrap: {bootstrap}\ndefaults:\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\nmanagement:\n  account: \"{}\"\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\nworkloads:\n",
        s.mgmt
    );
    for (name, account) in &s.workloads {
        yaml.push_str(&format!("  - {{ name: {name}, account: \"{account}\" }}\n"));
    }
    std::fs::write(s.path("xacct.yaml"), yaml).unwrap();
}

/// Fresh accounts holding nothing (the CAPA role Scenario makes is deleted again): the account
/// access role xacct assumes is the emulator's, not a role in the account.
async fn empty_accounts(names: &[&str]) -> Scenario {
    let s = Scenario::new(names).await;
    for a in accounts(&s) {
        moto().iam(&a).await.delete_role().role_name(CAPA_ROLE).send().await.unwrap();
    }
    s
}

fn json(r: &common::Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_empty_accounts_apply_noop_verify_drift_repair_destroy() {
    let s = empty_accounts(&["dev", "test"]).await;
    write_file(&s, "{ profile: capa }");
    let before = snapshots(&s).await;
    for b in &before {
        assert!(b.is_empty(), "{b:?}");
    }
    let set = capa_set();
    let controllers = set.controller_role.clone();
    assert_eq!(controllers, format!("controllers{SFX}"));

    let r = s.run(&["apply", "--auto-approve"]);
    r.assert_code(0);
    for (a, snap) in accounts(&s).iter().zip(snapshots(&s).await) {
        for role in &set.roles {
            assert!(snap.contains_key(&format!("role {}{}", role.path, role.name)), "{a}: {snap:?}");
        }
        for p in &set.policies {
            assert!(snap.contains_key(&format!("policy {}", p.arn("aws", a))), "{a}: {snap:?}");
        }
    }

    // A second plan: nothing to do, read in bulk.
    let r = s.run(&["plan", "--json", "--detailed-exitcode"]);
    r.assert_code(0);
    let plan = json(&r);
    let summary = &plan["summary"];
    assert_eq!(summary["create"], 0, "{summary}");
    assert_eq!(summary["update"], 0, "{summary}");
    assert_eq!(summary["delete"], 0, "{summary}");
    assert_eq!(summary["drift"], 0, "{summary}");
    // Per account: one sts:AssumeRole (the account access role) and one
    // GetAccountAuthorizationDetails page; nothing else.
    assert_eq!(summary["aws_calls"], 6, "{summary}");
    let r = s.run(&["plan", "--detailed-exitcode"]);
    r.assert_code(0);
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);
    assert!(r.stderr.contains("6 AWS calls") || r.stdout.contains("6 AWS calls"), "{}\n{}", r.stdout, r.stderr);

    // verify sees the controllers roles plan made and proves each chain.
    let r = s.run(&["verify", "--json"]);
    r.assert_code(0);
    let v = json(&r);
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{}", r.stdout);
    for (c, (name, account)) in checks.iter().zip(&s.workloads) {
        assert_eq!(c["workload"], name.as_str());
        assert_eq!(c["outcome"], "allowed", "{}", r.stdout);
        assert_eq!(c["role_arn"], format!("arn:aws:iam::{account}:role/{controllers}"), "{}", r.stdout);
        assert_eq!(c["principal"], format!("arn:aws:iam::{}:role/{controllers}", s.mgmt), "{}", r.stdout);
    }
    // drift reads as plan does: per account one sts:AssumeRole and one bulk read (the trust
    // statements and assume policy come from it too).
    let r = s.run(&["drift", "--json"]);
    r.assert_code(0);
    let report = json(&r);
    assert_eq!(report["aws_calls"], 6, "{}", r.stdout);
    assert_eq!(report["drift"], serde_json::json!([]), "{}", r.stdout);

    // A managed policy xacct attached, detached outside xacct: drift, repaired by the next apply.
    let (_, dev) = &s.workloads[0];
    let arn = format!("arn:aws:iam::{dev}:policy/controllers{SFX}");
    moto().iam(dev).await.detach_role_policy().role_name(&controllers).policy_arn(&arn).send().await.unwrap();
    let r = s.run(&["drift", "--json"]);
    r.assert_code(2);
    let report = json(&r);
    let address = format!("iam_role.dev[\"{controllers}\"]");
    assert_eq!(report["drift"].as_array().unwrap().len(), 1, "{}", r.stdout);
    assert_eq!(report["drift"][0]["address"], address.as_str(), "{}", r.stdout);
    assert_eq!(report["drift"][0]["kind"], "modified");
    assert_eq!(report["drift"][0]["detail"], format!("managed policy `{arn}` was detached"));
    let r = s.run(&["drift"]);
    r.assert_code(2);
    assert!(r.stdout.contains(&address), "{}", r.stdout);
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let attached = moto().iam(dev).await.list_attached_role_policies().role_name(&controllers).send().await.unwrap();
    assert!(attached.attached_policies().iter().any(|p| p.policy_arn() == Some(arn.as_str())), "{attached:?}");
    s.run(&["drift"]).assert_code(0);

    // A base trust statement (the set's) removed outside xacct, xacct's own kept: drift, repaired.
    let (_, test) = &s.workloads[1];
    let trust = moto().trust_of(test, &controllers).await.unwrap();
    let stmts = statements(&trust);
    assert_eq!(stmts.len(), 2, "{trust}");
    let base = set.role(&controllers).unwrap().trust.clone();
    let kept: Vec<Value> = stmts.iter().filter(|s| s.get("Sid").is_some()).cloned().collect();
    assert_eq!(kept.len(), 1, "{trust}");
    moto()
        .put_trust(test, &controllers, &serde_json::json!({"Version": "2012-10-17", "Statement": kept}).to_string())
        .await;
    let r = s.run(&["drift", "--json"]);
    r.assert_code(2);
    let report = json(&r);
    assert_eq!(report["drift"].as_array().unwrap().len(), 1, "{}", r.stdout);
    assert_eq!(report["drift"][0]["address"], format!("iam_role.test[\"{controllers}\"]"), "{}", r.stdout);
    assert!(
        report["drift"][0]["detail"].as_str().unwrap().starts_with("a trust statement xacct made was removed"),
        "{}",
        r.stdout
    );
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let trust = moto().trust_of(test, &controllers).await.unwrap();
    let stmts = statements(&trust);
    assert_eq!(stmts.len(), 2, "{trust}");
    for b in statements(&base.to_string()) {
        assert!(stmts.iter().any(|s| s["Principal"] == b["Principal"] && s["Action"] == b["Action"]), "{trust}");
    }
    s.run(&["drift"]).assert_code(0);
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // A policy's default document changed, and an instance profile deleted, outside xacct: drift
    // of each (modified, deleted), repaired by the next apply.
    let iam = moto().iam(dev).await;
    let nodes_policy = format!("arn:aws:iam::{dev}:policy/nodes{SFX}");
    let other =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeTags","Resource":"*"}]}"#;
    iam.create_policy_version()
        .policy_arn(&nodes_policy)
        .policy_document(other)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    let profile = format!("nodes{SFX}");
    iam.remove_role_from_instance_profile().instance_profile_name(&profile).role_name(&profile).send().await.unwrap();
    iam.delete_instance_profile().instance_profile_name(&profile).send().await.unwrap();
    let r = s.run(&["drift", "--json"]);
    r.assert_code(2);
    let report = json(&r);
    let rows: Vec<(String, String, String)> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["address"].as_str().unwrap().into(),
                d["kind"].as_str().unwrap().into(),
                d["detail"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                format!("iam_instance_profile.dev[\"{profile}\"]"),
                "deleted".to_string(),
                format!("instance profile `{profile}` no longer exists in account {dev}")
            ),
            (
                format!("iam_policy.dev[\"nodes{SFX}\"]"),
                "modified".to_string(),
                "its default version's document was changed".to_string()
            ),
        ],
        "{}",
        r.stdout
    );
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    s.run(&["drift"]).assert_code(0);
    let out = iam.get_instance_profile().instance_profile_name(&profile).send().await.unwrap();
    let roles: Vec<&str> = out.instance_profile().unwrap().roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(roles, [profile.as_str()]);

    // destroy leaves each account as it was.
    s.run(&["destroy", "--auto-approve"]).assert_code(0);
    assert_eq!(snapshots(&s).await, before);
}

/// A trust statement on the control-plane role that neither bootstrap nor xacct owns.
fn foreign_statement() -> Value {
    serde_json::json!({"Sid": "TeamB", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"}, "Action": "sts:AssumeRole"})
}

/// An attachment on the control-plane role that xacct did not make.
const FOREIGN_ATTACHMENT: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

/// An outdated controllers policy document (version `n`).
fn outdated(n: usize) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": format!("ec2:DescribeOld{n}"), "Resource": "*"}]}).to_string()
}

/// Make CAPA's default set in `account` as the CloudFormation stack makes it, through the SDK,
/// with a foreign statement and attachment on the control-plane role and the controllers policy
/// outdated, at five versions.
async fn stack_made(account: &str) {
    let set = capa_set();
    let iam = moto().iam(account).await;
    let controllers_policy = format!("controllers{SFX}");
    for p in &set.policies {
        let outdated_one = p.name == controllers_policy;
        let doc = if outdated_one { outdated(1) } else { p.document.to_string() };
        iam.create_policy()
            .policy_name(&p.name)
            .path(&p.path)
            .description(&p.description)
            .policy_document(doc)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreatePolicy {}: {e:?}", p.name));
        if outdated_one {
            for n in 2..=5 {
                iam.create_policy_version()
                    .policy_arn(p.arn("aws", account))
                    .policy_document(outdated(n))
                    .set_as_default(n == 5)
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
    for r in &set.roles {
        let mut trust = r.trust.clone();
        if r.name == CAPA_ROLE {
            trust["Statement"].as_array_mut().unwrap().push(foreign_statement());
        }
        iam.create_role()
            .role_name(&r.name)
            .path(&r.path)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateRole {}: {e:?}", r.name));
        for p in &r.inline_policies {
            iam.put_role_policy()
                .role_name(&r.name)
                .policy_name(&p.name)
                .policy_document(p.document.to_string())
                .send()
                .await
                .unwrap();
        }
        for policy in set.attached_to(&xacct_bootstrap::Principal::Role(r.name.clone())) {
            iam.attach_role_policy().role_name(&r.name).policy_arn(policy.arn("aws", account)).send().await.unwrap();
        }
    }
    iam.attach_role_policy().role_name(CAPA_ROLE).policy_arn(FOREIGN_ATTACHMENT).send().await.unwrap();
    for ip in &set.instance_profiles {
        iam.create_instance_profile().instance_profile_name(&ip.name).path(&ip.path).send().await.unwrap();
        iam.add_role_to_instance_profile().instance_profile_name(&ip.name).role_name(&ip.role).send().await.unwrap();
    }
}

/// The control-plane role in `account` still has the foreign statement and attachment.
async fn foreign_parts_intact(account: &str) {
    let trust = moto().trust_of(account, CAPA_ROLE).await.expect("the control-plane role");
    assert_eq!(statements(&trust).iter().filter(|s| **s == foreign_statement()).count(), 1, "{account}: {trust}");
    let out = moto().iam(account).await.list_attached_role_policies().role_name(CAPA_ROLE).send().await.unwrap();
    let arns: Vec<&str> = out.attached_policies().iter().filter_map(|p| p.policy_arn()).collect();
    assert!(arns.contains(&FOREIGN_ATTACHMENT), "{account}: {arns:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stacks_set_is_refused_without_adopt_and_taken_over_with_it() {
    let s = empty_accounts(&["dev"]).await;
    for a in accounts(&s) {
        stack_made(&a).await;
    }
    let before = snapshots(&s).await;

    // Without `adopt`: a plan error naming an entity and the way out; nothing written.
    write_file(&s, "{ profile: capa }");
    let r = s.run(&["plan"]);
    r.assert_code(1);
    let err = format!("{}\n{}", r.stdout, r.stderr);
    let cp = format!("control-plane{SFX}");
    let lines: Vec<&str> = err.lines().collect();
    for (name, account) in [("management", &s.mgmt), ("dev", &s.workloads[0].1)] {
        let error = format!(
            "error: iam_role.{name}[\"{cp}\"]: role `{cp}` already exists in account {account} and xacct does not own it"
        );
        assert!(lines.contains(&error.as_str()), "{error}\n{err}");
        let hint = format!("hint: to take it over (e.g. from a CloudFormation stack), set `bootstrap: {{ …, adopt: true }}` for account `{name}`; or delete or rename it");
        assert!(lines.contains(&hint.as_str()), "{hint}\n{err}");
    }
    s.run(&["apply", "--auto-approve"]).assert_code(1);
    assert_eq!(snapshots(&s).await, before);
    assert!(!s.path("state/default.json").exists());

    // With it: the equal entities adopted, the controllers policy updated to a new default
    // version (the oldest non-default one deleted, five at most), the foreign parts kept.
    write_file(&s, "{ profile: capa, adopt: true }");
    let r = s.run(&["plan", "--json"]);
    r.assert_code(0);
    let plan = json(&r);
    let policy_addr = format!("iam_policy.dev[\"controllers{SFX}\"]");
    let change = plan["changes"].as_array().unwrap().iter().find(|c| c["address"] == policy_addr.as_str()).unwrap();
    assert_eq!(change["actions"], serde_json::json!(["update"]), "{change}");
    let role_addr = format!("iam_role.dev[\"nodes{SFX}\"]");
    let change = plan["changes"].as_array().unwrap().iter().find(|c| c["address"] == role_addr.as_str()).unwrap();
    assert_eq!(change["actions"], serde_json::json!(["adopt"]), "{change}");
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let set = capa_set();
    let wanted = set.policies.iter().find(|p| p.name == format!("controllers{SFX}")).unwrap();
    for a in accounts(&s) {
        let iam = moto().iam(&a).await;
        let arn = wanted.arn("aws", &a);
        let versions = iam.list_policy_versions().policy_arn(&arn).send().await.unwrap();
        let ids: Vec<&str> = versions.versions().iter().filter_map(|v| v.version_id()).collect();
        assert_eq!(versions.versions().len(), 5, "{a}: {ids:?}");
        assert!(!ids.contains(&"v1"), "{a}: the oldest non-default version is deleted: {ids:?}");
        let policy = iam.get_policy().policy_arn(&arn).send().await.unwrap();
        let default = policy.policy().unwrap().default_version_id().unwrap().to_string();
        assert_eq!(default, "v6", "{a}");
        let v = iam.get_policy_version().policy_arn(&arn).version_id(&default).send().await.unwrap();
        let doc: Value =
            serde_json::from_str(&decode_document(v.policy_version().unwrap().document().unwrap())).unwrap();
        assert_eq!(doc, wanted.document, "{a}");
        foreign_parts_intact(&a).await;
    }
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    s.run(&["drift"]).assert_code(0);

    s.run(&["destroy", "--auto-approve"]).assert_code(0);
    for a in accounts(&s) {
        foreign_parts_intact(&a).await;
    }
}

const CONFIG_HEAD: &str =
    "apiVersion: bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1\nkind: AWSIAMConfiguration\nspec:\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configurations_are_refused_precisely_and_change_nothing() {
    let s = empty_accounts(&["dev"]).await;
    write_file(&s, "{ config: capa-iam.yaml }");
    std::fs::write(s.path("capa-iam.yaml"), format!("{CONFIG_HEAD}  nameSuffix: {SFX}\n")).unwrap();
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let iam_before = snapshots(&s).await;
    let state_before = std::fs::read(s.path("state/default.json")).unwrap();

    let profiles: String = (0..80)
        .map(|i| {
            format!(
                "      - arn:aws:iam::123456789012:instance-profile/some-long-instance-profile-name-number-{i:03}\n"
            )
        })
        .collect();
    let statements: String = (0..120)
        .map(|i| format!("      - Effect: Allow\n        Resource: [\"*\"]\n        Action: [\"ec2:DescribeSomethingRatherLongToFillTheBudget{i:04}\", \"ec2:DescribeAnotherRatherLongActionName{i:04}\"]\n"))
        .collect();
    let prefix = "a-very-long-prefix-that-pushes-names-over-the-limit-";
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        (
            "a misspelt key",
            "  nameSufix: .example.com\n".into(),
            vec![
                "error: ./capa-iam.yaml:4:3: spec.nameSufix: unknown key `nameSufix` (clusterawsadm would silently ignore it)".into(),
                "hint: did you mean `nameSuffix`? valid keys here: `namePrefix`, `nameSuffix`, `controlPlane`, `clusterAPIControllers`, `nodes`, `bootstrapUser`, `stackName`, `stackTags`, `region`, `eks`, `eventBridge`, `partition`, `secureSecretBackends`, `s3Buckets`, `allowAssumeRole`".into(),
            ],
        ),
        (
            "a name prefix pushing role names over 64",
            format!("  namePrefix: {prefix}\n"),
            vec![
                format!("error: ./capa-iam.yaml:4:3: spec.namePrefix: role name `{prefix}control-plane{SFX}` is 102 characters; IAM allows 64"),
                format!("error: ./capa-iam.yaml:4:3: spec.namePrefix: role name `{prefix}controllers{SFX}` is 100 characters; IAM allows 64"),
                format!("error: ./capa-iam.yaml:4:3: spec.namePrefix: role name `{prefix}nodes{SFX}` is 94 characters; IAM allows 64"),
                format!("hint: namePrefix (`{prefix}`, 52) and nameSuffix (`{SFX}`, 37) may be at most 51 characters together, so that `control-plane` fits"),
            ],
        ),
        (
            "an unknown secret backend",
            "  secureSecretBackends: [secrets-manager, vault]\n".into(),
            vec![
                "error: ./capa-iam.yaml:4:43: spec.secureSecretBackends[1]: unknown secret backend `vault`".into(),
                "hint: known backends: `secrets-manager`, `ssm-parameter-store`".into(),
            ],
        ),
        (
            "a controllers policy over 6,144 characters",
            format!("  clusterAPIControllers:\n    allowedEC2InstanceProfiles:\n{profiles}"),
            vec![
                format!("error: ./capa-iam.yaml:5:5: spec.clusterAPIControllers.allowedEC2InstanceProfiles: managed policy `controllers{SFX}` would be 13524 characters (whitespace not counted); IAM allows 6144"),
                "hint: each `allowedEC2InstanceProfiles` entry adds a role ARN to `iam:PassRole` (and, with `allowAssumeRole`, to `sts:AssumeRole`): use fewer entries or wildcards such as `*.<suffix>`".into(),
            ],
        ),
        (
            "extraStatements over the inline budget",
            format!("  clusterAPIControllers:\n    extraStatements:\n{statements}"),
            vec![
                format!("error: ./capa-iam.yaml:5:5: spec.clusterAPIControllers.extraStatements: role `controllers{SFX}`: its inline policies would be 17558 characters (whitespace not counted); IAM allows 10240 per role"),
                "hint: move statements into a managed policy and list its ARN in `extraPolicyAttachments`".into(),
            ],
        ),
    ];
    for (what, spec, expected) in cases {
        std::fs::write(s.path("capa-iam.yaml"), format!("{CONFIG_HEAD}{spec}")).unwrap();
        for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
            let r = s.run(args);
            r.assert_code(1);
            let lines: Vec<&str> = r.stdout.lines().collect();
            for line in &expected {
                assert!(lines.contains(&line.as_str()), "{what}, {args:?}: {line}\n{}\n{}", r.stdout, r.stderr);
            }
            let errors = expected.iter().filter(|l| l.starts_with("error: ")).count();
            let count =
                format!("This plan cannot be applied: {errors} error{} above.", if errors == 1 { "" } else { "s" });
            assert!(lines.contains(&count.as_str()), "{what}, {args:?}: {count}\n{}", r.stdout);
            assert!(r.stdout.contains("(0 AWS calls)"), "{what}, {args:?}: nothing is read\n{}", r.stdout);
            assert_eq!(
                std::fs::read(s.path("state/default.json")).unwrap(),
                state_before,
                "{what}, {args:?}: state changed"
            );
        }
        // (One IAM snapshot per case: the emulator lists every AWS-managed policy in it.)
        assert_eq!(snapshots(&s).await, iam_before, "{what}: IAM changed");
    }
}
