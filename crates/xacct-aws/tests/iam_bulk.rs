//! `IamCloud` on the emulator: CAPA's default set written through bootstrap's writes and read
//! back in bulk, the call cost of that read, managed-policy versions, IAM's delete order, and
//! AWS-managed policies (the server runs with `MOTO_IAM_LOAD_MANAGED_POLICIES=true`).

mod common;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use xacct_aws::AwsCloud;
use xacct_bootstrap::{resource_set, PolicyRef, Principal, Profile, ResourceSet, Source};
use xacct_plan::cloud::{Cloud, CloudError};
use xacct_plan::iam::{
    AccountIam, IamCloud, IamEntity, IamExpect, IamPrincipal, NewPolicy, NewRole, NewUser, ReadScope,
};
use xacct_test_support::moto;

fn equivalent(a: &Value, b: &Value) -> bool {
    xacct_policy::equivalent_text(&a.to_string(), &b.to_string()).expect("both parse as policies")
}

fn principal(p: &Principal) -> IamPrincipal {
    match p {
        Principal::Role(n) => IamPrincipal::Role(n.clone()),
        Principal::User(n) => IamPrincipal::User(n.clone()),
        Principal::Group(n) => IamPrincipal::Group(n.clone()),
    }
}

fn capa() -> ResourceSet {
    resource_set(&Source::Profile(Profile::Capa), "aws")
}

/// Create `set` in `account` in the graph's order: policies, roles (with inline policies),
/// instance profiles (read back with their role), users and groups, attachments.
async fn create_set(cloud: &AwsCloud, account: &str, set: &ResourceSet) {
    for p in &set.policies {
        let new = NewPolicy {
            name: p.name.clone(),
            path: p.path.clone(),
            description: p.description.clone(),
            document: p.document.clone(),
        };
        cloud.create_policy(account, &new).await.unwrap_or_else(|e| panic!("create policy {}: {e}", p.name));
    }
    for r in &set.roles {
        let new = NewRole {
            name: r.name.clone(),
            path: r.path.clone(),
            trust: r.trust.clone(),
            description: None,
            max_session_duration: r.max_session_duration,
            permissions_boundary: r.permissions_boundary.clone(),
            tags: r.tags.clone(),
        };
        let created = cloud.create_role(account, &new).await.unwrap_or_else(|e| panic!("create role {}: {e}", r.name));
        assert_eq!(created.arn, format!("arn:aws:iam::{account}:role{}{}", r.path, r.name));
        for inline in &r.inline_policies {
            cloud.put_role_policy(account, &r.name, &inline.name, None, &inline.document.to_string()).await.unwrap();
        }
    }
    for p in &set.instance_profiles {
        cloud.create_instance_profile(account, &p.name, &p.path).await.unwrap();
        cloud.add_role_to_instance_profile(account, &p.name, &p.role).await.unwrap();
        cloud.wait_instance_profile_has_role(account, &p.name, &p.role).await.unwrap();
    }
    for g in &set.groups {
        cloud.create_group(account, &g.name, &g.path).await.unwrap();
    }
    for u in &set.users {
        let new = NewUser { name: u.name.clone(), path: u.path.clone(), tags: u.tags.clone() };
        cloud.create_user(account, &new).await.unwrap();
        for g in &u.groups {
            cloud.add_user_to_group(account, &u.name, g).await.unwrap();
        }
        for inline in &u.inline_policies {
            cloud.put_user_policy(account, &u.name, &inline.name, &inline.document).await.unwrap();
        }
    }
    for a in &set.attachments {
        let arn = a.policy.arn(&set.partition, account);
        cloud.attach_policy(account, &principal(&a.to), &arn).await.unwrap_or_else(|e| panic!("attach {arn}: {e}"));
    }
}

/// The attachments of `set` to `to`, as ARNs in `account`, sorted.
fn desired_arns(set: &ResourceSet, account: &str, to: &Principal) -> Vec<String> {
    let mut arns: Vec<String> = set.attached_to(to).map(|p| p.arn(&set.partition, account)).collect();
    arns.sort();
    arns
}

