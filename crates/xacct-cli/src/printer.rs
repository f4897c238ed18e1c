//! Where output goes: data to stdout, messages to stderr, colour only on a terminal and never when
//! `NO_COLOR` is set.

use std::io::{IsTerminal, Write};

use crate::args::ColorChoice;

#[derive(Clone, Debug)]
pub struct Printer {
    color_out: bool,
    color_err: bool,
}

impl Printer {
    pub fn new(choice: ColorChoice) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let auto = |tty: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        Printer { color_out: auto(std::io::stdout().is_terminal()), color_err: auto(std::io::stderr().is_terminal()) }
    }

    pub fn stdout_color(&self) -> bool {
        self.color_out
    }

    /// Data, to stdout.
    pub fn out(&self, text: &str) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = o.write_all(b"\n");
        }
    }

    /// A progress or status line, to stderr.
    pub fn status(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    pub fn warning(&self, text: &str) {
        self.tagged("warning", "33", text);
    }

    /// An error and its causes, to stderr.
    pub fn error(&self, err: &anyhow::Error) {
        let text = error_text(err);
        if text.starts_with("error: ") {
            self.status(&self.paint_err("31", &text));
        } else {
            self.tagged("error", "31", &text);
        }
    }

    fn tagged(&self, tag: &str, code: &str, text: &str) {
        let body = text.strip_prefix(&format!("{tag}: ")).unwrap_or(text);
        self.status(&format!("{}: {body}", self.paint_err(code, tag)));
    }

    /// Colour for stderr text.
    pub fn paint_err(&self, code: &str, text: &str) -> String {
        paint(self.color_err, code, text)
    }
}

pub fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// An error and its causes, as `xacct` prints them (without the `error: ` tag it adds).
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = format!("{err}");
    for cause in err.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    text
}
