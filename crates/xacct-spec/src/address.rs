//! Resource addresses: `role.dev`, `trust.dev`, `assume_policy.management`,
//! `manifest.dev["clusters/dev-1.yaml"]`.

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
}

impl Address {
    /// The resource kind: `role`, `trust`, `assume_policy` or `manifest`.
    pub fn kind(&self) -> &'static str {
        match self {
            Address::Role(_) => "role",
            Address::Trust(_) => "trust",
            Address::AssumePolicy => "assume_policy",
            Address::Manifest { .. } => "manifest",
        }
    }

    /// The workload this address belongs to, if any.
    pub fn workload(&self) -> Option<&str> {
        match self {
            Address::Role(w) if w != "management" => Some(w),
            Address::Trust(w) => Some(w),
            Address::Manifest { workload, .. } => Some(workload),
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
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a resource address; expected `role.NAME`, `trust.NAME`, `assume_policy.management` or `manifest.NAME[\"PATH\"]`")]
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
        match kind {
            "role" => Ok(Address::Role(plain(rest)?)),
            "trust" => Ok(Address::Trust(plain(rest)?)),
            "assume_policy" if rest == "management" => Ok(Address::AssumePolicy),
            "manifest" => {
                let (w, path) = rest.split_once('[').ok_or_else(err)?;
                let path = path.strip_suffix(']').ok_or_else(err)?;
                let path: String = serde_json::from_str(path).map_err(|_| err())?;
                Ok(Address::Manifest { workload: plain(w)?, path })
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
        ] {
            let a: Address = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
    }

    #[test]
    fn rejects_garbage() {
        for s in ["role", "trust.", "assume_policy.dev", "manifest.dev[x]", "bucket.x", "trust.a.b"] {
            assert!(s.parse::<Address>().is_err(), "{s}");
        }
    }
}
