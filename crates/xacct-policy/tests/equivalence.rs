//! Equivalence at the edges of REFERENCE.md §4: which `AWS` principals are the same account,
//! and statements compared with and without their `Sid`.

use serde_json::json;
use xacct_policy::{equivalent, normalize_aws_principal, Policy, Statement};

fn trusting(aws: &str) -> Policy {
    Policy::from_value(&json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": aws}, "Action": "sts:AssumeRole"}]}))
    .unwrap()
}

#[test]
fn only_a_twelve_digit_account_is_its_root_arn() {
    assert_eq!(normalize_aws_principal("123456789012"), "arn:aws:iam::123456789012:root");
    assert_eq!(normalize_aws_principal("012345678901"), "arn:aws:iam::012345678901:root");
    for unchanged in
        ["12345678901", "1234567890123", "12345678901a", "AROA12345678", "*", "", "arn:aws:iam::123456789012:root"]
    {
        assert_eq!(normalize_aws_principal(unchanged), unchanged);
    }
    assert!(equivalent(&trusting("123456789012"), &trusting("arn:aws:iam::123456789012:root")));
    assert!(!equivalent(&trusting("12345678901"), &trusting("arn:aws:iam::12345678901:root")));
    assert!(!equivalent(&trusting("AROA12345678"), &trusting("arn:aws:iam::AROA12345678:root")));
}

#[test]
fn account_form_is_normalised_only_for_aws_principals() {
    let service = |v: &str| {
        Policy::from_value(&json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Federated": v}, "Action": "sts:AssumeRoleWithWebIdentity"}]}))
        .unwrap()
    };
    assert!(!equivalent(&service("123456789012"), &service("arn:aws:iam::123456789012:root")));
}

#[test]
fn statements_compare_with_and_without_sid() {
    let stmt = |v: serde_json::Value| Statement::from_value(&v).unwrap();
    let a =
        stmt(json!({"Sid": "A", "Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole"}));
    let same = stmt(
        json!({"Sid": "A", "Effect": "allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]}, "Action": ["sts:AssumeRole"]}),
    );
    let renamed =
        stmt(json!({"Sid": "B", "Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole"}));
    let unnamed = stmt(json!({"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole"}));
    assert!(a.equivalent(&same) && same.equivalent(&a));
    assert!(a.equivalent_ignoring_sid(&same));
    assert!(!a.equivalent(&renamed) && !a.equivalent(&unnamed));
    assert!(a.equivalent_ignoring_sid(&renamed) && a.equivalent_ignoring_sid(&unnamed));
}
