//! The executor applying bootstrap changes (`Target::Iam`, an `IamStep` in `write`) on a
//! `MemoryIam` (IAM's rules: unique names, five versions, one role per profile, IAM's delete
//! order) and a real local state file, with plans built by hand: a create chain in dependency
//! order, a failing operation that skips only its dependents, steps cut short and run again
//! converging with nothing duplicated, trust edits that keep every other statement, IAM's
//! delete order, and the saved-plan check of bootstrap entities.

use std::sync::{Arc, Mutex};

use serde_json::json;
use xacct_apply::{apply, check_stale, ApplyOptions, Event, Report, Stale};
use xacct_plan::iam::memory::MemoryIam;
use xacct_plan::iam::step::{IamOp, IamStep};
use xacct_plan::iam::{IamCloud, IamPrincipal, NewRole, NewUser, ReadScope};
use xacct_plan::memory::MemoryCloud;
use xacct_plan::{Action, Change, Cloud, Plan, Target};
use xacct_spec::IamKind;
use xacct_state::{Backend, LocalBackend, State};

mod common;

use common::*;
struct World {
    _dir: tempfile::TempDir,
    iam: Arc<MemoryIam>,
    backend: LocalBackend,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(dir.path().join("state/default.json"));
        World { _dir: dir, iam: Arc::new(MemoryIam::new()), backend }
    }

    async fn state(&self) -> Option<State> {
        self.backend.load().await.unwrap()
    }

    async fn apply(&self, p: &Plan) -> (Report, Vec<Event>) {
        let events = Mutex::new(Vec::new());
        let sink = |e: &Event| events.lock().unwrap().push(e.clone());
        let cloud: Arc<dyn Cloud> = self.iam.clone();
        let (report, _) = apply(p, cloud, &self.backend, self.state().await, &ApplyOptions::default(), &sink).await;
        (report, events.into_inner().unwrap())
    }

    /// The state's addresses, sorted.
    async fn recorded(&self) -> Vec<String> {
        self.state().await.map(|s| s.resources.keys().cloned().collect()).unwrap_or_default()
    }
}

#[tokio::test]
async fn a_create_chain_applies_in_dependency_order_with_a_read_back_after_each_step() {
    let w = World::new();
    let p = plan_of(create_chain(DEV).into_iter().chain(create_chain(TEST)).collect());
    let (report, events) = w.apply(&p).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.done.len(), 6);
    assert_eq!(events[0], Event::Begin { steps: 6 });
    for a in [DEV, TEST] {
        let (policy, role, profile) =
            (addr(IamKind::Policy, a), addr(IamKind::Role, a), addr(IamKind::InstanceProfile, a));
        for x in [&policy, &role, &profile] {
            assert!(pos(&events, is("started", x.clone())) < pos(&events, is("propagating", x.clone())), "{x}");
            assert!(pos(&events, is("propagating", x.clone())) < pos(&events, is("done", x.clone())), "{x}");
            // One propagating event per step, however many writes it makes.
            assert_eq!(events.iter().filter(|e| is("propagating", x.clone())(e)).count(), 1, "{x}");
        }
        assert!(pos(&events, is("done", policy.clone())) < pos(&events, is("started", role.clone())));
        assert!(pos(&events, is("done", role.clone())) < pos(&events, is("started", profile.clone())));
        assert_created(&w.iam.snapshot(a), a);
    }
    let state = w.state().await.unwrap();
    assert_eq!(state.serial, 6, "one checkpoint per step");
    assert_eq!(
        state.resources[&addr(IamKind::Role, DEV)].attributes,
        json!({"account": DEV, "name": nodes(), "ops": 5})
    );
    assert_eq!(state.resources[&addr(IamKind::Role, DEV)].kind, "iam_role");

    // The same plan again (a re-run): every operation finds its work done; nothing is duplicated.
    let before = (w.iam.snapshot(DEV), w.iam.snapshot(TEST));
    let (report, _) = w.apply(&p).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!((w.iam.snapshot(DEV), w.iam.snapshot(TEST)), before);
}

