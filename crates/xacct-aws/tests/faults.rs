//! Retries, credential failures and error wording, with the fault proxy between xacct and moto.

mod common;

use std::collections::HashMap;

use common::{json, policy, settings, trust, KEY_ID, ROLE, SECRET};
use xacct_aws::{AccountAccess, AwsCloud};
use xacct_plan::cloud::{Cloud, CloudError, DocRef};
use xacct_test_support::{moto, FaultConfig, FaultKind, FaultProxy, EC2_TRUST};

#[tokio::test]
async fn reads_and_writes_succeed_through_thirty_percent_failures() {
    let moto = moto();
    let source = moto.fresh_account();
    let targets: Vec<String> = (0..3).map(|_| moto.fresh_account()).collect();
    moto.create_role(&source, ROLE, EC2_TRUST).await;
    for t in &targets {
        moto.create_role(t, ROLE, EC2_TRUST).await;
    }
    let proxy = FaultProxy::start(moto.endpoint_url(), FaultConfig::failures(0.3, 20_240_601)).await.unwrap();
    let mut all: Vec<&str> = targets.iter().map(String::as_str).collect();
    all.push(&source);
    let cloud = AwsCloud::new(settings(proxy.url(), &all)).await;

    for t in &targets {
        let live = cloud.get_role(t, ROLE).await.unwrap().unwrap();
        cloud.update_trust_policy(t, ROLE, &live.trust_policy, &trust(&source)).await.unwrap();
        let doc = DocRef::Trust { account: t.clone(), role: ROLE.into() };
        cloud.wait_consistent(&doc, Some(&trust(&source))).await.unwrap();
        assert!(cloud.trust_policy_quota(t).await.unwrap() >= 2048);
    }
    let mut expected = None;
    for t in &targets {
        let doc = policy(t);
        cloud.put_role_policy(&source, ROLE, "xacct-assume", expected.as_deref(), &doc).await.unwrap();
        assert_eq!(cloud.list_role_policies(&source, ROLE).await.unwrap(), ["xacct-assume"]);
        expected = Some(doc);
    }
    cloud.delete_role_policy(&source, ROLE, "xacct-assume", expected.as_deref().unwrap()).await.unwrap();

    for t in &targets {
        assert_eq!(json(&moto.trust_of(t, ROLE).await.unwrap()), json(&trust(&source)));
    }
    assert!(moto.inline_policies(&source, ROLE).await.is_empty());
    let counts = proxy.counts();
    assert!(counts.throttling > 0 && counts.http500 > 0 && counts.reset > 0, "{counts:?}");
    assert_eq!(
        cloud.attempt_count(),
        counts.forwarded + counts.failures(),
        "every attempt reached the proxy: {counts:?}"
    );
    assert_eq!(cloud.attempt_count() - cloud.call_count(), counts.failures(), "each injected failure was retried");
}

#[tokio::test]
async fn retries_run_out_as_throttled() {
    let moto = moto();
    let account = moto.fresh_account();
    moto.create_role(&account, ROLE, EC2_TRUST).await;
    let proxy = FaultProxy::start(moto.endpoint_url(), FaultConfig::failures(0.0, 1)).await.unwrap();
    let cloud = AwsCloud::new(settings(proxy.url(), &[&account])).await;
    cloud.get_role(&account, ROLE).await.unwrap().unwrap();

    proxy.set_rate(1.0);
    // `failures` draws throttling, 500 and reset: whichever the last one is, the error says what to do.
    let err = cloud.get_role(&account, ROLE).await.unwrap_err();
    assert!(matches!(err, CloudError::Throttled { .. } | CloudError::Other { .. }), "{err:?}");
    assert_eq!(cloud.attempt_count() - cloud.call_count(), 9, "10 attempts in all for the last call");

    let only_throttling =
        FaultProxy::start(moto.endpoint_url(), FaultConfig { rate: 1.0, seed: 3, kinds: vec![FaultKind::Throttling] })
            .await
            .unwrap();
    let cloud = AwsCloud::new(settings(only_throttling.url(), &[&account])).await;
    let err = cloud.get_role(&account, ROLE).await.unwrap_err();
    assert!(matches!(&err, CloudError::Throttled { action, .. } if action == "sts:AssumeRole"), "{err:?}");
}

fn assert_no_secrets(text: &str) {
    assert!(!text.contains(SECRET), "secret leaked: {text}");
    assert!(!text.contains(KEY_ID), "access key leaked: {text}");
}

