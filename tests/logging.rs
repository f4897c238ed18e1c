//! Logging on the emulator: one `debug` line per AWS call (as many as the summary counts, with
//! each call's attempts), JSON lines that parse, and `trace` output — the AWS SDK's own detail —
//! that carries none of the credentials the run was given or obtained, nor a signature.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

use common::{Run, Scenario};
use serde_json::Value;
use xacct_test_support::{moto, FaultConfig, FaultProxy};

/// Base credentials distinctive enough that any trace of them is found: an access key ID of the
/// real shape, a 40-character secret and a session token of the real kind of length.
const BASE_KEY_ID: &str = "AKIAXACCTBASE0000001";
const BASE_SECRET: &str = "xacctBASEsecret0000+ThisMustNeverBeLogged";
const BASE_TOKEN: &str = "xacctBASEtoken0000FwoGZXIvYXdzEBYaDHqa0AP1Zd3p0kZ1yKqAZ8y0cXfP2Q6w0e2Q4G8H1mN2b3V4c5X6z7Y8a9B0c1D2e3F4g5H6ThisMustNeverBeLoggedEither";

/// The one line per call, in the text format.
const CALL_LINE: &str = "xacct::aws: aws call ";

/// `N` in the first `(N AWS calls)` of `text`.
fn summary_calls(text: &str) -> u64 {
    let end = text.find(" AWS calls)").unwrap_or_else(|| panic!("no `(N AWS calls)` in:\n{text}"));
    let start = text[..end].rfind('(').expect("an opening parenthesis") + 1;
    text[start..end].parse().unwrap_or_else(|e| panic!("`{}`: {e}", &text[start..end]))
}

/// The value of `field="…"` (or `field=N`) in a text log line.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let at = line.find(&format!(" {name}="))? + name.len() + 2;
    let rest = &line[at..];
    match rest.strip_prefix('"') {
        Some(quoted) => quoted.find('"').map(|end| &quoted[..end]),
        None => Some(rest.split_whitespace().next().unwrap_or("")),
    }
}

/// The body of `GET <moto>/<path>`, over plain HTTP/1.0.
fn moto_get(path: &str) -> String {
    let addr = moto().endpoint_url().strip_prefix("http://").expect("the emulator is plain http").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect to the emulator");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.") && head.contains(" 200 "), "GET {path}: {head}");
    body.to_string()
}

/// Every credential the emulator issued to xacct (its sessions are named `xacct`) in `accounts`:
/// access key IDs, secret keys and session tokens, from moto's own record of its sessions.
fn issued_credentials(accounts: &[&str]) -> Vec<String> {
    let data: Value = serde_json::from_str(&moto_get("/moto-api/data.json")).expect("moto's model data is JSON");
    let sessions = data["sts"]["AssumedRole"].as_array().expect("moto records its assumed-role sessions");
    let mut secrets = Vec::new();
    let mut per_account: BTreeMap<&str, usize> = BTreeMap::new();
    for s in sessions {
        let account = s["account_id"].as_str().unwrap_or_default();
        if s["session_name"] != "xacct" || !accounts.contains(&account) {
            continue;
        }
        *per_account.entry(accounts.iter().find(|a| **a == account).unwrap()).or_default() += 1;
        for key in ["access_key_id", "secret_access_key", "session_token"] {
            let value = s[key].as_str().unwrap_or_else(|| panic!("session without {key}: {s}"));
            assert!(value.len() >= 16, "{key} too short to look for: {value}");
            secrets.push(value.to_string());
        }
    }
    for account in accounts {
        assert!(
            per_account.get(account).is_some_and(|n| *n > 0),
            "xacct assumed no role in {account}: {per_account:?}"
        );
    }
    secrets
}

/// The first 16 characters in a row of any of `secrets` found in `text`, with the line they are on.
fn leaked(text: &str, secrets: &[&str]) -> Option<(String, String)> {
    const RUN: usize = 16;
    let windows: std::collections::HashSet<&[u8]> =
        secrets.iter().flat_map(|s| s.as_bytes().windows(RUN.min(s.len()))).collect();
    let bytes = text.as_bytes();
    let at = (0..bytes.len().saturating_sub(RUN - 1)).find(|&i| windows.contains(&bytes[i..i + RUN]))?;
    let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    let line = text[start..].lines().next().unwrap_or_default();
    Some((String::from_utf8_lossy(&bytes[at..at + RUN]).into_owned(), line.to_string()))
}

/// What follows each `name` (case-insensitive) in `text`, after `=`, `:`, quotes and spaces.
fn values_after(text: &str, name: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut values = Vec::new();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let start = from + found + name.len();
        from = start;
        let value: String = text[start..]
            .trim_start_matches(['=', ':', '"', '\\', ' '])
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ';' | '"' | '\\'))
            .collect();
        values.push(value);
    }
    values
}

