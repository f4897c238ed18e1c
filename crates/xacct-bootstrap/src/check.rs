//! Checks of a resource set against what IAM enforces and the emulator does not (REFERENCE §3,
//! §7), run before anything is written. Each problem is a [`Diagnostic`] pointing at the
//! configuration field that causes it when there is one.

use std::collections::BTreeMap;
use std::path::PathBuf;

use xacct_policy::{MANAGED_POLICY_QUOTA, ROLE_INLINE_POLICIES_QUOTA, TRUST_POLICY_MAX_QUOTA};
use xacct_spec::yaml::Pos;
use xacct_spec::{Diagnostic, Severity};

use crate::model::*;
use crate::parse::{iam_name_chars, nearest, policy_arn_partition, PARTITIONS};
use crate::{Config, Source};

/// The longest role name IAM allows.
pub const ROLE_NAME_MAX: usize = 64;
/// The longest instance-profile, policy, user and group name IAM allows.
pub const NAME_MAX: usize = 128;
/// All inline policies of one user together.
pub const USER_INLINE_POLICIES_QUOTA: usize = 2_048;
/// Managed policies per role by default (`AttachedPoliciesPerRoleQuota`).
pub const ATTACHED_POLICIES_PER_ROLE_DEFAULT: usize = 10;
/// The most managed policies per role AWS grants on request.
pub const ATTACHED_POLICIES_PER_ROLE_MAX: usize = 20;

struct Cx<'a> {
    file: PathBuf,
    config: Option<&'a Config>,
    out: Vec<Diagnostic>,
}

impl Cx<'_> {
    /// A diagnostic at the first of `fields` the configuration wrote (else at the file, line 0).
    fn error(&mut self, fields: &[&str], message: String, hint: Option<String>) {
        let found = self.config.and_then(|c| fields.iter().find_map(|f| c.origin(f).map(|p| (*f, p))));
        let (field, pos) = match found {
            Some((f, p)) => (f.to_string(), p),
            None => (fields.first().map(|f| f.to_string()).unwrap_or_default(), Pos::default()),
        };
        let mut d = Diagnostic::new(Severity::Error, &self.file, pos, &field, message);
        d.hint = hint;
        self.out.push(d);
    }
}

fn file_of(source: &Source) -> PathBuf {
    match source {
        Source::Config(c) => c.file.clone(),
        Source::Profile(p) => PathBuf::from(format!("<profile {}>", p.name())),
    }
}

