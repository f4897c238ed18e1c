//! The harness, proven through the real AWS SDK against the emulator.

use xacct_test_support::{moto, FaultConfig, FaultKind, FaultProxy, EC2_TRUST};

#[tokio::test]
async fn caller_identity_assume_role_and_account_isolation() {
    let moto = moto();
    let sts = moto.sts().await;
    let me = sts.get_caller_identity().send().await.expect("GetCallerIdentity");
    assert_eq!(me.account(), Some(xacct_test_support::DEFAULT_ACCOUNT));

    let account = moto.fresh_account();
    assert_eq!(account.len(), 12);
    assert_ne!(account, xacct_test_support::DEFAULT_ACCOUNT);

    let iam = moto.iam(&account).await;
    let created = iam.create_role().role_name("harness").assume_role_policy_document(EC2_TRUST).send().await;
    let created = created.expect("CreateRole");
    let arn = created.role().unwrap().arn().to_string();
    assert_eq!(arn, format!("arn:aws:iam::{account}:role/harness"));

    let got = iam.get_role().role_name("harness").send().await.expect("GetRole");
    assert_eq!(got.role().unwrap().arn(), arn);
    let trust: serde_json::Value = serde_json::from_str(&moto.trust_of(&account, "harness").await.unwrap()).unwrap();
    assert_eq!(trust, serde_json::from_str::<serde_json::Value>(EC2_TRUST).unwrap());

    let other = moto.fresh_account();
    assert_ne!(other, account);
    assert_eq!(moto.trust_of(&other, "harness").await, None, "another account must not see the role");
}

#[tokio::test]
async fn inline_policy_helpers_round_trip_decoded() {
    let moto = moto();
    let account = moto.fresh_account();
    moto.create_role(&account, "r", EC2_TRUST).await;
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/a b"}]}"#;
    moto.put_inline_policy(&account, "r", "p", doc).await;
    let policies = moto.inline_policies(&account, "r").await;
    assert_eq!(policies.len(), 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&policies["p"]).unwrap(),
        serde_json::from_str::<serde_json::Value>(doc).unwrap()
    );
}

#[tokio::test]
async fn fault_proxy_injects_and_counts() {
    let moto = moto();
    // Every request throttled: the SDK's retries give up and the error is Throttling.
    let proxy =
        FaultProxy::start(moto.endpoint_url(), FaultConfig { rate: 1.0, seed: 7, kinds: vec![FaultKind::Throttling] })
            .await
            .unwrap();
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(proxy.url())
        .credentials_provider(xacct_test_support::static_credentials())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&conf);
    let err = sts.get_caller_identity().send().await.expect_err("throttled");
    assert_eq!(
        err.as_service_error().and_then(|e| aws_sdk_sts::error::ProvideErrorMetadata::code(e)),
        Some("Throttling")
    );
    assert_eq!(proxy.counts().throttling, 2);
    assert_eq!(proxy.counts().forwarded, 0);

    // Resets and 500s are retried by the SDK; with enough attempts the call gets through.
    proxy.set_rate(0.0);
    sts.get_caller_identity().send().await.expect("forwarded when the rate is 0");
    assert_eq!(proxy.counts().forwarded, 1);

    let flaky = FaultProxy::start(moto.endpoint_url(), FaultConfig::failures(0.5, 42)).await.unwrap();
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(flaky.url())
        .credentials_provider(xacct_test_support::static_credentials())
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(20)
                .with_initial_backoff(std::time::Duration::from_millis(1))
                .with_max_backoff(std::time::Duration::from_millis(5)),
        )
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&conf);
    for _ in 0..10 {
        sts.get_caller_identity().send().await.expect("retried through faults");
    }
    let counts = flaky.counts();
    assert_eq!(counts.forwarded, 10);
    assert!(counts.failures() > 0, "{counts:?}");
}

#[tokio::test]
async fn fault_proxy_answers_chosen_aws_errors() {
    let moto = moto();
    let expired = FaultKind::AwsError {
        status: 400,
        code: "ExpiredToken",
        message: "The security token included in the request is expired",
    };
    let proxy =
        FaultProxy::start(moto.endpoint_url(), FaultConfig { rate: 1.0, seed: 1, kinds: vec![expired] }).await.unwrap();
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(proxy.url())
        .credentials_provider(xacct_test_support::static_credentials())
        .load()
        .await;
    let err = aws_sdk_sts::Client::new(&conf).get_caller_identity().send().await.expect_err("expired");
    let service = err.as_service_error().expect("a service error");
    assert_eq!(aws_sdk_sts::error::ProvideErrorMetadata::code(service), Some("ExpiredToken"));
    assert_eq!(proxy.counts().aws_errors, 1, "not retried");
}

#[test]
fn workspace_root_holds_the_workspace_manifest() {
    let root = xacct_test_support::workspace_root();
    assert!(std::fs::read_to_string(root.join("Cargo.toml")).unwrap().contains("[workspace]"));
}
