//! Behaviour beyond the golden files: errors, warnings, records, I/O helpers.

use std::collections::BTreeMap;
use std::path::Path;

use xacct_manifest::{
    patch, unified_diff, unpatch, write_atomic, AllowedNamespaces, IdentitySpec, Manifest, ManifestError, TargetKind,
};

const ROLE: &str = "arn:aws:iam::222222222222:role/control-plane.cluster-api-provider-aws.sigs.k8s.io";

fn spec(name: &str) -> IdentitySpec {
    IdentitySpec {
        name: name.into(),
        role_arn: ROLE.into(),
        allowed_namespaces: AllowedNamespaces::All,
        external_id: None,
        duration_seconds: None,
        session_name: None,
    }
}

fn aws_cluster(name: &str, ns: &str, identity: Option<&str>) -> String {
    let mut s = format!(
        "---\napiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSCluster\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  region: us-west-2\n"
    );
    if let Some(id) = identity {
        s.push_str(&format!("  identityRef:\n    kind: AWSClusterRoleIdentity\n    name: {id}\n"));
    }
    s
}

fn parse(text: &str) -> Manifest {
    Manifest::parse(Path::new("clusters/dev.yaml"), text).unwrap()
}

#[test]
fn malformed_yaml_reports_file_line_and_column() {
    let text = "apiVersion: v1\nkind: AWSCluster\nspec:\n  region: [us-west-2\n";
    let err = Manifest::parse(Path::new("clusters/bad.yaml"), text).unwrap_err();
    assert!(matches!(err, ManifestError::Syntax { line: 5, .. }), "{err:?}");
    assert!(err.to_string().starts_with("clusters/bad.yaml:5:1: invalid yaml: "), "{err}");
}

#[test]
fn file_without_targets_is_an_error() {
    let m = parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
    let err = patch(&m, &spec("id")).unwrap_err();
    assert!(matches!(err, ManifestError::NoTargets { line: 1, column: 1, .. }));
    assert!(err.to_string().contains("clusters/dev.yaml:1:1: no object carries an identity"), "{err}");
}

#[test]
fn conflicting_identity_refs_are_an_error() {
    let text = aws_cluster("a", "default", Some("one")) + &aws_cluster("b", "default", Some("two"));
    let err = patch(&parse(&text), &spec("one")).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ManifestError::ConflictingIdentities { line: 21, column: 5, .. }), "{err:?}");
    assert!(msg.contains("`AWSCluster` `default/b` uses `AWSClusterRoleIdentity/two`"), "{msg}");
    assert!(msg.contains("`AWSCluster` `default/a` uses `AWSClusterRoleIdentity/one`"), "{msg}");
}

#[test]
fn failed_patch_leaves_the_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    let text = aws_cluster("a", "default", Some("one")) + &aws_cluster("b", "default", Some("two"));
    std::fs::write(&path, &text).unwrap();
    assert!(xacct_manifest::patch_file(&path, &spec("one")).is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn targets_and_namespaces() {
    let text = aws_cluster("a", "team-a", None)
        + &aws_cluster("b", "team-b", Some("x"))
        + "---\napiVersion: controlplane.cluster.x-k8s.io/v1beta2\nkind: AWSManagedControlPlane\nmetadata:\n  name: eks\nspec: {}\n"
        + "---\napiVersion: controlplane.cluster.x-k8s.io/v1beta2\nkind: ROSAControlPlane\nmetadata:\n  name: rosa\n  namespace: team-r\nspec:\n  rosaClusterName: rosa\n"
        + "---\napiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSClusterTemplate\nmetadata:\n  name: t\n  namespace: team-a\nspec:\n  template:\n    spec: {}\n";
    let m = parse(&text);
    let targets = m.targets();
    let kinds: Vec<TargetKind> = targets.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [
            TargetKind::AwsCluster,
            TargetKind::AwsCluster,
            TargetKind::AwsManagedControlPlane,
            TargetKind::RosaControlPlane,
            TargetKind::AwsClusterTemplate
        ]
    );
    assert_eq!(targets[1].identity_ref.as_ref().unwrap().to_string(), "AWSClusterRoleIdentity/x");
    assert_eq!((targets[1].line, targets[1].column), (10, 1));
    assert_eq!(m.namespaces().into_iter().collect::<Vec<_>>(), ["default", "team-a", "team-b", "team-r"]);
}

