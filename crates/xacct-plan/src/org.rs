//! Workload accounts from AWS Organizations: the [`Organization`] interface discovery reads the
//! organization through, [`discover`] (which accounts a set of [`Selector`]s selects) and
//! [`workload_names`] (the stable workload name of each discovered account).
//!
//! `xacct-aws` implements [`Organization`] on the Organizations API;
//! [`MemoryOrganization`](memory::MemoryOrganization) implements it in memory for unit tests.
//! The interface is page by page, like the API: [`discover`] follows every page itself (an empty
//! page with a `NextToken` is not the end), so paging is tested once, here.
//!
//! Organizations throttles hard (a few requests per second per calling account and per
//! organization, shared with every other tool in the organization), so discovery reads as little
//! as the selection needs: one `DescribeOrganization`; `ListParents` only for the ancestors of a
//! selected OU that the walk has not already seen (once per OU per run); one
//! `ListAccountsForParent` and one `ListOrganizationalUnitsForParent` per page of each OU inside a
//! selected subtree (once per OU, however many selectors include it); `ListTagsForResource` only
//! for the ACTIVE, not excepted accounts of selectors that filter by tag (once per account).
//! Nothing outside the selected subtrees is listed.

pub mod facts;
pub mod memory;
pub mod merge;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use async_trait::async_trait;

/// `DescribeOrganization`: what every member account may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgSummary {
    /// `o-xxxxxxxxxx`.
    pub id: String,
    /// The management account: never a workload.
    pub management_account_id: String,
}

/// An account's `State` (or, where `State` is missing, its older `Status`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountState {
    PendingActivation,
    Active,
    Suspended,
    PendingClosure,
    Closed,
    /// A value this version does not know, or none at all (`""`): never selected.
    Unknown(String),
}

impl AccountState {
    /// From the API's `State`, falling back to the older `Status` (`ACTIVE`, `SUSPENDED`,
    /// `PENDING_CLOSURE`; retiring 2026-09-09) only when `State` is missing.
    pub fn from_api(state: Option<&str>, status: Option<&str>) -> AccountState {
        match state.filter(|s| !s.is_empty()).or(status).unwrap_or("") {
            "PENDING_ACTIVATION" => AccountState::PendingActivation,
            "ACTIVE" => AccountState::Active,
            "SUSPENDED" => AccountState::Suspended,
            "PENDING_CLOSURE" => AccountState::PendingClosure,
            "CLOSED" => AccountState::Closed,
            other => AccountState::Unknown(other.to_string()),
        }
    }

    /// The API's spelling (`ACTIVE`).
    pub fn as_str(&self) -> &str {
        match self {
            AccountState::PendingActivation => "PENDING_ACTIVATION",
            AccountState::Active => "ACTIVE",
            AccountState::Suspended => "SUSPENDED",
            AccountState::PendingClosure => "PENDING_CLOSURE",
            AccountState::Closed => "CLOSED",
            AccountState::Unknown(s) => s,
        }
    }
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountState::Unknown(s) if s.is_empty() => f.write_str("unknown (no State or Status)"),
            s => f.write_str(s.as_str()),
        }
    }
}

/// An account as `ListAccountsForParent` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// 12 digits.
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub state: AccountState,
}

/// An organizational unit as `ListOrganizationalUnitsForParent` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgUnit {
    /// `ou-xxxx-xxxxxxxx`.
    pub id: String,
    pub name: String,
}

/// What kind of node a parent is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParentKind {
    Root,
    OrganizationalUnit,
}

/// A parent as `ListParents` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    /// `r-xxxx` or `ou-xxxx-xxxxxxxx`.
    pub id: String,
    pub kind: ParentKind,
}

