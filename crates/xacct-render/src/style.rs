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
        format!("\x1b[{}m{text}\x1b[0m", tone.code())
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
    fn code(self) -> &'static str {
        match self {
            Tone::Green => "32",
            Tone::Yellow => "33",
            Tone::Red => "31",
            Tone::Cyan => "36",
            Tone::Magenta => "35",
            Tone::Bold => "1",
            Tone::Dim => "2",
            Tone::BoldRed => "1;31",
            Tone::BoldYellow => "1;33",
            Tone::BoldCyan => "1;36",
        }
    }
}
