//! The validated desired-state file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::yaml::Pos;

/// The role name CAPA's `clusterawsadm`/DKP IAM stacks give the controller role.
pub const DEFAULT_ROLE: &str = "control-plane.cluster-api-provider-aws.sigs.k8s.io";
/// The inline policy xacct owns on the management role.
pub const DEFAULT_ASSUME_POLICY_NAME: &str = "xacct-assume-workload-roles";

/// A desired-state file after validation, with defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// The file this came from.
    pub file: PathBuf,
    /// The directory relative paths are resolved against.
    pub dir: PathBuf,
    pub version: u32,
    /// One of [`crate::keys::PARTITIONS`] (`aws`, `aws-cn`, `aws-us-gov`, `aws-eusc`, the ISO partitions).
    pub partition: String,
    pub backend: BackendSpec,
    pub management: Management,
    pub workloads: Vec<Workload>,
    /// `defaults.access`: how to reach an account the file no longer names but the state still
    /// does (a workload being removed). `DefaultChain` when the file sets none.
    pub default_access: Access,
    /// `organization`: workload accounts selected from AWS Organizations. `None` when the file
    /// has no `organization` key. The accounts it selects join [`Spec::workloads`] only after
    /// discovery (in `xacct-plan`), each with [`Workload::discovered`] set.
    pub organization: Option<OrgSpec>,
}

/// The `organization` block: how to read AWS Organizations and which accounts to select.
#[derive(Clone, Debug, PartialEq)]
pub struct OrgSpec {
    /// How xacct reaches an account that may list the organization (its management account or a
    /// delegated administrator).
    pub access: Access,
    /// `organization.workloads`, in file order: an account several select gets the first one's
    /// settings.
    pub selectors: Vec<OrgSelector>,
    pub pos: Pos,
}

/// One `organization.workloads` entry: which accounts, and the workload settings each gets.
#[derive(Clone, Debug, PartialEq)]
pub struct OrgSelector {
    /// An OU ID (`ou-xxxx-xxxxxxxx`) or a root ID (`r-xxxx`): every ACTIVE account below it,
    /// nested OUs included.
    pub ou: String,
    /// Only accounts with every one of these tags, each with exactly this value (empty: all).
    pub tags: BTreeMap<String, String>,
    /// 12-digit account IDs never selected by this selector.
    pub except: BTreeSet<String>,
    /// The workload role in each selected account (default: `defaults.role`, else CAPA's).
    pub role: RoleRef,
    /// How xacct reaches each selected account (default: `defaults.access`).
    pub access: Access,
    pub external_id: Option<String>,
    /// The identity each selected account gets; its `name` is empty here and becomes the
    /// discovered workload's name.
    pub identity: Identity,
    /// `identities_dir`: where xacct writes each selected account's `AWSClusterRoleIdentity` as a
    /// file it owns (resolved against the file's directory). `None`: no identity files.
    pub identities_dir: Option<ManifestRef>,
    /// `bootstrap` after inheritance, for each selected account (see [`Management::bootstrap`]).
    pub bootstrap: Option<BootstrapSpec>,
    /// Whether the file names `role` for the selected accounts (the selector itself or through
    /// `defaults.role`): see [`Workload::role_given`].
    pub role_given: bool,
    pub pos: Pos,
}

/// Where a discovered workload came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    /// The index of the selector in `organization.workloads` whose settings it has.
    pub selector: usize,
    /// The account's name in Organizations (its workload name is derived from it).
    pub account_name: String,
    /// Its path as `aws:ResourceOrgPaths` sees it: `o-…/r-…/ou-…/`.
    pub ou_path: String,
    /// The organization ID (`o-…`).
    pub org_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendSpec {
    /// A state file (resolved against the desired-state file's directory).
    Local {
        path: PathBuf,
    },
    S3 {
        bucket: String,
        key: String,
        region: Option<String>,
    },
}

/// An IAM role by name and path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRef {
    pub name: String,
    /// `/` unless the file names another path; always starts and ends with `/`.
    pub path: String,
}

impl RoleRef {
    pub fn arn(&self, partition: &str, account: &str) -> String {
        format!("arn:{partition}:iam::{account}:role{}{}", self.path, self.name)
    }
}

