//! xacct-cli: the `xacct` command line — clap arguments, settings, commands and exit codes.
//!
//! Every command returns an [`Outcome`] or an error; [`main`] maps them to the documented exit
//! codes (0 success or nothing to do, 1 error, 2 changes/drift/findings where a command says so).
//! Data goes to stdout, progress and diagnostics to stderr, and so do log lines (`--log-level`,
//! `XACCT_LOG`), every one of them cleaned of credentials first.

mod args;
mod commands;
mod printer;
mod progress;

use std::process::ExitCode;

use clap::Parser as _;

pub use args::Cli;
pub use printer::Printer;

/// What a command found, as an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 2: changes pending, drift found, findings reported, documents differ.
    Differs,
}

/// Parse the process arguments, run the command, return its exit code.
pub fn main() -> ExitCode {
    // Usage errors exit 1 (2 means "changes", "drift" or "differs" here); --help and --version 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(1) } else { ExitCode::SUCCESS };
        }
    };
    let printer = Printer::new(cli.options.color);
    if let Err(err) = logging::init(cli.options.log_level, cli.options.log_format) {
        printer.error(&err);
        return ExitCode::from(1);
    }
    match commands::run(cli, &printer) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Differs) => ExitCode::from(2),
        Err(err) => {
            printer.error(&err);
            ExitCode::from(1)
        }
    }
}

/// Log lines: `tracing` events to stderr, filtered by `--log-level` or `XACCT_LOG`, each line
/// passed through [`xacct_aws::redact_secrets`] before it is written.
mod logging {
    use std::io::Write;

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::EnvFilter;

    use crate::args::{LogFormat, LogLevel};

    /// The environment variable read when `--log-level` is not given.
    const ENV: &str = "XACCT_LOG";

    /// The filter directives `--log-level` or `XACCT_LOG` stand for; `None` when logging is off.
    ///
    /// A bare level keeps everything but xacct at `warn` (the AWS SDK's `debug` output is long)
    /// except `trace`, which is everything: the SDK's own detail. Anything else is taken as
    /// `RUST_LOG`-style directives, as written.
    pub(crate) fn directives(level: Option<LogLevel>, env: Option<&str>) -> Option<String> {
        let text = match (level, env.map(str::trim).filter(|e| !e.is_empty())) {
            (Some(level), _) => format!("{level:?}").to_ascii_lowercase(),
            (None, Some(env)) => env.to_string(),
            (None, None) => return None,
        };
        Some(match text.to_ascii_lowercase().as_str() {
            "off" => return None,
            "error" | "warn" | "trace" => text.to_ascii_lowercase(),
            l @ ("info" | "debug") => format!("warn,xacct={l}"),
            _ => text,
        })
    }

    /// Install the subscriber, unless logging is off.
    pub(crate) fn init(level: Option<LogLevel>, format: LogFormat) -> anyhow::Result<()> {
        let env = std::env::var(ENV).ok();
        let Some(directives) = directives(level, env.as_deref()) else { return Ok(()) };
        let filter = EnvFilter::builder().parse(&directives).map_err(|e| {
            anyhow::anyhow!(
                "invalid {ENV} `{directives}`: {e}\n\nhint: give a level (off, error, warn, info, debug, trace) or \
                 filters such as `xacct=debug,aws_smithy_runtime=trace`"
            )
        })?;
        // The SDK prints sensitive response bodies (STS credentials) when this is set; xacct
        // never wants that, whatever the environment says. Nothing else runs yet.
        std::env::remove_var("LOG_SENSITIVE_BODIES");
        let json = format == LogFormat::Json;
        let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(Redacting { json });
        let installed = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
        installed.map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
    }

    /// Makes one [`Line`] per event.
    struct Redacting {
        json: bool,
    }

    impl<'a> MakeWriter<'a> for Redacting {
        type Writer = Line;

        fn make_writer(&'a self) -> Line {
            Line { buf: Vec::new(), json: self.json }
        }
    }

    /// One formatted event, held until it is complete, then cleaned and written to stderr at once.
    struct Line {
        buf: Vec<u8>,
        json: bool,
    }

    impl Write for Line {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.buf.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Drop for Line {
        fn drop(&mut self) {
            if self.buf.is_empty() {
                return;
            }
            let text = String::from_utf8_lossy(&self.buf);
            let clean = if self.json { redact_json_lines(&text) } else { xacct_aws::redact_secrets(&text) };
            let _ = std::io::stderr().lock().write_all(clean.as_bytes());
        }
    }

    /// Each line's strings cleaned one by one, so that what is written is still JSON.
    fn redact_json_lines(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(mut v) => {
                    redact_value(&mut v);
                    out.push_str(&v.to_string());
                }
                // Not JSON (it always is): clean it as text, and keep it on one line.
                Err(_) => out.push_str(&serde_json::Value::String(xacct_aws::redact_secrets(line)).to_string()),
            }
            out.push('\n');
        }
        out
    }

    fn redact_value(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => *s = xacct_aws::redact_secrets(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(redact_value),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(redact_value),
            _ => {}
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn flag_env_and_levels() {
            assert_eq!(directives(None, None), None);
            assert_eq!(directives(None, Some("  ")), None);
            assert_eq!(directives(Some(LogLevel::Off), Some("debug")), None);
            assert_eq!(directives(Some(LogLevel::Debug), Some("trace")).as_deref(), Some("warn,xacct=debug"));
            assert_eq!(directives(None, Some("DEBUG")).as_deref(), Some("warn,xacct=debug"));
            assert_eq!(directives(None, Some("trace")).as_deref(), Some("trace"));
            assert_eq!(directives(Some(LogLevel::Warn), None).as_deref(), Some("warn"));
            let filters = "xacct=debug,aws_smithy_runtime=trace";
            assert_eq!(directives(None, Some(filters)).as_deref(), Some(filters));
        }

        #[test]
        fn json_lines_stay_json_once_cleaned() {
            let line = r#"{"message":"x-amz-security-token:FQoGZXIvYXdzEBYaDHqa0AP1Zd3p0kZ1yKqAZ8y0cXfP2Q6w0e2Q4G8H1mN2b3V4c5X6z7Y8a9B0c1D2e3F4g5H6\nhost:iam","key":"AKIAXACCTBASE0000001"}"#;
            let out = redact_json_lines(line);
            let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
            let text = v.to_string();
            assert!(!text.contains("FQoGZXIvYXdz") && !text.contains("AKIAXACCTBASE0000001"), "{text}");
            assert!(v["message"].as_str().unwrap().ends_with("\nhost:iam"), "{text}");
        }
    }
}
