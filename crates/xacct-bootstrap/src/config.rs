//! The `AWSIAMConfiguration` of clusterawsadm (`bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1`)
//! as typed values, with clusterawsadm's defaults already applied.
//!
//! Field names follow the YAML keys. [`Spec::default`] is what clusterawsadm uses with no file at
//! all, which is also what `spec: {}` gives.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::data;

/// The `apiVersion` a configuration file must name.
pub const API_VERSION: &str = "bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1";
/// The `kind` a configuration file must name.
pub const KIND: &str = "AWSIAMConfiguration";

/// Where a secret for a machine's bootstrap data is kept (`secureSecretBackends`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SecretBackend {
    /// `secrets-manager` (the default).
    #[serde(rename = "secrets-manager")]
    SecretsManager,
    /// `ssm-parameter-store`.
    #[serde(rename = "ssm-parameter-store")]
    SsmParameterStore,
}

impl SecretBackend {
    /// Every backend clusterawsadm knows, by its YAML name.
    pub const ALL: [(&'static str, SecretBackend); 2] =
        [("secrets-manager", SecretBackend::SecretsManager), ("ssm-parameter-store", SecretBackend::SsmParameterStore)];

    /// The YAML name.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretBackend::SecretsManager => "secrets-manager",
            SecretBackend::SsmParameterStore => "ssm-parameter-store",
        }
    }

    /// The backend of a YAML name.
    pub fn from_name(name: &str) -> Option<SecretBackend> {
        SecretBackend::ALL.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
    }
}

/// The fields every role section shares (`AWSIAMRoleSpec`). Which of them clusterawsadm reads
/// depends on the role: see the fields of [`Spec`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleSpec {
    pub disable: bool,
    pub extra_policy_attachments: Vec<String>,
    /// Statements as JSON values (`Sid`, `Principal`, `NotPrincipal`, `Effect`, `Action`,
    /// `Resource`, `Condition`), `Action` and principal IDs always lists.
    pub extra_statements: Vec<Value>,
    pub path: Option<String>,
    pub permissions_boundary: Option<String>,
    pub trust_statements: Vec<Value>,
    pub tags: BTreeMap<String, String>,
}

/// `controlPlane`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlane {
    #[serde(flatten)]
    pub role: RoleSpec,
    pub disable_cluster_api_controller_policy_attachment: bool,
    pub disable_cloud_provider_policy: bool,
    #[serde(rename = "enableCSIPolicy")]
    pub enable_csi_policy: bool,
}

/// `clusterAPIControllers`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Controllers {
    #[serde(flatten)]
    pub role: RoleSpec,
    /// `None`: clusterawsadm's default, `<namePrefix>*<nameSuffix>`.
    #[serde(rename = "allowedEC2InstanceProfiles")]
    pub allowed_ec2_instance_profiles: Option<Vec<String>>,
}

/// `nodes`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Nodes {
    #[serde(flatten)]
    pub role: RoleSpec,
    pub disable_cloud_provider_policy: bool,
    pub ec2_container_registry_read_only: bool,
}

/// `bootstrapUser`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapUser {
    pub enable: bool,
    pub user_name: String,
    pub group_name: String,
    /// Read by clusterawsadm but never used (it attaches `controlPlane.extraPolicyAttachments` to
    /// the user instead); kept so that the warning can name it.
    pub extra_policy_attachments: Vec<String>,
    pub extra_groups: Vec<String>,
    pub extra_statements: Vec<Value>,
    pub tags: BTreeMap<String, String>,
}

impl Default for BootstrapUser {
    fn default() -> Self {
        let d = data::capa();
        BootstrapUser {
            enable: false,
            user_name: d.roles.default_bootstrap_user_name.clone(),
            group_name: d.roles.default_bootstrap_group_name.clone(),
            extra_policy_attachments: Vec::new(),
            extra_groups: Vec::new(),
            extra_statements: Vec::new(),
            tags: BTreeMap::new(),
        }
    }
}

