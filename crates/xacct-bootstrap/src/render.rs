//! From a configuration (or a profile) and a partition to the resource set of one account, the
//! way clusterawsadm's `RenderCloudFormation` composes it (CAPA at 2cf09d7).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::config::{RoleSpec, SecretBackend, Spec};
use crate::data::{self, PolicyData, RoleData, Vars};
use crate::model::*;
use crate::Source;

const VERSION: &str = "2012-10-17";

/// Whether a data file's `when` is one this renderer understands.
#[cfg(test)]
pub(crate) fn when_is_known(when: &str) -> bool {
    let flag = when.strip_prefix('!').unwrap_or(when);
    matches!(flag, "always" | "allowAssumeRole" | "s3Buckets.enable" | "eventBridge.enable" | "eks.iamRoleCreation")
        || when.strip_prefix("secureSecretBackends:").is_some_and(|b| SecretBackend::from_name(b).is_some())
}

fn when_holds(when: &str, spec: &Spec) -> bool {
    if let Some(b) = when.strip_prefix("secureSecretBackends:") {
        return SecretBackend::from_name(b).is_some_and(|b| spec.secure_secret_backends.contains(&b));
    }
    let (negated, flag) = match when.strip_prefix('!') {
        Some(f) => (true, f),
        None => (false, when),
    };
    let value = match flag {
        "always" => true,
        "allowAssumeRole" => spec.allow_assume_role,
        "s3Buckets.enable" => spec.s3_buckets.enable,
        "eventBridge.enable" => spec.event_bridge,
        "eks.iamRoleCreation" => spec.eks.iam_role_creation,
        other => panic!("data file has an unknown `when`: {other}"),
    };
    value != negated
}

fn vars(spec: &Spec, partition: &str) -> Vars {
    Vars {
        partition: partition.to_string(),
        kms_alias_prefix: spec.eks.kms_alias_prefix.clone(),
        s3_name_prefix: spec.s3_buckets.name_prefix.clone(),
        allowed_instance_profiles: spec.allowed_instance_profiles(),
    }
}

/// A policy document from a data file, for `spec`.
pub(crate) fn policy_document(data: &PolicyData, spec: &Spec, vars: &Vars) -> Value {
    let statements: Vec<Value> =
        data.statements.iter().filter(|e| when_holds(&e.when, spec)).map(|e| vars.fill(&e.statement)).collect();
    json!({"Version": VERSION, "Statement": statements})
}

/// clusterawsadm's `AssumeRolePolicy`: services may assume the role (and tag the session when
/// one of them is `pods.eks.amazonaws.com`), then the configuration's own trust statements.
fn trust_document(services: &[String], extra: &[Value]) -> Value {
    let d = data::capa();
    let mut actions = vec![Value::from("sts:AssumeRole")];
    if services.iter().any(|s| d.roles.tag_session_services.contains(s)) {
        actions.push(Value::from("sts:TagSession"));
    }
    let mut statements = vec![json!({"Effect": "Allow", "Principal": {"Service": services}, "Action": actions})];
    statements.extend(extra.iter().cloned());
    json!({"Version": VERSION, "Statement": statements})
}

fn aws_managed(partition: &str, name: &str) -> PolicyRef {
    PolicyRef::Arn(format!("arn:{partition}:iam::aws:policy/{name}"))
}

fn inline(spec: &Spec, statements: &[Value]) -> Vec<InlinePolicy> {
    if statements.is_empty() {
        return Vec::new();
    }
    vec![InlinePolicy { name: spec.stack_name.clone(), document: json!({"Version": VERSION, "Statement": statements}) }]
}

struct Builder {
    set: ResourceSet,
}

impl Builder {
    fn attach(&mut self, to: Principal, policy: PolicyRef) {
        self.set.attachments.push(Attachment { to, policy });
    }

    fn policy(&mut self, name: String, data: &PolicyData, spec: &Spec, vars: &Vars) -> String {
        self.set.policies.push(ManagedPolicy {
            name: name.clone(),
            path: "/".into(),
            description: data.description.clone(),
            document: policy_document(data, spec, vars),
        });
        name
    }

    #[allow(clippy::too_many_arguments)]
    fn role(
        &mut self,
        name: &str,
        kind: RoleKind,
        path: &str,
        trust: Value,
        boundary: Option<&String>,
        tags: &BTreeMap<String, String>,
        inline_policies: Vec<InlinePolicy>,
    ) {
        self.set.roles.push(Role {
            name: name.to_string(),
            kind,
            path: path.to_string(),
            trust,
            max_session_duration: None,
            permissions_boundary: boundary.cloned(),
            tags: tags.clone(),
            inline_policies,
        });
    }

