//! The report as Markdown: GitHub-flavoured tables. Every record string is a code span
//! (see [`crate::text::md_code`]): nothing in it is read as Markdown or HTML, and
//! control characters are made visible so the text is safe in a terminal too.

use std::fmt::Write;

use super::{Count, Decisions, Example, Flag, ReportData, Severities, TOP_N};
use crate::text::{md_code, md_text};
use crate::time::{datetime, duration};

/// Days of the daily table in Markdown (the HTML chart shows them all).
const MD_DAYS: usize = 31;

pub(super) fn count_range(count: u64, max_overcount: u64) -> String {
    if max_overcount == 0 {
        count.to_string()
    } else {
        format!("{}–{}", count.saturating_sub(max_overcount), count)
    }
}

pub(super) fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), |r| format!("{:.1}%", r * 100.0))
}

pub(super) fn secs(s: Option<f64>) -> String {
    s.map_or_else(|| "-".to_string(), duration)
}

fn example(e: &Example) -> String {
    match &e.request {
        Some(r) => format!("{} (#{})", md_code(r), e.index),
        None => format!("#{}", e.index),
    }
}

fn name(n: &Option<String>) -> String {
    match n {
        Some(n) => md_code(n),
        None => "*(others, past the list's cap)*".to_string(),
    }
}

fn count_table(out: &mut String, what: &str, rows: &[Count]) {
    let _ = writeln!(out, "| {what} | Count |\n|---|---:|");
    for c in rows {
        let _ = writeln!(out, "| {} | {} |", name(&c.name), c.count);
    }
    out.push('\n');
}

fn decisions_line(d: &Decisions) -> String {
    let mut s = format!("{} allow · {} ask · {} deny", d.allow, d.ask, d.deny);
    if d.other > 0 {
        let _ = write!(s, " · {} other", d.other);
    }
    s
}

fn severities_line(s: &Severities) -> String {
    let mut v = Vec::new();
    for (n, c) in [
        ("critical", s.critical),
        ("high", s.high),
        ("warning", s.warning),
        ("info", s.info),
        ("other", s.other),
    ] {
        if c > 0 {
            v.push(format!("{c} {n}"));
        }
    }
    v.join(" · ")
}

/// Sentences about things that need someone's attention.
pub(super) fn attention(d: &ReportData) -> Vec<String> {
    let mut v = Vec::new();
    if d.entries.index_breaks > 0 {
        v.push(format!(
            "The entries given were not one continuous run of ledger indexes ({} break(s)): \
             verify the ledger, records may be missing.",
            d.entries.index_breaks
        ));
    }
    if d.entries.undated > 0 {
        v.push(format!(
            "{} entr(ies) had a time that could not be read.",
            d.entries.undated
        ));
    }
    let flagged = d.approvers.iter().filter(|a| !a.flags.is_empty()).count();
    if flagged > 0 {
        v.push(format!(
            "{flagged} approver(s) show approval-fatigue or separation signals (see Approvals)."
        ));
    }
    if d.approvals.clock_anomalies > 0 {
        v.push(format!(
            "{} approval(s) were decided before they were requested (clock anomaly).",
            d.approvals.clock_anomalies
        ));
    }
    let sev = &d.alerts.by_severity;
    let serious: Vec<String> = [("critical", sev.critical), ("high", sev.high)]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    if !serious.is_empty() {
        v.push(format!("{} alert(s).", serious.join(" and ")));
    }
    if d.executions.timeouts > 0 {
        v.push(format!(
            "{} run(s) were killed at their timeout.",
            d.executions.timeouts
        ));
    }
    if d.executions.egress_refused > 0 {
        v.push(format!(
            "{} outbound connection(s) were refused by the egress proxy.",
            d.executions.egress_refused
        ));
    }
    if let Some(n) = d
        .control
        .by_event
        .iter()
        .find(|c| c.name.as_deref() == Some("recovered_truncation"))
    {
        v.push(format!(
            "The ledger recovered from a truncated tail {} time(s).",
            n.count
        ));
    }
    v
}

