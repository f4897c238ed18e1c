//! Resource addresses: `role.dev`, `trust.dev`, `assume_policy.management`,
//! `manifest.dev["clusters/dev-1.yaml"]`, and the bootstrap kinds
//! `iam_role.dev["nodes.cluster-api-provider-aws.sigs.k8s.io"]`, `iam_instance_profile.…`,
//! `iam_policy.…`, `iam_user.…`, `iam_group.…` (the account name is `management` or the
//! workload's).

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Address {
    /// A role precondition: `role.management` or `role.<workload>`.
    Role(String),
    /// xacct's trust statement in a workload role.
    Trust(String),
    /// xacct's inline policy on the management role.
    AssumePolicy,
    /// xacct's identity edits in one manifest file of a workload.
    Manifest { workload: String, path: String },
    /// A bootstrap resource in an account: `account` is `management` or the workload's name.
    Iam { kind: IamKind, account: String, name: String },
}

/// The IAM resource kinds bootstrap makes (serialized as their address kind, `iam_role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum IamKind {
    #[serde(rename = "iam_role")]
    Role,
    #[serde(rename = "iam_instance_profile")]
    InstanceProfile,
    #[serde(rename = "iam_policy")]
    Policy,
    #[serde(rename = "iam_user")]
    User,
    #[serde(rename = "iam_group")]
    Group,
}

impl IamKind {
    pub const ALL: [IamKind; 5] =
        [IamKind::Role, IamKind::InstanceProfile, IamKind::Policy, IamKind::User, IamKind::Group];

    /// The address kind: `iam_role`, `iam_instance_profile`, `iam_policy`, `iam_user`, `iam_group`.
    pub fn as_str(self) -> &'static str {
        match self {
            IamKind::Role => "iam_role",
            IamKind::InstanceProfile => "iam_instance_profile",
            IamKind::Policy => "iam_policy",
            IamKind::User => "iam_user",
            IamKind::Group => "iam_group",
        }
    }

    /// How a person names it: `role`, `instance profile`, `managed policy`, `user`, `group`.
    pub fn noun(self) -> &'static str {
        match self {
            IamKind::Role => "role",
            IamKind::InstanceProfile => "instance profile",
            IamKind::Policy => "managed policy",
            IamKind::User => "user",
            IamKind::Group => "group",
        }
    }

    fn from_kind(s: &str) -> Option<IamKind> {
        IamKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl Address {
    /// The resource kind: `role`, `trust`, `assume_policy`, `manifest` or one of [`IamKind`]'s.
    pub fn kind(&self) -> &'static str {
        match self {
            Address::Role(_) => "role",
            Address::Trust(_) => "trust",
            Address::AssumePolicy => "assume_policy",
            Address::Manifest { .. } => "manifest",
            Address::Iam { kind, .. } => kind.as_str(),
        }
    }

    /// The workload this address belongs to, if any.
    pub fn workload(&self) -> Option<&str> {
        match self {
            Address::Role(w) if w != "management" => Some(w),
            Address::Trust(w) => Some(w),
            Address::Manifest { workload, .. } => Some(workload),
            Address::Iam { account, .. } if account != "management" => Some(account),
            _ => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Role(w) => write!(f, "role.{w}"),
            Address::Trust(w) => write!(f, "trust.{w}"),
            Address::AssumePolicy => write!(f, "assume_policy.management"),
            Address::Manifest { workload, path } => write!(f, "manifest.{workload}[{path:?}]"),
            Address::Iam { kind, account, name } => write!(f, "{}.{account}[{name:?}]", kind.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a resource address; expected `role.NAME`, `trust.NAME`, `assume_policy.management`, `manifest.NAME[\"PATH\"]` or `iam_role.ACCOUNT[\"NAME\"]` (also `iam_instance_profile`, `iam_policy`, `iam_user`, `iam_group`)")]
pub struct AddressError(pub String);

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || AddressError(s.to_string());
        let (kind, rest) = s.split_once('.').ok_or_else(err)?;
        let plain = |r: &str| -> Result<String, AddressError> {
            if r.is_empty() || r.contains(['.', '[', ']', '"']) {
                Err(err())
            } else {
                Ok(r.to_string())
            }
        };
        let indexed = |r: &str| -> Result<(String, String), AddressError> {
            let (w, name) = r.split_once('[').ok_or_else(err)?;
            let name = name.strip_suffix(']').ok_or_else(err)?;
            let name: String = serde_json::from_str(name).map_err(|_| err())?;
            Ok((plain(w)?, name))
        };
        if let Some(kind) = IamKind::from_kind(kind) {
            let (account, name) = indexed(rest)?;
            if name.is_empty() {
                return Err(err());
            }
            return Ok(Address::Iam { kind, account, name });
        }
        match kind {
            "role" => Ok(Address::Role(plain(rest)?)),
            "trust" => Ok(Address::Trust(plain(rest)?)),
            "assume_policy" if rest == "management" => Ok(Address::AssumePolicy),
            "manifest" => {
                let (workload, path) = indexed(rest)?;
                Ok(Address::Manifest { workload, path })
            }
            _ => Err(err()),
        }
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "role.management",
            "role.dev",
            "trust.dev",
            "assume_policy.management",
            "manifest.dev[\"clusters/dev 1.yaml\"]",
            "iam_role.dev[\"nodes.cluster-api-provider-aws.sigs.k8s.io\"]",
            "iam_instance_profile.management[\"control-plane.example.com\"]",
            "iam_policy.dev[\"controllers.cluster-api-provider-aws.sigs.k8s.io\"]",
            "iam_user.dev[\"bootstrapper.cluster-api-provider-aws.sigs.k8s.io\"]",
            "iam_group.dev[\"bootstrapper.cluster-api-provider-aws.sigs.k8s.io\"]",
        ] {
            let a: Address = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "role",
            "trust.",
            "assume_policy.dev",
            "manifest.dev[x]",
            "bucket.x",
            "trust.a.b",
            "iam_role.dev",
            "iam_role.dev[\"\"]",
            "iam_role.[\"x\"]",
            "iam_roles.dev[\"x\"]",
        ] {
            assert!(s.parse::<Address>().is_err(), "{s}");
        }
    }
}
