//! Where accounts are in AWS Organizations, as the IAM condition keys see it: each account's
//! organization ID (`aws:ResourceOrgID` / `aws:PrincipalOrgID`) and OU path
//! (`aws:ResourceOrgPaths` / `aws:PrincipalOrgPaths`), read-only.
//!
//! [`resolve`] reads them through an [`Organization`] that may list the organization (its
//! management account or a delegated administrator): one `DescribeOrganization`, then for each
//! account one `ListParents`, and `ListParents` for each OU above it that no earlier account
//! already led to (every OU is asked about once per run), so N accounts in one OU cost
//! 1 + N + depth calls. An account the organization does not contain is asked about through a
//! [`MemberLookup`] (`DescribeOrganization` as the account itself, which any member may call):
//! in another organization (whose OUs the reader cannot see) or in none.
//! [`OrgFacts::from_discovery`] builds the same facts from what discovery already read, with no
//! call.
//!
//! Whatever cannot be read is kept as an error per account, with the reason: the verdict of a
//! chain that depends on it is "not proven", never "allowed".

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;

use super::{Discovery, OrgError, OrgSummary, Organization, ParentKind};

/// Where one account is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountOrg {
    /// `o-…`; `None`: the account is in no organization (the keys are absent).
    pub org_id: Option<String>,
    /// `o-…/r-…/ou-…/…/` (its parents, trailing slash, no account); `None` when it is in no
    /// organization, or in another organization than the one read (whose OUs cannot be listed).
    pub ou_path: Option<String>,
}

/// What is known of each account, by account ID: where it is, or why that could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgFacts {
    pub by_account: BTreeMap<String, Result<AccountOrg, String>>,
    /// Organizations API calls made to learn them (one per page), the [`MemberLookup`]s'
    /// included.
    pub calls: u64,
    /// STS calls made to get credentials for those (`sts:AssumeRole` into the reader role and
    /// into the accounts asked themselves).
    pub sts_calls: u64,
}

impl OrgFacts {
    /// The facts of every account discovery found (selected or inactive), without any call.
    pub fn from_discovery(discovery: &Discovery) -> OrgFacts {
        let org_id = &discovery.organization.id;
        let by_account = discovery
            .selected
            .iter()
            .chain(&discovery.inactive)
            .map(|f| {
                let at = AccountOrg { org_id: Some(org_id.clone()), ou_path: Some(f.ou_path.clone()) };
                (f.account.id.clone(), Ok(at))
            })
            .collect();
        OrgFacts { by_account, calls: 0, sts_calls: 0 }
    }

    /// Every account in `accounts` unreadable for the same reason.
    pub fn unreadable(accounts: impl IntoIterator<Item = String>, reason: &str) -> OrgFacts {
        OrgFacts {
            by_account: accounts.into_iter().map(|a| (a, Err(reason.to_string()))).collect(),
            calls: 0,
            sts_calls: 0,
        }
    }

    /// What is known of `account`: `Err` with the reason when it was not read or could not be.
    pub fn get(&self, account: &str) -> Result<&AccountOrg, String> {
        match self.by_account.get(account) {
            Some(Ok(at)) => Ok(at),
            Some(Err(why)) => Err(why.clone()),
            None => Err(format!("xacct did not read where account {account} is in AWS Organizations")),
        }
    }

    /// Add `other`'s accounts (replacing those known to both) and calls.
    pub fn merge(&mut self, other: OrgFacts) {
        self.by_account.extend(other.by_account);
        self.calls += other.calls;
        self.sts_calls += other.sts_calls;
    }
}

/// `DescribeOrganization` as an account itself: which organization it is in.
#[async_trait]
pub trait MemberLookup: Send + Sync {
    /// One `DescribeOrganization` made with `account`'s own credentials, and the Organizations
    /// calls it took (1, or 0 when it could not be sent).
    async fn describe_as(&self, account: &str) -> (Result<OrgSummary, OrgError>, u64);
}

/// What a [`FnMembers`] function returns.
pub type DescribeFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = (Result<OrgSummary, OrgError>, u64)> + Send>>;

/// A [`MemberLookup`] made of a function from the account ID (for callers that do not implement
/// async traits).
pub struct FnMembers<F>(pub F);

#[async_trait]
impl<F> MemberLookup for FnMembers<F>
where
    F: Fn(String) -> DescribeFuture + Send + Sync,
{
    async fn describe_as(&self, account: &str) -> (Result<OrgSummary, OrgError>, u64) {
        (self.0)(account.to_string()).await
    }
}

/// No way to ask an account itself: an account outside the organization read stays unknown.
pub struct NoMemberLookup;

#[async_trait]
impl MemberLookup for NoMemberLookup {
    async fn describe_as(&self, account: &str) -> (Result<OrgSummary, OrgError>, u64) {
        let message = format!("account {account} could not be asked which organization it is in");
        (Err(OrgError::Other { action: "organizations:DescribeOrganization".into(), message }), 0)
    }
}

/// An upper bound on the pages of one `ListParents`.
const MAX_PAGES: usize = 100;

