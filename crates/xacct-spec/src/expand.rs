//! Expansion of a [`Spec`] into the resources xacct owns and their dependency graph.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::address::Address;
use crate::graph::Graph;
use crate::model::*;

/// One resource the file asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum DesiredResource {
    /// A role that must already exist (xacct owns nothing in it by this address).
    Role { account: String, role: RoleRef },
    /// xacct's trust statement (identified by its `Sid`) in a workload role.
    Trust { workload: String, account: String, role: RoleRef, statement: Value },
    /// xacct's inline policy on the management role.
    AssumePolicy { account: String, role: RoleRef, policy_name: String, document: Value },
    /// xacct's identity edits in one manifest file.
    Manifest { workload: String, path: PathBuf, written: String, identity: ManifestIdentity },
}

/// What the `AWSClusterRoleIdentity` in a workload's manifests should say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestIdentity {
    pub name: String,
    pub role_arn: String,
    /// `None`: least privilege, the namespaces of the clusters in the manifests.
    pub allowed_namespaces: Option<AllowedNamespaces>,
    pub external_id: Option<String>,
    pub duration_seconds: Option<u32>,
    pub session_name: Option<String>,
}

/// Everything the file asks for, and the order it must happen in.
#[derive(Clone, Debug)]
pub struct Desired {
    pub resources: BTreeMap<Address, DesiredResource>,
    pub graph: Graph,
}

/// The `Sid` of xacct's trust statement: one per management account, so two management clusters
/// managed by two xacct files can trust the same workload role without stepping on each other.
pub fn trust_sid(management_account: &str) -> String {
    format!("XacctTrust{management_account}")
}

/// The `Sid` of the statement in xacct's assume policy.
pub const ASSUME_SID: &str = "XacctAssumeWorkloadRoles";

impl Spec {
    /// The trust statement xacct wants in workload `w`'s role.
    pub fn trust_statement(&self, w: &Workload) -> Value {
        let mgmt_arn = self.management_role_arn();
        let mut condition = serde_json::Map::new();
        let principal = match self.management.trust_principal {
            TrustPrincipal::RoleArn => mgmt_arn,
            TrustPrincipal::AccountRootWithArnCondition => {
                condition.insert("ArnEquals".into(), json!({ "aws:PrincipalArn": mgmt_arn }));
                format!("arn:{}:iam::{}:root", self.partition, self.management.account)
            }
        };
        if let Some(x) = &w.external_id {
            condition.insert("StringEquals".into(), json!({ "sts:ExternalId": x }));
        }
        let mut stmt = json!({
            "Sid": trust_sid(&self.management.account),
            "Effect": "Allow",
            "Principal": { "AWS": principal },
            "Action": "sts:AssumeRole",
        });
        if !condition.is_empty() {
            stmt["Condition"] = Value::Object(condition);
        }
        stmt
    }

    /// The inline policy xacct wants on the management role.
    pub fn assume_policy_document(&self) -> Value {
        let mut stmt = json!({ "Sid": ASSUME_SID, "Effect": "Allow", "Action": "sts:AssumeRole" });
        match &self.management.grant {
            Grant::RoleArns => {
                let mut arns: Vec<String> = self.workloads.iter().map(|w| self.workload_role_arn(w)).collect();
                arns.sort();
                arns.dedup();
                stmt["Resource"] = json!(arns);
            }
            Grant::Organization { org_id } => {
                stmt["Resource"] = json!(self.org_resources());
                stmt["Condition"] = json!({ "StringEquals": { "aws:ResourceOrgID": org_id } });
            }
            Grant::FromOrganization => {
                // Not resolved yet (no discovery ran: `validate`, `graph`): a condition no
                // account satisfies, never one that grants more.
                stmt["Resource"] = json!(self.org_resources());
                stmt["Condition"] = json!({ "StringEquals": { "aws:ResourceOrgID": "o-unresolved" } });
            }
            Grant::OrgPaths { paths } => {
                stmt["Resource"] = json!(self.org_resources());
                stmt["Condition"] = json!({ "ForAnyValue:StringLike": { "aws:ResourceOrgPaths": paths.iter().map(|p| format!("{p}*")).collect::<Vec<_>>() } });
            }
        }
        json!({ "Version": "2012-10-17", "Statement": [stmt] })
    }

    fn org_resources(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .workloads
            .iter()
            .map(|w| format!("arn:{}:iam::*:role{}{}", self.partition, w.role.path, w.role.name))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The resources this file asks for, with their dependency graph:
    /// roles → trust statements and the assume policy → manifests.
    pub fn desired(&self) -> Desired {
        let mut resources = BTreeMap::new();
        let mut graph = Graph::new();
        // A bootstrapped account's role is xacct's own `iam_role` (added by `xacct-plan`, which
        // renders the bootstrap set), not a precondition.
        let mgmt_role = role_node("management", &self.management.role, self.management.bootstrap.is_some());
        if self.management.bootstrap.is_none() {
            resources.insert(
                mgmt_role.clone(),
                DesiredResource::Role { account: self.management.account.clone(), role: self.management.role.clone() },
            );
        }
        graph.add(mgmt_role.clone());
        if !self.workloads.is_empty() {
            resources.insert(
                Address::AssumePolicy,
                DesiredResource::AssumePolicy {
                    account: self.management.account.clone(),
                    role: self.management.role.clone(),
                    policy_name: self.management.assume_policy_name.clone(),
                    document: self.assume_policy_document(),
                },
            );
            graph.depends_on(&Address::AssumePolicy, &mgmt_role);
        }
        for w in &self.workloads {
            let role = role_node(&w.name, &w.role, w.bootstrap.is_some());
            let trust = Address::Trust(w.name.clone());
            if w.bootstrap.is_none() {
                resources
                    .insert(role.clone(), DesiredResource::Role { account: w.account.clone(), role: w.role.clone() });
            }
            resources.insert(
                trust.clone(),
                DesiredResource::Trust {
                    workload: w.name.clone(),
                    account: w.account.clone(),
                    role: w.role.clone(),
                    statement: self.trust_statement(w),
                },
            );
            graph.depends_on(&trust, &role);
            graph.depends_on(&trust, &mgmt_role);
            graph.depends_on(&Address::AssumePolicy, &role);
            for m in &w.manifests {
                let addr = Address::Manifest { workload: w.name.clone(), path: m.written.clone() };
                let identity = ManifestIdentity {
                    name: w.identity.name.clone(),
                    role_arn: self.workload_role_arn(w),
                    allowed_namespaces: w.identity.allowed_namespaces.clone(),
                    external_id: w.external_id.clone(),
                    duration_seconds: w.identity.duration_seconds,
                    session_name: w.identity.session_name.clone(),
                };
                resources.insert(
                    addr.clone(),
                    DesiredResource::Manifest {
                        workload: w.name.clone(),
                        path: m.path.clone(),
                        written: m.written.clone(),
                        identity,
                    },
                );
                graph.depends_on(&addr, &trust);
                graph.depends_on(&addr, &Address::AssumePolicy);
            }
        }
        Desired { resources, graph }
    }
}

/// The graph node of account `name`'s CAPA role: `role.<name>` (a precondition), or for a
/// bootstrapped account `iam_role.<name>["<role>"]`, the role xacct makes.
pub fn role_node(name: &str, role: &RoleRef, bootstrapped: bool) -> Address {
    if bootstrapped {
        Address::Iam { kind: crate::address::IamKind::Role, account: name.to_string(), name: role.name.clone() }
    } else {
        Address::Role(name.to_string())
    }
}
