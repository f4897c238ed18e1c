//! Discovery of workload accounts against moto's Organizations, through the counting proxy; and
//! `TooManyRequestsException` retried as throttling.
//!
//! moto keeps one organization per management account (its Organizations backend is per
//! account, and a member account is remembered as belonging to its management account's
//! organization), so every test creates its own organization from a fresh account and the tests
//! run in parallel on one server.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_organizations::types::Tag;
use common::settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xacct_aws::{role_arn, AccountAccess, AwsOrganizations, Partition};
use xacct_plan::org::{discover, AccountState, ExclusionReason, OrgError, Organization, Selector};
use xacct_test_support::{moto, FaultConfig, FaultProxy, ACCESS_ROLE};

/// An organization in moto, arranged with the raw SDK as its management account:
///
/// ```text
/// root ─┬─ workloads ─── team ─── deep
///       │  workloads: tagged, management (moved here), removed (then removed from the org)
///       │  team:      tagged, closed (tagged, then CloseAccount: SUSPENDED)
///       │  deep:      tagged, untagged
///       └─ other:     tagged (outside the selection)
/// ```
struct Fixture {
    org_id: String,
    root: String,
    management: String,
    workloads: String,
    team: String,
    deep: String,
    /// Account IDs by the names above.
    accounts: BTreeMap<&'static str, String>,
}

async fn org_client(account: &str) -> aws_sdk_organizations::Client {
    let m = moto();
    let creds = m.account_credentials(account).await;
    let conf = aws_sdk_organizations::config::Builder::from(&m.sdk_config().await).credentials_provider(creds).build();
    aws_sdk_organizations::Client::from_conf(conf)
}

async fn fixture() -> Fixture {
    let management = moto().fresh_account();
    let o = org_client(&management).await;
    let org = o.create_organization().send().await.expect("CreateOrganization");
    let org_id = org.organization().and_then(|o| o.id()).unwrap().to_string();
    let roots = o.list_roots().send().await.unwrap();
    let root = roots.roots()[0].id().unwrap().to_string();
    let ou = |parent: String, name: &'static str| {
        let o = o.clone();
        async move {
            let out = o.create_organizational_unit().parent_id(parent).name(name).send().await.unwrap();
            out.organizational_unit().unwrap().id().unwrap().to_string()
        }
    };
    let workloads = ou(root.clone(), "workloads").await;
    let team = ou(workloads.clone(), "team").await;
    let deep = ou(team.clone(), "deep").await;
    let other = ou(root.clone(), "other").await;

    let mut accounts = BTreeMap::new();
    let layout: [(&str, &str, &String, bool); 7] = [
        ("tagged-1", "Workloads Tagged", &workloads, true),
        ("removed", "Removed", &workloads, true),
        ("tagged-2", "Team Tagged", &team, true),
        ("closed", "Team Closed", &team, true),
        ("tagged-3", "Deep Tagged", &deep, true),
        ("untagged", "Deep Untagged", &deep, false),
        ("outside", "Other Tagged", &other, true),
    ];
    for (key, name, parent, tagged) in layout {
        let out = o
            .create_account()
            .account_name(name)
            .email(format!("{key}-{management}@example.com"))
            .send()
            .await
            .expect("CreateAccount");
        let id = out.create_account_status().and_then(|s| s.account_id()).unwrap().to_string();
        o.move_account().account_id(&id).source_parent_id(&root).destination_parent_id(parent).send().await.unwrap();
        let mut tags = vec![Tag::builder().key("team").value(key).build().unwrap()];
        if tagged {
            tags.push(Tag::builder().key("capa").value("enabled").build().unwrap());
        }
        o.tag_resource().resource_id(&id).set_tags(Some(tags)).send().await.unwrap();
        accounts.insert(key, id);
    }
    o.tag_resource()
        .resource_id(&management)
        .tags(Tag::builder().key("capa").value("enabled").build().unwrap())
        .send()
        .await
        .unwrap();
    o.move_account()
        .account_id(&management)
        .source_parent_id(&root)
        .destination_parent_id(&workloads)
        .send()
        .await
        .unwrap();
    o.close_account().account_id(&accounts["closed"]).send().await.expect("CloseAccount");
    o.remove_account_from_organization().account_id(&accounts["removed"]).send().await.expect("RemoveAccount");
    Fixture { org_id, root, management, workloads, team, deep, accounts }
}

