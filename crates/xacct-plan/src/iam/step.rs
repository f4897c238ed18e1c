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

/// Whether two statements are the same statement, `Sid` included: `xacct-policy`'s statement
/// equivalence in `partition` (`None`: inferred); statements that do not parse compare as JSON.
pub fn statements_equivalent(a: &Value, b: &Value, partition: Option<&str>) -> bool {
    match (xacct_policy::Statement::from_value(a), xacct_policy::Statement::from_value(b)) {
        (Ok(x), Ok(y)) => x.equivalent_in(&y, partition),
        _ => a == b,
    }
}

/// What [`IamOp::EditTrust`] writes, decided on the live trust document `live`: every live
/// statement stays as it is and where it is, except those equivalent to one in `remove` (and to
/// none in `add`: a statement kept is not moved); then each statement of `add` that no remaining
/// statement is equivalent to is appended. Equivalence is [`statements_equivalent`], `Sid`
/// included, so a foreign statement that only resembles xacct's is never taken.
///
/// Returns `None` when nothing changes (a repeated or retried edit), so nothing is written.
/// A document whose `Statement` is neither an object nor a list is an error.
pub fn edit_trust_document(
    live: &Value,
    remove: &[Value],
    add: &[Value],
    partition: Option<&str>,
) -> Result<Option<Value>, String> {
    let listed = xacct_policy::statements(live).map_err(|e| e.to_string())?;
    let in_list = |list: &[Value], s: &Value| list.iter().any(|x| statements_equivalent(x, s, partition));
    let mut kept: Vec<Value> = Vec::with_capacity(listed.len() + add.len());
    let mut changed = false;
    for s in listed {
        if in_list(remove, s) && !in_list(add, s) {
            changed = true;
        } else {
            kept.push(s.clone());
        }
    }
    for s in add {
        if !in_list(&kept, s) {
            kept.push(s.clone());
            changed = true;
        }
    }
    if !changed {
        return Ok(None);
    }
    let mut doc = live.as_object().cloned().unwrap_or_default();
    if !doc.contains_key("Version") {
        doc.insert("Version".into(), Value::String("2012-10-17".into()));
    }
    doc.insert("Statement".into(), Value::Array(kept));
    Ok(Some(Value::Object(doc)))
}

impl IamOp {
    /// The IAM action the operation calls, for messages (`iam:CreateRole`).
    pub fn action(&self) -> &'static str {
        match self {
            IamOp::CreateRole { .. } => "iam:CreateRole",
            IamOp::UpdateRole { .. } => "iam:UpdateRole",
            IamOp::EditTrust { .. } => "iam:UpdateAssumeRolePolicy",
            IamOp::PutRolePolicy { .. } => "iam:PutRolePolicy",
            IamOp::DeleteRolePolicy { .. } => "iam:DeleteRolePolicy",
            IamOp::DeleteRole { .. } => "iam:DeleteRole",
            IamOp::CreateInstanceProfile { .. } => "iam:CreateInstanceProfile",
            IamOp::AddRoleToInstanceProfile { .. } => "iam:AddRoleToInstanceProfile",
            IamOp::RemoveRoleFromInstanceProfile { .. } => "iam:RemoveRoleFromInstanceProfile",
            IamOp::DeleteInstanceProfile { .. } => "iam:DeleteInstanceProfile",
            IamOp::CreatePolicy { .. } => "iam:CreatePolicy",
            IamOp::CreatePolicyVersion { .. } => "iam:CreatePolicyVersion",
            IamOp::DeletePolicy { .. } => "iam:DeletePolicy",
            IamOp::Attach { to: IamPrincipal::Role(_), .. } => "iam:AttachRolePolicy",
            IamOp::Attach { to: IamPrincipal::User(_), .. } => "iam:AttachUserPolicy",
            IamOp::Attach { to: IamPrincipal::Group(_), .. } => "iam:AttachGroupPolicy",
            IamOp::Detach { to: IamPrincipal::Role(_), .. } => "iam:DetachRolePolicy",
            IamOp::Detach { to: IamPrincipal::User(_), .. } => "iam:DetachUserPolicy",
            IamOp::Detach { to: IamPrincipal::Group(_), .. } => "iam:DetachGroupPolicy",
            IamOp::CreateUser { .. } => "iam:CreateUser",
            IamOp::DeleteUser { .. } => "iam:DeleteUser",
            IamOp::CreateGroup { .. } => "iam:CreateGroup",
            IamOp::DeleteGroup { .. } => "iam:DeleteGroup",
            IamOp::AddUserToGroup { .. } => "iam:AddUserToGroup",
            IamOp::RemoveUserFromGroup { .. } => "iam:RemoveUserFromGroup",
            IamOp::PutUserPolicy { .. } => "iam:PutUserPolicy",
            IamOp::DeleteUserPolicy { .. } => "iam:DeleteUserPolicy",
        }
    }
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

    #[test]
    fn edit_trust_keeps_every_other_statement_in_place() {
        use serde_json::json;
        let foreign = json!({"Sid": "Theirs", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"});
        let xacct = json!({"Sid": "XacctDev", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/r"}, "Action": "sts:AssumeRole"});
        let old = json!({"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"});
        // Equivalent to `old` written differently (a one-element action list): still removed.
        let old_live =
            json!({"Effect": "Allow", "Principal": {"Service": ["eks.amazonaws.com"]}, "Action": ["sts:AssumeRole"]});
        let new = json!({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]});
        let live = json!({"Version": "2012-10-17", "Statement": [foreign, old_live, xacct]});
        let edited = edit_trust_document(&live, std::slice::from_ref(&old), std::slice::from_ref(&new), Some("aws"))
            .unwrap()
            .unwrap();
        assert_eq!(edited, json!({"Version": "2012-10-17", "Statement": [foreign, xacct, new]}));
        // Again: nothing to write.
        assert_eq!(
            edit_trust_document(&edited, std::slice::from_ref(&old), std::slice::from_ref(&new), Some("aws")).unwrap(),
            None
        );
        // A statement in both lists stays where it is.
        assert_eq!(
            edit_trust_document(&edited, std::slice::from_ref(&new), std::slice::from_ref(&new), None).unwrap(),
            None
        );
        // A foreign statement that differs from xacct's only by its Sid is not xacct's.
        let mut lookalike = old.clone();
        lookalike["Sid"] = json!("Theirs2");
        let live = json!({"Version": "2012-10-17", "Statement": lookalike});
        assert_eq!(edit_trust_document(&live, std::slice::from_ref(&old), &[], None).unwrap(), None);
        // A single statement object becomes a list when something is added.
        let edited = edit_trust_document(&live, &[], std::slice::from_ref(&new), None).unwrap().unwrap();
        assert_eq!(edited, json!({"Version": "2012-10-17", "Statement": [lookalike, new]}));
        let bad = json!({"Version": "2012-10-17", "Statement": "x"});
        assert_eq!(
            edit_trust_document(&bad, &[], &[new], None).unwrap_err(),
            "invalid `Statement`: expected an object or an array, found a string"
        );
    }
}
