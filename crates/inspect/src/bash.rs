//! Bash/sh analyzer (brush-parser). Placeholder until written: opaque.
use crate::{Collector, Lang};
use crate::ops::Op;

pub fn analyze(c: &mut Collector, _code: &str, _cwd: &str, _lang: Lang) {
    c.push(Op::opaque("bash analyzer not built yet"));
}
