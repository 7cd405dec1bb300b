//! Lexical path handling: no filesystem access.

use crate::ops::{Exactness, PathRef};

/// Join `p` onto `cwd` (unless absolute) and fold `.` and `..` lexically.
pub fn resolve(cwd: &str, p: &str) -> String {
    let joined = if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{}/{}", cwd.trim_end_matches('/'), p)
    };
    normalize(&joined)
}

/// Fold `.`, `..` and repeated slashes of an absolute path.
pub fn normalize(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        "/".to_string()
    } else {
        let mut out = String::with_capacity(p.len());
        for s in parts {
            out.push('/');
            out.push_str(s);
        }
        out
    }
}

/// Is `p` equal to `root` or below it? Both absolute and normalized.
pub fn is_within(p: &str, root: &str) -> bool {
    if root == "/" {
        return true;
    }
    p == root || (p.starts_with(root) && p.as_bytes().get(root.len()) == Some(&b'/'))
}

/// A literal path resolved against `cwd`.
pub fn literal(cwd: &str, p: &str) -> PathRef {
    PathRef {
        path: resolve(cwd, p),
        exact: Exactness::Literal,
    }
}

/// Build a `PathRef` from text that may contain glob characters.
pub fn from_text(cwd: &str, p: &str, glob: bool) -> PathRef {
    if glob && p.contains(['*', '?', '[']) {
        // Keep the glob's last components, resolve its literal directory part.
        let resolved = resolve(cwd, p);
        PathRef {
            path: resolved,
            exact: Exactness::Glob,
        }
    } else {
        literal(cwd, p)
    }
}

/// A path whose text after `known_prefix` is computed.
pub fn unknown(cwd: &str, known_prefix: &str) -> PathRef {
    let path = if known_prefix.is_empty() {
        // Nothing known: it could be anywhere.
        "/".to_string()
    } else if known_prefix.ends_with('/') {
        resolve(cwd, known_prefix)
    } else {
        // `foo$X` may name `foo` itself or a sibling like `foobar`: judge by the parent.
        let r = resolve(cwd, known_prefix);
        match r.rfind('/') {
            Some(0) | None => "/".to_string(),
            Some(i) => r[..i].to_string(),
        }
    };
    PathRef {
        path,
        exact: Exactness::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_and_folds() {
        assert_eq!(resolve("/w/p", "../x"), "/w/x");
        assert_eq!(resolve("/w/p", "./a//b/."), "/w/p/a/b");
        assert_eq!(resolve("/w/p", "/etc/../root"), "/root");
        assert_eq!(resolve("/w", "../../../.."), "/");
        assert!(is_within("/w/p/a", "/w/p"));
        assert!(!is_within("/w/pa", "/w/p"));
        assert!(is_within("/w/p", "/w/p"));
    }

    #[test]
    fn unknown_suffix_judged_by_parent() {
        assert_eq!(unknown("/w", "build/").path, "/w/build");
        assert_eq!(unknown("/w", "/etc/sha").path, "/etc");
        assert_eq!(unknown("/w", "").path, "/");
    }
}