/// `live` holds exactly `set`: names, paths, equivalent documents, attachments, profiles.
fn assert_matches(live: &AccountIam, set: &ResourceSet, account: &str) {
    let names = |m: Vec<&String>| m.into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(names(live.roles.keys().collect()), set.roles.iter().map(|r| r.name.clone()).collect::<Vec<_>>());
    for r in &set.roles {
        let l = &live.roles[&r.name];
        assert_eq!(l.path, r.path, "{}", r.name);
        assert_eq!(l.arn, format!("arn:aws:iam::{account}:role{}{}", r.path, r.name));
        assert!(l.role_id.starts_with("AROA"), "{}", l.role_id);
        assert!(equivalent(&l.trust, &r.trust), "trust of {}: {} vs {}", r.name, l.trust, r.trust);
        assert_eq!(l.permissions_boundary, r.permissions_boundary);
        assert_eq!(l.tags, r.tags);
        let inline: Vec<&String> = l.inline_policies.keys().collect();
        assert_eq!(inline, r.inline_policies.iter().map(|p| &p.name).collect::<Vec<_>>());
        for p in &r.inline_policies {
            assert!(equivalent(&l.inline_policies[&p.name], &p.document), "{} / {}", r.name, p.name);
        }
        assert_eq!(l.attached_policies, desired_arns(set, account, &Principal::Role(r.name.clone())), "{}", r.name);
        let profiles: Vec<String> =
            set.instance_profiles.iter().filter(|p| p.role == r.name).map(|p| p.name.clone()).collect();
        assert_eq!(l.instance_profiles, profiles, "{}", r.name);
        // In an instance profile, the bulk read knows the session length (IAM's default here).
        assert_eq!(l.max_session_duration, (!profiles.is_empty()).then_some(r.max_session_duration.unwrap_or(3600)));
    }
    assert_eq!(
        names(live.instance_profiles.keys().collect()),
        set.instance_profiles.iter().map(|p| p.name.clone()).collect::<Vec<_>>()
    );
    for p in &set.instance_profiles {
        let l = &live.instance_profiles[&p.name];
        assert_eq!((l.path.as_str(), l.roles.clone()), (p.path.as_str(), vec![p.role.clone()]));
        assert_eq!(l.arn, format!("arn:aws:iam::{account}:instance-profile{}{}", p.path, p.name));
    }
    assert_eq!(names(live.policies.keys().collect()), set.policies.iter().map(|p| p.name.clone()).collect::<Vec<_>>());
    for p in &set.policies {
        let l = &live.policies[&p.name];
        assert_eq!(l.arn, p.arn(&set.partition, account));
        assert_eq!(l.path, p.path);
        assert_eq!(l.description.as_deref(), Some(p.description.as_str()).filter(|d| !d.is_empty()));
        assert_eq!((l.default_version_id.as_str(), l.versions.len()), ("v1", 1), "{}", p.name);
        assert!(equivalent(l.default_document().unwrap(), &p.document), "{}", p.name);
        let attached = set.attachments.iter().filter(|a| a.policy == PolicyRef::Managed(p.name.clone())).count();
        assert_eq!(l.attachment_count as usize, attached, "{}", p.name);
    }
}

#[tokio::test]
async fn capas_default_set_is_written_and_read_back_in_one_page() {
    let set = capa();
    assert_eq!((set.roles.len(), set.instance_profiles.len(), set.policies.len()), (4, 3, 4));
    assert!(set.users.is_empty() && set.groups.is_empty());
    let account = moto().fresh_account();
    let cloud = common::cloud(&[&account]).await;
    create_set(&cloud, &account, &set).await;

    let before = cloud.call_count();
    let live = cloud.read_account(&account, ReadScope::ROLES).await.unwrap();
    assert_eq!(cloud.call_count() - before, 1, "one GetAccountAuthorizationDetails page");
    assert_eq!(live.pages, 1);
    assert_matches(&live, &set, &account);
    assert_eq!((live.users.as_ref(), live.groups.as_ref()), (None, None));
    // The AWS-managed policies the roles use are attached by ARN but never read.
    let nodes = &live.roles[&set.roles.iter().find(|r| r.name.starts_with("nodes.")).unwrap().name];
    assert!(nodes.attached_policies.contains(&"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy".to_string()));
    assert!(live.policies.values().all(|p| p.arn.starts_with(&format!("arn:aws:iam::{account}:policy/"))));

    // A no-change plan's read, from a client that has not used the account yet: sts:AssumeRole
    // plus one page.
    let fresh = common::cloud(&[&account]).await;
    let again = fresh.read_account(&account, ReadScope::ROLES).await.unwrap();
    assert_eq!(fresh.call_count(), 2);
    assert_eq!(again, live);
    // Users and groups asked for: still one page, and none there.
    let all = fresh.read_account(&account, ReadScope::ALL).await.unwrap();
    assert_eq!(fresh.call_count(), 3);
    assert_eq!((all.users, all.groups), (Some(BTreeMap::new()), Some(BTreeMap::new())));
}

