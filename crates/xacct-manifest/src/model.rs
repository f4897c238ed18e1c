//! What the caller asks for and what a manifest contains.

use std::collections::BTreeMap;
use std::fmt;

/// The desired `AWSClusterRoleIdentity`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentitySpec {
    /// `metadata.name` of the identity, and the name every `identityRef` points to.
    pub name: String,
    /// The role in the workload account (`spec.roleARN`).
    pub role_arn: String,
    pub allowed_namespaces: AllowedNamespaces,
    pub external_id: Option<String>,
    pub duration_seconds: Option<u32>,
    pub session_name: Option<String>,
}

/// Which namespaces may use the identity (`spec.allowedNamespaces`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedNamespaces {
    /// `allowedNamespaces: {}`: every namespace.
    All,
    /// The key omitted: no namespace at all (CAPA's semantics). Produces a warning.
    None,
    /// `allowedNamespaces: {list: [...]}`.
    List(Vec<String>),
    /// `allowedNamespaces: {selector: {matchLabels: {...}}}`. Must not be empty.
    Selector(BTreeMap<String, String>),
}

/// The kinds of object that carry an identity reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetKind {
    /// `AWSCluster.spec.identityRef`.
    AwsCluster,
    /// `AWSClusterTemplate.spec.template.spec.identityRef`.
    AwsClusterTemplate,
    /// `AWSManagedControlPlane.spec.identityRef` (EKS).
    AwsManagedControlPlane,
    /// `ROSAControlPlane.spec.identityRef` (Red Hat OpenShift Service on AWS).
    RosaControlPlane,
    /// `AWSManagedControlPlaneTemplate.spec.template.spec.identityRef` (an EKS ClusterClass).
    AwsManagedControlPlaneTemplate,
    /// `ROSANetwork.spec.identityRef`.
    RosaNetwork,
    /// `ROSARoleConfig.spec.identityRef`.
    RosaRoleConfig,
    /// `Cluster.spec.topology.variables[name=identityRef].value` (ClusterClass).
    ClusterClassCluster,
}

impl TargetKind {
    /// The Kubernetes kind.
    pub fn kind(self) -> &'static str {
        match self {
            TargetKind::AwsCluster => "AWSCluster",
            TargetKind::AwsClusterTemplate => "AWSClusterTemplate",
            TargetKind::AwsManagedControlPlane => "AWSManagedControlPlane",
            TargetKind::RosaControlPlane => "ROSAControlPlane",
            TargetKind::AwsManagedControlPlaneTemplate => "AWSManagedControlPlaneTemplate",
            TargetKind::RosaNetwork => "ROSANetwork",
            TargetKind::RosaRoleConfig => "ROSARoleConfig",
            TargetKind::ClusterClassCluster => "Cluster",
        }
    }

    /// Where the reference lives, as a field path.
    pub fn field(self) -> &'static str {
        match self {
            TargetKind::AwsCluster
            | TargetKind::AwsManagedControlPlane
            | TargetKind::RosaControlPlane
            | TargetKind::RosaNetwork
            | TargetKind::RosaRoleConfig => "spec.identityRef",
            TargetKind::AwsClusterTemplate | TargetKind::AwsManagedControlPlaneTemplate => {
                "spec.template.spec.identityRef"
            }
            TargetKind::ClusterClassCluster => "spec.topology.variables[name=identityRef].value",
        }
    }
}

/// An `identityRef` value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdentityRef {
    pub kind: String,
    pub name: String,
}

impl fmt::Display for IdentityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// An object in the manifest that carries an identity reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub kind: TargetKind,
    pub api_version: String,
    pub name: String,
    /// `metadata.namespace`, or `default` when absent.
    pub namespace: String,
    /// The current reference; `None` when unset (CAPA then uses the controller identity).
    pub identity_ref: Option<IdentityRef>,
    /// 1-based position of the object's first key.
    pub line: usize,
    pub column: usize,
}
