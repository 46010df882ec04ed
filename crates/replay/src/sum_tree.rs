//! Sum and min trees over a fixed number of leaves (prioritized replay's index).
//!
//! An implicit binary tree in one array: node `i` has children `2i` and `2i + 1`, the leaves sit
//! at `size..2·size` (`size` a power of two). `set` is `O(log n)`; [`SumTree::find`] walks down
//! from the root to the leaf whose prefix-sum interval holds the query.

/// Sums of leaf values, with prefix-sum search.
#[derive(Clone, Debug)]
pub struct SumTree {
    size: usize,
    nodes: Vec<f64>,
}

impl SumTree {
    /// `leaves` zero leaves.
    pub fn new(leaves: usize) -> Self {
        let size = leaves.max(1).next_power_of_two();
        Self {
            size,
            nodes: vec![0.0; 2 * size],
        }
    }

    /// Sets leaf `i` to `value` (≥ 0).
    pub fn set(&mut self, i: usize, value: f64) {
        let mut k = self.size + i;
        self.nodes[k] = value;
        while k > 1 {
            k /= 2;
            self.nodes[k] = self.nodes[2 * k] + self.nodes[2 * k + 1];
        }
    }

    /// Leaf `i`.
    pub fn get(&self, i: usize) -> f64 {
        self.nodes[self.size + i]
    }

    /// Sum of all leaves.
    pub fn total(&self) -> f64 {
        self.nodes[1]
    }

    /// The leaf `i` with `Σ_{j<i} v_j ≤ u < Σ_{j≤i} v_j`, for `0 ≤ u < total`; queries at or past
    /// the total (rounding) land on the last positive leaf.
    pub fn find(&self, mut u: f64) -> usize {
        let mut k = 1;
        while k < self.size {
            let left = self.nodes[2 * k];
            if u < left || self.nodes[2 * k + 1] <= 0.0 {
                k *= 2;
            } else {
                u -= left;
                k = 2 * k + 1;
            }
        }
        k - self.size
    }
}

/// Minimum of leaf values (leaves never set count as +∞).
#[derive(Clone, Debug)]
pub struct MinTree {
    size: usize,
    nodes: Vec<f64>,
}

impl MinTree {
    /// `leaves` unset leaves.
    pub fn new(leaves: usize) -> Self {
        let size = leaves.max(1).next_power_of_two();
        Self {
            size,
            nodes: vec![f64::INFINITY; 2 * size],
        }
    }

    /// Sets leaf `i`.
    pub fn set(&mut self, i: usize, value: f64) {
        let mut k = self.size + i;
        self.nodes[k] = value;
        while k > 1 {
            k /= 2;
            self.nodes[k] = self.nodes[2 * k].min(self.nodes[2 * k + 1]);
        }
    }

    /// Smallest leaf.
    pub fn min(&self) -> f64 {
        self.nodes[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// find agrees with a linear scan of the prefix sums; total and min are exact.
        #[test]
        fn find_matches_a_linear_scan(values in proptest::collection::vec(0.0f64..10.0, 1..70),
                                      fractions in proptest::collection::vec(0.0f64..1.0, 1..20)) {
            let mut sum = SumTree::new(values.len());
            let mut min = MinTree::new(values.len());
            for (i, v) in values.iter().enumerate() {
                sum.set(i, *v);
                min.set(i, *v);
            }
            let total: f64 = values.iter().sum();
            prop_assert!((sum.total() - total).abs() <= 1e-9 * total.max(1.0));
            prop_assert_eq!(min.min(), values.iter().cloned().fold(f64::INFINITY, f64::min));
            if total > 0.0 {
                for f in fractions {
                    let u = f * sum.total();
                    let i = sum.find(u);
                    prop_assert!(values[i] > 0.0, "landed on an empty leaf");
                    let before: f64 = values[..i].iter().sum();
                    // tolerance for the different summation order
                    prop_assert!(before <= u + 1e-9 && u < before + values[i] + 1e-9);
                }
            }
        }
    }

    #[test]
    fn queries_at_the_total_land_on_the_last_positive_leaf() {
        let mut t = SumTree::new(5);
        for (i, v) in [1.0, 0.0, 2.0, 0.0, 0.0].into_iter().enumerate() {
            t.set(i, v);
        }
        assert_eq!(t.find(t.total()), 2);
        assert_eq!(t.find(0.999), 0);
        assert_eq!(t.find(1.0), 2);
    }
}