/// How xacct itself reaches an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// The SDK's default credential chain.
    DefaultChain,
    /// A named profile from the AWS config files.
    Profile(String),
    /// Assume a role in the account from the base credentials.
    AssumeRole { role: AssumeTarget, external_id: Option<String>, session_name: Option<String> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssumeTarget {
    /// A full role ARN.
    Arn(String),
    /// A role name, turned into an ARN per account.
    Name(String),
}

impl Access {
    /// The role ARN to assume in `account`, if this access assumes one.
    pub fn role_arn(&self, partition: &str, account: &str) -> Option<String> {
        match self {
            Access::AssumeRole { role: AssumeTarget::Arn(arn), .. } => Some(arn.clone()),
            Access::AssumeRole { role: AssumeTarget::Name(name), .. } => {
                Some(format!("arn:{partition}:iam::{account}:role/{name}"))
            }
            _ => None,
        }
    }
}

/// How the management role's inline policy grants `sts:AssumeRole`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// List every workload role ARN (the default; least privilege).
    RoleArns,
    /// Any role with the workload role name in accounts of this organization (`aws:ResourceOrgID`).
    Organization { org_id: String },
    /// `grant: organization` (with an `organization` block): [`Grant::Organization`] with the ID
    /// `DescribeOrganization` returns, filled in after discovery (`xacct-plan`'s merge replaces
    /// it). Until then the document names no organization and grants nothing.
    FromOrganization,
    /// Any role with the workload role name under these organization paths (`aws:ResourceOrgPaths`).
    OrgPaths { paths: Vec<String> },
}

/// How the trust statement names the management role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrustPrincipal {
    /// `Principal.AWS` is the management role ARN (as the runbook does).
    RoleArn,
    /// `Principal.AWS` is the management account root, with an `ArnEquals aws:PrincipalArn`
    /// condition on the role ARN: survives the management role being deleted and re-created.
    AccountRootWithArnCondition,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Management {
    pub account: String,
    pub role: RoleRef,
    pub access: Access,
    pub assume_policy_name: String,
    pub grant: Grant,
    pub trust_principal: TrustPrincipal,
    /// `bootstrap` after inheritance: xacct makes CAPA's prerequisite IAM in this account.
    /// `None`: not bootstrapped (the role is a precondition, as without `bootstrap`).
    pub bootstrap: Option<BootstrapSpec>,
    /// Whether the file names `role` for this account (itself or through `defaults.role`): a
    /// bootstrapped account that does not uses the bootstrap set's controller role.
    pub role_given: bool,
    pub pos: Pos,
}

/// `bootstrap`: CAPA's prerequisite IAM (roles, instance profiles, managed policies,
/// attachments, the bootstrap user and group) that xacct creates and keeps in an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootstrapSpec {
    pub source: BootstrapSource,
    /// `adopt: true`: take over same-named resources that already exist (a CloudFormation
    /// stack's); without it an existing one is a plan error.
    pub adopt: bool,
    /// Where the block is written: the top-level one's for an account that inherits it.
    pub pos: Pos,
}

/// Where a bootstrap set comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootstrapSource {
    /// `config: FILE`: clusterawsadm's `AWSIAMConfiguration` (resolved against the file's
    /// directory; read by `xacct-bootstrap`, not here).
    Config(ManifestRef),
    /// `profile: capa | dkp`.
    Profile(BootstrapProfile),
}

/// `bootstrap.profile`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootstrapProfile {
    /// clusterawsadm's default set (the same as an empty `AWSIAMConfiguration` spec).
    Capa,
    /// DKP's prerequisite set.
    Dkp,
}

/// `identity.allowed_namespaces`: the manifest crate's type, so what the file says is what the
/// manifest gets.
pub use xacct_manifest::AllowedNamespaces;

/// The `AWSClusterRoleIdentity` xacct writes into a workload's manifests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    /// `None`: the namespaces of the clusters in the workload's manifests (least privilege).
    pub allowed_namespaces: Option<AllowedNamespaces>,
    pub duration_seconds: Option<u32>,
    pub session_name: Option<String>,
}

/// A manifest path as written in the file and as resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestRef {
    pub written: String,
    pub path: PathBuf,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub name: String,
    pub account: String,
    pub role: RoleRef,
    pub access: Access,
    pub external_id: Option<String>,
    pub identity: Identity,
    pub manifests: Vec<ManifestRef>,
    /// `Some` for an account selected from AWS Organizations rather than listed in the file.
    pub discovered: Option<Discovered>,
    /// `bootstrap` after inheritance (see [`Management::bootstrap`]).
    pub bootstrap: Option<BootstrapSpec>,
    /// Whether the file names `role` for this workload (itself or through `defaults.role`).
    pub role_given: bool,
    pub pos: Pos,
}

impl Spec {
    /// The management role's ARN.
    pub fn management_role_arn(&self) -> String {
        self.management.role.arn(&self.partition, &self.management.account)
    }

    /// A workload role's ARN.
    pub fn workload_role_arn(&self, w: &Workload) -> String {
        w.role.arn(&self.partition, &w.account)
    }

    pub fn workload(&self, name: &str) -> Option<&Workload> {
        self.workloads.iter().find(|w| w.name == name)
    }
}