#[tokio::test]
async fn aws_managed_policies_are_attachable_and_never_read() {
    let account = moto().fresh_account();
    let cloud = common::cloud(&[&account]).await;
    let trust = capa().roles[0].trust.clone();
    let role = NewRole { name: "r".into(), path: "/".into(), trust, ..NewRole::default() };
    cloud.create_role(&account, &role).await.unwrap();
    let arn = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy";
    cloud.attach_policy(&account, &IamPrincipal::Role("r".into()), arn).await.unwrap();
    let e = cloud
        .attach_policy(&account, &IamPrincipal::Role("r".into()), "arn:aws:iam::aws:policy/NoSuchPolicyXacct")
        .await
        .unwrap_err();
    assert!(matches!(e, CloudError::NoSuchEntity { .. }), "{e}");

    let live = cloud.read_account(&account, ReadScope::ALL).await.unwrap();
    assert_eq!(live.roles["r"].attached_policies, [arn]);
    assert!(live.policies.is_empty(), "{:?}", live.policies.keys().collect::<Vec<_>>());

    // Unfiltered, the same account's details carry every AWS-managed policy.
    let iam = moto().iam(&account).await;
    let unfiltered = iam.get_account_authorization_details().send().await.unwrap();
    assert!(unfiltered.policies().len() > 1000, "{}", unfiltered.policies().len());
}

#[tokio::test]
async fn a_full_policy_loses_its_oldest_non_default_version() {
    let account = moto().fresh_account();
    let cloud = common::cloud(&[&account]).await;
    let doc = |n: u32| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": format!("ec2:Describe{n}"), "Resource": "*"}]});
    let new = NewPolicy { name: "p".into(), path: "/".into(), description: "d".into(), document: doc(1) };
    let arn = cloud.create_policy(&account, &new).await.unwrap().arn;
    assert_eq!(arn, format!("arn:aws:iam::{account}:policy/p"));
    // A retried create of the same policy is success.
    assert_eq!(cloud.create_policy(&account, &new).await.unwrap().arn, arn);
    for n in 2..=5 {
        assert_eq!(cloud.create_policy_version(&account, &arn, &doc(n)).await.unwrap(), format!("v{n}"));
    }
    // Someone made v1 the default again: the oldest non-default one is now v2.
    let iam = moto().iam(&account).await;
    iam.set_default_policy_version().policy_arn(&arn).version_id("v1").send().await.unwrap();

    let before = cloud.call_count();
    assert_eq!(cloud.create_policy_version(&account, &arn, &doc(6)).await.unwrap(), "v6");
    assert_eq!(cloud.call_count() - before, 3, "ListPolicyVersions, DeletePolicyVersion v2, CreatePolicyVersion");
    let wait = IamExpect::DefaultDocument { account: account.clone(), policy_arn: arn.clone(), document: doc(6) };
    cloud.wait_until(&wait).await.unwrap();

    let live = cloud.read_account(&account, ReadScope::ROLES).await.unwrap();
    let p = &live.policies["p"];
    let ids: Vec<(&str, bool)> = p.versions.iter().map(|v| (v.id.as_str(), v.is_default)).collect();
    assert_eq!(ids, [("v1", false), ("v3", false), ("v4", false), ("v5", false), ("v6", true)]);
    assert_eq!((p.default_version_id.as_str(), p.default_document()), ("v6", Some(&doc(6))));
    assert_eq!(p.policy_id, None, "moto leaves PolicyId out of the bulk read");

    // The same document again (a retried step): only the fresh read.
    let before = cloud.call_count();
    assert_eq!(cloud.create_policy_version(&account, &arn, &doc(6)).await.unwrap(), "v6");
    assert_eq!(cloud.call_count() - before, 1);

    // Deleting it removes the four non-default versions first, then the policy.
    let before = cloud.call_count();
    cloud.delete_policy(&account, &arn).await.unwrap();
    assert_eq!(cloud.call_count() - before, 6);
    let gone = IamExpect::Exists { account: account.clone(), entity: IamEntity::Policy(arn.clone()), exists: false };
    cloud.wait_until(&gone).await.unwrap();
    cloud.delete_policy(&account, &arn).await.unwrap();
}

