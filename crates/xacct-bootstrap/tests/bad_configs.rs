//! Bad configurations: each gets one precise error (file, line, column, field path, message,
//! hint), printed as a person sees it.

#![allow(clippy::print_stdout)]

use std::path::Path;

use xacct_bootstrap::{check, load, parse_str, resource_set, Diagnostic, Source};

const HEAD: &str = "apiVersion: bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1\nkind: AWSIAMConfiguration\n";

/// The errors of reading `spec` (YAML after `spec:`), or of checking what it renders.
fn errors(spec: &str, partition: &str) -> Vec<Diagnostic> {
    let text = format!("{HEAD}spec:\n{spec}");
    let errors = match parse_str(Path::new("capa-iam.yaml"), &text) {
        Err(d) => d.0.into_iter().filter(Diagnostic::is_error).collect(),
        Ok(config) => {
            let source = Source::from(config);
            let set = resource_set(&source, partition);
            check(&source, &set)
        }
    };
    for e in &errors {
        println!("{e}");
    }
    errors
}

fn only(mut errors: Vec<Diagnostic>) -> Diagnostic {
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.remove(0)
}

#[test]
fn a_misspelt_key_is_an_error_with_the_key_it_meant() {
    let e = only(errors("  nameSufix: .example.com\n", "aws"));
    assert_eq!((e.line, e.column, e.field.as_str()), (4, 3, "spec.nameSufix"));
    assert_eq!(e.message, "unknown key `nameSufix` (clusterawsadm would silently ignore it)");
    assert!(e.hint.as_deref().unwrap().starts_with("did you mean `nameSuffix`?"), "{e}");
    // Deeper down too, and in a statement.
    let e = only(errors("  eks:\n    kmsAliasPrefx: x-*\n", "aws"));
    assert_eq!((e.line, e.column, e.field.as_str()), (5, 5, "spec.eks.kmsAliasPrefx"));
    assert!(e.hint.as_deref().unwrap().starts_with("did you mean `kmsAliasPrefix`?"));
    let e = only(errors("  nodes:\n    extraStatements:\n      - effect: Allow\n        Action: [\"s3:GetObject\"]\n        Resource: [\"*\"]\n", "aws"));
    assert_eq!(e.field, "spec.nodes.extraStatements[0].effect");
    assert!(e.hint.as_deref().unwrap().starts_with("did you mean `Effect`?"), "{e}");
}

#[test]
fn a_prefix_that_pushes_a_role_name_over_64_characters() {
    // 15 + 13 (`control-plane`) + 37 (the default suffix) = 65.
    let e = only(errors("  namePrefix: fifteen-chars--\n", "aws"));
    assert_eq!((e.line, e.column, e.field.as_str()), (4, 3, "spec.namePrefix"));
    assert_eq!(
        e.message,
        "role name `fifteen-chars--control-plane.cluster-api-provider-aws.sigs.k8s.io` is 65 characters; IAM allows 64"
    );
    assert!(e.hint.as_deref().unwrap().contains("at most 51 characters together"), "{e}");
    // 14 fits: `controllers` and `nodes` are shorter.
    assert!(errors("  namePrefix: fourteen-chars\n", "aws").is_empty());
}

#[test]
fn an_unknown_secret_backend() {
    let e = only(errors("  secureSecretBackends:\n    - secret-manager\n", "aws"));
    assert_eq!((e.line, e.column, e.field.as_str()), (5, 7, "spec.secureSecretBackends[0]"));
    assert_eq!(e.message, "unknown secret backend `secret-manager`");
    assert!(e.hint.as_deref().unwrap().starts_with("did you mean `secrets-manager`?"));
}

#[test]
fn a_long_allowed_instance_profiles_list_pushes_the_controllers_policy_over_6144() {
    let profiles: String =
        (0..30).map(|i| format!("    - workload-{i:02}-nodes.cluster-api-provider-aws.sigs.k8s.io\n")).collect();
    let e = only(errors(&format!("  clusterAPIControllers:\n    allowedEC2InstanceProfiles:\n{profiles}"), "aws"));
    assert_eq!((e.line, e.column), (5, 5));
    assert_eq!(e.field, "spec.clusterAPIControllers.allowedEC2InstanceProfiles");
    assert!(
        e.message.starts_with("managed policy `controllers.cluster-api-provider-aws.sigs.k8s.io` would be "),
        "{e}"
    );
    assert!(e.message.ends_with("characters (whitespace not counted); IAM allows 6144"), "{e}");
    // A dozen fit.
    let profiles: String =
        (0..12).map(|i| format!("    - workload-{i:02}-nodes.cluster-api-provider-aws.sigs.k8s.io\n")).collect();
    assert!(errors(&format!("  clusterAPIControllers:\n    allowedEC2InstanceProfiles:\n{profiles}"), "aws").is_empty());
}

