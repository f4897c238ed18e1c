//! `xacct verify`: prove each workload's trust chain statically on the live documents — may the
//! management role call `sts:AssumeRole` on the workload role, with the ExternalId CAPA sends? —
//! and flag what breaks CAPA at runtime (unique-ID principals, session tags, session length).
//!
//! Where a policy conditions on the organization (`aws:ResourceOrgID`, `aws:ResourceOrgPaths`,
//! `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, as `grant: { organization | org_paths }`
//! writes), the accounts' real organization and OU path are evaluated: from discovery when the
//! workload was discovered, else asked of an [`OrgFactsSource`] — only for the accounts whose
//! chain uses those keys, and not at all when none does. What it cannot tell leaves the chain
//! `not_proven`, with the reason.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use xacct_policy as policy;
use xacct_spec::Spec;

use crate::cloud::Cloud;
use crate::org::facts::{AccountOrg, OrgFacts};

/// Where [`verify_with_org`] learns which organization and OU each account is in.
#[async_trait]
pub trait OrgFactsSource: Send + Sync {
    /// The facts of `accounts` (never empty), with the Organizations calls made.
    async fn facts(&self, accounts: &BTreeSet<String>) -> OrgFacts;
}

/// Facts read beforehand: no call.
#[async_trait]
impl OrgFactsSource for OrgFacts {
    async fn facts(&self, accounts: &BTreeSet<String>) -> OrgFacts {
        let by_account = self
            .by_account
            .iter()
            .filter(|(a, _)| accounts.contains(*a))
            .map(|(a, f)| (a.clone(), f.clone()))
            .collect();
        OrgFacts { by_account, calls: 0, sts_calls: 0 }
    }
}

/// What a [`FnSource`] function returns.
pub type FactsFuture = std::pin::Pin<Box<dyn std::future::Future<Output = OrgFacts> + Send>>;

/// An [`OrgFactsSource`] made of a function from the accounts to their facts (for callers that
/// do not implement async traits).
pub struct FnSource<F>(pub F);

#[async_trait]
impl<F> OrgFactsSource for FnSource<F>
where
    F: Fn(BTreeSet<String>) -> FactsFuture + Send + Sync,
{
    async fn facts(&self, accounts: &BTreeSet<String>) -> OrgFacts {
        (self.0)(accounts.clone()).await
    }
}

const RESOURCE_KEYS: [&str; 2] = ["aws:ResourceOrgID", "aws:ResourceOrgPaths"];
const PRINCIPAL_KEYS: [&str; 2] = ["aws:PrincipalOrgID", "aws:PrincipalOrgPaths"];

/// Whether a condition of `p` names one of `keys`.
fn uses(p: &policy::Policy, keys: &[&str]) -> bool {
    p.statements.iter().flat_map(|s| &s.conditions).any(|c| keys.iter().any(|k| c.key.eq_ignore_ascii_case(k)))
}

