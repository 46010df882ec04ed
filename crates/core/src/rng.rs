//! Portable, explicit randomness.
//!
//! mirrorflow never uses a global or thread-local RNG: every stream of random numbers comes from
//! an [`Rng`] seeded through a [`SeedStream`]. The generator is xoshiro256++ seeded by splitmix64,
//! written out here so that results do not change when a third-party crate changes its algorithm.
//!
//! Seeds are derived from `(run seed, purpose, global index)`. An env keeps the same stream
//! whatever worker, thread or process it lands on, which is what makes results independent of
//! placement.
//!
//! ```
//! use mirrorflow_core::rng::{Rng, SeedStream};
//! let seeds = SeedStream::new(42);
//! let mut a = Rng::seed_from(seeds.env(3));
//! let mut b = Rng::seed_from(SeedStream::new(42).env(3));
//! assert_eq!(a.next_u64(), b.next_u64());
//! assert_ne!(seeds.env(3), seeds.env(4));
//! ```

use serde::{Deserialize, Serialize};

/// One step of the splitmix64 sequence: a strong 64-bit mixer.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes a sequence of words into one well-distributed 64-bit value.
pub fn mix(words: &[u64]) -> u64 {
    let mut state = 0x6A09_E667_F3BC_C908u64;
    let mut out = 0u64;
    for &w in words {
        state ^= w;
        out = splitmix64(&mut state);
        state = out;
    }
    out
}

/// xoshiro256++ pseudo-random generator. Small, fast, and its state can be saved in a
/// checkpoint ([`Rng::state`], [`Rng::from_state`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose whole state is derived from `seed` by splitmix64.
    pub fn seed_from(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Self { s }
    }

    /// The raw state, for checkpoints.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// Rebuilds a generator from [`Rng::state`]. An all-zero state is replaced by a fixed one
    /// (xoshiro must not be all zero).
    pub fn from_state(s: [u64; 4]) -> Self {
        if s == [0; 4] {
            Self::seed_from(0)
        } else {
            Self { s }
        }
    }

    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = (self.s[0].wrapping_add(self.s[3]))
            .rotate_left(23)
            .wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[low, high)`.
    #[inline]
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }

    /// Uniform integer in `0..n` (unbiased, Lemire's method). `n` must be positive.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below needs a positive bound");
        let mut m = (self.next_u64() as u128) * (n as u128);
        let mut low = m as u64;
        if low < n {
            let threshold = n.wrapping_neg() % n;
            while low < threshold {
                m = (self.next_u64() as u128) * (n as u128);
                low = m as u64;
            }
        }
        (m >> 64) as u64
    }

    /// Standard normal draw (Box–Muller; one draw per call, no cached pair, so the state is
    /// exactly the xoshiro state).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// `true` with probability `p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// Draws an index from the (unnormalised, non-negative) weights.
    pub fn categorical(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut u = self.next_f64() * total;
        for (i, &w) in weights.iter().enumerate() {
            if u < w {
                return i;
            }
            u -= w;
        }
        // Rounding left u at or just above the last weight: return the last positive entry.
        weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            xs.swap(i, j);
        }
    }
}

/// Derives independent seeds from one run seed. Each purpose has its own tag so that, e.g., the
/// env stream of env 3 never equals the policy stream of env 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedStream {
    run_seed: u64,
}

const TAG_ENV: u64 = 0x0065_6e76; // "env"
const TAG_POLICY: u64 = 0x0070_6f6c; // "pol"
const TAG_LEARNER: u64 = 0x006c_6561; // "lea"
const TAG_EVAL: u64 = 0x0065_7661; // "eva"
const TAG_MODEL: u64 = 0x006d_6f64; // "mod"

impl SeedStream {
    /// A stream for the run seed.
    pub fn new(run_seed: u64) -> Self {
        Self { run_seed }
    }

    /// The run seed this stream was made from.
    pub fn run_seed(&self) -> u64 {
        self.run_seed
    }

    /// Seed of the env with this *global* index (the index across all workers and processes).
    pub fn env(&self, global_env: u64) -> u64 {
        mix(&[self.run_seed, TAG_ENV, global_env])
    }

    /// Seed of the acting randomness (exploration) of the env with this global index.
    pub fn policy(&self, global_env: u64) -> u64 {
        mix(&[self.run_seed, TAG_POLICY, global_env])
    }

    /// Seed of the learner's own randomness (minibatches, noise).
    pub fn learner(&self) -> u64 {
        mix(&[self.run_seed, TAG_LEARNER, 0])
    }

    /// Seed of evaluation episode `i`.
    pub fn eval(&self, i: u64) -> u64 {
        mix(&[self.run_seed, TAG_EVAL, i])
    }

    /// Seed for a purpose not listed above, keyed by a caller-chosen tag.
    pub fn custom(&self, tag: u64, index: u64) -> u64 {
        mix(&[self.run_seed, TAG_MODEL ^ tag, index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_reference_vector() {
        // xoshiro256++ with state (1, 2, 3, 4): first outputs from the reference C code.
        let mut r = Rng::from_state([1, 2, 3, 4]);
        assert_eq!(r.next_u64(), 41943041);
        assert_eq!(r.next_u64(), 58720359);
        assert_eq!(r.next_u64(), 3588806011781223);
    }

    #[test]
    fn uniform_moments() {
        let mut r = Rng::seed_from(1);
        let n = 200_000;
        let mean: f64 = (0..n).map(|_| r.next_f64()).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "{mean}");
        let z: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let m = z.iter().sum::<f64>() / n as f64;
        let v = z.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.01 && (v - 1.0).abs() < 0.02, "{m} {v}");
    }

    #[test]
    fn below_is_in_range_and_covers() {
        let mut r = Rng::seed_from(3);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            seen[r.below(7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
    }

    #[test]
    fn categorical_follows_weights() {
        let mut r = Rng::seed_from(5);
        let w = [0.0, 1.0, 3.0];
        let mut c = [0u32; 3];
        for _ in 0..40_000 {
            c[r.categorical(&w)] += 1;
        }
        assert_eq!(c[0], 0);
        let frac = c[2] as f64 / 40_000.0;
        assert!((frac - 0.75).abs() < 0.01, "{frac}");
    }

    #[test]
    fn seed_streams_are_distinct() {
        let s = SeedStream::new(0);
        assert_ne!(s.env(0), s.policy(0));
        assert_ne!(s.env(0), SeedStream::new(1).env(0));
    }
}
