//! Compiling a policy file into matchers, and deciding with it.

use std::collections::HashMap;

use globset::{GlobSet, GlobSetBuilder};
use inspect::{Op, ProgramKind, SqlKind};
use regex::Regex;
use sha2::{Digest, Sha256};

use crate::paths::{Pat, PathScope, scope_of};
use crate::schema::{PolicyFile, RuleDecl};
use crate::{Decision, Grants, Reason, Scope, Verdict};

/// A policy problem, located in the file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct CompileError {
    pub line: Option<usize>,
    pub message: String,
}

const OP_KINDS: &[&str] = &[
    "exec",
    "file_read",
    "file_write",
    "file_delete",
    "file_mode",
    "network",
    "upload",
    "sql",
    "privilege",
    "signal",
    "persistence",
    "package_install",
    "opaque",
];

/// A compiled policy, independent of where it is applied.
#[derive(Debug, Clone)]
pub struct Policy {
    pub file: PolicyFile,
    /// `sha256:` of the parsed file as compact JSON, fields in schema order: the
    /// same for any two files that say the same thing (comments, layout and key
    /// order do not count).
    pub version: String,
    default: Verdict,
    opaque: Verdict,
    rules: Vec<Rule>,
    /// For each operation kind (index into `OP_KINDS`), the rules that name it.
    by_kind: Vec<Vec<usize>>,
    db_env: HashMap<String, String>,
    default_db_env: String,
}

#[derive(Debug, Clone)]
struct Rule {
    id: String,
    kinds: Vec<&'static str>,
    verdict: Verdict,
    reason: String,
    programs: Option<NameSet>,
    program_kind: Option<ProgramKind>,
    subcommands: Vec<String>,
    any_arg: Option<LazyRegex>,
    args: Option<LazyRegex>,
    /// Unbound path patterns (with `{workspace}`, `{home}`, `{airlock}`).
    paths: Vec<String>,
    except_paths: Vec<String>,
    recursive: Option<bool>,
    setid: Option<bool>,
    hosts: Option<LazyGlobSet>,
    except_hosts: Option<LazyGlobSet>,
    unless_granted: bool,
    granted_only: bool,
    sql_kinds: Vec<SqlKind>,
    verbs: Option<LazyGlobSet>,
    envs: Vec<String>,
    unrestricted: Option<bool>,
    dangers: Vec<String>,
    objects: Option<LazyGlobSet>,
    detail: Option<LazyRegex>,
}

/// A regex compiled at load for a policy file, and on first use for the
/// built-in policy (its tests compile every rule in full): most rules
/// never meet an operation they could match, and compiling is the costly part
/// of starting a short-lived `airlock check` process.
#[derive(Debug, Clone)]
struct LazyRegex {
    src: String,
    re: std::sync::OnceLock<Option<Regex>>,
}

impl LazyRegex {
    fn is_match(&self, s: &str) -> bool {
        // Syntax was validated at load; a failure here (size limits) matches
        // nothing, which for allow rules means "not allowed".
        self.re
            .get_or_init(|| Regex::new(&self.src).ok())
            .as_ref()
            .is_some_and(|r| r.is_match(s))
    }
}

/// A policy bound to a workspace and home: path patterns resolved.
#[derive(Debug, Clone)]
pub struct BoundPolicy {
    policy: Policy,
    paths: Vec<(Vec<Pat>, Vec<Pat>)>,
}

/// Glob patterns parsed at load, matched by a `GlobSet` built on first use
/// (building one is the costly part of loading a policy).
#[derive(Debug, Clone)]
struct LazyGlobSet {
    globs: Vec<globset::Glob>,
    set: std::sync::OnceLock<Option<GlobSet>>,
}

impl LazyGlobSet {
    fn is_match(&self, s: &str) -> bool {
        self.set
            .get_or_init(|| {
                let mut b = GlobSetBuilder::new();
                for g in &self.globs {
                    b.add(g.clone());
                }
                b.build().ok()
            })
            .as_ref()
            .is_some_and(|g| g.is_match(s))
    }
}

