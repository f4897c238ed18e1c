//! xacct's own copies of the policy facts CAPA's prerequisites need (`data/`), each file naming
//! the upstream version it matches, and the placeholder substitution that fills in the parts a
//! configuration decides.
//!
//! A policy file lists statements, each with a `when`: `always`, a configuration switch
//! (`allowAssumeRole`, `s3Buckets.enable`, `eventBridge.enable`, `eks.iamRoleCreation`, or its
//! negation with `!`), or `secureSecretBackends:<backend>`. Strings may hold placeholders:
//! `${partition}`, `${kmsAliasPrefix}`, `${s3NamePrefix}`, and `${allowedEC2InstanceProfile}`,
//! which turns one array element into one element per allowed instance profile.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

/// The upstream source a data file matches.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Upstream {
    pub repository: String,
    pub commit: String,
    pub source: String,
}

/// One statement of a policy file and when it is part of the document.
#[derive(Clone, Debug, Deserialize)]
pub struct Entry {
    pub when: String,
    pub statement: Value,
}

/// A customer-managed policy's facts.
#[derive(Clone, Debug, Deserialize)]
pub struct PolicyData {
    pub upstream: Upstream,
    pub name: String,
    pub description: String,
    pub statements: Vec<Entry>,
}

/// A role's trust services and AWS-managed policies.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleData {
    /// The base name (core roles) or the whole, fixed name (EKS roles).
    pub name: String,
    pub trust_services: Vec<String>,
    #[serde(default)]
    pub trust_services_with_eks: Vec<String>,
    #[serde(default)]
    pub aws_managed: Vec<String>,
    #[serde(default)]
    pub aws_managed_with_eks: Vec<String>,
    #[serde(default)]
    pub aws_managed_with_ec2_container_registry_read_only: Vec<String>,
}

/// `data/capa/roles.json`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolesData {
    pub upstream: Upstream,
    pub tag_session_services: Vec<String>,
    pub default_name_suffix: String,
    pub default_stack_name: String,
    pub default_kms_alias_prefix: String,
    pub default_s3_name_prefix: String,
    pub default_bootstrap_user_name: String,
    pub default_bootstrap_group_name: String,
    pub control_plane: RoleData,
    pub controllers: RoleData,
    pub nodes: RoleData,
    pub eks_control_plane: RoleData,
    pub eks_nodegroup: RoleData,
    pub eks_fargate: RoleData,
}

/// clusterawsadm's set (`data/capa/`).
#[derive(Clone, Debug)]
pub struct CapaData {
    pub roles: RolesData,
    pub controllers: PolicyData,
    pub controllers_eks: PolicyData,
    pub control_plane: PolicyData,
    pub nodes: PolicyData,
    pub csi: PolicyData,
    pub eks_console: PolicyData,
}

/// DKP's set (`data/dkp/dkp-2.3.json`): which of CAPA's roles, profiles and policies, attached
/// to which roles.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DkpData {
    pub upstream: Upstream,
    pub note: String,
    pub roles: Vec<String>,
    pub instance_profiles: Vec<String>,
    /// Policy base name → base names of the roles it is attached to.
    pub policies: BTreeMap<String, Vec<String>>,
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> T {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("data/{file} is not valid: {e}"))
}

/// The CAPA data, read once.
pub fn capa() -> &'static CapaData {
    static DATA: OnceLock<CapaData> = OnceLock::new();
    DATA.get_or_init(|| CapaData {
        roles: parse("capa/roles.json", include_str!("../data/capa/roles.json")),
        controllers: parse("capa/controllers.json", include_str!("../data/capa/controllers.json")),
        controllers_eks: parse("capa/controllers-eks.json", include_str!("../data/capa/controllers-eks.json")),
        control_plane: parse("capa/control-plane.json", include_str!("../data/capa/control-plane.json")),
        nodes: parse("capa/nodes.json", include_str!("../data/capa/nodes.json")),
        csi: parse("capa/csi.json", include_str!("../data/capa/csi.json")),
        eks_console: parse("capa/eks-console.json", include_str!("../data/capa/eks-console.json")),
    })
}

