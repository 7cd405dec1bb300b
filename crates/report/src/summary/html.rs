//! The report as one self-contained HTML document: inline CSS, inline SVG charts, no
//! scripts and no external resources; a Content-Security-Policy forbids both, should
//! anything slip through. Every record string is escaped by [`crate::text::html`].

use std::fmt::Write;

use super::markdown::{attention, count_range, pct, secs};
use super::{Count, DayRow, Example, Flag, ReportData, TOP_N};
use crate::text::{clip, html, html_escape};
use crate::time::datetime;

const ALLOW: &str = "#2e7d32";
const ASK: &str = "#e0a100";
const DENY: &str = "#c62828";
const CRITICAL: &str = "#6a1b9a";
const HIGH: &str = "#c62828";
const WARNING: &str = "#ef6c00";
const INFO: &str = "#1565c0";
const OTHER: &str = "#757575";

const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1b1b;background:#f6f7f9;margin:0}\
main{max-width:1040px;margin:0 auto;padding:24px}\
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d4da;padding-bottom:4px}\
.meta{color:#555;margin:0 0 16px}\
.attention{background:#fff4e5;border:1px solid #f0b35b;border-radius:6px;padding:4px 16px;margin:0 0 16px}\
.attention h2{border:0;margin:8px 0 0}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:0 0 8px}\
.card{background:#fff;border:1px solid #d0d4da;border-radius:6px;padding:10px}\
.card b{display:block;font-size:22px}.card span{color:#555;font-size:12px}\
table{border-collapse:collapse;background:#fff;margin:8px 0 12px;min-width:50%;max-width:100%}\
th,td{border:1px solid #d0d4da;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#eef0f3}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all;background:#f1f3f5;padding:0 2px;border-radius:3px}\
.flag{color:#b71c1c;font-weight:600}.none{color:#777;font-style:italic}\
svg{background:#fff;border:1px solid #d0d4da;border-radius:6px;max-width:100%;height:auto}\
svg text{font:11px system-ui,sans-serif;fill:#333}\
";

struct Series {
    name: &'static str,
    color: &'static str,
}

const DECISION_SERIES: [Series; 3] = [
    Series {
        name: "allow",
        color: ALLOW,
    },
    Series {
        name: "ask",
        color: ASK,
    },
    Series {
        name: "deny",
        color: DENY,
    },
];

const SEVERITY_SERIES: [Series; 5] = [
    Series {
        name: "critical",
        color: CRITICAL,
    },
    Series {
        name: "high",
        color: HIGH,
    },
    Series {
        name: "warning",
        color: WARNING,
    },
    Series {
        name: "info",
        color: INFO,
    },
    Series {
        name: "other",
        color: OTHER,
    },
];

fn legend(o: &mut String, series: &[Series], y: u32) {
    let mut x = 10;
    for s in series {
        let _ = write!(
            o,
            r#"<rect x="{x}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            y,
            s.color,
            x + 14,
            y + 9,
            s.name
        );
        x += 24 + 7 * s.name.len() as u32;
    }
}

/// Horizontal stacked bars, one row per label. Labels are record text: escaped here.
fn hbars(title: &str, rows: &[(String, Vec<u64>)], series: &[Series]) -> String {
    const W: u32 = 760;
    const LABEL_W: u32 = 220;
    const BAR_W: f64 = 460.0;
    const ROW_H: u32 = 22;
    const TOP: u32 = 26;
    let h = TOP + ROW_H * rows.len() as u32 + 6;
    let max = rows
        .iter()
        .map(|(_, v)| v.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="{}">"#,
        html_escape(title)
    );
    let _ = write!(o, "<title>{}</title>", html_escape(title));
    legend(&mut o, series, 8);
    for (i, (label, values)) in rows.iter().enumerate() {
        let y = TOP + ROW_H * i as u32;
        let total: u64 = values.iter().sum();
        let _ = write!(
            o,
            r#"<g><title>{}: {}</title><text x="{}" y="{}" text-anchor="end">{}</text>"#,
            html(label),
            total,
            LABEL_W - 8,
            y + 14,
            html(&clip(label, 32))
        );
        let mut x = f64::from(LABEL_W);
        for (s, v) in series.iter().zip(values) {
            if *v == 0 {
                continue;
            }
            let w = BAR_W * *v as f64 / max as f64;
            let _ = write!(
                o,
                r#"<rect x="{x:.1}" y="{}" width="{w:.1}" height="14" fill="{}"><title>{}: {v}</title></rect>"#,
                y + 3,
                s.color,
                s.name
            );
            x += w;
        }
        let _ = write!(
            o,
            r#"<text x="{:.1}" y="{}">{total}</text></g>"#,
            x + 6.0,
            y + 14
        );
    }
    o.push_str("</svg>");
    o
}

/// Stacked columns of allow / ask / deny per day.
fn timeline(days: &[DayRow]) -> String {
    const W: f64 = 760.0;
    const H: f64 = 210.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 12.0;
    const TOP: f64 = 28.0;
    const BOTTOM: f64 = 28.0;
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return String::new();
    };
    let span = (last.day_number - first.day_number + 1).max(1) as usize;
    // Place by date when the span is reasonable, else one column per day with data.
    let by_date = span <= 2 * super::MAX_DAYS;
    let slots = if by_date { span } else { days.len() };
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let slot_w = plot_w / slots as f64;
    let bar_w = (slot_w * 0.8).max(1.0);
    let max = days
        .iter()
        .map(|d| d.decisions.allow + d.decisions.ask + d.decisions.deny)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="Verdicts per day"><title>Verdicts per day</title>"#
    );
    legend(&mut o, &DECISION_SERIES, 8);
    let base = TOP + plot_h;
    let _ = write!(
        o,
        r##"<line x1="{LEFT}" y1="{base}" x2="{}" y2="{base}" stroke="#999"/><text x="{}" y="{}" text-anchor="end">{max}</text><text x="{}" y="{base}" text-anchor="end">0</text>"##,
        W - RIGHT,
        LEFT - 6.0,
        TOP + 9.0,
        LEFT - 6.0
    );
    for (i, d) in days.iter().enumerate() {
        let slot = if by_date {
            (d.day_number - first.day_number) as usize
        } else {
            i
        };
        let x = LEFT + slot_w * slot as f64 + (slot_w - bar_w) / 2.0;
        let c = &d.decisions;
        let _ = write!(
            o,
            "<g><title>{}: {} allow, {} ask, {} deny</title>",
            d.day, c.allow, c.ask, c.deny
        );
        let mut y = base;
        for (s, v) in DECISION_SERIES.iter().zip([c.allow, c.ask, c.deny]) {
            if v == 0 {
                continue;
            }
            let h = plot_h * v as f64 / max as f64;
            y -= h;
            let _ = write!(
                o,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{}"/>"#,
                s.color
            );
        }
        o.push_str("</g>");
    }
    let _ = write!(
        o,
        r#"<text x="{LEFT}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text></svg>"#,
        H - 8.0,
        first.day,
        W - RIGHT,
        H - 8.0,
        last.day
    );
    o
}

fn code(s: &str) -> String {
    if s.is_empty() {
        r#"<span class="none">(empty)</span>"#.to_string()
    } else {
        format!("<code>{}</code>", html(s))
    }
}

fn name(n: &Option<String>) -> String {
    match n {
        Some(n) => code(n),
        None => r#"<span class="none">(others, past the list's cap)</span>"#.to_string(),
    }
}

fn example(e: &Example) -> String {
    match &e.request {
        Some(r) => format!("{} (#{})", code(r), e.index),
        None => format!("#{}", e.index),
    }
}

/// A table; `head` is (caption, numeric); cells are HTML already.
fn table(o: &mut String, head: &[(&str, bool)], rows: &[Vec<String>]) {
    o.push_str("<table><thead><tr>");
    for (h, n) in head {
        let _ = write!(o, "<th{}>{h}</th>", if *n { r#" class="n""# } else { "" });
    }
    o.push_str("</tr></thead><tbody>");
    for r in rows {
        o.push_str("<tr>");
        for (cell, (_, n)) in r.iter().zip(head) {
            let _ = write!(
                o,
                "<td{}>{cell}</td>",
                if *n { r#" class="n""# } else { "" }
            );
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table>");
}

fn count_rows(rows: &[Count]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|c| vec![name(&c.name), c.count.to_string()])
        .collect()
}

fn card(o: &mut String, value: impl std::fmt::Display, label: &str) {
    let _ = write!(
        o,
        r#"<div class="card"><b>{value}</b><span>{label}</span></div>"#
    );
}

pub(super) fn render(d: &ReportData) -> String {
    let mut o = String::with_capacity(32 * 1024);
    let title = html(&d.title);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>\n<h1>{title}</h1>"
    );
    let _ = write!(o, r#"<p class="meta">Generated {}"#, datetime(d.now));
    if let Some(s) = d.since {
        let _ = write!(o, " · entries from {}", datetime(s));
    }
    match &d.range {
        Some(r) => {
            let _ = write!(
                o,
                " · ledger #{} – #{} ({} – {})",
                r.first_index,
                r.last_index,
                html(&r.first_time),
                html(&r.last_time)
            );
        }
        None => o.push_str(" · no entries"),
    }
    o.push_str("</p>\n");

    let attention = attention(d);
    if !attention.is_empty() {
        o.push_str(r#"<section class="attention"><h2>Attention</h2><ul>"#);
        for a in &attention {
            // Sentences built here from numbers and fixed text.
            let _ = write!(o, "<li>{}</li>", html_escape(a));
        }
        o.push_str("</ul></section>\n");
    }

    o.push_str(r#"<section class="cards">"#);
    card(&mut o, d.proposals.total, "proposals");
    card(&mut o, d.decisions.allow, "allowed");
    card(&mut o, d.decisions.ask, "held for a person (ask)");
    card(&mut o, d.decisions.deny, "denied");
    card(&mut o, d.approvals.total, "approvals");
    card(&mut o, d.executions.started, "executions started");
    card(&mut o, d.alerts.total, "alerts");
    card(&mut o, d.control.total, "control events");
    o.push_str("</section>\n");

    // Decisions by category.
    o.push_str("<h2>Decisions by category</h2>");
    if d.by_category.is_empty() {
        o.push_str("<p>No verdicts.</p>");
    } else {
        let rows: Vec<(String, Vec<u64>)> = d
            .by_category
            .iter()
            .map(|r| {
                (
                    r.category.clone().unwrap_or_else(|| "(others)".to_string()),
                    vec![r.decisions.allow, r.decisions.ask, r.decisions.deny],
                )
            })
            .collect();
        o.push_str(&hbars("Decisions by category", &rows, &DECISION_SERIES));
        let rows: Vec<Vec<String>> = d
            .by_category
            .iter()
            .map(|r| {
                let x = &r.decisions;
                vec![
                    name(&r.category),
                    x.allow.to_string(),
                    x.ask.to_string(),
                    x.deny.to_string(),
                    x.total().to_string(),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                ("Category", false),
                ("Allow", true),
                ("Ask", true),
                ("Deny", true),
                ("Total", true),
            ],
            &rows,
        );
        o.push_str("<p>A verdict counts once under each kind of operation it covers.</p>");
    }

    o.push_str("\n<h2>Verdicts per day (UTC)</h2>");
    if d.timeline.is_empty() {
        o.push_str("<p>No dated verdicts.</p>");
    } else {
        o.push_str(&timeline(&d.timeline));
        if d.timeline_days_dropped > 0 {
            let _ = write!(
                o,
                "<p>{} earlier day(s) not shown.</p>",
                d.timeline_days_dropped
            );
        }
    }

    // Blocked.
    o.push_str("\n<h2>What was held or refused, and why</h2>");
    if d.blocked_rules.is_empty() {
        o.push_str("<p>Nothing was held or refused.</p>");
    } else {
        let rows: Vec<Vec<String>> = d
            .blocked_rules
            .iter()
            .map(|r| {
                vec![
                    code(&r.rule),
                    r.deny.to_string(),
                    r.ask.to_string(),
                    count_range(r.count, r.max_overcount),
                    example(&r.example),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                ("Rule", false),
                ("Deny", true),
                ("Ask", true),
                ("Reasons", true),
                ("Example request", false),
            ],
            &rows,
        );
        let rows: Vec<Vec<String>> = d
            .blocked_messages
            .iter()
            .map(|m| {
                vec![
                    code(&m.message),
                    code(&m.rule),
                    count_range(m.count, m.max_overcount),
                    example(&m.example),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                ("Message", false),
                ("Rule", false),
                ("Count", true),
                ("Example request", false),
            ],
            &rows,
        );
        let _ = write!(
            o,
            "<p>The {TOP_N} most frequent rules and messages are kept; a range a–b is a count known within those bounds.</p>"
        );
    }

    // Approvals.
    o.push_str("\n<h2>Approvals</h2>");
    let a = &d.approvals;
    if a.total == 0 {
        o.push_str("<p>No approvals.</p>");
    } else {
        let mut rows = vec![
            vec!["approve".to_string(), a.approve.to_string()],
            vec!["deny".to_string(), a.deny.to_string()],
            vec!["expired".to_string(), a.expired.to_string()],
        ];
        if a.other > 0 {
            rows.push(vec!["other".to_string(), a.other.to_string()]);
        }
        table(&mut o, &[("Decision", false), ("Count", true)], &rows);
        let _ = write!(
            o,
            "<p>Approval rate {} · time to decide: median {}, p90 {} over {} decision(s){}.</p>",
            pct(a.approval_rate),
            secs(a.median_secs),
            secs(a.p90_secs),
            a.timed,
            if a.exact { "" } else { " (estimated)" }
        );
        if !d.approvers.is_empty() {
            let rows: Vec<Vec<String>> = d
                .approvers
                .iter()
                .map(|r| {
                    let flags: Vec<String> = r
                        .flags
                        .iter()
                        .map(|f| html_escape(&Flag::describe(*f)))
                        .collect();
                    vec![
                        name(&r.approver),
                        r.approve.to_string(),
                        r.deny.to_string(),
                        r.expired.to_string(),
                        pct(r.approval_rate),
                        secs(r.median_secs),
                        secs(r.p90_secs),
                        if flags.is_empty() {
                            String::new()
                        } else {
                            format!(r#"<span class="flag">{}</span>"#, flags.join("; "))
                        },
                    ]
                })
                .collect();
            table(
                &mut o,
                &[
                    ("Approver", false),
                    ("Approved", true),
                    ("Denied", true),
                    ("Expired", true),
                    ("Approval rate", true),
                    ("Median time", true),
                    ("p90 time", true),
                    ("Signals", false),
                ],
                &rows,
            );
        }
    }

    // Executions.
    o.push_str("\n<h2>Executions</h2>");
    let x = &d.executions;
    let _ = write!(
        o,
        "<p>{} started, {} finished ({} with an error); duration median {}, p90 {}. \
         Egress: {} attempt(s), {} allowed, {} refused.</p>",
        x.started,
        x.finished,
        x.errors,
        secs(x.median_duration_ms.map(|m| m / 1000.0)),
        secs(x.p90_duration_ms.map(|m| m / 1000.0)),
        x.egress_attempts,
        x.egress_allowed,
        x.egress_refused
    );
    if !x.outcomes.is_empty() {
        table(
            &mut o,
            &[("Outcome", false), ("Count", true)],
            &count_rows(&x.outcomes),
        );
    }
    if !x.refused_hosts.is_empty() {
        let rows: Vec<Vec<String>> = x
            .refused_hosts
            .iter()
            .map(|h| {
                vec![
                    code(&h.host),
                    count_range(h.count, h.max_overcount),
                    example(&h.example),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                ("Refused host", false),
                ("Attempts", true),
                ("Example request", false),
            ],
            &rows,
        );
    }

    // Alerts.
    o.push_str("\n<h2>Alerts</h2>");
    if d.alerts.total == 0 {
        o.push_str("<p>No alerts.</p>");
    } else {
        let rows: Vec<(String, Vec<u64>)> = d
            .alerts
            .by_rule
            .iter()
            .map(|r| {
                let s = &r.severities;
                (
                    r.rule.clone(),
                    vec![s.critical, s.high, s.warning, s.info, s.other],
                )
            })
            .collect();
        o.push_str(&hbars("Alerts by rule", &rows, &SEVERITY_SERIES));
        let rows: Vec<Vec<String>> = d
            .alerts
            .by_rule
            .iter()
            .map(|r| {
                let s = &r.severities;
                vec![
                    code(&r.rule),
                    s.critical.to_string(),
                    s.high.to_string(),
                    s.warning.to_string(),
                    s.info.to_string(),
                    s.other.to_string(),
                    count_range(r.count, r.max_overcount),
                    example(&r.example),
                    code(&r.latest_summary),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                ("Rule", false),
                ("Critical", true),
                ("High", true),
                ("Warning", true),
                ("Info", true),
                ("Other", true),
                ("Total", true),
                ("Example request", false),
                ("Latest summary", false),
            ],
            &rows,
        );
    }

    // Control events.
    o.push_str("\n<h2>Control events</h2>");
    if d.control.total == 0 {
        o.push_str("<p>No control events.</p>");
    } else {
        table(
            &mut o,
            &[("Event", false), ("Count", true)],
            &count_rows(&d.control.by_event),
        );
        let rows: Vec<Vec<String>> = d
            .control
            .events
            .iter()
            .map(|c| {
                vec![
                    c.index.to_string(),
                    code(&c.time),
                    code(&c.event),
                    code(&c.details),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                ("Index", true),
                ("Time", false),
                ("Event", false),
                ("Details", false),
            ],
            &rows,
        );
        if d.control.not_listed > 0 {
            let _ = write!(
                o,
                "<p>{} older control event(s) not listed.</p>",
                d.control.not_listed
            );
        }
    }

    // Entries.
    o.push_str("\n<h2>Ledger entries</h2>");
    let e = &d.entries;
    let _ = write!(
        o,
        "<p>{} covered, {} seen, {} before the start skipped, {} undated, {} index break(s).</p>",
        e.counted, e.seen, e.skipped_before_since, e.undated, e.index_breaks
    );
    table(
        &mut o,
        &[("Kind", false), ("Count", true)],
        &count_rows(&e.by_kind),
    );
    if d.proposals.total > 0 {
        table(
            &mut o,
            &[("Language", false), ("Proposals", true)],
            &count_rows(&d.proposals.by_lang),
        );
        table(
            &mut o,
            &[("Agent", false), ("Proposals", true)],
            &count_rows(&d.proposals.by_agent),
        );
    }
    o.push_str("\n</main></body></html>\n");
    o
}