/// Every problem IAM would reject in `set` (rendered from `source`), before anything is written:
/// partition, names, AWS-managed policy ARNs, managed-policy size, inline budgets, trust size
/// beyond the largest quota, and more than 20 managed policies on a role. Attachment counts
/// between 11 and 20 depend on the account's quota: see [`check_attachment_quota`].
pub fn check(source: &Source, set: &ResourceSet) -> Vec<Diagnostic> {
    let config = match source {
        Source::Config(c) => Some(&**c),
        Source::Profile(_) => None,
    };
    let mut cx = Cx { file: file_of(source), config, out: Vec::new() };
    let partition = set.partition.as_str();

    // The partition.
    if !PARTITIONS.contains(&partition) {
        let hint = match nearest(partition, PARTITIONS) {
            Some(n) => format!("did you mean `{n}`? known partitions: {}", PARTITIONS.join(", ")),
            None => format!("known partitions: {}", PARTITIONS.join(", ")),
        };
        cx.error(&["spec.partition"], format!("unknown partition `{partition}`"), Some(hint));
    }
    if let Some(c) = config {
        if let Some(p) = &c.spec.partition {
            if p != partition {
                cx.error(
                    &["spec.partition"],
                    format!("the configuration says partition `{p}` but the account is in `{partition}`"),
                    Some(format!("set `partition: {partition}` or remove the key")),
                );
            }
        }
    }

    // Policy ARNs the configuration names, and those the set attaches.
    if let Some(c) = config {
        let s = &c.spec;
        let lists: [(&str, &[String]); 5] = [
            ("spec.controlPlane.extraPolicyAttachments", &s.control_plane.role.extra_policy_attachments),
            ("spec.nodes.extraPolicyAttachments", &s.nodes.role.extra_policy_attachments),
            (
                "spec.eks.defaultControlPlaneRole.extraPolicyAttachments",
                &s.eks.default_control_plane_role.extra_policy_attachments,
            ),
            (
                "spec.eks.managedMachinePool.extraPolicyAttachments",
                &s.eks.managed_machine_pool.extra_policy_attachments,
            ),
            ("spec.eks.fargate.extraPolicyAttachments", &s.eks.fargate.extra_policy_attachments),
        ];
        for (field, arns) in lists {
            for (i, arn) in arns.iter().enumerate() {
                let item = format!("{field}[{i}]");
                arn_partition(&mut cx, &[&item, field], arn, partition);
            }
        }
        if let Some(arn) = &s.control_plane.role.permissions_boundary {
            arn_partition(&mut cx, &["spec.controlPlane.permissionsBoundary"], arn, partition);
        }
    }
    let from_config: Vec<&String> = match config {
        Some(c) => [
            &c.spec.control_plane.role.extra_policy_attachments,
            &c.spec.nodes.role.extra_policy_attachments,
            &c.spec.eks.default_control_plane_role.extra_policy_attachments,
            &c.spec.eks.managed_machine_pool.extra_policy_attachments,
            &c.spec.eks.fargate.extra_policy_attachments,
        ]
        .into_iter()
        .flatten()
        .collect(),
        None => Vec::new(),
    };
    for a in &set.attachments {
        if let PolicyRef::Arn(arn) = &a.policy {
            if !from_config.contains(&arn) {
                arn_partition(&mut cx, &["spec"], arn, partition);
            }
        }
    }

    // Names.
    let prefix_fields = ["spec.namePrefix", "spec.nameSuffix"];
    for r in &set.roles {
        let core = matches!(r.kind, RoleKind::ControlPlane | RoleKind::Controllers | RoleKind::Nodes);
        name(&mut cx, "role", &r.name, ROLE_NAME_MAX, if core { &prefix_fields } else { &[] }, config);
    }
    for p in &set.instance_profiles {
        name(&mut cx, "instance profile", &p.name, NAME_MAX, &prefix_fields, config);
    }
    for p in &set.policies {
        name(&mut cx, "managed policy", &p.name, NAME_MAX, &prefix_fields, config);
    }
    for u in &set.users {
        name(&mut cx, "user", &u.name, NAME_MAX, &["spec.bootstrapUser.userName"], config);
    }
    for g in &set.groups {
        name(&mut cx, "group", &g.name, NAME_MAX, &["spec.bootstrapUser.groupName"], config);
    }
    let mut seen: BTreeMap<(&str, String), &str> = BTreeMap::new();
    let names =
        set.roles.iter().map(|r| ("role", &r.name)).chain(set.policies.iter().map(|p| ("managed policy", &p.name)));
    for (kind, n) in names {
        if let Some(first) = seen.insert((kind, n.to_lowercase()), n) {
            cx.error(
                &prefix_fields,
                format!("{kind} names `{first}` and `{n}` are the same to IAM (names are unique case-insensitively)"),
                None,
            );
        }
    }

    // Sizes.
    for p in &set.policies {
        let size = p.size();
        if size > MANAGED_POLICY_QUOTA {
            let controllers = config.map(|c| c.spec.managed_name(&crate::data::capa().controllers.name));
            let (fields, hint): (&[&str], String) = if controllers.as_deref() == Some(p.name.as_str()) {
                (
                    &["spec.clusterAPIControllers.allowedEC2InstanceProfiles", "spec.allowAssumeRole", "spec"],
                    "each `allowedEC2InstanceProfiles` entry adds a role ARN to `iam:PassRole` (and, with `allowAssumeRole`, to `sts:AssumeRole`): use fewer entries or wildcards such as `*.<suffix>`".into(),
                )
            } else {
                (&["spec"], "the policy is clusterawsadm's own plus what the configuration adds: add less".into())
            };
            cx.error(
                fields,
                format!(
                    "managed policy `{}` would be {size} characters (whitespace not counted); IAM allows {MANAGED_POLICY_QUOTA}",
                    p.name
                ),
                Some(hint),
            );
        }
    }
    for r in &set.roles {
        let size = r.inline_size();
        if size > ROLE_INLINE_POLICIES_QUOTA {
            let field = match r.kind {
                RoleKind::ControlPlane => "spec.controlPlane.extraStatements",
                RoleKind::Controllers => "spec.clusterAPIControllers.extraStatements",
                _ => "spec.nodes.extraStatements",
            };
            cx.error(
                &[field, "spec"],
                format!(
                    "role `{}`: its inline policies would be {size} characters (whitespace not counted); IAM allows {ROLE_INLINE_POLICIES_QUOTA} per role",
                    r.name
                ),
                Some("move statements into a managed policy and list its ARN in `extraPolicyAttachments`".into()),
            );
        }
        let trust = r.trust_size();
        if trust > TRUST_POLICY_MAX_QUOTA {
            let field = match r.kind {
                RoleKind::ControlPlane => "spec.controlPlane.trustStatements",
                RoleKind::Controllers => "spec.clusterAPIControllers.trustStatements",
                _ => "spec.nodes.trustStatements",
            };
            cx.error(
                &[field, "spec"],
                format!(
                    "role `{}`: its trust policy would be {trust} characters; IAM allows at most {TRUST_POLICY_MAX_QUOTA} (2,048 by default)",
                    r.name
                ),
                Some("trust fewer principals, or one account root with an `aws:PrincipalArn` condition".into()),
            );
        }
    }
    for u in &set.users {
        let size = u.inline_size();
        if size > USER_INLINE_POLICIES_QUOTA {
            cx.error(
                &["spec.bootstrapUser.extraStatements", "spec"],
                format!(
                    "user `{}`: its inline policies would be {size} characters (whitespace not counted); IAM allows {USER_INLINE_POLICIES_QUOTA} per user",
                    u.name
                ),
                Some("move statements into a managed policy and attach it to the bootstrap group".into()),
            );
        }
    }
    let mut d = cx.out;
    d.extend(check_attachment_quota(source, set, ATTACHED_POLICIES_PER_ROLE_MAX));
    d
}

