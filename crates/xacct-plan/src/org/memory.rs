//! An in-memory [`Organization`] for unit tests of discovery: nested OUs, tags, account states,
//! paging you can set (page size, empty pages) and every call counted by operation and by what
//! it listed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Account, AccountState, OrgError, OrgSummary, OrgUnit, Organization, Page, Parent, ParentKind};

struct Node {
    parent: Option<String>,
    name: String,
}

#[derive(Default)]
struct Calls {
    by_operation: BTreeMap<&'static str, u64>,
    /// `(operation, argument)` of every call, in order.
    log: Vec<(&'static str, String)>,
}

/// An organization in memory. Build it with [`MemoryOrganization::new`], then
/// [`add_ou`](MemoryOrganization::add_ou) and [`add_account`](MemoryOrganization::add_account).
pub struct MemoryOrganization {
    summary: OrgSummary,
    root: String,
    units: BTreeMap<String, Node>,
    /// In insertion order, as Organizations lists them.
    accounts: Vec<(Account, String)>,
    tags: BTreeMap<String, BTreeMap<String, String>>,
    page_size: usize,
    empty_pages: bool,
    calls: Mutex<Calls>,
}

impl MemoryOrganization {
    /// An organization `org_id` with root `root_id` and its management account (`ACTIVE`, named
    /// `management`, directly under the root).
    pub fn new(org_id: &str, root_id: &str, management: &str) -> MemoryOrganization {
        let mut org = MemoryOrganization {
            summary: OrgSummary { id: org_id.to_string(), management_account_id: management.to_string() },
            root: root_id.to_string(),
            units: BTreeMap::new(),
            accounts: Vec::new(),
            tags: BTreeMap::new(),
            page_size: 20,
            empty_pages: false,
            calls: Mutex::default(),
        };
        org.add_account(root_id, management, "management", AccountState::Active);
        org
    }

    /// Pages of at most `size` items (at least 1).
    pub fn page_size(mut self, size: usize) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Every List call answers first with an empty page that has a `NextToken`, and puts another
    /// empty page between full ones, as Organizations may.
    pub fn empty_pages(mut self) -> Self {
        self.empty_pages = true;
        self
    }

    /// An OU `id` named `name` under `parent` (the root or an OU).
    pub fn add_ou(&mut self, parent: &str, id: &str, name: &str) {
        assert!(self.is_parent(parent), "no parent {parent}");
        self.units.insert(id.to_string(), Node { parent: Some(parent.to_string()), name: name.to_string() });
    }

    /// An account under `parent`.
    pub fn add_account(&mut self, parent: &str, id: &str, name: &str, state: AccountState) {
        assert!(self.is_parent(parent), "no parent {parent}");
        let account = Account { id: id.to_string(), name: name.to_string(), email: None, state };
        self.accounts.push((account, parent.to_string()));
    }

    /// Tag an account.
    pub fn tag(&mut self, account: &str, key: &str, value: &str) {
        self.tags.entry(account.to_string()).or_default().insert(key.to_string(), value.to_string());
    }

    /// Move an account to another parent.
    pub fn move_account(&mut self, account: &str, parent: &str) {
        assert!(self.is_parent(parent), "no parent {parent}");
        let entry = self.accounts.iter_mut().find(|(a, _)| a.id == account).expect("account exists");
        entry.1 = parent.to_string();
    }

    /// Calls so far by operation (`ListAccountsForParent`, …).
    pub fn calls(&self) -> BTreeMap<&'static str, u64> {
        self.calls.lock().unwrap().by_operation.clone()
    }

    /// Calls of `operation` so far.
    pub fn calls_of(&self, operation: &str) -> u64 {
        self.calls().get(operation).copied().unwrap_or(0)
    }

    /// All calls so far.
    pub fn call_count(&self) -> u64 {
        self.calls().values().sum()
    }

    /// The parents (root or OU IDs) ever passed to a per-parent List call.
    pub fn listed_parents(&self) -> BTreeSet<String> {
        let calls = self.calls.lock().unwrap();
        calls
            .log
            .iter()
            .filter(|(op, _)| *op == "ListAccountsForParent" || *op == "ListOrganizationalUnitsForParent")
            .map(|(_, arg)| arg.clone())
            .collect()
    }

    /// The accounts whose tags were read.
    pub fn tags_read(&self) -> BTreeSet<String> {
        let calls = self.calls.lock().unwrap();
        calls.log.iter().filter(|(op, _)| *op == "ListTagsForResource").map(|(_, arg)| arg.clone()).collect()
    }

