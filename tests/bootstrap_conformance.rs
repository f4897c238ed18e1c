//! Bootstrap against clusterawsadm's golden data on the emulator. For each of the 14 golden
//! CloudFormation templates in the directory named by `XACCT_CAPA_BOOTSTRAP_FIXTURES`
//! (`cmd/clusterawsadm/cloudformation/bootstrap/fixtures` of CAPA at 2cf09d7; the
//! `AWSIAMConfiguration` each is rendered from is in `crates/xacct-bootstrap/tests/configs/`),
//! and for `profile: dkp` against DKP 2.3's template (`XACCT_DKP_FIXTURES`, default `../dkp`
//! beside that directory), the real binary applies `bootstrap` into a fresh management account and
//! a fresh workload; then what IAM holds in each account (`GetAccountAuthorizationDetails`) must be
//! the template's: role, instance-profile, policy, user and group names and paths, trust and policy
//! documents equivalent under `xacct_policy`, the same attachments (customer- and AWS-managed),
//! instance-profile roles, inline policies, users and groups. xacct's own additions are set aside
//! and counted: the workload's `XacctTrust<management>` trust statement and the management's
//! `xacct-assume-workload-roles` inline policy, exactly one each. For DKP the managed-policy
//! documents are xacct's (CAPA's newer superset, see `xacct-bootstrap`), so they must equal the
//! rendered set's instead. A second plan must have nothing to do, and after `destroy` neither
//! account holds any IAM entity.
//!
//! It prints one line per configuration and `N passed, M failed`, and fails when any failed.
//! `scripts/conformance-clusterawsadm DIR` runs it. Without `XACCT_CAPA_BOOTSTRAP_FIXTURES` (the
//! normal test run) that test checks nothing and says so; the test below it always runs:
//! `profile: capa` gives exactly `xacct_bootstrap::resource_set(Profile::Capa)`, and destroy
//! empties both accounts.
#![allow(clippy::print_stdout)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{xacct_in, Run};
use serde_json::Value;
use xacct_bootstrap::{resource_set, Profile, Source};
use xacct_test_support::capa_fixtures::{differences, from_cloudformation, from_set, Flat};
use xacct_test_support::{decode_document, moto};

const DIR_ENV: &str = "XACCT_CAPA_BOOTSTRAP_FIXTURES";
const DKP_ENV: &str = "XACCT_DKP_FIXTURES";
const DKP_TEMPLATE: &str = "iam-2.3.cloudformation.yaml";
const TRUST_SID: &str = "XacctTrust";
const ASSUME_POLICY: &str = "xacct-assume-workload-roles";
/// Upstream renders `with_eks_console` without the defaulting step that a file goes through, so
/// from the file the nodes role also gets read-only ECR (reference/README.md; the same deviation
/// `crates/xacct-bootstrap/tests/clusterawsadm.rs` allows).
const ECR_READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";

fn configs_dir() -> PathBuf {
    common::root().join("crates/xacct-bootstrap/tests/configs")
}

/// A temp directory with `xacct.yaml` bootstrapping a fresh management account and one fresh
/// workload with `bootstrap` (the YAML flow mapping given), and the environment that points the
/// binary at the emulator.
struct Accounts {
    dir: tempfile::TempDir,
    mgmt: String,
    dev: String,
    env: Vec<(String, String)>,
}

impl Accounts {
    fn new(bootstrap: &str) -> Accounts {
        let moto = moto();
        let (mgmt, dev) = (moto.fresh_account(), moto.fresh_account());
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("clusters")).unwrap();
        let manifest = std::fs::read_to_string(common::root().join("examples/two-accounts/clusters/workload-1.yaml"))
            .unwrap()
            .replace("workload-1", "dev-1");
        std::fs::write(dir.path().join("clusters/dev-1.yaml"), manifest).unwrap();
        let yaml = format!(
            "version: 1\nbootstrap: {bootstrap}\ndefaults:\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\n\
             management:\n  account: \"{mgmt}\"\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\n\
             workloads:\n  - name: dev\n    account: \"{dev}\"\n    identity: {{ name: dev-account-role }}\n    manifests: [clusters/dev-1.yaml]\n"
        );
        std::fs::write(dir.path().join("xacct.yaml"), yaml).unwrap();
        let env = vec![
            ("AWS_ENDPOINT_URL".to_string(), moto.endpoint_url().to_string()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("AWS_REGION".into(), moto.region().to_string()),
            ("AWS_CONFIG_FILE".into(), "/nonexistent/xacct-test".into()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), "/nonexistent/xacct-test".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ];
        Accounts { dir, mgmt, dev, env }
    }

