//! Bootstrap applies through the real SDK client (`AwsCloud`) on the emulator: the create chain
//! (policy → role with an inline policy, attachments and a trust edit → instance profile, each
//! read back before its dependents), applied again with nothing duplicated, a step cut short
//! converging, the delete chain in IAM's order leaving the account empty, and a saved plan
//! refused after a change made outside xacct.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::json;
use xacct_apply::{apply, check_stale, ApplyOptions, Event, Report, Stale};
use xacct_aws::{
    role_arn, AccountAccess, AwsCloud, AwsSettings, BaseCredentials, ConsistencySettings, Partition, RetrySettings,
};
use xacct_plan::iam::step::{IamOp, IamStep};
use xacct_plan::iam::{AccountIam, IamCloud, IamPrincipal, ReadScope};
use xacct_plan::{Action, Change, Cloud, Plan, Target};
use xacct_spec::IamKind;
use xacct_state::{Backend, LocalBackend};
use xacct_test_support::{moto, ACCESS_ROLE};

async fn cloud(account: &str) -> Arc<AwsCloud> {
    let access = AccountAccess::AssumeRole {
        role_arn: role_arn(Partition::Aws, account, ACCESS_ROLE, None),
        external_id: None,
        session_name: Some("xacct-test".to_string()),
    };
    let settings = AwsSettings {
        endpoint_url: Some(moto().endpoint_url().to_string()),
        region: Some("us-east-1".to_string()),
        base: BaseCredentials::Static {
            access_key_id: "AKIAXACCTTESTKEY0001".to_string(),
            secret_access_key: "xacctSecretDoNotLeak/0123456789abcdefghij".to_string(),
            session_token: None,
        },
        accounts: HashMap::from([(account.to_string(), access)]),
        unlisted: AccountAccess::DefaultChain,
        partition: Partition::Aws,
        retry: RetrySettings {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            invalid_principal_window: Duration::from_secs(2),
        },
        consistency: ConsistencySettings {
            reads: 3,
            interval: Duration::from_millis(1),
            timeout: Duration::from_secs(5),
        },
    };
    Arc::new(AwsCloud::new(settings).await)
}

struct World {
    _dir: tempfile::TempDir,
    account: String,
    cloud: Arc<AwsCloud>,
    backend: LocalBackend,
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(dir.path().join("state/default.json"));
        let account = moto().fresh_account();
        World { _dir: dir, cloud: cloud(&account).await, account, backend }
    }

    async fn apply(&self, p: &Plan) -> (Report, Vec<Event>) {
        let events = Mutex::new(Vec::new());
        let sink = |e: &Event| events.lock().unwrap().push(e.clone());
        let cloud: Arc<dyn Cloud> = self.cloud.clone();
        let state = self.backend.load().await.unwrap();
        let (report, _) = apply(p, cloud, &self.backend, state, &ApplyOptions::default(), &sink).await;
        (report, events.into_inner().unwrap())
    }

    async fn live(&self) -> AccountIam {
        let mut live = self.cloud.read_account(&self.account, ReadScope::ALL).await.unwrap();
        live.pages = 0;
        live
    }

    async fn recorded(&self) -> Vec<String> {
        self.backend.load().await.unwrap().map(|s| s.resources.keys().cloned().collect()).unwrap_or_default()
    }
}

#[tokio::test]
async fn the_create_chain_and_its_delete_chain_through_the_sdk() {
    let w = World::new().await;
    let a = w.account.as_str();
    let (report, events) = w.apply(&plan_of(create_chain(a))).await;
    assert!(report.ok(), "{report:?}");
    let (policy, role, profile) = (addr(IamKind::Policy, a), addr(IamKind::Role, a), addr(IamKind::InstanceProfile, a));
    assert!(pos(&events, is("done", policy.clone())) < pos(&events, is("started", role.clone())));
    assert!(pos(&events, is("done", role.clone())) < pos(&events, is("started", profile.clone())));
    for x in [&policy, &role, &profile] {
        assert_eq!(events.iter().filter(|e| is("propagating", x.clone())(e)).count(), 1, "{x}: {events:#?}");
    }
    let live = w.live().await;
    assert_created(&live, a);
    assert_eq!(live.roles[&nodes()].arn, format!("arn:aws:iam::{a}:role/{}", nodes()));
    assert_eq!(live.users, Some(Default::default()));
    let mut want = vec![policy.clone(), role.clone(), profile.clone()];
    want.sort();
    assert_eq!(w.recorded().await, want);

    // Applied again: every operation finds its work done; IAM holds the same, byte for byte,
    // but for the emulator's count of attachments: moto counts an AttachRolePolicy of a policy
    // already attached (AWS does not; the role's list of attachments does not change).
    let (report, _) = w.apply(&plan_of(create_chain(a))).await;
    assert!(report.ok(), "{report:?}");
    let mut again = w.live().await;
    assert_eq!(again.policies[&nodes()].attachment_count, 2, "moto's count");
    again.policies.get_mut(&nodes()).unwrap().attachment_count = 1;
    assert_eq!(again, live);

    // The delete chain, after a second policy version: detach, remove from the profile, delete
    // the inline policy, the role, the old versions and the policy.
    let update = vec![IamOp::CreatePolicyVersion { policy_arn: policy_arn(a), document: doc(2) }];
    let (report, _) = w.apply(&plan_of(vec![change(IamKind::Policy, a, &nodes(), Action::Update, update, &[])])).await;
    assert!(report.ok(), "{report:?}");
    let p = &w.live().await.policies[&nodes()];
    assert_eq!((p.versions.len(), p.default_version_id.as_str()), (2, "v2"));
    let (report, events) = w.apply(&plan_of(delete_chain(a))).await;
    assert!(report.ok(), "{report:?}");
    assert!(pos(&events, is("done", profile)) < pos(&events, is("started", role.clone())));
    assert!(pos(&events, is("done", role)) < pos(&events, is("started", policy)));
    let live = w.live().await;
    assert!(live.is_empty(), "{live:#?}");
    assert!(w.recorded().await.is_empty());
    // Again (a re-run after a crash): all gone already, which is success.
    let (report, _) = w.apply(&plan_of(delete_chain(a))).await;
    assert!(report.ok(), "{report:?}");
}

