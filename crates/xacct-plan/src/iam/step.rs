//! What applying one bootstrap change does: an [`IamStep`], a list of IAM operations in the
//! order IAM needs them, carried in the plan (`Change::write`, as JSON) so that a saved plan is
//! applied exactly as it was shown.
//!
//! The planner builds the step from its three-way diff; the executor runs its operations one by
//! one through [`IamCloud`](super::IamCloud). Every operation is idempotent there (a create that
//! finds an equal resource, a delete of something gone, an attach already made all succeed), so
//! an apply interrupted in the middle of a step converges when it is run again. Operations touch
//! only what xacct owns: [`IamOp::EditTrust`] removes and adds whole statements of a role's
//! trust document and leaves every other statement as it is.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{IamPrincipal, NewPolicy, NewRole, NewUser};

/// The operations of one bootstrap change, in one account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IamStep {
    /// The 12-digit account ID.
    pub account: String,
    pub ops: Vec<IamOp>,
}

/// One IAM operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum IamOp {
    CreateRole {
        role: NewRole,
    },
    /// `UpdateRole`: `None` leaves a value as it is.
    UpdateRole {
        role: String,
        description: Option<String>,
        max_session_duration: Option<u32>,
    },
    /// Read the role's trust document, drop the statements equivalent to `remove` (xacct's
    /// statements as last applied), append `add`, and write it back conflict-checked.
    EditTrust {
        role: String,
        remove: Vec<Value>,
        add: Vec<Value>,
    },
    PutRolePolicy {
        role: String,
        policy: String,
        document: Value,
    },
    DeleteRolePolicy {
        role: String,
        policy: String,
    },
    DeleteRole {
        role: String,
    },
    CreateInstanceProfile {
        profile: String,
        path: String,
    },
    AddRoleToInstanceProfile {
        profile: String,
        role: String,
    },
    RemoveRoleFromInstanceProfile {
        profile: String,
        role: String,
    },
    DeleteInstanceProfile {
        profile: String,
    },
    CreatePolicy {
        policy: NewPolicy,
    },
    /// A new default version (the oldest non-default one deleted first when five exist).
    CreatePolicyVersion {
        policy_arn: String,
        document: Value,
    },
    /// Deletes the non-default versions, then the policy.
    DeletePolicy {
        policy_arn: String,
    },
    Attach {
        to: IamPrincipal,
        policy_arn: String,
    },
    Detach {
        to: IamPrincipal,
        policy_arn: String,
    },
    CreateUser {
        user: NewUser,
    },
    DeleteUser {
        user: String,
    },
    CreateGroup {
        group: String,
        path: String,
    },
    DeleteGroup {
        group: String,
    },
    AddUserToGroup {
        user: String,
        group: String,
    },
    RemoveUserFromGroup {
        user: String,
        group: String,
    },
    PutUserPolicy {
        user: String,
        policy: String,
        document: Value,
    },
    DeleteUserPolicy {
        user: String,
        policy: String,
    },
}

impl IamStep {
    /// The step as `Change::write` carries it.
    pub fn to_write(&self) -> String {
        serde_json::to_string(self).expect("an IamStep always serializes")
    }

    /// The step a `Change::write` carries.
    pub fn from_write(text: &str) -> Result<IamStep, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_plan() {
        let step = IamStep {
            account: "222222222222".into(),
            ops: vec![
                IamOp::CreateInstanceProfile { profile: "nodes.example.com".into(), path: "/".into() },
                IamOp::Attach {
                    to: IamPrincipal::Role("nodes.example.com".into()),
                    policy_arn: "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy".into(),
                },
                IamOp::EditTrust {
                    role: "r".into(),
                    remove: vec![],
                    add: vec![serde_json::json!({"Effect": "Allow"})],
                },
            ],
        };
        let text = step.to_write();
        assert!(text.contains(r#""op":"create_instance_profile""#), "{text}");
        assert_eq!(IamStep::from_write(&text).unwrap(), step);
    }
}
