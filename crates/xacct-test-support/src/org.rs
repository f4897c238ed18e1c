//! An AWS Organizations organization on the emulator, arranged through the real SDK as its
//! management account.
//!
//! What moto 5.x does here (checked on the server, not assumed):
//!
//! - it keeps one organization per management account (the Organizations backend is per calling
//!   account; a member is remembered as belonging to its management account's organization), so
//!   each [`Org::create`] from a fresh account is invisible to every other test on the server;
//! - `CreateAccount` gives the new account a random ID, puts it under the root, and creates an
//!   `OrganizationAccountAccessRole` in it trusting `arn:aws:iam::<management>:root`;
//!   `sts:AssumeRole` into that role (from the management account or any other credentials: moto
//!   does not evaluate trust) acts in the new account;
//! - `CloseAccount` moves the account straight to `SUSPENDED` (`State` and `Status`), never
//!   `PENDING_CLOSURE` or `CLOSED`, and it stays listed under its parent;
//! - `RemoveAccountFromOrganization` drops the account from every listing.
//!
//! ```no_run
//! # async fn example() {
//! use xacct_test_support::{moto, org::Org};
//! let org = Org::create(moto()).await;
//! let ous = org.create_ou_chain(&org.root, &["workloads", "team", "deep"]).await;
//! let id = org.create_account("Deep One", &ous[2], &[("capa", "enabled")]).await;
//! assert_eq!(org.state_of(&id).await, "ACTIVE");
//! # }
//! ```

use aws_sdk_organizations::types::Tag;

use crate::moto::Moto;

/// A trust document with EC2's statement (as CAPA's prerequisites leave the role) and a foreign
/// statement with a `Sid` (another team's principal in `account`), which xacct must never touch.
pub fn trust_with_foreign_statement(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole"}},{{"Sid":"OpsBreakGlass","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:role/ops"}},"Action":"sts:AssumeRole","Condition":{{"Bool":{{"aws:MultiFactorAuthPresent":"true"}}}}}}]}}"#
    )
}

/// One organization on the emulator and an Organizations client acting as its management
/// account.
pub struct Org {
    /// `o-…`
    pub id: String,
    /// `r-…`
    pub root: String,
    /// The management account's ID (a fresh account of [`Moto::fresh_account`]).
    pub management: String,
    client: aws_sdk_organizations::Client,
}

/// An Organizations client acting in `account` (through its access role, see
/// [`Moto::account_credentials`]).
pub async fn organizations_client(moto: &Moto, account: &str) -> aws_sdk_organizations::Client {
    let creds = moto.account_credentials(account).await;
    let conf =
        aws_sdk_organizations::config::Builder::from(&moto.sdk_config().await).credentials_provider(creds).build();
    aws_sdk_organizations::Client::from_conf(conf)
}

impl Org {
    /// A new organization (all features) whose management account is a fresh account.
    pub async fn create(moto: &Moto) -> Org {
        let management = moto.fresh_account();
        let client = organizations_client(moto, &management).await;
        let out = client
            .create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateOrganization as {management}: {e:?}"));
        let id = out.organization().and_then(|o| o.id()).expect("CreateOrganization returned an ID").to_string();
        let roots = client.list_roots().send().await.unwrap_or_else(|e| panic!("ListRoots: {e:?}"));
        let root = roots.roots().first().and_then(|r| r.id()).expect("the organization has a root").to_string();
        Org { id, root, management, client }
    }

    /// The management account's Organizations client.
    pub fn client(&self) -> &aws_sdk_organizations::Client {
        &self.client
    }

    /// Create OU `name` under `parent` (a root or OU ID); returns its ID (`ou-…`).
    pub async fn create_ou(&self, parent: &str, name: &str) -> String {
        let out = self
            .client
            .create_organizational_unit()
            .parent_id(parent)
            .name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateOrganizationalUnit {name} under {parent}: {e:?}"));
        out.organizational_unit().and_then(|o| o.id()).expect("CreateOrganizationalUnit returned an ID").to_string()
    }