/// One page of a List call; `next_token` is `Some` while more pages follow (a page may be empty
/// and still not the last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// Errors from Organizations and from discovery, worded so a user can act on them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    #[error("the account xacct reads Organizations as ({principal}) is not in an organization: {message}")]
    NotInOrganization { principal: String, message: String },
    #[error(
        "access denied: {principal} may not call `{action}` ({message}); only the management account or a delegated administrator may list an organization"
    )]
    AccessDenied { principal: String, action: String, message: String },
    #[error("{what} does not exist in the organization ({message})")]
    NotFound { what: String, message: String },
    #[error("Organizations throttled `{action}` and retries ran out; Organizations allows only a few requests per second per account and organization, shared with every other tool in it")]
    Throttled { action: String },
    #[error("no usable credentials to read Organizations: {message}")]
    Credentials { message: String },
    #[error("`{action}` failed: {message}")]
    Other { action: String, message: String },
    #[error("invalid organization selector: {message}")]
    InvalidSelector { message: String },
}

/// AWS Organizations, read page by page: what discovery needs and nothing more.
///
/// Every method is exactly one Organizations API call. The per-parent calls return direct
/// children only: the caller recurses.
#[async_trait]
pub trait Organization: Send + Sync {
    /// `DescribeOrganization`.
    async fn describe_organization(&self) -> Result<OrgSummary, OrgError>;
    /// `ListOrganizationalUnitsForParent`: the OUs directly under `parent` (a root or an OU).
    async fn list_organizational_units(
        &self,
        parent: &str,
        next_token: Option<&str>,
    ) -> Result<Page<OrgUnit>, OrgError>;
    /// `ListAccountsForParent`: the accounts directly under `parent`.
    async fn list_accounts(&self, parent: &str, next_token: Option<&str>) -> Result<Page<Account>, OrgError>;
    /// `ListParents`: the parent of an OU or account (exactly one in practice).
    async fn list_parents(&self, child: &str, next_token: Option<&str>) -> Result<Page<Parent>, OrgError>;
    /// `ListTagsForResource` on an account: `(key, value)` pairs.
    async fn list_tags(&self, account: &str, next_token: Option<&str>) -> Result<Page<(String, String)>, OrgError>;
}

/// One `workloads` entry of the file's `organization` key: which accounts it selects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    /// An OU ID (`ou-xxxx-xxxxxxxx`) or a root ID (`r-xxxx`, the whole organization): every
    /// account below it, nested OUs included.
    pub ou: String,
    /// Only accounts that have every one of these tags with exactly this value; empty: no filter
    /// (and no `ListTagsForResource` call).
    pub tags: BTreeMap<String, String>,
    /// Account IDs never selected by this selector.
    pub except: BTreeSet<String>,
}

/// An account discovery found, with where and by whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub account: Account,
    /// The account's path as the `aws:ResourceOrgPaths` / `aws:PrincipalOrgPaths` condition keys
    /// see it: `o-xxxxxxxxxx/r-xxxx/ou-…/…/` (its parents, trailing slash, no account).
    pub ou_path: String,
    /// The index in the selectors of the first selector (in file order) that found it: the one
    /// whose settings it gets.
    pub selector: usize,
    /// Later selectors that found it too.
    pub also: Vec<usize>,
    /// Its tags, when a selector needed them (`None`: not read).
    pub tags: Option<BTreeMap<String, String>>,
}

/// Why an account below a selected OU was left out on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExclusionReason {
    /// The organization's management account: never a workload.
    Management,
    /// Named in the selector's `except`.
    Except,
}

/// An account left out on purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excluded {
    pub account_id: String,
    pub selector: usize,
    pub reason: ExclusionReason,
}

/// What one selector found, for the removal guard ("which selector found nothing").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SelectorCount {
    /// ACTIVE accounts it matches, including those an earlier selector also matches.
    pub matched: usize,
    /// Of those, the ones it is the first selector for (its share of [`Discovery::selected`]).
    pub selected: usize,
    /// Accounts below its OU that are not ACTIVE (not tag-filtered: their tags are not read).
    pub inactive: usize,
    /// Accounts below its OU, of any state, before tags and exceptions.
    pub below: usize,
}

