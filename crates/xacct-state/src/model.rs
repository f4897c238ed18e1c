//! The state model and the pure operations on it (`xacct state list | show | rm | push`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Backend, StateError, FORMAT_VERSION};

/// What xacct last applied.
///
/// State holds only what the planner puts in each resource's `attributes` — documents and manifest
/// edits as applied — and never credentials: no keys, session tokens, passwords or profiles.
/// [`check_persist`] refuses attributes whose key looks like a credential.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// The xacct version that last wrote this state.
    pub xacct_version: String,
    /// Set once when the state is created; never changes.
    pub lineage: String,
    /// Bumped on every write.
    pub serial: u64,
    /// One entry per owned resource, keyed by address (`trust.dev`, `assume_policy.management`, …).
    pub resources: BTreeMap<String, ResourceState>,
}

/// One owned resource as last applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// `trust`, `assume_policy` or `manifest`.
    pub kind: String,
    /// Kind-specific record of what was applied (a statement, a policy document, a manifest edit).
    pub attributes: serde_json::Value,
}

impl State {
    /// A fresh, empty state with a new random lineage and serial 0 (the first write makes it 1).
    pub fn new(xacct_version: &str) -> Self {
        State {
            format_version: FORMAT_VERSION,
            xacct_version: xacct_version.to_string(),
            lineage: new_uuid(),
            serial: 0,
            resources: BTreeMap::new(),
        }
    }

    /// Every address in state, sorted (`xacct state list`).
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        self.resources.keys().map(String::as_str)
    }

    /// The entry at `address`, if any.
    pub fn get(&self, address: &str) -> Option<&ResourceState> {
        self.resources.get(address)
    }

    /// The entry at `address` (`xacct state show ADDR`), or an error suggesting the nearest address.
    pub fn show(&self, address: &str) -> Result<&ResourceState, StateError> {
        self.resources.get(address).ok_or_else(|| self.no_such(address))
    }

    /// Record `resource` at `address`, returning what was there.
    pub fn insert(&mut self, address: impl Into<String>, resource: ResourceState) -> Option<ResourceState> {
        self.resources.insert(address.into(), resource)
    }

    /// Forget `address` (`xacct state rm ADDR`); the serial is bumped when the result is written
    /// with [`commit`].
    pub fn remove(&mut self, address: &str) -> Result<ResourceState, StateError> {
        match self.resources.remove(address) {
            Some(r) => Ok(r),
            None => Err(self.no_such(address)),
        }
    }

    /// Prepare the next write: serial + 1 and this xacct's version recorded.
    pub fn bump(&mut self, xacct_version: &str) {
        self.serial += 1;
        self.xacct_version = xacct_version.to_string();
        self.format_version = FORMAT_VERSION;
    }

    fn no_such(&self, address: &str) -> StateError {
        let suggestion = self
            .resources
            .keys()
            .map(|k| (strsim::jaro_winkler(k, address), k))
            .filter(|(score, _)| *score >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, k)| k.clone());
        StateError::NoSuchAddress { address: address.to_string(), suggestion }
    }
}

/// Bump `state`'s serial and write it; on failure the serial is restored so the caller can retry
/// after fixing the cause. This is how every write (apply checkpoints, `state rm`) should happen.
pub async fn commit<B: Backend + ?Sized>(
    backend: &B,
    state: &mut State,
    xacct_version: &str,
) -> Result<(), StateError> {
    let before = (state.serial, state.xacct_version.clone());
    state.bump(xacct_version);
    match backend.persist(state).await {
        Ok(()) => Ok(()),
        Err(e) => {
            state.serial = before.0;
            state.xacct_version = before.1;
            Err(e)
        }
    }
}

/// The checks every backend's `persist` makes against what it currently stores: same lineage,
/// strictly newer serial, no credentials.
pub fn check_persist(stored: Option<&State>, incoming: &State) -> Result<(), StateError> {
    check_no_credentials(incoming)?;
    if let Some(stored) = stored {
        if stored.lineage != incoming.lineage {
            return Err(StateError::LineageMismatch {
                stored: stored.lineage.clone(),
                incoming: incoming.lineage.clone(),
            });
        }
        if incoming.serial <= stored.serial {
            return Err(StateError::StaleSerial { stored: stored.serial, incoming: incoming.serial });
        }
    }
    Ok(())
}

/// `xacct state push FILE`: refuse a different lineage or an older-or-equal serial unless `force`.
pub fn check_push(current: Option<&State>, incoming: &State, force: bool) -> Result<(), StateError> {
    check_no_credentials(incoming)?;
    if force {
        return Ok(());
    }
    check_persist(current, incoming).map_err(|e| match e {
        StateError::StaleSerial { stored, incoming } => StateError::PushRefused {
            reason: format!("the pushed state has serial {incoming}, not newer than the stored serial {stored}"),
        },
        StateError::LineageMismatch { stored, incoming } => StateError::PushRefused {
            reason: format!("the pushed state is of lineage `{incoming}`, the stored one of lineage `{stored}`"),
        },
        e => e,
    })
}

/// The state `xacct state push` should write after [`check_push`] passed.
///
/// Without `force` that is `incoming` as is. With `force` the serial is raised above the current
/// one, so saved plans made against the replaced state are stale; write it with
/// [`Backend::replace`] when the lineage differs.
pub fn prepare_push(current: Option<&State>, incoming: &State, force: bool) -> Result<State, StateError> {
    check_push(current, incoming, force)?;
    let mut out = incoming.clone();
    out.format_version = FORMAT_VERSION;
    if let Some(current) = current {
        if force && out.serial <= current.serial {
            out.serial = current.serial + 1;
        }
    }
    Ok(out)
}

/// Attribute keys that name secrets, compared lowercase without `_` and `-`.
const CREDENTIAL_KEYS: &[&str] = &[
    "secretaccesskey",
    "awssecretaccesskey",
    "sessiontoken",
    "awssessiontoken",
    "securitytoken",
    "password",
    "privatekey",
];

/// Refuse a state whose attributes hold a key that looks like a credential.
pub fn check_no_credentials(state: &State) -> Result<(), StateError> {
    fn find(value: &serde_json::Value) -> Option<String> {
        match value {
            serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
                let norm: String =
                    k.chars().filter(|c| *c != '_' && *c != '-').collect::<String>().to_ascii_lowercase();
                if CREDENTIAL_KEYS.contains(&norm.as_str()) {
                    Some(k.clone())
                } else {
                    find(v)
                }
            }),
            serde_json::Value::Array(items) => items.iter().find_map(find),
            _ => None,
        }
    }
    for (address, resource) in &state.resources {
        if let Some(key) = find(&resource.attributes) {
            return Err(StateError::CredentialInState { address: address.clone(), key });
        }
    }
    Ok(())
}

/// A random version-4 UUID, lowercase hyphenated.
pub(crate) fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}
