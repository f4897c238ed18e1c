//! `AwsCloud` against the moto emulator, through the real SDK, in random accounts.

mod common;

use common::{cloud, json, policy, trust, ROLE};
use xacct_plan::cloud::{Cloud, CloudError, DocRef};
use xacct_test_support::moto;

#[tokio::test]
async fn reads_decode_documents() {
    let moto = moto();
    let (source, target) = (moto.fresh_account(), moto.fresh_account());
    moto.create_role(&target, ROLE, &trust(&source)).await;
    moto.put_inline_policy(&target, ROLE, "xacct-assume", &policy(&source)).await;
    moto.put_inline_policy(&target, ROLE, "other", &policy("333333333333")).await;
    let cloud = cloud(&[&target]).await;

    let role = cloud.get_role(&target, ROLE).await.unwrap().expect("role exists");
    assert_eq!(role.arn, format!("arn:aws:iam::{target}:role/{ROLE}"));
    assert!(role.role_id.starts_with("AROA"), "{}", role.role_id);
    assert_eq!(role.max_session_duration, 3600);
    assert_eq!(json(&role.trust_policy), json(&trust(&source)), "decoded: {}", role.trust_policy);
    assert!(role.trust_policy.contains("ext id/with+chars&more"));

    let mut names = cloud.list_role_policies(&target, ROLE).await.unwrap();
    names.sort();
    assert_eq!(names, ["other", "xacct-assume"]);
    let doc = cloud.get_role_policy(&target, ROLE, "xacct-assume").await.unwrap().unwrap();
    assert_eq!(json(&doc), json(&policy(&source)));

    assert_eq!(cloud.get_role(&target, "no-such-role").await.unwrap(), None);
    assert_eq!(cloud.get_role_policy(&target, ROLE, "no-such-policy").await.unwrap(), None);
    assert!(cloud.trust_policy_quota(&target).await.unwrap() >= 2048);
}