fn globset(
    items: &[String],
    what: &str,
    case_insensitive: bool,
    validate: bool,
) -> Result<Option<LazyGlobSet>, String> {
    if items.is_empty() {
        return Ok(None);
    }
    let mut globs = Vec::with_capacity(items.len());
    for i in items {
        let g = globset::GlobBuilder::new(i)
            .case_insensitive(case_insensitive)
            .literal_separator(false)
            .build()
            .map_err(|e| format!("bad {what} pattern {i:?}: {e}"))?;
        globs.push(g);
    }
    let set = std::sync::OnceLock::new();
    if validate {
        // Built in full at load for policy files: a set that cannot be built is
        // an error, never a deny rule that silently matches nothing.
        let mut b = GlobSetBuilder::new();
        for g in &globs {
            b.add(g.clone());
        }
        let built = b.build().map_err(|e| format!("bad {what} patterns: {e}"))?;
        let _ = set.set(Some(built));
    }
    Ok(Some(LazyGlobSet { globs, set }))
}

/// FNV-1a: program names are short and trusted (they come from the policy),
/// so a fast hash beats SipHash on the decision path.
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Program names: exact names in a hash set (the common case, and cheap to
/// build), glob patterns in a `GlobSet`.
#[derive(Debug, Clone)]
struct NameSet {
    exact: std::collections::HashSet<String, std::hash::BuildHasherDefault<Fnv>>,
    globs: Option<LazyGlobSet>,
}

impl NameSet {
    fn new(items: &[String], validate: bool) -> Result<Option<NameSet>, String> {
        if items.is_empty() {
            return Ok(None);
        }
        let (pats, names): (Vec<String>, Vec<String>) = items
            .iter()
            .cloned()
            .partition(|i| i.contains(['*', '?', '[', '{']));
        let exact = names.into_iter().map(|n| n.replace('\\', "")).collect();
        Ok(Some(NameSet {
            exact,
            globs: globset(&pats, "program", false, validate)?,
        }))
    }

    fn contains(&self, name: &str) -> bool {
        self.exact.contains(name) || self.globs.as_ref().is_some_and(|g| g.is_match(name))
    }
}

fn regex(r: &Option<String>, what: &str, validate: bool) -> Result<Option<LazyRegex>, String> {
    r.as_ref()
        .map(|s| {
            let re = std::sync::OnceLock::new();
            if validate {
                // A policy from a file is compiled in full at load, so a regex
                // that fails (syntax or size limits) is an error there and never
                // a deny rule that silently matches nothing.
                let compiled = Regex::new(s).map_err(|e| format!("bad {what} regex {s:?}: {e}"))?;
                let _ = re.set(Some(compiled));
            }
            Ok(LazyRegex { src: s.clone(), re })
        })
        .transpose()
}

/// The 1-based line where a rule with this id is declared.
fn line_of_rule(text: &str, id: &str) -> Option<usize> {
    let needle1 = format!("id = \"{id}\"");
    let needle2 = format!("id=\"{id}\"");
    text.lines()
        .position(|l| {
            let l = l.trim();
            l == needle1 || l == needle2
        })
        .map(|i| i + 1)
}

impl Policy {
    /// Parse and compile policy text. Errors carry line numbers.
    pub fn from_toml(text: &str) -> Result<Policy, CompileError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            CompileError {
                line,
                message: e.message().to_string(),
            }
        })?;
        Policy::compile(file, text, None)
    }

    /// `known_version`: only for the built-in policy, whose version build.rs
    /// computed; it also skips syntax checks, which the tests run on it.
    fn compile(
        file: PolicyFile,
        text: &str,
        known_version: Option<&str>,
    ) -> Result<Policy, CompileError> {
        let validate = known_version.is_none();
        let err = |line: Option<usize>, message: String| CompileError { line, message };
        if file.schema != 1 {
            return Err(err(
                None,
                format!(
                    "unsupported policy schema {} (this build reads 1)",
                    file.schema
                ),
            ));
        }
        let default = match Verdict::parse(&file.default) {
            Some(Verdict::Allow) => {
                return Err(err(
                    None,
                    "default must be ask or deny: an allowlist never allows by default".into(),
                ));
            }
            Some(v) => v,
            None => {
                return Err(err(
                    None,
                    format!("default: unknown verdict {:?}", file.default),
                ));
            }
        };
        let opaque = match Verdict::parse(&file.opaque) {
            Some(Verdict::Allow) => {
                return Err(err(
                    None,
                    "opaque must be ask or deny: code whose effect is unknown never auto-allows"
                        .into(),
                ));
            }
            Some(v) => v,
            None => {
                return Err(err(
                    None,
                    format!("opaque: unknown verdict {:?}", file.opaque),
                ));
            }
        };
        let envs = ["dev", "staging", "prod", "scratch"];
        let mut db_env = HashMap::new();
        for d in &file.databases {
            if !envs.contains(&d.env.as_str()) {
                return Err(err(
                    None,
                    format!(
                        "database {}: unknown environment {:?} (dev, staging, prod, scratch)",
                        d.name, d.env
                    ),
                ));
            }
            db_env.insert(d.name.to_ascii_lowercase(), d.env.clone());
        }
        let mut rules = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for r in &file.rules {
            // Lines are looked up only for errors: scanning the text per rule
            // costs more than compiling the whole policy.
            if !seen.insert(r.id.clone()) {
                let line = line_of_rule(text, &r.id);
                return Err(err(line, format!("rule id {:?} is used twice", r.id)));
            }
            let rule = compile_rule(r, &envs, validate)
                .map_err(|m| err(line_of_rule(text, &r.id), format!("rule {}: {m}", r.id)))?;
            rules.push(rule);
        }
        // Canonical form: the parsed file as compact JSON with sorted keys
        // (serde_json's map is ordered); only strings, integers and booleans
        // occur, so this is the RFC 8785 form without its costly general path.
        let version = match known_version {
            Some(v) => v.to_string(),
            None => {
                let canonical = serde_json::to_string(&file)
                    .map_err(|e| err(None, format!("cannot canonicalize policy: {e}")))?;
                format!("sha256:{}", hex(&Sha256::digest(canonical.as_bytes())))
            }
        };
        let default_db_env = file.default_database_env.clone();
        let by_kind = OP_KINDS
            .iter()
            .map(|k| {
                (0..rules.len())
                    .filter(|&i| rules[i].kinds.contains(k))
                    .collect()
            })
            .collect();
        Ok(Policy {
            file,
            version,
            default,
            opaque,
            rules,
            by_kind,
            db_env,
            default_db_env,
        })
    }

    /// The built-in policy, from the form `build.rs` prepared: no TOML parse,
    /// no hashing, no syntax re-checks (the tests compile it with all checks
    /// and compare versions).
    pub fn default_policy() -> Policy {
        let file: PolicyFile =
            serde_json::from_str(crate::DEFAULT_POLICY_JSON).expect("the built-in policy parses");
        Policy::compile(
            file,
            crate::DEFAULT_POLICY_TOML,
            Some(crate::DEFAULT_POLICY_VERSION),
        )
        .expect("the built-in policy compiles")
    }

    /// Resolve path patterns for one workspace (keeps a copy of the policy).
    pub fn bind(&self, scope: &Scope) -> Result<BoundPolicy, CompileError> {
        self.clone().into_bound(scope)
    }

    /// Resolve path patterns for one workspace, consuming the policy.
    pub fn into_bound(self, scope: &Scope) -> Result<BoundPolicy, CompileError> {
        let mut paths = Vec::with_capacity(self.rules.len());
        for r in &self.rules {
            let mut p = bind_paths(&r.paths, scope).map_err(|m| CompileError {
                line: None,
                message: format!("rule {}: {m}", r.id),
            })?;
            // A rule whose paths all bind to nothing (`{airlock}` with no airlock paths)
            // must match no path, not every path as a rule without paths does: for an
            // allow rule the difference is allowing everything.
            if !r.paths.is_empty() && p.is_empty() {
                p.push(Pat::compile("/\0unbound").map_err(|m| CompileError {
                    line: None,
                    message: format!("rule {}: {m}", r.id),
                })?);
            }
            let e = bind_paths(&r.except_paths, scope).map_err(|m| CompileError {
                line: None,
                message: format!("rule {}: {m}", r.id),
            })?;
            paths.push((p, e));
        }
        Ok(BoundPolicy {
            policy: self,
            paths,
        })
    }

    /// The environment (dev, staging, prod, scratch) of a database name.
    pub fn database_env(&self, db: Option<&str>) -> &str {
        match db {
            None => &self.default_db_env,
            Some(d) => self
                .db_env
                .get(&d.to_ascii_lowercase())
                .map(String::as_str)
                .unwrap_or(&self.default_db_env),
        }
    }

    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.id.as_str())
    }

    /// Check every rule's `match` / `not_match` examples (bash code) against
    /// a fixed sample workspace. Returns one message per failing example.
    pub fn check_examples(&self) -> Vec<String> {
        let scope = Scope {
            workspace: "/work/project".into(),
            home: "/home/dev".into(),
            airlock_paths: vec!["/home/dev/.local/state/airlock".into()],
        };
        let Ok(bound) = self.bind(&scope) else {
            return vec!["policy does not bind to a sample workspace".into()];
        };
        let ctx = inspect::Context::new(&scope.workspace, &scope.workspace, &scope.home);
        let mut problems = Vec::new();
        for (i, decl) in self.file.rules.iter().enumerate() {
            let Some(ex) = &decl.examples else { continue };
            for (code, want) in ex
                .matches
                .iter()
                .map(|c| (c, true))
                .chain(ex.not_match.iter().map(|c| (c, false)))
            {
                let a = inspect::analyze(inspect::Lang::Bash, code, &ctx);
                let hit = a
                    .ops
                    .iter()
                    .any(|op| bound.rule_matches(i, op, &Grants::default()).is_some());
                if hit != want {
                    problems.push(format!(
                        "rule {}: example {:?} {} but should {}",
                        decl.id,
                        code,
                        if hit { "matches" } else { "does not match" },
                        if want { "match" } else { "not match" }
                    ));
                }
            }
        }
        problems
    }
}

