//! Word expansion, as far as it can be done statically.
//!
//! A word becomes a [`Val`]: its text with quoting removed and known variables,
//! tildes and arithmetic substituted; whether all of it is known; where the
//! known prefix ends; and whether it is a glob. Command substitutions inside a
//! word are analyzed as nested code by the caller-supplied hook.

use brush_parser::word::{Parameter, ParameterExpr, SpecialParameter, TildeExpr, WordPiece};

/// Stands where an unquoted expansion's whitespace splits a word into fields.
pub const FIELD_SPLIT: char = '\u{1f}';

/// The static value of one shell word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Val {
    /// Quoting removed; unknown parts stand as their source text (`$X`, `$(..)`).
    pub text: String,
    /// Everything in `text` is what the shell would produce.
    pub known: bool,
    /// Length of the leading part of `text` that is known.
    pub known_prefix: usize,
    /// Unquoted glob characters (`*`, `?`, `[`).
    pub glob: bool,
    /// Unquoted brace expansion (`{a,b}`, `{1..3}`).
    pub brace: bool,
    /// Holds the output of a command substitution or process substitution.
    pub computed: bool,
    /// Names a variable indirectly (`${!v}`) or otherwise defies resolution.
    pub indirect: bool,
}

impl Val {
    pub fn literal(s: &str) -> Val {
        Val {
            text: s.to_string(),
            known: true,
            known_prefix: s.len(),
            ..Val::default()
        }
    }

    pub fn unknown(src: &str) -> Val {
        Val {
            text: src.to_string(),
            known: false,
            known_prefix: 0,
            ..Val::default()
        }
    }

    fn push_known(&mut self, s: &str) {
        self.text.push_str(s);
        if self.known {
            self.known_prefix = self.text.len();
        }
    }

    fn push_unknown(&mut self, src: &str) {
        self.known = false;
        self.text.push_str(src);
    }

    fn append(&mut self, other: Val) {
        let was_known = self.known;
        self.text.push_str(&other.text);
        if was_known {
            if other.known {
                self.known_prefix = self.text.len();
            } else {
                self.known_prefix += other.known_prefix;
                self.known = false;
            }
        }
        self.glob |= other.glob;
        self.brace |= other.brace;
        self.computed |= other.computed;
        self.indirect |= other.indirect;
    }

    /// The known leading text.
    pub fn prefix(&self) -> &str {
        &self.text[..self.known_prefix.min(self.text.len())]
    }
}

/// What the expander needs from its caller.
pub trait Scope {
    /// The value of a variable, if it is known. `None` means unknown or unset.
    fn var(&self, name: &str) -> Option<Val>;
    /// A positional parameter (`$1`), if known.
    fn positional(&self, n: u32) -> Option<Val>;
    fn home(&self) -> &str;
    fn cwd(&self) -> Option<&str>;
    /// Analyze code found inside a word (`$(...)`, backticks) as nested shell
    /// code; returns its output when that is known statically (fully, or as
    /// a known prefix such as the root `find` lists).
    fn substitution(&mut self, code: &str) -> Option<Val>;
    /// Report something in a word that cannot be analyzed at all.
    fn opaque(&mut self, reason: String);
}

pub fn options() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions::default()
}

/// Expand a raw shell word.
pub fn expand(raw: &str, scope: &mut dyn Scope) -> Val {
    // Fast path: plain words need no parsing.
    if raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./,:=+@%^".contains(&b))
    {
        return Val::literal(raw);
    }
    match brush_parser::word::parse(raw, &options()) {
        Ok(pieces) => {
            let mut v = Val::literal("");
            for p in pieces {
                expand_piece(&p.piece, false, &mut v, scope);
            }
            if v.brace {
                v.brace = has_brace_expansion(&v.text);
            }
            v
        }
        Err(_) => {
            scope.opaque(format!("shell word does not parse: {}", clip(raw)));
            Val::unknown(raw)
        }
    }
}

