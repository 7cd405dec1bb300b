//! Path patterns and how they meet paths that are only partly known.
//!
//! An operation's path is a *scope*: one exact path, some children of a
//! directory (a glob like `build/*.o`), or a whole subtree (`rm -rf dir/*`, or
//! a path with a computed tail). An allow rule must *cover* the whole scope;
//! a deny or ask rule applies when it *overlaps* any part of it.

use std::sync::OnceLock;

use globset::{Glob, GlobBuilder, GlobMatcher};
use inspect::{Exactness, PathRef};

#[derive(Debug, Clone)]
pub enum Pat {
    /// A literal path.
    Literal(String),
    /// `ROOT/**`: ROOT and everything below it.
    Subtree(String),
    /// Any other glob; `prefix` is its literal leading directory.
    Glob {
        m: Box<LazyGlob>,
        prefix: String,
        last: String,
    },
}

/// A parsed glob whose matcher (a regex) is built on first use.
#[derive(Debug, Clone)]
pub struct LazyGlob {
    glob: Glob,
    m: OnceLock<GlobMatcher>,
}

impl LazyGlob {
    fn is_match(&self, p: impl AsRef<std::path::Path>) -> bool {
        self.m
            .get_or_init(|| self.glob.compile_matcher())
            .is_match(p)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathScope<'a> {
    Exact(&'a str),
    /// Some entries below `base` (not `base` itself); `text` is the glob as written.
    Children {
        base: String,
        text: &'a str,
    },
    /// `base` and everything below it.
    Whole(String),
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

pub fn within(p: &str, root: &str) -> bool {
    inspect::paths::is_within(p, root)
}

fn strictly_within(p: &str, root: &str) -> bool {
    p != root && within(p, root)
}

impl Pat {
    /// Check a pattern's syntax without compiling a matcher.
    pub fn validate(text: &str) -> Result<(), String> {
        if !text.starts_with('/') && !text.starts_with("**") {
            return Err(format!(
                "path pattern {text:?} must be absolute (or start with **)"
            ));
        }
        if !has_meta(text) {
            return Ok(());
        }
        GlobBuilder::new(text)
            .literal_separator(true)
            .build()
            .map(|_| ())
            .map_err(|e| format!("bad path pattern {text:?}: {e}"))
    }

    pub fn compile(text: &str) -> Result<Pat, String> {
        if !text.starts_with('/') && !text.starts_with("**") {
            return Err(format!(
                "path pattern {text:?} must be absolute (or start with **)"
            ));
        }
        if let Some(root) = text.strip_suffix("/**")
            && !has_meta(root)
        {
            let root = if root.is_empty() { "/" } else { root };
            return Ok(Pat::Subtree(inspect::paths::normalize(root)));
        }
        if !has_meta(text) {
            return Ok(Pat::Literal(inspect::paths::normalize(text)));
        }
        let g = GlobBuilder::new(text)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("bad path pattern {text:?}: {e}"))?;
        let first_meta = text.find(['*', '?', '[', '{']).unwrap_or(text.len());
        let prefix = match text[..first_meta].rfind('/') {
            Some(0) | None => "/".to_string(),
            Some(i) => text[..i].to_string(),
        };
        let last = text
            .rsplit('/')
            .next()
            .unwrap_or("")
            .replace(['*', '?'], "x");
        Ok(Pat::Glob {
            m: Box::new(LazyGlob {
                glob: g,
                m: OnceLock::new(),
            }),
            prefix,
            last,
        })
    }

    fn matches_exact(&self, p: &str) -> bool {
        match self {
            Pat::Literal(l) => l == p,
            Pat::Subtree(r) => within(p, r),
            Pat::Glob { m, .. } => m.is_match(p),
        }
    }

    /// Every path in the scope is matched.
    pub fn covers(&self, s: &PathScope) -> bool {
        match s {
            PathScope::Exact(p) => self.matches_exact(p),
            PathScope::Children { base, .. } | PathScope::Whole(base) => match self {
                Pat::Subtree(r) => within(base, r),
                _ => false,
            },
        }
    }

    /// Some path in the scope may be matched. Returns `Some(true)` when the
    /// match is certain, `Some(false)` when only possible.
    pub fn overlaps(&self, s: &PathScope) -> Option<bool> {
        match s {
            PathScope::Exact(p) => self.matches_exact(p).then_some(true),
            PathScope::Children { base, text } => {
                if self.covers(s) {
                    return Some(true);
                }
                let hit = match self {
                    Pat::Literal(l) => strictly_within(l, base) && glob_may_name(text, l),
                    Pat::Subtree(r) => strictly_within(r, base) && glob_may_name(text, r),
                    Pat::Glob { m, prefix, last } => {
                        m.is_match(text)
                            || (strictly_within(prefix, base) && glob_may_name(text, prefix))
                            || (within(base, prefix)
                                && last_component_may_match(text, last)
                                && m.is_match(format!("{base}/{last}")))
                    }
                };
                hit.then_some(false)
            }
            PathScope::Whole(base) => {
                if self.covers(s) {
                    return Some(true);
                }
                if matches!(self, Pat::Literal(l) if l == base) {
                    return Some(true);
                }
                let hit = match self {
                    Pat::Literal(l) => within(l, base),
                    Pat::Subtree(r) => within(r, base),
                    Pat::Glob { m, prefix, last } => {
                        m.is_match(base)
                            || strictly_within(prefix, base)
                            || (within(base, prefix) && m.is_match(format!("{base}/{last}")))
                    }
                };
                hit.then_some(false)
            }
        }
    }
}

/// Could the shell glob `text` name `path` or something below it? Compares
/// component by component (shell rules: `*` does not match a leading dot).
fn glob_may_name(text: &str, path: &str) -> bool {
    let g: Vec<&str> = text.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    for (gc, pc) in g.iter().zip(p.iter()) {
        if !component_matches(gc, pc) {
            return false;
        }
    }
    true
}

/// Could the last component of the glob `text` be `name`?
fn last_component_may_match(text: &str, name: &str) -> bool {
    let last = text.rsplit('/').next().unwrap_or(text);
    // A pattern's probe name with wildcards left (`x`) says little: be conservative.
    component_matches(last, name)
}

fn component_matches(glob: &str, name: &str) -> bool {
    if !has_meta(glob) {
        return glob == name;
    }
    if name.starts_with('.') && !glob.starts_with('.') {
        return false;
    }
    match GlobBuilder::new(glob).literal_separator(true).build() {
        Ok(g) => g.compile_matcher().is_match(name),
        Err(_) => true,
    }
}

/// The scope of a path an operation names. `whole_on_star`: a trailing bare
/// `*` names everything in its directory (deleting `dir/*` empties `dir`).
pub fn scope_of(p: &PathRef, whole_on_star: bool) -> PathScope<'_> {
    match p.exact {
        Exactness::Literal => PathScope::Exact(&p.path),
        Exactness::Unknown => PathScope::Whole(p.path.clone()),
        Exactness::Glob => {
            let first_meta = p.path.find(['*', '?', '[']).unwrap_or(p.path.len());
            let base = match p.path[..first_meta].rfind('/') {
                Some(0) | None => "/".to_string(),
                Some(i) => p.path[..i].to_string(),
            };
            let rest = &p.path[(base.len() + 1).min(p.path.len())..];
            let everything = matches!(rest, "*" | ".*" | "*.*" | "{*,.*}" | "**" | "*/");
            if whole_on_star && everything {
                PathScope::Whole(base)
            } else {
                PathScope::Children {
                    base,
                    text: &p.path,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr(path: &str, exact: Exactness) -> PathRef {
        PathRef {
            path: path.into(),
            exact,
        }
    }

    #[test]
    fn subtree_covers_and_overlaps() {
        let ws = Pat::compile("/w/**").unwrap();
        assert!(ws.covers(&PathScope::Exact("/w/a")));
        assert!(ws.covers(&PathScope::Whole("/w/build".into())));
        let ssh = Pat::compile("/home/u/.ssh/**").unwrap();
        assert_eq!(
            ssh.overlaps(&PathScope::Whole("/home/u".into())),
            Some(false)
        );
        assert_eq!(
            ssh.overlaps(&PathScope::Exact("/home/u/.ssh/id_rsa")),
            Some(true)
        );
        assert_eq!(ssh.overlaps(&PathScope::Whole("/w".into())), None);
    }

    #[test]
    fn globs_in_paths() {
        let env = Pat::compile("/proc/*/environ").unwrap();
        let p = pr("/proc/*/environ", Exactness::Glob);
        assert_eq!(env.overlaps(&scope_of(&p, false)), Some(false));
        let root = Pat::compile("/w").unwrap();
        let star = pr("/w/*", Exactness::Glob);
        assert_eq!(root.overlaps(&scope_of(&star, true)), Some(true));
        let objs = pr("/w/*.o", Exactness::Glob);
        assert_eq!(root.overlaps(&scope_of(&objs, true)), None);
        let dotenv = Pat::compile("**/.env").unwrap();
        assert_eq!(dotenv.overlaps(&PathScope::Exact("/w/.env")), Some(true));
        assert_eq!(dotenv.overlaps(&PathScope::Exact("/w/.env.example")), None);
    }
}