    fn eks_role(&mut self, data: &RoleData, kind: RoleKind, spec: &RoleSpec, partition: &str) {
        self.role(&data.name, kind, "/", trust_document(&data.trust_services, &[]), None, &spec.tags, Vec::new());
        let to = Principal::Role(data.name.clone());
        for name in &data.aws_managed {
            self.attach(to.clone(), aws_managed(partition, name));
        }
        for arn in &spec.extra_policy_attachments {
            self.attach(to.clone(), PolicyRef::Arn(arn.clone()));
        }
    }

    fn profile(&mut self, role: &str) {
        self.set.instance_profiles.push(InstanceProfile {
            name: role.to_string(),
            path: "/".into(),
            role: role.into(),
        });
    }
}

/// The resource set of one account in `partition` (`aws`, `aws-cn`, `aws-us-gov`).
///
/// The partition is the account's; a configuration's own `partition`, when set, must agree
/// ([`crate::check`] reports it otherwise). Rendering does not validate: run [`crate::check`]
/// before writing anything.
pub fn resource_set(source: &Source, partition: &str) -> ResourceSet {
    match source {
        Source::Config(c) => render_spec(&c.spec, partition),
        Source::Profile(crate::Profile::Capa) => render_spec(&Spec::default(), partition),
        Source::Profile(crate::Profile::Dkp) => render_dkp(partition),
    }
}

fn empty(partition: &str, controller_role: String) -> Builder {
    Builder {
        set: ResourceSet {
            partition: partition.to_string(),
            controller_role,
            roles: Vec::new(),
            instance_profiles: Vec::new(),
            policies: Vec::new(),
            attachments: Vec::new(),
            users: Vec::new(),
            groups: Vec::new(),
        },
    }
}