#[tokio::test]
async fn a_failing_operation_skips_its_dependents_and_state_records_exactly_what_happened() {
    let w = World::new();
    let mut chain = create_chain(DEV);
    // The role attaches a customer policy that does not exist.
    let mut ops = role_ops(DEV);
    ops.insert(
        2,
        IamOp::Attach { to: IamPrincipal::Role(nodes()), policy_arn: format!("arn:aws:iam::{DEV}:policy/missing") },
    );
    chain[1].write = Some(IamStep { account: DEV.into(), ops }.to_write());
    let p = plan_of(chain.into_iter().chain(create_chain(TEST)).collect());
    let (report, events) = w.apply(&p).await;

    let role = addr(IamKind::Role, DEV);
    assert_eq!(
        report.failed,
        [(
            address(IamKind::Role, DEV, &nodes()),
            format!(
                "{role} (operation 3 of 6, `iam:AttachRolePolicy`): managed policy `arn:aws:iam::{DEV}:policy/missing` \
                 in account {DEV} does not exist"
            )
        )]
    );
    assert_eq!(report.skipped, [address(IamKind::InstanceProfile, DEV, &nodes())]);
    assert!(events.contains(&Event::Skipped {
        address: address(IamKind::InstanceProfile, DEV, &nodes()),
        because: format!("`{role}` failed or was skipped"),
    }));
    let mut done: Vec<String> = report.done.iter().map(ToString::to_string).collect();
    done.sort();
    let mut want = vec![addr(IamKind::Policy, DEV), addr(IamKind::InstanceProfile, TEST), addr(IamKind::Policy, TEST)];
    want.push(addr(IamKind::Role, TEST));
    want.sort();
    assert_eq!(done, want, "the other account's chain and the independent policy finish");
    assert_eq!(w.recorded().await, want, "state holds what was done, nothing else");
    // What the failed step did before the failing operation is there (and a re-plan adopts it);
    // nothing after it ran.
    let live = w.iam.snapshot(DEV);
    assert_eq!(live.roles[&nodes()].inline_policies.len(), 1);
    assert!(live.roles[&nodes()].attached_policies.is_empty());
    assert_eq!(live.roles[&nodes()].trust, trust(&[ec2()]));
    assert!(live.instance_profiles.is_empty());
    assert_created(&w.iam.snapshot(TEST), TEST);
}

#[tokio::test]
async fn a_step_cut_short_after_any_operation_converges_when_run_again() {
    // The role's step stops after its k-th operation (a kill, a fault); running the whole plan
    // again ends exactly where an uninterrupted apply does.
    let n = role_ops(DEV).len();
    for k in 0..=n {
        let w = World::new();
        let mut first = create_chain(DEV);
        first.remove(0); // no profile in the interrupted run
        first[0].write = Some(IamStep { account: DEV.into(), ops: role_ops(DEV)[..k].to_vec() }.to_write());
        let (report, _) = w.apply(&plan_of(first)).await;
        assert!(report.ok(), "k={k}: {report:?}");
        let (report, _) = w.apply(&plan_of(create_chain(DEV))).await;
        assert!(report.ok(), "k={k}: {report:?}");
        assert_created(&w.iam.snapshot(DEV), DEV);
        assert_eq!(w.recorded().await.len(), 3, "k={k}");
    }
    // A profile that lost its role (removed outside, or a delete cut short): the step puts it back.
    let w = World::new();
    let (report, _) = w.apply(&plan_of(create_chain(DEV))).await;
    assert!(report.ok(), "{report:?}");
    w.iam.remove_role_from_instance_profile(DEV, &nodes(), &nodes()).await.unwrap();
    let (report, _) = w.apply(&plan_of(create_chain(DEV))).await;
    assert!(report.ok(), "{report:?}");
    assert_created(&w.iam.snapshot(DEV), DEV);
}

