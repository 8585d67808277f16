//! Charts drawn on the server as SVG, so the browser bundle carries no
//! chart code and they show with JavaScript off. Pure: numbers in, markup
//! out. Each chart is an image with a label; the page puts the same
//! numbers in a table beside it for screen readers and for copying.

use std::fmt::Write;

/// One day's logins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub password: u64,
    pub peeringdb: u64,
}

const PASSWORD_FILL: &str = "#6b7a8f";
const PEERINGDB_FILL: &str = "#1f6fb2";
const REFUSAL_FILL: &str = "#b3412f";

fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_text(s)
}

/// The smallest "round" number (1, 2 or 5 times a power of ten) at least `n`.
fn nice_ceiling(n: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= n.max(1) {
                return step * m;
            }
        }
        step *= 10;
    }
}

/// Logins per day, stacked: PeeringDB below, password above.
pub fn logins_per_day(days: &[Day]) -> String {
    const W: u64 = 640;
    const H: u64 = 220;
    const LEFT: u64 = 44;
    const BOTTOM: u64 = 28;
    const TOP: u64 = 24;
    let plot_w = W - LEFT - 8;
    let plot_h = H - TOP - BOTTOM;
    let top = nice_ceiling(days.iter().map(|d| d.password + d.peeringdb).max().unwrap_or(0));
    let slot = plot_w / days.len().max(1) as u64;
    let bar = (slot * 7 / 10).max(1);
    let y = |v: u64| TOP + plot_h - v * plot_h / top;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" class=\"chart\" role=\"img\" \
         aria-label=\"Logins per day for the last {} days, by method; the numbers are in the table beside it\">",
        days.len()
    );
    for tick in [0, top / 2, top] {
        let (right, label_x, line_y) = (W - 8, LEFT - 6, y(tick));
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{right}\" y1=\"{line_y}\" y2=\"{line_y}\" stroke=\"#ccc\" stroke-width=\"1\"/>\
             <text x=\"{label_x}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{tick}</text>",
            line_y + 4,
        );
    }
    for (i, d) in days.iter().enumerate() {
        let x = LEFT + i as u64 * slot + (slot - bar) / 2;
        let title = format!("{}: {} with PeeringDB, {} with a password", d.date, d.peeringdb, d.password);
        let _ = write!(svg, "<g><title>{}</title>", esc(&title));
        if d.peeringdb > 0 {
            let _ = write!(svg, "<rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{}\" fill=\"{PEERINGDB_FILL}\"/>", y(d.peeringdb), y(0) - y(d.peeringdb));
        }
        if d.password > 0 {
            let total = d.peeringdb + d.password;
            let _ = write!(svg, "<rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{}\" fill=\"{PASSWORD_FILL}\"/>", y(total), y(d.peeringdb) - y(total));
        }
        svg.push_str("</g>");
        if i % 7 == 0 || i + 1 == days.len() {
            let label = d.date.get(5..).unwrap_or(&d.date);
            let _ = write!(svg, "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>", x + bar / 2, H - 10, esc(label));
        }
    }
    let _ = write!(
        svg,
        "<rect x=\"{LEFT}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{PEERINGDB_FILL}\"/><text x=\"{}\" y=\"13\" font-size=\"11\">PeeringDB</text>\
         <rect x=\"{}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{PASSWORD_FILL}\"/><text x=\"{}\" y=\"13\" font-size=\"11\">Password</text></svg>",
        LEFT + 14,
        LEFT + 90,
        LEFT + 104,
    );
    svg
}

/// Refusals by reason, most frequent first, as horizontal bars.
pub fn refusals_by_reason(reasons: &[(String, u64)]) -> String {
    const W: u64 = 640;
    const ROW: u64 = 22;
    const LABEL: u64 = 300;
    let h = ROW * reasons.len().max(1) as u64 + 8;
    let top = nice_ceiling(reasons.iter().map(|(_, n)| *n).max().unwrap_or(0));
    let plot_w = W - LABEL - 60;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {h}\" class=\"chart\" role=\"img\" \
         aria-label=\"Refused logins by reason; the numbers are in the table beside it\">"
    );
    if reasons.is_empty() {
        let _ = write!(svg, "<text x=\"0\" y=\"16\" font-size=\"12\">No refused logins.</text>");
    }
    for (i, (reason, n)) in reasons.iter().enumerate() {
        let y = 4 + i as u64 * ROW;
        let len = (n * plot_w / top).max(1);
        let _ = write!(
            svg,
            "<g><title>{}: {n}</title><text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{len}\" height=\"{}\" fill=\"{REFUSAL_FILL}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\">{n}</text></g>",
            esc(reason),
            LABEL - 8,
            y + 14,
            esc(reason),
            ROW - 6,
            LABEL + len + 6,
            y + 14,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, password: u64, peeringdb: u64) -> Day {
        Day { date: date.into(), password, peeringdb }
    }

    #[test]
    fn the_scale_ends_at_a_round_number() {
        assert_eq!([0, 1, 3, 7, 10, 11, 180, 999].map(nice_ceiling), [1, 1, 5, 10, 10, 20, 200, 1000]);
    }

    #[test]
    fn each_day_is_a_stack_with_its_numbers_in_a_title() {
        let svg = logins_per_day(&[day("2026-12-01", 2, 3), day("2026-12-02", 0, 0)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>2026-12-01: 3 with PeeringDB, 2 with a password</title>"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2 + 2, "two bars for the first day, none for the empty one, two legend keys");
        assert!(svg.contains(">12-01</text>"));
        assert!(svg.contains("y1=\"192\" y2=\"192\""), "the zero line at the plot's bottom: {svg}");
    }

    #[test]
    fn bars_are_proportional_to_the_round_top_of_the_scale() {
        // Top of the scale 10: 5 logins are half the plot's height (168 px).
        let svg = logins_per_day(&[day("2026-12-01", 0, 5), day("2026-12-02", 0, 10)]);
        assert!(svg.contains("height=\"84\""), "{svg}");
        assert!(svg.contains("height=\"168\""), "{svg}");
    }

    #[test]
    fn refusal_reasons_are_escaped_and_counted() {
        let svg = refusals_by_reason(&[("wrong <password>".into(), 4), ("throttled".into(), 1)]);
        assert!(svg.contains("wrong &lt;password&gt;"), "{svg}");
        assert!(!svg.contains("<password>"));
        assert!(svg.contains(">4</text>"));
        assert!(refusals_by_reason(&[]).contains("No refused logins."));
    }
}
