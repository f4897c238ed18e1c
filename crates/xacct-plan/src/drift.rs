//! Drift: live IAM and manifests against stored state only (the file's desired changes are not
//! drift). What a scheduled job runs to learn that someone changed things behind xacct's back.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use xacct_policy as policy;
use xacct_spec::{Address, IamKind};
use xacct_state::State;

use crate::bootstrap;
use crate::cloud::Cloud;
use crate::diff;
use crate::live::{refresh, Progress, ReadSet};
use crate::model::{sha256, Diagnostic, Drift, DriftKind, Level};
use crate::planner::{stored, Stored};

/// The `xacct drift --json` document.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DriftReport {
    pub format_version: u32,
    pub xacct_version: String,
    pub lineage: Option<String>,
    pub serial: Option<u64>,
    /// How many owned resources were checked.
    pub checked: usize,
    pub drift: Vec<Drift>,
    pub diagnostics: Vec<Diagnostic>,
    pub aws_calls: u64,
}

impl DriftReport {
    pub fn in_sync(&self) -> bool {
        self.drift.is_empty()
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Level::Error)
    }
}

/// The one partition the stored trust statements and assume policy name (`None`: none, or
/// several).
fn stored_partition(stored: &Stored) -> Option<String> {
    let mut docs: Vec<policy::Policy> = stored
        .trust
        .values()
        .filter_map(|t| policy::Statement::from_value(&t.statement).ok())
        .map(|s| policy::Policy { version: None, id: None, statements: vec![s] })
        .collect();
    docs.extend(stored.policy.as_ref().and_then(|p| policy::Policy::from_value(&p.document).ok()));
    policy::infer_partition(&docs.iter().collect::<Vec<_>>())
}

/// The partition of the ARNs state's bootstrap entries name (`None`: none, or several).
fn iam_partition(stored: &Stored) -> Option<String> {
    let parts: std::collections::BTreeSet<&str> =
        stored.iam.values().filter_map(|s| s.arn.as_deref()?.split(':').nth(1)).collect();
    (parts.len() == 1).then(|| parts.into_iter().next().unwrap_or_default().to_string())
}

/// Compare every resource in `state` with what is live now. Manifest paths are relative to `dir`.
pub async fn detect(
    dir: &Path,
    state: Option<&State>,
    cloud: Arc<dyn Cloud>,
    parallelism: usize,
    progress: &dyn Progress,
) -> DriftReport {
    detect_with(dir, state, cloud, parallelism, progress, None).await
}

