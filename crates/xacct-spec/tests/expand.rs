//! Expansion of a desired-state file: the exact trust statements and assume-policy grants xacct
//! will write, and the resources and dependency order the planner receives.

use std::fs;
use std::path::Path;

use serde_json::{json, Value};
use xacct_spec::{parse_str, trust_sid, Address, AllowedNamespaces, DesiredResource, ManifestIdentity, Spec};

const MGMT_ROLE: &str = "arn:aws:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io";

fn spec_in(dir: &Path, text: &str) -> Spec {
    match parse_str(&dir.join("xacct.yaml"), text) {
        Ok(loaded) => loaded.spec,
        Err(d) => panic!("spec does not validate: {d:?}\n{text}"),
    }
}

fn spec(text: &str) -> Spec {
    let dir = tempfile::tempdir().unwrap();
    spec_in(dir.path(), text)
}

const TWO_WORKLOADS: &str = "version: 1
management: { account: \"111111111111\" }
workloads:
  - { name: dev, account: \"222222222222\", external_id: capa-dev-2f9c1e }
  - { name: prod, account: \"333333333333\", role: { name: capa, path: /ops/ } }
";

#[test]
fn trust_sid_names_the_management_account() {
    assert_eq!(trust_sid("111111111111"), "XacctTrust111111111111");
    assert_ne!(trust_sid("111111111111"), trust_sid("444444444444"));
}

#[test]
fn trust_statement_names_the_management_role() {
    let s = spec(TWO_WORKLOADS);
    assert_eq!(
        s.trust_statement(&s.workloads[1]),
        json!({
            "Sid": "XacctTrust111111111111",
            "Effect": "Allow",
            "Principal": { "AWS": MGMT_ROLE },
            "Action": "sts:AssumeRole",
        })
    );
}

#[test]
fn external_id_becomes_a_string_equals_condition() {
    let s = spec(TWO_WORKLOADS);
    assert_eq!(
        s.trust_statement(&s.workloads[0]),
        json!({
            "Sid": "XacctTrust111111111111",
            "Effect": "Allow",
            "Principal": { "AWS": MGMT_ROLE },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "sts:ExternalId": "capa-dev-2f9c1e" } },
        })
    );
}

#[test]
fn account_root_trust_carries_an_arn_condition() {
    let s = spec(
        "version: 1
management: { account: \"111111111111\", trust_principal: account_root }
workloads:
  - { name: dev, account: \"222222222222\", external_id: capa-dev-2f9c1e }
  - { name: prod, account: \"333333333333\" }
",
    );
    assert_eq!(
        s.trust_statement(&s.workloads[1]),
        json!({
            "Sid": "XacctTrust111111111111",
            "Effect": "Allow",
            "Principal": { "AWS": "arn:aws:iam::111111111111:root" },
            "Action": "sts:AssumeRole",
            "Condition": { "ArnEquals": { "aws:PrincipalArn": MGMT_ROLE } },
        })
    );
    assert_eq!(
        s.trust_statement(&s.workloads[0])["Condition"],
        json!({
            "ArnEquals": { "aws:PrincipalArn": MGMT_ROLE },
            "StringEquals": { "sts:ExternalId": "capa-dev-2f9c1e" },
        })
    );
}

#[test]
fn role_arns_grant_lists_every_workload_role_once_sorted() {
    let s = spec(
        "version: 1
management: { account: \"111111111111\" }
workloads:
  - { name: prod, account: \"333333333333\", role: { name: capa, path: /ops/ } }
  - { name: dev, account: \"222222222222\" }
",
    );
    assert_eq!(
        s.assume_policy_document(),
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "XacctAssumeWorkloadRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [
                    "arn:aws:iam::222222222222:role/control-plane.cluster-api-provider-aws.sigs.k8s.io",
                    "arn:aws:iam::333333333333:role/ops/capa",
                ],
            }],
        })
    );
}

const ORG_WORKLOADS: &str = "workloads:
  - { name: dev, account: \"222222222222\" }
  - { name: prod, account: \"333333333333\" }
  - { name: ops, account: \"444444444444\", role: { name: capa, path: /ops/ } }
";

#[test]
fn organization_grant_names_each_role_once_in_any_account() {
    let s = spec(&format!(
        "version: 1
management: {{ account: \"111111111111\", assume_policy: {{ grant: {{ organization: o-abcdef1234 }} }} }}
{ORG_WORKLOADS}"
    ));
    assert_eq!(
        s.assume_policy_document(),
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "XacctAssumeWorkloadRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [
                    "arn:aws:iam::*:role/control-plane.cluster-api-provider-aws.sigs.k8s.io",
                    "arn:aws:iam::*:role/ops/capa",
                ],
                "Condition": { "StringEquals": { "aws:ResourceOrgID": "o-abcdef1234" } },
            }],
        })
    );
}

#[test]
fn org_paths_grant_matches_below_each_path() {
    let s = spec(&format!(
        "version: 1
management:
  account: \"111111111111\"
  assume_policy: {{ grant: {{ org_paths: [o-abcdef1234/r-ab12/ou-ab12-11111111/, o-abcdef1234/r-ab12/ou-ab12-22222222/] }} }}
{ORG_WORKLOADS}"
    ));
    let doc = s.assume_policy_document();
    let stmt = &doc["Statement"][0];
    assert_eq!(
        stmt["Resource"],
        json!([
            "arn:aws:iam::*:role/control-plane.cluster-api-provider-aws.sigs.k8s.io",
            "arn:aws:iam::*:role/ops/capa",
        ])
    );
    assert_eq!(
        stmt["Condition"],
        json!({ "ForAnyValue:StringLike": { "aws:ResourceOrgPaths": [
            "o-abcdef1234/r-ab12/ou-ab12-11111111/*",
            "o-abcdef1234/r-ab12/ou-ab12-22222222/*",
        ] } })
    );
}

#[test]
fn desired_without_workloads_is_the_management_role_only() {
    let s = spec("version: 1\nmanagement: { account: \"111111111111\" }\nworkloads: []\n");
    let d = s.desired();
    let addresses: Vec<&Address> = d.resources.keys().collect();
    assert_eq!(addresses, [&Address::Role("management".into())]);
    assert_eq!(d.graph.len(), 1);
    assert!(!d.graph.contains(&Address::AssumePolicy));
}

fn resource<'a>(d: &'a xacct_spec::Desired, a: &Address) -> &'a DesiredResource {
    d.resources.get(a).unwrap_or_else(|| panic!("no {a:?} in {:?}", d.resources.keys().collect::<Vec<_>>()))
}