/// The DKP data, read once.
pub fn dkp() -> &'static DkpData {
    static DATA: OnceLock<DkpData> = OnceLock::new();
    DATA.get_or_init(|| parse("dkp/dkp-2.3.json", include_str!("../data/dkp/dkp-2.3.json")))
}

/// The values placeholders stand for.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub partition: String,
    pub kms_alias_prefix: String,
    pub s3_name_prefix: String,
    pub allowed_instance_profiles: Vec<String>,
}

const LIST_PLACEHOLDER: &str = "${allowedEC2InstanceProfile}";

impl Vars {
    fn scalar(&self, s: &str) -> String {
        s.replace("${partition}", &self.partition)
            .replace("${kmsAliasPrefix}", &self.kms_alias_prefix)
            .replace("${s3NamePrefix}", &self.s3_name_prefix)
    }

    /// `value` with every placeholder filled in.
    pub fn fill(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.scalar(s)),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) if s.contains(LIST_PLACEHOLDER) => {
                            for p in &self.allowed_instance_profiles {
                                out.push(Value::String(self.scalar(&s.replace(LIST_PLACEHOLDER, p))));
                            }
                        }
                        other => out.push(self.fill(other)),
                    }
                }
                Value::Array(out)
            }
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (self.scalar(k), self.fill(v))).collect()),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPA_COMMIT: &str = "2cf09d78547d32975570a4b9ba5496bdfe26abeb";

    #[test]
    fn every_file_names_its_upstream_version() {
        let d = capa();
        for p in [&d.controllers, &d.controllers_eks, &d.control_plane, &d.nodes, &d.csi, &d.eks_console] {
            assert_eq!(p.upstream.commit, CAPA_COMMIT, "{}", p.name);
            assert_eq!(p.upstream.repository, "kubernetes-sigs/cluster-api-provider-aws");
            assert!(!p.statements.is_empty(), "{}", p.name);
        }
        assert_eq!(d.roles.upstream.commit, CAPA_COMMIT);
        assert_eq!(dkp().upstream.commit, "f15c4d9cd8c36c8a406a22b76b825b49d9fe577d");
        assert_eq!(dkp().upstream.repository, "mesosphere/dcos-docs-site");
    }

    #[test]
    fn every_when_is_known() {
        let d = capa();
        for p in [&d.controllers, &d.controllers_eks, &d.control_plane, &d.nodes, &d.csi, &d.eks_console] {
            for e in &p.statements {
                assert!(crate::render::when_is_known(&e.when), "{}: unknown `when` {}", p.name, e.when);
            }
        }
    }

    #[test]
    fn placeholders_fill_scalars_and_expand_lists() {
        let vars = Vars {
            partition: "aws-cn".into(),
            kms_alias_prefix: "k-*".into(),
            s3_name_prefix: "b-".into(),
            allowed_instance_profiles: vec!["a".into(), "b".into()],
        };
        let v = serde_json::json!({"R": ["arn:*:iam::*:role/${allowedEC2InstanceProfile}", "x"],
            "P": "arn:${partition}:iam::aws:policy/X", "C": {"alias/${kmsAliasPrefix}": "${s3NamePrefix}*"}});
        assert_eq!(
            vars.fill(&v),
            serde_json::json!({"R": ["arn:*:iam::*:role/a", "arn:*:iam::*:role/b", "x"],
                "P": "arn:aws-cn:iam::aws:policy/X", "C": {"alias/k-*": "b-*"}})
        );
    }

    #[test]
    fn no_placeholder_is_left_unfilled() {
        let vars = Vars {
            partition: "aws".into(),
            kms_alias_prefix: "k".into(),
            s3_name_prefix: "s".into(),
            allowed_instance_profiles: vec!["p".into()],
        };
        let d = capa();
        for p in [&d.controllers, &d.controllers_eks, &d.control_plane, &d.nodes, &d.csi, &d.eks_console] {
            for e in &p.statements {
                let text = vars.fill(&e.statement).to_string();
                assert!(!text.contains("${"), "{}: {text}", p.name);
            }
        }
    }
}