/// [`detect`], knowing what AWS Organizations reports: a trust statement in an account that is
/// closed or suspended ([`Discovery::inactive`](crate::org::Discovery::inactive)) is not read
/// (it cannot be) and not counted as checked; a warning says so (the next plan forgets it).
pub async fn detect_with(
    dir: &Path,
    state: Option<&State>,
    cloud: Arc<dyn Cloud>,
    parallelism: usize,
    progress: &dyn Progress,
    discovery: Option<&crate::org::Discovery>,
) -> DriftReport {
    let mut report = DriftReport {
        format_version: crate::PLAN_FORMAT_VERSION,
        xacct_version: env!("CARGO_PKG_VERSION").into(),
        lineage: state.map(|s| s.lineage.clone()),
        serial: state.map(|s| s.serial),
        checked: 0,
        drift: Vec::new(),
        diagnostics: Vec::new(),
        aws_calls: 0,
    };
    let stored = match stored(state) {
        Ok(s) => s,
        Err(e) => {
            report.diagnostics.push(Diagnostic { severity: Level::Error, address: None, message: e, hint: None });
            return report;
        }
    };
    let before = cloud.call_count();
    let inactive: std::collections::BTreeMap<&str, &crate::org::Account> =
        discovery.iter().flat_map(|d| d.inactive.iter().map(|f| (f.account.id.as_str(), &f.account))).collect();
    let mut set = ReadSet::default();
    for (addr, t) in &stored.trust {
        if let Some(a) = inactive.get(t.account.as_str()) {
            report.diagnostics.push(Diagnostic {
                severity: Level::Warning,
                address: Some(addr.to_string()),
                message: format!(
                    "account {} is {} in AWS Organizations: it cannot be reached, so `{addr}` was not checked",
                    t.account, a.state
                ),
                hint: Some("the next `xacct plan` forgets it without deleting its statement".into()),
            });
            continue;
        }
        set.roles.insert((t.account.clone(), t.role.clone()));
    }
    if let Some(p) = &stored.policy {
        set.policies.insert((p.account.clone(), p.role.clone(), p.policy.clone()));
    }
    // Drift compares live IAM with state alone: the partition is the one state's documents
    // name (xacct wrote them with the file's partition), so a bare account ID put in by hand
    // is that partition's root.
    let partition = stored_partition(&stored).or_else(|| iam_partition(&stored));
    // An account state holds bootstrap entities in is read once, in bulk, as plan reads it: its
    // trust statements and assume policy come from that read too.
    let mut bulk: BTreeMap<String, bool> = BTreeMap::new();
    for (addr, s) in &stored.iam {
        if inactive.contains_key(s.account.as_str()) {
            continue;
        }
        let users = matches!(addr, Address::Iam { kind: IamKind::User | IamKind::Group, .. });
        *bulk.entry(s.account.clone()).or_default() |= users;
    }
    let taken = bootstrap::take_reads(&mut set, &bulk.keys().cloned().collect());
    let reads = bootstrap::read(cloud.clone(), &bulk, parallelism).await;
    let mut live = refresh(cloud.clone(), &set, parallelism, progress).await;
    bootstrap::fill_live(&mut live, &taken, &reads, &BTreeMap::new(), partition.as_deref().unwrap_or("aws"));
    let iam_stored: BTreeMap<Address, bootstrap::StoredIam> = stored
        .iam
        .iter()
        .filter(|(_, s)| !inactive.contains_key(s.account.as_str()))
        .map(|(a, s)| (a.clone(), s.clone()))
        .collect();
    let iam = bootstrap::drift(&iam_stored, &reads, partition.as_deref().unwrap_or("aws"));
    report.checked += iam.checked;
    report.drift.extend(iam.drift);
    report.diagnostics.extend(iam.diagnostics);
    let partition = partition.as_deref();
    for (addr, t) in stored.trust.iter().filter(|(_, t)| !inactive.contains_key(t.account.as_str())) {
        report.checked += 1;
        let d = diff::trust(diff::TrustInput {
            address: addr,
            account: &t.account,
            role: &t.role,
            desired: Some(&t.statement),
            stored: Some(t),
            live: live.role(&t.account, &t.role),
            from_state: false,
            partition,
        });
        report.drift.extend(d.drift);
        report.diagnostics.extend(d.diagnostics.into_iter().filter(|d| d.severity == Level::Error));
    }
    if let Some(p) = &stored.policy {
        report.checked += 1;
        let d = diff::inline_policy(diff::PolicyInput {
            address: &Address::AssumePolicy,
            account: &p.account,
            role: &p.role,
            name: &p.policy,
            desired: Some(&p.document),
            stored: Some(p),
            live: live.policy(&p.account, &p.role, &p.policy),
            partition,
        });
        report.drift.extend(d.drift);
        report.diagnostics.extend(d.diagnostics.into_iter().filter(|d| d.severity == Level::Error));
    }
    for (addr, m) in &stored.manifests {
        report.checked += 1;
        let path = dir.join(&m.path);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let now = sha256(&bytes);
                if now != m.applied_sha256 {
                    report.drift.push(Drift {
                        address: addr.clone(),
                        kind: DriftKind::Modified,
                        detail: format!("`{}` was edited since xacct last patched it", m.path),
                        stored: json!({ "sha256": m.applied_sha256 }),
                        live: json!({ "sha256": now }),
                    });
                }
            }
            Err(_) => report.drift.push(Drift {
                address: addr.clone(),
                kind: DriftKind::Deleted,
                detail: format!("`{}` no longer exists", m.path),
                stored: json!({ "sha256": m.applied_sha256 }),
                live: serde_json::Value::Null,
            }),
        }
    }
    report.drift.sort_by(|a, b| a.address.cmp(&b.address));
    report.aws_calls = cloud.call_count() - before;
    report
}