/// What [`discover`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovery {
    pub organization: OrgSummary,
    /// The selected ACTIVE accounts, each once, by account ID.
    pub selected: Vec<Found>,
    /// Accounts below a selected OU that are not ACTIVE (suspended, closing, closed, pending),
    /// each once, by account ID: never selected, reported so the plan can say why an account
    /// left. Exceptions and the management account are not in here; tags are not read for them.
    pub inactive: Vec<Found>,
    /// Accounts left out on purpose, once per selector that left them out.
    pub excluded: Vec<Excluded>,
    /// One per selector, in order.
    pub selectors: Vec<SelectorCount>,
    /// Organizations API calls made (one per page).
    pub calls: u64,
}

impl Discovery {
    /// The selectors (by index) that match no ACTIVE account.
    pub fn empty_selectors(&self) -> Vec<usize> {
        self.selectors.iter().enumerate().filter(|(_, c)| c.matched == 0).map(|(i, _)| i).collect()
    }
}

/// An upper bound on the pages of one List call, against a service that never stops paging.
const MAX_PAGES: usize = 10_000;

/// Counts calls, and follows every page of one List call.
struct Reader {
    calls: u64,
}

impl Reader {
    async fn all<T, F, Fut>(&mut self, action: &str, mut page: F) -> Result<Vec<T>, OrgError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<Page<T>, OrgError>>,
    {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            self.calls += 1;
            let next = page(token.clone()).await?;
            items.extend(next.items);
            match next.next_token.filter(|t| !t.is_empty()) {
                Some(t) if token.as_deref() == Some(t.as_str()) => {
                    return Err(OrgError::Other {
                        action: action.to_string(),
                        message: format!("the service returned the same NextToken `{t}` twice"),
                    })
                }
                Some(t) => token = Some(t),
                None => return Ok(items),
            }
        }
        Err(OrgError::Other { action: action.to_string(), message: format!("more than {MAX_PAGES} pages") })
    }
}

fn check_selector(i: usize, s: &Selector) -> Result<(), OrgError> {
    let ok_id = |id: &str, prefix: &str| {
        id.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
    };
    if !(ok_id(&s.ou, "ou-") || ok_id(&s.ou, "r-")) {
        return Err(OrgError::InvalidSelector {
            message: format!(
                "selector {i}: `{}` is neither an OU ID (`ou-xxxx-xxxxxxxx`) nor a root ID (`r-xxxx`)",
                s.ou
            ),
        });
    }
    if let Some(bad) = s.except.iter().find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit())) {
        return Err(OrgError::InvalidSelector {
            message: format!("selector {i}: `except` entry `{bad}` is not a 12-digit account ID"),
        });
    }
    Ok(())
}

