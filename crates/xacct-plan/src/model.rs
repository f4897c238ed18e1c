//! The plan: what would change, why, and exactly what to write. Plans are data; they decide
//! nothing themselves, and the views in `xacct-render` only display them.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use xacct_spec::Address;

/// The plan file and `--json` format version. Bumped for any change a consuming parser must know.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// What happens to one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Nothing to do.
    NoOp,
    /// Write something new.
    Create,
    /// Rewrite what is there.
    Update,
    /// Remove xacct's part.
    Delete,
    /// An equivalent already exists: record it as owned, write nothing.
    Adopt,
    /// Gone already: drop it from state only.
    Forget,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::NoOp => "no-op",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Adopt => "adopt",
            Action::Forget => "forget",
        }
    }

    /// Whether this action writes to IAM or a manifest.
    pub fn writes(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }
}

/// Where a change lands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    /// A role's trust policy (`UpdateAssumeRolePolicy`).
    Trust { account: String, role: String },
    /// A role's inline policy (`PutRolePolicy` / `DeleteRolePolicy`).
    InlinePolicy { account: String, role: String, policy: String },
    /// A manifest file.
    Manifest { path: String },
    /// A role that must exist (nothing is written).
    Role { account: String, role: String },
    /// A bootstrap resource: one IAM entity (`name`; a policy by name) in `account` and the
    /// parts of it xacct owns. `Change::write` holds the [`IamStep`](crate::iam::step::IamStep).
    Iam { account: String, kind: xacct_spec::IamKind, name: String },
}

/// One resource's change. `before`/`after` are the owned part, for people; `live`/`write` are the
/// whole documents, for the executor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: Address,
    /// `role`, `trust`, `assume_policy` or `manifest`.
    pub kind: String,
    /// One action; a list to match Terraform's JSON (`["create"]`).
    pub actions: Vec<Action>,
    /// xacct's part as it is now (stored or live), `null` when absent.
    pub before: Value,
    /// xacct's part after the change, `null` when removed.
    pub after: Value,
    /// Why, in a sentence (display only: never used to decide).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The change repairs something altered outside xacct.
    pub drift: bool,
    pub depends_on: Vec<Address>,
    /// SHA-256 of the live document (or file) this plan read; `null` when it was absent.
    pub live_fingerprint: Option<String>,
    pub target: Target,
    /// The whole live document (or file text) as read, for the pre-write check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<String>,
    /// The whole document (or file text) to write; `null` for a delete or no write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write: Option<String>,
    /// What state records for this address after the change; `null` removes it from state.
    pub state_after: Value,
    /// A unified diff of a manifest change, for display.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The address this change takes over (a renamed workload's old one): recording this change
    /// drops that address from state in the same write, so the record is never held by neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Address>,
    /// The account cannot be reached (AWS Organizations reports it closed or suspended): nothing
    /// was read in it and nothing is written, so a saved plan's stale check does not re-read it.
    /// Only on a forget.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreachable: bool,
}

impl Change {
    pub fn action(&self) -> Action {
        self.actions.first().copied().unwrap_or(Action::NoOp)
    }
}

/// How an owned thing differs from what xacct last applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// Changed outside xacct.
    Modified,
    /// Deleted outside xacct.
    Deleted,
    /// A trust principal IAM turned into a unique ID (`AROA…`): the role it named was deleted.
    UniqueIdPrincipal,
    /// The role that held it is gone.
    RoleMissing,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub address: Address,
    pub kind: DriftKind,
    pub detail: String,
    /// What xacct last applied.
    pub stored: Value,
    /// What is there now (`null` when gone).
    pub live: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Level,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub adopt: usize,
    pub forget: usize,
    pub no_op: usize,
    pub drift: usize,
    /// AWS API calls the refresh made (IAM and STS).
    pub aws_calls: u64,
    /// AWS Organizations API calls discovery made for this plan (one per page; the reader's
    /// `sts:AssumeRole` is not one of them); absent when the file has no `organization` block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizations_calls: Option<u64>,
    /// What discovery found; absent when the file has no `organization` block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgCounts>,
}