#[test]
fn allowed_namespaces_none_omits_the_key_with_a_warning() {
    let text = aws_cluster("a", "default", None);
    let p = patch(&parse(&text), &IdentitySpec { allowed_namespaces: AllowedNamespaces::None, ..spec("id") }).unwrap();
    assert!(!p.text.contains("allowedNamespaces"));
    assert!(p.diagnostics.iter().any(|d| d.message.contains("no namespace can use")), "{:?}", p.diagnostics);
}

#[test]
fn namespace_outside_the_list_is_warned() {
    let text = aws_cluster("a", "team-a", None);
    let p = patch(
        &parse(&text),
        &IdentitySpec { allowed_namespaces: AllowedNamespaces::List(vec!["other".into()]), ..spec("id") },
    )
    .unwrap();
    assert!(p.diagnostics.iter().any(|d| d.message.contains("namespace `team-a`")), "{:?}", p.diagnostics);
}

#[test]
fn invalid_specs_are_rejected() {
    let m = parse(&aws_cluster("a", "default", None));
    let bad = [
        IdentitySpec { name: "Bad_Name".into(), ..spec("x") },
        IdentitySpec { role_arn: "not-an-arn".into(), ..spec("x") },
        IdentitySpec { duration_seconds: Some(60), ..spec("x") },
        IdentitySpec { session_name: Some("a b".into()), ..spec("x") },
        IdentitySpec { allowed_namespaces: AllowedNamespaces::Selector(BTreeMap::new()), ..spec("x") },
    ];
    for s in bad {
        assert!(matches!(patch(&m, &s), Err(ManifestError::InvalidSpec(_))), "{s:?}");
    }
}

#[test]
fn long_sessions_warn_about_role_chaining() {
    let p =
        patch(&parse(&aws_cluster("a", "default", None)), &IdentitySpec { duration_seconds: Some(7200), ..spec("x") })
            .unwrap();
    assert!(p.diagnostics.iter().any(|d| d.message.contains("1 hour")));
}

#[test]
fn renaming_the_identity_warns_about_the_old_one_and_restores() {
    let old_identity = "---\napiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSClusterRoleIdentity\nmetadata:\n  name: old\nspec:\n  roleARN: arn:aws:iam::1:role/x\n";
    let text = aws_cluster("a", "default", Some("old")) + old_identity;
    let p = patch(&parse(&text), &spec("new")).unwrap();
    assert!(p.text.contains("    name: new\n"));
    assert!(p.text.contains(old_identity));
    assert!(p.diagnostics.iter().any(|d| d.message.contains("`old` is left in place")));
    assert_eq!(unpatch(&p.text, &p.record).unwrap(), text);
}

#[test]
fn unpatch_keeps_unrelated_edits_made_after_patching() {
    let text = aws_cluster("a", "default", None) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
    let p = patch(&parse(&text), &spec("id")).unwrap();
    let edited = p.text.replace("region: us-west-2", "region: eu-west-1").replace("name: c\n", "name: c # renamed\n");
    let back = unpatch(&edited, &p.record).unwrap();
    assert_eq!(
        back,
        text.replace("region: us-west-2", "region: eu-west-1").replace("name: c\n", "name: c # renamed\n")
    );
}

