//! Spec §10.4 in miniature: on the SEA stream with no noise and no switching (s = 0, K = ∞),
//! optimistic OMD (hint = last gradient, the convex step size) keeps its expected regret flat
//! in T. (Plain OGD with η_t = D/(G√t) is also flat on this strongly convex instance: 0.125 at
//! both T = 10³ and 10⁴, so the spec's "OGD grows" contrast needs a non-strongly-convex loss.)
#![allow(clippy::unwrap_used, reason = "tests")]

use mirrorflow_agent_online::omd::{Geometry, OptimisticOmd, convex_step};
use mirrorflow_env_streams::SeaStream;

fn regret(rounds: usize, optimistic: bool) -> f64 {
    let mut s = SeaStream::new(10, 0.5, 0, 0.0, 3);
    let reference = s.clone();
    let (d, g) = (2.0, 2.0); // unit ball diameter; ‖x − ξ‖ ≤ 1.5 < G
    let mut o = OptimisticOmd::new(Geometry::EuclideanBall { radius: 1.0 }, vec![0.0; 10]);
    let (mut hint, mut err) = (vec![0.0; 10], 0.0);
    let mut plays = Vec::with_capacity(rounds);
    for t in 1..=rounds {
        let eta = if optimistic {
            convex_step(d, g, 1e-8, err)
        } else {
            d / (g * (t as f64).sqrt())
        };
        let h = if optimistic {
            hint.clone()
        } else {
            vec![0.0; 10]
        };
        let x = o.play(&h, eta).to_vec();
        let xi = s.next_target();
        let grad: Vec<f64> = x.iter().zip(&xi).map(|(a, b)| a - b).collect();
        err += grad
            .iter()
            .zip(&h)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>();
        o.update(&grad, eta);
        hint = grad;
        plays.push(x);
    }
    reference.expected_regret(&plays, 1.0)
}

#[test]
fn optimistic_omd_regret_is_flat_without_noise_or_switching() {
    let (o3, o4) = (regret(1_000, true), regret(10_000, true));
    assert!(o3 > 0.0 && o4 < 1.5 * o3, "optimistic {o3} → {o4}");
    let (g3, g4) = (regret(1_000, false), regret(10_000, false));
    assert!(g3 > 0.0 && g4 < 1.5 * g3, "OGD {g3} → {g4}");
}
