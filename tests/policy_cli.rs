//! `xacct policy …` end to end: diff (every case of REFERENCE.md §4), fmt, check, can-assume.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{xacct_in, Run};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Capa","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/capa"},"Action":"sts:AssumeRole"}]}"#;

/// A temporary directory holding named documents; commands run inside it so messages name
/// the files as given.
struct Docs(tempfile::TempDir);

impl Docs {
    fn new(files: &[(&str, &str)]) -> Self {
        let d = Docs(tempfile::tempdir().unwrap());
        for (name, text) in files {
            d.write(name, text);
        }
        d
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.path().join(name), text).unwrap();
    }

    fn run(&self, args: &[&str]) -> Run {
        xacct_in(self.0.path(), args, &[])
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

/// `xacct ARGS` in `dir` with `input` on stdin.
fn with_stdin(dir: &Path, args: &[&str], input: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap().into()
}

/// Percent-encode every byte that is not unreserved, as IAM does (RFC 3986).
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn diff(a: &str, b: &str) -> Run {
    let d = Docs::new(&[("a.json", a), ("b.json", b)]);
    d.run(&["policy", "diff", "a.json", "b.json"])
}

fn diff_json(a: &str, b: &str) -> serde_json::Value {
    let d = Docs::new(&[("a.json", a), ("b.json", b)]);
    let r = d.run(&["policy", "diff", "--json", "a.json", "b.json"]);
    assert!(r.code == 0 || r.code == 2, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["equivalent"], r.code == 0);
    v
}

// ---- diff: equal (exit 0) ----

#[test]
fn diff_equal_cases_of_reference_section_4() {
    let stmt = |body: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#);
    let cases: Vec<(&str, String, String)> = vec![
        (
            "whitespace",
            TRUST.to_string(),
            "{\n  \"Version\" : \"2012-10-17\",\n\t\"Statement\": [ {\"Sid\": \"Capa\", \"Effect\": \"Allow\",\n    \"Principal\": { \"AWS\": \"arn:aws:iam::111111111111:role/capa\" },\n    \"Action\": \"sts:AssumeRole\" } ]\n}\n".into(),
        ),
        (
            "statement order",
            stmt(r#"{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"B","Effect":"Deny","Action":"s3:PutObject","Resource":"*"}"#),
            stmt(r#"{"Sid":"B","Effect":"Deny","Action":"s3:PutObject","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#),
        ),
        (
            "single statement vs one-element array",
            TRUST.to_string(),
            r#"{"Version":"2012-10-17","Statement":{"Sid":"Capa","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/capa"},"Action":"sts:AssumeRole"}}"#.into(),
        ),
        (
            "string vs one-element array: Action and Resource",
            stmt(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#),
            stmt(r#"{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"]}"#),
        ),
        (
            "string vs one-element array: NotAction and NotResource",
            stmt(r#"{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:s3:::b"}"#),
            stmt(r#"{"Effect":"Deny","NotAction":["iam:*"],"NotResource":["arn:aws:s3:::b"]}"#),
        ),
        (
            "string vs one-element array: Principal",
            TRUST.to_string(),
            TRUST.replace(r#""arn:aws:iam::111111111111:role/capa""#, r#"["arn:aws:iam::111111111111:role/capa"]"#),
        ),
        (
            "string vs one-element array: condition value",
            stmt(r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"dev-1"}}}"#),
            stmt(r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":["dev-1"]}}}"#),
        ),
        (
            "array order",
            stmt(r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:role/a","arn:aws:iam::1:role/b"]},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":["x","y"]}}}"#),
            stmt(r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:role/b","arn:aws:iam::1:role/a"]},"Action":["sts:TagSession","sts:AssumeRole"],"Condition":{"StringEquals":{"sts:ExternalId":["y","x"]}}}"#),
        ),
        ("Effect case", TRUST.to_string(), TRUST.replace("\"Allow\"", "\"allow\"")),
        (
            "bool vs string in a condition",
            stmt(r#"{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}"#),
            stmt(r#"{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#),
        ),
        (
            "number vs string in a condition",
            stmt(r#"{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThanEquals":{"s3:max-keys":[10]}}}"#),
            stmt(r#"{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}"#),
        ),
        (
            "account ID vs root ARN",
            TRUST.replace("arn:aws:iam::111111111111:role/capa", "111111111111"),
            TRUST.replace("arn:aws:iam::111111111111:role/capa", "arn:aws:iam::111111111111:root"),
        ),
        (
            "empty vs missing principal lists",
            stmt(r#"{"Effect":"Allow","Principal":{"AWS":[],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#),
            stmt(r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#),
        ),
    ];
    for (name, a, b) in &cases {
        let r = diff(a, b);
        assert_eq!(r.code, 0, "{name}: expected equal\n{r:?}");
        assert!(r.stdout.is_empty(), "{name}: {}", r.stdout);
        assert!(r.stderr.contains("a.json and b.json are the same policy"), "{name}: {}", r.stderr);
        // And in the other direction.
        assert_eq!(diff(b, a).code, 0, "{name}: not symmetric");
    }
}

// ---- diff: not equal (exit 2) ----

#[test]
fn diff_different_sid() {
    let r = diff(TRUST, &TRUST.replace("\"Capa\"", "\"Other\""));
    r.assert_code(2);
    assert!(r.stdout.contains("~ statement Sid `Capa` → Sid `Other` changed (#0)"), "{}", r.stdout);
    assert!(r.stdout.contains("-   \"Sid\": \"Capa\",\n+   \"Sid\": \"Other\","), "{}", r.stdout);
    let r = diff(TRUST, &TRUST.replace("\"Sid\":\"Capa\",", ""));
    r.assert_code(2);
    assert!(r.stdout.contains("Sid `Capa` → without Sid"), "{}", r.stdout);
}

#[test]
fn diff_different_id() {
    let with_id = TRUST.replace("{\"Version\"", "{\"Id\":\"one\",\"Version\"");
    let r = diff(TRUST, &with_id);
    r.assert_code(2);
    assert!(r.stdout.contains("~ Id: missing in a.json, `one` in b.json"), "{}", r.stdout);
    assert_eq!(diff(&with_id, &with_id.replace("one", "two")).code, 2);
    let v = diff_json(&with_id, &with_id.replace("one", "two"));
    assert_eq!(v["document"][0], serde_json::json!({"element": "Id", "a": "one", "b": "two"}));
}

#[test]
fn diff_missing_version_vs_2012() {
    let r = diff(TRUST, &TRUST.replace("\"Version\":\"2012-10-17\",", ""));
    r.assert_code(2);
    assert!(r.stdout.contains("~ Version: `2012-10-17` in a.json, missing in b.json"), "{}", r.stdout);
}

#[test]
fn diff_wildcard_principal_string_vs_aws_map() {
    let a = TRUST.replace(r#"{"AWS":"arn:aws:iam::111111111111:role/capa"}"#, "\"*\"");
    let b = TRUST.replace("arn:aws:iam::111111111111:role/capa", "*");
    let r = diff(&a, &b);
    r.assert_code(2);
    assert!(r.stdout.contains("-   \"Principal\": \"*\",\n+   \"Principal\": {"), "{}", r.stdout);
}

#[test]
fn diff_action_case() {
    let r = diff(TRUST, &TRUST.replace("sts:AssumeRole", "sts:assumerole"));
    r.assert_code(2);
    assert!(r.stdout.contains("-     \"sts:AssumeRole\"\n+     \"sts:assumerole\""), "{}", r.stdout);
}

#[test]
fn diff_duplicate_statement() {
    let dup = TRUST.replace(
        "}]}",
        r#"},{"Sid":"Capa","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/capa"},"Action":"sts:AssumeRole"}]}"#,
    );
    let r = diff(TRUST, &dup);
    r.assert_code(2);
    assert!(r.stdout.contains("+ statement Sid `Capa` (#1) only in b.json"), "{}", r.stdout);
    let v = diff_json(TRUST, &dup);
    assert_eq!(v["only_in_a"].as_array().unwrap().len(), 0);
    assert_eq!(v["only_in_b"][0]["index"], 1);
    assert_eq!(v["changed"].as_array().unwrap().len(), 0);
}

#[test]
fn diff_unique_id_principal() {
    let broken = TRUST.replace("arn:aws:iam::111111111111:role/capa", "AROA3XFRBF535PLBIFPI4");
    let r = diff(TRUST, &broken);
    r.assert_code(2);
    assert!(r.stdout.contains("+       \"AROA3XFRBF535PLBIFPI4\""), "{}", r.stdout);
    assert!(r.stderr.contains("hint: `AROA3XFRBF535PLBIFPI4` is a unique ID"), "{}", r.stderr);
}

#[test]
fn diff_reports_changed_and_one_sided_statements_as_json() {
    let a = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Capa","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/capa"},"Action":"sts:AssumeRole"},
        {"Sid":"Old","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let b = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"New","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"},
        {"Sid":"Capa","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/capa2"},"Action":"sts:AssumeRole"}]}"#;
    let v = diff_json(a, b);
    assert_eq!(v["equivalent"], false);
    assert_eq!(v["only_in_a"][0]["sid"], "Old");
    assert_eq!(v["only_in_a"][0]["index"], 1);
    assert_eq!(v["only_in_b"][0]["sid"], "New");
    assert_eq!(v["only_in_b"][0]["statement"]["Principal"], "*");
    let changed = &v["changed"][0];
    assert_eq!((changed["a"]["index"].as_u64(), changed["b"]["index"].as_u64()), (Some(0), Some(1)));
    assert_eq!(changed["b"]["statement"]["Principal"]["AWS"][0], "arn:aws:iam::111111111111:role/capa2");

    let r = diff(a, b);
    r.assert_code(2);
    assert!(r.stdout.starts_with("--- a.json\n+++ b.json\n"), "{}", r.stdout);
    assert!(r.stdout.contains("~ statement Sid `Capa` changed (#0 in a.json, #1 in b.json)"), "{}", r.stdout);
    assert!(r.stdout.contains("- statement Sid `Old` (#1) only in a.json"), "{}", r.stdout);
    assert!(r.stdout.contains("+ statement Sid `New` (#0) only in b.json"), "{}", r.stdout);
    assert!(
        r.stderr.contains("a.json and b.json differ: 1 change, 1 only in a.json, 1 only in b.json"),
        "{}",
        r.stderr
    );

    let v = diff_json(TRUST, TRUST);
    assert_eq!(v["equivalent"], true);
    assert_eq!(v["changed"], serde_json::json!([]));
}

// ---- diff: inputs ----

#[test]
fn diff_invalid_inputs_exit_1_with_line_and_column() {
    let r = diff(TRUST, "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n}");
    r.assert_code(1);
    assert!(r.stderr.contains("error: b.json:4:1: invalid JSON"), "{}", r.stderr);
    assert!(r.stdout.is_empty());

    let r =
        diff("{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"Permit\", \"Action\": \"s3:*\"}]}", TRUST);
    r.assert_code(1);
    assert!(
        r.stderr
            .contains("error: a.json:2:17: invalid `Statement[0].Effect`: expected `Allow` or `Deny`, found `Permit`"),
        "{}",
        r.stderr
    );

    let r = diff(TRUST, "{\"Version\":\"2012-10-17\",\"Statement\":[],\"Foo\":1}");
    r.assert_code(1);
    assert!(r.stderr.contains("b.json:1:40: invalid `Foo`: unknown element"), "{}", r.stderr);

    let r = diff(TRUST, "%7B%2");
    r.assert_code(1);
    assert!(r.stderr.contains("b.json: invalid percent-encoded policy document"), "{}", r.stderr);

    let d = Docs::new(&[("a.json", TRUST)]);
    let r = d.run(&["policy", "diff", "a.json", "missing.json"]);
    r.assert_code(1);
    assert!(r.stderr.contains("failed to read `missing.json`"), "{}", r.stderr);
}

#[test]
fn diff_url_encoded_inputs() {
    let encoded = url_encode(TRUST);
    assert!(encoded.starts_with("%7B%22Version%22"));
    let r = diff(&encoded, TRUST);
    r.assert_code(0);
    let r = diff(&encoded, &url_encode(&TRUST.replace("role/capa", "role/other")));
    r.assert_code(2);
    assert!(r.stdout.contains("+       \"arn:aws:iam::111111111111:role/other\""), "{}", r.stdout);

    // Positions of errors in an encoded document refer to its decoded text.
    let r =
        diff(TRUST, &url_encode("{\"Version\":\"2012-10-17\",\n\"Statement\":[{\"Effect\":\"Allow\",\"Action\":7}]}"));
    r.assert_code(1);
    assert!(r.stderr.contains("b.json:2:32: invalid `Statement[0].Action`"), "{}", r.stderr);
    assert!(r.stderr.contains("(position in the URL-decoded document)"), "{}", r.stderr);
}

#[test]
fn diff_reads_stdin_dash() {
    let d = Docs::new(&[("b.json", TRUST)]);
    let r = with_stdin(d.path(), &["policy", "diff", "-", "b.json"], &url_encode(TRUST));
    r.assert_code(0);
    assert!(r.stderr.contains("<stdin> and b.json are the same policy"), "{}", r.stderr);
    let r = with_stdin(d.path(), &["policy", "diff", "b.json", "-"], &TRUST.replace("Capa", "Other"));
    r.assert_code(2);
    assert!(r.stdout.starts_with("--- b.json\n+++ <stdin>\n"), "{}", r.stdout);
    let r = with_stdin(d.path(), &["policy", "diff", "-", "-"], TRUST);
    r.assert_code(1);
    assert!(r.stderr.contains("stdin (`-`) can only be read once"), "{}", r.stderr);
    let r = with_stdin(d.path(), &["policy", "diff", "-", "b.json"], "{\"Version\":");
    r.assert_code(1);
    assert!(r.stderr.contains("<stdin>:1:11: invalid JSON"), "{}", r.stderr);
}

// ---- fmt ----

const CANONICAL_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Capa",
      "Effect": "Allow",
      "Principal": {
        "AWS": [
          "arn:aws:iam::111111111111:role/capa"
        ]
      },
      "Action": [
        "sts:AssumeRole"
      ]
    }
  ]
}
"#;

#[test]
fn fmt_prints_the_canonical_form() {
    let d = Docs::new(&[("t.json", TRUST), ("e.txt", &url_encode(TRUST))]);
    let r = d.run(&["policy", "fmt", "t.json"]);
    r.assert_code(0);
    assert_eq!(r.stdout, CANONICAL_TRUST);
    let r = d.run(&["policy", "fmt", "e.txt"]);
    r.assert_code(0);
    assert_eq!(r.stdout, CANONICAL_TRUST);

    // Equivalent documents print the same text.
    let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"*"},{"Sid":"B","Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}"#;
    let b = r#"{"Statement":[{"Sid":"B","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:root"]},"Action":["sts:AssumeRole"]},{"Resource":["*"],"Action":["s3:GetObject","s3:PutObject"],"Effect":"Allow"}],"Version":"2012-10-17"}"#;
    d.write("a.json", a);
    d.write("b.json", b);
    let (ra, rb) = (d.run(&["policy", "fmt", "a.json"]), d.run(&["policy", "fmt", "b.json"]));
    ra.assert_code(0);
    rb.assert_code(0);
    assert_eq!(ra.stdout, rb.stdout);

    let r = with_stdin(d.path(), &["policy", "fmt", "-"], TRUST);
    r.assert_code(0);
    assert_eq!(r.stdout, CANONICAL_TRUST);
}

#[test]
fn fmt_check_exit_codes() {
    let d = Docs::new(&[("raw.json", TRUST), ("canonical.json", CANONICAL_TRUST)]);
    let r = d.run(&["policy", "fmt", "--check", "canonical.json"]);
    r.assert_code(0);
    assert!(r.stdout.is_empty());

    let r = d.run(&["policy", "fmt", "--check", "raw.json"]);
    r.assert_code(2);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("raw.json is not in canonical form"), "{}", r.stderr);

    // What fmt prints passes --check.
    let out = d.run(&["policy", "fmt", "raw.json"]).stdout;
    d.write("formatted.json", &out);
    d.run(&["policy", "fmt", "--check", "formatted.json"]).assert_code(0);

    d.write("no-newline.json", CANONICAL_TRUST.trim_end());
    let r = d.run(&["policy", "fmt", "--check", "no-newline.json"]);
    r.assert_code(2);
    assert!(r.stderr.contains("only the final newline differs"), "{}", r.stderr);

    d.write("encoded.txt", &url_encode(CANONICAL_TRUST));
    let r = d.run(&["policy", "fmt", "--check", "encoded.txt"]);
    r.assert_code(2);
    assert!(r.stderr.contains("it is URL-encoded"), "{}", r.stderr);
}

#[test]
fn fmt_invalid_policy_exits_1() {
    let d = Docs::new(&[(
        "bad.json",
        "{\"Version\": \"2012-10-17\",\n \"Statement\": {\"Effect\": \"Allow\", \"Action\": true}}",
    )]);
    for args in [&["policy", "fmt", "bad.json"][..], &["policy", "fmt", "--check", "bad.json"]] {
        let r = d.run(args);
        r.assert_code(1);
        assert!(r.stderr.contains("bad.json:2:35: invalid `Statement.Action`"), "{}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

// ---- check ----

/// Run `check` on a document; the findings' lines on stdout.
fn check(doc: &str, extra: &[&str]) -> Run {
    let d = Docs::new(&[("p.json", doc)]);
    let mut args = vec!["policy", "check"];
    args.extend_from_slice(extra);
    args.push("p.json");
    d.run(&args)
}

#[track_caller]
fn assert_finding(r: &Run, line: &str) {
    assert!(
        r.stdout.lines().any(|l| l == line),
        "missing line\n{line}\n--- stdout\n{}\n--- stderr\n{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn check_clean_trust_policy() {
    let r = check(TRUST, &[]);
    r.assert_code(0);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("checking p.json as a trust policy (a statement has a `Principal`)"), "{}", r.stderr);
    assert!(r.stderr.contains("p.json: no findings"), "{}", r.stderr);
}

#[test]
fn check_open_trust() {
    let doc = "{\"Version\": \"2012-10-17\", \"Statement\": [\n  {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"sts:AssumeRole\"}\n]}";
    let r = check(doc, &[]);
    r.assert_code(2);
    assert_finding(&r, "p.json:2:23: SECURITY_WARNING OPEN_TRUST at `Statement[0].Principal`: any AWS principal may assume this role: there is no condition restricting who");
}

#[test]
fn check_sts_star() {
    let r = check(&TRUST.replace("\"sts:AssumeRole\"", "\"sts:*\""), &[]);
    r.assert_code(2);
    assert!(
        r.stdout.contains("p.json:1:136: SECURITY_WARNING WILDCARD_ACTION at `Statement[0].Action[0]`: `sts:*`"),
        "{}",
        r.stdout
    );
}

#[test]
fn check_pass_role_on_star_guesses_identity() {
    let doc = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"Allow\",\n    \"Action\": \"iam:PassRole\",\n    \"Resource\": \"*\"\n  }]\n}";
    let r = check(doc, &[]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("checking p.json as an identity policy (no statement has a `Principal`)"),
        "{}",
        r.stderr
    );
    assert_finding(&r, "p.json:6:5: SECURITY_WARNING PASS_ROLE_WILDCARD at `Statement[0].Resource`: `iam:PassRole` on `*` lets the holder pass any role to a service; name the roles");
    assert!(r.stderr.contains("p.json: 1 SECURITY_WARNING"), "{}", r.stderr);
}

#[test]
fn check_unique_id_principal() {
    let r = check(&TRUST.replace("arn:aws:iam::111111111111:role/capa", "AROA3XFRBF535PLBIFPI4"), &[]);
    r.assert_code(2);
    assert!(r.stdout.starts_with("p.json:1:88: ERROR UNIQUE_ID_PRINCIPAL at `Statement[0].Principal.AWS[0]`: `AROA3XFRBF535PLBIFPI4` is a unique ID"), "{}", r.stdout);
}

#[test]
fn check_source_identity_requirement() {
    let doc = TRUST.replace(
        "\"Action\":\"sts:AssumeRole\"",
        r#""Action":["sts:AssumeRole","sts:SetSourceIdentity"],"Condition":{"StringLike":{"sts:SourceIdentity":"*"}}"#,
    );
    let r = check(&doc, &[]);
    r.assert_code(2);
    assert!(r.stdout.contains("WARNING REQUIRES_SOURCE_IDENTITY at `Statement[0].Condition.StringLike.sts:SourceIdentity`: the statement requires `sts:SourceIdentity`, which CAPA never sets"), "{}", r.stdout);
}

#[test]
fn check_bad_sid_and_missing_version_sorted_by_position() {
    let doc = "{\n  \"Statement\": [\n    {\"Sid\": \"xacct-dev\", \"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"111111111111\"}, \"Action\": \"sts:AssumeRole\"}\n  ]\n}";
    let r = check(doc, &[]);
    r.assert_code(2);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(lines[0].starts_with("p.json:1:1: WARNING MISSING_VERSION: no `Version`"), "{}", r.stdout);
    assert_eq!(lines[1], "p.json:3:6: ERROR INVALID_SID at `Statement[0].Sid`: `xacct-dev`: a Sid may only contain ASCII letters and digits");
    assert!(r.stderr.contains("p.json: 1 ERROR, 1 WARNING"), "{}", r.stderr);

    // In an identity policy a bad Sid is only a warning.
    let ident = r#"{"Version":"2012-10-17","Statement":[{"Sid":"a b","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let r = check(ident, &["--kind", "identity"]);
    r.assert_code(2);
    assert!(r.stdout.contains("WARNING INVALID_SID"), "{}", r.stdout);
    assert!(!r.stderr.contains("checking"), "no guess when --kind is given: {}", r.stderr);
}

#[test]
fn check_kind_override_and_json() {
    let r = check(TRUST, &["--kind", "identity", "--json"]);
    r.assert_code(2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["kind"], "identity");
    let codes: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["MISSING_RESOURCE", "PRINCIPAL_IN_IDENTITY_POLICY"], "{}", r.stdout);
    let f = &v["findings"][1];
    assert_eq!((f["severity"].as_str(), f["line"].as_u64(), f["column"].as_u64()), (Some("ERROR"), Some(1), Some(69)));
    assert_eq!(f["path"], "Statement[0].Principal");
}

#[test]
fn check_suggestions_only_exit_0() {
    let r = check(&TRUST.replace("2012-10-17", "2008-10-17"), &[]);
    r.assert_code(0);
    assert!(r.stdout.contains("SUGGESTION OLD_VERSION"), "{}", r.stdout);
}

#[test]
fn check_url_encoded_and_stdin() {
    let r = check(&url_encode(&TRUST.replace("\"sts:AssumeRole\"", "\"sts:*\"")), &[]);
    r.assert_code(2);
    assert!(r.stdout.contains("p.json:1:136: SECURITY_WARNING WILDCARD_ACTION"), "{}", r.stdout);
    assert!(r.stderr.contains("positions are in the URL-decoded document"), "{}", r.stderr);
    let d = Docs::new(&[]);
    let r = with_stdin(d.path(), &["policy", "check", "-"], TRUST);
    r.assert_code(0);
}

#[test]
fn check_unparseable_input_exits_1() {
    let r = check("{\"Version\": \"2012-10-17\",\n  \"Statement\": [}", &[]);
    r.assert_code(1);
    assert!(r.stderr.contains("error: p.json:2:17: invalid JSON"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

// ---- can-assume ----

const CAPA: &str = "arn:aws:iam::111111111111:role/capa";
const WORKLOAD: &str = "arn:aws:iam::222222222222:role/workload";

fn chain() -> Docs {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Capa","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/capa"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"dev-1"}}}]}"#;
    let identity = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AssumeWorkload","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/*"}]}"#;
    let deny =
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Freeze","Effect":"Deny","Action":"sts:*","Resource":"*"}]}"#;
    Docs::new(&[("trust.json", trust), ("assume.json", identity), ("freeze.json", deny)])
}

fn can_assume(d: &Docs, extra: &[&str]) -> Run {
    let mut args = vec!["policy", "can-assume", "--trust", "trust.json", "--principal", CAPA, "--role-arn", WORKLOAD];
    args.extend_from_slice(extra);
    d.run(&args)
}

#[test]
fn can_assume_allowed() {
    let d = chain();
    let r = can_assume(&d, &["--identity", "assume.json", "--external-id", "dev-1"]);
    r.assert_code(0);
    assert_eq!(
        r.stdout,
        format!("allowed: {CAPA} may assume {WORKLOAD}\ndecided by:\n  trust.json statement 0 (Sid `Capa`)\n  assume.json statement 0 (Sid `AssumeWorkload`)\n")
    );
}

#[test]
fn can_assume_wrong_or_missing_external_id() {
    let d = chain();
    let r = can_assume(&d, &["--identity", "assume.json", "--external-id", "prod-1"]);
    r.assert_code(2);
    assert!(r.stdout.starts_with(&format!("implicit deny: {CAPA} may not assume {WORKLOAD}\n")), "{}", r.stdout);
    assert!(!r.stdout.contains("decided by"), "{}", r.stdout);
    assert!(
        r.stdout.contains("`trust.json` statement 0 (Sid `Capa`) requires `sts:ExternalId` StringEquals `dev-1`; the request sent `prod-1`"),
        "{}",
        r.stdout
    );
    let r = can_assume(&d, &["--identity", "assume.json"]);
    r.assert_code(2);
    assert!(r.stdout.contains("none was sent (pass --external-id)"), "{}", r.stdout);
}

#[test]
fn can_assume_cross_account_needs_identity_allow() {
    let d = chain();
    let r = can_assume(&d, &["--external-id", "dev-1"]);
    r.assert_code(2);
    assert!(r.stdout.contains("cross-account: no identity policy"), "{}", r.stdout);
}

#[test]
fn can_assume_explicit_deny_and_json() {
    let d = chain();
    let r = can_assume(&d, &["--identity", "assume.json", "freeze.json", "--external-id", "dev-1"]);
    r.assert_code(2);
    assert!(r.stdout.starts_with("explicit deny: "), "{}", r.stdout);
    assert!(r.stdout.contains("decided by:\n  freeze.json statement 0 (Sid `Freeze`)\n"), "{}", r.stdout);

    let r =
        can_assume(&d, &["--identity", "assume.json", "--identity", "freeze.json", "--external-id", "dev-1", "--json"]);
    r.assert_code(2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["outcome"], "explicit_deny");
    assert_eq!(v["allowed"], false);
    assert_eq!(v["deciding"], serde_json::json!([{"policy": "freeze.json", "index": 0, "sid": "Freeze"}]));

    let r = can_assume(&d, &["--identity", "assume.json", "--external-id", "dev-1", "--json"]);
    r.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["outcome"], "allowed");
    assert_eq!(v["deciding"][0]["policy"], "trust.json");
}

#[test]
fn can_assume_invalid_input_exits_1() {
    let d = chain();
    d.write("broken.json", "{\"Version\": \"2012-10-17\",\n\"Statement\": [{\"Effect\": \"Allow\", \"Action\": 1}]}");
    let r = can_assume(&d, &["--identity", "broken.json"]);
    r.assert_code(1);
    assert!(r.stderr.contains("broken.json:2:35: invalid `Statement[0].Action`"), "{}", r.stderr);
    let r = d.run(&["policy", "can-assume", "--trust", "trust.json", "--principal", "capa", "--role-arn", WORKLOAD]);
    r.assert_code(1);
    assert!(r.stderr.contains("--principal `capa` is not an ARN"), "{}", r.stderr);
    let r = d.run(&[
        "policy",
        "can-assume",
        "--trust",
        "trust.json",
        "--principal",
        CAPA,
        "--role-arn",
        "arn:aws:iam::2:user/x",
    ]);
    r.assert_code(1);
    assert!(r.stderr.contains("is not a role ARN"), "{}", r.stderr);
}

// ---- partitions: an account ID is its root ARN in the documents' partition ----

const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// The six awspolicyequivalence-style cases in `partition`: a bare account ID against its root
/// ARN, in both directions, as a string and in lists (beside another account's root).
fn account_root_cases(partition: &str) -> Vec<(&'static str, String, String)> {
    let root = |id: &str| format!(r#""arn:{partition}:iam::{id}:root""#);
    let doc = |aws: String| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"","Effect":"Allow","Action":"*","Resource":"*","Principal":{{"AWS":{aws}}}}}]}}"#
        )
    };
    let (id, other) = ("123456789012", "999999999999");
    let bare = |a: &str| format!(r#""{a}""#);
    vec![
        ("id vs root", doc(bare(id)), doc(root(id))),
        ("root vs id", doc(root(id)), doc(bare(id))),
        ("[id] vs [root]", doc(format!("[{}]", bare(id))), doc(format!("[{}]", root(id)))),
        ("[root] vs id", doc(format!("[{}]", root(id))), doc(bare(id))),
        (
            "[id, other root] vs [root, other root]",
            doc(format!("[{},{}]", bare(id), root(other))),
            doc(format!("[{},{}]", root(id), root(other))),
        ),
        (
            "[other root, root] vs [id, other id]",
            doc(format!("[{},{}]", root(other), root(id))),
            doc(format!("[{},{}]", bare(id), bare(other))),
        ),
    ]
}

#[test]
fn diff_an_account_id_is_its_root_arn_in_every_partition() {
    for partition in PARTITIONS {
        for (name, a, b) in account_root_cases(partition) {
            let d = Docs::new(&[("a.json", &a), ("b.json", &b)]);
            for extra in [&[][..], &["--partition", partition]] {
                let mut args = vec!["policy", "diff", "a.json", "b.json"];
                args.extend_from_slice(extra);
                let r = d.run(&args);
                assert_eq!(r.code, 0, "{name} in {partition} {extra:?}: expected equal\n{r:?}");
                assert!(r.stdout.is_empty(), "{name} in {partition}: {}", r.stdout);
                assert!(r.stderr.contains("a.json and b.json are the same policy"), "{name}: {}", r.stderr);
                args.push("--json");
                let r = d.run(&args);
                assert_eq!(r.code, 0, "{name} in {partition} {extra:?} --json\n{r:?}");
                let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
                assert_eq!(v["equivalent"], true, "{name} in {partition}: {v:#}");
            }
            // In another partition the account ID is another principal: a diff naming it.
            let elsewhere = if partition == "aws" { "aws-cn" } else { "aws" };
            let r = d.run(&["policy", "diff", "a.json", "b.json", "--partition", elsewhere]);
            assert_eq!(r.code, 2, "{name}: a {partition} root is not an {elsewhere} account ID\n{r:?}");
            assert!(r.stdout.contains(&format!("\"arn:{elsewhere}:iam::123456789012:root\"")), "{name}: {}", r.stdout);
            assert!(r.stdout.contains(&format!("\"arn:{partition}:iam::123456789012:root\"")), "{name}: {}", r.stdout);
        }
    }
}

#[test]
fn diff_shows_an_account_id_as_the_root_arn_of_the_documents_partition() {
    let a = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Capa","Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}"#;
    let b = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Capa","Effect":"Allow","Principal":{"AWS":"arn:aws-cn:iam::111111111111:role/capa"},"Action":"sts:AssumeRole"}]}"#;
    let d = Docs::new(&[("a.json", a), ("b.json", b)]);
    let r = d.run(&["policy", "diff", "a.json", "b.json"]);
    r.assert_code(2);
    assert!(r.stdout.contains("-       \"arn:aws-cn:iam::111111111111:root\"\n"), "inferred from b.json: {}", r.stdout);
    let r = d.run(&["policy", "diff", "--partition", "aws-us-gov", "a.json", "b.json"]);
    r.assert_code(2);
    assert!(r.stdout.contains("-       \"arn:aws-us-gov:iam::111111111111:root\"\n"), "{}", r.stdout);
}

#[test]
fn a_partition_xacct_does_not_know_is_an_error_listing_the_known_ones() {
    let d = Docs::new(&[("a.json", TRUST), ("b.json", TRUST)]);
    for args in [
        &["policy", "diff", "--partition", "aws-moon", "a.json", "b.json"][..],
        &["policy", "fmt", "--partition", "aws-moon", "a.json"],
    ] {
        let r = d.run(args);
        r.assert_code(1);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
        assert!(r.stderr.contains("aws-moon"), "{}", r.stderr);
        for known in ["aws", "aws-cn", "aws-us-gov", "aws-eusc", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f"] {
            assert!(r.stderr.contains(known), "{known} is listed: {}", r.stderr);
        }
    }
    d.run(&["policy", "diff", "--partition", "aws-iso-b", "a.json", "b.json"]).assert_code(0);
}

#[test]
fn fmt_writes_an_account_id_as_the_root_arn_of_the_partition() {
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}"#;
    let cn = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["111111111111","arn:aws-cn:iam::222222222222:role/r"]},"Action":"sts:AssumeRole"}]}"#;
    let d = Docs::new(&[("t.json", doc), ("cn.json", cn)]);
    let root = |p: &str| format!("\"arn:{p}:iam::111111111111:root\"");
    let r = d.run(&["policy", "fmt", "t.json"]);
    r.assert_code(0);
    assert!(r.stdout.contains(&root("aws")), "no ARN to say otherwise: aws\n{}", r.stdout);
    for p in PARTITIONS {
        let r = d.run(&["policy", "fmt", "--partition", p, "t.json"]);
        r.assert_code(0);
        assert!(r.stdout.contains(&root(p)), "{p}: {}", r.stdout);
        d.write(&format!("{p}.canonical.json"), &r.stdout);
        d.run(&["policy", "fmt", "--check", "--partition", p, &format!("{p}.canonical.json")]).assert_code(0);
    }
    let r = d.run(&["policy", "fmt", "cn.json"]);
    r.assert_code(0);
    assert!(r.stdout.contains(&root("aws-cn")), "inferred from the document's ARNs: {}", r.stdout);
}

#[test]
fn can_assume_an_account_root_in_the_callers_partition() {
    for p in PARTITIONS {
        let capa = format!("arn:{p}:iam::111111111111:role/capa-controller");
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Capa","Effect":"Allow","Principal":{{"AWS":"arn:{p}:iam::111111111111:root"}},"Action":"sts:AssumeRole","Condition":{{"ArnEquals":{{"aws:PrincipalArn":"{capa}"}}}}}}]}}"#
        );
        let identity = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:{p}:iam::*:role/*"}}]}}"#
        );
        let d = Docs::new(&[("trust.json", &trust), ("assume.json", &identity)]);
        let role = format!("arn:{p}:iam::222222222222:role/capa-workload");
        let ask = |principal: &str| {
            d.run(&[
                "policy",
                "can-assume",
                "--trust",
                "trust.json",
                "--identity",
                "assume.json",
                "--principal",
                principal,
                "--role-arn",
                &role,
            ])
        };
        let r = ask(&capa);
        assert_eq!(r.code, 0, "{p}: {r:?}");
        assert!(r.stdout.starts_with("allowed: "), "{p}: {}", r.stdout);
        let session = format!("arn:{p}:sts::111111111111:assumed-role/capa-controller/s");
        assert_eq!(ask(&session).code, 0, "{p}: a session of the role");
        let r = ask(&format!("arn:{p}:iam::111111111111:role/ci-runner"));
        assert_eq!(r.code, 2, "{p}: another role of the account: {r:?}");
        assert!(r.stdout.starts_with("implicit deny: "), "{p}: {}", r.stdout);
    }
}
