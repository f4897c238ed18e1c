//! Apply events for people: one line per step, and on a terminal a progress bar kept on the last
//! line of stderr. With `--json`, one event object per line on stdout instead.

use std::io::IsTerminal;
use std::sync::Mutex;

use xacct_apply::Event;

use crate::printer::{Printer, Tone};

/// Renders apply events; see the module docs.
pub struct EventPrinter {
    json: bool,
    printer: Printer,
    /// `Some` when stderr is a terminal (and not `--json`): the bar and its counts.
    bar: Option<Mutex<Bar>>,
}

struct Bar {
    bar: indicatif::ProgressBar,
    total: usize,
    finished: usize,
    failed: usize,
    running: usize,
}

impl EventPrinter {
    pub fn new(json: bool, printer: Printer) -> Self {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                indicatif::ProgressStyle::with_template("[{bar:30}] {pos}/{len} changes{msg}")
                    .map(|s| s.progress_chars("#."))
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Mutex::new(Bar { bar, total: 0, finished: 0, failed: 0, running: 0 })
        });
        EventPrinter { json, printer, bar }
    }

    /// Remove the bar (before the summary line).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.lock().unwrap_or_else(|e| e.into_inner()).bar.finish_and_clear();
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
                p.paint_err(Tone::Green, "done"),
                action.as_str(),
                *elapsed_ms as f64 / 1000.0
            ),
            Event::Failed { address, error, .. } => {
                format!("{address}: {}: {error}", p.paint_err(Tone::Red, "failed"))
            }
            Event::Skipped { address, because } => format!("{address}: skipped ({because})"),
            Event::StateSaved { .. } => return None,
            Event::StateError { error } => format!(
                "{}: state not saved: {error}; starting nothing new, letting steps in flight finish",
                p.paint_err(Tone::Yellow, "warning")
            ),
            // The final error names the file and the command; no line of its own.
            Event::StateBackup { .. } => return None,
            Event::Interrupted => format!(
                "{}: interrupted: letting steps in flight finish, then saving state",
                p.paint_err(Tone::Yellow, "warning")
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
        self.bar.set_length(self.total as u64);
        self.bar.set_position(self.finished.min(self.total) as u64);
        self.bar.set_message(bar_message(self.running, self.failed));
    }
}

/// What follows `4/9 changes` on the bar: `, 2 in flight, 1 failed or skipped`.
pub fn bar_message(running: usize, failed: usize) -> String {
    let mut s = String::new();
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
        // One lock for the counts and the terminal, so lines and the bar never interleave;
        // indicatif prints each line above the bar and redraws it.
        let mut b = bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = line {
            b.bar.println(l);
        }
        b.update(e);
    }
}

#[cfg(test)]
mod tests {
    use super::bar_message;

    #[test]
    fn the_bar_says_what_is_in_flight_and_what_failed() {
        assert_eq!(bar_message(0, 0), "");
        assert_eq!(bar_message(2, 0), ", 2 in flight");
        assert_eq!(bar_message(0, 1), ", 1 failed or skipped");
        assert_eq!(bar_message(3, 2), ", 3 in flight, 2 failed or skipped");
    }
}
