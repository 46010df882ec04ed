"""Records classic-control trajectories from real gymnasium for mirrorflow's conformance test.

Usage: python record.py OUT_DIR
Writes OUT_DIR/<EnvId>.json for CartPole-v1, Pendulum-v1, MountainCar-v0,
MountainCarContinuous-v0 and Acrobot-v1. Each file holds a few episodes: the seed, the internal
state right after reset (env.unwrapped.state), and for every step the action taken and what
gymnasium returned (observation, reward, terminated, truncated). Actions mix uniform random
choices with simple controllers so that episodes end both by termination and by the time limit.
The Rust test replays the actions from the same internal state and compares everything.
"""

import json
import math
import os
import sys

import gymnasium as gym
import numpy as np


def cartpole_controller(obs, rng):
    # Balances well enough to reach the 500-step limit; a little noise keeps it varied.
    a = 1 if obs[2] + 0.5 * obs[3] + 0.01 * obs[1] > 0 else 0
    return a if rng.random() > 0.05 else 1 - a


def pump(obs, rng, discrete):
    # Energy pumping: push in the direction of the velocity.
    v = obs[1]
    if discrete:
        return 2 if v >= 0 else 0
    return np.array([1.0 if v >= 0 else -1.0], dtype=np.float32) * np.float32(rng.uniform(0.6, 1.0))


def acrobot_pump(obs, rng):
    return 2 if obs[5] >= 0 else 0


def random_action(env, rng, scale=1.0):
    space = env.action_space
    if isinstance(space, gym.spaces.Discrete):
        return int(rng.integers(0, space.n))
    # out-of-range values on purpose: gymnasium clips them, so must mirrorflow
    return rng.uniform(space.low * scale, space.high * scale).astype(np.float32)


PLANS = {
    "CartPole-v1": [("random", 0), ("controller", 1), ("random", 2), ("controller", 3)],
    "Pendulum-v1": [("random_wide", 0), ("random", 1)],
    "MountainCar-v0": [("random", 0), ("pump", 1)],
    "MountainCarContinuous-v0": [("random_wide", 0), ("pump", 1)],
    "Acrobot-v1": [("random", 0), ("pump", 1)],
}


def choose(env_id, plan, env, obs, rng):
    if plan == "random":
        return random_action(env, rng)
    if plan == "random_wide":
        return random_action(env, rng, scale=1.5)
    if plan == "controller":
        return cartpole_controller(obs, rng)
    if env_id == "Acrobot-v1":
        return acrobot_pump(obs, rng)
    return pump(obs, rng, isinstance(env.action_space, gym.spaces.Discrete))


def as_list(x):
    return [float(v) for v in np.asarray(x, dtype=np.float64).ravel()]


def record(env_id):
    env = gym.make(env_id)
    episodes = []
    for plan, seed in PLANS[env_id]:
        rng = np.random.default_rng(1000 + seed)
        obs, _ = env.reset(seed=seed)
        ep = {
            "plan": plan,
            "seed": seed,
            "initial_state": as_list(env.unwrapped.state),
            "initial_obs": as_list(obs),
            "actions": [],
            "obs": [],
            "rewards": [],
            "terminated": [],
            "truncated": [],
        }
        while True:
            a = choose(env_id, plan, env, obs, rng)
            obs, r, term, trunc, _ = env.step(a)
            ep["actions"].append(as_list(a))
            ep["obs"].append(as_list(obs))
            ep["rewards"].append(float(r))
            ep["terminated"].append(bool(term))
            ep["truncated"].append(bool(trunc))
            if term or trunc:
                break
        episodes.append(ep)
    env.close()
    return {"gymnasium_version": gym.__version__, "env_id": env_id, "episodes": episodes}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    for env_id in PLANS:
        rec = record(env_id)
        with open(os.path.join(out, env_id + ".json"), "w") as f:
            json.dump(rec, f, separators=(",", ":"))
        ends = [("term" if e["terminated"][-1] else "trunc") + f"@{len(e['rewards'])}" for e in rec["episodes"]]
        print(f"{env_id}: {', '.join(ends)}")


if __name__ == "__main__":
    main()