/// `eks`. An absent block is the default block (EKS on, its control-plane role made); a block
/// that is present and not disabled also turns `nodes.ec2ContainerRegistryReadOnly` on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Eks {
    pub disable: bool,
    #[serde(rename = "iamRoleCreation")]
    pub iam_role_creation: bool,
    pub enable_user_eks_console_policy: bool,
    pub default_control_plane_role: RoleSpec,
    /// Disabled unless the block names it (then enabled unless it says `disable: true`).
    pub managed_machine_pool: RoleSpec,
    pub fargate: RoleSpec,
    pub kms_alias_prefix: String,
}

impl Default for Eks {
    fn default() -> Self {
        Eks {
            disable: false,
            iam_role_creation: false,
            enable_user_eks_console_policy: false,
            default_control_plane_role: RoleSpec::default(),
            managed_machine_pool: RoleSpec { disable: true, ..RoleSpec::default() },
            fargate: RoleSpec { disable: true, ..RoleSpec::default() },
            kms_alias_prefix: data::capa().roles.default_kms_alias_prefix.clone(),
        }
    }
}

/// `s3Buckets`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Buckets {
    pub enable: bool,
    pub name_prefix: String,
}

impl Default for S3Buckets {
    fn default() -> Self {
        S3Buckets { enable: false, name_prefix: data::capa().roles.default_s3_name_prefix.clone() }
    }
}

/// `spec` of an `AWSIAMConfiguration`, defaulted as clusterawsadm defaults it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub name_prefix: String,
    pub name_suffix: String,
    pub control_plane: ControlPlane,
    #[serde(rename = "clusterAPIControllers")]
    pub cluster_api_controllers: Controllers,
    pub nodes: Nodes,
    pub bootstrap_user: BootstrapUser,
    /// The CloudFormation stack's name; xacct makes no stack, but it names the inline policy
    /// that carries `extraStatements`.
    pub stack_name: String,
    /// Tags of the CloudFormation stack (not applied by xacct: a warning says so).
    pub stack_tags: BTreeMap<String, String>,
    /// The region clusterawsadm creates its stack in (IAM is global: unused).
    pub region: Option<String>,
    pub eks: Eks,
    /// `eventBridge.enable`.
    pub event_bridge: bool,
    /// `None` when the file does not set it (clusterawsadm then uses `aws`): the account's
    /// partition is used, and a value that is set must agree with it.
    pub partition: Option<String>,
    /// Without duplicates, in the file's order; `[secrets-manager]` when unset or empty.
    pub secure_secret_backends: Vec<SecretBackend>,
    pub s3_buckets: S3Buckets,
    pub allow_assume_role: bool,
}

impl Default for Spec {
    fn default() -> Self {
        let d = data::capa();
        Spec {
            name_prefix: String::new(),
            name_suffix: d.roles.default_name_suffix.clone(),
            control_plane: ControlPlane::default(),
            cluster_api_controllers: Controllers::default(),
            nodes: Nodes::default(),
            bootstrap_user: BootstrapUser::default(),
            stack_name: d.roles.default_stack_name.clone(),
            stack_tags: BTreeMap::new(),
            region: None,
            eks: Eks::default(),
            event_bridge: false,
            partition: None,
            secure_secret_backends: vec![SecretBackend::SecretsManager],
            s3_buckets: S3Buckets::default(),
            allow_assume_role: false,
        }
    }
}

impl Spec {
    /// clusterawsadm's `NewManagedName`: `<namePrefix><base><nameSuffix>`.
    pub fn managed_name(&self, base: &str) -> String {
        format!("{}{base}{}", self.name_prefix, self.name_suffix)
    }

    /// The EKS parts are on.
    pub fn eks_enabled(&self) -> bool {
        !self.eks.disable
    }

    /// The instance-profile role names the controllers may pass (and, with `allowAssumeRole`,
    /// assume): `allowedEC2InstanceProfiles`, else `<namePrefix>*<nameSuffix>`.
    pub fn allowed_instance_profiles(&self) -> Vec<String> {
        match &self.cluster_api_controllers.allowed_ec2_instance_profiles {
            Some(list) => list.clone(),
            None => vec![self.managed_name("*")],
        }
    }
}
