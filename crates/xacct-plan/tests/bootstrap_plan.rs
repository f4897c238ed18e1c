//! Planning bootstrap (CAPA's prerequisite IAM) on `MemoryIam`: creates in dependency order, an
//! empty second plan read in bulk (its exact calls), every drift row, adoption with and without
//! `adopt`, foreign statements and attachments left alone, destroy's order, an account with
//! `bootstrap: false`, the inline budget with the assume policy, DKP's profile.
//!
//! The bootstrap steps are applied here by running their `IamOp`s through `MemoryIam`, as the
//! executor does.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{json, Value};
use tempfile::TempDir;
use xacct_plan::iam::memory::MemoryIam;
use xacct_plan::iam::step::{edit_trust_document, IamOp, IamStep};
use xacct_plan::iam::{IamCloud, IamPrincipal};
use xacct_plan::memory::MemoryCloud;
use xacct_plan::{plan, Action, Change, Cloud, DriftKind, Level, Plan, PlanOptions, Removals, Target};
use xacct_spec::Spec;
use xacct_state::{ResourceState, State};

const MGMT: &str = "111111111111";
const DEV: &str = "222222222222";
const LEGACY: &str = "333333333333";
const SFX: &str = ".cluster-api-provider-aws.sigs.k8s.io";

fn n(base: &str) -> String {
    format!("{base}{SFX}")
}

fn controllers() -> String {
    n("controllers")
}

fn addr(kind: &str, account: &str, name: &str) -> String {
    format!("{kind}.{account}[\"{name}\"]")
}

struct World {
    dir: TempDir,
    iam: Arc<MemoryIam>,
    state: State,
    text: String,
}

impl World {
    fn new(text: &str) -> World {
        let w = World {
            dir: tempfile::tempdir().unwrap(),
            iam: Arc::new(MemoryIam::new()),
            state: State::new("test"),
            text: text.to_string(),
        };
        std::fs::write(w.dir.path().join("xacct.yaml"), text).unwrap();
        w
    }

    fn set_text(&mut self, text: &str) {
        self.text = text.to_string();
        std::fs::write(self.dir.path().join("xacct.yaml"), text).unwrap();
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.dir.path().join(rel), text).unwrap();
    }

    fn spec(&self) -> Spec {
        match xacct_spec::parse_str(&self.dir.path().join("xacct.yaml"), &self.text) {
            Ok(l) => l.spec,
            Err(e) => panic!("invalid test spec: {e}\n{}", self.text),
        }
    }

    async fn plan_with(&self, spec: &Spec, opts: &PlanOptions) -> Plan {
        let cloud: Arc<dyn Cloud> = self.iam.clone();
        plan(spec, self.text.as_bytes(), Some(&self.state), cloud, opts, &()).await
    }

    async fn plan(&self) -> Plan {
        self.plan_with(&self.spec(), &PlanOptions::default()).await
    }

    async fn destroy_plan(&self) -> Plan {
        let mut spec = self.spec();
        spec.workloads.clear();
        self.plan_with(&spec, &PlanOptions { removals: Removals::Destroy, ..PlanOptions::default() }).await
    }

    /// Apply `plan` as the executor does: changes in `depends_on` order, each bootstrap step's
    /// operations through `MemoryIam`, trust and inline-policy writes conflict-checked against
    /// the plan's `live`, then `state_after` recorded. Returns the addresses in applied order.
    async fn apply(&mut self, plan: &Plan) -> Vec<String> {
        assert!(plan.applyable, "plan is not applyable: {:#?}", plan.diagnostics);
        let mut done: BTreeSet<String> = BTreeSet::new();
        let present: BTreeSet<String> = plan.changes.iter().map(|c| c.address.to_string()).collect();
        let mut order = Vec::new();
        while done.len() < plan.changes.len() {
            let next = plan
                .changes
                .iter()
                .find(|c| {
                    !done.contains(&c.address.to_string())
                        && c.depends_on
                            .iter()
                            .all(|d| done.contains(&d.to_string()) || !present.contains(&d.to_string()))
                })
                .unwrap_or_else(|| {
                    let left: Vec<(String, Vec<String>)> = plan
                        .changes
                        .iter()
                        .filter(|c| !done.contains(&c.address.to_string()))
                        .map(|c| (c.address.to_string(), c.depends_on.iter().map(ToString::to_string).collect()))
                        .collect();
                    panic!("the plan's dependencies have a cycle: {left:#?}")
                });
            self.apply_one(next).await;
            done.insert(next.address.to_string());
            order.push(next.address.to_string());
        }
        order
    }

    async fn apply_one(&mut self, c: &Change) {
        if c.action().writes() {
            match &c.target {
                Target::Trust { account, role } => {
                    let live = c.live.as_deref().expect("a trust change carries the live document");
                    self.iam.update_trust_policy(account, role, live, c.write.as_deref().unwrap()).await.unwrap();
                }
                Target::InlinePolicy { account, role, policy } => match c.action() {
                    Action::Delete => {
                        self.iam.delete_role_policy(account, role, policy, c.live.as_deref().unwrap()).await.unwrap()
                    }
                    _ => self
                        .iam
                        .put_role_policy(account, role, policy, c.live.as_deref(), c.write.as_deref().unwrap())
                        .await
                        .unwrap(),
                },
                Target::Iam { .. } => {
                    let step =
                        IamStep::from_write(c.write.as_deref().expect("a bootstrap change carries its step")).unwrap();
                    for op in &step.ops {
                        run_op(&self.iam, &step.account, op).await;
                    }
                }
                Target::Role { .. } | Target::Manifest { .. } => {}
            }
        } else {
            assert!(c.write.is_none(), "{}: {:?} carries a write", c.address, c.action());
        }
        let key = c.address.to_string();
        if c.state_after.is_null() {
            self.state.resources.remove(&key);
        } else if c.action() != Action::NoOp {
            self.state.insert(key, ResourceState { kind: c.kind.clone(), attributes: c.state_after.clone() });
        }
    }

    async fn converge(&mut self) -> Plan {
        let p = self.plan().await;
        self.apply(&p).await;
        p
    }
}

