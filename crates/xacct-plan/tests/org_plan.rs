//! Planning with workloads discovered from AWS Organizations: the merge (names, listed and
//! management accounts, `grant: organization`), every plan row (an account that joins, leaves,
//! is suspended or closed, is renamed), the removal guard's thresholds and `--allow-removals`.
//! Organizations is a `MemoryOrganization`, live IAM a `MemoryCloud`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::*;
use serde_json::{json, Value};
use xacct_plan::memory::MemoryCloud;
use xacct_plan::org::memory::MemoryOrganization;
use xacct_plan::org::{discover, merge, AccountState, Discovery};
use xacct_plan::{removal_guard, Action, Cloud, Level, OrgCounts, Plan, PlanOptions, Removals, StoredTrust};
use xacct_spec::{Access, Grant, Identity, OrgSelector, OrgSpec, RoleRef, Spec};

const ORG: &str = "o-exampleorg1";
const ROOT: &str = "r-ab12";
const OU_A: &str = "ou-ab12-11111111";
const OU_B: &str = "ou-ab12-22222222";
const OU_OUT: &str = "ou-ab12-99999999";
/// The organization's management account (not the file's `management.account`).
const ORG_MGMT: &str = "999999999999";

fn selector(ou: &str) -> OrgSelector {
    OrgSelector {
        ou: ou.into(),
        tags: BTreeMap::new(),
        except: BTreeSet::new(),
        role: RoleRef { name: ROLE.into(), path: "/".into() },
        access: Access::DefaultChain,
        external_id: None,
        identity: Identity {
            name: String::new(),
            allowed_namespaces: None,
            duration_seconds: None,
            session_name: None,
        },
        identities_dir: None,
        bootstrap: None,
        role_given: true,
        pos: Default::default(),
    }
}

/// `(ou, account, name, state)` of each member account.
type Member<'a> = (&'a str, &'a str, &'a str, AccountState);

/// An organization with OUs A, B and one outside every selector, and these members.
fn organization(members: &[Member<'_>]) -> MemoryOrganization {
    let mut org = MemoryOrganization::new(ORG, ROOT, ORG_MGMT);
    for ou in [OU_A, OU_B, OU_OUT] {
        org.add_ou(ROOT, ou, ou);
    }
    for (ou, id, name, state) in members {
        org.add_account(ou, id, name, state.clone());
    }
    org
}

fn active<'a>(ou: &'a str, id: &'a str, name: &'a str) -> Member<'a> {
    (ou, id, name, AccountState::Active)
}

/// A world whose file lists `listed` workloads and selects `selectors`, with a CAPA role in
/// every account of `members` (and the listed ones).
struct Org {
    w: World,
    selectors: Vec<OrgSelector>,
    grant: Grant,
}

impl Org {
    fn new(listed: &[String], selectors: &[&str], roles_in: &[String]) -> Org {
        let w = World::new(spec_text(listed, ""));
        for a in roles_in {
            w.cloud.add_role(a, ROLE, EC2_TRUST);
        }
        Org { w, selectors: selectors.iter().map(|ou| selector(ou)).collect(), grant: Grant::RoleArns }
    }

    fn file_spec(&self) -> Spec {
        let mut spec = self.w.spec();
        spec.organization =
            Some(OrgSpec { access: Access::DefaultChain, selectors: self.selectors.clone(), pos: spec.management.pos });
        spec.management.grant = self.grant.clone();
        spec
    }

    async fn discover(&self, org: &MemoryOrganization) -> (Spec, Discovery) {
        let spec = self.file_spec();
        let d = discover(org, &merge::selectors(spec.organization.as_ref().unwrap())).await.unwrap();
        (merge::merge(&spec, &d).spec, d)
    }

    async fn plan(&self, org: &MemoryOrganization, removals: Removals) -> Plan {
        let (spec, d) = self.discover(org).await;
        let opts = PlanOptions { organization: Some(d), removals, ..PlanOptions::default() };
        let cloud: Arc<dyn Cloud> = self.w.cloud.clone();
        xacct_plan::plan(&spec, self.w.spec_text.as_bytes(), self.w.state(), cloud, &opts, &()).await
    }