    /// OUs nested one inside the other below `parent`: `names[0]` under `parent`, `names[1]` under
    /// it, and so on. Returns their IDs in the same order.
    pub async fn create_ou_chain(&self, parent: &str, names: &[&str]) -> Vec<String> {
        let mut ids = Vec::with_capacity(names.len());
        let mut at = parent.to_string();
        for name in names {
            at = self.create_ou(&at, name).await;
            ids.push(at.clone());
        }
        ids
    }

    /// `CreateAccount` named `name`, moved under `parent` (unless that is the root) and tagged
    /// with `tags`; returns the account ID moto gave it.
    pub async fn create_account(&self, name: &str, parent: &str, tags: &[(&str, &str)]) -> String {
        let email = format!("{}-{}@example.com", name.replace(|c: char| !c.is_ascii_alphanumeric(), "-"), self.id);
        let out = self
            .client
            .create_account()
            .account_name(name)
            .email(email)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateAccount {name}: {e:?}"));
        let status = out.create_account_status().expect("CreateAccount returned a status");
        assert_eq!(
            status.state(),
            Some(&aws_sdk_organizations::types::CreateAccountState::Succeeded),
            "CreateAccount {name}: {status:?}"
        );
        let id = status.account_id().expect("CreateAccount returned an account ID").to_string();
        if parent != self.root {
            self.move_account(&id, parent).await;
        }
        if !tags.is_empty() {
            self.tag(&id, tags).await;
        }
        id
    }

