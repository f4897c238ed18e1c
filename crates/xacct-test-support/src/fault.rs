//! A loopback HTTP/1.1 proxy that injects AWS-style failures between a client and the emulator.
//!
//! Each request is either forwarded (on a fresh upstream connection) or, at the configured rate,
//! answered with a fault drawn from a seeded RNG. Client connections are kept alive.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One kind of injected failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 400 with a query-protocol `Throttling: Rate exceeded` error (503 `SlowDown` for S3).
    Throttling,
    /// HTTP 500 `InternalFailure` (S3: `InternalError`).
    Http500,
    /// Close the connection with a TCP reset instead of answering (the request is not forwarded).
    Reset,
    /// Wait this many milliseconds, then forward normally.
    Delay(u64),
    /// Answer with this AWS error (query-protocol XML for IAM/STS, REST-XML for S3), e.g.
    /// `ExpiredToken` (400) or `InvalidClientTokenId` (403), to simulate what the emulator
    /// never says.
    AwsError { status: u16, code: &'static str, message: &'static str },
}

/// What to inject, how often, and from which seed.
#[derive(Clone, Debug)]
pub struct FaultConfig {
    /// Probability in `0.0..=1.0` that a request gets a fault instead of a plain forward.
    pub rate: f64,
    pub seed: u64,
    /// Drawn uniformly when a fault is injected; empty means none.
    pub kinds: Vec<FaultKind>,
}

impl FaultConfig {
    /// No faults at all: every request is forwarded (the proxy then only counts, see
    /// [`FaultProxy::operations`]).
    pub fn none() -> Self {
        FaultConfig { rate: 0.0, seed: 0, kinds: Vec::new() }
    }

    /// Throttling, 500s and resets at `rate`.
    pub fn failures(rate: f64, seed: u64) -> Self {
        FaultConfig { rate, seed, kinds: vec![FaultKind::Throttling, FaultKind::Http500, FaultKind::Reset] }
    }
}

/// What the proxy did so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub forwarded: u64,
    pub throttling: u64,
    pub http500: u64,
    pub reset: u64,
    pub delayed: u64,
    pub aws_errors: u64,
}

impl FaultCounts {
    /// Requests that failed on purpose (throttling, 500, reset); delays are not failures.
    pub fn failures(&self) -> u64 {
        self.throttling + self.http500 + self.reset
    }
}

#[derive(Default)]
struct Counters {
    forwarded: AtomicU64,
    throttling: AtomicU64,
    http500: AtomicU64,
    reset: AtomicU64,
    delayed: AtomicU64,
    aws_errors: AtomicU64,
}

struct Shared {
    upstream: String,
    kinds: Vec<FaultKind>,
    /// Rate as parts per million, adjustable while running.
    rate_ppm: AtomicU64,
    rng: Mutex<StdRng>,
    counters: Counters,
    /// Requests received (forwarded or answered with a fault), by [`operation`] name.
    operations: Mutex<BTreeMap<String, u64>>,
}

/// A running fault proxy; stops accepting when dropped.
pub struct FaultProxy {
    url: String,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl FaultProxy {
    /// Listen on a free loopback port and forward to `upstream_url` (`http://host:port`).
    /// Must be called inside a tokio runtime; the proxy lives on that runtime.
    pub async fn start(upstream_url: &str, config: FaultConfig) -> std::io::Result<FaultProxy> {
        let upstream = upstream_url
            .trim_end_matches('/')
            .strip_prefix("http://")
            .ok_or_else(|| std::io::Error::other(format!("fault proxy upstream must be http://…, got {upstream_url}")))?
            .to_string();
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            upstream,
            kinds: config.kinds,
            rate_ppm: AtomicU64::new(rate_to_ppm(config.rate)),
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            counters: Counters::default(),
            operations: Mutex::new(BTreeMap::new()),
        });
        let accept_shared = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, accept_shared.clone()));
            }
        });
        Ok(FaultProxy { url, shared, accept })
    }

    /// `http://127.0.0.1:<port>`: point the SDK's endpoint here.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Change the fault rate from now on (0.0 turns injection off).
    pub fn set_rate(&self, rate: f64) {
        self.shared.rate_ppm.store(rate_to_ppm(rate), Ordering::SeqCst);
    }

    /// What was forwarded and injected so far.
    pub fn counts(&self) -> FaultCounts {
        let c = &self.shared.counters;
        FaultCounts {
            forwarded: c.forwarded.load(Ordering::SeqCst),
            throttling: c.throttling.load(Ordering::SeqCst),
            http500: c.http500.load(Ordering::SeqCst),
            reset: c.reset.load(Ordering::SeqCst),
            delayed: c.delayed.load(Ordering::SeqCst),
            aws_errors: c.aws_errors.load(Ordering::SeqCst),
        }
    }

    /// Every request the proxy received so far (forwarded or answered with a fault, retries
    /// included), by operation: `iam:GetRole`, `sts:AssumeRole` — the service from the
    /// request's SigV4 credential scope and the `Action` form field of a query-protocol
    /// (IAM, STS) request; for other protocols the `X-Amz-Target` header, else the HTTP method
    /// (`s3:GET`).
    pub fn operations(&self) -> BTreeMap<String, u64> {
        self.shared.operations.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The number of requests the proxy received so far (the sum of [`FaultProxy::operations`]).
    pub fn requests(&self) -> u64 {
        self.operations().values().sum()
    }
}