#[test]
fn unpatch_refuses_when_an_owned_node_was_changed() {
    let text = aws_cluster("a", "default", None);
    let p = patch(&parse(&text), &spec("id")).unwrap();
    let edited = p.text.replace("name: id\n", "name: someone-else\n");
    let err = unpatch(&edited, &p.record).unwrap_err();
    assert!(err.to_string().contains("was changed since xacct patched it"), "{err}");
}

#[test]
fn repatching_with_a_new_spec_then_unpatching_the_combined_record_restores() {
    let text = aws_cluster("a", "default", Some("legacy"));
    let first = patch(&parse(&text), &spec("id")).unwrap();
    let second = patch(
        &parse(&first.text),
        &IdentitySpec {
            role_arn: "arn:aws:iam::333333333333:role/other".into(),
            external_id: Some("ext-1".into()),
            duration_seconds: Some(1800),
            ..spec("id")
        },
    )
    .unwrap();
    assert!(second.changed);
    assert!(second.text.contains("  externalID: ext-1\n  durationSeconds: 1800\n"), "{}", second.text);
    let record = first.record.clone().then(second.record);
    assert_eq!(unpatch(&second.text, &record).unwrap(), text);
}

#[test]
fn empty_and_flow_holders() {
    let cases = [
        "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSCluster\nmetadata:\n  name: a\nspec:\n  identityRef:\n  region: x\n",
        "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSCluster\nmetadata:\n  name: a\nspec: {}\n",
        "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSCluster\nmetadata: {name: a}\nspec: {region: x, identityRef: {name: old}}",
        "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSCluster\nmetadata:\n  name: a\nspec:\n  identityRef:\n    name: old\n    kind: AWSClusterStaticIdentity\n    extra: 1\n",
    ];
    for text in cases {
        let p = patch(&parse(text), &spec("id")).unwrap();
        let m = parse(&p.text);
        let r = m.targets()[0].identity_ref.clone().unwrap();
        assert_eq!((r.kind.as_str(), r.name.as_str()), ("AWSClusterRoleIdentity", "id"), "{}", p.text);
        assert!(!patch(&m, &spec("id")).unwrap().changed, "{}", p.text);
        assert_eq!(unpatch(&p.text, &p.record).unwrap(), text);
    }
}

#[test]
fn aws_cluster_without_spec_is_an_error_with_position() {
    let text = "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSCluster\nmetadata:\n  name: a\n";
    let err = patch(&parse(text), &spec("id")).unwrap_err();
    assert!(err.to_string().starts_with("clusters/dev.yaml:1:1: `AWSCluster` `default/a` has no mapping"), "{err}");
}

#[test]
fn duplicate_identity_documents_are_an_error() {
    let id = "---\napiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSClusterRoleIdentity\nmetadata:\n  name: id\nspec:\n  roleARN: x\n";
    let text = aws_cluster("a", "default", None) + id + id;
    let err = patch(&parse(&text), &spec("id")).unwrap_err();
    assert!(err.to_string().contains("appears more than once"), "{err}");
}

#[test]
fn is_patched_tells_a_planner_whether_anything_would_change() {
    let m = parse(&aws_cluster("a", "default", None));
    assert!(!m.is_patched(&spec("id")).unwrap());
    let p = patch(&m, &spec("id")).unwrap();
    assert!(parse(&p.text).is_patched(&spec("id")).unwrap());
    assert!(!parse(&p.text).is_patched(&spec("other")).unwrap());
}

#[test]
fn diff_and_atomic_write() {
    let text = aws_cluster("a", "default", None);
    let p = patch(&parse(&text), &spec("id")).unwrap();
    let diff = unified_diff("clusters/dev.yaml", &text, &p.text);
    assert!(diff.starts_with("--- a/clusters/dev.yaml\n+++ b/clusters/dev.yaml\n"), "{diff}");
    assert!(diff.contains("+  identityRef:\n"));
    assert_eq!(unified_diff("x", &text, &text), "");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dev.yaml");
    std::fs::write(&path, &text).unwrap();
    write_atomic(&path, &p.text).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), p.text);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temporary file left behind");
}

