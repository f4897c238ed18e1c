//! xacct-bootstrap: CAPA's prerequisite IAM (what `clusterawsadm bootstrap iam` makes with a
//! CloudFormation stack) as data and pure functions.
//!
//! It owns four things. The **policy facts** — the customer-managed policy documents
//! (`controllers`, `controllers-eks`, `control-plane`, `nodes`, `csi`, `eks-console`), the trust
//! services and AWS-managed policies of every role, DKP's set — kept as xacct's own data files
//! under `data/`, each naming the upstream version it matches (CAPA at
//! `2cf09d78547d32975570a4b9ba5496bdfe26abeb`, DKP 2.3 docs at mesosphere/dcos-docs-site
//! `f15c4d9`). The **configuration reader** ([`load`], [`parse_str`]): clusterawsadm's
//! `AWSIAMConfiguration` (`bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1`) with
//! clusterawsadm's meaning and defaults (including its quirks: an `eks` block that is not disabled
//! turns `nodes.ec2ContainerRegistryReadOnly` on; `path` and `permissionsBoundary` come from
//! `controlPlane` for all three core roles; `controlPlane.extraPolicyAttachments` also go to the
//! bootstrap user), where an unknown or misspelt key is an error with a did-you-mean instead of
//! being dropped, and a field clusterawsadm ignores is a warning. The **resource set**
//! ([`resource_set`]): the roles, instance profiles, customer-managed policies, attachments,
//! users and groups of one account, in a deterministic order. The **checks** ([`check`],
//! [`check_attachment_quota`]) of what IAM would reject: name lengths, partitions and their
//! AWS-managed ARNs, the 6,144-character managed policy, the 10,240-character inline budget of a
//! role, attachment counts.
//!
//! Parts that depend on the configuration (`allowedEC2InstanceProfiles`, secret backends, S3
//! buckets, `allowAssumeRole`, EventBridge, EKS role creation, the KMS alias prefix, the
//! partition, `namePrefix`/`nameSuffix`, `extraStatements`, `trustStatements`) are filled in by
//! code, not stored per variant. AWS-managed policy ARNs are the partition's
//! (`arn:aws-cn:iam::aws:policy/…`) for every role, where clusterawsadm knows only `aws` and
//! `aws-us-gov` for the EKS nodegroup and Fargate roles (CAPA #4216, #2289).
//!
//! **`profile: dkp`** keeps DKP 2.3's shape — roles and instance profiles `control-plane.*` and
//! `nodes.*`, policies `control-plane.*` (on control-plane), `nodes.*` (on both) and
//! `controllers.*` (on control-plane: DKP runs the controllers with that role) — but carries
//! CAPA's newer documents, not the older ones of the DKP page: DKP's controllers policy has 77
//! actions against CAPA's 129, CAPA's only adds, so the superset keeps DKP clusters working and
//! also serves the CAPA versions later DKP releases run. Adopting a DKP 2.3 stack thus plans one
//! new, wider default version of each of the three policies. `profile: capa` is clusterawsadm's
//! default set, the same as an empty `spec`.
//!
//! It must not do I/O beyond reading the configuration file, call AWS or print; it knows nothing
//! of state or plans. `xacct-plan` depends on it; it depends on `xacct-policy` (sizes,
//! validation) and `xacct-spec` (the positioned YAML tree and [`Diagnostic`]).
//!
//! ```
//! use std::path::Path;
//! use xacct_bootstrap::{check, parse_str, resource_set, PolicyRef, Principal, Profile, Source};
//!
//! let text = "apiVersion: bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1\n\
//!             kind: AWSIAMConfiguration\n\
//!             spec:\n  nameSuffix: .example.com\n";
//! let config = parse_str(Path::new("capa-iam.yaml"), text).unwrap();
//! let source = Source::from(config);
//! let set = resource_set(&source, "aws-us-gov");
//! assert!(check(&source, &set).is_empty());
//! assert_eq!(set.controller_role, "controllers.example.com");
//! let nodes = Principal::Role("nodes.example.com".into());
//! let arns: Vec<_> = set.attached_to(&nodes).collect();
//! assert!(arns.contains(&&PolicyRef::Arn("arn:aws-us-gov:iam::aws:policy/AmazonEKSWorkerNodePolicy".into())));
//!
//! // DKP's set: two roles, two instance profiles, three policies.
//! let dkp = resource_set(&Source::Profile(Profile::Dkp), "aws");
//! assert_eq!((dkp.roles.len(), dkp.instance_profiles.len(), dkp.policies.len()), (2, 2, 3));
//! ```

mod check;
mod config;
mod data;
mod model;
mod parse;
mod render;

pub use check::{
    check, check_attachment_quota, ATTACHED_POLICIES_PER_ROLE_DEFAULT, ATTACHED_POLICIES_PER_ROLE_MAX, NAME_MAX,
    ROLE_NAME_MAX, USER_INLINE_POLICIES_QUOTA,
};
pub use config::{
    BootstrapUser, ControlPlane, Controllers, Eks, Nodes, RoleSpec, S3Buckets, SecretBackend, Spec, API_VERSION, KIND,
};
pub use data::Upstream;
pub use model::{
    Attachment, Group, InlinePolicy, InstanceProfile, ManagedPolicy, PolicyRef, Principal, ResourceSet, Role, RoleKind,
    User,
};
pub use parse::{load, parse_str, Config, PARTITIONS};
pub use render::resource_set;
pub use xacct_spec::{Diagnostic, Diagnostics, Severity};

/// A named prerequisite set (`bootstrap.profile` in the desired-state file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// clusterawsadm's default set (the same as an empty `spec`).
    Capa,
    /// DKP 2.3's set (see the crate documentation for its documents).
    Dkp,
}

impl Profile {
    /// Every profile, by name.
    pub const ALL: [(&'static str, Profile); 2] = [("capa", Profile::Capa), ("dkp", Profile::Dkp)];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Capa => "capa",
            Profile::Dkp => "dkp",
        }
    }

    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }
}

/// Where an account's prerequisites come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// An `AWSIAMConfiguration` file.
    Config(Box<Config>),
    /// A named set.
    Profile(Profile),
}

impl From<Config> for Source {
    fn from(config: Config) -> Source {
        Source::Config(Box::new(config))
    }
}

impl From<Profile> for Source {
    fn from(profile: Profile) -> Source {
        Source::Profile(profile)
    }
}

/// The upstream versions the data files match: (file, upstream) for every file under `data/`.
pub fn data_versions() -> Vec<(&'static str, &'static Upstream)> {
    let d = data::capa();
    vec![
        ("capa/roles.json", &d.roles.upstream),
        ("capa/controllers.json", &d.controllers.upstream),
        ("capa/controllers-eks.json", &d.controllers_eks.upstream),
        ("capa/control-plane.json", &d.control_plane.upstream),
        ("capa/nodes.json", &d.nodes.upstream),
        ("capa/csi.json", &d.csi.upstream),
        ("capa/eks-console.json", &d.eks_console.upstream),
        ("dkp/dkp-2.3.json", &data::dkp().upstream),
    ]
}

/// Why `profile: dkp` carries CAPA's documents (the note of `data/dkp/dkp-2.3.json`).
pub fn dkp_decision() -> &'static str {
    &data::dkp().note
}