    fn is_parent(&self, id: &str) -> bool {
        id == self.root || self.units.contains_key(id)
    }

    fn record(&self, operation: &'static str, argument: &str) {
        let mut calls = self.calls.lock().unwrap();
        *calls.by_operation.entry(operation).or_default() += 1;
        calls.log.push((operation, argument.to_string()));
    }

    /// One page of `items` for `token`: tokens are offsets (`"3"`); `"e3"` is the empty page
    /// before offset 3.
    fn page<T: Clone>(&self, items: &[T], token: Option<&str>, action: &str) -> Result<Page<T>, OrgError> {
        let invalid =
            || OrgError::Other { action: action.to_string(), message: "InvalidInputException: bad NextToken".into() };
        let start = match token {
            None if self.empty_pages => return Ok(Page { items: Vec::new(), next_token: Some("0".into()) }),
            None => 0,
            Some(t) => match t.strip_prefix('e') {
                Some(at) => {
                    at.parse::<usize>().map_err(|_| invalid())?;
                    return Ok(Page { items: Vec::new(), next_token: Some(at.to_string()) });
                }
                None => t.parse::<usize>().map_err(|_| invalid())?,
            },
        };
        if start > items.len() {
            return Err(invalid());
        }
        let end = (start + self.page_size).min(items.len());
        let next_token =
            (end < items.len()).then(|| if self.empty_pages { format!("e{end}") } else { end.to_string() });
        Ok(Page { items: items[start..end].to_vec(), next_token })
    }

    fn parent_must_exist(&self, parent: &str) -> Result<(), OrgError> {
        if self.is_parent(parent) {
            Ok(())
        } else {
            Err(OrgError::NotFound {
                what: format!("parent `{parent}`"),
                message: "ParentNotFoundException".to_string(),
            })
        }
    }
}

#[async_trait]
impl Organization for MemoryOrganization {
    async fn describe_organization(&self) -> Result<OrgSummary, OrgError> {
        self.record("DescribeOrganization", "");
        Ok(self.summary.clone())
    }

    async fn list_organizational_units(
        &self,
        parent: &str,
        next_token: Option<&str>,
    ) -> Result<Page<OrgUnit>, OrgError> {
        self.record("ListOrganizationalUnitsForParent", parent);
        self.parent_must_exist(parent)?;
        let units: Vec<OrgUnit> = self
            .units
            .iter()
            .filter(|(_, n)| n.parent.as_deref() == Some(parent))
            .map(|(id, n)| OrgUnit { id: id.clone(), name: n.name.clone() })
            .collect();
        self.page(&units, next_token, "organizations:ListOrganizationalUnitsForParent")
    }

    async fn list_accounts(&self, parent: &str, next_token: Option<&str>) -> Result<Page<Account>, OrgError> {
        self.record("ListAccountsForParent", parent);
        self.parent_must_exist(parent)?;
        let accounts: Vec<Account> =
            self.accounts.iter().filter(|(_, p)| p == parent).map(|(a, _)| a.clone()).collect();
        self.page(&accounts, next_token, "organizations:ListAccountsForParent")
    }

    async fn list_parents(&self, child: &str, next_token: Option<&str>) -> Result<Page<Parent>, OrgError> {
        self.record("ListParents", child);
        let parent = if let Some(node) = self.units.get(child) {
            node.parent.clone()
        } else {
            self.accounts.iter().find(|(a, _)| a.id == child).map(|(_, p)| Some(p.clone())).ok_or_else(|| {
                OrgError::NotFound { what: format!("`{child}`"), message: "ChildNotFoundException".to_string() }
            })?
        };
        let parents: Vec<Parent> = parent
            .into_iter()
            .map(|id| {
                let kind = if id == self.root { ParentKind::Root } else { ParentKind::OrganizationalUnit };
                Parent { id, kind }
            })
            .collect();
        self.page(&parents, next_token, "organizations:ListParents")
    }

    async fn list_tags(&self, account: &str, next_token: Option<&str>) -> Result<Page<(String, String)>, OrgError> {
        self.record("ListTagsForResource", account);
        if !self.accounts.iter().any(|(a, _)| a.id == account) {
            return Err(OrgError::NotFound {
                what: format!("account {account}"),
                message: "TargetNotFoundException".to_string(),
            });
        }
        let tags: Vec<(String, String)> =
            self.tags.get(account).map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
        self.page(&tags, next_token, "organizations:ListTagsForResource")
    }
}
