//! Observation and action spaces (gymnasium semantics).
//!
//! Every element of every space is carried as a flat `&[f32]` of length [`Space::flat_dim`]:
//! a discrete value is one float holding the integer (exact below 2^24), a `Box` is its values in
//! row-major order. This keeps batches as plain struct-of-arrays that cross threads and processes
//! as raw bytes.

use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Element type of a [`Space::Box`], as gymnasium declares it. Values are carried as `f32`
/// whatever the dtype; the dtype says what the env promises (integers stay exact below 2^24).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// 32-bit float.
    Float32,
    /// 64-bit float (carried as f32 in batches).
    Float64,
    /// 64-bit signed integer.
    Int64,
    /// 8-bit unsigned integer (images).
    Uint8,
}

/// A set of valid observations or actions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Space {
    /// `{start, ..., start + n - 1}`.
    Discrete {
        /// Number of values.
        n: u64,
        /// Smallest value (gymnasium's `start`, usually 0).
        start: i64,
    },
    /// A box `low <= x <= high` of the given shape; bounds may be infinite.
    Box {
        /// Lower bounds, flattened (one per element).
        low: Vec<f32>,
        /// Upper bounds, flattened.
        high: Vec<f32>,
        /// Shape, e.g. `[3]` or `[84, 84, 3]`.
        shape: Vec<usize>,
        /// Declared element type.
        dtype: Dtype,
    },
    /// A vector of discrete values, element `i` in `0..nvec[i]`.
    MultiDiscrete {
        /// Number of values per element.
        nvec: Vec<u64>,
    },
    /// A vector of `n` bits.
    MultiBinary {
        /// Number of bits.
        n: usize,
    },
}

impl Space {
    /// `Discrete(n)` starting at 0.
    pub fn discrete(n: u64) -> Self {
        Space::Discrete { n, start: 0 }
    }

    /// A float32 box with per-element bounds.
    pub fn boxed(low: Vec<f32>, high: Vec<f32>) -> Self {
        assert_eq!(low.len(), high.len(), "box bounds must have equal length");
        let shape = vec![low.len()];
        Space::Box {
            low,
            high,
            shape,
            dtype: Dtype::Float32,
        }
    }

    /// Number of floats one element occupies.
    pub fn flat_dim(&self) -> usize {
        match self {
            Space::Discrete { .. } => 1,
            Space::Box { low, .. } => low.len(),
            Space::MultiDiscrete { nvec } => nvec.len(),
            Space::MultiBinary { n } => *n,
        }
    }

    /// Number of discrete values, for `Discrete` spaces.
    pub fn discrete_n(&self) -> Option<u64> {
        match self {
            Space::Discrete { n, .. } => Some(*n),
            _ => None,
        }
    }

    /// Whether `x` (flattened) is an element of the space. NaN is never contained.
    pub fn contains(&self, x: &[f32]) -> bool {
        if x.len() != self.flat_dim() {
            return false;
        }
        let is_int = |v: f32| v.is_finite() && v.fract() == 0.0;
        match self {
            Space::Discrete { n, start } => {
                let v = x[0];
                is_int(v) && (v as i64) >= *start && ((v as i64 - start) as u64) < *n
            }
            Space::Box {
                low, high, dtype, ..
            } => x.iter().zip(low.iter().zip(high)).all(|(&v, (&l, &h))| {
                !v.is_nan()
                    && v >= l
                    && v <= h
                    && (matches!(dtype, Dtype::Float32 | Dtype::Float64) || is_int(v))
            }),
            Space::MultiDiscrete { nvec } => x
                .iter()
                .zip(nvec)
                .all(|(&v, &n)| is_int(v) && v >= 0.0 && (v as u64) < n),
            Space::MultiBinary { .. } => x.iter().all(|&v| v == 0.0 || v == 1.0),
        }
    }