pub(super) fn render(d: &ReportData) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", md_text(&d.title));
    let _ = write!(o, "Generated {}", datetime(d.now));
    if let Some(s) = d.since {
        let _ = write!(o, " · entries from {}", datetime(s));
    }
    o.push_str("\n\n");

    let attention = attention(d);
    if !attention.is_empty() {
        o.push_str("## Attention\n\n");
        for a in &attention {
            let _ = writeln!(o, "- {a}");
        }
        o.push('\n');
    }

    // Overview.
    o.push_str("## Overview\n\n| | |\n|---|---|\n");
    match &d.range {
        Some(r) => {
            let _ = writeln!(
                o,
                "| Ledger range | #{} – #{} ({} – {}) |",
                r.first_index,
                r.last_index,
                md_code(&r.first_time),
                md_code(&r.last_time)
            );
        }
        None => o.push_str("| Ledger range | no entries |\n"),
    }
    let _ = writeln!(
        o,
        "| Entries | {} covered, {} seen, {} before the start skipped |",
        d.entries.counted, d.entries.seen, d.entries.skipped_before_since
    );
    let _ = writeln!(o, "| Proposals | {} |", d.proposals.total);
    let _ = writeln!(
        o,
        "| Verdicts | {} ({}) |",
        d.decisions.total(),
        decisions_line(&d.decisions)
    );
    let _ = writeln!(
        o,
        "| Approvals | {} ({} approved · {} denied · {} expired) |",
        d.approvals.total, d.approvals.approve, d.approvals.deny, d.approvals.expired
    );
    let _ = writeln!(
        o,
        "| Executions | {} started · {} finished · {} timed out |",
        d.executions.started, d.executions.finished, d.executions.timeouts
    );
    let _ = writeln!(
        o,
        "| Alerts | {} ({}) |",
        d.alerts.total,
        severities_line(&d.alerts.by_severity)
    );
    let _ = writeln!(o, "| Control events | {} |\n", d.control.total);

    if d.proposals.total > 0 {
        o.push_str("## Proposals\n\n");
        count_table(&mut o, "Language", &d.proposals.by_lang);
        count_table(&mut o, "Agent", &d.proposals.by_agent);
    }

    // Decisions by category.
    o.push_str("## Decisions by category\n\n");
    if d.by_category.is_empty() {
        o.push_str("No verdicts.\n\n");
    } else {
        o.push_str("| Category | Allow | Ask | Deny | Total |\n|---|---:|---:|---:|---:|\n");
        for r in &d.by_category {
            let x = &r.decisions;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                name(&r.category),
                x.allow,
                x.ask,
                x.deny,
                x.total()
            );
        }
        o.push_str("\nA verdict counts once under each kind of operation it covers.\n\n");
    }

    // Blocked.
    o.push_str("## What was held or refused, and why\n\n");
    if d.blocked_rules.is_empty() {
        o.push_str("Nothing was held or refused.\n\n");
    } else {
        o.push_str("| Rule | Deny | Ask | Reasons | Example request |\n|---|---:|---:|---:|---|\n");
        for r in &d.blocked_rules {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                md_code(&r.rule),
                r.deny,
                r.ask,
                count_range(r.count, r.max_overcount),
                example(&r.example)
            );
        }
        o.push_str("\n| Message | Rule | Count | Example request |\n|---|---|---:|---|\n");
        for m in &d.blocked_messages {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                md_code(&m.message),
                md_code(&m.rule),
                count_range(m.count, m.max_overcount),
                example(&m.example)
            );
        }
        let _ = writeln!(
            o,
            "\nThe {TOP_N} most frequent rules and messages are kept; a range `a–b` is a \
             count known within those bounds.\n"
        );
    }

    // Approvals.
    o.push_str("## Approvals\n\n");
    let a = &d.approvals;
    if a.total == 0 {
        o.push_str("No approvals.\n\n");
    } else {
        let _ = writeln!(
            o,
            "| Decision | Count |\n|---|---:|\n| approve | {} |\n| deny | {} |\n| expired | {} |",
            a.approve, a.deny, a.expired
        );
        if a.other > 0 {
            let _ = writeln!(o, "| other | {} |", a.other);
        }
        let _ = writeln!(
            o,
            "\nApproval rate {} · time to decide: median {}, p90 {} over {} decision(s){}.\n",
            pct(a.approval_rate),
            secs(a.median_secs),
            secs(a.p90_secs),
            a.timed,
            if a.exact { "" } else { " (estimated)" }
        );
        if !d.approvers.is_empty() {
            o.push_str(
                "| Approver | Approved | Denied | Expired | Approval rate | Median time | p90 time | Signals |\n\
                 |---|---:|---:|---:|---:|---:|---:|---|\n",
            );
            for r in &d.approvers {
                let flags: Vec<String> = r.flags.iter().map(|f| Flag::describe(*f)).collect();
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} | {} | {} |",
                    name(&r.approver),
                    r.approve,
                    r.deny,
                    r.expired,
                    pct(r.approval_rate),
                    secs(r.median_secs),
                    secs(r.p90_secs),
                    if flags.is_empty() {
                        String::new()
                    } else {
                        format!("**{}**", flags.join("; "))
                    }
                );
            }
            o.push('\n');
        }
    }

    // Executions.
    o.push_str("## Executions\n\n");
    let x = &d.executions;
    let _ = writeln!(
        o,
        "{} started, {} finished ({} with an error); duration median {}, p90 {}.\n",
        x.started,
        x.finished,
        x.errors,
        secs(x.median_duration_ms.map(|m| m / 1000.0)),
        secs(x.p90_duration_ms.map(|m| m / 1000.0))
    );
    if !x.outcomes.is_empty() {
        count_table(&mut o, "Outcome", &x.outcomes);
    }
    let _ = writeln!(
        o,
        "Egress: {} attempt(s), {} allowed, {} refused.\n",
        x.egress_attempts, x.egress_allowed, x.egress_refused
    );
    if !x.refused_hosts.is_empty() {
        o.push_str("| Refused host | Attempts | Example request |\n|---|---:|---|\n");
        for h in &x.refused_hosts {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                md_code(&h.host),
                count_range(h.count, h.max_overcount),
                example(&h.example)
            );
        }
        o.push('\n');
    }

    // Alerts.
    o.push_str("## Alerts\n\n");
    if d.alerts.total == 0 {
        o.push_str("No alerts.\n\n");
    } else {
        o.push_str(
            "| Rule | Critical | High | Warning | Info | Other | Total | Example request | Latest summary |\n\
             |---|---:|---:|---:|---:|---:|---:|---|---|\n",
        );
        for r in &d.alerts.by_rule {
            let s = &r.severities;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                md_code(&r.rule),
                s.critical,
                s.high,
                s.warning,
                s.info,
                s.other,
                count_range(r.count, r.max_overcount),
                example(&r.example),
                md_code(&r.latest_summary)
            );
        }
        o.push('\n');
    }

    // Control events.
    o.push_str("## Control events\n\n");
    if d.control.total == 0 {
        o.push_str("No control events.\n\n");
    } else {
        count_table(&mut o, "Event", &d.control.by_event);
        o.push_str("| Index | Time | Event | Details |\n|---:|---|---|---|\n");
        for c in &d.control.events {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                c.index,
                md_code(&c.time),
                md_code(&c.event),
                md_code(&c.details)
            );
        }
        if d.control.not_listed > 0 {
            let _ = writeln!(
                o,
                "\n{} older control event(s) not listed.",
                d.control.not_listed
            );
        }
        o.push('\n');
    }

    // Daily decisions.
    o.push_str("## Decisions by day (UTC)\n\n");
    if d.timeline.is_empty() {
        o.push_str("No dated verdicts.\n");
    } else {
        let skip = d.timeline.len().saturating_sub(MD_DAYS);
        if skip + d.timeline_days_dropped as usize > 0 {
            let _ = writeln!(
                o,
                "The last {} day(s) with verdicts; {} earlier day(s) not shown.\n",
                d.timeline.len() - skip,
                skip + d.timeline_days_dropped as usize
            );
        }
        o.push_str("| Day | Allow | Ask | Deny |\n|---|---:|---:|---:|\n");
        for r in &d.timeline[skip..] {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                r.day, r.decisions.allow, r.decisions.ask, r.decisions.deny
            );
        }
    }
    o
}