fn bind_paths(list: &[String], scope: &Scope) -> Result<Vec<Pat>, String> {
    let mut out = Vec::new();
    for p in list {
        if p.contains("{airlock}") {
            for a in &scope.airlock_paths {
                out.push(Pat::compile(
                    &p.replace("{airlock}", a.trim_end_matches('/')),
                )?);
            }
            continue;
        }
        let t = p
            .replace("{workspace}", scope.workspace.trim_end_matches('/'))
            .replace("{home}", scope.home.trim_end_matches('/'));
        let t = if t.is_empty() { "/".to_string() } else { t };
        out.push(Pat::compile(&t)?);
    }
    Ok(out)
}

fn compile_rule(r: &RuleDecl, envs: &[&str], validate: bool) -> Result<Rule, String> {
    let regex = |r: &Option<String>, what: &str| regex(r, what, validate);
    let verdict =
        Verdict::parse(&r.verdict).ok_or_else(|| format!("unknown verdict {:?}", r.verdict))?;
    let mut kinds = Vec::new();
    for k in r.op.list() {
        let Some(kk) = OP_KINDS.iter().find(|x| **x == k) else {
            return Err(format!(
                "unknown op kind {k:?} (one of {})",
                OP_KINDS.join(", ")
            ));
        };
        kinds.push(*kk);
    }
    if kinds.is_empty() {
        return Err("op names no operation kind".into());
    }
    if verdict == Verdict::Allow && kinds.contains(&"opaque") {
        return Err("opaque operations can never be allowed".into());
    }
    if r.reason.trim().is_empty() {
        return Err("reason is empty: every rule needs a sentence for people".into());
    }
    let program_kind = match r.program_kind.as_deref() {
        None => None,
        Some("system") => Some(ProgramKind::System),
        Some("project") => Some(ProgramKind::Project),
        Some("external") => Some(ProgramKind::External),
        Some(o) => return Err(format!("unknown program_kind {o:?}")),
    };
    let mut sql_kinds = Vec::new();
    for k in &r.sql_kinds {
        sql_kinds.push(match k.as_str() {
            "read" => SqlKind::Read,
            "dml" => SqlKind::Dml,
            "ddl" => SqlKind::Ddl,
            "dcl" => SqlKind::Dcl,
            "admin" => SqlKind::Admin,
            o => return Err(format!("unknown sql kind {o:?}")),
        });
    }
    for e in &r.envs {
        if !envs.contains(&e.as_str()) {
            return Err(format!("unknown environment {e:?}"));
        }
    }
    for p in r.paths.iter().chain(&r.except_paths).filter(|_| validate) {
        let probe = p
            .replace("{workspace}", "/w")
            .replace("{home}", "/h")
            .replace("{airlock}", "/a");
        Pat::validate(&probe)?;
    }
    Ok(Rule {
        id: r.id.clone(),
        kinds,
        verdict,
        reason: r.reason.clone(),
        programs: NameSet::new(&r.programs, validate)?,
        program_kind,
        subcommands: r.subcommands.clone(),
        any_arg: regex(&r.any_arg, "any_arg")?,
        args: regex(&r.args, "args")?,
        paths: r.paths.clone(),
        except_paths: r.except_paths.clone(),
        recursive: r.recursive,
        setid: r.setid,
        hosts: globset(&r.hosts, "host", true, validate)?,
        except_hosts: globset(&r.except_hosts, "host", true, validate)?,
        unless_granted: r.unless_granted,
        granted_only: r.granted_only,
        sql_kinds,
        verbs: globset(&r.verbs, "verb", true, validate)?,
        envs: r.envs.clone(),
        unrestricted: r.unrestricted,
        dangers: r.dangers.clone(),
        objects: globset(&r.objects, "object", true, validate)?,
        detail: regex(&r.detail, "detail")?,
    })
}

fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(H[(x >> 4) as usize] as char);
        s.push(H[(x & 15) as usize] as char);
    }
    s
}

/// How a rule meets an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hit {
    Certain,
    /// The operation's path is not fully known and may fall under the rule.
    Possible,
}

/// How a rule's path patterns meet an operation's path scope: an allow rule
/// must cover all of it; a deny or ask rule applies where it may overlap.
fn path_hit(verdict: Verdict, paths: &[Pat], except: &[Pat], scope: &PathScope) -> Option<Hit> {
    if except.iter().any(|e| e.covers(scope)) {
        return None;
    }
    if paths.is_empty() {
        return Some(Hit::Certain);
    }
    if verdict == Verdict::Allow {
        return paths
            .iter()
            .any(|p| p.covers(scope))
            .then_some(Hit::Certain);
    }
    let mut best = None;
    for p in paths {
        match p.overlaps(scope) {
            Some(true) => return Some(Hit::Certain),
            Some(false) => best = Some(Hit::Possible),
            None => {}
        }
    }
    best
}

fn host_granted(host: &str, grants: &Grants) -> bool {
    grants.hosts.iter().any(|g| {
        let g = g.to_ascii_lowercase();
        match g.strip_prefix("*.") {
            // `*.x.com` covers subdomains only, not `x.com` itself.
            Some(suffix) => host.ends_with(&format!(".{suffix}")),
            None => g == host,
        }
    })
}

