//! Python analyzer (ruff_python_parser). Placeholder until written: opaque.
use crate::Collector;
use crate::ops::Op;

pub fn analyze(c: &mut Collector, _code: &str, _cwd: &str) {
    c.push(Op::opaque("python analyzer not built yet"));
}