    async fn converge(&mut self, org: &MemoryOrganization) -> Plan {
        let p = self.plan(org, Removals::Guarded).await;
        self.w.apply(&p).await;
        p
    }

    fn stored(&self, address: &str) -> StoredTrust {
        let r = self.w.state.resources.get(address).unwrap_or_else(|| panic!("no `{address}` in state"));
        serde_json::from_value(r.attributes.clone()).unwrap()
    }
}

fn acct(i: usize) -> String {
    account(i)
}

fn actions(p: &Plan) -> BTreeMap<String, Action> {
    p.changes.iter().filter(|c| c.kind != "role").map(|c| (c.address.to_string(), c.action())).collect()
}

fn errors(p: &Plan) -> Vec<String> {
    p.errors().map(|d| d.message.clone()).collect()
}

fn warnings(p: &Plan) -> Vec<(Option<String>, String, Option<String>)> {
    p.diagnostics
        .iter()
        .filter(|d| d.severity == Level::Warning)
        .map(|d| (d.address.clone(), d.message.clone(), d.hint.clone()))
        .collect()
}

fn statement_in(cloud: &MemoryCloud, account: &str) -> bool {
    statements(&cloud.trust(account, ROLE).unwrap()).iter().any(|s| s["Sid"] == json!(format!("XacctTrust{MGMT}")))
}

fn assume_resources(p: &Plan) -> Value {
    change(p, "assume_policy.management").after["Statement"][0]["Resource"].clone()
}

// ---------------------------------------------------------------------------------------------
// Joining: create

#[tokio::test]
async fn accounts_that_join_the_selection_are_created_with_the_selectors_settings() {
    let (a, b) = (acct(0), acct(1));
    let mut o = Org::new(&[], &[OU_A], &[a.clone(), b.clone()]);
    let org = organization(&[active(OU_A, &a, "Tenant A"), active(OU_A, &b, "Tenant B")]);

    let (spec, _) = o.discover(&org).await;
    let names: Vec<(&str, &str)> = spec.workloads.iter().map(|w| (w.name.as_str(), w.account.as_str())).collect();
    assert_eq!(names, [("tenant-a", a.as_str()), ("tenant-b", b.as_str())]);
    let w = spec.workload("tenant-a").unwrap();
    assert_eq!(w.identity.name, "tenant-a");
    assert!(w.manifests.is_empty());
    let found = w.discovered.as_ref().unwrap();
    assert_eq!(
        (found.selector, found.account_name.as_str(), found.ou_path.as_str(), found.org_id.as_str()),
        (0, "Tenant A", "o-exampleorg1/r-ab12/ou-ab12-11111111/", ORG)
    );

    let p = o.converge(&org).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(
        actions(&p),
        BTreeMap::from([
            ("assume_policy.management".to_string(), Action::Create),
            ("trust.tenant-a".to_string(), Action::Create),
            ("trust.tenant-b".to_string(), Action::Create),
        ])
    );
    assert_eq!(assume_resources(&p), json!([role_arn(&a), role_arn(&b)]));
    assert_eq!(p.summary.organizations_calls, Some(4), "DescribeOrganization, ListParents, the OU's two lists");
    assert_eq!(
        p.summary.organization,
        Some(OrgCounts { org_id: ORG.into(), selectors: 1, selected: 2, listed: 0, new: 2, inactive: BTreeMap::new() })
    );
    assert!(statement_in(&o.w.cloud, &a) && statement_in(&o.w.cloud, &b));
    // State records which selector found each account.
    let t = o.stored("trust.tenant-a");
    assert_eq!((t.org_selector, t.org_ou.as_deref()), (Some(0), Some(OU_A)));

    // Nothing new the second time.
    let again = o.plan(&org, Removals::Guarded).await;
    assert_all_noop(&again);
    assert_eq!(again.summary.organization.as_ref().unwrap().new, 0);
}