#[test]
fn record_json_shape_is_stable() {
    let p = patch(&parse(&aws_cluster("a", "default", None)), &spec("id")).unwrap();
    let json = serde_json::to_value(&p.record).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["steps"][0]["identity"], "id");
    assert_eq!(json["steps"][0]["edits"][0]["op"], "insert_ref");
    assert_eq!(json["steps"][0]["edits"][1]["op"], "append_identity");
}

#[test]
fn file_without_trailing_newline() {
    let text = aws_cluster("a", "default", None);
    let text = text.trim_end();
    let p = patch(&parse(text), &spec("id")).unwrap();
    assert!(p.text.contains("us-west-2\n---\napiVersion"), "{}", p.text);
    assert_eq!(unpatch(&p.text, &p.record).unwrap(), text);
}

#[test]
fn appended_identity_follows_the_file_api_version_and_warns_when_old() {
    let text = "apiVersion: infrastructure.cluster.x-k8s.io/v1alpha3\nkind: AWSCluster\nmetadata:\n  name: a\nspec:\n  region: x\n";
    let p = patch(&parse(text), &spec("id")).unwrap();
    assert!(p
        .text
        .contains("---\napiVersion: infrastructure.cluster.x-k8s.io/v1alpha3\nkind: AWSClusterRoleIdentity\n"));
    let d = &p.diagnostics[0];
    assert_eq!((d.line, d.column), (1, 13));
    assert!(d.message.contains("only `v1beta2`"), "{}", d.message);
    assert!(d.to_string().starts_with("warning: clusters/dev.yaml:1:13: "), "{d}");
}

#[test]
fn rosa_control_plane_gets_the_identity_and_gives_it_back() {
    let text = "apiVersion: controlplane.cluster.x-k8s.io/v1beta2\nkind: ROSAControlPlane\nmetadata:\n  name: rosa-1\n  namespace: rosa\nspec:\n  rosaClusterName: rosa-1 # keep me\n  region: us-east-1\n";
    let p = patch(&parse(text), &spec("rosa-role")).unwrap();
    assert!(p.changed);
    let m = parse(&p.text);
    let t = &m.targets()[0];
    assert_eq!(t.kind, TargetKind::RosaControlPlane);
    assert_eq!(t.identity_ref.as_ref().unwrap().to_string(), "AWSClusterRoleIdentity/rosa-role");
    assert!(p.text.contains("kind: AWSClusterRoleIdentity") && p.text.contains("rosaClusterName: rosa-1 # keep me"));
    assert!(m.mentions_identity("rosa-role") && !m.mentions_identity("other"));
    assert!(!patch(&m, &spec("rosa-role")).unwrap().changed, "idempotent");
    assert_eq!(unpatch(&p.text, &p.record).unwrap(), text);
}

#[test]
fn a_topology_cluster_without_the_identity_variable_is_warned_about() {
    let with = "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata:\n  name: a\n  namespace: team-a\nspec:\n  topology:\n    class: aws\n    variables:\n      - name: identityRef\n        value: {}\n";
    let without = "---\napiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata:\n  name: b\n  namespace: team-b\nspec:\n  topology:\n    class: aws\n    variables:\n      - name: region\n        value: us-east-1\n";
    let text = format!("{with}{without}");
    let p = patch(&parse(&text), &spec("id")).unwrap();
    let warned: Vec<String> = p.diagnostics.iter().map(|d| d.message.clone()).collect();
    assert!(warned.iter().any(|m| m.contains("`Cluster` `team-b/b` has no `identityRef` variable")), "{warned:#?}");
    assert!(!warned.iter().any(|m| m.contains("`Cluster` `team-a/a`")), "{warned:#?}");
    // Its class is not in the file: a possibility, not a fact.
    let b = warned.iter().find(|m| m.contains("`team-b/b`")).unwrap();
    assert!(b.contains("ClusterClass `team-b/aws` is not in this file"), "{b}");
    assert!(b.contains("which may be the controller's default identity (the management account)"), "{b}");
    assert!(b.contains("if the class declares an `identityRef` variable, add `{name: identityRef, value: {}}`"), "{b}");
    assert_eq!(p.diagnostics.iter().find(|d| d.message.contains("`team-b/b`")).unwrap().line, 13);
}

