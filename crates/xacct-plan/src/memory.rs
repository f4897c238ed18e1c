//! An in-memory [`Cloud`] for unit tests of the planner and executor. It behaves like IAM for the
//! calls xacct makes (whole-document writes, missing entities) and counts calls like the real one.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::cloud::{AccountId, Cloud, CloudError, DocRef, LiveRole, WriteCheck};

#[derive(Default)]
pub struct MemoryCloud {
    roles: Mutex<BTreeMap<(String, String), LiveRole>>,
    policies: Mutex<BTreeMap<(String, String, String), String>>,
    calls: AtomicU64,
    /// Writes fail for these accounts (to test partial failure).
    pub fail_writes_in: Mutex<Vec<String>>,
}

impl MemoryCloud {
    pub fn new() -> Self {
        Self::default()
    }

    /// Create a role with a trust document.
    pub fn add_role(&self, account: &str, role: &str, trust: &str) {
        let n = self.roles.lock().unwrap().len();
        self.roles.lock().unwrap().insert(
            (account.into(), role.into()),
            LiveRole {
                arn: format!("arn:aws:iam::{account}:role/{role}"),
                role_id: format!("AROA{n:016}"),
                trust_policy: trust.into(),
                max_session_duration: 3600,
            },
        );
    }

    pub fn trust(&self, account: &str, role: &str) -> Option<String> {
        self.roles.lock().unwrap().get(&(account.into(), role.into())).map(|r| r.trust_policy.clone())
    }

    pub fn set_trust(&self, account: &str, role: &str, trust: &str) {
        if let Some(r) = self.roles.lock().unwrap().get_mut(&(account.into(), role.into())) {
            r.trust_policy = trust.into();
        }
    }

    /// Set a role's `MaxSessionDuration`.
    pub fn set_max_session_duration(&self, account: &str, role: &str, seconds: i32) {
        if let Some(r) = self.roles.lock().unwrap().get_mut(&(account.into(), role.into())) {
            r.max_session_duration = seconds;
        }
    }

    pub fn policy(&self, account: &str, role: &str, policy: &str) -> Option<String> {
        self.policies.lock().unwrap().get(&(account.into(), role.into(), policy.into())).cloned()
    }

    pub fn set_policy(&self, account: &str, role: &str, policy: &str, doc: Option<&str>) {
        let key = (account.into(), role.into(), policy.into());
        let mut p = self.policies.lock().unwrap();
        match doc {
            Some(d) => p.insert(key, d.into()),
            None => p.remove(&key),
        };
    }

    /// Write (`Some`) or delete (`None`) an inline policy if `live` is still `expected`.
    fn checked_policy_write(
        &self,
        account: &str,
        role: &str,
        policy: &str,
        live: Option<&str>,
        expected: Option<&str>,
        document: Option<&str>,
    ) -> Result<(), CloudError> {
        let what =
            || DocRef::InlinePolicy { account: account.into(), role: role.into(), policy: policy.into() }.to_string();
        if WriteCheck::gate(live, expected, document, what)? {
            self.call();
            self.set_policy(account, role, policy, document);
        }
        Ok(())
    }

    pub fn reset_calls(&self) {
        self.calls.store(0, Ordering::SeqCst);
    }

    fn call(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }

    fn check_write(&self, account: &str, action: &str) -> Result<(), CloudError> {
        if self.fail_writes_in.lock().unwrap().iter().any(|a| a == account) {
            return Err(CloudError::Other {
                account: account.into(),
                action: action.into(),
                message: "injected failure".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Cloud for MemoryCloud {
    async fn get_role(&self, account: &AccountId, role: &str) -> Result<Option<LiveRole>, CloudError> {
        self.call();
        Ok(self.roles.lock().unwrap().get(&(account.into(), role.into())).cloned())
    }

    async fn list_role_policies(&self, account: &AccountId, role: &str) -> Result<Vec<String>, CloudError> {
        self.call();
        Ok(self
            .policies
            .lock()
            .unwrap()
            .keys()
            .filter(|(a, r, _)| a == account && r == role)
            .map(|(_, _, p)| p.clone())
            .collect())
    }

    async fn get_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
    ) -> Result<Option<String>, CloudError> {
        self.call();
        Ok(self.policy(account, role, policy))
    }

    async fn trust_policy_quota(&self, _account: &AccountId) -> Result<usize, CloudError> {
        self.call();
        Ok(2048)
    }

    async fn update_trust_policy(
        &self,
        account: &AccountId,
        role: &str,
        expected: &str,
        document: &str,
    ) -> Result<(), CloudError> {
        self.check_write(account, "iam:UpdateAssumeRolePolicy")?;
        let current = self.get_role(account, role).await?;
        let Some(current) = current else {
            return Err(CloudError::NoSuchEntity { what: format!("role `{role}` in account {account}") });
        };
        let what = || DocRef::Trust { account: account.into(), role: role.into() }.to_string();
        if WriteCheck::gate(Some(&current.trust_policy), Some(expected), Some(document), what)? {
            self.call();
            self.set_trust(account, role, document);
        }
        Ok(())
    }

    async fn put_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
        expected: Option<&str>,
        document: &str,
    ) -> Result<(), CloudError> {
        self.check_write(account, "iam:PutRolePolicy")?;
        let current = self.get_role_policy(account, role, policy).await?;
        self.checked_policy_write(account, role, policy, current.as_deref(), expected, Some(document))
    }

    async fn delete_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
        expected: &str,
    ) -> Result<(), CloudError> {
        self.check_write(account, "iam:DeleteRolePolicy")?;
        let current = self.get_role_policy(account, role, policy).await?;
        self.checked_policy_write(account, role, policy, current.as_deref(), Some(expected), None)
    }

    async fn wait_consistent(&self, _doc: &DocRef, _document: Option<&str>) -> Result<(), CloudError> {
        Ok(())
    }

    fn call_count(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}