#[tokio::test]
async fn a_plan_json_without_an_organization_has_no_organization_fields() {
    let w = World::new(spec_text(&[workload("dev", &acct(0), &[])], ""));
    w.cloud.add_role(&acct(0), ROLE, EC2_TRUST);
    let p = w.plan().await;
    let v: Value = serde_json::from_str(&p.to_json()).unwrap();
    assert_eq!(v["summary"].get("organizations_calls"), None);
    assert_eq!(v["summary"].get("organization"), None);
}

// ---------------------------------------------------------------------------------------------
// Leaving: delete

#[tokio::test]
async fn an_account_that_leaves_the_selection_has_its_statement_deleted() {
    let ids: Vec<String> = (0..4).map(acct).collect();
    let mut o = Org::new(&[], &[OU_A], &ids);
    let names = ["Tenant A", "Tenant B", "Tenant C", "Tenant D"];
    let members: Vec<Member<'_>> = ids.iter().zip(names).map(|(id, n)| active(OU_A, id, n)).collect();
    o.converge(&organization(&members)).await;

    // Tenant D moves to an OU no selector names: 1 of 4 leaves, which the guard allows.
    let mut moved = organization(&members);
    moved.move_account(&ids[3], OU_OUT);
    let p = o.plan(&moved, Removals::Guarded).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(actions(&p)["trust.tenant-d"], Action::Delete);
    assert_eq!(
        change(&p, "trust.tenant-d").reason.as_deref(),
        Some("account 222222222225 left the AWS Organizations selection")
    );
    assert_eq!(assume_resources(&p), json!([role_arn(&ids[0]), role_arn(&ids[1]), role_arn(&ids[2])]));
    assert!(warnings(&p).is_empty(), "{:#?}", p.diagnostics);
    o.w.apply(&p).await;
    assert!(!statement_in(&o.w.cloud, &ids[3]));
    assert!(!o.w.state.resources.contains_key("trust.tenant-d"));
}

// ---------------------------------------------------------------------------------------------
// Suspended and closed: forget, unread

/// Tenants A and B applied; then B is in `state` and its account's role can no longer be read
/// (the cloud is rebuilt without it, so a read would show the role gone).
async fn with_b_unreachable(state: AccountState) -> (Org, Plan) {
    let (a, b) = (acct(0), acct(1));
    let mut o = Org::new(&[], &[OU_A], &[a.clone(), b.clone()]);
    o.converge(&organization(&[active(OU_A, &a, "Tenant A"), active(OU_A, &b, "Tenant B")])).await;
    let cloud = Arc::new(MemoryCloud::new());
    cloud.add_role(MGMT, ROLE, &o.w.cloud.trust(MGMT, ROLE).unwrap());
    cloud.set_policy(MGMT, ROLE, POLICY, o.w.cloud.policy(MGMT, ROLE, POLICY).as_deref());
    cloud.add_role(&a, ROLE, &o.w.cloud.trust(&a, ROLE).unwrap());
    o.w.cloud = cloud;
    let org = organization(&[active(OU_A, &a, "Tenant A"), (OU_A, &b, "Tenant B", state)]);
    let p = o.plan(&org, Removals::Guarded).await;
    (o, p)
}