#[tokio::test]
async fn destroy_in_iams_order_leaves_the_account_empty() {
    let set = capa();
    let account = moto().fresh_account();
    let cloud = common::cloud(&[&account]).await;
    create_set(&cloud, &account, &set).await;
    // A second version, so that deleting the policy has a non-default one to delete first.
    let controllers = &set.policies[0];
    let arn = controllers.arn(&set.partition, &account);
    let mut wider = controllers.document.clone();
    wider["Statement"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Effect": "Allow", "Action": "ec2:DescribeTags", "Resource": "*"}));
    assert_eq!(cloud.create_policy_version(&account, &arn, &wider).await.unwrap(), "v2");

    // Out of order, IAM refuses and says why.
    let role = &set.instance_profiles[0].role;
    let e = cloud.delete_role(&account, role).await.unwrap_err();
    let CloudError::Other { action, message, .. } = &e else { panic!("{e:?}") };
    assert_eq!(action, "iam:DeleteRole");
    assert!(
        message.starts_with(&format!("DeleteConflict: role `{role}` in account {account} cannot be deleted while")),
        "{message}"
    );

    let live = cloud.read_account(&account, ReadScope::ALL).await.unwrap();
    for a in &set.attachments {
        cloud.detach_policy(&account, &principal(&a.to), &a.policy.arn(&set.partition, &account)).await.unwrap();
    }
    for r in live.roles.values() {
        for (name, doc) in &r.inline_policies {
            cloud.delete_role_policy(&account, &r.name, name, &doc.to_string()).await.unwrap();
        }
    }
    for p in live.instance_profiles.values() {
        for r in &p.roles {
            cloud.remove_role_from_instance_profile(&account, &p.name, r).await.unwrap();
        }
        cloud.delete_instance_profile(&account, &p.name).await.unwrap();
    }
    for r in live.roles.keys() {
        cloud.delete_role(&account, r).await.unwrap();
    }
    for p in live.policies.values() {
        cloud.delete_policy(&account, &p.arn).await.unwrap();
    }
    let after = cloud.read_account(&account, ReadScope::ALL).await.unwrap();
    assert!(after.is_empty(), "{after:#?}");
    // The bulk read does not show an empty instance profile: ask IAM itself.
    for p in &set.instance_profiles {
        let gone = IamExpect::Exists {
            account: account.clone(),
            entity: IamEntity::InstanceProfile(p.name.clone()),
            exists: false,
        };
        cloud.wait_until(&gone).await.unwrap();
    }
    // Deleting again is success.
    cloud.delete_role(&account, role).await.unwrap();
    cloud.delete_instance_profile(&account, &set.instance_profiles[0].name).await.unwrap();
}

#[tokio::test]
async fn creates_are_idempotent_and_refuse_a_different_resource() {
    let account = moto().fresh_account();
    let cloud = common::cloud(&[&account]).await;
    let trust = capa().roles[0].trust.clone();
    let role = NewRole {
        name: "r".into(),
        path: "/capa/".into(),
        trust: trust.clone(),
        description: Some("made by xacct".into()),
        max_session_duration: Some(7200),
        permissions_boundary: Some("arn:aws:iam::aws:policy/PowerUserAccess".into()),
        tags: BTreeMap::from([("owner".to_string(), "xacct".to_string())]),
    };
    let first = cloud.create_role(&account, &role).await.unwrap();
    assert_eq!(cloud.create_role(&account, &role).await.unwrap(), first);
    let other = NewRole { trust: json!({"Version": "2012-10-17", "Statement": []}), ..role.clone() };
    let e = cloud.create_role(&account, &other).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "role `r` in account {account} (it exists already, not as xacct would create it) changed since it was \
             read; re-run `xacct plan`"
        )
    );

    cloud.create_instance_profile(&account, "r", "/capa/").await.unwrap();
    cloud.create_instance_profile(&account, "r", "/capa/").await.unwrap();
    let e = cloud.create_instance_profile(&account, "r", "/other/").await.unwrap_err();
    assert!(matches!(e, CloudError::Conflict { .. }), "{e}");
    cloud.add_role_to_instance_profile(&account, "r", "r").await.unwrap();
    cloud.add_role_to_instance_profile(&account, "r", "r").await.unwrap();
    let second = NewRole { name: "s".into(), path: "/".into(), trust, ..NewRole::default() };
    cloud.create_role(&account, &second).await.unwrap();
    let e = cloud.add_role_to_instance_profile(&account, "r", "s").await.unwrap_err();
    assert!(
        matches!(&e, CloudError::LimitExceeded { what, .. } if what == &format!("instance profile `r` in account {account}")),
        "{e}"
    );

    let live = cloud.read_account(&account, ReadScope::ROLES).await.unwrap();
    let r = &live.roles["r"];
    assert_eq!((r.path.as_str(), r.arn.clone()), ("/capa/", first.arn.clone()));
    assert_eq!(r.permissions_boundary.as_deref(), Some("arn:aws:iam::aws:policy/PowerUserAccess"));
    assert_eq!(r.tags, role.tags);
    // Known from its instance profile's entry; the role without a profile has neither.
    assert_eq!((r.description.as_deref(), r.max_session_duration), (Some("made by xacct"), Some(7200)));
    assert_eq!((live.roles["s"].description.as_deref(), live.roles["s"].max_session_duration), (None, None));

    cloud.update_role(&account, "r", Some("changed"), Some(3600)).await.unwrap();
    let live = cloud.read_account(&account, ReadScope::ROLES).await.unwrap();
    assert_eq!(
        (live.roles["r"].description.as_deref(), live.roles["r"].max_session_duration),
        (Some("changed"), Some(3600))
    );

    assert_eq!(cloud.attached_policies_quota(&account).await.unwrap(), 10);
}

