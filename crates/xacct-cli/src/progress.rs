//! Apply events for people: one line per step, and on a terminal a progress bar kept on the last
//! line of stderr. With `--json`, one event object per line on stdout instead.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use xacct_apply::Event;

use crate::printer::Printer;

/// Renders apply events; see the module docs.
pub struct EventPrinter {
    json: bool,
    printer: Printer,
    /// `Some` when stderr is a terminal (and not `--json`): the bar's counts.
    bar: Option<Mutex<Bar>>,
}

#[derive(Default)]
struct Bar {
    total: usize,
    finished: usize,
    failed: usize,
    running: usize,
    shown: bool,
}

impl EventPrinter {
    pub fn new(json: bool, printer: Printer) -> Self {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| Mutex::new(Bar::default()));
        EventPrinter { json, printer, bar }
    }

    /// Remove the bar (before the summary line).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            let mut b = bar.lock().unwrap_or_else(|e| e.into_inner());
            if b.shown {
                let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
                b.shown = false;
            }
        }
    }

    fn line(&self, e: &Event) -> Option<String> {
        let p = &self.printer;
        Some(match e {
            Event::Begin { steps } => format!("Applying {steps} changes…"),
            Event::Started { address, action } => format!("{address}: {}…", action.as_str()),
            Event::Propagating { address } => format!("{address}: written; waiting until IAM reads it back…"),
            Event::Done { address, action, elapsed_ms } => format!(
                "{address}: {} {} ({:.1}s)",
                p.paint_err("32", "done"),
                action.as_str(),
                *elapsed_ms as f64 / 1000.0
            ),
            Event::Failed { address, error, .. } => format!("{address}: {}: {error}", p.paint_err("31", "failed")),
            Event::Skipped { address, because } => format!("{address}: skipped ({because})"),
            Event::StateSaved { .. } => return None,
            Event::StateError { error } => format!(
                "{}: state not saved: {error}; starting nothing new, letting steps in flight finish",
                p.paint_err("33", "warning")
            ),
            // The final error names the file and the command; no line of its own.
            Event::StateBackup { .. } => return None,
            Event::Interrupted => format!(
                "{}: interrupted: letting steps in flight finish, then saving state",
                p.paint_err("33", "warning")
            ),
        })
    }
}

impl Bar {
    fn update(&mut self, e: &Event) {
        match e {
            Event::Begin { steps } => self.total = *steps,
            Event::Started { .. } => self.running += 1,
            Event::Done { .. } => {
                self.running = self.running.saturating_sub(1);
                self.finished += 1;
            }
            Event::Failed { .. } => {
                self.running = self.running.saturating_sub(1);
                self.finished += 1;
                self.failed += 1;
            }
            Event::Skipped { .. } => {
                self.finished += 1;
                self.failed += 1;
            }
            _ => {}
        }
    }
}

/// `[#########...........] 4/9 changes, 2 in flight, 1 failed or skipped` for a bar `width` cells wide.
pub fn bar_line(finished: usize, total: usize, running: usize, failed: usize, width: usize) -> String {
    let filled = (finished.min(total) * width).checked_div(total).unwrap_or(width);
    let mut s = format!("[{}{}] {finished}/{total} changes", "#".repeat(filled), ".".repeat(width - filled));
    if running > 0 {
        s.push_str(&format!(", {running} in flight"));
    }
    if failed > 0 {
        s.push_str(&format!(", {failed} failed or skipped"));
    }
    s
}

impl xacct_apply::Sink for EventPrinter {
    fn event(&self, e: &Event) {
        if self.json {
            if let Ok(s) = serde_json::to_string(e) {
                self.printer.out(&s);
            }
            return;
        }
        let line = self.line(e);
        let Some(bar) = &self.bar else {
            if let Some(l) = line {
                self.printer.status(&l);
            }
            return;
        };
        // One lock for the counts and the terminal, so lines and the bar never interleave.
        let mut b = bar.lock().unwrap_or_else(|e| e.into_inner());
        b.update(e);
        let mut err = std::io::stderr().lock();
        if b.shown {
            let _ = write!(err, "\r\x1b[2K");
        }
        if let Some(l) = line {
            let _ = writeln!(err, "{l}");
        }
        let _ = write!(err, "{}", bar_line(b.finished, b.total, b.running, b.failed, 30));
        let _ = err.flush();
        b.shown = true;
    }
}

#[cfg(test)]
mod tests {
    use super::bar_line;

    #[test]
    fn bar_fills_in_proportion() {
        assert_eq!(bar_line(0, 4, 0, 0, 8), "[........] 0/4 changes");
        assert_eq!(bar_line(2, 4, 1, 0, 8), "[####....] 2/4 changes, 1 in flight");
        assert_eq!(bar_line(4, 4, 0, 1, 8), "[########] 4/4 changes, 1 failed or skipped");
        assert_eq!(bar_line(0, 0, 0, 0, 4), "[####] 0/0 changes");
    }
}