/// Roles of `set` with more managed policies than `quota` (the account's
/// `AttachedPoliciesPerRoleQuota`). The planner calls this with the real quota when
/// [`ResourceSet::managed_policy_count`] passes [`ATTACHED_POLICIES_PER_ROLE_DEFAULT`] for a role.
pub fn check_attachment_quota(source: &Source, set: &ResourceSet, quota: usize) -> Vec<Diagnostic> {
    let config = match source {
        Source::Config(c) => Some(&**c),
        Source::Profile(_) => None,
    };
    let mut cx = Cx { file: file_of(source), config, out: Vec::new() };
    for r in &set.roles {
        let n = set.managed_policy_count(&r.name);
        if n > quota {
            let field = match r.kind {
                RoleKind::ControlPlane => "spec.controlPlane.extraPolicyAttachments",
                RoleKind::Nodes => "spec.nodes.extraPolicyAttachments",
                RoleKind::EksControlPlane => "spec.eks.defaultControlPlaneRole.extraPolicyAttachments",
                RoleKind::EksNodegroup => "spec.eks.managedMachinePool.extraPolicyAttachments",
                RoleKind::EksFargate => "spec.eks.fargate.extraPolicyAttachments",
                RoleKind::Controllers => "spec",
            };
            cx.error(
                &[field, "spec"],
                format!("role `{}` would have {n} managed policies attached; the account allows {quota}", r.name),
                Some(if quota < ATTACHED_POLICIES_PER_ROLE_MAX {
                    format!("ask AWS to raise `AttachedPoliciesPerRoleQuota` (up to {ATTACHED_POLICIES_PER_ROLE_MAX}) or attach fewer")
                } else {
                    "attach fewer policies: combine them into one customer-managed policy".into()
                }),
            );
        }
    }
    cx.out
}

fn arn_partition(cx: &mut Cx, fields: &[&str], arn: &str, partition: &str) {
    match policy_arn_partition(arn) {
        None => cx.error(fields, format!("`{arn}` is not a managed policy ARN"), None),
        Some(p) if p != partition => {
            let fixed = arn.replacen(&format!("arn:{p}:"), &format!("arn:{partition}:"), 1);
            cx.error(
                fields,
                format!("`{arn}` is a policy of partition `{p}`; this account is in `{partition}`"),
                Some(format!("write `{fixed}`")),
            );
        }
        Some(_) => {}
    }
}

