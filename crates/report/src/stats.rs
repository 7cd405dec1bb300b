//! Bounded-memory accumulators: quantiles that are exact for small samples and
//! histogram estimates beyond, a heavy-hitters list (Space-Saving) for open-ended keys,
//! and a capped map for keys from small sets.

use std::collections::HashMap;

use crate::text::{MAX_TEXT_CHARS, clip};

/// Sub-buckets per power of two in [`Hist`]: 16 bound the relative error of an
/// estimate to 1/32 (about 3%) on either side of the true value.
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;

/// A log-linear histogram of non-negative integers (milliseconds here): values below
/// 16 have their own bucket; above, each power of two is split into 16 equal buckets.
/// Its size is bounded by the largest value seen (at most 1,000 buckets for `u64`).
#[derive(Debug, Clone, Default)]
pub struct Hist {
    buckets: Vec<u64>,
    n: u64,
}

fn bucket_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= SUB_BITS
    let sub = (v >> (exp - SUB_BITS)) & (SUB - 1);
    (SUB + u64::from(exp - SUB_BITS) * SUB + sub) as usize
}

/// The smallest and the largest value of a bucket.
fn bucket_bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, i);
    }
    let exp = (i - SUB) / SUB + u64::from(SUB_BITS);
    let sub = (i - SUB) % SUB;
    let width = 1u64 << (exp - u64::from(SUB_BITS));
    let low = (1u64 << exp) + sub * width;
    (low, low + (width - 1))
}

impl Hist {
    pub fn add(&mut self, v: u64) {
        let i = bucket_of(v);
        if self.buckets.len() <= i {
            self.buckets.resize(i + 1, 0);
        }
        self.buckets[i] += 1;
        self.n += 1;
    }

    /// The nearest-rank `q` quantile, as the middle of its bucket.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, &c) in self.buckets.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, hi) = bucket_bounds(i);
                return Some((lo as f64 + hi as f64) / 2.0);
            }
        }
        None
    }
}

/// Quantiles of a stream of durations in milliseconds: exact (linear interpolation
/// between the closest ranks) while at most `exact_cap` values have been seen, then
/// estimated from a [`Hist`] (within about 3%).
#[derive(Debug, Clone)]
pub struct Quantiles {
    exact: Vec<f64>,
    exact_cap: usize,
    hist: Hist,
    n: u64,
}

impl Quantiles {
    pub fn new(exact_cap: usize) -> Quantiles {
        Quantiles {
            exact: Vec::new(),
            exact_cap,
            hist: Hist::default(),
            n: 0,
        }
    }

    pub fn add(&mut self, ms: f64) {
        if !ms.is_finite() || ms < 0.0 {
            return;
        }
        self.n += 1;
        self.hist.add(ms.round() as u64);
        if self.n as usize <= self.exact_cap {
            self.exact.push(ms);
        } else if !self.exact.is_empty() {
            self.exact = Vec::new();
        }
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    /// Whether [`Quantiles::quantile`] is exact.
    pub fn is_exact(&self) -> bool {
        self.n as usize <= self.exact_cap
    }

    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        if !self.is_exact() {
            return self.hist.quantile(q);
        }
        let mut v = self.exact.clone();
        v.sort_by(f64::total_cmp);
        let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
    }
}

/// One key of a [`TopK`]: its counted hits, the overestimate it may carry (hits of
/// keys it replaced), and what the caller keeps about it.
#[derive(Debug, Clone)]
pub struct Slot<V> {
    pub count: u64,
    pub error: u64,
    pub value: V,
}

/// The most frequent keys of an open-ended stream in bounded memory, by the
/// Space-Saving algorithm (Metwally, Agrawal, El Abbadi, 2005): at most `cap` keys are
/// kept; a new key replaces the least counted one and inherits its count as a
/// possible overestimate (`error`). Every key with more than n/cap hits is kept, and
/// every kept count is at most `error` too high. Keys are clipped to
/// [`MAX_TEXT_CHARS`] characters.
#[derive(Debug, Clone)]
pub struct TopK<V> {
    cap: usize,
    slots: HashMap<String, Slot<V>>,
}

impl<V: Default> TopK<V> {
    pub fn new(cap: usize) -> TopK<V> {
        TopK {
            cap: cap.max(1),
            slots: HashMap::new(),
        }
    }

    /// Counts one hit of `key` and returns what is kept about it.
    pub fn hit(&mut self, key: &str) -> &mut V {
        let key = clip(key, MAX_TEXT_CHARS);
        if !self.slots.contains_key(&key) && self.slots.len() >= self.cap {
            let (victim, floor) = self
                .slots
                .iter()
                .min_by(|a, b| a.1.count.cmp(&b.1.count).then_with(|| b.0.cmp(a.0)))
                .map(|(k, s)| (k.clone(), s.count))
                .expect("a full list has a least counted key");
            self.slots.remove(&victim);
            self.slots.insert(
                key.clone(),
                Slot {
                    count: floor,
                    error: floor,
                    value: V::default(),
                },
            );
        }
        let slot = self.slots.entry(key).or_insert_with(|| Slot {
            count: 0,
            error: 0,
            value: V::default(),
        });
        slot.count += 1;
        &mut slot.value
    }

