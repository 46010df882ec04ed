//! The replay buffer: a preallocated struct-of-arrays ring, sampled uniformly or in proportion
//! to priorities.
//!
//! Storage is one flat array per field (observations `capacity × obs_dim`, …), allocated once;
//! inserting overwrites the oldest rows. Sampling is with replacement and driven by the buffer's
//! own seeded generator, so the same inserts and seed give the same batches.
//!
//! Prioritized sampling (Schaul et al. 2016, proportional variant): slot `i` holds `p_i^α` in a
//! sum tree; a batch of `B` draws one slot from each of `B` equal slices of the total
//! (stratified); weights are `w_i = (N P(i))^{−β} / max_j w_j` with the maximum taken over the
//! whole buffer (the smallest priority). New rows get the largest priority seen so far, so each
//! is likely sampled at least once.

use crate::ReplayError;
use crate::sum_tree::{MinTree, SumTree};
use mirrorflow_core::{PrioritySpec, ReplaySpec, Rng, SampledBatch, TransitionBatch};

struct Priorities {
    spec: PrioritySpec,
    sum: SumTree,
    min: MinTree,
    max_priority: f64,
}

/// Experience replay; see the module docs.
pub struct Replay {
    spec: ReplaySpec,
    obs_dim: usize,
    act_dim: usize,
    env_ids: Vec<u32>,
    obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    next_obs: Vec<f32>,
    terminated: Vec<u8>,
    truncated: Vec<u8>,
    discounts: Vec<f32>,
    len: usize,
    cursor: usize,
    inserted: u64,
    rng: Rng,
    priorities: Option<Priorities>,
}