fn name(cx: &mut Cx, kind: &str, n: &str, max: usize, fields: &[&str], config: Option<&Config>) {
    let len = n.chars().count();
    if len > max {
        let hint = match (kind, config) {
            ("role", Some(c)) if !fields.is_empty() => {
                let s = &c.spec;
                let budget = max.saturating_sub(crate::data::capa().roles.control_plane.name.len());
                format!(
                    "namePrefix (`{}`, {}) and nameSuffix (`{}`, {}) may be at most {budget} characters together, so that `control-plane` fits",
                    s.name_prefix,
                    s.name_prefix.chars().count(),
                    s.name_suffix,
                    s.name_suffix.chars().count()
                )
            }
            _ => format!("use a name of at most {max} characters"),
        };
        cx.error(fields, format!("{kind} name `{n}` is {len} characters; IAM allows {max}"), Some(hint));
    }
    if n.is_empty() || !iam_name_chars(n) {
        cx.error(
            fields,
            format!("{kind} name `{n}` has characters IAM does not allow"),
            Some("use letters, digits and `_+=,.@-`".into()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_str, resource_set, Profile};

    fn config(spec: &str) -> Source {
        let text = format!(
            "apiVersion: bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1\nkind: AWSIAMConfiguration\nspec:\n{spec}"
        );
        Source::from(parse_str(std::path::Path::new("c.yaml"), &text).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn attachment_counts_past_ten_depend_on_the_accounts_quota() {
        let extra: String = (0..8).map(|i| format!("      - arn:aws:iam::111111111111:policy/extra-{i}\n")).collect();
        let source = config(&format!("  nodes:\n    extraPolicyAttachments:\n{extra}"));
        let set = resource_set(&source, "aws");
        let nodes = "nodes.cluster-api-provider-aws.sigs.k8s.io";
        assert_eq!(set.managed_policy_count(nodes), 11);
        assert!(check(&source, &set).is_empty());
        let over = check_attachment_quota(&source, &set, ATTACHED_POLICIES_PER_ROLE_DEFAULT);
        assert_eq!(over.len(), 1, "{over:?}");
        assert_eq!(over[0].field, "spec.nodes.extraPolicyAttachments");
        assert_eq!(
            over[0].message,
            format!("role `{nodes}` would have 11 managed policies attached; the account allows 10")
        );
        assert!(check_attachment_quota(&source, &set, 11).is_empty());
    }

    #[test]
    fn a_user_has_a_smaller_inline_budget() {
        let actions: String = (0..150).map(|i| format!("          - s3:GetSomething{i:03}\n")).collect();
        let source = config(&format!(
            "  bootstrapUser:\n    enable: true\n    extraStatements:\n      - Effect: Allow\n        Resource: [\"*\"]\n        Action:\n{actions}"
        ));
        let set = resource_set(&source, "aws");
        let d = check(&source, &set);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].field, "spec.bootstrapUser.extraStatements");
        assert!(d[0].message.ends_with("IAM allows 2048 per user"), "{}", d[0]);
    }

    #[test]
    fn a_profile_in_an_unknown_partition() {
        let source = Source::Profile(Profile::Dkp);
        let set = resource_set(&source, "aws-mars");
        let d = check(&source, &set);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            d[0].to_string(),
            format!(
                "error: <profile dkp>: spec.partition: unknown partition `aws-mars`\n  hint: known partitions: {}",
                PARTITIONS.join(", ")
            )
        );
        assert!(PARTITIONS.starts_with(&["aws", "aws-cn", "aws-us-gov"]));
    }

    #[test]
    fn a_long_user_name_and_bad_characters() {
        let long = "u".repeat(129);
        let source = config(&format!("  bootstrapUser: {{enable: true, userName: {long}, groupName: \"a b\"}}\n"));
        let set = resource_set(&source, "aws");
        let d = check(&source, &set);
        let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["spec.bootstrapUser.userName", "spec.bootstrapUser.groupName"], "{d:?}");
        assert!(d[0].message.ends_with("is 129 characters; IAM allows 128"));
    }
}