#[test]
fn desired_lists_every_resource_with_its_content() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("clusters")).unwrap();
    fs::write(dir.path().join("clusters/dev-1.yaml"), "").unwrap();
    fs::write(dir.path().join("clusters/dev-2.yaml"), "").unwrap();
    let s = spec_in(
        dir.path(),
        "version: 1
management: { account: \"111111111111\", assume_policy: { name: my-assume } }
workloads:
  - name: dev
    account: \"222222222222\"
    external_id: capa-dev-2f9c1e
    identity: { name: dev-identity, allowed_namespaces: [capi-dev], duration_seconds: 1800, session_name: xacct-dev }
    manifests: [clusters/dev-1.yaml, clusters/dev-2.yaml]
  - { name: prod, account: \"333333333333\" }
",
    );
    let d = s.desired();
    let dev_manifest = |p: &str| Address::Manifest { workload: "dev".into(), path: p.into() };
    let expected_addresses = [
        Address::Role("dev".into()),
        Address::Role("management".into()),
        Address::Role("prod".into()),
        Address::Trust("dev".into()),
        Address::Trust("prod".into()),
        Address::AssumePolicy,
        dev_manifest("clusters/dev-1.yaml"),
        dev_manifest("clusters/dev-2.yaml"),
    ];
    let mut got: Vec<Address> = d.resources.keys().cloned().collect();
    let mut want = expected_addresses.to_vec();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    assert_eq!(
        resource(&d, &Address::Role("management".into())),
        &DesiredResource::Role { account: "111111111111".into(), role: s.management.role.clone() }
    );
    assert_eq!(
        resource(&d, &Address::Role("prod".into())),
        &DesiredResource::Role { account: "333333333333".into(), role: s.workloads[1].role.clone() }
    );
    assert_eq!(
        resource(&d, &Address::AssumePolicy),
        &DesiredResource::AssumePolicy {
            account: "111111111111".into(),
            role: s.management.role.clone(),
            policy_name: "my-assume".into(),
            document: s.assume_policy_document(),
        }
    );
    match resource(&d, &Address::Trust("dev".into())) {
        DesiredResource::Trust { workload, account, role, statement } => {
            assert_eq!((workload.as_str(), account.as_str()), ("dev", "222222222222"));
            assert_eq!(role, &s.workloads[0].role);
            assert_eq!(statement, &s.trust_statement(&s.workloads[0]));
            assert_eq!(statement["Condition"]["StringEquals"]["sts:ExternalId"], json!("capa-dev-2f9c1e"));
        }
        other => panic!("not a trust statement: {other:?}"),
    }
    match resource(&d, &dev_manifest("clusters/dev-2.yaml")) {
        DesiredResource::Manifest { workload, path, written, identity } => {
            assert_eq!(workload, "dev");
            assert_eq!(written, "clusters/dev-2.yaml");
            assert_eq!(path, &s.workloads[0].manifests[1].path);
            assert_eq!(
                identity,
                &ManifestIdentity {
                    name: "dev-identity".into(),
                    role_arn: "arn:aws:iam::222222222222:role/control-plane.cluster-api-provider-aws.sigs.k8s.io"
                        .into(),
                    allowed_namespaces: Some(AllowedNamespaces::List(vec!["capi-dev".into()])),
                    external_id: Some("capa-dev-2f9c1e".into()),
                    duration_seconds: Some(1800),
                    session_name: Some("xacct-dev".into()),
                }
            );
        }
        other => panic!("not a manifest: {other:?}"),
    }
}

#[test]
fn desired_orders_roles_then_iam_then_manifests() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("dev.yaml"), "").unwrap();
    let s = spec_in(
        dir.path(),
        "version: 1
management: { account: \"111111111111\" }
workloads:
  - { name: dev, account: \"222222222222\", manifests: [dev.yaml] }
  - { name: prod, account: \"333333333333\" }
",
    );
    let g = s.desired().graph;
    let sorted = |mut v: Vec<Address>| {
        v.sort();
        v
    };
    let mgmt = Address::Role("management".into());
    let manifest = Address::Manifest { workload: "dev".into(), path: "dev.yaml".into() };
    assert_eq!(g.len(), 7);
    assert_eq!(
        sorted(g.dependencies(&Address::Trust("dev".into()))),
        sorted(vec![Address::Role("dev".into()), mgmt.clone()])
    );
    assert_eq!(
        sorted(g.dependencies(&Address::AssumePolicy)),
        sorted(vec![Address::Role("dev".into()), mgmt.clone(), Address::Role("prod".into())])
    );
    assert_eq!(sorted(g.dependencies(&manifest)), sorted(vec![Address::Trust("dev".into()), Address::AssumePolicy]));
    assert!(g.dependencies(&mgmt).is_empty());
    assert_eq!(
        g.levels(),
        vec![
            sorted(vec![Address::Role("dev".into()), mgmt, Address::Role("prod".into())]),
            sorted(vec![Address::Trust("dev".into()), Address::Trust("prod".into()), Address::AssumePolicy]),
            vec![manifest],
        ]
    );
}

#[test]
fn trust_statement_is_one_xacct_can_own() {
    let s = spec(TWO_WORKLOADS);
    for w in &s.workloads {
        let stmt: Value = s.trust_statement(w);
        let doc = xacct_policy::upsert_statement(&json!({"Version": "2012-10-17"}), &stmt).unwrap();
        assert!(xacct_policy::validate_value(&doc, xacct_policy::PolicyKind::Trust).is_empty(), "{doc}");
        assert_eq!(xacct_policy::find_statement(&doc, &trust_sid("111111111111")).map(|(i, _)| i), Some(0));
    }
    let grant = s.assume_policy_document();
    assert!(xacct_policy::validate_value(&grant, xacct_policy::PolicyKind::Identity).is_empty(), "{grant}");
}

#[test]
fn every_arn_uses_the_partition() {
    let trust_root = spec(
        "version: 1
partition: aws-cn
management: { account: \"111111111111\", trust_principal: account_root, assume_policy: { grant: { organization: o-abcdef1234 } } }
workloads:
  - { name: dev, account: \"222222222222\" }
",
    );
    let mgmt = "arn:aws-cn:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io";
    assert_eq!(
        trust_root.trust_statement(&trust_root.workloads[0])["Principal"],
        json!({ "AWS": "arn:aws-cn:iam::111111111111:root" })
    );
    assert_eq!(
        trust_root.trust_statement(&trust_root.workloads[0])["Condition"],
        json!({ "ArnEquals": { "aws:PrincipalArn": mgmt } })
    );
    assert_eq!(
        trust_root.assume_policy_document()["Statement"][0]["Resource"],
        json!(["arn:aws-cn:iam::*:role/control-plane.cluster-api-provider-aws.sigs.k8s.io"])
    );

    let by_arn = spec(
        "version: 1
partition: aws-us-gov
management: { account: \"111111111111\" }
workloads:
  - { name: dev, account: \"222222222222\" }
",
    );
    assert_eq!(
        by_arn.trust_statement(&by_arn.workloads[0])["Principal"],
        json!({ "AWS": "arn:aws-us-gov:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io" })
    );
    assert_eq!(
        by_arn.assume_policy_document()["Statement"][0]["Resource"],
        json!(["arn:aws-us-gov:iam::222222222222:role/control-plane.cluster-api-provider-aws.sigs.k8s.io"])
    );
}
