//! Where accounts are in AWS Organizations (`org::facts`, on the in-memory organization, calls
//! counted) and `verify` proving the `organization` and `org_paths` grants with it: allowed
//! inside, denied outside the path or in another organization, not proven when Organizations
//! cannot be read — never allowed on an assumption.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use common::*;
use xacct_plan::org::facts::{resolve, AccountOrg, MemberLookup, NoMemberLookup, OrgFacts};
use xacct_plan::org::memory::MemoryOrganization;
use xacct_plan::org::{
    discover, Account, AccountState, OrgError, OrgSummary, OrgUnit, Organization, Page, Parent, Selector,
};
use xacct_plan::verify::{verify, verify_with_org, OrgFactsSource, VerifyReport};
use xacct_plan::Cloud;

const ORG: &str = "o-a1b2c3d4e5";
const ROOT: &str = "r-ab12";
const WORKLOADS: &str = "ou-ab12-11111111";
const TEAM: &str = "ou-ab12-22222222";
const OTHER: &str = "ou-ab12-33333333";

/// ```text
/// root ─┬─ workloads ─── team: accounts 0..n
///       └─ other: account 90
/// ```
/// and the management account `MGMT` under the root.
fn organization(n: usize) -> MemoryOrganization {
    let mut org = MemoryOrganization::new(ORG, ROOT, MGMT);
    org.add_ou(ROOT, WORKLOADS, "workloads");
    org.add_ou(WORKLOADS, TEAM, "team");
    org.add_ou(ROOT, OTHER, "other");
    for i in 0..n {
        org.add_account(TEAM, &account(i), &format!("team {i}"), AccountState::Active);
    }
    org.add_account(OTHER, &account(90), "other", AccountState::Active);
    org
}

fn team_path() -> String {
    format!("{ORG}/{ROOT}/{WORKLOADS}/{TEAM}/")
}

fn accounts(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

/// Accounts outside the organization read: 80 is in `o-zzzzzzzzzz`, the others in none.
struct Members {
    calls: AtomicU64,
}

#[async_trait]
impl MemberLookup for Members {
    async fn describe_as(&self, account: &str) -> (Result<OrgSummary, OrgError>, u64) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = if account == common::account(80) {
            Ok(OrgSummary { id: "o-zzzzzzzzzz".into(), management_account_id: "999999999999".into() })
        } else {
            Err(OrgError::NotInOrganization { principal: account.into(), message: "not a member".into() })
        };
        (answer, 1)
    }
}

#[tokio::test]
async fn n_accounts_in_one_ou_cost_one_call_each_plus_the_ous_above_once() {
    let org = organization(5);
    let ids: Vec<String> = (0..5).map(account).collect();
    let facts = resolve(&org, &accounts(&ids), &NoMemberLookup).await;
    for id in &ids {
        assert_eq!(facts.get(id), Ok(&AccountOrg { org_id: Some(ORG.into()), ou_path: Some(team_path()) }), "{id}");
    }
    // DescribeOrganization once, ListParents once per account, then team → workloads → root once.
    assert_eq!(org.calls_of("DescribeOrganization"), 1);
    assert_eq!(org.calls_of("ListParents"), 5 + 2);
    assert_eq!(org.call_count(), 8);
    assert_eq!(facts.calls, 8);

    // An account under the root, and one in an OU whose parent was already seen.
    let org = organization(1);
    let ids = vec![account(0), account(90), MGMT.to_string()];
    let facts = resolve(&org, &accounts(&ids), &NoMemberLookup).await;
    assert_eq!(facts.get(&account(90)).unwrap().ou_path.as_deref(), Some(format!("{ORG}/{ROOT}/{OTHER}/").as_str()));
    assert_eq!(facts.get(MGMT).unwrap().ou_path.as_deref(), Some(format!("{ORG}/{ROOT}/").as_str()));
    assert_eq!(facts.get(&account(0)).unwrap().ou_path.as_deref(), Some(team_path().as_str()));
    // 1 + 3 accounts + team, workloads and other once each (the root needs no call).
    assert_eq!(facts.calls, 1 + 3 + 3, "{:?}", org.calls());
    assert_eq!(facts.calls, org.call_count());
}