#[test]
fn rosa_network_role_config_and_eks_control_plane_templates_get_the_identity() {
    let text = "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: ROSANetwork\nmetadata:\n  name: net\nspec:\n  region: us-west-2\n  identityRef:\n    kind: AWSClusterControllerIdentity\n    name: default\n---\napiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: ROSARoleConfig\nmetadata:\n  name: roles\nspec:\n  oidcProviderType: Managed\n---\napiVersion: controlplane.cluster.x-k8s.io/v1beta2\nkind: AWSManagedControlPlaneTemplate\nmetadata:\n  name: eks-cp\nspec:\n  template:\n    spec:\n      region: us-west-2\n";
    let p = patch(&parse(text), &spec("rosa-role")).unwrap();
    let m = parse(&p.text);
    let kinds: Vec<(TargetKind, String)> =
        m.targets().iter().map(|t| (t.kind, t.identity_ref.as_ref().unwrap().to_string())).collect();
    let want = "AWSClusterRoleIdentity/rosa-role".to_string();
    assert_eq!(
        kinds,
        vec![
            (TargetKind::RosaNetwork, want.clone()),
            (TargetKind::RosaRoleConfig, want.clone()),
            (TargetKind::AwsManagedControlPlaneTemplate, want)
        ]
    );
    assert_eq!(TargetKind::AwsManagedControlPlaneTemplate.field(), "spec.template.spec.identityRef");
    assert!(p
        .text
        .contains("  identityRef:\n    kind: AWSClusterRoleIdentity\n    name: rosa-role\n  oidcProviderType"));
    assert_eq!(unpatch(&p.text, &p.record).unwrap(), text);
}

const CLUSTER_CLASS: &str =
    "apiVersion: cluster.x-k8s.io/v1beta1\nkind: ClusterClass\nmetadata:\n  name: cc\nspec:\n  infrastructure:\n    ref: {apiVersion: infrastructure.cluster.x-k8s.io/v1beta2, kind: AWSClusterTemplate, name: tpl}\n";
const TEMPLATE: &str = "---\napiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSClusterTemplate\nmetadata:\n  name: tpl\nspec:\n  template:\n    spec: {}\n";
const DECLARED: &str = "  variables:\n  - name: identityRef\n    schema: {openAPIV3Schema: {type: object}}\n";
const PATCHED: &str = "  patches:\n  - name: id\n    definitions:\n    - selector: {apiVersion: infrastructure.cluster.x-k8s.io/v1beta2, kind: AWSClusterTemplate, matchResources: {infrastructureCluster: true}}\n      jsonPatches:\n      - {op: replace, path: /spec/template/spec/identityRef, valueFrom: {variable: identityRef}}\n";

fn topology_cluster(variable: bool) -> String {
    let vars = if variable { "    variables:\n    - name: identityRef\n      value: {}\n" } else { "" };
    format!("---\napiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata:\n  name: k\nspec:\n  topology:\n    class: cc\n    version: v1.30.0\n{vars}")
}

fn warnings_of(text: &str) -> Vec<String> {
    patch(&parse(text), &spec("id")).unwrap().diagnostics.into_iter().map(|d| d.message).collect()
}