#[tokio::test]
async fn an_unlisted_account_uses_the_unlisted_access_with_its_own_id() {
    let moto = moto();
    let target = moto.fresh_account();
    moto.create_role(&target, ROLE, &trust("111111111111")).await;
    let mut settings = common::settings(moto.endpoint_url(), &[]);
    settings.unlisted = xacct_aws::AccountAccess::AssumeRole {
        role_arn: format!("arn:aws:iam::{{account}}:role/{}", xacct_test_support::ACCESS_ROLE),
        external_id: None,
        session_name: None,
    };
    let cloud = xacct_aws::AwsCloud::new(settings).await;
    let role = cloud.get_role(&target, ROLE).await.unwrap().expect("read in the right account");
    assert_eq!(role.arn, format!("arn:aws:iam::{target}:role/{ROLE}"));

    // Without it, the base credentials act in another account and the read is refused.
    let cloud = xacct_aws::AwsCloud::new(common::settings(moto.endpoint_url(), &[])).await;
    match cloud.get_role(&target, ROLE).await {
        Err(CloudError::Credentials { message, .. }) => assert!(message.contains("defaults.access"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn call_counts_are_exact() {
    let moto = moto();
    let (a, b) = (moto.fresh_account(), moto.fresh_account());
    moto.create_role(&a, ROLE, &trust(&b)).await;
    let cloud = cloud(&[&a, &b]).await;
    assert_eq!(cloud.call_count(), 0, "nothing is sent before the first call");

    cloud.get_role(&a, ROLE).await.unwrap().unwrap();
    assert_eq!(cloud.call_count(), 2, "AssumeRole + GetRole");
    cloud.get_role(&a, ROLE).await.unwrap().unwrap();
    assert_eq!(cloud.call_count(), 3, "credentials are reused");
    cloud.list_role_policies(&a, ROLE).await.unwrap();
    assert_eq!(cloud.call_count(), 4);
    cloud.trust_policy_quota(&a).await.unwrap();
    cloud.trust_policy_quota(&a).await.unwrap();
    assert_eq!(cloud.call_count(), 5, "the quota is read once per account");
    assert_eq!(cloud.get_role(&b, ROLE).await.unwrap(), None);
    assert_eq!(cloud.call_count(), 7, "a second account: AssumeRole + GetRole");

    let live = cloud.get_role(&a, ROLE).await.unwrap().unwrap().trust_policy;
    let before = cloud.call_count();
    cloud.update_trust_policy(&a, ROLE, &live, &trust("444444444444")).await.unwrap();
    assert_eq!(cloud.call_count() - before, 2, "GetRole + UpdateAssumeRolePolicy");
    let before = cloud.call_count();
    let doc = DocRef::Trust { account: a.clone(), role: ROLE.to_string() };
    cloud.wait_consistent(&doc, Some(&trust("444444444444"))).await.unwrap();
    assert_eq!(cloud.call_count() - before, 3, "three consistent reads");
    assert_eq!(cloud.attempt_count(), cloud.call_count(), "no retries without faults");
}

#[tokio::test]
async fn writes_land_in_the_right_account() {
    let moto = moto();
    let (source, t1, t2) = (moto.fresh_account(), moto.fresh_account(), moto.fresh_account());
    for account in [&source, &t1, &t2] {
        moto.create_role(account, ROLE, xacct_test_support::EC2_TRUST).await;
    }
    let cloud = cloud(&[&source, &t1, &t2]).await;

    // Trust in t1 only.
    let desired = trust(&source);
    cloud.update_trust_policy(&t1, ROLE, xacct_test_support::EC2_TRUST, &desired).await.unwrap();
    assert_eq!(json(&moto.trust_of(&t1, ROLE).await.unwrap()), json(&desired));
    assert_eq!(json(&moto.trust_of(&t2, ROLE).await.unwrap()), json(xacct_test_support::EC2_TRUST));
    assert_eq!(json(&moto.trust_of(&source, ROLE).await.unwrap()), json(xacct_test_support::EC2_TRUST));

    // An inline policy in the source account only: create, update, delete.
    let p1 = policy(&t1);
    cloud.put_role_policy(&source, ROLE, "xacct-assume", None, &p1).await.unwrap();
    let inline = moto.inline_policies(&source, ROLE).await;
    assert_eq!(inline.keys().collect::<Vec<_>>(), ["xacct-assume"]);
    assert_eq!(json(&inline["xacct-assume"]), json(&p1));
    assert!(moto.inline_policies(&t1, ROLE).await.is_empty());

    let p2 = policy(&t2);
    cloud.put_role_policy(&source, ROLE, "xacct-assume", Some(&p1), &p2).await.unwrap();
    assert_eq!(json(&moto.inline_policies(&source, ROLE).await["xacct-assume"]), json(&p2));
    let doc = DocRef::InlinePolicy { account: source.clone(), role: ROLE.into(), policy: "xacct-assume".into() };
    cloud.wait_consistent(&doc, Some(&p2)).await.unwrap();

    cloud.delete_role_policy(&source, ROLE, "xacct-assume", &p2).await.unwrap();
    assert!(moto.inline_policies(&source, ROLE).await.is_empty());
    cloud.wait_consistent(&doc, None).await.unwrap();
    // Deleting what is already gone is done, not an error.
    cloud.delete_role_policy(&source, ROLE, "xacct-assume", &p2).await.unwrap();
}

#[tokio::test]
async fn a_write_after_an_out_of_band_change_is_a_conflict() {
    let moto = moto();
    let (source, target) = (moto.fresh_account(), moto.fresh_account());
    moto.create_role(&target, ROLE, xacct_test_support::EC2_TRUST).await;
    let cloud = cloud(&[&source, &target]).await;
    let read = cloud.get_role(&target, ROLE).await.unwrap().unwrap().trust_policy;

    // Someone re-runs the CloudFormation stack: the trust changes behind xacct's back.
    let theirs = trust("555555555555");
    moto.put_trust(&target, ROLE, &theirs).await;
    let err = cloud.update_trust_policy(&target, ROLE, &read, &trust(&source)).await.unwrap_err();
    assert!(matches!(&err, CloudError::Conflict { what } if what.contains(&target)), "{err:?}");
    assert!(err.to_string().contains("re-run `xacct plan`"), "{err}");
    assert_eq!(json(&moto.trust_of(&target, ROLE).await.unwrap()), json(&theirs), "nothing written");

    // Equal JSON in another layout is not a conflict.
    let reformatted = serde_json::to_string_pretty(&json(&theirs)).unwrap();
    cloud.update_trust_policy(&target, ROLE, &reformatted, &trust(&source)).await.unwrap();

    // Inline policies: created meanwhile, changed meanwhile, changed before a delete.
    moto.put_inline_policy(&target, ROLE, "p", &policy("666666666666")).await;
    let err = cloud.put_role_policy(&target, ROLE, "p", None, &policy(&source)).await.unwrap_err();
    assert!(matches!(err, CloudError::Conflict { .. }), "{err:?}");
    let err = cloud.put_role_policy(&target, ROLE, "p", Some(&policy("777777777777")), &policy(&source)).await;
    assert!(matches!(err, Err(CloudError::Conflict { .. })), "{err:?}");
    let err = cloud.delete_role_policy(&target, ROLE, "p", &policy("777777777777")).await;
    assert!(matches!(err, Err(CloudError::Conflict { .. })), "{err:?}");
    assert_eq!(json(&moto.inline_policies(&target, ROLE).await["p"]), json(&policy("666666666666")));

    // Writing a role that does not exist says so.
    let err = cloud.update_trust_policy(&target, "gone", "{}", &trust(&source)).await.unwrap_err();
    assert!(matches!(&err, CloudError::NoSuchEntity { what } if what.contains("gone")), "{err:?}");
}

#[tokio::test]
async fn wait_consistent_gives_up_with_not_consistent() {
    let moto = moto();
    let account = moto.fresh_account();
    moto.create_role(&account, ROLE, xacct_test_support::EC2_TRUST).await;
    let cloud = cloud(&[&account]).await;
    let doc = DocRef::Trust { account: account.clone(), role: ROLE.into() };
    let start = std::time::Instant::now();
    let err = cloud.wait_consistent(&doc, Some(&trust("888888888888"))).await.unwrap_err();
    assert!(matches!(err, CloudError::NotConsistent { seconds: 2, .. }), "{err:?}");
    assert!(start.elapsed() < std::time::Duration::from_secs(3));
}

#[tokio::test]
async fn iam_rejections_are_typed() {
    let moto = moto();
    let account = moto.fresh_account();
    moto.create_role(&account, ROLE, xacct_test_support::EC2_TRUST).await;
    let cloud = cloud(&[&account]).await;
    let err = cloud
        .update_trust_policy(&account, ROLE, xacct_test_support::EC2_TRUST, "this is not a policy")
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::MalformedPolicy { .. }), "{err:?}");

    let err = cloud.get_role("12345", ROLE).await.unwrap_err();
    assert!(err.to_string().contains("12 digits"), "{err}");
}
