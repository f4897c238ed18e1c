//! Shared setup for the emulator tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use xacct_aws::{
    role_arn, AccountAccess, AwsCloud, AwsSettings, BaseCredentials, ConsistencySettings, Partition, RetrySettings,
};
use xacct_test_support::{moto, ACCESS_ROLE};

/// Distinctive static credentials, so tests can prove they never leak.
pub const KEY_ID: &str = "AKIAXACCTTESTKEY0001";
pub const SECRET: &str = "xacctSecretDoNotLeak/0123456789abcdefghij";

pub const ROLE: &str = "control-plane.cluster-api-provider-aws.sigs.k8s.io";

pub fn trust(principal_account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"XacctDev","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{principal_account}:root"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"ext id/with+chars&more"}}}}}}]}}"#
    )
}

pub fn policy(target_account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{target_account}:role/{ROLE}"}}]}}"#
    )
}

pub fn settings(endpoint: &str, accounts: &[&str]) -> AwsSettings {
    let accounts: HashMap<String, AccountAccess> = accounts
        .iter()
        .map(|a| {
            let access = AccountAccess::AssumeRole {
                role_arn: role_arn(Partition::Aws, a, ACCESS_ROLE, None),
                external_id: None,
                session_name: Some("xacct-test".to_string()),
            };
            (a.to_string(), access)
        })
        .collect();
    AwsSettings {
        endpoint_url: Some(endpoint.to_string()),
        region: Some("us-east-1".to_string()),
        base: BaseCredentials::Static {
            access_key_id: KEY_ID.to_string(),
            secret_access_key: SECRET.to_string(),
            session_token: None,
        },
        accounts,
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
            timeout: Duration::from_secs(2),
        },
    }
}

pub async fn cloud(accounts: &[&str]) -> AwsCloud {
    AwsCloud::new(settings(moto().endpoint_url(), accounts)).await
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}