/// No credential, signature or security token in `stderr`.
fn assert_clean(stderr: &str, secrets: &[String]) {
    let all: Vec<&str> = secrets.iter().map(String::as_str).chain([BASE_KEY_ID, BASE_SECRET, BASE_TOKEN]).collect();
    if let Some((part, line)) = leaked(stderr, &all) {
        panic!("a credential is in the log (`{part}`), on this line:\n{line}");
    }
    for value in values_after(stderr, "signature=") {
        assert!(!value.chars().take(8).all(|c| c.is_ascii_hexdigit()), "a signature is in the log: {value}");
    }
    for value in values_after(stderr, "x-amz-security-token") {
        assert!(
            value.is_empty() || value.starts_with("**") || value.starts_with("(redacted"),
            "a security token is in the log: {value}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_show_the_sdk_but_no_credential() {
    let s = Scenario::new(&["dev", "prod"]).await;
    let base = [
        ("AWS_ACCESS_KEY_ID", BASE_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", BASE_SECRET),
        ("AWS_SESSION_TOKEN", BASE_TOKEN),
        ("XACCT_LOG", "trace"),
        // The SDK prints sensitive response bodies (STS credentials) when this is set.
        ("LOG_SENSITIVE_BODIES", "true"),
    ];
    let apply = s.run_with(&["apply", "--auto-approve"], &base);
    apply.assert_code(0);
    let plan = s.run_with(&["plan", "--log-format", "json"], &base);
    plan.assert_code(0);

    // It is the SDK's detail: signing, the requests sent and the responses read.
    for wanted in ["aws_sigv4", "transmitting request", "read HTTP response body", "STS.AssumeRole", "IAM.GetRole"] {
        assert!(apply.stderr.contains(wanted), "no `{wanted}` in the trace:\n{}", tail(&apply));
    }
    assert!(apply.stderr.contains("AssumeRoleOutput"), "{}", tail(&apply));
    assert!(apply.stderr.lines().count() > 200, "{}", tail(&apply));
    // Every JSON line parses, cleaned as it is.
    let json_lines: Vec<Value> = plan
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(json_lines.iter().any(|v| v["target"] == "aws_sigv4::http_request::sign"), "{}", plan.stderr);

    let mut accounts: Vec<&str> = vec![&s.mgmt];
    accounts.extend(s.workloads.iter().map(|(_, a)| a.as_str()));
    let issued = issued_credentials(&accounts);
    assert_clean(&apply.stderr, &issued);
    assert_clean(&plan.stderr, &issued);
    // Nothing went to stdout but the plan and the run's own messages.
    assert_clean(&apply.stdout, &issued);
}

fn tail(r: &Run) -> String {
    let lines: Vec<&str> = r.stderr.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The lines of one call each, checked for their fields; the accounts they name.
fn call_lines(stderr: &str, accounts: &BTreeSet<&str>) -> Vec<String> {
    let lines: Vec<String> = stderr.lines().filter(|l| l.contains(CALL_LINE)).map(str::to_string).collect();
    for line in &lines {
        assert!(line.contains(" DEBUG "), "{line}");
        let account = field(line, "account").unwrap_or_else(|| panic!("no account: {line}"));
        assert!(accounts.contains(account), "account `{account}` is none of the scenario's: {line}");
        assert!(matches!(field(line, "service"), Some("sts" | "iam")), "{line}");
        assert!(field(line, "operation").is_some_and(|o| !o.is_empty()), "{line}");
        assert!(field(line, "principal").is_some_and(|p| !p.is_empty()), "{line}");
        assert!(field(line, "attempts").is_some_and(|a| a.parse::<u32>().is_ok_and(|a| a >= 1)), "{line}");
        assert!(field(line, "latency_ms").is_some_and(|a| a.parse::<u64>().is_ok()), "{line}");
        let outcome = field(line, "outcome").unwrap_or_else(|| panic!("no outcome: {line}"));
        assert!(outcome.starts_with(|c: char| c.is_ascii_digit()), "{line}");
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_one_line_per_aws_call() {
    let s = Scenario::new(&["dev"]).await;
    let mut accounts: BTreeSet<&str> = BTreeSet::from([s.mgmt.as_str()]);
    accounts.extend(s.workloads.iter().map(|(_, a)| a.as_str()));

    let r = s.run_with(&["plan"], &[("XACCT_LOG", "debug")]);
    r.assert_code(0);
    let lines = call_lines(&r.stderr, &accounts);
    assert_eq!(lines.len() as u64, summary_calls(&r.stdout), "{}", r.stderr);
    assert!(lines.len() >= 4, "{}", r.stderr);
    // xacct's lines only: the SDK's own debug output is `trace`'s business.
    assert!(!r.stderr.lines().any(|l| l.contains(" DEBUG ") && !l.contains(CALL_LINE)), "{}", r.stderr);
    // Who acted: the base credentials for AssumeRole, the assumed role for IAM.
    let assume = lines.iter().find(|l| field(l, "operation") == Some("AssumeRole")).expect("an AssumeRole line");
    assert_eq!(field(assume, "principal"), Some("the default credentials"), "{assume}");
    let get_role = lines.iter().find(|l| field(l, "operation") == Some("GetRole")).expect("a GetRole line");
    assert!(
        field(get_role, "principal").unwrap().contains(":assumed-role/OrganizationAccountAccessRole/"),
        "{get_role}"
    );
    assert!(
        lines.iter().any(|l| field(l, "outcome") == Some("404 NoSuchEntity")),
        "the absent assume policy: {lines:#?}"
    );

    // `--log-level` beats XACCT_LOG; the apply's summary counts its plan's calls and its writes.
    let r = s.run_with(&["apply", "--auto-approve", "--log-level", "debug"], &[("XACCT_LOG", "off")]);
    r.assert_code(0);
    let lines = call_lines(&r.stderr, &accounts);
    assert_eq!(lines.len() as u64, summary_calls(&r.stderr), "{}", r.stderr);
    assert!(lines.iter().any(|l| field(l, "operation") == Some("UpdateAssumeRolePolicy")), "{lines:#?}");
    assert!(lines.iter().any(|l| field(l, "operation") == Some("PutRolePolicy")), "{lines:#?}");

    // Off means off, and so does no setting at all.
    for env in [[("XACCT_LOG", "off")], [("XACCT_LOG", "")]] {
        let r = s.run_with(&["plan"], &env);
        r.assert_code(0);
        assert!(!r.stderr.contains("xacct::aws") && !r.stderr.contains(" WARN "), "{}", r.stderr);
    }
    let r = s.run_with(&["plan", "--log-level", "off"], &[("XACCT_LOG", "debug")]);
    assert!(!r.stderr.contains("xacct::aws"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_calls_are_one_line_with_their_attempts() {
    let s = Scenario::new(&["dev", "prod"]).await;
    let mut accounts: BTreeSet<&str> = BTreeSet::from([s.mgmt.as_str()]);
    accounts.extend(s.workloads.iter().map(|(_, a)| a.as_str()));
    let proxy = FaultProxy::start(moto().endpoint_url(), FaultConfig::failures(0.3, 16_2026)).await.unwrap();
    let r = s.run_with(
        &["apply", "--auto-approve", "--log-level", "debug"],
        &[("AWS_ENDPOINT_URL", proxy.url()), ("XACCT_LOG", "")],
    );
    r.assert_code(0);
    let lines = call_lines(&r.stderr, &accounts);
    assert_eq!(lines.len() as u64, summary_calls(&r.stderr), "{}", r.stderr);

    // The attempts each line reports are the requests the proxy received, operation by operation.
    let mut logged: BTreeMap<String, u64> = BTreeMap::new();
    for line in &lines {
        let op = format!("{}:{}", field(line, "service").unwrap(), field(line, "operation").unwrap());
        *logged.entry(op).or_default() += field(line, "attempts").unwrap().parse::<u64>().unwrap();
    }
    assert_eq!(logged, proxy.operations(), "{}", lines.join("\n"));
    let retried: Vec<&String> = lines.iter().filter(|l| field(l, "attempts") != Some("1")).collect();
    assert!(!retried.is_empty(), "30% faults and no retry:\n{}", lines.join("\n"));
    for line in retried {
        let earlier = field(line, "retried").unwrap_or_else(|| panic!("a retried call without `retried`: {line}"));
        let n: usize = field(line, "attempts").unwrap().parse().unwrap();
        assert_eq!(earlier.split(", ").count(), n - 1, "{line}");
        assert!(
            earlier.split(", ").all(|o| o.starts_with("400 Throttling")
                || o.starts_with("500 InternalFailure")
                || o.starts_with("connection error")),
            "{line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_lines_parse() {
    let s = Scenario::new(&["dev"]).await;
    let r = s.run_with(&["plan", "--log-format", "json"], &[("XACCT_LOG", "xacct=debug")]);
    r.assert_code(0);
    let mut calls = 0;
    for line in r.stderr.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        if v["target"] == "xacct::aws" {
            calls += 1;
            assert_eq!(v["level"], "DEBUG", "{line}");
            assert_eq!(v["message"], "aws call", "{line}");
            assert!(v["service"].is_string() && v["operation"].is_string() && v["account"].is_string(), "{line}");
            assert!(v["attempts"].as_u64().is_some_and(|a| a >= 1), "{line}");
            assert!(v["latency_ms"].is_u64() && v["outcome"].is_string(), "{line}");
        }
    }
    assert_eq!(calls, summary_calls(&r.stdout), "{}", r.stderr);

    // A filter that does not parse is an error, with the way to write one.
    let r = s.run_with(&["plan"], &[("XACCT_LOG", "xacct=loud")]);
    r.assert_code(1);
    assert!(r.stderr.contains("invalid XACCT_LOG `xacct=loud`"), "{}", r.stderr);
    assert!(r.stderr.contains("hint: give a level"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}
