//! Small server-drawn SVG bar charts: no JavaScript, no external assets, readable labels.

use std::fmt::Write;

fn esc(s: &str) -> String {
    muster_core::report::html_escape(s)
}

/// A vertical bar chart. `bars` are (label, value); `title` becomes the accessible name.
pub fn bar_chart(title: &str, bars: &[(String, f64)], unit: &str) -> String {
    let w = 640.0;
    let h = 240.0;
    let (left, bottom, top) = (40.0, 40.0, 16.0);
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max).max(1.0);
    let n = bars.len().max(1) as f64;
    let slot = (w - left - 8.0) / n;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{t}" class="chart"><title>{t}</title>"#,
        t = esc(title)
    );
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{y}" x2="{w}" y2="{y}" stroke="#1b1b1b"/>"##,
        y = h - bottom
    );
    let _ = write!(
        s,
        r##"<text x="4" y="{top}" font-size="11" fill="#1b1b1b">{}</text>"##,
        fmt_num(max)
    );
    for (k, (label, v)) in bars.iter().enumerate() {
        let bh = (h - bottom - top) * v / max;
        let x = left + slot * k as f64 + slot * 0.15;
        let y = h - bottom - bh;
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" fill="#26374a"><title>{l}: {v} {u}</title></rect>"##,
            bw = slot * 0.7,
            l = esc(label),
            v = fmt_num(*v),
            u = esc(unit)
        );
        if bars.len() <= 16 || k % 2 == 0 {
            let _ = write!(
                s,
                r##"<text x="{cx:.1}" y="{ty}" font-size="10" text-anchor="middle" fill="#1b1b1b">{l}</text>"##,
                cx = x + slot * 0.35,
                ty = h - bottom + 14.0,
                l = esc(label)
            );
        }
    }
    s.push_str("</svg>");
    s
}

pub fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let s = bar_chart("<t>", &[("<b>".into(), 2.0)], "x");
        assert!(!s.contains("<b>") && s.contains("&lt;b&gt;"));
        assert!(s.starts_with("<svg"));
    }
}