#[tokio::test]
async fn a_suspended_account_is_forgotten_without_being_read_with_a_warning() {
    let (mut o, p) = with_b_unreachable(AccountState::Suspended).await;
    let b = acct(1);
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let c = change(&p, "trust.tenant-b");
    assert_eq!(c.action(), Action::Forget);
    assert!(c.unreachable && !c.drift && c.write.is_none() && c.live_fingerprint.is_none());
    assert_eq!(c.reason.as_deref(), Some("account 222222222223 is SUSPENDED in AWS Organizations"));
    assert!(p.drift.is_empty(), "{:#?}", p.drift);
    assert_eq!(
        warnings(&p),
        [(
            Some("trust.tenant-b".to_string()),
            format!("account {b} (Tenant B) is SUSPENDED: it cannot be reached; forgetting `trust.tenant-b` without deleting its statement from role `{ROLE}`"),
            Some("should it become ACTIVE again, it rejoins the selection and the next plan adopts the statement it finds".to_string())
        )]
    );
    // Reads: the management role and policy and tenant A's role; nothing in B.
    assert_eq!(p.summary.aws_calls, 4, "GetRole ×2, GetRolePolicy, ListRolePolicies (the size check)");
    assert_eq!(p.summary.forget, 1);
    assert_eq!(p.summary.organization.as_ref().unwrap().inactive, BTreeMap::from([("SUSPENDED".to_string(), 1)]));
    // The grant goes with it; the removal guard does not count a forget.
    assert_eq!(assume_resources(&p), json!([role_arn(&acct(0))]));
    o.w.apply(&p).await;
    assert!(!o.w.state.resources.contains_key("trust.tenant-b"));
}

#[tokio::test]
async fn a_closed_account_is_forgotten_with_a_warning_naming_its_state() {
    let (_, p) = with_b_unreachable(AccountState::Closed).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(actions(&p)["trust.tenant-b"], Action::Forget);
    assert!(change(&p, "trust.tenant-b").unreachable);
    assert_eq!(
        warnings(&p),
        [(
            Some("trust.tenant-b".to_string()),
            format!("account {} (Tenant B) is CLOSED: it cannot be reached; forgetting `trust.tenant-b` without deleting its statement from role `{ROLE}`", acct(1)),
            Some("a closed account cannot be used again; the statement goes with it".to_string())
        )]
    );
}

#[tokio::test]
async fn every_state_but_active_is_forgotten_unread() {
    for state in [AccountState::PendingClosure, AccountState::PendingActivation, AccountState::Unknown("NEW".into())] {
        let (_, p) = with_b_unreachable(state.clone()).await;
        assert_eq!(actions(&p)["trust.tenant-b"], Action::Forget, "{state}");
        assert!(change(&p, "trust.tenant-b").unreachable, "{state}");
        assert!(p.applyable && p.drift.is_empty(), "{state}: {:#?}", p.diagnostics);
        assert!(warnings(&p)[0].1.contains(&format!("is {state}: it cannot be reached")), "{state}");
    }
}

#[tokio::test]
async fn a_suspended_account_that_returns_is_adopted() {
    let (mut o, p) = with_b_unreachable(AccountState::Suspended).await;
    o.w.apply(&p).await;
    o.w.cloud.add_role(
        &acct(1),
        ROLE,
        &serde_json::to_string(&json!({"Version": "2012-10-17", "Statement": [
        statements(EC2_TRUST)[0].clone(), our_statement()]}))
        .unwrap(),
    );
    let org = organization(&[active(OU_A, &acct(0), "Tenant A"), active(OU_A, &acct(1), "Tenant B")]);
    let p = o.plan(&org, Removals::Guarded).await;
    assert_eq!(actions(&p)["trust.tenant-b"], Action::Adopt);
}

// ---------------------------------------------------------------------------------------------
// Renamed in Organizations: state moves