    /// The kept keys, most counted first (ties by key).
    pub fn sorted(&self) -> Vec<(&str, &Slot<V>)> {
        let mut v: Vec<_> = self.slots.iter().map(|(k, s)| (k.as_str(), s)).collect();
        v.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
        v
    }
}

/// Counters for keys from a small set (categories, people): exact for the first `cap`
/// distinct keys, after which new keys share one overflow entry.
#[derive(Debug, Clone)]
pub struct Capped<V> {
    cap: usize,
    map: HashMap<String, V>,
    overflow: Option<V>,
}

impl<V: Default> Capped<V> {
    pub fn new(cap: usize) -> Capped<V> {
        Capped {
            cap,
            map: HashMap::new(),
            overflow: None,
        }
    }

    pub fn get(&mut self, key: &str) -> &mut V {
        let key = clip(key, MAX_TEXT_CHARS);
        if self.map.contains_key(&key) || self.map.len() < self.cap {
            self.map.entry(key).or_default()
        } else {
            self.overflow.get_or_insert_with(V::default)
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// What the keys past the cap added up to, if any came.
    pub fn overflow(&self) -> Option<&V> {
        self.overflow.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_values_without_gaps() {
        let mut expect_low = 0u64;
        for i in 0..600 {
            let (lo, hi) = bucket_bounds(i);
            assert_eq!(lo, expect_low, "bucket {i}");
            assert!(hi >= lo);
            assert_eq!(bucket_of(lo), i);
            assert_eq!(bucket_of(hi), i);
            expect_low = hi + 1;
        }
        assert_eq!(bucket_of(u64::MAX), bucket_of(u64::MAX - 1));
    }

    #[test]
    fn hist_estimates_within_a_few_percent() {
        let mut h = Hist::default();
        for v in 1..=10_000u64 {
            h.add(v * 7);
        }
        let med = h.quantile(0.5).unwrap();
        assert!((med - 35_000.0).abs() / 35_000.0 < 0.035, "{med}");
        let p90 = h.quantile(0.9).unwrap();
        assert!((p90 - 63_000.0).abs() / 63_000.0 < 0.035, "{p90}");
        assert_eq!(Hist::default().quantile(0.5), None);
    }

    #[test]
    fn quantiles_exact_then_estimated() {
        let mut q = Quantiles::new(4);
        for v in [4000.0, 1000.0, 3000.0, 2000.0] {
            q.add(v);
        }
        assert!(q.is_exact());
        assert_eq!(q.quantile(0.5), Some(2500.0));
        assert_eq!(q.quantile(0.9), Some(3700.0));
        q.add(5000.0);
        assert!(!q.is_exact());
        let med = q.quantile(0.5).unwrap();
        assert!((med - 3000.0).abs() < 100.0, "{med}");
        q.add(f64::NAN);
        q.add(-1.0);
        assert_eq!(q.count(), 5);
    }

    #[test]
    fn topk_keeps_heavy_hitters_with_bounded_error() {
        let mut t: TopK<u64> = TopK::new(4);
        for i in 0..1000 {
            for _ in 0..3 {
                *t.hit("heavy") += 1;
            }
            for _ in 0..2 {
                *t.hit("medium") += 1;
            }
            // A stream of distinct one-off keys.
            *t.hit(&format!("noise-{i}")) += 1;
        }
        let s = t.sorted();
        assert_eq!(s.len(), 4);
        assert_eq!(
            (s[0].0, s[0].1.count, s[0].1.error, s[0].1.value),
            ("heavy", 3000, 0, 3000)
        );
        assert_eq!(
            (s[1].0, s[1].1.count, s[1].1.error, s[1].1.value),
            ("medium", 2000, 0, 2000)
        );
        // The one-off keys share the remaining slots, with their inherited overestimates.
        for (k, slot) in &s[2..] {
            assert!(k.starts_with("noise-"));
            assert_eq!(slot.value, 1);
            assert_eq!(slot.count, slot.error + 1);
        }
    }

    #[test]
    fn capped_overflows_into_one_entry() {
        let mut c: Capped<u64> = Capped::new(2);
        *c.get("a") += 1;
        *c.get("b") += 1;
        *c.get("c") += 1;
        *c.get("d") += 2;
        *c.get("a") += 1;
        let mut v: Vec<_> = c.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        v.sort();
        assert_eq!(v, vec![("a".to_string(), 2), ("b".to_string(), 1)]);
        assert_eq!(c.overflow(), Some(&3));
    }
}
