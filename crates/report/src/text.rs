//! Making record text safe to show. Records carry attacker-controlled strings (code,
//! paths, messages, request ids), so every string from a record goes through
//! [`sanitize`] and then through the escaper of the output format.

/// Longest string kept from a record (in characters) in the summary's state and output.
pub const MAX_TEXT_CHARS: usize = 240;

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => {
            let mut out = String::with_capacity(at + 3);
            // Leave room for the marker within `max` characters.
            let keep = s
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(at, |(i, _)| i);
            out.push_str(&s[..keep]);
            out.push('…');
            out
        }
    }
}

/// True for characters that must never reach a terminal or a page as they are:
/// C0 and C1 controls, DEL, and the invisible format characters that reorder or hide
/// text (bidirectional overrides and isolates, zero-width characters, the BOM, line and
/// paragraph separators).
fn is_hazard(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}')
}

/// Replaces hazardous characters with visible, inert stand-ins: C0 controls with their
/// Unicode control pictures (`ESC` becomes `␛`, a newline `␊`), DEL with `␡`, and the
/// others with `\u{XXXX}` written out.
pub fn sanitize(s: &str) -> String {
    if !s.chars().any(is_hazard) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_hazard(c) {
            out.push(c);
        } else if (c as u32) < 0x20 {
            out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'));
        } else if c == '\u{7f}' {
            out.push('\u{2421}');
        } else {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        }
    }
    out
}

/// Sanitized, clipped and HTML-escaped: safe in element content and in quoted
/// attribute values, in HTML and in inline SVG.
pub fn html(s: &str) -> String {
    html_escape(&sanitize(&clip(s, MAX_TEXT_CHARS)))
}

/// HTML-escapes text that is already sanitized (or produced by this crate).
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A record string as a Markdown code span for a table cell: sanitized and clipped,
/// fenced with more backticks than it contains (so nothing in it is Markdown or HTML),
/// and with `|` escaped so it cannot end the cell.
pub fn md_code(s: &str) -> String {
    let s = sanitize(&clip(s, MAX_TEXT_CHARS));
    if s.is_empty() {
        return "*(empty)*".to_string();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", s.replace('|', "\\|"))
}

/// Plain text for Markdown (titles, labels): sanitized, with the characters that
/// Markdown or HTML would interpret escaped by a backslash.
pub fn md_text(s: &str) -> String {
    let s = sanitize(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '!' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters_and_marks_the_cut() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
        assert_eq!(clip("ééééé", 4), "ééé…");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn sanitize_makes_controls_visible() {
        assert_eq!(sanitize("a\u{1b}[31mb\n"), "a\u{241b}[31mb\u{240a}");
        assert_eq!(sanitize("x\u{202e}y\u{7f}"), "x\\u{202e}y\u{2421}");
        assert_eq!(sanitize("\u{9b}2J"), "\\u{009b}2J");
        assert_eq!(sanitize("plain é"), "plain é");
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }

    #[test]
    fn md_code_fences_and_escapes_pipes() {
        assert_eq!(md_code("a|b"), "`a\\|b`");
        assert_eq!(md_code("x ``y`` z"), "```x ``y`` z```");
        assert_eq!(md_code("`a"), "`` `a ``");
        assert_eq!(md_code(""), "*(empty)*");
        assert_eq!(md_code("\u{1b}]0;t\u{7}"), "`\u{241b}]0;t\u{2407}`");
    }

    #[test]
    fn md_text_escapes_markup() {
        assert_eq!(md_text("a <b> *c* | d"), "a \\<b\\> \\*c\\* \\| d");
    }
}