#[tokio::test]
async fn an_account_renamed_in_organizations_moves_its_state_without_delete_or_create() {
    let (a, b) = (acct(0), acct(1));
    let mut o = Org::new(&[], &[OU_A], &[a.clone(), b.clone()]);
    o.converge(&organization(&[active(OU_A, &a, "Tenant A"), active(OU_A, &b, "Tenant B")])).await;

    let renamed = organization(&[active(OU_A, &a, "Tenant A"), active(OU_A, &b, "Tenant Bee")]);
    let p = o.plan(&renamed, Removals::Guarded).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(
        actions(&p),
        BTreeMap::from([
            ("assume_policy.management".to_string(), Action::NoOp),
            ("trust.tenant-a".to_string(), Action::NoOp),
            ("trust.tenant-b".to_string(), Action::Forget),
            ("trust.tenant-bee".to_string(), Action::NoOp),
        ])
    );
    assert_eq!(
        change(&p, "trust.tenant-bee").replaces.as_ref().map(ToString::to_string).as_deref(),
        Some("trust.tenant-b")
    );
    assert_eq!(p.summary.organization.as_ref().unwrap().new, 0);
    o.w.apply(&p).await;
    let t = o.stored("trust.tenant-bee");
    assert_eq!((t.account.as_str(), t.org_selector, t.org_ou.as_deref()), (b.as_str(), Some(0), Some(OU_A)));
    assert!(!o.w.state.resources.contains_key("trust.tenant-b"));
    assert!(statement_in(&o.w.cloud, &b));
    assert_all_noop(&o.plan(&renamed, Removals::Guarded).await);
}

// ---------------------------------------------------------------------------------------------
// The merge: listed accounts, listed names, the management account, grant: organization

#[tokio::test]
async fn an_account_both_listed_and_discovered_is_the_listed_one() {
    let (a, b) = (acct(0), acct(1));
    let o = Org::new(&[workload("core", &a, &[])], &[OU_A], &[a.clone(), b.clone()]);
    let org = organization(&[active(OU_A, &a, "Core Platform"), active(OU_A, &b, "Tenant B")]);
    let (spec, d) = o.discover(&org).await;
    let merged = merge::merge(&o.file_spec(), &d);
    assert_eq!(merged.listed, [(a.clone(), "core".to_string())]);
    let names: Vec<(&str, bool)> = spec.workloads.iter().map(|w| (w.name.as_str(), w.discovered.is_some())).collect();
    assert_eq!(names, [("core", false), ("tenant-b", true)]);
    let p = o.plan(&org, Removals::Guarded).await;
    assert_eq!(
        actions(&p).keys().cloned().collect::<Vec<_>>(),
        ["assume_policy.management", "trust.core", "trust.tenant-b"]
    );
    let counts = p.summary.organization.clone().unwrap();
    assert_eq!((counts.selected, counts.listed, counts.new), (2, 1, 1));
    // The listed workload's state carries no discovery marker.
    assert_eq!(change(&p, "trust.core").state_after.get("org_selector"), None);
}

#[tokio::test]
async fn a_discovered_account_never_takes_a_listed_name() {
    let (a, b) = (acct(0), acct(1));
    let o = Org::new(&[workload("tenant-a", &a, &[])], &[OU_A], &[a.clone(), b.clone()]);
    let org = organization(&[active(OU_A, &b, "Tenant A")]);
    let (spec, _) = o.discover(&org).await;
    let names: Vec<&str> = spec.workloads.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["tenant-a", "tenant-a-222222222223"]);
}

#[tokio::test]
async fn the_management_account_is_never_a_workload() {
    let a = acct(0);
    let o = Org::new(&[], &[ROOT], std::slice::from_ref(&a));
    // The file's management account is a member below the root; the organization's management
    // account is there too.
    let org = organization(&[active(OU_A, &a, "Tenant A"), active(OU_B, MGMT, "CAPA Management")]);
    let (spec, d) = o.discover(&org).await;
    assert!(d.selected.iter().any(|f| f.account.id == MGMT));
    assert!(!d.selected.iter().any(|f| f.account.id == ORG_MGMT));
    let accounts: Vec<&str> = spec.workloads.iter().map(|w| w.account.as_str()).collect();
    assert_eq!(accounts, [a.as_str()]);
    let p = o.plan(&org, Removals::Guarded).await;
    assert_eq!(p.summary.organization.unwrap().selected, 1);
}

