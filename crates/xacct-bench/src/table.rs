//! The printed result: one row per benchmark and size.

use std::fmt::Write as _;
use std::time::Duration;

/// One benchmark at one size: medians over the rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub bench: String,
    pub n: usize,
    pub xacct: Duration,
    pub floor: Duration,
    pub xacct_calls: u64,
    pub floor_calls: u64,
    /// AWS Organizations calls of each side (xacct, floor), for benchmarks that discover
    /// accounts; the calls columns count IAM and STS only.
    pub org_calls: Option<(u64, u64)>,
}

impl Row {
    pub fn ratio(&self) -> f64 {
        self.xacct.as_secs_f64() / self.floor.as_secs_f64().max(1e-9)
    }
}

/// The median of `values` (the lower middle one for an even count).
pub fn median(values: &[Duration]) -> Duration {
    let mut v = values.to_vec();
    v.sort();
    v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or_default()
}

/// The table, fixed-width, one header line.
pub fn format(rows: &[Row]) -> String {
    let width = rows.iter().map(|r| r.bench.len()).max().unwrap_or(0).max("benchmark".len());
    let mut out = format!(
        "{:<width$} {:>6} {:>9} {:>9} {:>6} {:>11} {:>11}\n",
        "benchmark", "N", "xacct s", "floor s", "ratio", "xacct calls", "floor calls"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<width$} {:>6} {:>9.3} {:>9.3} {:>6.2} {:>11} {:>11}",
            r.bench,
            r.n,
            r.xacct.as_secs_f64(),
            r.floor.as_secs_f64(),
            r.ratio(),
            r.xacct_calls,
            r.floor_calls
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up_under_the_header() {
        let rows = [Row {
            bench: "plan".into(),
            n: 1000,
            xacct: Duration::from_millis(5250),
            floor: Duration::from_millis(4200),
            xacct_calls: 2004,
            floor_calls: 2004,
            org_calls: None,
        }];
        let text = format(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "benchmark      N   xacct s   floor s  ratio xacct calls floor calls");
        assert_eq!(lines[1], "plan        1000     5.250     4.200   1.25        2004        2004");
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        let ms = |v: &[u64]| v.iter().map(|m| Duration::from_millis(*m)).collect::<Vec<_>>();
        assert_eq!(median(&ms(&[30, 10, 20])), Duration::from_millis(20));
        assert_eq!(median(&ms(&[40, 10, 20, 30])), Duration::from_millis(20));
        assert_eq!(median(&[]), Duration::ZERO);
    }
}