async fn run_op(iam: &MemoryIam, account: &str, op: &IamOp) {
    let r = match op {
        IamOp::CreateRole { role } => iam.create_role(account, role).await.map(drop),
        IamOp::UpdateRole { role, description, max_session_duration } => {
            iam.update_role(account, role, description.as_deref(), *max_session_duration).await
        }
        IamOp::EditTrust { role, remove, add } => {
            let live = iam.get_role(account, role).await.unwrap().unwrap().trust_policy;
            let doc: Value = serde_json::from_str(&live).unwrap();
            match edit_trust_document(&doc, remove, add, Some("aws")).unwrap() {
                Some(new) => iam.update_trust_policy(account, role, &live, &new.to_string()).await,
                None => Ok(()),
            }
        }
        IamOp::PutRolePolicy { role, policy, document } => {
            let live = iam.get_role_policy(account, role, policy).await.unwrap();
            iam.put_role_policy(account, role, policy, live.as_deref(), &document.to_string()).await
        }
        IamOp::DeleteRolePolicy { role, policy } => match iam.get_role_policy(account, role, policy).await.unwrap() {
            Some(live) => iam.delete_role_policy(account, role, policy, &live).await,
            None => Ok(()),
        },
        IamOp::DeleteRole { role } => iam.delete_role(account, role).await,
        IamOp::CreateInstanceProfile { profile, path } => {
            iam.create_instance_profile(account, profile, path).await.map(drop)
        }
        IamOp::AddRoleToInstanceProfile { profile, role } => {
            iam.add_role_to_instance_profile(account, profile, role).await
        }
        IamOp::RemoveRoleFromInstanceProfile { profile, role } => {
            iam.remove_role_from_instance_profile(account, profile, role).await
        }
        IamOp::DeleteInstanceProfile { profile } => iam.delete_instance_profile(account, profile).await,
        IamOp::CreatePolicy { policy } => iam.create_policy(account, policy).await.map(drop),
        IamOp::CreatePolicyVersion { policy_arn, document } => {
            iam.create_policy_version(account, policy_arn, document).await.map(drop)
        }
        IamOp::DeletePolicy { policy_arn } => iam.delete_policy(account, policy_arn).await,
        IamOp::Attach { to, policy_arn } => iam.attach_policy(account, to, policy_arn).await,
        IamOp::Detach { to, policy_arn } => iam.detach_policy(account, to, policy_arn).await,
        IamOp::CreateUser { user } => iam.create_user(account, user).await.map(drop),
        IamOp::DeleteUser { user } => iam.delete_user(account, user).await,
        IamOp::CreateGroup { group, path } => iam.create_group(account, group, path).await.map(drop),
        IamOp::DeleteGroup { group } => iam.delete_group(account, group).await,
        IamOp::AddUserToGroup { user, group } => iam.add_user_to_group(account, user, group).await,
        IamOp::RemoveUserFromGroup { user, group } => iam.remove_user_from_group(account, user, group).await,
        IamOp::PutUserPolicy { user, policy, document } => iam.put_user_policy(account, user, policy, document).await,
        IamOp::DeleteUserPolicy { user, policy } => iam.delete_user_policy(account, user, policy).await,
    };
    r.unwrap_or_else(|e| panic!("{op:?} in {account}: {e}"));
}

fn change<'p>(plan: &'p Plan, address: &str) -> &'p Change {
    plan.changes.iter().find(|c| c.address.to_string() == address).unwrap_or_else(|| {
        panic!(
            "no change for `{address}` in {:#?}",
            plan.changes.iter().map(|c| c.address.to_string()).collect::<Vec<_>>()
        )
    })
}

fn step(c: &Change) -> Vec<IamOp> {
    IamStep::from_write(c.write.as_deref().unwrap_or_else(|| panic!("{} writes nothing", c.address))).unwrap().ops
}

fn pending(plan: &Plan) -> Vec<(String, Action)> {
    plan.pending().map(|c| (c.address.to_string(), c.action())).collect()
}

fn errors(plan: &Plan) -> Vec<String> {
    plan.errors().map(|d| d.message.clone()).collect()
}

