//! Hand-built plans and drift reports.

use serde_json::{json, Value};
use xacct_plan::drift::DriftReport;
use xacct_plan::{Action, Change, Diagnostic, Drift, DriftKind, Level, Plan, Summary, Target};
use xacct_spec::Address;

pub fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

fn statement(principal: &str) -> Value {
    json!({
        "Sid": "XacctCapaTrust",
        "Effect": "Allow",
        "Principal": { "AWS": principal },
        "Action": "sts:AssumeRole"
    })
}

const MGMT_ROLE: &str = "arn:aws:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io";

pub fn change(address: &str, action: Action) -> Change {
    let address = addr(address);
    let target = match &address {
        Address::Role(_) => Target::Role { account: "222222222222".into(), role: "capa".into() },
        Address::Trust(_) => Target::Trust { account: "222222222222".into(), role: "capa".into() },
        Address::AssumePolicy => {
            Target::InlinePolicy { account: "111111111111".into(), role: "capa".into(), policy: "xacct-assume".into() }
        }
        Address::Manifest { path, .. } => Target::Manifest { path: path.clone() },
        Address::Iam { .. } => panic!("no render fixture for bootstrap addresses yet: {address}"),
    };
    Change {
        kind: address.kind().to_string(),
        address,
        actions: vec![action],
        before: Value::Null,
        after: Value::Null,
        reason: None,
        drift: false,
        depends_on: Vec::new(),
        live_fingerprint: Some("ab12".into()),
        target,
        live: Some("{\"Version\":\"2012-10-17\",\"Statement\":[]}".into()),
        write: Some("{\"Version\":\"2012-10-17\",\"Statement\":[\"whole document\"]}".into()),
        state_after: json!({ "recorded": true }),
        diff: None,
        replaces: None,
        unreachable: false,
    }
}

pub const MANIFEST_DIFF: &str = "--- a/clusters/dev-1.yaml\n+++ b/clusters/dev-1.yaml\n@@ -3,4 +3,7 @@\n metadata:\n   name: dev-1\n spec:\n   region: us-east-1\n+  identityRef:\n+    kind: AWSClusterRoleIdentity\n+    name: dev-account-role\n";

/// Every action, drift, a manifest, a role precondition with a warning, no errors.
pub fn full_plan() -> Plan {
    let mut changes = Vec::new();
    changes.push(change("role.management", Action::NoOp));
    changes.push(change("role.dev", Action::NoOp));

    let mut c = change("trust.dev", Action::Create);
    c.after = statement(MGMT_ROLE);
    c.depends_on = vec![addr("role.dev")];
    changes.push(c);

    let mut c = change("trust.test", Action::Update);
    c.before = statement("arn:aws:iam::111111111111:role/someone-else");
    c.after = statement(MGMT_ROLE);
    c.drift = true;
    c.reason = Some("xacct's statement was changed outside xacct: restoring it".into());
    changes.push(c);

    let mut c = change("assume_policy.management", Action::Update);
    c.before = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ["arn:aws:iam::222222222222:role/capa"] }]
    });
    c.after = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ["arn:aws:iam::222222222222:role/capa", "arn:aws:iam::333333333333:role/capa"] }]
    });
    changes.push(c);

    let mut c = change("trust.old", Action::Delete);
    c.before = statement(MGMT_ROLE);
    c.reason = Some("no longer in the file".into());
    changes.push(c);

    let mut c = change("trust.acc", Action::Adopt);
    c.after = statement(MGMT_ROLE);
    c.reason =
        Some("an equivalent statement (`ByHand`) is already there (added by hand?): adopting it, no write".into());
    c.write = None;
    changes.push(c);

    let mut c = change("trust.gone", Action::Forget);
    c.before = statement(MGMT_ROLE);
    c.reason = Some("the role is gone, and the statement with it: dropping it from state".into());
    c.write = None;
    changes.push(c);

    let mut c = change("manifest.dev[\"clusters/dev-1.yaml\"]", Action::Create);
    c.after = json!({ "identity": "dev-account-role", "role_arn": "arn:aws:iam::222222222222:role/capa" });
    c.diff = Some(MANIFEST_DIFF.into());
    changes.push(c);

    let mut c = change("trust.prod", Action::NoOp);
    c.before = statement(MGMT_ROLE);
    c.after = statement(MGMT_ROLE);
    changes.push(c);

    Plan {
        format_version: 1,
        xacct_version: "0.1.0".into(),
        spec_digest: "d1g35t".into(),
        lineage: Some("4a5b".into()),
        serial: Some(3),
        refreshed: true,
        targets: Vec::new(),
        changes,
        drift: vec![Drift {
            address: addr("trust.test"),
            kind: DriftKind::Modified,
            detail: "xacct's trust statement was changed outside xacct".into(),
            stored: statement(MGMT_ROLE),
            live: statement("arn:aws:iam::111111111111:role/someone-else"),
        }],
        diagnostics: vec![Diagnostic {
            severity: Level::Warning,
            address: Some("role.dev".into()),
            message: "role `capa` allows sessions of at most 3600 seconds".into(),
            hint: Some("lower `identity.duration_seconds` to 3600 or less".into()),
        }],
        summary: Summary {
            create: 2,
            update: 2,
            delete: 1,
            adopt: 1,
            forget: 1,
            no_op: 3,
            drift: 1,
            aws_calls: 7,
            ..Summary::default()
        },
        applyable: true,
    }
}