/// Expand the body of a here-document that allows expansion.
pub fn expand_heredoc(raw: &str, scope: &mut dyn Scope) -> Val {
    match brush_parser::word::parse_heredoc(raw, &options()) {
        Ok(pieces) => {
            let mut v = Val::literal("");
            for p in pieces {
                expand_piece(&p.piece, true, &mut v, scope);
            }
            v
        }
        Err(_) => {
            scope.opaque("here-document does not parse".to_string());
            Val::unknown(raw)
        }
    }
}

fn expand_piece(piece: &WordPiece, quoted: bool, v: &mut Val, scope: &mut dyn Scope) {
    match piece {
        WordPiece::Text(t) => {
            if !quoted {
                if t.contains(['*', '?', '[']) {
                    v.glob = true;
                }
                if t.contains('{') {
                    v.brace = true;
                }
            }
            v.push_known(t);
        }
        WordPiece::SingleQuotedText(t) => v.push_known(t),
        WordPiece::AnsiCQuotedText(t) => v.push_known(&decode_ansi_c(t)),
        WordPiece::DoubleQuotedSequence(seq) | WordPiece::GettextDoubleQuotedSequence(seq) => {
            for p in seq {
                expand_piece(&p.piece, true, v, scope);
            }
        }
        WordPiece::TildeExpansion(t) => match t {
            TildeExpr::Home => {
                let h = scope.home().to_string();
                v.push_known(&h)
            }
            TildeExpr::UserHome(u) => {
                if u == "root" {
                    v.push_known("/root")
                } else {
                    v.push_known(&format!("/home/{u}"))
                }
            }
            TildeExpr::WorkingDir => match scope.cwd().map(str::to_string) {
                Some(c) => v.push_known(&c),
                None => v.push_unknown("~+"),
            },
            _ => v.push_unknown("~-"),
        },
        WordPiece::ParameterExpansion(p) => {
            let mut e = expand_parameter(p, scope);
            if !quoted && e.known {
                match split_fields(&e.text, scope) {
                    Some(t) => e.text = t,
                    None => {
                        e.known = false;
                        e.known_prefix = 0;
                        e.indirect = true;
                    }
                }
            }
            v.append(e);
        }
        WordPiece::CommandSubstitution(code) | WordPiece::BackquotedCommandSubstitution(code) => {
            match scope.substitution(code) {
                Some(out) if out.known => {
                    if quoted {
                        v.push_known(&out.text)
                    } else {
                        match split_fields(&out.text, scope) {
                            Some(t) => v.push_known(&t),
                            None => v.push_unknown(&out.text),
                        }
                    }
                }
                Some(out) => {
                    v.append(out);
                    v.computed = true;
                }
                None => {
                    v.computed = true;
                    v.push_unknown(&format!("$({})", clip(code)));
                }
            }
        }
        WordPiece::EscapeSequence(s) => {
            let s = s.strip_prefix('\\').unwrap_or(s);
            // Backslash-newline is a line continuation.
            if s != "\n" {
                v.push_known(s);
            }
        }
        WordPiece::ArithmeticExpression(e) => {
            if e.value.contains("$(") || e.value.contains('`') {
                // Code inside arithmetic runs too.
                for code in inner_substitutions(&e.value) {
                    scope.substitution(&code);
                }
                v.computed = true;
                v.push_unknown("$((...))");
            } else {
                match eval_arith(&e.value, scope) {
                    Some(n) => v.push_known(&n.to_string()),
                    None => v.push_unknown("$((...))"),
                }
            }
        }
    }
}

/// Mark where an unquoted expansion splits into fields (default IFS).
/// `None` when IFS itself is not known: the caller must treat the value as unknown.
fn split_fields(t: &str, scope: &dyn Scope) -> Option<String> {
    let ifs = match scope.var("IFS") {
        Some(v) if v.known => v.text,
        Some(_) => return None,
        None => " \t\n".to_string(),
    };
    let seps: Vec<char> = ifs.chars().collect();
    if t.contains(seps.as_slice()) {
        Some(t.replace(seps.as_slice(), &FIELD_SPLIT.to_string()))
    } else {
        Some(t.to_string())
    }
}