#[test]
fn extra_statements_over_the_inline_budget() {
    let actions: String = (0..400).map(|i| format!("          - ec2:DescribeSomethingQuiteLong{i:03}\n")).collect();
    let spec = format!("  controlPlane:\n    extraStatements:\n      - Effect: Allow\n        Resource: [\"*\"]\n        Action:\n{actions}");
    let e = only(errors(&spec, "aws"));
    assert_eq!((e.line, e.column, e.field.as_str()), (5, 5, "spec.controlPlane.extraStatements"));
    assert!(
        e.message
            .starts_with("role `control-plane.cluster-api-provider-aws.sigs.k8s.io`: its inline policies would be "),
        "{e}"
    );
    assert!(e.message.ends_with("IAM allows 10240 per role"), "{e}");
}

#[test]
fn a_policy_arn_of_another_partition() {
    let e = only(errors(
        "  nodes:\n    extraPolicyAttachments:\n      - arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore\n",
        "aws-us-gov",
    ));
    assert_eq!((e.line, e.column, e.field.as_str()), (6, 9, "spec.nodes.extraPolicyAttachments[0]"));
    assert_eq!(
        e.message,
        "`arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore` is a policy of partition `aws`; this account is in `aws-us-gov`"
    );
    assert_eq!(e.hint.as_deref(), Some("write `arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore`"));
}

#[test]
fn a_partition_the_account_is_not_in() {
    let e = only(errors("  partition: aws-cn\n", "aws"));
    assert_eq!((e.line, e.column, e.field.as_str()), (4, 3, "spec.partition"));
    assert_eq!(e.message, "the configuration says partition `aws-cn` but the account is in `aws`");
    let e = only(errors("  partition: aws-gov\n", "aws"));
    assert_eq!(e.message, "unknown partition `aws-gov`");
    assert!(e.hint.as_deref().unwrap().starts_with("did you mean `aws-us-gov`?"));
}

#[test]
fn a_resource_written_as_a_string_fails_as_it_does_in_clusterawsadm() {
    let e = only(errors("  nodes:\n    extraStatements:\n      - Effect: Allow\n        Action: s3:GetObject\n        Resource: \"*\"\n", "aws"));
    assert_eq!((e.line, e.column, e.field.as_str()), (8, 19, "spec.nodes.extraStatements[0].Resource"));
    assert_eq!(e.hint.as_deref(), Some("write `[\"*\"]`"));
}

#[test]
fn a_trust_statement_iam_would_reject() {
    let e = only(errors(
        "  controlPlane:\n    trustStatements:\n      - Effect: Allow\n        Action: sts:AssumeRole\n",
        "aws",
    ));
    assert_eq!((e.line, e.column, e.field.as_str()), (6, 9, "spec.controlPlane.trustStatements[0]"));
    assert!(e.message.starts_with("IAM would reject this trust statement: "), "{e}");
    assert!(e.message.contains("Principal"), "{e}");
}

#[test]
fn a_wrong_api_version_kind_or_type() {
    let d = parse_str(Path::new("c.yaml"), "apiVersion: bootstrap.aws.infrastructure.cluster.x-k8s.io/v1alpha1\nkind: AWSIAMConfig\nspec:\n  allowAssumeRole: yes\n")
        .unwrap_err();
    let msgs: Vec<String> = d.0.iter().map(|e| format!("{}:{} {} {}", e.line, e.column, e.field, e.message)).collect();
    for m in &msgs {
        println!("{m}");
    }
    assert_eq!(
        msgs,
        [
            "1:13 apiVersion unsupported apiVersion `bootstrap.aws.infrastructure.cluster.x-k8s.io/v1alpha1`",
            "2:7 kind expected kind `AWSIAMConfiguration`, found `AWSIAMConfig`",
            "4:20 spec.allowAssumeRole expected true or false, found `yes`",
        ]
    );
}

#[test]
fn an_empty_or_unreadable_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capa-iam.yaml");
    let e = load(&path).unwrap_err();
    assert_eq!(e.0.len(), 1);
    assert!(e.0[0].message.starts_with("cannot read the AWSIAMConfiguration file: "), "{e}");
    std::fs::write(&path, "# nothing\n").unwrap();
    let e = load(&path).unwrap_err();
    assert!(e.0[0].message.starts_with("the file is empty"), "{e}");
    std::fs::write(&path, format!("{HEAD}spec:\n  nodes:\n    ec2ContainerRegistryReadOnly: true\n")).unwrap();
    let config = load(&path).unwrap();
    assert!(config.spec.nodes.ec2_container_registry_read_only);
    assert_eq!(config.file, path);
}