/// clusterawsadm's set for `spec`.
pub fn render_spec(spec: &Spec, partition: &str) -> ResourceSet {
    let d = data::capa();
    let vars = vars(spec, partition);
    let eks = spec.eks_enabled();
    let cp = spec.managed_name(&d.roles.control_plane.name);
    let ctl = spec.managed_name(&d.roles.controllers.name);
    let nodes = spec.managed_name(&d.roles.nodes.name);
    let mut b = empty(partition, ctl.clone());
    let user = spec.bootstrap_user.enable;
    let group = Principal::Group(spec.bootstrap_user.group_name.clone());
    let cp_policy_roles = !spec.control_plane.disable_cluster_api_controller_policy_attachment;

    // Customer-managed policies and who they are attached to.
    let mut controller_policies = vec![b.policy(spec.managed_name(&d.controllers.name), &d.controllers, spec, &vars)];
    if eks {
        controller_policies.push(b.policy(spec.managed_name(&d.controllers_eks.name), &d.controllers_eks, spec, &vars));
    }
    for p in controller_policies {
        b.attach(Principal::Role(ctl.clone()), PolicyRef::Managed(p.clone()));
        if cp_policy_roles {
            b.attach(Principal::Role(cp.clone()), PolicyRef::Managed(p.clone()));
        }
        if user {
            b.attach(group.clone(), PolicyRef::Managed(p));
        }
    }
    let cloud_provider_cp = !spec.control_plane.disable_cloud_provider_policy;
    if cloud_provider_cp {
        let p = b.policy(spec.managed_name(&d.control_plane.name), &d.control_plane, spec, &vars);
        b.attach(Principal::Role(cp.clone()), PolicyRef::Managed(p));
    }
    if !spec.nodes.disable_cloud_provider_policy {
        let p = b.policy(spec.managed_name(&d.nodes.name), &d.nodes, spec, &vars);
        if cloud_provider_cp {
            b.attach(Principal::Role(cp.clone()), PolicyRef::Managed(p.clone()));
        }
        b.attach(Principal::Role(nodes.clone()), PolicyRef::Managed(p));
    }
    if spec.control_plane.enable_csi_policy {
        let p = b.policy(spec.managed_name(&d.csi.name), &d.csi, spec, &vars);
        if cloud_provider_cp {
            b.attach(Principal::Role(cp.clone()), PolicyRef::Managed(p));
        }
    }
    if eks && spec.eks.enable_user_eks_console_policy {
        b.policy(spec.managed_name(&d.eks_console.name), &d.eks_console, spec, &vars);
    }

    // The three core roles: path and permissions boundary come from `controlPlane` for all three.
    let path = spec.control_plane.role.path.clone().unwrap_or_else(|| "/".into());
    let boundary = spec.control_plane.role.permissions_boundary.as_ref();
    let c = &spec.control_plane.role;
    b.role(
        &cp,
        RoleKind::ControlPlane,
        &path,
        trust_document(&d.roles.control_plane.trust_services, &c.trust_statements),
        boundary,
        &c.tags,
        inline(spec, &c.extra_statements),
    );
    for arn in &c.extra_policy_attachments {
        b.attach(Principal::Role(cp.clone()), PolicyRef::Arn(arn.clone()));
    }
    let r = &spec.cluster_api_controllers.role;
    let mut services = d.roles.controllers.trust_services.clone();
    if eks {
        services.extend(d.roles.controllers.trust_services_with_eks.iter().cloned());
    }
    b.role(
        &ctl,
        RoleKind::Controllers,
        &path,
        trust_document(&services, &r.trust_statements),
        boundary,
        &r.tags,
        inline(spec, &r.extra_statements),
    );
    let n = &spec.nodes.role;
    b.role(
        &nodes,
        RoleKind::Nodes,
        &path,
        trust_document(&d.roles.nodes.trust_services, &n.trust_statements),
        boundary,
        &n.tags,
        inline(spec, &n.extra_statements),
    );
    let to = Principal::Role(nodes.clone());
    for arn in &n.extra_policy_attachments {
        b.attach(to.clone(), PolicyRef::Arn(arn.clone()));
    }
    if eks {
        for name in &d.roles.nodes.aws_managed_with_eks {
            b.attach(to.clone(), aws_managed(partition, name));
        }
    }
    if spec.nodes.ec2_container_registry_read_only {
        for name in &d.roles.nodes.aws_managed_with_ec2_container_registry_read_only {
            b.attach(to.clone(), aws_managed(partition, name));
        }
    }
    for role in [&cp, &ctl, &nodes] {
        b.profile(role);
    }

    // EKS roles: fixed names, no path, boundary or inline policies.
    if eks {
        if !spec.eks.default_control_plane_role.disable {
            b.eks_role(
                &d.roles.eks_control_plane,
                RoleKind::EksControlPlane,
                &spec.eks.default_control_plane_role,
                partition,
            );
        }
        if !spec.eks.managed_machine_pool.disable {
            b.eks_role(&d.roles.eks_nodegroup, RoleKind::EksNodegroup, &spec.eks.managed_machine_pool, partition);
        }
        if !spec.eks.fargate.disable {
            b.eks_role(&d.roles.eks_fargate, RoleKind::EksFargate, &spec.eks.fargate, partition);
        }
    }

    // The bootstrap user and its group (clusterawsadm attaches `controlPlane.extraPolicyAttachments`
    // to the user, not `bootstrapUser.extraPolicyAttachments`).
    if user {
        let u = &spec.bootstrap_user;
        let mut groups = vec![u.group_name.clone()];
        groups.extend(u.extra_groups.iter().cloned());
        b.set.users.push(User {
            name: u.user_name.clone(),
            path: "/".into(),
            groups,
            tags: u.tags.clone(),
            inline_policies: inline(spec, &u.extra_statements),
        });
        b.set.groups.push(Group { name: u.group_name.clone(), path: "/".into() });
        for arn in &c.extra_policy_attachments {
            b.attach(Principal::User(u.user_name.clone()), PolicyRef::Arn(arn.clone()));
        }
    }
    b.set.sort();
    b.set
}

/// DKP 2.3's set: its roles, profiles and attachments, CAPA's documents (see `data/dkp/`).
pub fn render_dkp(partition: &str) -> ResourceSet {
    let d = data::capa();
    let k = data::dkp();
    let spec = Spec::default();
    let vars = vars(&spec, partition);
    let role_data = |base: &str| -> &RoleData {
        [&d.roles.control_plane, &d.roles.controllers, &d.roles.nodes]
            .into_iter()
            .find(|r| r.name == base)
            .unwrap_or_else(|| panic!("data/dkp names an unknown role `{base}`"))
    };
    let policy_data = |base: &str| -> &PolicyData {
        [&d.controllers, &d.controllers_eks, &d.control_plane, &d.nodes, &d.csi, &d.eks_console]
            .into_iter()
            .find(|p| p.name == base)
            .unwrap_or_else(|| panic!("data/dkp names an unknown policy `{base}`"))
    };
    let mut b = empty(partition, spec.managed_name(&d.roles.control_plane.name));
    for base in &k.roles {
        let r = role_data(base);
        let kind = if base == &d.roles.nodes.name { RoleKind::Nodes } else { RoleKind::ControlPlane };
        b.role(
            &spec.managed_name(base),
            kind,
            "/",
            trust_document(&r.trust_services, &[]),
            None,
            &BTreeMap::new(),
            Vec::new(),
        );
    }
    for base in &k.instance_profiles {
        b.profile(&spec.managed_name(base));
    }
    for (base, roles) in &k.policies {
        let name = b.policy(spec.managed_name(base), policy_data(base), &spec, &vars);
        for role in roles {
            b.attach(Principal::Role(spec.managed_name(role)), PolicyRef::Managed(name.clone()));
        }
    }
    b.set.sort();
    b.set
}