#[tokio::test]
async fn a_step_cut_short_converges_and_trust_edits_keep_foreign_statements() {
    let w = World::new().await;
    let a = w.account.as_str();
    // The role's step stopped after CreateRole, PutRolePolicy and one attachment.
    let mut first = create_chain(a);
    first.remove(0);
    first[0].write = Some(IamStep { account: a.into(), ops: role_ops(a)[..3].to_vec() }.to_write());
    let (report, _) = w.apply(&plan_of(first)).await;
    assert!(report.ok(), "{report:?}");
    // Meanwhile somebody adds a statement of their own and an attachment.
    let foreign = json!({"Sid": "TeamB", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"}, "Action": "sts:AssumeRole"});
    let with_foreign = trust(&[ec2(), foreign.clone()]);
    moto().put_trust(a, &nodes(), &with_foreign.to_string()).await;
    let readonly = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    w.cloud.attach_policy(a, &IamPrincipal::Role(nodes()), readonly).await.unwrap();

    // The role step runs again as a re-plan gives it (the role exists: no create), then the
    // profile.
    let mut again = create_chain(a);
    let ops: Vec<IamOp> = role_ops(a).into_iter().skip(1).collect();
    again[1].write = Some(IamStep { account: a.into(), ops }.to_write());
    again[1].actions = vec![Action::Update];
    let (report, _) = w.apply(&plan_of(again)).await;
    assert!(report.ok(), "{report:?}");
    let live = w.live().await;
    let r = &live.roles[&nodes()];
    assert_eq!(r.trust, trust(&[ec2(), foreign, pods()]));
    assert_eq!(r.attached_policies, [policy_arn(a), WORKER.to_string(), readonly.to_string()]);
    assert_eq!(r.inline_policies.len(), 1);
    assert_eq!(live.instance_profiles[&nodes()].roles, [nodes()]);
    assert_eq!(live.policies[&nodes()].versions.len(), 1);
}

/// `changes` with the fingerprints a plan made now would record.
async fn fingerprinted(cloud: &AwsCloud, mut changes: Vec<Change>) -> Plan {
    for c in &mut changes {
        let Target::Iam { account, kind, name } = &c.target else { unreachable!() };
        let live = cloud.read_account(account, ReadScope::ROLES).await.unwrap();
        c.live_fingerprint = live.fingerprint(*kind, name);
    }
    plan_of(changes)
}

#[tokio::test]
async fn a_saved_plan_is_refused_after_a_change_outside() {
    let w = World::new().await;
    let a = w.account.as_str();
    let (report, _) = w.apply(&plan_of(create_chain(a))).await;
    assert!(report.ok(), "{report:?}");
    let p = fingerprinted(&w.cloud, delete_chain(a)).await;
    let cloud: Arc<dyn Cloud> = w.cloud.clone();
    assert_eq!(check_stale(&p, None, cloud.clone()).await, Ok(()));

    // Somebody edits the role's trust and makes a new default version of the policy.
    let foreign = json!({"Sid": "TeamB", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"}, "Action": "sts:AssumeRole"});
    moto().put_trust(a, &nodes(), &trust(&[ec2(), pods(), foreign]).to_string()).await;
    w.cloud.create_policy_version(a, &policy_arn(a), &doc(7)).await.unwrap();
    let before = w.live().await;
    let err = check_stale(&p, None, cloud).await.unwrap_err();
    assert_eq!(
        err,
        Stale(vec![
            format!("{}: the live managed policy changed since the plan was made", addr(IamKind::Policy, a)),
            format!("{}: the live role changed since the plan was made", addr(IamKind::Role, a)),
        ])
    );
    // The check wrote nothing.
    assert_eq!(w.live().await, before);
}