#[test]
fn a_variable_the_class_does_not_declare_is_rejected_by_the_topology_controller() {
    let text = format!("{CLUSTER_CLASS}{TEMPLATE}{}", topology_cluster(true));
    let w = warnings_of(&text);
    assert!(
        w.iter().any(|m| m.starts_with("`Cluster` `default/k` sets an `identityRef` variable that its ClusterClass `default/cc` does not declare: the topology controller rejects")),
        "{w:#?}"
    );
    // The template is what its clusters use, shared by the whole class.
    assert!(w.iter().any(|m| m.starts_with("`AWSClusterTemplate` `default/tpl` is the template of ClusterClass `default/cc`, which has no `identityRef` variable: every cluster of that class (`Cluster` `default/k` in this file) uses `AWSClusterRoleIdentity` `id` (the role in account 222222222222)")), "{w:#?}");
}

#[test]
fn a_declared_variable_no_patch_uses_has_no_effect() {
    let text = format!("{CLUSTER_CLASS}{DECLARED}{TEMPLATE}{}", topology_cluster(true));
    let w = warnings_of(&text);
    assert!(
        w.iter().any(|m| m == "ClusterClass `default/cc` declares `identityRef` but no patch writes it to `/spec/template/spec/identityRef`: the value xacct sets on `Cluster` `default/k` has no effect, and the cluster uses the identity of `AWSClusterTemplate` `default/tpl`, which xacct sets to `AWSClusterRoleIdentity` `id` (the role in account 222222222222)"),
        "{w:#?}"
    );
    assert!(w.iter().any(|m| m.contains("which declares an `identityRef` variable but no patch writes it")), "{w:#?}");
}

#[test]
fn a_cluster_that_leaves_the_declared_variable_unset_uses_the_template() {
    let text = format!("{CLUSTER_CLASS}{DECLARED}{PATCHED}{TEMPLATE}{}", topology_cluster(false));
    let w = warnings_of(&text);
    assert!(
        w.iter().any(|m| m.starts_with("`Cluster` `default/k` does not set the `identityRef` variable that its ClusterClass `default/cc` declares, so it uses the identity of `AWSClusterTemplate` `default/tpl`, which xacct sets to `AWSClusterRoleIdentity` `id`") && m.ends_with("add `{name: identityRef, value: {}}` under `spec.topology.variables` and xacct sets it")),
        "{w:#?}"
    );
    // With the variable set, only the template's note remains.
    let text = format!("{CLUSTER_CLASS}{DECLARED}{PATCHED}{TEMPLATE}{}", topology_cluster(true));
    let w = warnings_of(&text);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(w[0].contains("a cluster of that class that sets the `identityRef` variable uses its own value"), "{w:#?}");
}

#[test]
fn a_class_whose_template_is_elsewhere_is_refused_saying_why() {
    let text = format!("{CLUSTER_CLASS}{}", topology_cluster(false));
    let err = patch(&parse(&text), &spec("id")).unwrap_err();
    assert!(matches!(err, ManifestError::NoTargets { line: 9, column: 1, .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("; `Cluster` `default/k` has no `identityRef` variable and its ClusterClass `default/cc` declares none, so it uses the identity of `AWSClusterTemplate` `default/tpl`, which is not in this file (the controller's default identity, the management account, unless that template names one)"),
        "{msg}"
    );
}

#[test]
fn a_class_that_patches_its_own_identity_overrides_xacct() {
    let fixed = "  patches:\n  - name: id\n    definitions:\n    - selector: {kind: AWSClusterTemplate}\n      jsonPatches:\n      - {op: add, path: /spec/template/spec/identityRef, value: {kind: AWSClusterRoleIdentity, name: fixed}}\n";
    let text = format!("{CLUSTER_CLASS}{fixed}{TEMPLATE}{}", topology_cluster(false));
    let w = warnings_of(&text);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(w[0].starts_with("ClusterClass `default/cc` patches `/spec/template/spec/identityRef` with a value of its own, so its clusters do not use the identity xacct sets (`AWSClusterTemplate` `default/tpl` names"), "{w:#?}");
}