    /// Writes a uniform random element into `out` (length [`Space::flat_dim`]). Unbounded box
    /// coordinates are drawn from a standard normal, half-bounded ones from a shifted exponential,
    /// as gymnasium does.
    pub fn sample_into(&self, rng: &mut Rng, out: &mut [f32]) {
        match self {
            Space::Discrete { n, start } => out[0] = (*start + rng.below(*n) as i64) as f32,
            Space::Box {
                low, high, dtype, ..
            } => {
                for ((o, &l), &h) in out.iter_mut().zip(low).zip(high) {
                    let v = match (l.is_finite(), h.is_finite()) {
                        (true, true) => rng.uniform(l as f64, h as f64),
                        (true, false) => l as f64 - (1.0 - rng.next_f64()).ln(),
                        (false, true) => h as f64 + (1.0 - rng.next_f64()).ln(),
                        (false, false) => rng.normal(),
                    };
                    let v = if matches!(dtype, Dtype::Int64 | Dtype::Uint8) {
                        v.floor()
                    } else {
                        v
                    };
                    *o = (v as f32).clamp(l, h);
                }
            }
            Space::MultiDiscrete { nvec } => {
                for (o, &n) in out.iter_mut().zip(nvec) {
                    *o = rng.below(n) as f32;
                }
            }
            Space::MultiBinary { .. } => {
                for o in out.iter_mut() {
                    *o = (rng.next_u64() & 1) as f32;
                }
            }
        }
    }
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Space::Discrete { n, start: 0 } => write!(f, "Discrete({n})"),
            Space::Discrete { n, start } => write!(f, "Discrete({n}, start={start})"),
            Space::Box {
                low,
                high,
                shape,
                dtype,
            } => {
                let same = |v: &[f32]| {
                    v.windows(2)
                        .all(|w| w[0] == w[1] || (w[0].is_nan() && w[1].is_nan()))
                };
                if !low.is_empty() && same(low) && same(high) {
                    write!(f, "Box({}, {}, {shape:?}, {dtype:?})", low[0], high[0])
                } else {
                    write!(f, "Box({low:?}, {high:?}, {shape:?}, {dtype:?})")
                }
            }
            Space::MultiDiscrete { nvec } => write!(f, "MultiDiscrete({nvec:?})"),
            Space::MultiBinary { n } => write!(f, "MultiBinary({n})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{any, prop_assert, proptest};

    fn spaces() -> Vec<Space> {
        vec![
            Space::discrete(4),
            Space::Discrete { n: 3, start: -1 },
            Space::boxed(vec![-1.0, 0.0], vec![1.0, 5.0]),
            Space::boxed(vec![f32::NEG_INFINITY; 3], vec![f32::INFINITY; 3]),
            Space::boxed(vec![0.0], vec![f32::INFINITY]),
            Space::MultiDiscrete {
                nvec: vec![2, 5, 3],
            },
            Space::MultiBinary { n: 4 },
        ]
    }

    proptest! {
        #[test]
        fn samples_are_contained(seed in any::<u64>()) {
            let mut rng = Rng::seed_from(seed);
            for s in spaces() {
                let mut x = vec![0.0; s.flat_dim()];
                s.sample_into(&mut rng, &mut x);
                prop_assert!(s.contains(&x), "{s}: {x:?}");
            }
        }
    }

    #[test]
    fn rejects_outside_and_nan() {
        let d = Space::discrete(2);
        assert!(!d.contains(&[2.0]));
        assert!(!d.contains(&[0.5]));
        assert!(!d.contains(&[f32::NAN]));
        assert!(!d.contains(&[0.0, 1.0]));
        let b = Space::boxed(vec![-2.0], vec![2.0]);
        assert!(b.contains(&[2.0]));
        assert!(!b.contains(&[2.1]));
        assert!(!b.contains(&[f32::NAN]));
        assert!(!Space::MultiBinary { n: 1 }.contains(&[0.5]));
    }

    #[test]
    fn display_is_readable() {
        assert_eq!(Space::discrete(2).to_string(), "Discrete(2)");
        assert_eq!(
            Space::boxed(vec![-2.0], vec![2.0]).to_string(),
            "Box(-2, 2, [1], Float32)"
        );
    }
}
