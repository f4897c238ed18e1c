//! `xacct verify`: prove each workload's trust chain statically on the live documents — may the
//! management role call `sts:AssumeRole` on the workload role, with the ExternalId CAPA sends? —
//! and flag what breaks CAPA at runtime (unique-ID principals, session tags, session length).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use xacct_policy as policy;
use xacct_spec::{Grant, Spec};

use crate::cloud::Cloud;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Check {
    pub workload: String,
    pub principal: String,
    pub role_arn: String,
    /// `allowed`, `implicit_deny`, `explicit_deny`, or `unknown` when a document could not be read.
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
    pub aws_calls: u64,
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
pub async fn verify(spec: &Spec, cloud: Arc<dyn Cloud>) -> VerifyReport {
    let before = cloud.call_count();
    let mut report = VerifyReport {
        format_version: crate::PLAN_FORMAT_VERSION,
        checks: Vec::new(),
        findings: Vec::new(),
        errors: Vec::new(),
        aws_calls: 0,
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
    let org = match &mgmt.grant {
        Grant::Organization { org_id } => Some(org_id.clone()),
        _ => None,
    };
    for w in &spec.workloads {
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
        match cloud.get_role(&w.account, &w.role.name).await {
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
                        let request = policy::AssumeRoleRequest {
                            principal_arn: principal.clone(),
                            principal_account: Some(mgmt.account.clone()),
                            external_id: w.external_id.clone(),
                            principal_org_id: org.clone(),
                            resource_org_id: org.clone(),
                            ..Default::default()
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
    report.aws_calls = cloud.call_count() - before;
    report
}