    /// Add (or overwrite) tags on an account, OU or root.
    pub async fn tag(&self, resource: &str, tags: &[(&str, &str)]) {
        let tags: Vec<Tag> =
            tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build().expect("key and value set")).collect();
        self.client
            .tag_resource()
            .resource_id(resource)
            .set_tags(Some(tags))
            .send()
            .await
            .unwrap_or_else(|e| panic!("TagResource {resource}: {e:?}"));
    }

    /// Remove tag keys from an account, OU or root.
    pub async fn untag(&self, resource: &str, keys: &[&str]) {
        self.client
            .untag_resource()
            .resource_id(resource)
            .set_tag_keys(Some(keys.iter().map(|k| k.to_string()).collect()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("UntagResource {resource}: {e:?}"));
    }

    /// The tags of an account, OU or root, as (key, value) pairs in the order listed.
    pub async fn tags_of(&self, resource: &str) -> Vec<(String, String)> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_id(resource)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListTagsForResource {resource}: {e:?}"));
        out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
    }

    /// The direct parent (root or OU ID) of an account or OU.
    pub async fn parent_of(&self, child: &str) -> String {
        let out = self
            .client
            .list_parents()
            .child_id(child)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListParents {child}: {e:?}"));
        out.parents().first().and_then(|p| p.id()).expect("ListParents returned a parent").to_string()
    }

    /// `MoveAccount` from wherever it is now to `to`.
    pub async fn move_account(&self, account: &str, to: &str) {
        let from = self.parent_of(account).await;
        self.client
            .move_account()
            .account_id(account)
            .source_parent_id(&from)
            .destination_parent_id(to)
            .send()
            .await
            .unwrap_or_else(|e| panic!("MoveAccount {account} {from} → {to}: {e:?}"));
    }

    /// `CloseAccount` (moto: straight to `SUSPENDED`).
    pub async fn close_account(&self, account: &str) {
        self.client
            .close_account()
            .account_id(account)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CloseAccount {account}: {e:?}"));
    }

    /// `RemoveAccountFromOrganization`.
    pub async fn remove_account(&self, account: &str) {
        self.client
            .remove_account_from_organization()
            .account_id(account)
            .send()
            .await
            .unwrap_or_else(|e| panic!("RemoveAccountFromOrganization {account}: {e:?}"));
    }

    /// The account's `State` as `DescribeAccount` gives it (`ACTIVE`, `SUSPENDED`, …).
    pub async fn state_of(&self, account: &str) -> String {
        let out = self
            .client
            .describe_account()
            .account_id(account)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeAccount {account}: {e:?}"));
        let account = out.account().expect("DescribeAccount returned an account");
        account.state().map(|s| s.as_str().to_string()).expect("the account has a State")
    }

    /// The account's name in the organization.
    pub async fn name_of(&self, account: &str) -> String {
        let out = self
            .client
            .describe_account()
            .account_id(account)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeAccount {account}: {e:?}"));
        out.account().and_then(|a| a.name()).expect("the account has a name").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moto::{moto, ACCESS_ROLE};

    /// The moto facts the module header states, checked on the server.
    #[tokio::test]
    async fn create_account_makes_an_access_role_the_management_account_can_assume() {
        let m = moto();
        let org = Org::create(m).await;
        let ous = org.create_ou_chain(&org.root, &["a", "b", "c"]).await;
        assert_eq!(org.parent_of(&ous[2]).await, ous[1]);
        assert_eq!(org.parent_of(&ous[0]).await, org.root);
        let id = org.create_account("Deep One", &ous[2], &[("capa", "enabled")]).await;
        assert_eq!(org.parent_of(&id).await, ous[2]);
        assert_eq!(org.tags_of(&id).await, [("capa".to_string(), "enabled".to_string())]);
        assert_eq!(org.state_of(&id).await, "ACTIVE");
        assert_eq!(org.name_of(&id).await, "Deep One");

        // The access role exists in the new account, trusting the management account's root…
        let trust = m.trust_of(&id, ACCESS_ROLE).await.expect("CreateAccount made the access role");
        let trust: serde_json::Value = serde_json::from_str(&trust).unwrap();
        assert_eq!(trust["Statement"][0]["Principal"]["AWS"], format!("arn:aws:iam::{}:root", org.management));

        // …and the management account's credentials can assume it, acting in the new account.
        let mgmt = m.account_credentials(&org.management).await;
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&m.sdk_config().await).credentials_provider(mgmt).build(),
        );
        let out = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{id}:role/{ACCESS_ROLE}"))
            .role_session_name("org-test")
            .send()
            .await
            .unwrap();
        let c = out.credentials().unwrap();
        let inside = aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "org-test",
        );
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&m.sdk_config().await).credentials_provider(inside).build(),
        );
        assert_eq!(sts.get_caller_identity().send().await.unwrap().account(), Some(id.as_str()));

        org.untag(&id, &["capa"]).await;
        assert!(org.tags_of(&id).await.is_empty());
        org.move_account(&id, &ous[0]).await;
        assert_eq!(org.parent_of(&id).await, ous[0]);

        // CloseAccount: SUSPENDED at once, never CLOSED; still listed under its parent.
        org.close_account(&id).await;
        assert_eq!(org.state_of(&id).await, "SUSPENDED");
        let listed = org.client().list_accounts_for_parent().parent_id(&ous[0]).send().await.unwrap();
        assert_eq!(listed.accounts().iter().map(|a| a.id().unwrap()).collect::<Vec<_>>(), [id.as_str()]);
    }

    #[tokio::test]
    async fn each_management_account_sees_only_its_own_organization() {
        let (one, two) = (Org::create(moto()).await, Org::create(moto()).await);
        assert_ne!(one.id, two.id);
        let a = one.create_account("In One", &one.root, &[]).await;
        let listed = two.client().list_accounts().send().await.unwrap();
        let ids: Vec<&str> = listed.accounts().iter().filter_map(|a| a.id()).collect();
        assert_eq!(ids, [two.management.as_str()], "the other organization's account is not listed");
        // RemoveAccountFromOrganization drops it from every listing.
        one.remove_account(&a).await;
        let listed = one.client().list_accounts_for_parent().parent_id(&one.root).send().await.unwrap();
        let ids: Vec<&str> = listed.accounts().iter().filter_map(|a| a.id()).collect();
        assert_eq!(ids, [one.management.as_str()]);
    }

    #[test]
    fn the_foreign_trust_is_json_with_two_statements() {
        let doc: serde_json::Value = serde_json::from_str(&trust_with_foreign_statement("111111111111")).unwrap();
        let stmts = doc["Statement"].as_array().unwrap();
        assert_eq!(stmts.len(), 2);
        assert_eq!(stmts[1]["Sid"], "OpsBreakGlass");
        assert_eq!(stmts[1]["Principal"]["AWS"], "arn:aws:iam::111111111111:role/ops");
    }
}