/// Substitutions in arithmetic text: `$(...)` and backticks, balanced.
fn inner_substitutions(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && b.get(i + 1) == Some(&b'(') && b.get(i + 2) != Some(&b'(') {
            let start = i + 2;
            let mut depth = 1;
            let mut j = start;
            while j < b.len() && depth > 0 {
                match b[j] {
                    b'(' => depth += 1,
                    b')' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            let end = if depth == 0 { j - 1 } else { j };
            out.push(s[start..end].to_string());
            i = j;
        } else if b[i] == b'`' {
            let start = i + 1;
            let end = s[start..].find('`').map(|k| start + k).unwrap_or(b.len());
            out.push(s[start..end].to_string());
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

fn param_name(p: &Parameter) -> String {
    match p {
        Parameter::Positional(n) => n.to_string(),
        Parameter::Special(s) => match s {
            SpecialParameter::AllPositionalParameters { .. } => "@".into(),
            SpecialParameter::PositionalParameterCount => "#".into(),
            SpecialParameter::LastExitStatus => "?".into(),
            SpecialParameter::CurrentOptionFlags => "-".into(),
            SpecialParameter::ProcessId => "$".into(),
            SpecialParameter::LastBackgroundProcessId => "!".into(),
            SpecialParameter::ShellName => "0".into(),
        },
        Parameter::Named(n) => n.clone(),
        Parameter::NamedWithIndex { name, index } => format!("{name}[{index}]"),
        Parameter::NamedWithAllIndices { name, .. } => format!("{name}[@]"),
    }
}

fn lookup(p: &Parameter, scope: &dyn Scope) -> Option<Val> {
    match p {
        Parameter::Named(n) => scope.var(n),
        Parameter::Positional(n) => scope.positional(*n),
        _ => None,
    }
}

fn expand_parameter(pe: &ParameterExpr, scope: &mut dyn Scope) -> Val {
    let src = |p: &Parameter| format!("${{{}}}", param_name(p));
    match pe {
        ParameterExpr::Parameter {
            parameter,
            indirect,
        } => {
            if *indirect {
                let mut v = Val::unknown(&src(parameter));
                v.indirect = true;
                return v;
            }
            lookup(parameter, scope).unwrap_or_else(|| Val::unknown(&src(parameter)))
        }
        ParameterExpr::UseDefaultValues {
            parameter,
            indirect,
            default_value,
            ..
        }
        | ParameterExpr::AssignDefaultValues {
            parameter,
            indirect,
            default_value,
            ..
        } => {
            let dv = default_value.as_deref().map(|d| expand(d, scope));
            if *indirect {
                let mut v = Val::unknown(&src(parameter));
                v.indirect = true;
                return v;
            }
            match lookup(parameter, scope) {
                Some(v) if !v.text.is_empty() => v,
                Some(_) => dv.unwrap_or_else(|| Val::literal("")),
                // Unset or unknown: the default is the likely value, but not certain.
                None => {
                    let mut v = Val::unknown(&src(parameter));
                    if let Some(d) = dv {
                        v.computed |= d.computed;
                        v.indirect |= d.indirect;
                    }
                    v
                }
            }
        }
        ParameterExpr::UseAlternativeValue {
            parameter,
            alternative_value,
            ..
        } => {
            if let Some(a) = alternative_value.as_deref() {
                let _ = expand(a, scope);
            }
            Val::unknown(&src(parameter))
        }
        ParameterExpr::IndicateErrorIfNullOrUnset {
            parameter,
            error_message,
            ..
        } => {
            if let Some(m) = error_message.as_deref() {
                let _ = expand(m, scope);
            }
            lookup(parameter, scope).unwrap_or_else(|| Val::unknown(&src(parameter)))
        }
        ParameterExpr::ParameterLength { .. } => Val::unknown("${#...}"),
        ParameterExpr::Substring { parameter, .. } => {
            let mut v = Val::unknown(&format!("${{{}:...}}", param_name(parameter)));
            v.indirect = true;
            v
        }
        ParameterExpr::ReplaceSubstring {
            parameter,
            replacement,
            ..
        } => {
            if let Some(r) = replacement.as_deref() {
                let _ = expand(r, scope);
            }
            let mut v = Val::unknown(&format!("${{{}/...}}", param_name(parameter)));
            v.indirect = true;
            v
        }
        ParameterExpr::Transform { parameter, .. } => {
            let mut v = Val::unknown(&format!("${{{}@...}}", param_name(parameter)));
            v.indirect = true;
            v
        }
        ParameterExpr::VariableNames { .. } | ParameterExpr::MemberKeys { .. } => {
            let mut v = Val::unknown("${!...}");
            v.indirect = true;
            v
        }
        // Pattern removal and case changes of a known value keep a prefix we
        // cannot be sure of; treat as unknown but not indirect.
        _ => Val::unknown("${...}"),
    }
}

/// Decode the body of `$'...'`.
pub fn decode_ansi_c(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'e' | 'E' => out.push('\x1b'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            '?' => out.push('?'),
            'x' => {
                let mut n = 0u32;
                let mut k = 0;
                while k < 2 {
                    match chars.peek().and_then(|c| c.to_digit(16)) {
                        Some(d) => {
                            n = n * 16 + d;
                            chars.next();
                            k += 1;
                        }
                        None => break,
                    }
                }
                if k == 0 {
                    out.push_str("\\x");
                } else if let Some(ch) = char::from_u32(n) {
                    out.push(ch);
                }
            }
            'u' | 'U' => {
                let max = if e == 'u' { 4 } else { 8 };
                let mut n = 0u32;
                let mut k = 0;
                while k < max {
                    match chars.peek().and_then(|c| c.to_digit(16)) {
                        Some(d) => {
                            n = n.saturating_mul(16).saturating_add(d);
                            chars.next();
                            k += 1;
                        }
                        None => break,
                    }
                }
                match char::from_u32(n) {
                    Some(ch) if k > 0 => out.push(ch),
                    _ => out.push('\u{FFFD}'),
                }
            }
            '0'..='7' => {
                let mut n = e.to_digit(8).unwrap_or(0);
                let mut k = 1;
                while k < 3 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            n = n * 8 + d;
                            chars.next();
                            k += 1;
                        }
                        None => break,
                    }
                }
                if let Some(ch) = char::from_u32(n) {
                    out.push(ch);
                }
            }
            'c' => {
                if let Some(x) = chars.next() {
                    out.push(char::from_u32((x as u32) & 0x1f).unwrap_or('?'));
                }
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

/// Evaluate simple integer arithmetic: literals, known variables, + - * / %.
/// Anything else is unknown (`None`), which is not an error: the value is a number.
fn eval_arith(s: &str, scope: &dyn Scope) -> Option<i64> {
    let toks = arith_tokens(s)?;
    let mut pos = 0;
    let v = arith_sum(&toks, &mut pos, scope)?;
    if pos == toks.len() { Some(v) } else { None }
}

#[derive(Debug, Clone)]
enum ATok {
    Num(i64),
    Name(String),
    Op(u8),
}

fn arith_tokens(s: &str) -> Option<Vec<ATok>> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push(ATok::Num(s[st..i].parse().ok()?));
        } else if c == b'$' || c.is_ascii_alphabetic() || c == b'_' {
            if c == b'$' {
                i += 1;
            }
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            if st == i {
                return None;
            }
            out.push(ATok::Name(s[st..i].to_string()));
        } else if b"+-*/%()".contains(&c) {
            out.push(ATok::Op(c));
            i += 1;
        } else {
            return None;
        }
        if out.len() > 256 {
            return None;
        }
    }
    Some(out)
}

fn arith_sum(t: &[ATok], pos: &mut usize, scope: &dyn Scope) -> Option<i64> {
    let mut v = arith_prod(t, pos, scope)?;
    while let Some(ATok::Op(o @ (b'+' | b'-'))) = t.get(*pos) {
        let o = *o;
        *pos += 1;
        let r = arith_prod(t, pos, scope)?;
        v = if o == b'+' {
            v.checked_add(r)?
        } else {
            v.checked_sub(r)?
        };
    }
    Some(v)
}

fn arith_prod(t: &[ATok], pos: &mut usize, scope: &dyn Scope) -> Option<i64> {
    let mut v = arith_atom(t, pos, scope, 0)?;
    while let Some(ATok::Op(o @ (b'*' | b'/' | b'%'))) = t.get(*pos) {
        let o = *o;
        *pos += 1;
        let r = arith_atom(t, pos, scope, 0)?;
        v = match o {
            b'*' => v.checked_mul(r)?,
            b'/' => v.checked_div(r)?,
            _ => v.checked_rem(r)?,
        };
    }
    Some(v)
}

fn arith_atom(t: &[ATok], pos: &mut usize, scope: &dyn Scope, depth: u32) -> Option<i64> {
    if depth > 64 {
        return None;
    }
    let tok = t.get(*pos)?.clone();
    *pos += 1;
    match tok {
        ATok::Num(n) => Some(n),
        ATok::Name(n) => scope.var(&n).and_then(|v| v.text.trim().parse().ok()),
        ATok::Op(b'-') => arith_atom(t, pos, scope, depth + 1)?.checked_neg(),
        ATok::Op(b'+') => arith_atom(t, pos, scope, depth + 1),
        ATok::Op(b'(') => {
            let v = arith_sum(t, pos, scope)?;
            match t.get(*pos) {
                Some(ATok::Op(b')')) => {
                    *pos += 1;
                    Some(v)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Does unquoted text hold a brace expansion (`{a,b}` or `{1..3}`)?
fn has_brace_expansion(s: &str) -> bool {
    let Some(o) = s.find('{') else { return false };
    let Some(c) = s[o..].find('}') else {
        return false;
    };
    let inner = &s[o + 1..o + c];
    inner.contains(',') || inner.contains("..")
}

/// Expand one level of braces: `~/{.ssh,.aws}` → [`~/.ssh`, `~/.aws`].
/// Nested or huge expansions give up (`None`).
pub fn brace_expand(s: &str) -> Option<Vec<String>> {
    let o = s.find('{')?;
    let c = o + s[o..].find('}')?;
    let (pre, inner, post) = (&s[..o], &s[o + 1..c], &s[c + 1..]);
    if inner.contains('{') {
        return None;
    }
    let items: Vec<String> = if inner.contains(',') {
        inner.split(',').map(str::to_string).collect()
    } else if let Some((a, b)) = inner.split_once("..") {
        let (a, b): (i64, i64) = (a.parse().ok()?, b.parse().ok()?);
        if (a - b).abs() > 64 {
            return None;
        }
        let range: Vec<i64> = if a <= b {
            (a..=b).collect()
        } else {
            (b..=a).rev().collect()
        };
        range.into_iter().map(|n| n.to_string()).collect()
    } else {
        return None;
    };
    let mut out = Vec::new();
    for it in items {
        let w = format!("{pre}{it}{post}");
        if has_brace_expansion(post) {
            out.extend(brace_expand(&w)?);
        } else {
            out.push(w);
        }
        if out.len() > 64 {
            return None;
        }
    }
    Some(out)
}

/// Shorten text for messages.
pub fn clip(s: &str) -> String {
    const MAX: usize = 60;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