/// Which ACTIVE accounts `selectors` select in `org`.
///
/// Each selector selects the ACTIVE accounts anywhere below its OU (nested OUs included) that
/// carry all its `tags`, except its `except` accounts and the management account. An account
/// several selectors match is selected once, for the first of them (in order). Accounts below a
/// selected OU that are not ACTIVE are returned apart ([`Discovery::inactive`]): assuming a role
/// in a suspended or closing account fails, and closed accounts stay listed for 90 days.
///
/// Fails on the first error, having made no decision: a partial organization must never look
/// like accounts that left.
pub async fn discover(org: &dyn Organization, selectors: &[Selector]) -> Result<Discovery, OrgError> {
    for (i, s) in selectors.iter().enumerate() {
        check_selector(i, s)?;
    }
    let mut r = Reader { calls: 0 };
    r.calls += 1;
    let organization = org.describe_organization().await?;

    // The condition-key path of every node seen so far (`o-…/r-…/…/ou-…/`).
    let mut paths: HashMap<String, String> = HashMap::new();
    // Each listed OU's children, so that overlapping selectors list it once.
    let mut listed: HashMap<String, (Vec<Account>, Vec<OrgUnit>)> = HashMap::new();
    let mut tags: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    let mut selected: BTreeMap<String, Found> = BTreeMap::new();
    let mut inactive: BTreeMap<String, Found> = BTreeMap::new();
    let mut excluded = Vec::new();
    let mut counts = vec![SelectorCount::default(); selectors.len()];

    for (i, sel) in selectors.iter().enumerate() {
        let top = node_path(org, &mut r, &mut paths, &organization.id, &sel.ou).await?;
        // Depth first, children in the order listed; `seen` guards against a cycle.
        let mut stack = vec![(sel.ou.clone(), top)];
        let mut seen = BTreeSet::new();
        while let Some((parent, path)) = stack.pop() {
            if !seen.insert(parent.clone()) {
                continue;
            }
            if !listed.contains_key(&parent) {
                let p = parent.as_str();
                let accounts =
                    r.all("organizations:ListAccountsForParent", |t| async move {
                        org.list_accounts(p, t.as_deref()).await
                    })
                    .await?;
                let units = r
                    .all("organizations:ListOrganizationalUnitsForParent", |t| async move {
                        org.list_organizational_units(p, t.as_deref()).await
                    })
                    .await?;
                listed.insert(parent.clone(), (accounts, units));
            }
            let (accounts, units) = listed[&parent].clone();
            for unit in units.iter().rev() {
                let child = format!("{path}{}/", unit.id);
                paths.insert(unit.id.clone(), child.clone());
                stack.push((unit.id.clone(), child));
            }
            for account in accounts {
                counts[i].below += 1;
                let reason = if account.id == organization.management_account_id {
                    Some(ExclusionReason::Management)
                } else if sel.except.contains(&account.id) {
                    Some(ExclusionReason::Except)
                } else {
                    None
                };
                if let Some(reason) = reason {
                    excluded.push(Excluded { account_id: account.id.clone(), selector: i, reason });
                    continue;
                }
                if account.state != AccountState::Active {
                    counts[i].inactive += 1;
                    inactive.entry(account.id.clone()).or_insert_with(|| Found {
                        account: account.clone(),
                        ou_path: path.clone(),
                        selector: i,
                        also: Vec::new(),
                        tags: None,
                    });
                    continue;
                }
                let account_tags = if sel.tags.is_empty() {
                    None
                } else {
                    if !tags.contains_key(&account.id) {
                        let id = account.id.as_str();
                        let read = r
                            .all("organizations:ListTagsForResource", |t| async move {
                                org.list_tags(id, t.as_deref()).await
                            })
                            .await?;
                        tags.insert(account.id.clone(), read.into_iter().collect());
                    }
                    let have = &tags[&account.id];
                    if !sel.tags.iter().all(|(k, v)| have.get(k) == Some(v)) {
                        continue;
                    }
                    Some(have.clone())
                };
                counts[i].matched += 1;
                match selected.get_mut(&account.id) {
                    Some(found) => {
                        found.also.push(i);
                        if found.tags.is_none() {
                            found.tags = account_tags;
                        }
                    }
                    None => {
                        counts[i].selected += 1;
                        selected.insert(
                            account.id.clone(),
                            Found { account, ou_path: path.clone(), selector: i, also: Vec::new(), tags: account_tags },
                        );
                    }
                }
            }
        }
    }
    Ok(Discovery {
        organization,
        selected: selected.into_values().collect(),
        inactive: inactive.into_values().collect(),
        excluded,
        selectors: counts,
        calls: r.calls,
    })
}

/// The condition-key path of `node` (a root or an OU): known from the walk, or built from
/// `ListParents` up to the root (each ancestor's path remembered).
async fn node_path(
    org: &dyn Organization,
    r: &mut Reader,
    paths: &mut HashMap<String, String>,
    org_id: &str,
    node: &str,
) -> Result<String, OrgError> {
    let mut chain = vec![node.to_string()];
    let mut prefix = format!("{org_id}/");
    loop {
        let last = chain.last().expect("never empty").clone();
        if let Some(known) = paths.get(&last) {
            prefix = known.clone();
            chain.pop();
            break;
        }
        if last.starts_with("r-") {
            break;
        }
        if chain.len() > 6 {
            // Organizations nests OUs at most five levels below the root.
            return Err(OrgError::Other {
                action: "organizations:ListParents".to_string(),
                message: format!("`{node}` is nested deeper than Organizations allows"),
            });
        }
        let child = last.as_str();
        let parents =
            r.all("organizations:ListParents", |t| async move { org.list_parents(child, t.as_deref()).await }).await?;
        match parents.as_slice() {
            [parent] => chain.push(parent.id.clone()),
            other => {
                return Err(OrgError::Other {
                    action: "organizations:ListParents".to_string(),
                    message: format!("`{last}` has {} parents, expected one", other.len()),
                })
            }
        }
    }
    for id in chain.iter().rev() {
        prefix = format!("{prefix}{id}/");
        paths.insert(id.clone(), prefix.clone());
    }
    Ok(prefix)
}

