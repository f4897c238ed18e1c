//! What differs between two documents, statement by statement: the decision behind
//! `xacct policy diff` (how it is shown is `xacct-render`'s business).
//!
//! Statements are paired in this order: identical ones first (as a multiset, so duplicates
//! count), then the same `Sid`, then the same statement under another `Sid`, then the
//! remaining statements without a `Sid` in document order. What is left is only on one
//! side. Every comparison uses the same canonical form as [`crate::equivalent_in`], so a
//! diff is empty exactly when the documents are equivalent.

use serde_json::Value;

use crate::canonical::Roots;
use crate::model::{unique_id_principals, Policy, Statement};

/// One statement of one side: its index in its document, the statement, and its canonical
/// JSON (bare account IDs written in the diff's partition).
#[derive(Debug, Clone, PartialEq)]
pub struct DiffSide<'p> {
    /// 0-based index in its document.
    pub index: usize,
    /// The statement as parsed.
    pub statement: &'p Statement,
    /// Its canonical JSON.
    pub canonical: Value,
}

impl DiffSide<'_> {
    /// The statement's `Sid`.
    pub fn sid(&self) -> Option<&str> {
        self.statement.sid.as_deref()
    }
}

/// A top-level element (`Version`, `Id`) whose values differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementDiff {
    /// `Version` or `Id`.
    pub element: &'static str,
    /// Its value in the first document (`None`: missing).
    pub a: Option<String>,
    /// Its value in the second document.
    pub b: Option<String>,
}

/// What differs between two documents.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicyDiff<'p> {
    /// Top-level elements that differ, `Version` before `Id`.
    pub document: Vec<ElementDiff>,
    /// Paired statements that differ, in the first document's order.
    pub changed: Vec<(DiffSide<'p>, DiffSide<'p>)>,
    /// Statements of the first document with no partner, in its order.
    pub only_in_a: Vec<DiffSide<'p>>,
    /// Statements of the second document with no partner, in its order.
    pub only_in_b: Vec<DiffSide<'p>>,
    /// Unique-ID principals (`AROA…`) in either document, first document first: each one
    /// is a trust that broke when the role or user it named was deleted.
    pub unique_ids: Vec<String>,
}

impl PolicyDiff<'_> {
    /// No difference: the documents are equivalent.
    pub fn is_empty(&self) -> bool {
        self.document.is_empty() && self.changed.is_empty() && self.only_in_a.is_empty() && self.only_in_b.is_empty()
    }

    /// The number of changes: differing top-level elements and changed statements.
    pub fn changes(&self) -> usize {
        self.document.len() + self.changed.len()
    }
}

/// A test that pairs a statement of `a` with one of `b`.
type Pairing = fn(&Side<'_>, &Side<'_>) -> bool;

/// A statement while pairing: the public side and its canonical form without `Sid`.
struct Side<'p> {
    side: DiffSide<'p>,
    without_sid: Value,
}

