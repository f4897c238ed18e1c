//! Terminal styling: ANSI colour when asked for, plain text otherwise.

/// How human output is styled. The caller decides `color` (a terminal, and `NO_COLOR` unset);
/// nothing rendered relies on colour alone: every coloured symbol also has a word beside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// Emit ANSI colour escapes.
    pub color: bool,
}

impl Style {
    /// No colour: for pipes, files and `NO_COLOR`.
    pub const PLAIN: Style = Style { color: false };
    /// ANSI colour: for a terminal.
    pub const COLOR: Style = Style { color: true };

    pub(crate) fn paint(&self, tone: Tone, text: &str) -> String {
        if !self.color || text.is_empty() {
            return text.to_string();
        }
        let s = tone.style();
        format!("{s}{text}{s:#}")
    }
}

/// The few tones the views use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tone {
    Green,
    Yellow,
    Red,
    Cyan,
    Magenta,
    Bold,
    Dim,
    BoldRed,
    BoldYellow,
    BoldCyan,
}

impl Tone {
    fn style(self) -> anstyle::Style {
        use anstyle::{AnsiColor, Style};
        let fg = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
        match self {
            Tone::Green => fg(AnsiColor::Green),
            Tone::Yellow => fg(AnsiColor::Yellow),
            Tone::Red => fg(AnsiColor::Red),
            Tone::Cyan => fg(AnsiColor::Cyan),
            Tone::Magenta => fg(AnsiColor::Magenta),
            Tone::Bold => Style::new().bold(),
            Tone::Dim => Style::new().dimmed(),
            Tone::BoldRed => fg(AnsiColor::Red).bold(),
            Tone::BoldYellow => fg(AnsiColor::Yellow).bold(),
            Tone::BoldCyan => fg(AnsiColor::Cyan).bold(),
        }
    }
}