/// The longest workload name (see the spec's workload-name rule).
pub const MAX_WORKLOAD_NAME: usize = 63;

/// The workload name an account's name reduces to, before collisions are settled: ASCII letters
/// lowercased, digits kept, every run of anything else (spaces, `_`, `.`, non-ASCII letters)
/// one `-`; leading and trailing `-` dropped; a name that starts with a digit gets `account-`
/// in front; cut to 63 characters (and any `-` the cut leaves at the end dropped). A name that
/// reduces to nothing becomes `account-<id>`.
pub fn base_workload_name(account: &Account) -> String {
    let mut slug = String::new();
    for c in account.name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let name = match slug.chars().next() {
        None => format!("account-{}", account.id),
        Some(c) if c.is_ascii_digit() => format!("account-{slug}"),
        Some(_) => slug.to_string(),
    };
    cut(&name, MAX_WORKLOAD_NAME)
}

fn cut(name: &str, max: usize) -> String {
    name[..name.len().min(max)].trim_end_matches('-').to_string()
}

/// The workload name the file reserves for the management account's addresses.
const RESERVED_NAME: &str = "management";

/// The workload name of every account, by account ID: stable (it depends only on the accounts'
/// names and IDs, not on the order they come in or on what was listed when) and unique.
///
/// Each account gets its [`base_workload_name`]. When several accounts reduce to the same name,
/// the one with the lowest account ID keeps it and each of the others gets
/// `<name cut to 50>-<account id>` (a 12-digit suffix, unique since account IDs are); should
/// that too be taken (an account literally named so), `account-<id>`, then `account-<id>-2`, ….
/// `management` is reserved (the file's name for the management account's addresses): an
/// account named so is treated as colliding with it and gets `management-<id>`.
/// Renaming an account renames its workload; the planner moves its state by account ID.
pub fn workload_names<'a>(accounts: impl IntoIterator<Item = &'a Account>) -> BTreeMap<String, String> {
    workload_names_reserving(accounts, &BTreeSet::new())
}

/// [`workload_names`] with `reserved` names treated as taken too, like `management` (the names of
/// the workloads the file lists: a discovered account never takes a listed name).
pub fn workload_names_reserving<'a>(
    accounts: impl IntoIterator<Item = &'a Account>,
    reserved: &BTreeSet<String>,
) -> BTreeMap<String, String> {
    let mut by_id: BTreeMap<&str, &Account> = BTreeMap::new();
    for a in accounts {
        by_id.insert(a.id.as_str(), a);
    }
    let mut owners: BTreeMap<String, &str> = BTreeMap::from([(RESERVED_NAME.to_string(), "")]);
    for name in reserved {
        owners.insert(name.clone(), "");
    }
    let mut names = BTreeMap::new();
    // Lowest ID first: it keeps the plain name.
    for (id, a) in &by_id {
        let base = base_workload_name(a);
        if !owners.contains_key(&base) {
            owners.insert(base.clone(), id);
            names.insert(id.to_string(), base);
        }
    }
    for (id, a) in &by_id {
        if names.contains_key(*id) {
            continue;
        }
        let base = base_workload_name(a);
        let mut candidates = vec![format!("{}-{id}", cut(&base, MAX_WORKLOAD_NAME - 13)), format!("account-{id}")];
        candidates.extend((2..).map(|n| format!("account-{id}-{n}")).take(by_id.len() + reserved.len() + 1));
        let name = candidates.into_iter().find(|c| !owners.contains_key(c)).expect("a free name exists");
        owners.insert(name.clone(), id);
        names.insert(id.to_string(), name);
    }
    names
}

#[cfg(test)]
mod tests;