fn reader_access(account: &str) -> AccountAccess {
    AccountAccess::AssumeRole {
        role_arn: role_arn(Partition::Aws, account, ACCESS_ROLE, None),
        external_id: None,
        session_name: Some("xacct-org-test".to_string()),
    }
}

/// Organizations requests the proxy saw, by operation (`ListAccountsForParent`).
fn org_operations(proxy: &FaultProxy) -> BTreeMap<String, u64> {
    proxy
        .operations()
        .into_iter()
        .filter_map(|(op, n)| op.strip_prefix("organizations:AWSOrganizationsV20161128.").map(|o| (o.to_string(), n)))
        .collect()
}

fn selector(ou: &str, tags: &[(&str, &str)]) -> Selector {
    Selector {
        ou: ou.to_string(),
        tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Selector::default()
    }
}

#[tokio::test]
async fn discovery_selects_active_accounts_three_levels_deep_and_reports_the_closed_one() {
    let f = fixture().await;
    let proxy = FaultProxy::start(moto().endpoint_url(), FaultConfig::none()).await.unwrap();
    let reader = AwsOrganizations::new(&settings(proxy.url(), &[]), &reader_access(&f.management)).await.unwrap();
    let d = discover(&reader, &[selector(&f.workloads, &[])]).await.unwrap();

    assert_eq!(d.organization.id, f.org_id);
    assert_eq!(d.organization.management_account_id, f.management);
    let mut want: Vec<&str> =
        ["tagged-1", "tagged-2", "tagged-3", "untagged"].iter().map(|k| f.accounts[k].as_str()).collect();
    want.sort();
    let got: Vec<&str> = d.selected.iter().map(|s| s.account.id.as_str()).collect();
    assert_eq!(got, want, "neither the outside, the removed nor the management account");
    let path = |key: &str| d.selected.iter().find(|s| s.account.id == f.accounts[key]).unwrap().ou_path.clone();
    assert_eq!(path("tagged-1"), format!("{}/{}/{}/", f.org_id, f.root, f.workloads));
    assert_eq!(path("tagged-3"), format!("{}/{}/{}/{}/{}/", f.org_id, f.root, f.workloads, f.team, f.deep));
    let deep = d.selected.iter().find(|s| s.account.id == f.accounts["tagged-3"]).unwrap();
    assert_eq!(deep.account.name, "Deep Tagged");
    assert_eq!(deep.account.state, AccountState::Active);

    assert_eq!(d.inactive.len(), 1);
    assert_eq!(d.inactive[0].account.id, f.accounts["closed"]);
    assert_eq!(d.inactive[0].account.state, AccountState::Suspended, "moto's CloseAccount suspends at once");
    assert_eq!(d.inactive[0].ou_path, format!("{}/{}/{}/{}/", f.org_id, f.root, f.workloads, f.team));
    assert!(d.excluded.iter().any(|e| e.account_id == f.management && e.reason == ExclusionReason::Management));

    // The calls discovery reports are the calls the emulator got; tags were never asked for.
    let ops = org_operations(&proxy);
    assert_eq!(d.calls, ops.values().sum::<u64>(), "{ops:?}");
    assert_eq!(ops.get("ListTagsForResource"), None, "{ops:?}");
    assert_eq!(ops["DescribeOrganization"], 1);
    assert_eq!(ops["ListParents"], 1, "workloads → root");
    assert_eq!(ops["ListAccountsForParent"], 3, "workloads, team, deep: `other` never listed");
    assert_eq!(ops["ListOrganizationalUnitsForParent"], 3);
    assert_eq!(reader.call_count(), d.calls + 1, "plus the sts:AssumeRole into the reader role");
    assert_eq!(proxy.operations()["sts:AssumeRole"], 1);
}

