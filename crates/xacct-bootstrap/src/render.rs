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