/// A JSON object with keys in the order given (`serde_json` keeps insertion order here).
pub(crate) fn object(entries: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in entries {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{check, parse_str, Profile};

    const SFX: &str = ".cluster-api-provider-aws.sigs.k8s.io";

    fn config(spec: &str) -> Source {
        let text = format!(
            "apiVersion: bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1\nkind: AWSIAMConfiguration\nspec:\n{spec}"
        );
        Source::from(parse_str(std::path::Path::new("c.yaml"), &text).unwrap_or_else(|e| panic!("{e}")))
    }

    fn arns(set: &ResourceSet, role: &str) -> Vec<String> {
        set.attached_to(&Principal::Role(role.to_string())).map(|p| p.arn(&set.partition, "111111111111")).collect()
    }

    #[test]
    fn the_default_set() {
        let set = resource_set(&Source::Profile(Profile::Capa), "aws");
        let names = |v: Vec<&str>| v.into_iter().map(String::from).collect::<Vec<_>>();
        assert_eq!(
            set.roles.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            names(vec![
                "control-plane.cluster-api-provider-aws.sigs.k8s.io",
                "controllers.cluster-api-provider-aws.sigs.k8s.io",
                "eks-controlplane.cluster-api-provider-aws.sigs.k8s.io",
                "nodes.cluster-api-provider-aws.sigs.k8s.io",
            ])
        );
        assert_eq!(set.instance_profiles.len(), 3);
        assert!(set.instance_profiles.iter().all(|p| p.name == p.role && p.path == "/"));
        assert_eq!(
            set.policies.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            names(vec![
                "control-plane.cluster-api-provider-aws.sigs.k8s.io",
                "controllers-eks.cluster-api-provider-aws.sigs.k8s.io",
                "controllers.cluster-api-provider-aws.sigs.k8s.io",
                "nodes.cluster-api-provider-aws.sigs.k8s.io",
            ])
        );
        assert_eq!(set.attachments.len(), 10);
        assert!(set.users.is_empty() && set.groups.is_empty());
        assert_eq!(set.controller_role, format!("controllers{SFX}"));
        assert_eq!(
            arns(&set, &format!("nodes{SFX}")),
            [
                "arn:aws:iam::111111111111:policy/nodes.cluster-api-provider-aws.sigs.k8s.io",
                "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
            ]
        );
        assert_eq!(arns(&set, &format!("eks-controlplane{SFX}")), ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]);
        assert_eq!(set.managed_policy_count(&format!("control-plane{SFX}")), 4);
        let trust = &set.role(&format!("controllers{SFX}")).unwrap().trust;
        assert_eq!(trust["Statement"][0]["Action"], serde_json::json!(["sts:AssumeRole", "sts:TagSession"]));
        assert_eq!(
            trust["Statement"][0]["Principal"]["Service"],
            serde_json::json!(["ec2.amazonaws.com", "pods.eks.amazonaws.com"])
        );
        let trust = &set.role(&format!("control-plane{SFX}")).unwrap().trust;
        assert_eq!(trust["Statement"][0]["Action"], serde_json::json!(["sts:AssumeRole"]));
        // About 5,100 of a managed policy's 6,144 characters.
        let size = set.policy(&format!("controllers{SFX}")).unwrap().size();
        assert!((5_000..5_200).contains(&size), "{size}");
        assert!(check(&Source::Profile(Profile::Capa), &set).is_empty());
        // The same as an empty spec; rendering is deterministic.
        assert_eq!(resource_set(&config("  {}\n"), "aws"), set);
        assert_eq!(resource_set(&Source::Profile(Profile::Capa), "aws"), set);
    }

    #[test]
    fn aws_managed_policies_are_the_partitions_for_every_role() {
        let source = config("  eks:\n    managedMachinePool: {}\n    fargate: {}\n");
        let set = resource_set(&source, "aws-cn");
        let all: Vec<String> = set.roles.iter().flat_map(|r| arns(&set, &r.name)).collect();
        assert!(all.contains(&"arn:aws-cn:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy".to_string()));
        assert!(all.contains(&"arn:aws-cn:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly".to_string()));
        assert!(all.iter().all(|a| a.starts_with("arn:aws-cn:")), "{all:?}");
        let eks = set.policy(&format!("controllers-eks{SFX}")).unwrap().document.to_string();
        assert!(eks.contains("arn:aws-cn:iam::aws:policy/AmazonEKSClusterPolicy"), "{eks}");
        assert!(eks.contains("arn:aws-cn:iam::*:role/aws-service-role/eks-fargate-pods.amazonaws.com"), "{eks}");
        assert!(check(&source, &set).is_empty());
    }

    #[test]
    fn path_and_boundary_come_from_the_control_plane_for_all_three_core_roles() {
        let set = resource_set(
            &config("  controlPlane:\n    path: /capa/\n    permissionsBoundary: arn:aws:iam::111111111111:policy/boundary\n"),
            "aws",
        );
        for r in &set.roles {
            let core = matches!(r.kind, RoleKind::ControlPlane | RoleKind::Controllers | RoleKind::Nodes);
            assert_eq!(r.path, if core { "/capa/" } else { "/" }, "{}", r.name);
            assert_eq!(r.permissions_boundary.is_some(), core, "{}", r.name);
        }
    }

    #[test]
    fn switches_change_what_they_should() {
        let set = resource_set(
            &config("  controlPlane:\n    disableClusterAPIControllerPolicyAttachment: true\n    enableCSIPolicy: true\n  eventBridge: {enable: true}\n  eks: {iamRoleCreation: true}\n  namePrefix: p-\n"),
            "aws",
        );
        let cp = format!("p-control-plane{SFX}");
        assert_eq!(
            arns(&set, &cp),
            [
                format!("arn:aws:iam::111111111111:policy/p-control-plane{SFX}"),
                format!("arn:aws:iam::111111111111:policy/p-csi{SFX}"),
                format!("arn:aws:iam::111111111111:policy/p-nodes{SFX}"),
            ]
        );
        let ctl = set.policy(&format!("p-controllers{SFX}")).unwrap().document.to_string();
        assert!(ctl.contains("sqs:ReceiveMessage"));
        assert!(ctl.contains(&format!("arn:*:iam::*:role/p-*{SFX}")));
        let eks = set.policy(&format!("p-controllers-eks{SFX}")).unwrap().document.to_string();
        assert!(eks.contains("iam:CreateOpenIDConnectProvider") && eks.contains("iam:CreateRole"));
        // Without role creation, neither.
        let set = resource_set(&Source::Profile(crate::Profile::Capa), "aws");
        let eks = set.policy(&format!("controllers-eks{SFX}")).unwrap().document.to_string();
        assert!(!eks.contains("iam:CreateOpenIDConnectProvider") && !eks.contains("iam:CreateRole"));
    }

    #[test]
    fn the_bootstrap_user_gets_the_control_planes_extra_attachments() {
        let set = resource_set(
            &config("  controlPlane:\n    extraPolicyAttachments: [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]\n  bootstrapUser:\n    enable: true\n    extraGroups: [admins]\n    extraStatements:\n      - {Effect: Allow, Action: \"s3:ListAllMyBuckets\", Resource: [\"*\"]}\n"),
            "aws",
        );
        let user = &set.users[0];
        assert_eq!(user.name, "bootstrapper.cluster-api-provider-aws.sigs.k8s.io");
        assert_eq!(user.groups, ["bootstrapper.cluster-api-provider-aws.sigs.k8s.io", "admins"]);
        assert_eq!(user.inline_policies[0].name, "cluster-api-provider-aws-sigs-k8s-io");
        let to = Principal::User(user.name.clone());
        assert_eq!(
            set.attached_to(&to).collect::<Vec<_>>(),
            [&PolicyRef::Arn("arn:aws:iam::aws:policy/ReadOnlyAccess".into())]
        );
        let group = Principal::Group(set.groups[0].name.clone());
        assert_eq!(set.attached_to(&group).count(), 2);
    }

    #[test]
    fn inline_size_counts_what_iam_counts() {
        let set = resource_set(&config("  nodes:\n    extraStatements:\n      - {Effect: Allow, Action: [\"s3:GetObject\"], Resource: [\"*\"]}\n"), "aws");
        let nodes = set.role(&format!("nodes{SFX}")).unwrap();
        let expected =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}]}"#;
        assert_eq!(nodes.inline_size(), expected.len());
        assert_eq!(set.role(&format!("controllers{SFX}")).unwrap().inline_size(), 0);
    }
}