/// Nothing pending.
pub fn empty_plan() -> Plan {
    let mut c = change("trust.dev", Action::NoOp);
    c.before = statement(MGMT_ROLE);
    c.after = statement(MGMT_ROLE);
    Plan {
        format_version: 1,
        xacct_version: "0.1.0".into(),
        spec_digest: "d1g35t".into(),
        lineage: Some("4a5b".into()),
        serial: Some(3),
        refreshed: true,
        targets: Vec::new(),
        changes: vec![change("role.dev", Action::NoOp), c],
        drift: Vec::new(),
        diagnostics: Vec::new(),
        summary: Summary { no_op: 2, aws_calls: 5, ..Summary::default() },
        applyable: true,
    }
}

/// A plan an error makes unappliable, made without refreshing.
pub fn blocked_plan() -> Plan {
    let mut c = change("trust.dev", Action::Create);
    c.after = statement(MGMT_ROLE);
    let mut plan = empty_plan();
    plan.changes = vec![c];
    plan.refreshed = false;
    plan.targets = vec!["trust.dev".into()];
    plan.diagnostics = vec![
        Diagnostic { severity: Level::Warning, address: None, message: "state has no lineage yet".into(), hint: None },
        Diagnostic {
            severity: Level::Error,
            address: Some("trust.dev".into()),
            message: "the trust policy would be 2112 characters, over IAM's 2048 limit".into(),
            hint: Some("ask AWS to raise the `Role trust policy length` quota, or remove unused statements".into()),
        },
    ];
    plan.summary = Summary { create: 1, aws_calls: 0, ..Summary::default() };
    plan.applyable = false;
    plan
}

pub fn drift_report() -> DriftReport {
    DriftReport {
        format_version: 1,
        xacct_version: "0.1.0".into(),
        lineage: Some("4a5b".into()),
        serial: Some(3),
        checked: 5,
        drift: vec![
            Drift {
                address: addr("trust.test"),
                kind: DriftKind::Modified,
                detail: "xacct's trust statement was changed outside xacct".into(),
                stored: statement(MGMT_ROLE),
                live: statement("arn:aws:iam::111111111111:role/someone-else"),
            },
            Drift {
                address: addr("manifest.dev[\"clusters/dev-1.yaml\"]"),
                kind: DriftKind::Deleted,
                detail: "`clusters/dev-1.yaml` no longer exists".into(),
                stored: json!({ "sha256": "00ff" }),
                live: Value::Null,
            },
        ],
        diagnostics: Vec::new(),
        aws_calls: 6,
    }
}

pub fn in_sync_report() -> DriftReport {
    DriftReport { drift: Vec::new(), ..drift_report() }
}
