//! Bootstrap changes built by hand, as the planner makes them: a create chain (policy → role
//! with an inline policy, attachments and a trust edit → instance profile), its delete chain in
//! IAM's order, and what the create chain leaves.
#![allow(dead_code)]

use serde_json::{json, Value};
use xacct_apply::Event;
use xacct_plan::iam::step::{IamOp, IamStep};
use xacct_plan::iam::{AccountIam, IamPrincipal, NewPolicy, NewRole};
use xacct_plan::{Action, Change, Plan, Summary, Target, PLAN_FORMAT_VERSION};
use xacct_spec::{Address, IamKind};

pub const DEV: &str = "222222222222";
pub const TEST: &str = "333333333333";
pub const SFX: &str = ".cluster-api-provider-aws.sigs.k8s.io";
pub const WORKER: &str = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy";

pub fn nodes() -> String {
    format!("nodes{SFX}")
}

pub fn policy_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:policy/nodes{SFX}")
}

pub fn ec2() -> Value {
    json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
}

pub fn pods() -> Value {
    json!({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]})
}

pub fn trust(statements: &[Value]) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

pub fn doc(n: u32) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": format!("ec2:Describe{n}*"), "Resource": "*"}]})
}

/// xacct's own cross-account statement (`trust.dev`), which bootstrap must never touch.
pub fn xacct_statement() -> Value {
    json!({"Sid": "XacctDev", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io"}, "Action": "sts:AssumeRole"})
}

/// The account's name in addresses: `dev`, `test`, or `w<ID>` for an emulator's fresh account.
pub fn name_of(account: &str) -> String {
    match account {
        DEV => "dev".into(),
        TEST => "test".into(),
        _ => format!("w{account}"),
    }
}

pub fn address(kind: IamKind, account: &str, name: &str) -> Address {
    Address::Iam { kind, account: name_of(account), name: name.into() }
}

/// A bootstrap change as the planner makes one.
pub fn change(kind: IamKind, account: &str, name: &str, action: Action, ops: Vec<IamOp>, deps: &[Address]) -> Change {
    let address = address(kind, account, name);
    let state_after = if action == Action::Delete {
        Value::Null
    } else {
        json!({"account": account, "name": name, "ops": ops.len()})
    };
    Change {
        address: address.clone(),
        kind: kind.as_str().to_string(),
        actions: vec![action],
        before: Value::Null,
        after: Value::Null,
        reason: None,
        drift: false,
        depends_on: deps.to_vec(),
        live_fingerprint: None,
        target: Target::Iam { account: account.into(), kind, name: name.into() },
        live: None,
        write: Some(IamStep { account: account.into(), ops }.to_write()),
        state_after,
        diff: None,
        replaces: None,
        unreachable: false,
    }
}

pub fn plan_of(changes: Vec<Change>) -> Plan {
    Plan {
        format_version: PLAN_FORMAT_VERSION,
        xacct_version: "test".into(),
        spec_digest: "0".repeat(64),
        lineage: None,
        serial: None,
        refreshed: true,
        targets: Vec::new(),
        changes,
        drift: Vec::new(),
        diagnostics: Vec::new(),
        summary: Summary::default(),
        applyable: true,
    }
}

pub fn policy_ops() -> Vec<IamOp> {
    vec![IamOp::CreatePolicy {
        policy: NewPolicy { name: nodes(), path: "/".into(), description: "nodes".into(), document: doc(1) },
    }]
}

pub fn role_ops(account: &str) -> Vec<IamOp> {
    vec![
        IamOp::CreateRole {
            role: NewRole {
                name: nodes(),
                path: "/".into(),
                trust: trust(&[ec2()]),
                tags: [("owner".to_string(), "xacct".to_string())].into(),
                ..NewRole::default()
            },
        },
        IamOp::PutRolePolicy { role: nodes(), policy: "extra".into(), document: doc(9) },
        IamOp::Attach { to: IamPrincipal::Role(nodes()), policy_arn: policy_arn(account) },
        IamOp::Attach { to: IamPrincipal::Role(nodes()), policy_arn: WORKER.into() },
        IamOp::EditTrust { role: nodes(), remove: vec![], add: vec![pods()] },
    ]
}

pub fn profile_ops() -> Vec<IamOp> {
    vec![
        IamOp::CreateInstanceProfile { profile: nodes(), path: "/".into() },
        IamOp::AddRoleToInstanceProfile { profile: nodes(), role: nodes() },
    ]
}

/// Policy → role (inline policy, two attachments, a trust edit) → instance profile.
pub fn create_chain(account: &str) -> Vec<Change> {
    let policy = change(IamKind::Policy, account, &nodes(), Action::Create, policy_ops(), &[]);
    let role = change(
        IamKind::Role,
        account,
        &nodes(),
        Action::Create,
        role_ops(account),
        std::slice::from_ref(&policy.address),
    );
    let profile = change(
        IamKind::InstanceProfile,
        account,
        &nodes(),
        Action::Create,
        profile_ops(),
        std::slice::from_ref(&role.address),
    );
    vec![profile, role, policy]
}

/// Every delete in IAM's order: the profile lets go of the role, the role of its attachments
/// and inline policy, then the policy (its old versions first).
pub fn delete_chain(account: &str) -> Vec<Change> {
    let profile = change(
        IamKind::InstanceProfile,
        account,
        &nodes(),
        Action::Delete,
        vec![
            IamOp::RemoveRoleFromInstanceProfile { profile: nodes(), role: nodes() },
            IamOp::DeleteInstanceProfile { profile: nodes() },
        ],
        &[],
    );
    let role = change(
        IamKind::Role,
        account,
        &nodes(),
        Action::Delete,
        vec![
            IamOp::Detach { to: IamPrincipal::Role(nodes()), policy_arn: policy_arn(account) },
            IamOp::Detach { to: IamPrincipal::Role(nodes()), policy_arn: WORKER.into() },
            IamOp::DeleteRolePolicy { role: nodes(), policy: "extra".into() },
            IamOp::DeleteRole { role: nodes() },
        ],
        std::slice::from_ref(&profile.address),
    );
    let policy = change(
        IamKind::Policy,
        account,
        &nodes(),
        Action::Delete,
        vec![IamOp::DeletePolicy { policy_arn: policy_arn(account) }],
        std::slice::from_ref(&role.address),
    );
    vec![policy, role, profile]
}

pub fn pos(events: &[Event], f: impl Fn(&Event) -> bool) -> usize {
    events.iter().position(f).unwrap_or_else(|| panic!("no such event in {events:#?}"))
}

pub fn is(kind: &'static str, addr: String) -> impl Fn(&Event) -> bool {
    move |e| match e {
        Event::Started { address, .. } => kind == "started" && address.to_string() == addr,
        Event::Propagating { address } => kind == "propagating" && address.to_string() == addr,
        Event::Done { address, .. } => kind == "done" && address.to_string() == addr,
        _ => false,
    }
}

pub fn addr(kind: IamKind, account: &str) -> String {
    address(kind, account, &nodes()).to_string()
}

/// What the create chain leaves in `account` (IDs aside, which differ between runs).
pub fn assert_created(live: &AccountIam, account: &str) {
    let role = &live.roles[&nodes()];
    assert_eq!(role.trust, trust(&[ec2(), pods()]));
    assert_eq!(role.attached_policies, [policy_arn(account), WORKER.to_string()]);
    assert_eq!(role.inline_policies, [("extra".to_string(), doc(9))].into());
    assert_eq!(role.instance_profiles, [nodes()]);
    assert_eq!(role.tags, [("owner".to_string(), "xacct".to_string())].into());
    assert_eq!(live.instance_profiles[&nodes()].roles, [nodes()]);
    let policy = &live.policies[&nodes()];
    assert_eq!((policy.versions.len(), policy.default_version_id.as_str()), (1, "v1"));
    assert_eq!(policy.attachment_count, 1);
    assert_eq!(live.roles.len(), 1);
    assert_eq!(live.policies.len(), 1);
    assert_eq!(live.instance_profiles.len(), 1);
}