#[tokio::test]
async fn discovery_by_tag_reads_tags_of_active_candidates_only_and_follows_every_page() {
    let f = fixture().await;
    let proxy = FaultProxy::start(moto().endpoint_url(), FaultConfig::none()).await.unwrap();
    let reader = AwsOrganizations::new(&settings(proxy.url(), &[]), &reader_access(&f.management))
        .await
        .unwrap()
        .with_page_size(1);
    // A nested OU and the OU above it: `team` is walked once, its path found by the walk.
    let selectors = [selector(&f.team, &[("capa", "enabled")]), selector(&f.workloads, &[("capa", "enabled")])];
    let d = discover(&reader, &selectors).await.unwrap();

    let by_key = |key: &str| d.selected.iter().find(|s| s.account.id == f.accounts[key]);
    assert_eq!(d.selected.len(), 3);
    assert_eq!(by_key("tagged-2").unwrap().selector, 0);
    assert_eq!(by_key("tagged-2").unwrap().also, [1]);
    assert_eq!(by_key("tagged-3").unwrap().selector, 0);
    assert_eq!(by_key("tagged-1").unwrap().selector, 1);
    assert!(by_key("untagged").is_none());
    let tags = by_key("tagged-1").unwrap().tags.as_ref().unwrap();
    assert_eq!(tags.get("team").map(String::as_str), Some("tagged-1"));
    assert_eq!(d.selectors[0].matched, 2);
    assert_eq!(d.selectors[1].matched, 3);
    assert_eq!(d.selectors[1].selected, 1);

    let ops = org_operations(&proxy);
    assert_eq!(d.calls, ops.values().sum::<u64>(), "{ops:?}");
    // Active candidates only, once each: not the closed account nor the management account.
    assert_eq!(ops["ListTagsForResource"], 4, "{ops:?}");
    // Pages of one: workloads has tagged-1 and the management account, team tagged-2 and
    // closed, deep two: two pages each (moto sends no empty last page).
    assert_eq!(ops["ListAccountsForParent"], 6, "{ops:?}");
    assert_eq!(ops["ListOrganizationalUnitsForParent"], 3, "one OU or none below each: one page");
    // team → workloads → root; workloads' path is then known.
    assert_eq!(ops["ListParents"], 2, "{ops:?}");
    assert_eq!(d.calls, 16);
}

#[tokio::test]
async fn a_member_account_cannot_list_the_organization() {
    let f = fixture().await;
    let member = &f.accounts["tagged-1"];
    let reader = AwsOrganizations::new(&settings(moto().endpoint_url(), &[]), &reader_access(member)).await.unwrap();
    // Any member may describe the organization…
    let summary = reader.describe_organization().await.unwrap();
    assert_eq!(summary.id, f.org_id);
    // …but not list it: an error, never an empty organization.
    let err = discover(&reader, &[selector(&f.workloads, &[])]).await.unwrap_err();
    assert!(matches!(err, OrgError::NotFound { .. } | OrgError::AccessDenied { .. }), "{err:?}");
}

/// A stand-in for Organizations that answers `TooManyRequestsException` (HTTP 400, JSON
/// protocol) to the first `throttle` requests, then describes an organization.
async fn throttling_stub(throttle: u64) -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicU64::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // One request: headers, then Content-Length bytes of body.
                    let mut chunk = [0u8; 4096];
                    let end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < end + len {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..end + len);
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    let (status, extra, body) = if n < throttle {
                        (
                            "400 Bad Request",
                            "x-amzn-ErrorType: TooManyRequestsException\r\n",
                            r#"{"__type":"TooManyRequestsException","Message":"AWS Organizations can't complete your request because another request is already in progress. Try again later.","Type":"AccountId"}"#,
                        )
                    } else {
                        (
                            "200 OK",
                            "",
                            r#"{"Organization":{"Id":"o-abcdefghij","Arn":"arn:aws:organizations::999999999999:organization/o-abcdefghij","FeatureSet":"ALL","MasterAccountId":"999999999999"}}"#,
                        )
                    };
                    let response = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\n{extra}x-amzn-RequestId: 0\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn too_many_requests_is_retried_as_throttling() {
    // The fault proxy speaks IAM's query protocol and S3's REST-XML only; Organizations speaks
    // JSON, so a stub answers here.
    let (url, seen) = throttling_stub(2).await;
    let reader = AwsOrganizations::new(&settings(&url, &[]), &AccountAccess::DefaultChain).await.unwrap();
    let summary = reader.describe_organization().await.unwrap();
    assert_eq!(summary.management_account_id, "999999999999");
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    assert_eq!((reader.call_count(), reader.attempt_count()), (1, 3));

    // Throttled on every attempt: the retries (10 attempts in the test settings) run out.
    let (url, seen) = throttling_stub(u64::MAX).await;
    let reader = AwsOrganizations::new(&settings(&url, &[]), &AccountAccess::DefaultChain).await.unwrap();
    let err = reader.describe_organization().await.unwrap_err();
    assert_eq!(err, OrgError::Throttled { action: "organizations:DescribeOrganization".to_string() });
    assert_eq!(seen.load(Ordering::SeqCst), 10);
    assert_eq!(reader.attempt_count(), 10);
}
