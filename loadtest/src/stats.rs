//! Latency summaries and the /proc readings, kept free of IO so they are
//! tested on their own.

use std::time::Duration;

/// Percentiles of a set of samples (nearest rank, as most load tools report).
#[derive(Clone, Debug, Default)]
pub struct Latencies {
    sorted: Vec<Duration>,
}

impl Latencies {
    pub fn new(mut samples: Vec<Duration>) -> Latencies {
        samples.sort_unstable();
        Latencies { sorted: samples }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The `p`-th percentile (0 < p ≤ 100), zero when there are no samples.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }

    pub fn max(&self) -> Duration {
        self.sorted.last().copied().unwrap_or_default()
    }

    /// "p50 / p99 / max" in milliseconds, for a table cell.
    pub fn cell(&self) -> String {
        format!("{} / {} / {}", ms(self.percentile(50.0)), ms(self.percentile(99.0)), ms(self.max()))
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// User plus system CPU time, in clock ticks, from `/proc/<pid>/stat`.
///
/// The command name (field 2) may hold spaces and parentheses, so fields
/// are counted from the last `)`.
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime 14 and stime 15 (proc(5)).
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

/// A `kB` line of `/proc/<pid>/status` such as `VmRSS`, in KiB.
pub fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Every distinct `/pkg/…` asset a page links to (stylesheet, module,
/// preloaded WASM), in order of appearance.
pub fn pkg_assets(html: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("/pkg/") {
        let tail = &rest[at..];
        let end = tail.find(|c: char| c == '"' || c == '\'' || c == ')' || c.is_whitespace()).unwrap_or(tail.len());
        let path = &tail[..end];
        if !found.iter().any(|f| f == path) {
            found.push(path.to_string());
        }
        rest = &tail[end..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms_list(v: &[u64]) -> Latencies {
        Latencies::new(v.iter().map(|&m| Duration::from_millis(m)).collect())
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let l = ms_list(&[5, 1, 4, 2, 3, 6, 7, 8, 9, 10]);
        assert_eq!(l.percentile(50.0), Duration::from_millis(5));
        assert_eq!(l.percentile(99.0), Duration::from_millis(10));
        assert_eq!(l.percentile(10.0), Duration::from_millis(1));
        assert_eq!(l.max(), Duration::from_millis(10));
        assert_eq!(Latencies::default().percentile(50.0), Duration::ZERO);
    }

    #[test]
    fn cpu_ticks_survive_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (peer (portal) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 37 0 0 20 0 9 0 100 0 0";
        assert_eq!(cpu_ticks(stat), Some(287));
        assert_eq!(cpu_ticks("garbage"), None);
    }

    #[test]
    fn status_lines_are_read_in_kib() {
        let status = "Name:\tpeerportal\nVmHWM:\t   24576 kB\nVmRSS:\t   18432 kB\n";
        assert_eq!(status_kib(status, "VmRSS"), Some(18432));
        assert_eq!(status_kib(status, "VmHWM"), Some(24576));
        assert_eq!(status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn assets_of_the_login_page_are_found_once_each() {
        let html = r#"<link rel="stylesheet" href="/pkg/peerportal.css"><link rel="modulepreload" href="/pkg/peerportal.js">
<link rel="preload" href="/pkg/peerportal_bg.wasm" as="fetch"><script type="module">import('/pkg/peerportal.js')</script>"#;
        assert_eq!(pkg_assets(html), ["/pkg/peerportal.css", "/pkg/peerportal.js", "/pkg/peerportal_bg.wasm"]);
    }
}