    fn run(&self, args: &[&str]) -> Run {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        tokio::task::block_in_place(|| xacct_in(self.dir.path(), args, &env))
    }
}

fn failed(step: &str, r: &Run) -> String {
    format!("{step} exited {}:\n{}{}", r.code, r.stdout, r.stderr)
}

fn json(text: &str) -> Value {
    let text = decode_document(text);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// What IAM holds in `account`, in the shape of [`Flat`] (a customer-managed policy attached by
/// name, an AWS-managed one by ARN), with xacct's own additions taken out and listed.
async fn read_iam(account: &str) -> (Flat, Vec<String>) {
    use aws_sdk_iam::types::EntityType;
    let iam = moto().iam(account).await;
    let mut f = Flat::default();
    let mut aside = Vec::new();
    let local = format!(":{account}:policy/");
    let policy_ref = |arn: &str| match arn.split_once(&local) {
        Some((_, name)) => name.rsplit('/').next().unwrap().to_string(),
        None => arn.to_string(),
    };
    let inline = |list: &[aws_sdk_iam::types::PolicyDetail]| -> BTreeMap<String, Value> {
        list.iter().map(|p| (p.policy_name().unwrap().to_string(), json(p.policy_document().unwrap()))).collect()
    };
    let mut marker = None;
    loop {
        let out = iam
            .get_account_authorization_details()
            .set_filter(Some(vec![
                EntityType::Role,
                EntityType::User,
                EntityType::Group,
                EntityType::LocalManagedPolicy,
            ]))
            .set_marker(marker.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{account}: GetAccountAuthorizationDetails: {e:?}"));
        for r in out.role_detail_list() {
            let name = r.role_name().unwrap().to_string();
            let mut trust = json(r.assume_role_policy_document().unwrap());
            if let Some(stmts) = trust["Statement"].as_array_mut() {
                stmts.retain(|s| {
                    let ours = s["Sid"].as_str().is_some_and(|sid| sid.starts_with(TRUST_SID));
                    if ours {
                        aside.push(format!("trust statement {} on {name}", s["Sid"].as_str().unwrap()));
                    }
                    !ours
                });
            }
            let mut policies = inline(r.role_policy_list());
            if policies.remove(ASSUME_POLICY).is_some() {
                aside.push(format!("inline policy {ASSUME_POLICY} on {name}"));
            }
            let boundary = r.permissions_boundary().and_then(|b| b.permissions_boundary_arn()).map(String::from);
            f.roles.insert(name.clone(), (r.path().unwrap_or("/").to_string(), trust, boundary, policies));
            for p in r.attached_managed_policies() {
                f.attachments.insert(("role".into(), name.clone(), policy_ref(p.policy_arn().unwrap())));
            }
            for p in r.instance_profile_list() {
                let roles: Vec<&str> = p.roles().iter().map(|r| r.role_name()).collect();
                assert_eq!(roles, [name.as_str()], "{account}: instance profile {}", p.instance_profile_name());
                let previous = f.instance_profiles.insert(p.instance_profile_name().to_string(), name.clone());
                assert!(previous.is_none(), "{account}: instance profile {} twice", p.instance_profile_name());
            }
        }
        for u in out.user_detail_list() {
            let name = u.user_name().unwrap().to_string();
            for p in u.attached_managed_policies() {
                f.attachments.insert(("user".into(), name.clone(), policy_ref(p.policy_arn().unwrap())));
            }
            f.users.insert(name, (u.group_list().iter().cloned().collect(), inline(u.user_policy_list())));
        }
        for g in out.group_detail_list() {
            let name = g.group_name().unwrap().to_string();
            assert!(g.group_policy_list().is_empty(), "{account}: group {name} has inline policies");
            for p in g.attached_managed_policies() {
                f.attachments.insert(("group".into(), name.clone(), policy_ref(p.policy_arn().unwrap())));
            }
            f.groups.insert(name);
        }
        for p in out.policies() {
            // Read each policy by its ARN (GetPolicy, GetPolicyVersion): the details list lacks
            // the description, and the emulator fills it only in part.
            let arn = p.arn().unwrap();
            let name = policy_ref(arn);
            let got = iam.get_policy().policy_arn(arn).send().await.unwrap();
            let policy = got.policy().unwrap();
            assert_eq!(policy.policy_name(), Some(name.as_str()), "{account}: {arn}");
            let description = policy.description().unwrap_or_default().to_string();
            let version = policy.default_version_id().unwrap();
            let got = iam.get_policy_version().policy_arn(arn).version_id(version).send().await.unwrap();
            let doc = json(got.policy_version().unwrap().document().unwrap());
            let versions = iam.list_policy_versions().policy_arn(arn).send().await.unwrap();
            assert_eq!(versions.versions().len(), 1, "{account}: policy {name}: versions");
            f.policies.insert(name, (description, doc));
        }
        if !out.is_truncated() {
            break;
        }
        marker = out.marker().map(String::from);
    }
    (f, aside)
}

/// Every IAM entity left in `account` (roles, instance profiles, customer-managed policies,
/// users, groups).
async fn leftovers(account: &str) -> Vec<String> {
    let (f, _) = read_iam(account).await;
    let iam = moto().iam(account).await;
    let mut left: Vec<String> = f.roles.keys().map(|n| format!("role {n}")).collect();
    left.extend(f.policies.keys().map(|n| format!("policy {n}")));
    left.extend(f.users.keys().map(|n| format!("user {n}")));
    left.extend(f.groups.iter().map(|n| format!("group {n}")));
    let profiles = iam.list_instance_profiles().send().await.unwrap();
    left.extend(profiles.instance_profiles().iter().map(|p| format!("instance profile {}", p.instance_profile_name())));
    left
}

/// The exact additions xacct makes for one workload: one trust statement on the workload's role
/// and one inline policy on the management's.
fn check_aside(mgmt: &[String], dev: &[String], problems: &mut Vec<String>) {
    if mgmt.len() != 1 || !mgmt[0].starts_with(&format!("inline policy {ASSUME_POLICY} on ")) {
        problems.push(format!("management: xacct's additions {mgmt:?}, expected one inline policy {ASSUME_POLICY}"));
    }
    if dev.len() != 1 || !dev[0].starts_with(&format!("trust statement {TRUST_SID}")) {
        problems.push(format!("workload: xacct's additions {dev:?}, expected one {TRUST_SID} trust statement"));
    }
}

/// What to compare IAM with: the template, and (for DKP) the rendered set whose managed-policy
/// documents IAM must hold instead of the template's.
struct Expected {
    theirs: Flat,
    documents_from: Option<Flat>,
}

/// Apply `bootstrap` into fresh accounts, compare each with `expected`, plan again, destroy,
/// check nothing is left. `Ok` carries a summary.
async fn check(bootstrap: &str, config: Option<&Path>, expected: &Expected) -> Result<String, String> {
    let a = Accounts::new(bootstrap);
    if let Some(config) = config {
        std::fs::copy(config, a.dir.path().join("capa-iam.yaml")).map_err(|e| e.to_string())?;
    }
    let apply = a.run(&["apply", "--auto-approve"]);
    if apply.code != 0 {
        return Err(failed("apply", &apply));
    }
    let mut problems = Vec::new();
    let (m, m_aside) = read_iam(&a.mgmt).await;
    let (d, d_aside) = read_iam(&a.dev).await;
    check_aside(&m_aside, &d_aside, &mut problems);
    for (who, live) in [("management", &m), ("workload", &d)] {
        let documents = expected.documents_from.is_none();
        problems.extend(differences(live, &expected.theirs, documents).into_iter().map(|p| format!("{who}: {p}")));
        if let Some(rendered) = &expected.documents_from {
            for (name, (_, doc)) in &live.policies {
                let Some((_, want)) = rendered.policies.get(name) else { continue };
                if !xacct_policy::equivalent_text(&doc.to_string(), &want.to_string()).unwrap() {
                    problems.push(format!("{who}: policy {name}: document is not the rendered set's"));
                }
            }
        }
    }
    let plan = a.run(&["plan", "--detailed-exitcode"]);
    if plan.code != 0 {
        problems.push(failed("second plan", &plan));
    }
    let destroy = a.run(&["destroy", "--auto-approve"]);
    if destroy.code != 0 {
        problems.push(failed("destroy", &destroy));
    } else {
        for (who, account) in [("management", &a.mgmt), ("workload", &a.dev)] {
            let left = leftovers(account).await;
            if !left.is_empty() {
                problems.push(format!("{who} after destroy still holds {left:?}"));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n  "));
    }
    Ok(format!(
        "{} roles, {} instance profiles, {} policies, {} attachments, {} users, {} groups in each account; \
         no changes on the second plan; destroy left nothing",
        m.roles.len(),
        m.instance_profiles.len(),
        m.policies.len(),
        m.attachments.len(),
        m.users.len(),
        m.groups.len()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusterawsadm_fixtures_applied_on_the_emulator() {
    let Some(dir) = std::env::var_os(DIR_ENV) else {
        println!(
            "bootstrap_conformance: {DIR_ENV} is not set, so no configuration was checked (this test passes without doing anything); \
             run `scripts/conformance-clusterawsadm DIR` to check clusterawsadm's templates in DIR"
        );
        return;
    };
    let dir = PathBuf::from(dir);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{DIR_ENV}={}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".yaml").map(String::from))
        .collect();
    names.sort();
    let mut configs: Vec<String> = std::fs::read_dir(configs_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".yaml").map(String::from))
        .collect();
    configs.sort();
    assert_eq!(
        names,
        configs,
        "the templates in {} and the configurations in {}",
        dir.display(),
        configs_dir().display()
    );
    assert_eq!(names.len(), 14, "{}", dir.display());
    let dkp_dir = std::env::var_os(DKP_ENV).map(PathBuf::from).unwrap_or_else(|| dir.join("../dkp"));
    let dkp_file = dkp_dir.join(DKP_TEMPLATE);
    assert!(dkp_file.is_file(), "{} does not exist (set {DKP_ENV})", dkp_file.display());

    let (mut passed, mut failed) = (0, 0);
    let mut report = |name: &str, result: Result<String, String>| match result {
        Ok(detail) => {
            passed += 1;
            println!("ok       {name}: {detail}");
        }
        Err(why) => {
            failed += 1;
            println!("FAILED   {name}:\n  {why}");
        }
    };
    for name in &names {
        let text = std::fs::read_to_string(dir.join(format!("{name}.yaml"))).unwrap();
        let mut theirs = from_cloudformation(&text);
        if name == "with_eks_console" {
            let nodes = theirs.roles.keys().find(|r| r.starts_with("nodes.")).unwrap().clone();
            let deviation = ("role".to_string(), nodes, ECR_READ_ONLY.to_string());
            assert!(
                !theirs.attachments.contains(&deviation),
                "the fixture now attaches read-only ECR: drop the deviation"
            );
            theirs.attachments.insert(deviation);
        }
        let config = configs_dir().join(format!("{name}.yaml"));
        let expected = Expected { theirs, documents_from: None };
        report(name, check("{ config: capa-iam.yaml }", Some(&config), &expected).await);
    }
    let theirs = from_cloudformation(&std::fs::read_to_string(&dkp_file).unwrap());
    let rendered = from_set(&resource_set(&Source::Profile(Profile::Dkp), "aws"));
    let expected = Expected { theirs, documents_from: Some(rendered) };
    report("dkp", check("{ profile: dkp }", None, &expected).await);
    println!("{passed} passed, {failed} failed");
    assert_eq!(failed, 0, "{failed} of {} configurations failed (see the lines above)", names.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capa_profile_applied_gives_the_rendered_set_and_destroy_empties_it() {
    let set = resource_set(&Source::Profile(Profile::Capa), "aws");
    let expected = Expected { theirs: from_set(&set), documents_from: None };
    let summary = check("{ profile: capa }", None, &expected).await.unwrap_or_else(|e| panic!("{e}"));
    println!("profile capa: {summary}");
    let counts = format!(
        "{} roles, {} instance profiles, {} policies, {} attachments, {} users, {} groups in each account",
        set.roles.len(),
        set.instance_profiles.len(),
        set.policies.len(),
        set.attachments.len(),
        set.users.len(),
        set.groups.len()
    );
    assert!(summary.starts_with(&counts), "{summary}");
    assert_eq!(
        (set.roles.len(), set.instance_profiles.len(), set.policies.len(), set.attachments.len()),
        (4, 3, 4, 10),
        "{summary}"
    );
}