/// Management and `dev` bootstrapped with clusterawsadm's default set; `legacy` not.
const BOTH: &str = "version: 1
bootstrap: { profile: capa }
management: { account: \"111111111111\" }
workloads:
  - { name: dev, account: \"222222222222\" }
";

fn with_adopt(text: &str) -> String {
    text.replace("bootstrap: { profile: capa }", "bootstrap: { profile: capa, adopt: true }")
}

/// Every entity of clusterawsadm's default set in one account, by address kind.
fn capa_addresses(account: &str) -> Vec<String> {
    let mut v = Vec::new();
    for r in ["control-plane", "controllers", "nodes"] {
        v.push(addr("iam_role", account, &n(r)));
        v.push(addr("iam_policy", account, &n(r)));
    }
    v.push(addr("iam_role", account, "eks-controlplane.cluster-api-provider-aws.sigs.k8s.io"));
    v.push(addr("iam_policy", account, &n("controllers-eks")));
    for r in ["control-plane", "controllers", "nodes"] {
        v.push(addr("iam_instance_profile", account, &n(r)));
    }
    v.sort();
    v
}

#[tokio::test]
async fn an_empty_account_gets_the_set_in_dependency_order() {
    let w = World::new(BOTH);
    let p = w.plan().await;
    assert!(errors(&p).is_empty(), "{:#?}", p.diagnostics);
    let mut iam: Vec<String> =
        p.changes.iter().filter(|c| c.kind.starts_with("iam_")).map(|c| c.address.to_string()).collect();
    iam.sort();
    let mut want = capa_addresses("dev");
    want.extend(capa_addresses("management"));
    want.sort();
    assert_eq!(iam, want);
    assert!(p.changes.iter().filter(|c| c.kind.starts_with("iam_")).all(|c| c.action() == Action::Create));
    // No role precondition for a bootstrapped account.
    assert!(p.changes.iter().all(|c| c.kind != "role"), "{:?}", pending(&p));
    // The role xacct makes is the CAPA role: the set's controller role.
    let ctl = addr("iam_role", "dev", &controllers());
    let deps = |a: &str| change(&p, a).depends_on.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(
        deps(&ctl),
        [addr("iam_policy", "dev", &n("controllers-eks")), addr("iam_policy", "dev", &controllers())]
    );
    assert_eq!(deps(&addr("iam_instance_profile", "dev", &n("nodes"))), [addr("iam_role", "dev", &n("nodes"))]);
    assert_eq!(
        deps("trust.dev"),
        [addr("iam_role", "dev", &controllers()), addr("iam_role", "management", &controllers())]
    );
    assert_eq!(
        deps("assume_policy.management"),
        [addr("iam_role", "dev", &controllers()), addr("iam_role", "management", &controllers())]
    );
    // The role's step: create, then its attachments, in that order.
    let ops = step(change(&p, &ctl));
    assert!(matches!(&ops[0], IamOp::CreateRole { role } if role.name == controllers()));
    let attached: Vec<&str> = ops
        .iter()
        .filter_map(|o| match o {
            IamOp::Attach { policy_arn, .. } => Some(policy_arn.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        attached,
        [
            format!("arn:aws:iam::{DEV}:policy/{}", n("controllers-eks")),
            format!("arn:aws:iam::{DEV}:policy/{}", controllers()),
        ]
    );
    // The trust change expects the document the role will be created with.
    let t = change(&p, "trust.dev");
    let live: Value = serde_json::from_str(t.live.as_deref().unwrap()).unwrap();
    let created = match &ops[0] {
        IamOp::CreateRole { role } => role.trust.clone(),
        _ => unreachable!(),
    };
    assert_eq!(live, created);
    let written: Value = serde_json::from_str(t.write.as_deref().unwrap()).unwrap();
    assert_eq!(written["Statement"].as_array().unwrap().len(), created["Statement"].as_array().unwrap().len() + 1);
    assert_eq!(
        written["Statement"].as_array().unwrap().last().unwrap()["Principal"]["AWS"],
        json!(format!("arn:aws:iam::{MGMT}:role/{}", controllers()))
    );
    // Nothing is read but one bulk read per account (MemoryIam counts no AssumeRole).
    assert_eq!(p.summary.aws_calls, 2);
}

#[tokio::test]
async fn after_apply_a_second_plan_is_empty_and_costs_one_page_per_account() {
    let mut w = World::new(BOTH);
    let first = w.converge().await;
    let s = w.iam.snapshot(DEV);
    assert_eq!(s.roles.len(), 4);
    assert_eq!(s.policies.len(), 4);
    assert_eq!(s.instance_profiles.len(), 3);
    let trust = &s.roles[&controllers()].trust;
    assert_eq!(trust["Statement"].as_array().unwrap().len(), 2, "{trust}");
    let mgmt = w.iam.snapshot(MGMT);
    assert!(mgmt.roles[&controllers()].inline_policies.contains_key("xacct-assume-workload-roles"));
    assert_eq!(first.summary.create, 22 + 2);
    w.iam.reset_calls();
    let p = w.plan().await;
    assert!(!p.has_changes(), "{:#?}", pending(&p));
    assert!(p.diagnostics.is_empty(), "{:#?}", p.diagnostics);
    // AssumeRole is not counted by MemoryIam: one GetAccountAuthorizationDetails page each.
    assert_eq!(p.summary.aws_calls, 2);
    assert_eq!(w.iam.call_count(), 2);
}

#[tokio::test]
async fn more_pages_cost_one_call_each() {
    let mut w = World::new(BOTH);
    w.iam = Arc::new(MemoryIam::with_page_size(3));
    w.converge().await;
    w.iam.reset_calls();
    let p = w.plan().await;
    assert!(!p.has_changes(), "{:#?}", pending(&p));
    // 8 entities in pages of 3: 3 calls per account.
    assert_eq!(p.summary.aws_calls, 6);
}

#[tokio::test]
async fn drift_rows() {
    let mut w = World::new(BOTH);
    w.converge().await;
    let ctl = controllers();
    let ctl_arn = format!("arn:aws:iam::{DEV}:policy/{ctl}");
    // A policy xacct attached was detached.
    w.iam.edit(DEV, |a| a.roles.get_mut(&ctl).unwrap().attached_policies.retain(|p| *p != ctl_arn));
    // A base trust statement was removed from the nodes role.
    w.iam.edit(DEV, |a| a.roles.get_mut(&n("nodes")).unwrap().trust["Statement"] = json!([]));
    // The nodes policy's default document was changed.
    w.iam.edit(DEV, |a| {
        let p = a.policies.get_mut(&n("nodes")).unwrap();
        for v in &mut p.versions {
            if v.is_default {
                v.document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
            }
        }
    });
    // The control-plane role was deleted (with what held on to it).
    w.iam.edit(DEV, |a| {
        a.roles.remove(&n("control-plane"));
        a.instance_profiles.get_mut(&n("control-plane")).unwrap().roles.clear();
    });
    let p = w.plan().await;
    assert!(errors(&p).is_empty(), "{:#?}", p.diagnostics);
    let mut rows = pending(&p);
    rows.sort();
    assert_eq!(
        rows,
        [
            (addr("iam_instance_profile", "dev", &n("control-plane")), Action::Update),
            (addr("iam_policy", "dev", &n("nodes")), Action::Update),
            (addr("iam_role", "dev", &n("control-plane")), Action::Create),
            (addr("iam_role", "dev", &ctl), Action::Update),
            (addr("iam_role", "dev", &n("nodes")), Action::Update),
        ]
    );
    let c = change(&p, &addr("iam_role", "dev", &ctl));
    assert!(c.drift);
    assert_eq!(step(c), [IamOp::Attach { to: IamPrincipal::Role(ctl.clone()), policy_arn: ctl_arn.clone() }]);
    let c = change(&p, &addr("iam_role", "dev", &n("nodes")));
    assert!(c.drift);
    assert!(matches!(&step(c)[..], [IamOp::EditTrust { remove, add, .. }] if remove.is_empty() && add.len() == 1));
    let c = change(&p, &addr("iam_policy", "dev", &n("nodes")));
    assert!(c.drift);
    assert!(matches!(&step(c)[..], [IamOp::CreatePolicyVersion { .. }]));
    let c = change(&p, &addr("iam_role", "dev", &n("control-plane")));
    assert!(c.drift);
    let kinds: Vec<(String, DriftKind)> = p.drift.iter().map(|d| (d.address.to_string(), d.kind)).collect();
    assert!(kinds.contains(&(addr("iam_role", "dev", &n("control-plane")), DriftKind::Deleted)), "{kinds:?}");
    assert!(kinds.contains(&(addr("iam_policy", "dev", &n("nodes")), DriftKind::Modified)), "{kinds:?}");
    assert_eq!(p.drift.len(), 5, "{kinds:?}");
    w.apply(&p).await;
    let again = w.plan().await;
    assert!(!again.has_changes(), "{:#?}", pending(&again));
}

#[tokio::test]
async fn existing_resources_need_adopt_and_are_adopted_or_updated() {
    let mut w = World::new(BOTH);
    w.converge().await;
    // Forget everything: the resources are now someone else's (a CloudFormation stack's).
    w.state = State::new("test");
    let p = w.plan().await;
    let errs = errors(&p);
    assert_eq!(errs.len(), 22, "{errs:#?}");
    assert!(
        errs.contains(&format!("role `{}` already exists in account {DEV} and xacct does not own it", controllers()))
    );
    let d = p.diagnostics.iter().find(|d| d.severity == Level::Error).unwrap();
    assert_eq!(
        d.hint.as_deref(),
        Some("to take it over (e.g. from a CloudFormation stack), set `bootstrap: { …, adopt: true }` for account `management`; or delete or rename it")
    );
    assert!(!p.applyable);

    // An outdated controllers policy with five versions.
    let ctl_arn = format!("arn:aws:iam::{DEV}:policy/{}", controllers());
    let current = w.iam.snapshot(DEV).policies[&controllers()].default_document().unwrap().clone();
    for i in 2..=5 {
        let old = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": format!("ec2:Describe{i}"), "Resource": "*"}]});
        w.iam.create_policy_version(DEV, &ctl_arn, &old).await.unwrap();
    }
    let versions: Vec<(String, bool)> =
        w.iam.snapshot(DEV).policies[&controllers()].versions.iter().map(|v| (v.id.clone(), v.is_default)).collect();
    assert_eq!(versions.len(), 5);
    assert_eq!(versions[4], ("v5".to_string(), true));
    w.set_text(&with_adopt(BOTH));
    let p = w.plan().await;
    assert!(errors(&p).is_empty(), "{:#?}", p.diagnostics);
    let rows = pending(&p);
    let updates: Vec<&String> = rows.iter().filter(|(_, a)| *a == Action::Update).map(|(a, _)| a).collect();
    assert_eq!(updates, [&addr("iam_policy", "dev", &controllers())]);
    assert_eq!(rows.iter().filter(|(_, a)| *a == Action::Adopt).count(), 21 + 2, "{rows:#?}");
    let c = change(&p, &addr("iam_policy", "dev", &controllers()));
    assert!(!c.drift);
    assert_eq!(step(c), [IamOp::CreatePolicyVersion { policy_arn: ctl_arn.clone(), document: current.clone() }]);
    w.apply(&p).await;
    let pol = &w.iam.snapshot(DEV).policies[&controllers()];
    let ids: Vec<&str> = pol.versions.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["v2", "v3", "v4", "v5", "v6"], "the oldest non-default version went first");
    assert_eq!(pol.default_document(), Some(&current));
    let entry = &w.state.resources[&addr("iam_role", "dev", &controllers())];
    assert_eq!(entry.attributes["adopted"], json!(true));
    assert!(!w.plan().await.has_changes());
}

#[tokio::test]
async fn an_adopted_update_shows_only_xacct_s_parts_going() {
    let mut w = World::new(BOTH);
    w.converge().await;
    let ctl = controllers();
    // The stack's role, with one of the set's attachments missing and somebody else's added.
    let theirs = "arn:aws:iam::aws:policy/ReadOnlyAccess".to_string();
    let mut missing = String::new();
    w.iam.edit(DEV, |a| {
        let r = a.roles.get_mut(&ctl).unwrap();
        missing = r.attached_policies.remove(0);
        r.attached_policies.push(theirs.clone());
    });
    w.state = State::new("test");
    w.set_text(&with_adopt(BOTH));
    let p = w.plan().await;
    assert!(errors(&p).is_empty(), "{:#?}", p.diagnostics);
    let c = change(&p, &addr("iam_role", "dev", &ctl));
    assert_eq!(c.action(), Action::Update);
    let before: Vec<&str> = c.before["attachments"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let after: Vec<&str> = c.after["attachments"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(!before.contains(&theirs.as_str()), "somebody else's attachment is not xacct's part: {before:?}");
    assert!(!before.contains(&missing.as_str()));
    assert!(after.contains(&missing.as_str()));
    assert!(!after.contains(&theirs.as_str()));
    assert_eq!(step(c), [IamOp::Attach { to: IamPrincipal::Role(ctl.clone()), policy_arn: missing.clone() }]);
}

#[tokio::test]
async fn foreign_statements_and_attachments_survive_and_destroy_keeps_the_role() {
    let mut w = World::new(BOTH);
    w.converge().await;
    let ctl = controllers();
    let foreign = json!({"Sid": "Theirs", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"}, "Action": "sts:AssumeRole"});
    let theirs = "arn:aws:iam::aws:policy/ReadOnlyAccess".to_string();
    w.iam.edit(DEV, |a| {
        let r = a.roles.get_mut(&ctl).unwrap();
        r.trust["Statement"].as_array_mut().unwrap().push(foreign.clone());
        r.attached_policies.push(theirs.clone());
        r.inline_policies.insert("theirs".into(), json!({"Version": "2012-10-17", "Statement": []}));
    });
    let p = w.plan().await;
    assert!(!p.has_changes(), "{:#?}", pending(&p));

    let d = w.destroy_plan().await;
    assert!(errors(&d).is_empty(), "{:#?}", d.diagnostics);
    let c = change(&d, &addr("iam_role", "dev", &ctl));
    assert_eq!(c.action(), Action::Delete);
    let ops = step(c);
    assert!(!ops.iter().any(|o| matches!(o, IamOp::DeleteRole { .. })), "{ops:?}");
    assert!(!ops.iter().any(|o| matches!(o, IamOp::Detach { policy_arn, .. } if *policy_arn == theirs)));
    assert!(matches!(ops.last(), Some(IamOp::EditTrust { add, .. }) if add.is_empty()));
    let warned: Vec<&str> =
        d.diagnostics.iter().filter(|d| d.severity == Level::Warning).map(|d| d.message.as_str()).collect();
    assert!(
        warned.iter().any(|m| m.starts_with(&format!(
            "role `{ctl}` in account {DEV} keeps managed policies xacct did not attach (`{theirs}`)"
        ))),
        "{warned:#?}"
    );
    w.apply(&d).await;
    let s = w.iam.snapshot(DEV);
    let left = &s.roles[&ctl];
    assert_eq!(left.attached_policies, std::slice::from_ref(&theirs));
    assert_eq!(left.trust["Statement"], json!([foreign]));
    assert_eq!(left.inline_policies.keys().collect::<Vec<_>>(), ["theirs"]);
    assert_eq!(s.roles.len(), 1, "{:?}", s.roles.keys());
    assert!(s.policies.is_empty() && s.instance_profiles.is_empty());
    assert!(w.iam.snapshot(MGMT).is_empty(), "{:?}", w.iam.snapshot(MGMT));
    assert!(w.state.resources.is_empty(), "{:?}", w.state.resources.keys());
}

#[tokio::test]
async fn destroy_removes_in_reverse_order() {
    let mut w = World::new(BOTH);
    w.converge().await;
    let d = w.destroy_plan().await;
    assert!(errors(&d).is_empty(), "{:#?}", d.diagnostics);
    assert!(d.changes.iter().filter(|c| c.kind.starts_with("iam_")).all(|c| c.action() == Action::Delete));
    let ctl = addr("iam_role", "dev", &controllers());
    let deps: Vec<String> = change(&d, &ctl).depends_on.iter().map(ToString::to_string).collect();
    assert_eq!(deps, ["trust.dev".to_string(), addr("iam_instance_profile", "dev", &controllers())]);
    let pdeps: Vec<String> =
        change(&d, &addr("iam_policy", "dev", &controllers())).depends_on.iter().map(ToString::to_string).collect();
    assert!(pdeps.contains(&ctl));
    let mctl = addr("iam_role", "management", &controllers());
    let mdeps: Vec<String> = change(&d, &mctl).depends_on.iter().map(ToString::to_string).collect();
    assert_eq!(
        mdeps,
        ["assume_policy.management".to_string(), addr("iam_instance_profile", "management", &controllers())]
    );
    let ops = step(change(&d, &addr("iam_instance_profile", "dev", &controllers())));
    assert_eq!(
        ops,
        [
            IamOp::RemoveRoleFromInstanceProfile { profile: controllers(), role: controllers() },
            IamOp::DeleteInstanceProfile { profile: controllers() }
        ]
    );
    let ops = step(change(&d, &ctl));
    assert!(matches!(ops.last(), Some(IamOp::DeleteRole { .. })), "{ops:?}");
    assert!(ops[..ops.len() - 1].iter().all(|o| matches!(o, IamOp::Detach { .. })), "{ops:?}");
    w.apply(&d).await;
    assert!(w.iam.snapshot(DEV).is_empty(), "{:?}", w.iam.snapshot(DEV));
    assert!(w.iam.snapshot(MGMT).is_empty());
    assert!(w.state.resources.is_empty(), "{:?}", w.state.resources.keys());
    // Gone already: forgotten.
    let again = w.destroy_plan().await;
    assert!(!again.has_changes());
}

#[tokio::test]
async fn an_account_that_leaves_bootstrap_is_deleted_and_a_false_account_is_as_before() {
    let text =
        format!("{BOTH}  - {{ name: legacy, account: \"{LEGACY}\", role: {{ name: capa-role }}, bootstrap: false }}\n");
    let mut w = World::new(&text);
    // A hand-made role in the legacy account, the way CAPA's stack would make it.
    w.iam
        .create_role(
            LEGACY,
            &xacct_plan::iam::NewRole {
                name: "capa-role".into(),
                path: "/".into(),
                trust: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    w.iam.reset_calls();
    let p = w.plan().await;
    assert!(errors(&p).is_empty(), "{:#?}", p.diagnostics);
    assert_eq!(change(&p, "role.legacy").action(), Action::NoOp);
    let deps: Vec<String> = change(&p, "trust.legacy").depends_on.iter().map(ToString::to_string).collect();
    assert_eq!(deps, ["role.legacy".to_string(), addr("iam_role", "management", &controllers())]);
    assert!(p.changes.iter().all(|c| c.address.workload() != Some("legacy") || !c.kind.starts_with("iam_")));
    // Two bulk reads, and GetRole for the legacy role as before.
    assert_eq!(p.summary.aws_calls, 3);
    w.apply(&p).await;

    // dev leaves the file: its entities and its trust statement are deleted, legacy stays as it is.
    let dropped = text.replace("  - { name: dev, account: \"222222222222\" }\n", "");
    w.set_text(&dropped);
    let p = w.plan().await;
    assert!(errors(&p).is_empty(), "{:#?}", p.diagnostics);
    let mut deletes: Vec<String> =
        p.changes.iter().filter(|c| c.action() == Action::Delete).map(|c| c.address.to_string()).collect();
    deletes.sort();
    let mut want = capa_addresses("dev");
    want.push("trust.dev".into());
    want.sort();
    assert_eq!(deletes, want);
    assert_eq!(change(&p, "trust.legacy").action(), Action::NoOp);
    assert_eq!(change(&p, "assume_policy.management").action(), Action::Update);
    w.apply(&p).await;
    assert!(w.iam.snapshot(DEV).is_empty(), "{:?}", w.iam.snapshot(DEV));
    assert_eq!(w.iam.snapshot(LEGACY).roles["capa-role"].trust["Statement"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_inline_budget_counts_the_assume_policy() {
    // extraStatements on the controllers role just under the budget alone.
    let mut stmts = String::new();
    for i in 0..65 {
        stmts.push_str(&format!(
            "      - {{ Effect: Allow, Action: [\"s3:GetObject\"], Resource: [\"arn:aws:s3:::bucket-with-a-long-name-{i:04}-abcdefghijklmnopqrstuvwxyz0123456789/*\"] }}\n"
        ));
    }
    let config = format!(
        "apiVersion: bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1\nkind: AWSIAMConfiguration\nspec:\n  clusterAPIControllers:\n    extraStatements:\n{stmts}"
    );
    let mut text =
        "version: 1\nmanagement: { account: \"111111111111\", bootstrap: { config: capa-iam.yaml } }\nworkloads:\n"
            .to_string();
    for i in 0..30 {
        text.push_str(&format!("  - {{ name: w{i}, account: \"{:012}\" }}\n", 222_222_222_222u64 + i));
    }
    let text = text.as_str();
    let w = World::new(text);
    w.write("capa-iam.yaml", &config);
    let spec = w.spec();
    let (prepared, _) = xacct_plan::bootstrap::expand(&spec).expect("the set alone fits");
    let set = &prepared.accounts[0].set;
    let inline = set.role(&controllers()).unwrap().inline_size();
    let assume = xacct_policy::iam_size(&prepared.spec.assume_policy_document().to_string());
    assert!(inline < 10_240 && inline + assume > 10_240, "{inline} + {assume}");
    let p = w.plan().await;
    let errs: Vec<String> = p
        .errors()
        .filter(|d| d.address.as_deref() == Some("assume_policy.management"))
        .map(|d| d.message.clone())
        .collect();
    assert_eq!(
        errs,
        [format!(
            "role `{}` in account {MGMT} would hold {} characters of inline policies, over its 10240-character budget: xacct's assume policy {assume}, the bootstrap set's inline policies (extraStatements) {inline}, other inline policies 0",
            controllers(),
            inline + assume
        )]
    );
}

#[tokio::test]
async fn a_bad_config_file_is_a_plan_error_with_its_place() {
    let text =
        "version: 1\nbootstrap: { config: capa-iam.yaml }\nmanagement: { account: \"111111111111\" }\nworkloads: []\n";
    let w = World::new(text);
    w.write(
        "capa-iam.yaml",
        "apiVersion: bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1\nkind: AWSIAMConfiguration\nspec:\n  nameSufix: .x\n",
    );
    w.iam.reset_calls();
    let p = w.plan().await;
    let errs = errors(&p);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].starts_with(&format!("{}:4:3: ", w.dir.path().join("capa-iam.yaml").display())), "{errs:#?}");
    assert!(p.changes.is_empty());
    assert_eq!(w.iam.call_count(), 0, "nothing is read");
}

#[tokio::test]
async fn dkp_profile() {
    let text = "version: 1\nbootstrap: { profile: dkp }\nmanagement: { account: \"111111111111\" }\nworkloads:\n  - { name: dev, account: \"222222222222\" }\n";
    let mut w = World::new(text);
    let p = w.converge().await;
    let mut dev: Vec<String> = p
        .changes
        .iter()
        .filter(|c| c.kind.starts_with("iam_") && c.address.workload() == Some("dev"))
        .map(|c| c.address.to_string())
        .collect();
    dev.sort();
    assert_eq!(
        dev,
        [
            addr("iam_instance_profile", "dev", &n("control-plane")),
            addr("iam_instance_profile", "dev", &n("nodes")),
            addr("iam_policy", "dev", &n("control-plane")),
            addr("iam_policy", "dev", &n("controllers")),
            addr("iam_policy", "dev", &n("nodes")),
            addr("iam_role", "dev", &n("control-plane")),
            addr("iam_role", "dev", &n("nodes")),
        ]
    );
    // DKP's controllers run as the control-plane role: trust goes there.
    let t = change(&p, "trust.dev");
    assert_eq!(t.target, Target::Trust { account: DEV.into(), role: n("control-plane") });
    let trust = &w.iam.snapshot(DEV).roles[&n("control-plane")].trust;
    assert!(trust.to_string().contains(&format!("arn:aws:iam::{MGMT}:role/{}", n("control-plane"))));
    assert!(!w.plan().await.has_changes());
}

#[tokio::test]
async fn a_cloud_without_the_bootstrap_interface_is_an_error_naming_the_account() {
    let w = World::new(BOTH);
    let cloud: Arc<dyn Cloud> = Arc::new(MemoryCloud::new());
    let p = plan(&w.spec(), w.text.as_bytes(), None, cloud, &PlanOptions::default(), &()).await;
    let errs = errors(&p);
    assert!(
        errs.iter().any(|e| e.starts_with(&format!("cannot read the IAM of account {DEV} (`dev`) in bulk"))),
        "{errs:#?}"
    );
    assert!(errs
        .iter()
        .any(|e| e.starts_with(&format!("cannot read the IAM of account {MGMT} (`management`) in bulk"))));
    assert!(!p.applyable);
}

const CONFIG_HEAD: &str =
    "apiVersion: bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1\nkind: AWSIAMConfiguration\nspec:\n";

/// Only the management account, bootstrapped from `capa-iam.yaml`.
const MGMT_CONFIG: &str =
    "version: 1\nmanagement: { account: \"111111111111\", bootstrap: { config: capa-iam.yaml } }\nworkloads: []\n";

#[tokio::test]
async fn the_bootstrap_user_and_group_are_read_only_when_the_set_has_them() {
    let mut w = World::new(MGMT_CONFIG);
    w.write("capa-iam.yaml", &format!("{CONFIG_HEAD}  bootstrapUser:\n    enable: true\n"));
    let p = w.converge().await;
    assert!(errors(&p).is_empty(), "{:#?}", p.diagnostics);
    let user = p.changes.iter().find(|c| c.kind == "iam_user").expect("an iam_user change");
    let group = p.changes.iter().find(|c| c.kind == "iam_group").expect("an iam_group change");
    assert_eq!(user.action(), Action::Create);
    assert!(user.depends_on.contains(&group.address), "{:?}", user.depends_on);
    let ops = step(user);
    assert!(matches!(&ops[0], IamOp::CreateUser { .. }), "{ops:?}");
    assert!(ops.iter().any(|o| matches!(o, IamOp::AddUserToGroup { .. })), "{ops:?}");
    let s = w.iam.snapshot(MGMT);
    assert_eq!(s.users.as_ref().unwrap().len(), 1);
    assert_eq!(s.groups.as_ref().unwrap().len(), 1);
    w.iam.reset_calls();
    let again = w.plan().await;
    assert!(!again.has_changes(), "{:#?}", pending(&again));
    assert_eq!(again.summary.aws_calls, 1, "one page holds roles, policies, the user and the group");
}

#[tokio::test]
async fn more_than_ten_attachments_read_the_account_quota() {
    let arns: Vec<String> = (0..9).map(|i| format!("\"arn:aws:iam::aws:policy/Extra{i}\"")).collect();
    let w = World::new(MGMT_CONFIG);
    w.write("capa-iam.yaml", &format!("{CONFIG_HEAD}  nodes:\n    extraPolicyAttachments: [{}]\n", arns.join(", ")));
    w.iam.set_attached_policies_quota(10);
    let p = w.plan().await;
    let errs = errors(&p);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].contains(&n("nodes")), "{errs:#?}");
    // The bulk read and GetAccountSummary.
    assert_eq!(p.summary.aws_calls, 2);
    w.iam.set_attached_policies_quota(20);
    w.iam.reset_calls();
    let p = w.plan().await;
    assert!(errors(&p).is_empty(), "{:#?}", p.diagnostics);
    assert_eq!(p.summary.aws_calls, 2);
    // At most 10: the quota is not read.
    w.write(
        "capa-iam.yaml",
        &format!("{CONFIG_HEAD}  nodes:\n    extraPolicyAttachments: [{}]\n", arns[..5].join(", ")),
    );
    w.iam.reset_calls();
    let p = w.plan().await;
    assert!(errors(&p).is_empty(), "{:#?}", p.diagnostics);
    assert_eq!(p.summary.aws_calls, 1);
}

#[tokio::test]
async fn a_plan_from_state_alone_reads_nothing() {
    let mut w = World::new(BOTH);
    w.converge().await;
    w.iam.reset_calls();
    let p = w.plan_with(&w.spec(), &PlanOptions { refresh: false, ..PlanOptions::default() }).await;
    assert!(errors(&p).is_empty(), "{:#?}", p.diagnostics);
    assert!(!p.applyable);
    assert_eq!(w.iam.call_count(), 0);
    assert_eq!(change(&p, "trust.dev").action(), Action::NoOp);
    assert_eq!(change(&p, "assume_policy.management").action(), Action::NoOp);
    assert!(p
        .diagnostics
        .iter()
        .any(|d| d.message
            == "the bootstrap entities (`iam_*`) are not planned from state alone: only a refresh reads them"));
}

#[tokio::test]
async fn a_target_keeps_the_bootstrap_entities_it_depends_on() {
    let w = World::new(BOTH);
    let target: xacct_spec::Address = "trust.dev".parse().unwrap();
    let p = w.plan_with(&w.spec(), &PlanOptions { targets: vec![target], ..PlanOptions::default() }).await;
    assert!(errors(&p).is_empty(), "{:#?}", p.diagnostics);
    let mut kept: Vec<String> = p.changes.iter().map(|c| c.address.to_string()).collect();
    kept.sort();
    let mut want = vec![
        "trust.dev".to_string(),
        addr("iam_role", "dev", &controllers()),
        addr("iam_policy", "dev", &controllers()),
        addr("iam_policy", "dev", &n("controllers-eks")),
        addr("iam_role", "management", &controllers()),
        addr("iam_policy", "management", &controllers()),
        addr("iam_policy", "management", &n("controllers-eks")),
    ];
    want.sort();
    assert_eq!(kept, want);
}

#[tokio::test]
async fn an_existing_role_at_another_path_is_an_error() {
    let w = World::new(&with_adopt(BOTH));
    w.iam
        .create_role(
            DEV,
            &xacct_plan::iam::NewRole {
                name: n("nodes"),
                path: "/other/".into(),
                trust: json!({"Version": "2012-10-17", "Statement": []}),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let p = w.plan().await;
    assert_eq!(
        errors(&p),
        [format!(
            "role `{}` in account {DEV} has path `/other/`, but the bootstrap set makes it at `/`: IAM cannot move it",
            n("nodes")
        )]
    );
}