#[tokio::test]
async fn expired_or_invalid_credentials_are_credentials_errors_without_secrets() {
    let moto = moto();
    let account = moto.fresh_account();
    for (status, code, message) in [
        (400, "ExpiredToken", "The security token included in the request is expired"),
        (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
        (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        ),
    ] {
        let kind = FaultKind::AwsError { status, code, message };
        let proxy = FaultProxy::start(moto.endpoint_url(), FaultConfig { rate: 1.0, seed: 1, kinds: vec![kind] })
            .await
            .unwrap();
        let cloud = AwsCloud::new(settings(proxy.url(), &[&account])).await;
        let err = cloud.get_role(&account, ROLE).await.unwrap_err();
        let CloudError::Credentials { account: acct, message: text } = &err else {
            panic!("{code}: expected Credentials, got {err:?}")
        };
        assert_eq!(acct, &account);
        assert!(text.contains(code), "{text}");
        assert_no_secrets(&err.to_string());
        assert_no_secrets(&format!("{err:?}"));
        assert_eq!(proxy.counts().aws_errors, 1, "{code} is not retried");
        assert_no_secrets(&format!("{cloud:?}"));
        assert_no_secrets(&format!("{:?}", cloud.settings()));
    }
}

#[tokio::test]
async fn a_missing_profile_is_a_credentials_error() {
    let moto = moto();
    let account = moto.fresh_account();
    let mut s = settings(moto.endpoint_url(), &[]);
    s.accounts = HashMap::from([(account.clone(), AccountAccess::Profile("xacct-no-such-profile".into()))]);
    let cloud = AwsCloud::new(s).await;
    let err = cloud.get_role(&account, ROLE).await.unwrap_err();
    assert!(matches!(&err, CloudError::Credentials { .. }), "{err:?}");
    assert!(err.to_string().contains(&account), "{err}");
}

#[tokio::test]
async fn direct_credentials_must_act_in_the_account() {
    // The static credentials act in moto's default account, not in a fresh one.
    let moto = moto();
    let account = moto.fresh_account();
    let mut s = settings(moto.endpoint_url(), &[]);
    s.accounts = HashMap::from([(account.clone(), AccountAccess::DefaultChain)]);
    let cloud = AwsCloud::new(s).await;
    let err = cloud.get_role(&account, ROLE).await.unwrap_err();
    let CloudError::Credentials { message, .. } = &err else { panic!("{err:?}") };
    assert!(message.contains(xacct_test_support::DEFAULT_ACCOUNT), "{message}");
    assert_eq!(cloud.call_count(), 1, "one GetCallerIdentity, no IAM call");

    // In the default account itself they are fine.
    let mut s = settings(moto.endpoint_url(), &[]);
    s.accounts = HashMap::from([(xacct_test_support::DEFAULT_ACCOUNT.to_string(), AccountAccess::DefaultChain)]);
    let cloud = AwsCloud::new(s).await;
    cloud.get_role(xacct_test_support::DEFAULT_ACCOUNT, "xacct-surely-absent").await.unwrap();
    assert_eq!(cloud.call_count(), 2, "GetCallerIdentity + GetRole");
}

#[tokio::test]
async fn access_denied_names_principal_action_and_account() {
    let moto = moto();
    let account = moto.fresh_account();
    moto.create_role(&account, ROLE, EC2_TRUST).await;
    let message = "User: arn:aws:sts::999999999999:assumed-role/ops/xacct is not authorized to perform: iam:GetRole";
    let denied = FaultKind::AwsError { status: 403, code: "AccessDenied", message };
    let proxy =
        FaultProxy::start(moto.endpoint_url(), FaultConfig { rate: 0.0, seed: 1, kinds: vec![denied] }).await.unwrap();
    let cloud = AwsCloud::new(settings(proxy.url(), &[&account])).await;
    cloud.get_role(&account, ROLE).await.unwrap();
    proxy.set_rate(1.0);
    let err = cloud.get_role(&account, ROLE).await.unwrap_err();
    match &err {
        CloudError::AccessDenied { account: a, principal, action, .. } => {
            assert_eq!(a, &account);
            assert_eq!(principal, "arn:aws:sts::999999999999:assumed-role/ops/xacct");
            assert_eq!(action, "iam:GetRole");
        }
        other => panic!("{other:?}"),
    }
    // GetAccountSummary denied: the default quota.
    assert_eq!(cloud.trust_policy_quota(&account).await.unwrap(), 2048);

    // AssumeRole denied names the base credentials and says where to look.
    let other = moto.fresh_account();
    let cloud = AwsCloud::new(settings(proxy.url(), &[&other])).await;
    let err = cloud.get_role(&other, ROLE).await.unwrap_err();
    assert!(matches!(&err, CloudError::AccessDenied { action, .. } if action == "sts:AssumeRole"), "{err:?}");
    assert!(err.to_string().contains("trust policy"), "{err}");
}
