//! Where output goes: data to stdout, messages to stderr. Whether to colour each stream is
//! anstream's decision (a terminal, `NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE`, `TERM=dumb`), unless
//! `--color always|never` says otherwise; styles are anstyle's.

use std::io::Write;

use crate::args::ColorChoice;

/// The few tones messages use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Red,
    Green,
    Yellow,
    Cyan,
    Bold,
}

impl Tone {
    fn style(self) -> anstyle::Style {
        use anstyle::{AnsiColor, Style};
        let fg = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
        match self {
            Tone::Red => fg(AnsiColor::Red),
            Tone::Green => fg(AnsiColor::Green),
            Tone::Yellow => fg(AnsiColor::Yellow),
            Tone::Cyan => fg(AnsiColor::Cyan),
            Tone::Bold => Style::new().bold(),
        }
    }

    /// The tone of an SGR code as callers used to name them (`"31"` red, `"32"` green, …).
    fn from_code(code: &str) -> Tone {
        match code {
            "31" => Tone::Red,
            "32" => Tone::Green,
            "33" => Tone::Yellow,
            "36" => Tone::Cyan,
            _ => Tone::Bold,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Printer {
    color_out: bool,
    color_err: bool,
}

impl Printer {
    pub fn new(choice: ColorChoice) -> Self {
        let decide = |auto: anstream::ColorChoice| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => auto != anstream::ColorChoice::Never,
        };
        Printer {
            color_out: decide(anstream::AutoStream::choice(&std::io::stdout())),
            color_err: decide(anstream::AutoStream::choice(&std::io::stderr())),
        }
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
        self.tagged("warning", Tone::Yellow, text);
    }

    /// An error and its causes, to stderr.
    pub fn error(&self, err: &anyhow::Error) {
        let text = error_text(err);
        if text.starts_with("error: ") {
            self.status(&self.paint_err(Tone::Red, &text));
        } else {
            self.tagged("error", Tone::Red, &text);
        }
    }

    fn tagged(&self, tag: &str, tone: Tone, text: &str) {
        let body = text.strip_prefix(&format!("{tag}: ")).unwrap_or(text);
        self.status(&format!("{}: {body}", self.paint_err(tone, tag)));
    }

    /// Colour for stderr text.
    pub fn paint_err(&self, tone: Tone, text: &str) -> String {
        paint_tone(self.color_err, tone, text)
    }
}

/// `text` in `tone` when `on`.
pub fn paint_tone(on: bool, tone: Tone, text: &str) -> String {
    if on && !text.is_empty() {
        let s = tone.style();
        format!("{s}{text}{s:#}")
    } else {
        text.to_string()
    }
}

/// Like [`paint_tone`], with the tone named by its SGR code (`"31"`, `"32"`, `"33"`, `"36"`, `"1"`).
pub fn paint(on: bool, code: &str, text: &str) -> String {
    paint_tone(on, Tone::from_code(code), text)
}

/// An error and its causes, as `xacct` prints them (without the `error: ` tag it adds).
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = format!("{err}");
    for cause in err.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    text
}