#[tokio::test]
async fn accounts_outside_the_organization_are_asked_themselves() {
    let org = organization(1);
    let members = Members { calls: AtomicU64::new(0) };
    let ids = vec![account(0), account(80), account(81)];
    let facts = resolve(&org, &accounts(&ids), &members).await;
    assert_eq!(facts.get(&account(80)), Ok(&AccountOrg { org_id: Some("o-zzzzzzzzzz".into()), ou_path: None }));
    assert_eq!(facts.get(&account(81)), Ok(&AccountOrg { org_id: None, ou_path: None }));
    assert_eq!(facts.get(&account(0)).unwrap().org_id.as_deref(), Some(ORG));
    assert_eq!(members.calls.load(Ordering::SeqCst), 2, "only the two outside accounts");
    assert_eq!(facts.calls, org.call_count() + 2, "the lookups' calls are counted too");

    // Without a way to ask them: unknown, with the reason.
    let facts = resolve(&org, &accounts(&[account(80)]), &NoMemberLookup).await;
    let why = facts.get(&account(80)).unwrap_err();
    assert!(why.starts_with(&format!("account {} is not in {ORG}, and which organization", account(80))), "{why}");
    // Never asked about: unknown too.
    assert!(facts.get(&account(3)).unwrap_err().contains("did not read"), "{facts:?}");
}

/// An organization whose every `ListParents` is denied (a member account that is no delegated
/// administrator), or which the reader is not in at all.
struct Refusing {
    inner: MemoryOrganization,
    not_in_org: bool,
}

#[async_trait]
impl Organization for Refusing {
    async fn describe_organization(&self) -> Result<OrgSummary, OrgError> {
        if self.not_in_org {
            return Err(OrgError::NotInOrganization { principal: "reader".into(), message: "no organization".into() });
        }
        self.inner.describe_organization().await
    }
    async fn list_organizational_units(&self, p: &str, t: Option<&str>) -> Result<Page<OrgUnit>, OrgError> {
        self.inner.list_organizational_units(p, t).await
    }
    async fn list_accounts(&self, p: &str, t: Option<&str>) -> Result<Page<Account>, OrgError> {
        self.inner.list_accounts(p, t).await
    }
    async fn list_parents(&self, child: &str, _: Option<&str>) -> Result<Page<Parent>, OrgError> {
        self.inner.list_parents(child, None).await?;
        Err(OrgError::AccessDenied {
            principal: "reader".into(),
            action: "organizations:ListParents".into(),
            message: "not authorized".into(),
        })
    }
    async fn list_tags(&self, a: &str, t: Option<&str>) -> Result<Page<(String, String)>, OrgError> {
        self.inner.list_tags(a, t).await
    }
}

#[tokio::test]
async fn what_cannot_be_read_is_unreadable_with_the_reason_and_asked_once() {
    let ids: Vec<String> = (0..4).map(account).collect();
    let denied = Refusing { inner: organization(4), not_in_org: false };
    let facts = resolve(&denied, &accounts(&ids), &NoMemberLookup).await;
    for id in &ids {
        let why = facts.get(id).unwrap_err();
        assert!(why.starts_with("AWS Organizations could not be read: access denied"), "{why}");
    }
    assert_eq!(denied.inner.calls_of("ListParents"), 1, "denied once, not asked again per account");
    assert_eq!(facts.calls, 2);

    let nowhere = Refusing { inner: organization(4), not_in_org: true };
    let facts = resolve(&nowhere, &accounts(&ids), &NoMemberLookup).await;
    for id in &ids {
        assert!(facts.get(id).unwrap_err().contains("is not in an organization"), "{facts:?}");
    }
    assert_eq!(facts.calls, 1);
}

#[tokio::test]
async fn discovery_gives_the_same_facts_without_a_call() {
    let org = organization(3);
    let d = discover(&org, &[Selector { ou: WORKLOADS.into(), ..Selector::default() }]).await.unwrap();
    let before = org.call_count();
    let from = OrgFacts::from_discovery(&d);
    assert_eq!(org.call_count(), before);
    let ids: Vec<String> = (0..3).map(account).collect();
    let read = resolve(&organization(3), &accounts(&ids), &NoMemberLookup).await;
    assert_eq!(from.by_account, read.by_account);
    assert_eq!(from.calls, 0);
}

// ---- verify ----

/// A file granting by `grant` (a YAML flow mapping) to workloads `dev` and `test` (accounts 0
/// and 1), applied to a memory cloud; `dev` has an external ID.
async fn granted(grant: &str) -> World {
    let workloads = [
        workload("dev", &account(0), &[]).replacen('\n', "\n    external_id: dev-7f3a\n", 1),
        workload("test", &account(1), &[]),
    ];
    let mut w = World::new(spec_text(&workloads, &format!("  assume_policy: {{ grant: {grant} }}\n")));
    w.cloud.add_role(&account(0), ROLE, EC2_TRUST);
    w.cloud.add_role(&account(1), ROLE, EC2_TRUST);
    w.converge().await;
    w
}