#[tokio::test]
async fn users_and_groups_are_read_when_asked() {
    let account = moto().fresh_account();
    let cloud = common::cloud(&[&account]).await;
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a b/100%"}]});
    let user = NewUser { name: "u".into(), path: "/".into(), tags: BTreeMap::from([("k".into(), "v".into())]) };
    let created = cloud.create_user(&account, &user).await.unwrap();
    assert_eq!(cloud.create_user(&account, &user).await.unwrap(), created);
    cloud.create_group(&account, "g", "/").await.unwrap();
    cloud.add_user_to_group(&account, "u", "g").await.unwrap();
    cloud.add_user_to_group(&account, "u", "g").await.unwrap();
    cloud.put_user_policy(&account, "u", "i", &doc).await.unwrap();
    let policy = NewPolicy { name: "p".into(), path: "/".into(), description: String::new(), document: doc.clone() };
    let arn = cloud.create_policy(&account, &policy).await.unwrap().arn;
    for to in [IamPrincipal::User("u".into()), IamPrincipal::Group("g".into())] {
        cloud.attach_policy(&account, &to, &arn).await.unwrap();
        let attached = IamExpect::Attached { account: account.clone(), to, policy_arn: arn.clone(), attached: true };
        cloud.wait_until(&attached).await.unwrap();
    }

    let live = cloud.read_account(&account, ReadScope::ALL).await.unwrap();
    let u = &live.users.as_ref().unwrap()["u"];
    assert_eq!((u.arn.as_str(), u.groups.clone()), (created.arn.as_str(), vec!["g".to_string()]));
    assert_eq!(u.inline_policies["i"], doc, "URL-encoded by the emulator, decoded here");
    assert_eq!((u.attached_policies.clone(), u.tags.clone()), (vec![arn.clone()], user.tags.clone()));
    let g = &live.groups.as_ref().unwrap()["g"];
    assert_eq!(g.attached_policies, std::slice::from_ref(&arn));
    assert_eq!(live.policies["p"].attachment_count, 2);
    assert_eq!(live.policies["p"].description, None);
    let roles_only = cloud.read_account(&account, ReadScope::ROLES).await.unwrap();
    assert_eq!((roles_only.users, roles_only.groups), (None, None));

    // moto deletes a group that still has members and attachments (AWS refuses with
    // DeleteConflict, as MemoryIam does), so the order is not checked here: IAM's is followed.
    for to in [IamPrincipal::User("u".into()), IamPrincipal::Group("g".into())] {
        cloud.detach_policy(&account, &to, &arn).await.unwrap();
        cloud.detach_policy(&account, &to, &arn).await.unwrap();
    }
    cloud.remove_user_from_group(&account, "u", "g").await.unwrap();
    cloud.delete_user_policy(&account, "u", "i").await.unwrap();
    cloud.delete_user(&account, "u").await.unwrap();
    cloud.delete_group(&account, "g").await.unwrap();
    cloud.delete_policy(&account, &arn).await.unwrap();
    assert!(cloud.read_account(&account, ReadScope::ALL).await.unwrap().is_empty());
}