/// The two condition keys of an account (`[id key, paths key]`), as the evaluator takes them.
fn keys_of(
    account: &str,
    fact: Result<&AccountOrg, String>,
    keys: [&str; 2],
) -> (Option<String>, Option<Vec<String>>, Vec<policy::UnknownKey>) {
    let unknown = |key: &str, reason: &str, prefix: String| policy::UnknownKey {
        key: key.to_string(),
        reason: reason.to_string(),
        prefix,
    };
    match fact {
        Ok(AccountOrg { org_id: None, .. }) => (None, None, Vec::new()),
        Ok(AccountOrg { org_id: Some(o), ou_path: Some(p) }) => (Some(o.clone()), Some(vec![p.clone()]), Vec::new()),
        Ok(AccountOrg { org_id: Some(o), ou_path: None }) => {
            let why = format!(
                "account {account} is in organization {o}, not the one xacct reads, so its OUs cannot be listed"
            );
            (Some(o.clone()), None, vec![unknown(keys[1], &why, format!("{o}/"))])
        }
        Err(why) => (None, None, keys.iter().map(|k| unknown(k, &why, String::new())).collect()),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Check {
    pub workload: String,
    pub principal: String,
    pub role_arn: String,
    /// `allowed`, `implicit_deny`, `explicit_deny`, `not_proven` (the verdict hinges on where an
    /// account is in AWS Organizations, which could not be read: the notes say why), or `unknown`
    /// when a document could not be read.
    pub outcome: String,
    /// The statements that decided, as `policy[index]` (with the Sid when there is one).
    pub deciding: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    pub address: String,
    /// `error`, `security_warning`, `warning` or `suggestion`.
    pub severity: String,
    pub message: String,
}

impl Finding {
    fn new(address: impl Into<String>, severity: &str, message: impl Into<String>) -> Finding {
        Finding { address: address.into(), severity: severity.into(), message: message.into() }
    }
}

/// The `xacct verify --json` document.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VerifyReport {
    pub format_version: u32,
    pub checks: Vec<Check>,
    pub findings: Vec<Finding>,
    /// Reads that failed (AWS unreachable, access denied…): the verdict is incomplete, and
    /// `xacct verify` exits 1.
    #[serde(default)]
    pub errors: Vec<String>,
    /// IAM and STS calls (those that obtained credentials to read Organizations included).
    pub aws_calls: u64,
    /// AWS Organizations API calls (one per page): 0 unless a policy conditions on the
    /// organization of an account discovery did not place.
    #[serde(default)]
    pub organizations_calls: u64,
}

impl VerifyReport {
    /// Every chain allowed and nothing worse than a suggestion.
    pub fn all_good(&self) -> bool {
        self.passes(policy::Severity::Warning)
    }

    /// Every chain allowed and no finding as severe as `fail_on` or worse (a chain that is not
    /// allowed fails whatever the threshold).
    pub fn passes(&self, fail_on: policy::Severity) -> bool {
        self.checks.iter().all(|c| c.outcome == "allowed")
            && self.findings.iter().all(|f| severity_of(&f.severity).is_none_or(|s| s > fail_on))
    }

    /// The findings that do not fail at `fail_on`.
    pub fn below(&self, fail_on: policy::Severity) -> usize {
        self.findings.iter().filter(|f| severity_of(&f.severity).is_some_and(|s| s > fail_on)).count()
    }
}

fn severity_of(s: &str) -> Option<policy::Severity> {
    Some(match s {
        "error" => policy::Severity::Error,
        "security_warning" => policy::Severity::SecurityWarning,
        "warning" => policy::Severity::Warning,
        "suggestion" => policy::Severity::Suggestion,
        _ => return None,
    })
}

fn severity(s: policy::Severity) -> &'static str {
    match s {
        policy::Severity::Error => "error",
        policy::Severity::SecurityWarning => "security_warning",
        policy::Severity::Warning => "warning",
        policy::Severity::Suggestion => "suggestion",
    }
}

/// Read the management role's inline policies and every workload role, and evaluate each chain.
/// Organizations is not read: a chain that conditions on the organization of an account the
/// file did not discover is `not_proven` ([`verify_with_org`] reads it).
pub async fn verify(spec: &Spec, cloud: Arc<dyn Cloud>) -> VerifyReport {
    verify_with_org(spec, cloud, &OrgFacts::default()).await
}