impl BoundPolicy {
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn rule_matches(&self, i: usize, op: &Op, grants: &Grants) -> Option<Hit> {
        let r = &self.policy.rules[i];
        if !r.kinds.contains(&op.kind_name()) {
            return None;
        }
        let (paths, except) = &self.paths[i];
        match op {
            Op::Exec {
                program,
                argv,
                kind,
            } => {
                if let Some(pk) = r.program_kind
                    && pk != *kind
                {
                    return None;
                }
                if let Some(g) = &r.programs {
                    let base = if *kind == ProgramKind::System {
                        program.as_str()
                    } else {
                        program.rsplit('/').next().unwrap_or(program)
                    };
                    if !g.contains(base) && !g.contains(program) {
                        return None;
                    }
                }
                if !r.subcommands.is_empty() {
                    let sub = argv.iter().find(|a| !a.starts_with('-'));
                    if !sub.is_some_and(|s| r.subcommands.iter().any(|x| x == s)) {
                        return None;
                    }
                }
                if let Some(re) = &r.any_arg
                    && !argv.iter().any(|a| re.is_match(a))
                {
                    return None;
                }
                if let Some(re) = &r.args
                    && !re.is_match(&argv.join(" "))
                {
                    return None;
                }
                Some(Hit::Certain)
            }
            Op::FileRead { path }
            | Op::FileWrite { path }
            | Op::FileDelete { path, .. }
            | Op::FileMode { path, .. } => {
                if let (Some(want), Op::FileDelete { recursive, .. }) = (r.recursive, op)
                    && want != *recursive
                {
                    return None;
                }
                if let (Some(want), Op::FileMode { setid, .. }) = (r.setid, op)
                    && want != *setid
                {
                    return None;
                }
                let scope = scope_of(path, matches!(op, Op::FileDelete { .. }));
                path_hit(r.verdict, paths, except, &scope)
            }
            Op::Upload { path, host, .. } => {
                if let Some(g) = &r.hosts
                    && !g.is_match(host)
                {
                    return None;
                }
                if let Some(e) = &r.except_hosts
                    && e.is_match(host)
                {
                    return None;
                }
                path_hit(r.verdict, paths, except, &scope_of(path, false))
            }
            Op::Network { host, .. } => {
                if r.unless_granted && host_granted(host, grants) {
                    return None;
                }
                if r.granted_only && !host_granted(host, grants) {
                    return None;
                }
                if let Some(e) = &r.except_hosts
                    && e.is_match(host)
                {
                    return None;
                }
                match &r.hosts {
                    Some(g) => g.is_match(host).then_some(Hit::Certain),
                    None => Some(Hit::Certain),
                }
            }
            Op::Sql(s) => {
                if !r.sql_kinds.is_empty() && !r.sql_kinds.contains(&s.kind) {
                    return None;
                }
                if let Some(g) = &r.verbs
                    && !g.is_match(&s.verb)
                {
                    return None;
                }
                if !r.envs.is_empty() {
                    let env = self.policy.database_env(s.database.as_deref());
                    if !r.envs.iter().any(|e| e == env) {
                        return None;
                    }
                }
                if let Some(u) = r.unrestricted {
                    let is_unrestricted = s.where_tautological
                        && matches!(s.kind, SqlKind::Dml)
                        && (s.verb.starts_with("UPDATE")
                            || s.verb.starts_with("DELETE")
                            || s.verb.starts_with("MERGE"));
                    if u != is_unrestricted {
                        return None;
                    }
                }
                if !r.dangers.is_empty() {
                    let any = r
                        .dangers
                        .iter()
                        .any(|d| d == "*" && !s.dangers.is_empty() || s.dangers.contains(d));
                    if !any {
                        return None;
                    }
                }
                if let Some(g) = &r.objects
                    && !s.objects.iter().any(|o| g.is_match(o))
                {
                    return None;
                }
                Some(Hit::Certain)
            }
            Op::Privilege { how: d }
            | Op::Persistence { what: d }
            | Op::Opaque { reason: d }
            | Op::PackageInstall { what: d, .. } => match &r.detail {
                Some(re) => re.is_match(d).then_some(Hit::Certain),
                None => Some(Hit::Certain),
            },
            Op::Signal { target, how } => match &r.detail {
                Some(re) => (re.is_match(target) || re.is_match(how)).then_some(Hit::Certain),
                None => Some(Hit::Certain),
            },
        }
    }