impl Replay {
    /// An empty buffer for rows of `obs_dim` / `act_dim` floats, sampling with `seed`.
    pub fn new(
        spec: &ReplaySpec,
        obs_dim: usize,
        act_dim: usize,
        seed: u64,
    ) -> Result<Self, ReplayError> {
        spec.validate().map_err(ReplayError::Spec)?;
        let cap = spec.capacity;
        if cap > u32::MAX as usize {
            return Err(ReplayError::Spec(format!(
                "replay capacity = {cap}: at most {}",
                u32::MAX
            )));
        }
        Ok(Self {
            obs_dim,
            act_dim,
            env_ids: vec![0; cap],
            obs: vec![0.0; cap * obs_dim],
            actions: vec![0.0; cap * act_dim],
            rewards: vec![0.0; cap],
            next_obs: vec![0.0; cap * obs_dim],
            terminated: vec![0; cap],
            truncated: vec![0; cap],
            discounts: vec![0.0; cap],
            len: 0,
            cursor: 0,
            inserted: 0,
            rng: Rng::seed_from(seed),
            priorities: spec.prioritized.map(|p| Priorities {
                spec: p,
                sum: SumTree::new(cap),
                min: MinTree::new(cap),
                max_priority: 1.0,
            }),
            spec: spec.clone(),
        })
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Rows ever inserted.
    pub fn inserted(&self) -> u64 {
        self.inserted
    }

    /// Inserts every row of `batch`; `discounts` are the rows' bootstrap discounts (from
    /// [`crate::NStepAdder`]), `γ` for each row when `None`.
    pub fn insert(
        &mut self,
        batch: &TransitionBatch,
        discounts: Option<&[f32]>,
    ) -> Result<(), ReplayError> {
        if batch.is_empty() {
            return Ok(());
        }
        if batch.obs_dim != self.obs_dim || batch.act_dim != self.act_dim {
            return Err(ReplayError::Shape(format!(
                "rows of obs_dim {} / act_dim {} into a buffer of {} / {}",
                batch.obs_dim, batch.act_dim, self.obs_dim, self.act_dim
            )));
        }
        if let Some(d) = discounts
            && d.len() != batch.len()
        {
            return Err(ReplayError::Shape(format!(
                "{} discounts for {} rows",
                d.len(),
                batch.len()
            )));
        }
        let (od, ad) = (self.obs_dim, self.act_dim);
        for i in 0..batch.len() {
            let c = self.cursor;
            self.env_ids[c] = batch.env_ids.get(i).copied().unwrap_or(0);
            self.obs[c * od..(c + 1) * od].copy_from_slice(batch.obs_row(i));
            self.actions[c * ad..(c + 1) * ad].copy_from_slice(batch.action_row(i));
            self.rewards[c] = batch.rewards[i];
            self.next_obs[c * od..(c + 1) * od].copy_from_slice(batch.next_obs_row(i));
            self.terminated[c] = batch.terminated[i];
            self.truncated[c] = batch.truncated[i];
            self.discounts[c] = discounts.map_or(self.spec.gamma as f32, |d| d[i]);
            if let Some(p) = self.priorities.as_mut() {
                let v = p.max_priority.powf(p.spec.alpha);
                p.sum.set(c, v);
                p.min.set(c, v);
            }
            self.cursor = (c + 1) % self.spec.capacity;
            self.len = (self.len + 1).min(self.spec.capacity);
            self.inserted += 1;
        }
        Ok(())
    }

    /// Samples `batch_size` rows into `out` (its vectors are reused).
    pub fn sample(&mut self, out: &mut SampledBatch) -> Result<(), ReplayError> {
        if self.len == 0 {
            return Err(ReplayError::Empty);
        }
        let b = self.spec.batch_size;
        let (od, ad) = (self.obs_dim, self.act_dim);
        let o = &mut out.batch;
        o.clear();
        o.obs_dim = od;
        o.act_dim = ad;
        out.discounts.clear();
        out.weights.clear();
        out.slots.clear();
        match &self.priorities {
            None => {
                for _ in 0..b {
                    out.slots.push(self.rng.below(self.len as u64) as u32);
                    out.weights.push(1.0);
                }
            }
            Some(p) => {
                let total = p.sum.total();
                let segment = total / b as f64;
                let n = self.len as f64;
                // the largest weight belongs to the smallest priority
                let max_w = (n * p.min.min() / total).powf(-p.spec.beta);
                for j in 0..b {
                    let u = (j as f64 + self.rng.next_f64()) * segment;
                    let slot = p.sum.find(u).min(self.len - 1);
                    let prob = p.sum.get(slot) / total;
                    out.slots.push(slot as u32);
                    out.weights
                        .push(((n * prob).powf(-p.spec.beta) / max_w) as f32);
                }
            }
        }
        for &s in &out.slots {
            let s = s as usize;
            o.env_ids.push(self.env_ids[s]);
            o.obs.extend_from_slice(&self.obs[s * od..(s + 1) * od]);
            o.actions
                .extend_from_slice(&self.actions[s * ad..(s + 1) * ad]);
            o.rewards.push(self.rewards[s]);
            o.next_obs
                .extend_from_slice(&self.next_obs[s * od..(s + 1) * od]);
            o.terminated.push(self.terminated[s]);
            o.truncated.push(self.truncated[s]);
            out.discounts.push(self.discounts[s]);
        }
        Ok(())
    }

    /// Sets the priorities of sampled slots from their TD errors: `p = |δ| + ε`. A no-op for
    /// uniform replay.
    pub fn update_priorities(
        &mut self,
        slots: &[u32],
        td_errors: &[f64],
    ) -> Result<(), ReplayError> {
        let Some(p) = self.priorities.as_mut() else {
            return Ok(());
        };
        if slots.len() != td_errors.len() {
            return Err(ReplayError::Shape(format!(
                "{} TD errors for {} slots",
                td_errors.len(),
                slots.len()
            )));
        }
        for (&s, &d) in slots.iter().zip(td_errors) {
            let s = s as usize;
            if s >= self.len {
                return Err(ReplayError::Shape(format!(
                    "slot {s} is not filled (the buffer holds {})",
                    self.len
                )));
            }
            if !d.is_finite() {
                return Err(ReplayError::NonFinite { slot: s, value: d });
            }
            let pr = d.abs() + p.spec.epsilon;
            p.max_priority = p.max_priority.max(pr);
            let v = pr.powf(p.spec.alpha);
            p.sum.set(s, v);
            p.min.set(s, v);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(capacity: usize, batch: usize, prioritized: Option<PrioritySpec>) -> ReplaySpec {
        ReplaySpec {
            capacity,
            batch_size: batch,
            n_step: 1,
            gamma: 0.99,
            prioritized,
        }
    }

    /// Rows whose observation is their insertion number.
    fn rows(from: usize, count: usize) -> TransitionBatch {
        let mut b = TransitionBatch {
            obs_dim: 1,
            act_dim: 1,
            ..Default::default()
        };
        for k in from..from + count {
            b.env_ids.push(0);
            b.obs.push(k as f32);
            b.actions.push(k as f32 * 10.0);
            b.rewards.push(k as f32 * 100.0);
            b.next_obs.push(k as f32 + 1.0);
            b.terminated.push((k % 2) as u8);
            b.truncated.push(0);
        }
        b
    }

    #[test]
    fn the_ring_keeps_the_newest_rows_whole() {
        let mut r = Replay::new(&spec(5, 64, None), 1, 1, 3).unwrap();
        r.insert(&rows(0, 8), None).unwrap();
        assert_eq!((r.len(), r.inserted()), (5, 8));
        let mut out = SampledBatch::default();
        r.sample(&mut out).unwrap();
        assert_eq!(out.batch.len(), 64);
        for i in 0..64 {
            let k = out.batch.obs[i];
            assert!((3.0..8.0).contains(&k), "row {k} was overwritten");
            assert_eq!(out.batch.actions[i], k * 10.0);
            assert_eq!(out.batch.rewards[i], k * 100.0);
            assert_eq!(out.batch.next_obs[i], k + 1.0);
            assert_eq!(out.batch.terminated[i], (k as usize % 2) as u8);
            assert_eq!((out.discounts[i], out.weights[i]), (0.99, 1.0));
        }
        // same seed, same inserts: same batches
        let mut again = Replay::new(&spec(5, 64, None), 1, 1, 3).unwrap();
        again.insert(&rows(0, 8), None).unwrap();
        let mut out2 = SampledBatch::default();
        again.sample(&mut out2).unwrap();
        assert_eq!(out, out2);
    }

    #[test]
    fn uniform_sampling_is_uniform() {
        let mut r = Replay::new(&spec(10, 1000, None), 1, 1, 1).unwrap();
        r.insert(&rows(0, 10), None).unwrap();
        let mut counts = [0u32; 10];
        let mut out = SampledBatch::default();
        for _ in 0..100 {
            r.sample(&mut out).unwrap();
            for &s in &out.slots {
                counts[s as usize] += 1;
            }
        }
        // 100 000 draws, 10 000 expected per slot, sd ≈ 95
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn prioritized_sampling_follows_priorities_and_weights_correct_for_it() {
        let p = PrioritySpec {
            alpha: 0.6,
            beta: 0.4,
            epsilon: 1e-6,
        };
        let mut r = Replay::new(&spec(8, 400, Some(p)), 1, 1, 5).unwrap();
        r.insert(&rows(0, 4), None).unwrap();
        let td = [1.0, 2.0, 4.0, 8.0];
        r.update_priorities(&[0, 1, 2, 3], &td).unwrap();
        let pri: Vec<f64> = td.iter().map(|d| (d + 1e-6f64).powf(0.6)).collect();
        let total: f64 = pri.iter().sum();
        let mut counts = [0u32; 4];
        let mut out = SampledBatch::default();
        for _ in 0..250 {
            r.sample(&mut out).unwrap();
            for (i, &s) in out.slots.iter().enumerate() {
                counts[s as usize] += 1;
                let prob = pri[s as usize] / total;
                let w = (4.0 * prob).powf(-0.4) / (4.0 * pri[0] / total).powf(-0.4);
                assert!(
                    (out.weights[i] as f64 - w).abs() < 1e-6,
                    "weight of slot {s}"
                );
            }
        }
        for k in 0..4 {
            let want = 100_000.0 * pri[k] / total;
            let got = counts[k] as f64;
            assert!(
                (got - want).abs() < 5.0 * want.sqrt() + 1.0,
                "slot {k}: {got} vs {want}"
            );
        }
        // the largest priority seen goes to new rows
        r.insert(&rows(4, 1), None).unwrap();
        let p = r.priorities.as_ref().unwrap();
        assert!((p.sum.get(4) - (8.0f64 + 1e-6).powf(0.6)).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_named() {
        let mut r = Replay::new(&spec(4, 2, None), 2, 1, 0).unwrap();
        let mut out = SampledBatch::default();
        assert!(matches!(r.sample(&mut out), Err(ReplayError::Empty)));
        let e = r.insert(&rows(0, 1), None).unwrap_err();
        assert!(e.to_string().contains("obs_dim 1"), "{e}");
        let e = Replay::new(&spec(0, 2, None), 1, 1, 0).err().unwrap();
        assert!(e.to_string().contains("capacity = 0"), "{e}");
        let p = PrioritySpec {
            alpha: 0.6,
            beta: 0.4,
            epsilon: 1e-6,
        };
        let mut r = Replay::new(&spec(4, 2, Some(p)), 1, 1, 0).unwrap();
        r.insert(&rows(0, 2), None).unwrap();
        assert!(
            r.update_priorities(&[3], &[1.0])
                .unwrap_err()
                .to_string()
                .contains("slot 3")
        );
        assert!(r.update_priorities(&[0], &[f64::NAN]).is_err());
    }
}
