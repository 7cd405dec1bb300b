//! Bash/sh analyzer on brush-parser: walks the syntax tree with a small static
//! model of the shell (variables, functions, working directory, pipes) and turns
//! each command into operations. What cannot be resolved statically becomes an
//! `Opaque` operation or an unknown path; it is never dropped.

mod programs;
mod words;

use std::collections::HashMap;
use std::rc::Rc;

use brush_parser::ast;

use crate::ops::{Op, PathRef};
use crate::{Collector, Lang, paths};
pub use words::Val;
use words::{Scope, clip};

/// Most commands one analysis walks before it gives up (loops over
/// functions can multiply work).
const MAX_STEPS: usize = 20_000;
/// How deep function calls may nest before they are not followed.
const MAX_CALL_DEPTH: usize = 16;

pub fn analyze(c: &mut Collector, code: &str, cwd: &str, lang: Lang) {
    if has_oversized_fd(code) {
        // brush-parser 0.4 panics on a descriptor number past i32 (`99999999999>f`);
        // bash refuses such redirections anyway.
        c.push(Op::opaque(
            "redirection names a file descriptor out of range",
        ));
        return;
    }
    if paren_depth(code) > MAX_PAREN_DEPTH {
        // brush-parser's PEG backtracks exponentially on nested parentheses
        // (~1.8x per level; 24 levels take a second): refuse before parsing.
        c.push(Op::opaque(format!(
            "parentheses nested deeper than {MAX_PAREN_DEPTH} levels"
        )));
        return;
    }
    let mut opts = words::options();
    if lang == Lang::Sh {
        opts.sh_mode = true;
    }
    let program = match brush_parser::Parser::new(code.as_bytes(), &opts).parse_program() {
        Ok(p) => p,
        Err(e) => {
            c.push(Op::opaque(format!(
                "{} code does not parse: {}",
                lang.as_str(),
                clip(&e.to_string())
            )));
            return;
        }
    };
    let mut sh = Shell {
        c,
        funcs: HashMap::new(),
        call_stack: Vec::new(),
        steps: 0,
        in_async: false,
        last_output: None,
        sub_depth: 0,
    };
    let mut env = Env::new(cwd);
    for cc in &program.complete_commands {
        sh.compound_list(cc, &mut env);
    }
}

/// Deepest parenthesis nesting brush-parser is given (a few ms at this depth).
const MAX_PAREN_DEPTH: usize = 14;