/// Pair the statements of `a` and `b` (see the module documentation) and list the
/// top-level differences. `partition` is the documents' partition; `None` infers it as
/// [`crate::equivalent`] does.
///
/// ```
/// use xacct_policy::{diff_policies, Policy};
///
/// let a = Policy::parse(r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"x:y","Resource":"*"}]}"#)?;
/// let b = Policy::parse(r#"{"Statement":[{"Sid":"A","Effect":"Deny","Action":"x:y","Resource":"*"}]}"#)?;
/// let d = diff_policies(&a, &b, None);
/// assert_eq!(d.changed.len(), 1);
/// assert!(d.only_in_a.is_empty() && d.only_in_b.is_empty() && !d.is_empty());
/// assert!(diff_policies(&a, &a, Some("aws-cn")).is_empty());
/// # Ok::<(), xacct_policy::PolicyError>(())
/// ```
pub fn diff_policies<'p>(a: &'p Policy, b: &'p Policy, partition: Option<&str>) -> PolicyDiff<'p> {
    let roots = Roots::new(partition, a.statements.iter().chain(&b.statements));
    let mut out = PolicyDiff::default();
    for (element, va, vb) in [("Version", &a.version, &b.version), ("Id", &a.id, &b.id)] {
        if va != vb {
            out.document.push(ElementDiff { element, a: va.clone(), b: vb.clone() });
        }
    }
    let sides = |p: &'p Policy| -> Vec<Option<Side<'p>>> {
        p.statements
            .iter()
            .enumerate()
            .map(|(index, statement)| {
                Some(Side {
                    side: DiffSide { index, statement, canonical: statement.canonical_with(true, &roots) },
                    without_sid: statement.canonical_with(false, &roots),
                })
            })
            .collect()
    };
    let mut left = sides(a);
    let mut right = sides(b);
    let passes: [Pairing; 4] = [
        |x, y| x.side.canonical == y.side.canonical,
        |x, y| x.side.sid().is_some() && x.side.sid() == y.side.sid(),
        |x, y| x.without_sid == y.without_sid,
        |x, y| x.side.sid().is_none() && y.side.sid().is_none(),
    ];
    for (pass, matches) in passes.iter().enumerate() {
        for slot in &mut left {
            let Some(x) = slot.as_ref() else { continue };
            let Some(j) = right.iter().position(|y| y.as_ref().is_some_and(|y| matches(x, y))) else { continue };
            if let (Some(x), Some(y)) = (slot.take(), right[j].take()) {
                if pass > 0 {
                    out.changed.push((x.side, y.side));
                }
            }
        }
    }
    out.only_in_a = left.into_iter().flatten().map(|s| s.side).collect();
    out.only_in_b = right.into_iter().flatten().map(|s| s.side).collect();
    out.changed.sort_by_key(|(x, _)| x.index);
    out.unique_ids = [a, b].into_iter().flat_map(unique_id_principals).collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::equivalent_in;

    fn policy(text: &str) -> Policy {
        Policy::parse(text).unwrap()
    }

    fn pairs(d: &PolicyDiff<'_>) -> Vec<(usize, usize)> {
        d.changed.iter().map(|(x, y)| (x.index, y.index)).collect()
    }

    fn indices(sides: &[DiffSide<'_>]) -> Vec<usize> {
        sides.iter().map(|s| s.index).collect()
    }

    #[test]
    fn statements_pair_by_sid_then_content() {
        let a = policy(
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"x:y","Resource":"*"},{"Sid":"B","Effect":"Allow","Action":"z:z","Resource":"*"}]}"#,
        );
        let b = policy(
            r#"{"Statement":[{"Sid":"C","Effect":"Allow","Action":"z:z","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"x:y","Resource":"*"}]}"#,
        );
        let d = diff_policies(&a, &b, None);
        assert_eq!(pairs(&d), [(0, 1), (1, 0)]);
        assert!(d.only_in_a.is_empty() && d.only_in_b.is_empty());
        assert_eq!(d.changes(), 2);
    }

    #[test]
    fn identical_statements_pair_first_even_under_a_shared_sid() {
        // `A` in b at #1 is identical to a's #0; b's #0 shares the Sid but differs: it is the
        // one left over, not a change of a's #0.
        let a = policy(r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"x:y","Resource":"*"}]}"#);
        let b = policy(
            r#"{"Statement":[{"Sid":"A","Effect":"Deny","Action":"x:y","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"x:y","Resource":"*"}]}"#,
        );
        let d = diff_policies(&a, &b, None);
        assert!(d.changed.is_empty());
        assert!(d.only_in_a.is_empty());
        assert_eq!(indices(&d.only_in_b), [0]);
    }

    #[test]
    fn duplicates_count_and_sidless_statements_pair_in_order() {
        let one = r#"{"Effect":"Allow","Action":"x:y","Resource":"*"}"#;
        let a = policy(&format!(r#"{{"Statement":[{one},{one}]}}"#));
        let b = policy(&format!(r#"{{"Statement":[{one}]}}"#));
        let d = diff_policies(&a, &b, None);
        assert_eq!(indices(&d.only_in_a), [1]);
        assert!(d.changed.is_empty() && d.only_in_b.is_empty());

        let a = policy(
            r#"{"Statement":[{"Effect":"Allow","Action":"a:a","Resource":"*"},{"Effect":"Allow","Action":"b:b","Resource":"*"}]}"#,
        );
        let b = policy(
            r#"{"Statement":[{"Effect":"Deny","Action":"c:c","Resource":"*"},{"Effect":"Deny","Action":"d:d","Resource":"*"}]}"#,
        );
        assert_eq!(pairs(&diff_policies(&a, &b, None)), [(0, 0), (1, 1)]);
    }

    #[test]
    fn a_renamed_statement_pairs_with_its_twin() {
        let a = policy(
            r#"{"Statement":[{"Sid":"Old","Effect":"Allow","Action":"x:y","Resource":"*"},{"Sid":"Gone","Effect":"Allow","Action":"g:g","Resource":"*"}]}"#,
        );
        let b = policy(r#"{"Statement":[{"Sid":"New","Effect":"Allow","Action":"x:y","Resource":"*"}]}"#);
        let d = diff_policies(&a, &b, None);
        assert_eq!(pairs(&d), [(0, 0)]);
        assert_eq!(indices(&d.only_in_a), [1]);
        assert_eq!(d.changed[0].0.sid(), Some("Old"));
        assert_eq!(d.changed[0].1.sid(), Some("New"));
    }

    #[test]
    fn version_and_id_are_listed_in_that_order() {
        let a = policy(r#"{"Version":"2012-10-17","Id":"one","Statement":[]}"#);
        let b = policy(r#"{"Id":"two","Statement":[]}"#);
        let d = diff_policies(&a, &b, None);
        assert_eq!(
            d.document,
            [
                ElementDiff { element: "Version", a: Some("2012-10-17".into()), b: None },
                ElementDiff { element: "Id", a: Some("one".into()), b: Some("two".into()) },
            ]
        );
        assert_eq!(d.changes(), 2);
    }

    #[test]
    fn unique_ids_of_both_documents_are_reported() {
        let a = policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"AROA3XFRBF535PLBIFPI4"},"Action":"sts:AssumeRole"}]}"#,
        );
        let b = policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"AIDAJQABLZS4A3QDU576Q"},"Action":"sts:AssumeRole"}]}"#,
        );
        assert_eq!(diff_policies(&a, &b, None).unique_ids, ["AROA3XFRBF535PLBIFPI4", "AIDAJQABLZS4A3QDU576Q"]);
    }

    #[test]
    fn a_bare_account_is_written_in_the_diffs_partition() {
        let a = policy(
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}"#,
        );
        let b = policy(
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws-cn:iam::123456789012:role/r"},"Action":"sts:AssumeRole"}]}"#,
        );
        for (partition, root) in
            [(None, "arn:aws-cn:iam::123456789012:root"), (Some("aws-us-gov"), "arn:aws-us-gov:iam::123456789012:root")]
        {
            let d = diff_policies(&a, &b, partition);
            assert_eq!(d.changed[0].0.canonical["Principal"]["AWS"][0], root, "{partition:?}");
        }
    }

    #[test]
    fn empty_exactly_when_equivalent() {
        let docs = [
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws-cn:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"allow","Principal":{"AWS":["123456789012"]},"Action":["sts:AssumeRole"]}}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}"#,
        ];
        for x in docs {
            for y in docs {
                for partition in [None, Some("aws"), Some("aws-cn")] {
                    let (px, py) = (policy(x), policy(y));
                    assert_eq!(
                        diff_policies(&px, &py, partition).is_empty(),
                        equivalent_in(&px, &py, partition),
                        "{x}\n{y}\n{partition:?}"
                    );
                }
            }
        }
    }
}
