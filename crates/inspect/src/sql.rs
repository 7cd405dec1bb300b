//! SQL analyzer (sqlparser). Placeholder until written: opaque.
use crate::Collector;
use crate::ops::Op;

pub fn analyze(c: &mut Collector, _code: &str, _database: Option<&str>) {
    c.push(Op::opaque("sql analyzer not built yet"));
}