    /// The rules that name this operation's kind.
    fn rules_for(&self, op: &Op) -> &[usize] {
        let k = op.kind_name();
        OP_KINDS
            .iter()
            .position(|x| *x == k)
            .map(|i| self.policy.by_kind[i].as_slice())
            .unwrap_or(&[])
    }

    /// Decide on one operation: its verdict and reasons.
    fn decide_op(&self, idx: usize, op: &Op, grants: &Grants, out: &mut Vec<Reason>) -> Verdict {
        if let Op::Opaque { reason } = op {
            let mut v = self.policy.opaque;
            let mut msg = format!("cannot tell statically what this does: {reason}");
            let mut rule = "opaque".to_string();
            // Rules may make opaque stricter, never looser.
            for &i in self.rules_for(op) {
                let r = &self.policy.rules[i];
                if r.verdict > v && self.rule_matches(i, op, grants).is_some() {
                    v = r.verdict;
                    msg = format!("{}: {reason}", r.reason);
                    rule = r.id.clone();
                }
            }
            out.push(Reason {
                verdict: v,
                rule,
                op: idx,
                message: msg,
            });
            return v;
        }
        let mut best: Option<(Verdict, usize)> = None;
        let mut possible_note = false;
        for &i in self.rules_for(op) {
            let r = &self.policy.rules[i];
            let Some(hit) = self.rule_matches(i, op, grants) else {
                continue;
            };
            let v = match (hit, r.verdict) {
                (Hit::Possible, Verdict::Deny) => {
                    possible_note = true;
                    Verdict::Ask
                }
                (Hit::Possible, v) => {
                    possible_note = true;
                    v
                }
                (Hit::Certain, v) => v,
            };
            if best.is_none_or(|(bv, _)| v > bv) {
                best = Some((v, i));
                if v == Verdict::Deny {
                    break;
                }
            }
        }
        match best {
            Some((v, i)) => {
                let r = &self.policy.rules[i];
                let message = if possible_note && v != Verdict::Allow {
                    format!(
                        "{} (the path is not fully known and may fall under this rule)",
                        r.reason
                    )
                } else {
                    r.reason.clone()
                };
                out.push(Reason {
                    verdict: v,
                    rule: r.id.clone(),
                    op: idx,
                    message,
                });
                v
            }
            None => {
                let v = self.policy.default;
                out.push(Reason {
                    verdict: v,
                    rule: "default".into(),
                    op: idx,
                    message: format!(
                        "no rule allows this {} operation",
                        op.kind_name().replace('_', " ")
                    ),
                });
                v
            }
        }
    }

    /// Decide on a proposal's operations.
    pub fn decide(&self, ops: &[Op], grants: &Grants) -> Decision {
        let mut reasons = Vec::with_capacity(ops.len());
        let mut verdict = Verdict::Allow;
        for (i, op) in ops.iter().enumerate() {
            let v = self.decide_op(i, op, grants, &mut reasons);
            verdict = verdict.max(v);
        }
        if verdict != Verdict::Allow {
            reasons.retain(|r| r.verdict != Verdict::Allow);
        }
        reasons.sort_by(|a, b| b.verdict.cmp(&a.verdict).then(a.op.cmp(&b.op)));
        Decision { verdict, reasons }
    }
}