/// Deepest nesting of `(`, counted over the raw text (quotes included, which
/// only errs towards refusing).
fn paren_depth(code: &str) -> usize {
    let (mut d, mut max) = (0usize, 0usize);
    for b in code.bytes() {
        match b {
            b'(' => {
                d += 1;
                max = max.max(d);
            }
            b')' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Numbers brush-parser 0.4 would overflow on (it unwraps their parse): a
/// run of ten or more digits right before `<` or `>`, or after `~`, `~+`, `~-`.
fn has_oversized_fd(code: &str) -> bool {
    let b = code.as_bytes();
    for (i, &x) in b.iter().enumerate() {
        if x == b'~' {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            let digits = b[j.min(b.len())..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits >= 10 {
                return true;
            }
        }
    }
    let mut run = 0usize;
    for &x in b {
        if x.is_ascii_digit() {
            run += 1;
        } else {
            if run >= 10 && (x == b'<' || x == b'>') {
                return true;
            }
            run = 0;
        }
    }
    false
}

/// What the shell knows at a point in the code.
#[derive(Clone)]
pub(crate) struct Env {
    vars: HashMap<String, Val>,
    /// `None` once a `cd` to an unknown place happened.
    cwd: Option<String>,
    positional: Vec<Val>,
    /// `$@` and `$1..` are known (inside a function called with known args).
    positional_known: bool,
}

impl Env {
    fn new(cwd: &str) -> Env {
        Env {
            vars: HashMap::new(),
            cwd: Some(cwd.to_string()),
            positional: Vec::new(),
            positional_known: false,
        }
    }
}

/// Where a command's standard input comes from.
#[derive(Debug, Clone)]
pub(crate) enum Stdin {
    /// The terminal or whatever the caller gives: not code we were shown.
    Inherited,
    /// Text known statically (a here-document, here-string or `echo` of literals).
    Text(String),
    /// A file.
    File(String),
    /// Output of another command, not known statically.
    Computed(String),
}

/// What a command writes to stdout, as far as the next pipe stage cares.
#[derive(Debug, Clone)]
pub(crate) enum Output {
    Text(String),
    /// Contents of a file (`cat file`).
    File(String),
    /// Paths below a directory (`find DIR`, `which x`).
    Paths(String),
    Other(String),
}

pub(crate) struct Shell<'c, 'a> {
    pub(crate) c: &'c mut Collector<'a>,
    funcs: HashMap<String, Rc<ast::FunctionBody>>,
    call_stack: Vec<String>,
    steps: usize,
    /// Inside a pipeline or a background job.
    in_async: bool,
    /// Output of the last pipeline walked (for command substitutions).
    last_output: Option<Output>,
    sub_depth: usize,
}

struct WordScope<'s, 'c, 'a> {
    sh: &'s mut Shell<'c, 'a>,
    env: &'s Env,
}

impl Scope for WordScope<'_, '_, '_> {
    fn var(&self, name: &str) -> Option<Val> {
        if let Some(v) = self.env.vars.get(name) {
            return Some(v.clone());
        }
        match name {
            "HOME" => Some(Val::literal(&self.sh.c.ctx.home)),
            "PWD" => self.env.cwd.as_deref().map(Val::literal),
            "IFS" => Some(Val::literal(" \t\n")),
            _ => None,
        }
    }
    fn positional(&self, n: u32) -> Option<Val> {
        if !self.env.positional_known || n == 0 {
            return None;
        }
        Some(
            self.env
                .positional
                .get(n as usize - 1)
                .cloned()
                .unwrap_or_else(|| Val::literal("")),
        )
    }
    fn home(&self) -> &str {
        &self.sh.c.ctx.home
    }
    fn cwd(&self) -> Option<&str> {
        self.env.cwd.as_deref()
    }
    fn substitution(&mut self, code: &str) -> Option<Val> {
        let mut env = self.env.clone();
        self.sh.substitution(code, &mut env)
    }
    fn opaque(&mut self, reason: String) {
        self.sh.c.push(Op::opaque(reason));
    }
}

impl<'c, 'a> Shell<'c, 'a> {
    pub(crate) fn push(&mut self, op: Op) {
        self.c.push(op);
    }

    pub(crate) fn opaque(&mut self, reason: impl Into<String>) {
        self.c.push(Op::opaque(reason));
    }

    fn tick(&mut self) -> bool {
        self.steps += 1;
        if self.steps == MAX_STEPS {
            self.opaque("shell code too large to follow");
        }
        self.steps <= MAX_STEPS
    }

    /// Code inside `$(...)`, backticks or `<(...)`: same functions, a copy of
    /// the environment. Returns the output when it is known statically.
    fn substitution(&mut self, code: &str, env: &mut Env) -> Option<Val> {
        if self.c.depth() >= self.c.ctx.max_depth || self.call_stack.len() > MAX_CALL_DEPTH {
            self.opaque("command substitutions nested too deep");
            return None;
        }
        self.sub_depth += 1;
        if self.sub_depth > 32 {
            self.sub_depth -= 1;
            self.opaque("command substitutions nested too deep");
            return None;
        }
        let out = match brush_parser::Parser::new(code.as_bytes(), &words::options())
            .parse_program()
        {
            Ok(p) => {
                let saved = self.in_async;
                self.last_output = None;
                for cc in &p.complete_commands {
                    self.compound_list(cc, env);
                }
                self.in_async = saved;
                // Only a single simple pipeline has an output we can name.
                let single = p.complete_commands.len() == 1
                    && p.complete_commands[0].0.len() == 1
                    && p.complete_commands[0].0[0].0.additional.is_empty();
                match self.last_output.take() {
                    Some(Output::Text(t)) if single => Some(Val::literal(t.trim_end_matches('\n'))),
                    Some(Output::Paths(prefix)) if single => {
                        let mut v = Val::unknown(&format!("{prefix}/…"));
                        v.known_prefix = prefix.len() + 1;
                        v.text = format!("{prefix}/…");
                        Some(v)
                    }
                    _ => None,
                }
            }
            Err(_) => {
                self.opaque(format!(
                    "command substitution does not parse: {}",
                    clip(code)
                ));
                None
            }
        };
        self.sub_depth -= 1;
        out
    }

    /// Expand a word where the shell does not split it into fields.
    pub(crate) fn expand(&mut self, raw: &str, env: &Env) -> Val {
        let mut v = self.expand_raw(raw, env);
        if v.text.contains(words::FIELD_SPLIT) {
            v.text = v.text.replace(words::FIELD_SPLIT, " ");
        }
        v
    }

    fn expand_raw(&mut self, raw: &str, env: &Env) -> Val {
        let mut s = WordScope { sh: self, env };
        words::expand(raw, &mut s)
    }

    fn expand_heredoc(&mut self, raw: &str, env: &Env) -> Val {
        let mut s = WordScope { sh: self, env };
        words::expand_heredoc(raw, &mut s)
    }

    /// Expand a word into arguments (brace expansion and field splitting may give several).
    fn expand_args(&mut self, raw: &str, env: &Env, out: &mut Vec<Val>) {
        let v = self.expand_raw(raw, env);
        if v.text.contains(words::FIELD_SPLIT) {
            let known_prefix = v.known_prefix;
            let mut offset = 0;
            for field in v.text.split(words::FIELD_SPLIT) {
                let start = offset;
                offset += field.len() + words::FIELD_SPLIT.len_utf8();
                if field.is_empty() {
                    continue;
                }
                let mut f = if start + field.len() <= known_prefix {
                    Val::literal(field)
                } else {
                    let mut u = Val::unknown(field);
                    u.known_prefix = known_prefix.saturating_sub(start).min(field.len());
                    u
                };
                f.glob = v.glob;
                f.computed = v.computed;
                f.indirect = v.indirect;
                out.push(f);
            }
            return;
        }
        if v.brace
            && v.known
            && let Some(list) = words::brace_expand(&v.text)
        {
            for t in list {
                let mut w = Val::literal(&t);
                w.glob = v.glob;
                out.push(w);
            }
            return;
        }
        out.push(v);
    }

    fn compound_list(&mut self, list: &ast::CompoundList, env: &mut Env) {
        for item in &list.0 {
            let saved = self.in_async;
            if matches!(item.1, ast::SeparatorOperator::Async) {
                self.in_async = true;
            }
            self.and_or(&item.0, env);
            self.in_async = saved;
        }
    }

    fn and_or(&mut self, l: &ast::AndOrList, env: &mut Env) {
        self.pipeline(&l.first, env);
        for a in &l.additional {
            match a {
                ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p, env),
            }
        }
    }

    fn pipeline(&mut self, p: &ast::Pipeline, env: &mut Env) {
        let saved = self.in_async;
        if p.seq.len() > 1 {
            self.in_async = true;
        }
        let mut stdin = Stdin::Inherited;
        let n = p.seq.len();
        let mut last = None;
        for cmd in p.seq.iter() {
            // Every stage but the last runs in a subshell in bash: its
            // assignments and `cd` do not leak.
            let out = if n > 1 {
                let mut sub = env.clone();
                self.command(cmd, &mut sub, stdin)
            } else {
                self.command(cmd, env, stdin)
            };
            stdin = match &out {
                Output::Text(t) => Stdin::Text(t.clone()),
                Output::File(f) => Stdin::File(f.clone()),
                Output::Paths(p) => Stdin::Computed(format!("paths under {p}")),
                Output::Other(what) => Stdin::Computed(what.clone()),
            };
            last = Some(out);
        }
        if p.bang {
            last = None;
        }
        self.last_output = last;
        self.in_async = saved;
    }

    fn command(&mut self, cmd: &ast::Command, env: &mut Env, stdin: Stdin) -> Output {
        if !self.tick() {
            return Output::Other("?".into());
        }
        match cmd {
            ast::Command::Simple(s) => self.simple(s, env, stdin),
            ast::Command::Compound(cc, redirects) => {
                let stdin = match redirects {
                    Some(r) => self.redirects(&r.0, env, stdin).0,
                    None => stdin,
                };
                self.compound(cc, env, stdin);
                Output::Other("compound command".into())
            }
            ast::Command::Function(f) => {
                let name = self.expand(&f.fname.value, env).text;
                self.funcs.insert(name, Rc::new(f.body.clone()));
                Output::Other("function definition".into())
            }
            ast::Command::ExtendedTest(t, redirects) => {
                if let Some(r) = redirects {
                    self.redirects(&r.0, env, Stdin::Inherited);
                }
                self.ext_test(&t.expr, env);
                Output::Other("test".into())
            }
        }
    }

    fn ext_test(&mut self, e: &ast::ExtendedTestExpr, env: &Env) {
        use ast::ExtendedTestExpr as E;
        match e {
            E::And(a, b) | E::Or(a, b) => {
                self.ext_test(a, env);
                self.ext_test(b, env);
            }
            E::Not(a) | E::Parenthesized(a) => self.ext_test(a, env),
            E::UnaryTest(_, w) => {
                self.expand(&w.value, env);
            }
            E::BinaryTest(_, a, b) => {
                self.expand(&a.value, env);
                self.expand(&b.value, env);
            }
        }
    }

    fn compound(&mut self, cc: &ast::CompoundCommand, env: &mut Env, stdin: Stdin) {
        use ast::CompoundCommand as C;
        let _ = stdin;
        match cc {
            C::Arithmetic(a) => self.arith_text(&a.expr.value, env),
            C::ArithmeticForClause(f) => {
                for e in [&f.initializer, &f.condition, &f.updater]
                    .into_iter()
                    .flatten()
                {
                    self.arith_text(&e.value, env);
                }
                if f.condition.is_none() && !has_exit(&f.body.list) {
                    self.opaque("loop without an end condition (unbounded)");
                }
                self.compound_list(&f.body.list, env);
            }
            C::BraceGroup(b) => self.compound_list(&b.list, env),
            C::Subshell(s) => {
                let mut sub = env.clone();
                self.compound_list(&s.list, &mut sub);
            }
            C::ForClause(f) => {
                let mut vals = Vec::new();
                match &f.values {
                    Some(ws) => {
                        for w in ws {
                            self.expand_args(&w.value, env, &mut vals);
                        }
                    }
                    None => vals.push(Val::unknown("$@")),
                }
                let all_known = vals.iter().all(|v| v.known) && vals.len() <= 8;
                if all_known && !vals.is_empty() {
                    for v in vals {
                        env.vars.insert(f.variable_name.clone(), v);
                        self.compound_list(&f.body.list, env);
                    }
                } else {
                    // One pass with the loop variable unknown (or a glob of the list).
                    let v = if vals.len() == 1 && vals[0].glob {
                        vals.remove(0)
                    } else {
                        Val::unknown(&format!("${}", f.variable_name))
                    };
                    env.vars.insert(f.variable_name.clone(), v);
                    self.compound_list(&f.body.list, env);
                }
            }
            C::CaseClause(c) => {
                self.expand(&c.value.value, env);
                for item in &c.cases {
                    if let Some(l) = &item.cmd {
                        self.compound_list(l, env);
                    }
                }
            }
            C::IfClause(i) => {
                self.compound_list(&i.condition, env);
                self.compound_list(&i.then, env);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.compound_list(c, env);
                    }
                    self.compound_list(&e.body, env);
                }
            }
            C::WhileClause(w) | C::UntilClause(w) => {
                let until = matches!(cc, C::UntilClause(_));
                if is_constant_loop(&w.0, until) && !has_exit(&w.1.list) {
                    self.opaque("loop without an end condition (unbounded)");
                }
                self.compound_list(&w.0, env);
                self.compound_list(&w.1.list, env);
            }
            C::Coprocess(c) => {
                let saved = self.in_async;
                self.in_async = true;
                self.command(&c.body, env, Stdin::Inherited);
                self.in_async = saved;
            }
        }
    }

    fn arith_text(&mut self, text: &str, env: &Env) {
        if text.contains("$(") || text.contains('`') || text.contains("${") {
            // Let the word expander find and analyze any substitution.
            let w = format!("$(({text}))");
            self.expand(&w, env);
        }
    }

    /// Apply redirections: file reads and writes become operations; returns
    /// the command's stdin and whether stdout goes to a file.
    fn redirects(
        &mut self,
        list: &[ast::IoRedirect],
        env: &Env,
        mut stdin: Stdin,
    ) -> (Stdin, Option<String>) {
        let mut stdout_file = None;
        for r in list {
            match r {
                ast::IoRedirect::File(fd, kind, target) => {
                    use ast::IoFileRedirectKind as K;
                    let word = match target {
                        ast::IoFileRedirectTarget::Filename(w) => w,
                        ast::IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                            let mut e = env.clone();
                            let saved = self.in_async;
                            self.in_async = true;
                            self.compound_list(&sub.list, &mut e);
                            self.in_async = saved;
                            if matches!(kind, K::Read) {
                                stdin = Stdin::Computed("process substitution".into());
                            }
                            continue;
                        }
                        ast::IoFileRedirectTarget::Fd(_) => continue,
                        ast::IoFileRedirectTarget::Duplicate(w) => {
                            let v = self.expand(&w.value, env);
                            if !v.known && !v.text.is_empty() {
                                // `>&$fd` with unknown text: could name a file.
                                self.opaque("redirection to a computed target");
                            }
                            continue;
                        }
                    };
                    let v = self.expand(&word.value, env);
                    let Some(p) = self.path_of(&v, env) else {
                        continue;
                    };
                    match kind {
                        K::Read => {
                            if fd.is_none_or(|f| f == 0) {
                                stdin = Stdin::File(p.path.clone());
                            }
                            self.push(Op::FileRead { path: p });
                        }
                        K::Write | K::Append | K::Clobber => {
                            if fd.is_none_or(|f| f == 1) {
                                stdout_file = Some(p.path.clone());
                            }
                            self.push(Op::FileWrite { path: p });
                        }
                        K::ReadAndWrite => {
                            self.push(Op::FileRead { path: p.clone() });
                            self.push(Op::FileWrite { path: p });
                        }
                        K::DuplicateInput | K::DuplicateOutput => {
                            // `>&file` (bash) writes a file; `>&2` names a descriptor.
                            if !v.text.chars().all(|ch| ch.is_ascii_digit() || ch == '-') {
                                self.push(Op::FileWrite { path: p });
                            }
                        }
                    }
                }
                ast::IoRedirect::HereDocument(_, h) => {
                    let v = if h.requires_expansion {
                        self.expand_heredoc(&h.doc.value, env)
                    } else {
                        Val::literal(&h.doc.value)
                    };
                    stdin = if v.known {
                        Stdin::Text(v.text)
                    } else {
                        Stdin::Computed("here-document with substitutions".into())
                    };
                }
                ast::IoRedirect::HereString(_, w) => {
                    let v = self.expand(&w.value, env);
                    stdin = if v.known {
                        Stdin::Text(v.text)
                    } else if v.computed {
                        Stdin::Computed("command output".into())
                    } else {
                        Stdin::Computed("a variable".into())
                    };
                }
                ast::IoRedirect::OutputAndError(w, _) => {
                    let v = self.expand(&w.value, env);
                    if let Some(p) = self.path_of(&v, env) {
                        stdout_file = Some(p.path.clone());
                        self.push(Op::FileWrite { path: p });
                    }
                }
            }
        }
        (stdin, stdout_file)
    }

    /// The path a word names, or `None` for the harmless device files.
    pub(crate) fn path_of(&mut self, v: &Val, env: &Env) -> Option<PathRef> {
        let cwd = match env.cwd.as_deref() {
            Some(c) => c.to_string(),
            None => {
                if v.known && v.text.starts_with('/') {
                    "/".to_string()
                } else {
                    return Some(paths::unknown("/", ""));
                }
            }
        };
        if v.known {
            if matches!(
                v.text.as_str(),
                "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/stdin" | "/dev/tty" | "-"
            ) || v.text.starts_with("/dev/fd/")
            {
                return None;
            }
            Some(paths::from_text(&cwd, &v.text, v.glob))
        } else {
            Some(paths::unknown(&cwd, v.prefix()))
        }
    }

    fn simple(&mut self, s: &ast::SimpleCommand, env: &mut Env, stdin: Stdin) -> Output {
        let mut assigns: Vec<(String, Val)> = Vec::new();
        let mut redirs: Vec<ast::IoRedirect> = Vec::new();
        let mut argv: Vec<Val> = Vec::new();
        let items = s
            .prefix
            .iter()
            .flat_map(|p| p.0.iter())
            .map(|i| (i, true))
            .chain(s.suffix.iter().flat_map(|p| p.0.iter()).map(|i| (i, false)));
        let mut name_done = false;
        for (item, is_prefix) in items {
            if !is_prefix && !name_done {
                if let Some(w) = &s.word_or_name {
                    self.expand_args(&w.value, env, &mut argv);
                }
                name_done = true;
            }
            match item {
                ast::CommandPrefixOrSuffixItem::IoRedirect(r) => redirs.push(r.clone()),
                ast::CommandPrefixOrSuffixItem::Word(w) => {
                    self.expand_args(&w.value, env, &mut argv)
                }
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, w) => {
                    if is_prefix && argv.is_empty() {
                        let (n, v) = self.assignment(a, env);
                        assigns.push((n, v));
                    } else {
                        // `export X=1`, `local x=$(...)`: an argument that also assigns.
                        let (n, v) = self.assignment(a, env);
                        argv.push(Val::literal(&format!("{n}={}", v.text)));
                        let _ = w;
                    }
                }
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, sub) => {
                    let mut e = env.clone();
                    let saved = self.in_async;
                    self.in_async = true;
                    self.compound_list(&sub.list, &mut e);
                    self.in_async = saved;
                    let mut v = Val::unknown(match kind {
                        ast::ProcessSubstitutionKind::Read => "<(...)",
                        ast::ProcessSubstitutionKind::Write => ">(...)",
                    });
                    v.computed = true;
                    argv.push(v);
                }
            }
        }
        if !name_done && let Some(w) = &s.word_or_name {
            self.expand_args(&w.value, env, &mut argv);
        }

        let (stdin, stdout_file) = self.redirects(&redirs, env, stdin);

        if argv.is_empty() {
            // Plain assignments change the shell's state.
            for (n, v) in assigns {
                self.check_env_assignment(&n, &v, env, false);
                env.vars.insert(n, v);
            }
            return Output::Other("assignment".into());
        }
        for (n, v) in &assigns {
            self.check_env_assignment(n, v, env, true);
        }
        let out = self.exec(argv, env, stdin, stdout_file.is_some());
        match stdout_file {
            Some(f) => Output::Other(format!("file {f}")),
            None => out,
        }
    }

    fn assignment(&mut self, a: &ast::Assignment, env: &Env) -> (String, Val) {
        let name = match &a.name {
            ast::AssignmentName::VariableName(n) => n.clone(),
            ast::AssignmentName::ArrayElementName(n, i) => {
                self.expand(i, env);
                format!("{n}[]")
            }
        };
        let v = match &a.value {
            ast::AssignmentValue::Scalar(w) => self.expand(&w.value, env),
            ast::AssignmentValue::Array(items) => {
                for (k, w) in items {
                    if let Some(k) = k {
                        self.expand(&k.value, env);
                    }
                    self.expand(&w.value, env);
                }
                Val::unknown("(array)")
            }
        };
        let v = if a.append {
            match env.vars.get(&name) {
                Some(old) if old.known && v.known => {
                    Val::literal(&format!("{}{}", old.text, v.text))
                }
                _ => Val::unknown(&format!("${name}")),
            }
        } else {
            v
        };
        (name, v)
    }

    /// Variables that make programs load or run other code.
    fn check_env_assignment(&mut self, name: &str, v: &Val, env: &Env, for_command: bool) {
        match name {
            "LD_PRELOAD"
            | "LD_AUDIT"
            | "LD_LIBRARY_PATH"
            | "DYLD_INSERT_LIBRARIES"
            | "PYTHONPATH"
            | "PYTHONSTARTUP"
            | "PERL5OPT"
            | "PERL5LIB"
            | "RUBYOPT"
            | "NODE_OPTIONS"
            | "BASH_ENV"
            | "ENV"
            | "PROMPT_COMMAND"
            | "GIT_EXEC_PATH"
            | "GIT_TEMPLATE_DIR"
            | "GIT_CONFIG_GLOBAL"
            | "GIT_CONFIG"
            | "GIT_DIR"
            | "GIT_CONFIG_PARAMETERS"
                if !(name == "PYTHONPATH" && v.known && is_within_workspace(self, v, env)) =>
            {
                self.opaque(format!(
                    "sets {name}, which makes programs load code from {}",
                    clip(&v.text)
                ));
            }
            "GIT_SSH_COMMAND" | "GIT_SSH" | "GIT_PAGER" | "PAGER" | "EDITOR" | "VISUAL"
            | "GIT_EDITOR" | "GIT_EXTERNAL_DIFF" | "GIT_ASKPASS" | "SSH_ASKPASS" | "MANPAGER"
            | "SYSTEMD_PAGER" | "LESSOPEN" => {
                if v.known {
                    let cwd = env.cwd.clone().unwrap_or_else(|| "/".into());
                    self.c.nested(Lang::Bash, &v.text, &cwd, None);
                } else {
                    self.opaque(format!("sets {name} to a computed command"));
                }
            }
            "PATH" if (!v.known || path_list_is_risky(self, v, env)) => {
                self.opaque(format!(
                    "sets PATH to {}: later commands may not be the programs they name",
                    clip(&v.text)
                ));
            }
            _ => {}
        }
        let _ = for_command;
    }

    /// Call a shell function: follow its body with the arguments bound.
    fn call_function(&mut self, name: &str, args: &[Val], env: &mut Env) -> bool {
        let Some(body) = self.funcs.get(name).cloned() else {
            return false;
        };
        if self.call_stack.iter().any(|n| n == name) {
            if self.in_async {
                self.opaque(format!(
                    "function {name} starts copies of itself in the background or a pipe (fork bomb)"
                ));
            }
            return true;
        }
        if self.call_stack.len() >= MAX_CALL_DEPTH {
            self.opaque("shell functions nested too deep to follow");
            return true;
        }
        self.call_stack.push(name.to_string());
        let saved_pos = std::mem::take(&mut env.positional);
        let saved_known = env.positional_known;
        env.positional = args.to_vec();
        env.positional_known = args.iter().all(|a| a.known);
        let stdin = Stdin::Inherited;
        self.compound(&body.0, env, stdin);
        if let Some(r) = &body.1 {
            self.redirects(&r.0, env, Stdin::Inherited);
        }
        env.positional = saved_pos;
        env.positional_known = saved_known;
        self.call_stack.pop();
        true
    }
}