#[tokio::test]
async fn grant_organization_takes_the_id_describe_organization_gives() {
    let a = acct(0);
    let mut o = Org::new(&[], &[OU_A], std::slice::from_ref(&a));
    o.grant = Grant::FromOrganization;
    let org = organization(&[active(OU_A, &a, "Tenant A")]);
    let (spec, _) = o.discover(&org).await;
    assert_eq!(spec.management.grant, Grant::Organization { org_id: ORG.into() });
    let p = o.plan(&org, Removals::Guarded).await;
    assert_eq!(
        change(&p, "assume_policy.management").after,
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "XacctAssumeWorkloadRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": [format!("arn:aws:iam::*:role/{ROLE}")],
            "Condition": {"StringEquals": {"aws:ResourceOrgID": ORG}}
        }]})
    );
}

// ---------------------------------------------------------------------------------------------
// The removal guard

#[test]
fn the_removal_guard_thresholds() {
    // More than one and more than a fifth.
    assert!(!removal_guard(0, 0, false));
    assert!(!removal_guard(1, 4, false), "1 of 4 is allowed");
    assert!(removal_guard(2, 4, false), "2 of 4 is refused");
    assert!(!removal_guard(2, 20, false), "2 of 20 is allowed");
    assert!(!removal_guard(2, 10, false), "exactly a fifth is allowed");
    assert!(removal_guard(3, 10, false));
    assert!(!removal_guard(1, 1, false), "one account alone is allowed");
    assert!(removal_guard(2, 2, false));
    // A selector that found nothing: refused for any removal at all.
    assert!(removal_guard(1, 4, true));
    assert!(removal_guard(1, 100, true));
    assert!(!removal_guard(0, 4, true), "nothing removed (the accounts were suspended): nothing to refuse");
}

/// `n` accounts in OU A, applied.
async fn applied(n: usize) -> (Org, Vec<String>) {
    let ids: Vec<String> = (0..n).map(acct).collect();
    let mut o = Org::new(&[], &[OU_A], &ids);
    let members: Vec<Member<'_>> = ids.iter().map(|id| active(OU_A, id, id)).collect();
    let p = o.converge(&organization(&members)).await;
    assert_eq!(p.summary.create, n + 1);
    (o, ids)
}

/// OU A with every account of `ids` but the first `gone`, which moved out.
fn without_first(ids: &[String], gone: usize) -> MemoryOrganization {
    let members: Vec<Member<'_>> = ids.iter().map(|id| active(OU_A, id, id)).collect();
    let mut org = organization(&members);
    for id in &ids[..gone] {
        org.move_account(id, OU_OUT);
    }
    org
}

const GUARD_HINT: &str = "a discovery that finds far fewer accounts than before is more often a wrong OU ID, a reorganisation or a lost permission than accounts that left: check `organization.workloads` and the reading role; if these accounts did leave, plan again with --allow-removals (nothing was written)";

#[tokio::test]
async fn two_of_four_leaving_is_refused_and_allowed_with_the_flag() {
    let (o, ids) = applied(4).await;
    let org = without_first(&ids, 2);
    let p = o.plan(&org, Removals::Guarded).await;
    assert!(!p.applyable);
    let e: Vec<_> = p.errors().collect();
    assert_eq!(e.len(), 1, "{:#?}", p.diagnostics);
    assert_eq!(
        e[0].message,
        "refusing to remove 2 of the 4 trust statements state holds for accounts discovered from AWS Organizations: more than one account and more than a fifth of them left the selection at once"
    );
    assert_eq!(e[0].hint.as_deref(), Some(GUARD_HINT));
    assert_eq!(e[0].address, None);

    let p = o.plan(&org, Removals::Allowed).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(p.summary.delete, 2);
    assert_eq!(
        warnings(&p),
        [(None, "--allow-removals overrides the removal guard: removing 2 of the 4 trust statements state holds for accounts discovered from AWS Organizations (more than one account and more than a fifth of them left the selection at once)".to_string(), None)]
    );
}

#[tokio::test]
async fn one_of_four_leaving_is_allowed_without_a_warning() {
    let (o, ids) = applied(4).await;
    let p = o.plan(&without_first(&ids, 1), Removals::Allowed).await;
    assert!(p.applyable && warnings(&p).is_empty(), "{:#?}", p.diagnostics);
    assert_eq!(p.summary.delete, 1);
}