/// The parents of `child`, every page followed; the calls made go to `calls`.
async fn parents(org: &dyn Organization, child: &str, calls: &mut u64) -> Result<Vec<(String, ParentKind)>, OrgError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        *calls += 1;
        let page = org.list_parents(child, token.as_deref()).await?;
        out.extend(page.items.into_iter().map(|p| (p.id, p.kind)));
        match page.next_token.filter(|t| !t.is_empty()) {
            Some(t) if token.as_deref() == Some(t.as_str()) => {
                return Err(OrgError::Other {
                    action: "organizations:ListParents".into(),
                    message: format!("the service returned the same NextToken `{t}` twice"),
                })
            }
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
    Err(OrgError::Other { action: "organizations:ListParents".into(), message: format!("more than {MAX_PAGES} pages") })
}

/// The one parent of `child`.
async fn parent(org: &dyn Organization, child: &str, calls: &mut u64) -> Result<(String, ParentKind), OrgError> {
    let mut all = parents(org, child, calls).await?;
    if all.len() != 1 {
        return Err(OrgError::Other {
            action: "organizations:ListParents".into(),
            message: format!("`{child}` has {} parents, expected one", all.len()),
        });
    }
    Ok(all.remove(0))
}

/// Organizations nests OUs at most five levels below the root.
const MAX_DEPTH: usize = 6;

/// The condition-key path of `node` (a root or an OU): remembered, or built from `ListParents`
/// up to the root (every ancestor's path remembered on the way).
async fn node_path(
    org: &dyn Organization,
    org_id: &str,
    node: &str,
    kind: ParentKind,
    paths: &mut HashMap<String, String>,
    calls: &mut u64,
) -> Result<String, OrgError> {
    let mut chain = vec![node.to_string()];
    let mut prefix = format!("{org_id}/");
    let mut last_kind = kind;
    loop {
        let last = chain.last().expect("never empty").clone();
        if let Some(known) = paths.get(&last) {
            prefix = known.clone();
            chain.pop();
            break;
        }
        if last_kind == ParentKind::Root || last.starts_with("r-") {
            break;
        }
        if chain.len() > MAX_DEPTH {
            return Err(OrgError::Other {
                action: "organizations:ListParents".into(),
                message: format!("`{node}` is nested deeper than Organizations allows"),
            });
        }
        let (up, up_kind) = parent(org, &last, calls).await?;
        chain.push(up);
        last_kind = up_kind;
    }
    for id in chain.iter().rev() {
        prefix = format!("{prefix}{id}/");
        paths.insert(id.clone(), prefix.clone());
    }
    Ok(prefix)
}

/// Where each of `accounts` is, read through `reader` (the management account or a delegated
/// administrator); accounts `reader`'s organization does not contain are asked about through
/// `members`.
///
/// Errors stay per account: `DescribeOrganization` failing (the reader is in no organization,
/// access denied) makes every account unreadable with that reason; so does `ListParents` being
/// denied (asked once, not once per account). A throttled or failed call makes only its own
/// account unreadable.
pub async fn resolve(reader: &dyn Organization, accounts: &BTreeSet<String>, members: &dyn MemberLookup) -> OrgFacts {
    let mut calls = 1;
    let summary = match reader.describe_organization().await {
        Ok(s) => s,
        Err(e) => {
            let mut facts =
                OrgFacts::unreadable(accounts.iter().cloned(), &format!("AWS Organizations could not be read: {e}"));
            facts.calls = calls;
            return facts;
        }
    };
    let mut paths: HashMap<String, String> = HashMap::new();
    let mut by_account = BTreeMap::new();
    let mut denied: Option<String> = None;
    for account in accounts {
        if let Some(why) = &denied {
            by_account.insert(account.clone(), Err(why.clone()));
            continue;
        }
        let placed = match parent(reader, account, &mut calls).await {
            Ok((up, kind)) => node_path(reader, &summary.id, &up, kind, &mut paths, &mut calls).await,
            Err(e) => Err(e),
        };
        let fact = match placed {
            Ok(path) => Ok(AccountOrg { org_id: Some(summary.id.clone()), ou_path: Some(path) }),
            Err(OrgError::NotFound { .. }) => {
                let (own, made) = members.describe_as(account).await;
                calls += made;
                match own {
                    Ok(o) if o.id == summary.id => {
                        Err(format!("account {account} says it is in {}, but {} does not list it", o.id, summary.id))
                    }
                    Ok(o) => Ok(AccountOrg { org_id: Some(o.id), ou_path: None }),
                    Err(OrgError::NotInOrganization { .. }) => Ok(AccountOrg { org_id: None, ou_path: None }),
                    Err(e) => Err(format!(
                        "account {account} is not in {}, and which organization it is in could not be read: {e}",
                        summary.id
                    )),
                }
            }
            Err(e @ OrgError::AccessDenied { .. }) => {
                let why = format!("AWS Organizations could not be read: {e}");
                denied = Some(why.clone());
                Err(why)
            }
            Err(e) => Err(format!("where account {account} is in {} could not be read: {e}", summary.id)),
        };
        by_account.insert(account.clone(), fact);
    }
    OrgFacts { by_account, calls, sts_calls: 0 }
}