/// [`verify`], with the accounts' places in AWS Organizations from `org` where a chain needs
/// them and discovery did not give them.
pub async fn verify_with_org(spec: &Spec, cloud: Arc<dyn Cloud>, org: &dyn OrgFactsSource) -> VerifyReport {
    let before = cloud.call_count();
    let mut report = VerifyReport {
        format_version: crate::PLAN_FORMAT_VERSION,
        checks: Vec::new(),
        findings: Vec::new(),
        errors: Vec::new(),
        aws_calls: 0,
        organizations_calls: 0,
    };
    // A bootstrapped account that names no role has the set's controller role, as plan sees it.
    let prepared;
    let spec = if spec.management.bootstrap.is_some() || spec.workloads.iter().any(|w| w.bootstrap.is_some()) {
        match crate::bootstrap::prepare(spec) {
            Ok(p) => {
                prepared = p;
                &prepared.spec
            }
            Err(errors) => {
                report.errors.extend(errors.iter().map(|d| d.to_string()));
                return report;
            }
        }
    } else {
        spec
    };
    let mgmt = &spec.management;
    let principal = spec.management_role_arn();
    let mut identity: Vec<(String, policy::Policy)> = Vec::new();
    match cloud.list_role_policies(&mgmt.account, &mgmt.role.name).await {
        Ok(names) => {
            for n in names {
                match cloud.get_role_policy(&mgmt.account, &mgmt.role.name, &n).await {
                    Ok(Some(doc)) => match policy::Policy::parse_encoded(&doc) {
                        Ok(p) => identity.push((n, p)),
                        Err(e) => report.findings.push(Finding::new(
                            "role.management",
                            "error",
                            format!("inline policy `{n}` does not parse: {e}"),
                        )),
                    },
                    Ok(None) => {}
                    Err(e) => report.errors.push(format!("role.management: cannot read inline policy `{n}`: {e}")),
                }
            }
        }
        Err(e) => {
            report.errors.push(format!("role.management: cannot list the management role's inline policies: {e}"))
        }
    }
    let named: Vec<policy::NamedPolicy<'_>> =
        identity.iter().map(|(n, p)| policy::NamedPolicy { name: n, policy: p }).collect();

    // Every workload role first, then the organization facts the chains need, then the verdicts.
    let mut roles = Vec::with_capacity(spec.workloads.len());
    for w in &spec.workloads {
        roles.push(cloud.get_role(&w.account, &w.role.name).await);
    }
    let trust_uses = |keys: &[&str], r: &Result<Option<crate::cloud::LiveRole>, crate::cloud::CloudError>| matches!(r, Ok(Some(role)) if policy::Policy::parse_encoded(&role.trust_policy).is_ok_and(|t| uses(&t, keys)));
    let identity_uses = |keys: &[&str]| identity.iter().any(|(_, p)| uses(p, keys));
    let needs_resource: Vec<bool> =
        roles.iter().map(|r| identity_uses(&RESOURCE_KEYS) || trust_uses(&RESOURCE_KEYS, r)).collect();
    let needs_principal = identity_uses(&PRINCIPAL_KEYS) || roles.iter().any(|r| trust_uses(&PRINCIPAL_KEYS, r));
    let mut ask: BTreeSet<String> = spec
        .workloads
        .iter()
        .zip(&needs_resource)
        .filter(|(w, needed)| **needed && w.discovered.is_none())
        .map(|(w, _)| w.account.clone())
        .collect();
    if needs_principal {
        ask.insert(mgmt.account.clone());
    }
    let mut facts = if ask.is_empty() { OrgFacts::default() } else { org.facts(&ask).await };
    report.organizations_calls = facts.calls;
    let sts_for_organizations = facts.sts_calls;
    for w in &spec.workloads {
        if let Some(d) = &w.discovered {
            let at = AccountOrg { org_id: Some(d.org_id.clone()), ou_path: Some(d.ou_path.clone()) };
            facts.by_account.entry(w.account.clone()).or_insert(Ok(at));
        }
    }
    let (principal_org_id, principal_org_paths, principal_unknown) = if needs_principal {
        keys_of(&mgmt.account, facts.get(&mgmt.account), PRINCIPAL_KEYS)
    } else {
        (None, None, Vec::new())
    };

    for ((w, live), needs) in spec.workloads.iter().zip(roles).zip(needs_resource) {
        let mut role_arn = spec.workload_role_arn(w);
        let mut check = Check {
            workload: w.name.clone(),
            principal: principal.clone(),
            role_arn: role_arn.clone(),
            outcome: "unknown".into(),
            deciding: vec![],
            notes: vec![],
        };
        let address = format!("trust.{}", w.name);
        match live {
            Ok(Some(role)) => {
                if role.arn != role_arn {
                    // Evaluate the role that exists: what xacct wrote names the file's ARN.
                    report.findings.push(Finding::new(
                        format!("role.{}", w.name),
                        "error",
                        format!(
                            "the role is `{}`, but the file makes it `{role_arn}`: the assume policy and the manifests name a role that does not exist; set the role's `path`",
                            role.arn
                        ),
                    ));
                    role_arn = role.arn.clone();
                    check.role_arn = role_arn.clone();
                }
                for f in policy::validate(&role.trust_policy, policy::PolicyKind::Trust) {
                    let at = if f.path.is_empty() { String::new() } else { format!("{}: ", f.path) };
                    report.findings.push(Finding::new(&address, severity(f.severity), format!("{at}{}", f.message)));
                }
                if let Some(d) =
                    w.identity.duration_seconds.filter(|d| i64::from(*d) > i64::from(role.max_session_duration))
                {
                    report.findings.push(Finding::new(
                        format!("role.{}", w.name),
                        "error",
                        format!("identity asks for {d}-second sessions; the role allows {}", role.max_session_duration),
                    ));
                }
                match policy::Policy::parse_encoded(&role.trust_policy) {
                    Ok(trust) => {
                        let (resource_org_id, resource_org_paths, mut unknown_keys) = if needs {
                            keys_of(&w.account, facts.get(&w.account), RESOURCE_KEYS)
                        } else {
                            (None, None, Vec::new())
                        };
                        unknown_keys.extend(principal_unknown.iter().cloned());
                        let request = policy::AssumeRoleRequest {
                            principal_arn: principal.clone(),
                            principal_account: Some(mgmt.account.clone()),
                            external_id: w.external_id.clone(),
                            principal_org_id: principal_org_id.clone(),
                            principal_org_paths: principal_org_paths.clone(),
                            resource_org_id,
                            resource_org_paths,
                            unknown_keys,
                        };
                        let d = policy::evaluate_assume_role(&request, &role_arn, &trust, &named);
                        if w.external_id.is_some() && d.outcome == policy::Outcome::Allowed {
                            // The same call without the external ID: if it is allowed too, some
                            // statement grants it unconditionally and the external ID guards nothing.
                            let bare = policy::AssumeRoleRequest { external_id: None, ..request.clone() };
                            let without = policy::evaluate_assume_role(&bare, &role_arn, &trust, &named);
                            if without.outcome == policy::Outcome::Allowed {
                                let by: Vec<String> = without
                                    .deciding
                                    .iter()
                                    .filter(|s| s.policy == "trust")
                                    .map(|s| {
                                        format!(
                                            "trust[{}]{}",
                                            s.index,
                                            s.sid.as_ref().map(|x| format!(" ({x})")).unwrap_or_default()
                                        )
                                    })
                                    .collect();
                                report.findings.push(Finding::new(
                                    &address,
                                    "security_warning",
                                    format!(
                                        "the management role may assume this role without the external ID too (allowed by {}): the external ID protects nothing; remove that statement or give it the same `sts:ExternalId` condition",
                                        if by.is_empty() { "another statement".to_string() } else { by.join(", ") }
                                    ),
                                ));
                            }
                        }
                        check.outcome = match d.outcome {
                            policy::Outcome::Allowed => "allowed",
                            policy::Outcome::ImplicitDeny => "implicit_deny",
                            policy::Outcome::ExplicitDeny => "explicit_deny",
                            policy::Outcome::NotProven => "not_proven",
                        }
                        .into();
                        check.deciding = d
                            .deciding
                            .iter()
                            .map(|s| {
                                format!(
                                    "{}[{}]{}",
                                    s.policy,
                                    s.index,
                                    s.sid.as_ref().map(|x| format!(" ({x})")).unwrap_or_default()
                                )
                            })
                            .collect();
                        check.notes = d.notes;
                    }
                    Err(e) => check.notes.push(format!("the trust policy does not parse: {e}")),
                }
            }
            Ok(None) => check.notes.push(format!("role `{}` does not exist in account {}", w.role.name, w.account)),
            Err(e) => {
                report
                    .errors
                    .push(format!("{address}: cannot read role `{}` in account {}: {e}", w.role.name, w.account));
                check.notes.push(e.to_string());
            }
        }
        report.checks.push(check);
    }
    report.aws_calls = cloud.call_count() - before + sts_for_organizations;
    report
}
