//! Collects operations across languages and nesting levels.

use crate::ops::{Op, ScriptRef};
use crate::{Analysis, Context, Lang};

/// Shared state of one inspection: the operations found so far, the scripts
/// referenced, and how deep the current nested code sits.
pub struct Collector<'a> {
    pub ctx: &'a Context,
    ops: Vec<Op>,
    scripts: Vec<ScriptRef>,
    depth: usize,
    /// Paths this code writes, so that running one of them later in the same
    /// code is known to run freshly written (uninspectable) content.
    written: Vec<String>,
    /// All code text handed to `nested`, to tell code written out in the
    /// proposal from code produced by decoding or joining at run time.
    seen_text: String,
}

impl<'a> Collector<'a> {
    pub fn new(ctx: &'a Context) -> Self {
        Collector {
            ctx,
            ops: Vec::new(),
            scripts: Vec::new(),
            depth: 0,
            written: Vec::new(),
            seen_text: String::new(),
        }
    }

    /// Inspect nested code (the top level, `bash -c`, `python -c`, SQL in
    /// `psql -c`, ...). Past the depth limit the code is opaque.
    pub fn nested(&mut self, lang: Lang, code: &str, cwd: &str, database: Option<&str>) {
        if self.depth >= self.ctx.max_depth {
            self.push(Op::opaque(format!(
                "code nested deeper than {} levels",
                self.ctx.max_depth
            )));
            return;
        }
        self.depth += 1;
        self.seen_text.push_str(code);
        self.seen_text.push('\n');
        match lang {
            Lang::Bash | Lang::Sh => crate::bash::analyze(self, code, cwd, lang),
            Lang::Python => crate::python::analyze(self, code, cwd),
            Lang::Sql => crate::sql::analyze(self, code, database),
        }
        self.depth -= 1;
    }

    pub fn depth(&self) -> usize {
        self.depth
    }

    pub fn push(&mut self, op: Op) {
        if let Op::FileWrite { path } = &op {
            self.written.push(path.path.clone());
        }
        if !self.ops.contains(&op) {
            self.ops.push(op);
        }
    }

    /// Record that the code runs a script file. If the same code wrote that
    /// file first, its content is not knowable here: opaque.
    pub fn script(&mut self, path: String, lang: Lang) {
        if self.written.iter().any(|w| w == &path) {
            self.push(Op::opaque(format!(
                "runs {path}, which this code itself writes first"
            )));
            return;
        }
        let r = ScriptRef { path, lang };
        if !self.scripts.contains(&r) {
            self.scripts.push(r);
        }
    }

    /// True if this code already wrote `path` (exactly).
    pub fn was_written(&self, path: &str) -> bool {
        self.written.iter().any(|w| w == path)
    }

    /// Does this text appear verbatim in the code inspected so far?
    pub fn written_out(&self, text: &str) -> bool {
        self.seen_text.contains(text)
    }

    pub fn finish(self) -> Analysis {
        Analysis {
            ops: self.ops,
            scripts: self.scripts,
        }
    }
}