#[tokio::test]
async fn two_of_twenty_leaving_is_allowed() {
    let (o, ids) = applied(20).await;
    let p = o.plan(&without_first(&ids, 2), Removals::Guarded).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(p.summary.delete, 2);
    let p = o.plan(&without_first(&ids, 5), Removals::Guarded).await;
    assert!(!p.applyable, "5 of 20 is more than a fifth");
}

#[tokio::test]
async fn a_selector_that_finds_nothing_is_refused_even_for_one_removal() {
    // Three accounts from OU A, one from OU B; B's one account moves out.
    let ids: Vec<String> = (0..4).map(acct).collect();
    let mut o = Org::new(&[], &[OU_A, OU_B], &ids);
    let members: Vec<Member<'_>> =
        ids.iter().enumerate().map(|(i, id)| active(if i < 3 { OU_A } else { OU_B }, id, id)).collect();
    o.converge(&organization(&members)).await;
    assert_eq!(o.stored("trust.account-222222222225").org_ou.as_deref(), Some(OU_B));
    let mut org = organization(&members);
    org.move_account(&ids[3], OU_OUT);

    let p = o.plan(&org, Removals::Guarded).await;
    assert_eq!(
        errors(&p),
        ["refusing to remove 1 of the 4 trust statements state holds for accounts discovered from AWS Organizations: `organization.workloads[1]` (`ou-ab12-22222222`) found no ACTIVE account"]
    );
    assert!(!p.applyable);
    let p = o.plan(&org, Removals::Allowed).await;
    assert!(p.applyable);
    assert_eq!(warnings(&p).len(), 1);
    assert!(warnings(&p)[0].1.ends_with("(`organization.workloads[1]` (`ou-ab12-22222222`) found no ACTIVE account)"));
}

#[tokio::test]
async fn a_selector_that_finds_nothing_names_every_such_selector_and_zero_found_is_refused() {
    // Everything gone: a wrong OU ID or a lost permission looks like this.
    let ids: Vec<String> = (0..2).map(acct).collect();
    let mut o = Org::new(&[], &[OU_A, OU_B], &ids);
    let members = [active(OU_A, &ids[0], "Tenant A"), active(OU_B, &ids[1], "Tenant B")];
    o.converge(&organization(&members)).await;
    let p = o.plan(&organization(&[]), Removals::Guarded).await;
    assert_eq!(
        errors(&p),
        ["refusing to remove 2 of the 2 trust statements state holds for accounts discovered from AWS Organizations: `organization.workloads[0]` (`ou-ab12-11111111`) found no ACTIVE account; `organization.workloads[1]` (`ou-ab12-22222222`) found no ACTIVE account"]
    );
}

#[tokio::test]
async fn suspended_accounts_do_not_count_as_removals() {
    // All three of a selector's accounts suspended: forgotten, not refused.
    let (o, ids) = applied(3).await;
    let members: Vec<Member<'_>> =
        ids.iter().map(|id| (OU_A, id.as_str(), id.as_str(), AccountState::Suspended)).collect();
    let p = o.plan(&organization(&members), Removals::Guarded).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    // The assume policy goes, with no workload left to grant.
    assert_eq!((p.summary.forget, p.summary.delete), (3, 1));
    assert_eq!(actions(&p)["assume_policy.management"], Action::Delete);
}