/// The operation a request calls, as [`FaultProxy::operations`] names it.
fn operation(request: &Message) -> String {
    // `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iam/aws4_request, …`
    let service = request
        .header("authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split([',', ' ']).next())
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("unsigned")
        .to_string();
    let form = request.header("content-type").is_some_and(|v| v.contains("x-www-form-urlencoded"));
    let action = form
        .then(|| {
            std::str::from_utf8(&request.body).ok()?.split('&').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                (key == "Action").then(|| percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned())
            })
        })
        .flatten();
    let name = action
        .or_else(|| request.header("x-amz-target").map(str::to_string))
        .unwrap_or_else(|| request.start_line.split_whitespace().next().unwrap_or("?").to_string());
    format!("{service}:{name}")
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn rate_to_ppm(rate: f64) -> u64 {
    (rate.clamp(0.0, 1.0) * 1_000_000.0).round() as u64
}

impl Shared {
    fn draw(&self) -> Option<FaultKind> {
        if self.kinds.is_empty() {
            return None;
        }
        let ppm = self.rate_ppm.load(Ordering::SeqCst);
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        if rng.random_range(0..1_000_000u64) >= ppm {
            return None;
        }
        Some(self.kinds[rng.random_range(0..self.kinds.len())])
    }
}

/// A parsed HTTP/1.1 request or response: head lines and the raw (de-chunked) body.
struct Message {
    start_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

async fn serve(client: TcpStream, shared: Arc<Shared>) {
    let (read_half, mut write_half) = client.into_split();
    let mut reader = BufReader::new(read_half);
    loop {
        let request = match read_message(&mut reader, true, false).await {
            Ok(Some(request)) => request,
            _ => return,
        };
        let client_closes = request.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        *shared.operations.lock().unwrap_or_else(|e| e.into_inner()).entry(operation(&request)).or_insert(0) += 1;
        let response = match shared.draw() {
            Some(FaultKind::Reset) => {
                shared.counters.reset.fetch_add(1, Ordering::SeqCst);
                let client = reader.into_inner().reunite(write_half).expect("halves of one stream");
                let _ = client.set_zero_linger();
                drop(client);
                return;
            }
            Some(FaultKind::Throttling) => {
                shared.counters.throttling.fetch_add(1, Ordering::SeqCst);
                error_response(&request, 400, "Throttling", "Rate exceeded")
            }
            Some(FaultKind::Http500) => {
                shared.counters.http500.fetch_add(1, Ordering::SeqCst);
                error_response(&request, 500, "InternalFailure", "We encountered an internal error. Please try again.")
            }
            Some(FaultKind::Delay(ms)) => {
                shared.counters.delayed.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                forward(&shared, &request).await
            }
            Some(FaultKind::AwsError { status, code, message }) => {
                shared.counters.aws_errors.fetch_add(1, Ordering::SeqCst);
                error_response(&request, status, code, message)
            }
            None => forward(&shared, &request).await,
        };
        let Ok(bytes) = response else { return };
        if write_half.write_all(&bytes).await.is_err() || client_closes {
            return;
        }
    }
}

/// Forward one request on a fresh upstream connection and re-frame the answer with a
/// `Content-Length` so the client connection can stay alive.
async fn forward(shared: &Shared, request: &Message) -> std::io::Result<Vec<u8>> {
    shared.counters.forwarded.fetch_add(1, Ordering::SeqCst);
    let mut upstream = TcpStream::connect(&shared.upstream).await?;
    let mut head = format!("{}\r\n", request.start_line);
    for (name, value) in &request.headers {
        if !is_hop_header(name) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", request.body.len()));
    upstream.write_all(head.as_bytes()).await?;
    upstream.write_all(&request.body).await?;
    let is_head = request.start_line.starts_with("HEAD ");
    let mut reader = BufReader::new(upstream);
    let response = read_message(&mut reader, false, is_head)
        .await?
        .ok_or_else(|| std::io::Error::other("upstream closed without answering"))?;
    let mut out = format!("{}\r\n", response.start_line);
    for (name, value) in &response.headers {
        let keep = !is_hop_header(name) || (is_head && name.eq_ignore_ascii_case("content-length"));
        if keep {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    if !is_head {
        out.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&response.body);
    Ok(bytes)
}

fn is_hop_header(name: &str) -> bool {
    ["content-length", "transfer-encoding", "connection", "keep-alive"].iter().any(|h| name.eq_ignore_ascii_case(h))
}

/// An AWS-shaped error answer: query-protocol XML for IAM/STS, REST-XML for anything else (S3,
/// where throttling is `503 SlowDown` and a 500 is `InternalError`).
fn error_response(request: &Message, status: u16, code: &str, message: &str) -> std::io::Result<Vec<u8>> {
    let query_protocol = request.start_line.starts_with("POST ")
        && request.header("content-type").is_some_and(|v| v.contains("x-www-form-urlencoded"));
    let request_id = "00000000-0000-0000-0000-fa017fa017fa";
    let (status, code) = match (query_protocol, code) {
        (false, "Throttling") => (503, "SlowDown"),
        (false, "InternalFailure") => (500, "InternalError"),
        other => (status, other.1),
    };
    let body = if query_protocol {
        let kind = if status >= 500 { "Receiver" } else { "Sender" };
        format!(
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>{kind}</Type>\
             <Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
             <RequestId>{request_id}</RequestId></Error>"
        )
    };
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        409 => "Conflict",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let is_head = request.start_line.starts_with("HEAD ");
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nx-amzn-RequestId: {request_id}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !is_head {
        out.extend_from_slice(body.as_bytes());
    }
    Ok(out)
}

/// Read one message. `Ok(None)` on a clean EOF before any byte. Requests without a length have
/// no body; responses without one run to EOF (we always ask upstream to close).
async fn read_message<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    is_request: bool,
    head_only: bool,
) -> std::io::Result<Option<Message>> {
    use tokio::io::AsyncBufReadExt;
    let mut start_line = String::new();
    loop {
        start_line.clear();
        if reader.read_line(&mut start_line).await? == 0 {
            return Ok(None);
        }
        if !start_line.trim().is_empty() {
            break;
        }
    }
    let start_line = start_line.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "eof in headers"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let mut message = Message { start_line, headers, body: Vec::new() };
    let no_body_status = !is_request
        && (head_only
            || message.start_line.split_whitespace().nth(1).is_some_and(|code| code == "204" || code == "304"));
    if no_body_status {
        return Ok(Some(message));
    }
    if message.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        message.body = read_chunked(reader).await?;
    } else if let Some(length) = message.header("content-length") {
        let length: usize =
            length.parse().map_err(|_| std::io::Error::other(format!("bad Content-Length {length}")))?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        message.body = body;
    } else if !is_request {
        reader.read_to_end(&mut message.body).await?;
    }
    Ok(Some(message))
}

async fn read_chunked<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncBufReadExt;
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line).await?;
        let size_text = size_line.trim().split(';').next().unwrap_or("").to_string();
        let size = usize::from_str_radix(&size_text, 16)
            .map_err(|_| std::io::Error::other(format!("bad chunk size {size_text:?}")))?;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).await?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(start_line: &str, headers: &[(&str, &str)], body: &str) -> Message {
        Message {
            start_line: start_line.to_string(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");

    fn auth(service: &str) -> (&'static str, String) {
        (
            "Authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
            ),
        )
    }

    #[test]
    fn a_query_request_is_named_by_its_service_and_action() {
        let (k, v) = auth("iam");
        let r = request("POST / HTTP/1.1", &[FORM, (k, &v)], "Version=2010-05-08&Action=GetRolePolicy&RoleName=r");
        assert_eq!(operation(&r), "iam:GetRolePolicy");
        let (k, v) = auth("sts");
        let r = request("POST / HTTP/1.1", &[FORM, (k, &v)], "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam");
        assert_eq!(operation(&r), "sts:AssumeRole");
    }

    #[test]
    fn other_requests_are_named_by_target_or_method() {
        let (k, v) = auth("dynamodb");
        let r = request("POST / HTTP/1.1", &[("X-Amz-Target", "DynamoDB_20120810.PutItem"), (k, &v)], "{}");
        assert_eq!(operation(&r), "dynamodb:DynamoDB_20120810.PutItem");
        let (k, v) = auth("s3");
        assert_eq!(operation(&request("GET /bucket/key HTTP/1.1", &[(k, &v)], "")), "s3:GET");
        assert_eq!(operation(&request("PUT /x HTTP/1.1", &[], "Action=Nope")), "unsigned:PUT");
    }
}