/// What discovery from AWS Organizations found, for the plan's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgCounts {
    /// `o-xxxxxxxxxx`.
    pub org_id: String,
    /// `organization.workloads` entries.
    pub selectors: usize,
    /// ACTIVE accounts the selectors select (the management account never is).
    pub selected: usize,
    /// Of those, accounts the file also lists under `workloads` (the listed entry is used).
    pub listed: usize,
    /// Of those, discovered workloads state holds no trust statement for yet.
    pub new: usize,
    /// Accounts below the selected OUs that are not ACTIVE, by state (`SUSPENDED`: 1): never
    /// selected.
    pub inactive: std::collections::BTreeMap<String, usize>,
}

/// A whole plan, as `xacct plan --json` prints it and `-o PLAN` saves it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub xacct_version: String,
    /// SHA-256 of the desired-state file's bytes.
    pub spec_digest: String,
    /// The state this plan was made against (`null` when there was none yet).
    pub lineage: Option<String>,
    pub serial: Option<u64>,
    /// Whether live IAM was read (`--refresh=false` plans from state alone).
    pub refreshed: bool,
    /// Only these addresses were planned (`--target`); empty for everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    pub changes: Vec<Change>,
    pub drift: Vec<Drift>,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// False when an error makes this plan unsafe to apply.
    pub applyable: bool,
}

impl Plan {
    /// Changes that do something (anything but no-op).
    pub fn pending(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.action() != Action::NoOp)
    }

    pub fn has_changes(&self) -> bool {
        self.pending().next().is_some()
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Level::Error)
    }

    pub(crate) fn summarize(&mut self, aws_calls: u64) {
        let mut s = Summary {
            aws_calls,
            drift: self.drift.len(),
            organizations_calls: self.summary.organizations_calls,
            organization: self.summary.organization.clone(),
            ..Summary::default()
        };
        for c in &self.changes {
            match c.action() {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Delete => s.delete += 1,
                Action::Adopt => s.adopt += 1,
                Action::Forget => s.forget += 1,
                Action::NoOp => s.no_op += 1,
            }
        }
        self.summary = s;
        let errors = self.errors().count();
        self.applyable = errors == 0;
    }

    /// Serialize as the plan file / `--json` document.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("plans serialize");
        s.push('\n');
        s
    }

    /// Read a saved plan, refusing other format versions.
    pub fn from_json(text: &str) -> Result<Plan, PlanFileError> {
        let v: Value = serde_json::from_str(text).map_err(|e| PlanFileError::Corrupt(e.to_string()))?;
        match v.get("format_version").and_then(Value::as_u64) {
            Some(n) if n == u64::from(PLAN_FORMAT_VERSION) => {}
            Some(n) => return Err(PlanFileError::Version(n)),
            None => return Err(PlanFileError::Corrupt("missing `format_version`".into())),
        }
        serde_json::from_value(v).map_err(|e| PlanFileError::Corrupt(e.to_string()))
    }

    /// Save atomically: temp file beside it, fsync, rename.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        write_atomic(path, self.to_json().as_bytes())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("the plan file is not a valid xacct plan: {0}")]
    Corrupt(String),
    #[error("the plan file has format_version {0}; this xacct reads version {PLAN_FORMAT_VERSION}")]
    Version(u64),
}

/// SHA-256, hex.
pub fn sha256(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The fingerprint of a live JSON document: SHA-256 of its compact JSON form, so whitespace and
/// URL-encoding differences between reads do not count as a change, but any content change does.
pub fn doc_fingerprint(doc: &str) -> String {
    match serde_json::from_str::<Value>(doc) {
        Ok(v) => sha256(v.to_string().as_bytes()),
        Err(_) => sha256(doc.as_bytes()),
    }
}

/// Write a file atomically: temp file in the same directory, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