#[tokio::test]
async fn destroy_has_no_guard_and_forgets_suspended_accounts() {
    let (o, ids) = applied(3).await;
    let mut members: Vec<Member<'_>> = ids.iter().map(|id| active(OU_A, id, id)).collect();
    members[0].3 = AccountState::Suspended;
    let (mut spec, d) = o.discover(&organization(&members)).await;
    spec.workloads.clear();
    let opts = PlanOptions { organization: Some(d), removals: Removals::Destroy, ..PlanOptions::default() };
    let cloud: Arc<dyn Cloud> = o.w.cloud.clone();
    let p = xacct_plan::plan(&spec, b"", o.w.state(), cloud, &opts, &()).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!((p.summary.delete, p.summary.forget), (3, 1), "two statements and the assume policy; one forget");
    assert!(change(&p, "trust.account-222222222222").unreachable);
    assert_eq!(change(&p, "trust.account-222222222223").reason.as_deref(), Some("no longer in the file"));
}

#[tokio::test]
async fn a_departed_account_is_reached_with_its_selectors_access() {
    let (a, b) = (acct(0), acct(1));
    let mut o = Org::new(&[], &[OU_A, OU_B], &[a.clone(), b.clone()]);
    let reader = Access::AssumeRole {
        role: xacct_spec::AssumeTarget::Name("TenantAdmin".into()),
        external_id: None,
        session_name: None,
    };
    o.selectors[1].access = reader.clone();
    let org = organization(&[active(OU_A, &a, "Tenant A"), active(OU_B, &b, "Tenant B")]);
    o.converge(&org).await;
    let mut moved = organization(&[active(OU_A, &a, "Tenant A"), active(OU_B, &b, "Tenant B")]);
    moved.move_account(&b, OU_OUT);
    let (spec, _) = o.discover(&moved).await;
    assert_eq!(merge::departed_access(&spec, o.w.state()), BTreeMap::from([(b.clone(), reader)]));
    // A selector moved in the file is still found by its OU; one removed from it is not.
    let mut file = spec.clone();
    file.organization.as_mut().unwrap().selectors.reverse();
    assert_eq!(merge::departed_access(&file, o.w.state()).len(), 1);
    file.organization.as_mut().unwrap().selectors.remove(0);
    assert!(merge::departed_access(&file, o.w.state()).is_empty());
}

#[tokio::test]
async fn old_state_without_the_marker_still_loads() {
    let t: StoredTrust = serde_json::from_value(json!({
        "account": acct(0), "role": ROLE, "sid": "XacctTrust111111111111", "statement": our_statement()
    }))
    .unwrap();
    assert!(!t.discovered());
    assert_eq!(serde_json::to_value(&t).unwrap().get("org_selector"), None);
}

#[tokio::test]
async fn an_account_that_left_with_its_role_gone_is_forgotten_and_counts_as_a_removal() {
    let (mut o, ids) = applied(4).await;
    // Account 3 leaves, and its role is gone (the cloud rebuilt without it).
    let cloud = Arc::new(MemoryCloud::new());
    cloud.add_role(MGMT, ROLE, &o.w.cloud.trust(MGMT, ROLE).unwrap());
    cloud.set_policy(MGMT, ROLE, POLICY, o.w.cloud.policy(MGMT, ROLE, POLICY).as_deref());
    for id in &ids[..3] {
        cloud.add_role(id, ROLE, &o.w.cloud.trust(id, ROLE).unwrap());
    }
    o.w.cloud = cloud;
    let members: Vec<Member<'_>> = ids.iter().map(|id| active(OU_A, id, id)).collect();
    let mut org = organization(&members);
    org.move_account(&ids[3], OU_OUT);
    let p = o.plan(&org, Removals::Guarded).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let c = change(&p, "trust.account-222222222225");
    assert_eq!(c.action(), Action::Forget);
    assert!(!c.unreachable);
    assert_eq!(
        c.reason.as_deref(),
        Some("account 222222222225 left the AWS Organizations selection, and the statement is already gone")
    );
    // Two such (2 of 4) are refused like deletes.
    org.move_account(&ids[2], OU_OUT);
    let p = o.plan(&org, Removals::Guarded).await;
    assert_eq!(errors(&p).len(), 1, "{:#?}", p.diagnostics);
    assert!(errors(&p)[0].starts_with("refusing to remove 2 of the 4 trust statements"), "{:#?}", p.diagnostics);
}