/// A source that counts how often it is asked, answering from `facts`.
struct Counting {
    facts: OrgFacts,
    asked: AtomicU64,
    accounts: std::sync::Mutex<Vec<BTreeSet<String>>>,
}

impl Counting {
    fn new(facts: OrgFacts) -> Counting {
        Counting { facts, asked: AtomicU64::new(0), accounts: Default::default() }
    }
}

#[async_trait]
impl OrgFactsSource for Counting {
    async fn facts(&self, accounts: &BTreeSet<String>) -> OrgFacts {
        self.asked.fetch_add(1, Ordering::SeqCst);
        self.accounts.lock().unwrap().push(accounts.clone());
        let mut f = self.facts.facts(accounts).await;
        f.calls = 7;
        f.sts_calls = 1;
        f
    }
}

fn outcomes(r: &VerifyReport) -> Vec<(&str, &str)> {
    r.checks.iter().map(|c| (c.workload.as_str(), c.outcome.as_str())).collect()
}

async fn verify_on(w: &World, org: &dyn OrgFactsSource) -> VerifyReport {
    let cloud: Arc<dyn Cloud> = w.cloud.clone();
    verify_with_org(&w.spec(), cloud, org).await
}

#[tokio::test]
async fn org_paths_grant_is_proven_for_accounts_under_the_path_and_denied_outside() {
    let w = granted(&format!("{{ org_paths: [\"{ORG}/{ROOT}/{WORKLOADS}/\"] }}")).await;
    let mut org = organization(2);
    let ids: Vec<String> = (0..2).map(account).collect();
    let source = Counting::new(resolve(&org, &accounts(&ids), &NoMemberLookup).await);
    let r = verify_on(&w, &source).await;
    assert_eq!(outcomes(&r), [("dev", "allowed"), ("test", "allowed")], "{r:#?}");
    assert!(r.errors.is_empty() && r.findings.is_empty(), "{r:#?}");
    assert_eq!(
        r.checks[1].deciding,
        ["trust[1] (XacctTrust111111111111)", "xacct-assume-workload-roles[0] (XacctAssumeWorkloadRoles)"]
    );
    assert!(r.checks.iter().all(|c| c.notes.is_empty()), "exact, nothing approximated: {r:#?}");
    // Asked once, for the workload accounts only; its calls are reported and counted.
    assert_eq!(source.asked.load(Ordering::SeqCst), 1);
    assert_eq!(source.accounts.lock().unwrap()[0], accounts(&ids));
    assert_eq!(r.organizations_calls, 7);
    assert_eq!(r.aws_calls, 2 + 2 + 1, "ListRolePolicies, GetRolePolicy, two GetRole, and the reader's AssumeRole");
    assert!(r.passes(xacct_policy::Severity::Warning));

    // `test` moved to an OU outside the path.
    org.move_account(&account(1), OTHER);
    let source = Counting::new(resolve(&org, &accounts(&ids), &NoMemberLookup).await);
    let r = verify_on(&w, &source).await;
    assert_eq!(outcomes(&r), [("dev", "allowed"), ("test", "implicit_deny")], "{r:#?}");
    assert_eq!(
        r.checks[1].notes,
        [format!(
            "cross-account: no identity policy of `{}` allows `sts:AssumeRole` on `{}`",
            role_arn(MGMT),
            role_arn(&account(1))
        )]
    );
    assert!(!r.passes(xacct_policy::Severity::Error));
}

#[tokio::test]
async fn organization_grant_is_proven_for_its_accounts_and_denied_in_another_or_none() {
    let w = granted(&format!("{{ organization: {ORG} }}")).await;
    let mut facts = OrgFacts::default();
    facts.by_account.insert(account(0), Ok(AccountOrg { org_id: Some(ORG.into()), ou_path: Some(team_path()) }));
    facts.by_account.insert(account(1), Ok(AccountOrg { org_id: Some(ORG.into()), ou_path: Some(team_path()) }));
    let r = verify_on(&w, &facts).await;
    assert_eq!(outcomes(&r), [("dev", "allowed"), ("test", "allowed")], "{r:#?}");

    facts.by_account.insert(account(0), Ok(AccountOrg { org_id: Some("o-zzzzzzzzzz".into()), ou_path: None }));
    facts.by_account.insert(account(1), Ok(AccountOrg { org_id: None, ou_path: None }));
    let r = verify_on(&w, &facts).await;
    assert_eq!(outcomes(&r), [("dev", "implicit_deny"), ("test", "implicit_deny")], "{r:#?}");
}