fn is_within_workspace(sh: &Shell, v: &Val, env: &Env) -> bool {
    let cwd = env.cwd.as_deref().unwrap_or("/");
    v.text
        .split(':')
        .all(|p| paths::is_within(&paths::resolve(cwd, p), &sh.c.ctx.workspace))
}

/// A PATH that puts a writable or unknown directory before the system ones.
fn path_list_is_risky(sh: &Shell, v: &Val, env: &Env) -> bool {
    let cwd = env.cwd.as_deref().unwrap_or("/");
    v.text.split(':').any(|p| {
        if p.is_empty() || p == "." {
            return true;
        }
        if p.starts_with('$') {
            return false;
        }
        let r = paths::resolve(cwd, p);
        paths::is_within(&r, &sh.c.ctx.workspace)
            || r.starts_with("/tmp")
            || r.starts_with("/dev/shm")
    })
}

/// `while true`, `while :`, `until false`.
fn is_constant_loop(cond: &ast::CompoundList, until: bool) -> bool {
    let [item] = cond.0.as_slice() else {
        return false;
    };
    if !item.0.additional.is_empty() || item.0.first.seq.len() != 1 {
        return false;
    }
    let ast::Command::Simple(s) = &item.0.first.seq[0] else {
        return false;
    };
    if s.suffix.is_some() {
        // `[ 1 ]`, `test 1`: a constant test also counts.
        let w = s.word_or_name.as_ref().map(|w| w.value.as_str());
        let args: Vec<&str> = s
            .suffix
            .iter()
            .flat_map(|x| x.0.iter())
            .filter_map(|i| match i {
                ast::CommandPrefixOrSuffixItem::Word(w) => Some(w.value.as_str()),
                _ => None,
            })
            .collect();
        return !until
            && matches!(
                (w, args.as_slice()),
                (Some("["), ["1", "]"]) | (Some("test"), ["1"])
            );
    }
    let w = s.word_or_name.as_ref().map(|w| w.value.as_str());
    if until {
        w == Some("false")
    } else {
        matches!(w, Some("true" | ":"))
    }
}

/// Does a loop body contain `break`, `return` or `exit` anywhere?
fn has_exit(list: &ast::CompoundList) -> bool {
    // The AST prints back to shell text; a word-level scan of that is enough
    // for the question "can this loop end by itself".
    let text = list.to_string();
    text.split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
        .any(|w| matches!(w, "break" | "return" | "exit"))
}