#[tokio::test]
async fn edit_trust_keeps_foreign_statements_and_xaccts_trust_statement() {
    let w = World::new();
    let foreign = json!({"Sid": "TeamB", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}});
    let role =
        NewRole { name: nodes(), path: "/".into(), trust: trust(&[foreign.clone(), ec2()]), ..NewRole::default() };
    w.iam.create_role(DEV, &role).await.unwrap();
    // xacct's trust.dev statement lands, and somebody's attachment.
    let live = w.iam.get_role(DEV, &nodes()).await.unwrap().unwrap();
    let with_xacct = trust(&[foreign.clone(), ec2(), xacct_statement()]).to_string();
    w.iam.update_trust_policy(DEV, &nodes(), &live.trust_policy, &with_xacct).await.unwrap();
    w.iam.attach_policy(DEV, &IamPrincipal::Role(nodes()), "arn:aws:iam::aws:policy/ReadOnlyAccess").await.unwrap();

    // Bootstrap's ec2 statement is replaced by ec2 + pods (the controllers' trust).
    let ops = vec![
        IamOp::EditTrust { role: nodes(), remove: vec![ec2()], add: vec![ec2(), pods()] },
        IamOp::Attach { to: IamPrincipal::Role(nodes()), policy_arn: WORKER.into() },
    ];
    let p = plan_of(vec![change(IamKind::Role, DEV, &nodes(), Action::Update, ops.clone(), &[])]);
    let (report, events) = w.apply(&p).await;
    assert!(report.ok(), "{report:?}");
    assert!(events.contains(&Event::Propagating { address: address(IamKind::Role, DEV, &nodes()) }));
    let live = w.iam.snapshot(DEV);
    let r = &live.roles[&nodes()];
    assert_eq!(r.trust, trust(&[foreign.clone(), ec2(), xacct_statement(), pods()]));
    assert_eq!(
        r.attached_policies,
        ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess"]
    );

    // Removing bootstrap's statements takes out exactly those.
    let ops = vec![IamOp::EditTrust { role: nodes(), remove: vec![ec2(), pods()], add: vec![] }];
    let (report, _) = w.apply(&plan_of(vec![change(IamKind::Role, DEV, &nodes(), Action::Update, ops, &[])])).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(w.iam.snapshot(DEV).roles[&nodes()].trust, trust(&[foreign, xacct_statement()]));

    // An edit with nothing to do writes nothing (no propagating event).
    let calls = w.iam.call_count();
    let ops = vec![IamOp::EditTrust { role: nodes(), remove: vec![ec2()], add: vec![] }];
    let (report, events) =
        w.apply(&plan_of(vec![change(IamKind::Role, DEV, &nodes(), Action::Update, ops, &[])])).await;
    assert!(report.ok(), "{report:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::Propagating { .. })), "{events:#?}");
    assert_eq!(w.iam.call_count() - calls, 1, "one GetRole, no write");
}

#[tokio::test]
async fn deletes_run_in_iams_order_and_leave_nothing() {
    let w = World::new();
    let (report, _) = w.apply(&plan_of(create_chain(DEV))).await;
    assert!(report.ok(), "{report:?}");
    // Two more versions of the policy: its delete takes the non-default ones first.
    let update = vec![
        IamOp::CreatePolicyVersion { policy_arn: policy_arn(DEV), document: doc(2) },
        IamOp::CreatePolicyVersion { policy_arn: policy_arn(DEV), document: doc(3) },
    ];
    let (report, _) =
        w.apply(&plan_of(vec![change(IamKind::Policy, DEV, &nodes(), Action::Update, update, &[])])).await;
    assert!(report.ok(), "{report:?}");
    let policy = &w.iam.snapshot(DEV).policies[&nodes()];
    assert_eq!((policy.versions.len(), policy.default_version_id.as_str()), (3, "v3"));
    assert_eq!(policy.default_document(), Some(&doc(3)));

    let (report, events) = w.apply(&plan_of(delete_chain(DEV))).await;
    assert!(report.ok(), "{report:?}");
    let (policy, role, profile) =
        (addr(IamKind::Policy, DEV), addr(IamKind::Role, DEV), addr(IamKind::InstanceProfile, DEV));
    assert!(pos(&events, is("done", profile)) < pos(&events, is("started", role.clone())));
    assert!(pos(&events, is("done", role)) < pos(&events, is("started", policy)));
    assert!(w.iam.snapshot(DEV).is_empty(), "{:#?}", w.iam.snapshot(DEV));
    assert!(w.recorded().await.is_empty());

    // Deleting again (a re-run after a crash): everything is gone already, which is success.
    let (report, _) = w.apply(&plan_of(delete_chain(DEV))).await;
    assert!(report.ok(), "{report:?}");
}

#[tokio::test]
async fn a_delete_out_of_iams_order_is_refused_and_keeps_its_record() {
    let w = World::new();
    let (report, _) = w.apply(&plan_of(create_chain(DEV))).await;
    assert!(report.ok(), "{report:?}");
    // The role before its profile lets go of it.
    let ops =
        vec![IamOp::DeleteRolePolicy { role: nodes(), policy: "extra".into() }, IamOp::DeleteRole { role: nodes() }];
    let p = plan_of(vec![change(IamKind::Role, DEV, &nodes(), Action::Delete, ops, &[])]);
    let (report, _) = w.apply(&p).await;
    let role = addr(IamKind::Role, DEV);
    assert_eq!(
        report.failed,
        [(
            address(IamKind::Role, DEV, &nodes()),
            format!(
                "{role} (operation 2 of 2, `iam:DeleteRole`): `iam:DeleteRole` failed in account {DEV}: DeleteConflict: \
                 role `{n}` cannot be deleted while it is in instance profile(s) {n}; delete in IAM's order (detach \
                 policies, remove roles from instance profiles, delete inline policies and non-default versions, then \
                 the entity)",
                n = nodes()
            )
        )]
    );
    assert!(w.recorded().await.contains(&role), "the role is still recorded");
    assert!(w.iam.snapshot(DEV).roles.contains_key(&nodes()));
}

#[tokio::test]
async fn users_and_groups() {
    let w = World::new();
    let user = "bootstrapper.cluster-api-provider-aws.sigs.k8s.io";
    let group = "bootstrapper.cluster-api-provider-aws.sigs.k8s.io";
    let g = change(
        IamKind::Group,
        DEV,
        group,
        Action::Create,
        vec![
            IamOp::CreateGroup { group: group.into(), path: "/".into() },
            IamOp::Attach { to: IamPrincipal::Group(group.into()), policy_arn: WORKER.into() },
        ],
        &[],
    );
    let u = change(
        IamKind::User,
        DEV,
        user,
        Action::Create,
        vec![
            IamOp::CreateUser { user: NewUser { name: user.into(), path: "/".into(), ..NewUser::default() } },
            IamOp::AddUserToGroup { user: user.into(), group: group.into() },
            IamOp::PutUserPolicy { user: user.into(), policy: "extra".into(), document: doc(4) },
        ],
        std::slice::from_ref(&g.address),
    );
    let (report, _) = w.apply(&plan_of(vec![u, g])).await;
    assert!(report.ok(), "{report:?}");
    let live = w.iam.snapshot(DEV);
    let u = &live.users.as_ref().unwrap()[user];
    assert_eq!(u.groups, [group]);
    assert_eq!(u.inline_policies, [("extra".to_string(), doc(4))].into());
    assert_eq!(live.groups.as_ref().unwrap()[group].attached_policies, [WORKER]);

    let g = change(
        IamKind::Group,
        DEV,
        group,
        Action::Delete,
        vec![
            IamOp::Detach { to: IamPrincipal::Group(group.into()), policy_arn: WORKER.into() },
            IamOp::DeleteGroup { group: group.into() },
        ],
        &[],
    );
    let u = change(
        IamKind::User,
        DEV,
        user,
        Action::Delete,
        vec![
            IamOp::RemoveUserFromGroup { user: user.into(), group: group.into() },
            IamOp::DeleteUserPolicy { user: user.into(), policy: "extra".into() },
            IamOp::DeleteUser { user: user.into() },
        ],
        &[],
    );
    let mut g = g;
    g.depends_on = vec![u.address.clone()];
    let (report, _) = w.apply(&plan_of(vec![g, u])).await;
    assert!(report.ok(), "{report:?}");
    assert!(w.iam.snapshot(DEV).is_empty());
}

#[tokio::test]
async fn a_step_that_cannot_run_says_why() {
    let w = World::new();
    let mut bad = change(IamKind::Policy, DEV, &nodes(), Action::Create, policy_ops(), &[]);
    bad.write = Some(r#"{"account":"222222222222","ops":[{"op":"create_widget"}]}"#.into());
    let mut elsewhere = change(IamKind::Policy, TEST, &nodes(), Action::Create, policy_ops(), &[]);
    elsewhere.write = Some(IamStep { account: DEV.into(), ops: policy_ops() }.to_write());
    let (report, _) = w.apply(&plan_of(vec![bad, elsewhere])).await;
    let mut failed = report.failed.clone();
    failed.sort();
    let errors: Vec<&str> = failed.iter().map(|(_, e)| e.as_str()).collect();
    assert_eq!(errors.len(), 2, "{report:?}");
    assert!(
        errors[0].starts_with(&format!(
            "{}: the plan's bootstrap step is not valid: unknown variant `create_widget`",
            addr(IamKind::Policy, DEV)
        )),
        "{}",
        errors[0]
    );
    assert!(errors[0].ends_with("; re-run `xacct plan`"), "{}", errors[0]);
    assert_eq!(
        errors[1],
        format!(
            "{}: the plan's bootstrap step is for account {DEV} but the change is in account {TEST}; re-run `xacct plan`",
            addr(IamKind::Policy, TEST)
        )
    );
    assert!(w.iam.snapshot(DEV).is_empty() && w.iam.snapshot(TEST).is_empty(), "nothing was written");

    // A cloud with no bootstrap interface.
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path().join("state.json"));
    let cloud: Arc<dyn Cloud> = Arc::new(MemoryCloud::new());
    let p = plan_of(vec![change(IamKind::Policy, DEV, &nodes(), Action::Create, policy_ops(), &[])]);
    let (report, _) = apply(&p, cloud, &backend, None, &ApplyOptions::default(), &()).await;
    assert_eq!(
        report.failed,
        [(
            address(IamKind::Policy, DEV, &nodes()),
            format!("{}: this cloud cannot apply bootstrap changes", addr(IamKind::Policy, DEV))
        )]
    );
}

/// `changes` with the fingerprints a plan made now would record.
async fn fingerprinted(iam: &MemoryIam, mut changes: Vec<Change>) -> Plan {
    for c in &mut changes {
        let Target::Iam { account, kind, name } = &c.target else { unreachable!() };
        let live = iam.read_account(account, ReadScope::ALL).await.unwrap();
        c.live_fingerprint = live.fingerprint(*kind, name);
    }
    plan_of(changes)
}

#[tokio::test]
async fn a_saved_plan_is_refused_when_a_bootstrap_entity_moved() {
    let w = World::new();
    let (report, _) = w.apply(&plan_of(create_chain(DEV))).await;
    assert!(report.ok(), "{report:?}");
    let user = "bootstrapper";
    w.iam.create_user(DEV, &NewUser { name: user.into(), path: "/".into(), ..NewUser::default() }).await.unwrap();
    let mut changes = delete_chain(DEV);
    changes.push(change(IamKind::User, DEV, user, Action::Delete, vec![IamOp::DeleteUser { user: user.into() }], &[]));
    // A create of something absent, recorded as absent.
    changes.push(change(IamKind::Group, DEV, "g", Action::Create, vec![], &[]));
    let p = fingerprinted(&w.iam, changes).await;
    assert!(p.changes[3].live_fingerprint.is_some(), "the user was read");
    assert_eq!(p.changes[4].live_fingerprint, None);
    let cloud: Arc<dyn Cloud> = w.iam.clone();

    // Nothing moved: one bulk read for the account (users and groups included), no refusal.
    w.iam.reset_calls();
    assert_eq!(check_stale(&p, None, cloud.clone()).await, Ok(()));
    assert_eq!(w.iam.call_count(), 1);

    // Outside xacct: a tag on the role, the group created, the profile deleted.
    w.iam.edit(DEV, |a| a.roles.get_mut(&nodes()).unwrap().tags.insert("team".into(), "b".into()));
    w.iam.create_group(DEV, "g", "/").await.unwrap();
    w.iam.edit(DEV, |a| {
        a.instance_profiles.clear();
        a.roles.get_mut(&nodes()).unwrap().instance_profiles.clear();
    });
    let err = check_stale(&p, None, cloud.clone()).await.unwrap_err();
    assert_eq!(
        err,
        Stale(vec![
            format!("{}: the live role changed since the plan was made", addr(IamKind::Role, DEV)),
            format!(
                "{}: the live instance profile is gone since the plan was made",
                addr(IamKind::InstanceProfile, DEV)
            ),
            "iam_group.dev[\"g\"]: the live group appeared since the plan was made".to_string(),
        ])
    );
    assert_eq!(
        err.to_string(),
        format!(
            "the saved plan is stale; nothing was written:\n  - {}: the live role changed since the plan was made\n  - \
             {}: the live instance profile is gone since the plan was made\n  - iam_group.dev[\"g\"]: the live group \
             appeared since the plan was made\nhint: run `xacct plan` again",
            addr(IamKind::Role, DEV),
            addr(IamKind::InstanceProfile, DEV)
        )
    );

    // A cloud that cannot read bootstrap resources refuses every bootstrap change.
    let plain: Arc<dyn Cloud> = Arc::new(MemoryCloud::new());
    let p = plan_of(vec![change(IamKind::Policy, DEV, &nodes(), Action::Create, vec![], &[])]);
    assert_eq!(
        check_stale(&p, None, plain).await,
        Err(Stale(vec![format!(
            "{}: cannot re-read: this cloud cannot read bootstrap resources",
            addr(IamKind::Policy, DEV)
        )]))
    );
}

#[tokio::test]
async fn the_saved_plan_check_leaves_the_documents_of_a_role_the_plan_creates_to_that_roles_change() {
    let w = World::new();
    let role = change(IamKind::Role, DEV, &nodes(), Action::Create, role_ops(DEV), &[]);
    let mut statement = role.clone();
    statement.address = xacct_spec::Address::Trust("dev".into());
    statement.kind = "trust".into();
    statement.target = Target::Trust { account: DEV.into(), role: nodes() };
    // What the plan expects the trust to be once the role is made: not read live.
    statement.live = Some(trust(&[ec2()]).to_string());
    statement.live_fingerprint = Some(xacct_plan::doc_fingerprint(&trust(&[ec2()]).to_string()));
    statement.write = Some(trust(&[ec2(), xacct_statement()]).to_string());
    let p = plan_of(vec![statement, role]);
    let cloud: Arc<dyn Cloud> = w.iam.clone();
    assert_eq!(check_stale(&p, None, cloud.clone()).await, Ok(()));
    // Somebody made the role meanwhile: its own change says so.
    w.iam
        .create_role(DEV, &NewRole { name: nodes(), path: "/".into(), trust: trust(&[ec2()]), ..NewRole::default() })
        .await
        .unwrap();
    assert_eq!(
        check_stale(&p, None, cloud).await,
        Err(Stale(vec![format!("{}: the live role appeared since the plan was made", addr(IamKind::Role, DEV))]))
    );
}
