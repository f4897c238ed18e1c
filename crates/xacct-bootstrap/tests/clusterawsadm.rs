//! Conformance with clusterawsadm: each of the 14 configurations in `tests/configs/` rendered by
//! xacct against the golden CloudFormation template upstream renders from it (CAPA at 2cf09d7),
//! read from `XACCT_CAPA_BOOTSTRAP_FIXTURES` (default `../../../shared/reference/capa-bootstrap`).
//! Names, paths, trust and policy documents (equivalent under `xacct_policy`), attachments,
//! instance-profile roles, inline policies, users and groups must all agree.

#![allow(clippy::print_stdout)]

mod common;

use std::path::{Path, PathBuf};

use common::{differences, dir_from_env, from_cloudformation, from_set};
use xacct_bootstrap::{check, load, resource_set, Source};

const FIXTURES: [&str; 14] = [
    "default",
    "with_ssm_secret_backend",
    "with_all_secret_backends",
    "with_s3_bucket",
    "customsuffix",
    "with_bootstrap_user",
    "with_custom_bootstrap_user",
    "with_different_instance_profiles",
    "with_eks_default_roles",
    "with_eks_kms_prefix",
    "with_extra_statements",
    "with_eks_disable",
    "with_eks_console",
    "with_allow_assume_role",
];

/// Upstream renders `with_eks_console` without the defaulting step that a file goes through, so
/// from the file the nodes role also gets read-only ECR (reference/README.md).
const ECR_READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";

fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs")
}

#[test]
fn every_configuration_renders_what_clusterawsadm_renders() {
    let dir = dir_from_env("XACCT_CAPA_BOOTSTRAP_FIXTURES", "../../../shared/reference/capa-bootstrap");
    if !dir.is_dir() {
        println!(
            "fixtures directory {} does not exist: set XACCT_CAPA_BOOTSTRAP_FIXTURES to clusterawsadm's golden templates \
             (cmd/clusterawsadm/cloudformation/bootstrap/fixtures at CAPA 2cf09d7) to run the conformance comparison; \
             only the configurations' own expectations are checked",
            dir.display()
        );
        for name in FIXTURES {
            let config = load(&configs_dir().join(format!("{name}.yaml"))).expect("configuration reads");
            let source = Source::from(config);
            let set = resource_set(&source, "aws");
            assert!(check(&source, &set).is_empty(), "{name}");
            assert!(set.roles.len() >= 3 && set.instance_profiles.len() == 3, "{name}");
        }
        return;
    }
    // Every fixture in the directory has a configuration here, and the other way round.
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".yaml").map(String::from))
        .collect();
    present.sort();
    let mut expected: Vec<String> = FIXTURES.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(present, expected, "fixtures in {}", dir.display());

    let mut failures = Vec::new();
    for name in FIXTURES {
        let text = std::fs::read_to_string(dir.join(format!("{name}.yaml"))).unwrap();
        let mut theirs = from_cloudformation(&text);
        let config = load(&configs_dir().join(format!("{name}.yaml"))).expect("configuration reads");
        assert!(config.warnings.is_empty(), "{name}: {:?}", config.warnings);
        let source = Source::from(config);
        let set = resource_set(&source, "aws");
        let problems = check(&source, &set);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        let ours = from_set(&set);
        let mut note = String::new();
        if name == "with_eks_console" {
            let nodes = set.roles.iter().find(|r| r.name.starts_with("nodes.")).unwrap().name.clone();
            let deviation = ("role".to_string(), nodes, ECR_READ_ONLY.to_string());
            assert!(
                !theirs.attachments.contains(&deviation),
                "the fixture now attaches read-only ECR: drop the deviation"
            );
            theirs.attachments.insert(deviation);
            note = " (plus read-only ECR on nodes: upstream renders this fixture without file defaulting)".into();
        }
        let diffs = differences(&ours, &theirs, true);
        let attached = set.attachments.len();
        let max_size = set.policies.iter().map(|p| p.size()).max().unwrap_or(0);
        if diffs.is_empty() {
            println!(
                "{name}: match: {} roles, {} instance profiles, {} managed policies (largest {max_size} chars), {attached} attachments, {} users, {} groups{note}",
                set.roles.len(),
                set.instance_profiles.len(),
                set.policies.len(),
                set.users.len(),
                set.groups.len()
            );
        } else {
            println!("{name}: {} differences", diffs.len());
            for d in &diffs {
                println!("  {d}");
            }
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "fixtures that differ: {failures:?}");
}

#[test]
fn the_comparison_sees_a_different_configuration() {
    let dir = dir_from_env("XACCT_CAPA_BOOTSTRAP_FIXTURES", "../../../shared/reference/capa-bootstrap");
    if !dir.is_dir() {
        println!("fixtures directory {} does not exist: nothing to compare against", dir.display());
        return;
    }
    let theirs = from_cloudformation(&std::fs::read_to_string(dir.join("default.yaml")).unwrap());
    for (other, expect) in [
        ("with_s3_bucket", "policy controllers.cluster-api-provider-aws.sigs.k8s.io: document differs"),
        ("with_eks_kms_prefix", "policy controllers-eks.cluster-api-provider-aws.sigs.k8s.io: document differs"),
        ("with_extra_statements", "role control-plane.cluster-api-provider-aws.sigs.k8s.io: inline policies"),
        ("customsuffix", "roles {"),
        ("with_eks_disable", "role controllers.cluster-api-provider-aws.sigs.k8s.io: trust differs"),
    ] {
        let source = Source::from(load(&configs_dir().join(format!("{other}.yaml"))).unwrap());
        let diffs = differences(&from_set(&resource_set(&source, "aws")), &theirs, true);
        assert!(diffs.iter().any(|d| d.starts_with(expect)), "{other} against default: {diffs:#?}");
    }
    // In another partition the AWS-managed ARNs differ from the template's.
    let source = Source::from(load(&configs_dir().join("default.yaml")).unwrap());
    let diffs = differences(&from_set(&resource_set(&source, "aws-cn")), &theirs, true);
    assert!(diffs.iter().any(|d| d.contains("arn:aws-cn:iam::aws:policy/AmazonEKSWorkerNodePolicy")), "{diffs:#?}");
}