#[tokio::test]
async fn unreadable_organizations_leave_every_chain_not_proven_never_allowed() {
    for grant in [format!("{{ organization: {ORG} }}"), format!("{{ org_paths: [\"{ORG}/{ROOT}/\"] }}")] {
        let w = granted(&grant).await;
        let ids: Vec<String> = (0..2).map(account).collect();
        let facts = OrgFacts::unreadable(ids, "AWS Organizations could not be read: access denied: …");
        let r = verify_on(&w, &facts).await;
        assert_eq!(outcomes(&r), [("dev", "not_proven"), ("test", "not_proven")], "{grant}: {r:#?}");
        assert!(r.errors.is_empty(), "not a read error of IAM: {r:#?}");
        let note = r.checks[0].notes.iter().find(|n| n.starts_with("not proven:")).expect("a note");
        assert!(note.contains("`xacct-assume-workload-roles` statement 0 (Sid `XacctAssumeWorkloadRoles`)"), "{note}");
        assert!(note.contains("is not known (AWS Organizations could not be read: access denied: …)"), "{note}");
        assert_eq!(r.checks[0].deciding, ["xacct-assume-workload-roles[0] (XacctAssumeWorkloadRoles)"]);
        assert!(!r.passes(xacct_policy::Severity::Error));
        // No external-ID finding either: nothing was proven allowed.
        assert!(r.findings.is_empty(), "{r:#?}");

        // `verify` without a source reads nothing and proves nothing either.
        let cloud: Arc<dyn Cloud> = w.cloud.clone();
        let r = verify(&w.spec(), cloud).await;
        assert_eq!(outcomes(&r), [("dev", "not_proven"), ("test", "not_proven")], "{r:#?}");
        assert!(r.checks[1].notes.iter().any(|n| n.contains("xacct did not read where account")), "{r:#?}");
        assert_eq!(r.organizations_calls, 0);
    }
}

#[tokio::test]
async fn organizations_is_not_asked_when_no_policy_uses_its_keys() {
    let w = granted("role_arns").await;
    let source = Counting::new(OrgFacts::default());
    let r = verify_on(&w, &source).await;
    assert_eq!(outcomes(&r), [("dev", "allowed"), ("test", "allowed")], "{r:#?}");
    assert_eq!(source.asked.load(Ordering::SeqCst), 0);
    assert_eq!(r.organizations_calls, 0);
    assert_eq!(r.aws_calls, 4);
}

#[tokio::test]
async fn a_trust_conditioned_on_the_principals_organization_asks_for_the_management_account() {
    let w = granted("role_arns").await;
    // Someone's statement on `test`: only callers of the organization (no ARN principal).
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"OrgOnly","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{{"StringNotEquals":{{"aws:PrincipalOrgID":"{ORG}"}}}}}},{}]}}"#,
        w.cloud.trust(&account(1), ROLE).unwrap().split_once("\"Statement\":[").unwrap().1.trim_end_matches("]}")
    );
    w.cloud.set_trust(&account(1), ROLE, &trust);
    let mut facts = OrgFacts::default();
    facts
        .by_account
        .insert(MGMT.into(), Ok(AccountOrg { org_id: Some(ORG.into()), ou_path: Some(format!("{ORG}/{ROOT}/")) }));
    let source = Counting::new(facts);
    let r = verify_on(&w, &source).await;
    assert_eq!(outcomes(&r), [("dev", "allowed"), ("test", "allowed")], "{r:#?}");
    assert_eq!(source.accounts.lock().unwrap()[0], accounts(&[MGMT.to_string()]));

    let elsewhere = OrgFacts::unreadable([MGMT.to_string()], "no organization could be read");
    let r = verify_on(&w, &elsewhere).await;
    assert_eq!(outcomes(&r), [("dev", "allowed"), ("test", "not_proven")], "{r:#?}");
    assert!(r.checks[1].notes.iter().any(|n| n.contains("(Sid `OrgOnly`) is a Deny that may apply")), "{r:#?}");
}
