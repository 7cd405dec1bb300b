//! RFC 6962 hashing over the records, kept as a frontier (the roots of the perfect
//! subtrees along the right edge), so appending and opening cost O(log n) at any size.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `SHA-256(0x00 ‖ record)`: the leaf prefix keeps leaves and nodes apart.
pub fn leaf_hash(record: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(record);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The right edge of the tree: one perfect-subtree root per set bit of `size`,
/// largest (leftmost) first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Rebuilds a frontier from its parts; `None` if they do not fit together.
    pub fn from_parts(size: u64, nodes: Vec<Hash>) -> Option<Frontier> {
        (nodes.len() == size.count_ones() as usize).then_some(Frontier { size, nodes })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut s = self.size;
        while s & 1 == 1 {
            let left = self.nodes.pop().expect("one node per set bit");
            h = node_hash(&left, &h);
            s >>= 1;
        }
        self.nodes.push(h);
        self.size += 1;
    }

    /// The tree head: `MTH(D[0:n]) = H(MTH(D[0:k]) ‖ MTH(D[k:n]))`, k the largest power
    /// of two below n, which folding the frontier from the right computes.
    pub fn root(&self) -> Hash {
        let mut it = self.nodes.iter().rev();
        match it.next() {
            None => empty_root(),
            Some(last) => it.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }
}

/// Root of the leaves `[start, end)` read through `leaf`, in O(end - start) time and
/// O(log) memory.
pub fn range_root(start: u64, end: u64, leaf: &mut dyn FnMut(u64) -> Hash) -> Hash {
    let mut f = Frontier::new();
    for i in start..end {
        f.push(leaf(i));
    }
    f.root()
}

/// The hashes of a consistency proof from size `old` to size `new` (`0 < old <= new`), in
/// the order ct-merkle's `ConsistencyProof::from_digests` expects. `leaf(i)` reads leaf i.
pub fn consistency_proof(old: u64, new: u64, leaf: &mut dyn FnMut(u64) -> Hash) -> Vec<Hash> {
    ct_merkle::indices_for_consistency_proof(old, new - old)
        .into_iter()
        .map(|idx| {
            // In-order array layout: a node's level is its count of trailing ones; it spans
            // 2^level leaves from its leftmost one, cut at the tree's edge.
            let level = idx.trailing_ones();
            let first = (idx >> (level + 1)) << level;
            let end = (first + (1u64 << level)).min(new);
            range_root(first, end, leaf)
        })
        .collect()
}

/// Checks with ct-merkle that the tree of `old_size` leaves with root `old_root` is a
/// prefix of the tree of `new_size` leaves with root `new_root`.
pub fn verify_consistency(
    old_size: u64,
    old_root: &Hash,
    new_size: u64,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    use ct_merkle::{ConsistencyProof, RootHash};
    if old_size == 0 || old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return old_root == new_root && proof.is_empty();
    }
    let digests: Vec<sha2::digest::Output<Sha256>> = proof.iter().map(|h| (*h).into()).collect();
    let proof = ConsistencyProof::<Sha256>::from_digests(digests.iter());
    let old = RootHash::<Sha256>::new((*old_root).into(), old_size);
    let new = RootHash::<Sha256>::new((*new_root).into(), new_size);
    new.verify_consistency(&old, &proof).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    /// RFC 6962 §2.1 written recursively, to check the frontier against.
    fn mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => d[0],
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    #[test]
    fn frontier_root_is_rfc6962() {
        let l = leaves(70);
        let mut f = Frontier::new();
        assert_eq!(f.root(), mth(&[]));
        for n in 1..=70 {
            f.push(l[n - 1]);
            assert_eq!(f.root(), mth(&l[..n]), "size {n}");
            assert_eq!(f.nodes().len(), n.count_ones() as usize);
        }
    }

    #[test]
    fn known_vector() {
        // transparency-dev test vector: the root of the empty tree.
        assert_eq!(
            crate::hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // Leaf of the empty string: SHA-256(0x00).
        assert_eq!(
            crate::hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn consistency_proofs_verify_with_ct_merkle() {
        let l = leaves(40);
        for new in 1..=40u64 {
            for old in 1..=new {
                let mut get = |i: u64| l[i as usize];
                let proof = consistency_proof(old, new, &mut get);
                let (ro, rn) = (mth(&l[..old as usize]), mth(&l[..new as usize]));
                assert!(
                    verify_consistency(old, &ro, new, &rn, &proof),
                    "{old} -> {new}"
                );
                if old < new {
                    let mut bad = ro;
                    bad[0] ^= 1;
                    assert!(!verify_consistency(old, &bad, new, &rn, &proof));
                }
            }
        }
    }
}
