"""Python env classes for the CLI tests (`env.id = "py:tests/data/py_envs.py:Corridor"`)."""

import gymnasium as gym
import numpy as np


class Corridor(gym.Env):
    """Walk right along `length` cells: +1 at the end, −0.01 per step, 50 steps at most."""

    def __init__(self, length=6):
        self.length = length
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.pos, self.t = 0, 0

    def _obs(self):
        return np.array([self.pos / self.length, self.t / 50.0], dtype=np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.pos, self.t = int(self.np_random.integers(0, 2)), 0
        return self._obs(), {}

    def step(self, action):
        self.pos = max(0, self.pos + (1 if int(action) == 1 else -1))
        self.t += 1
        done = self.pos >= self.length
        return self._obs(), (1.0 if done else -0.01), done, self.t >= 50, {}


class Explodes(Corridor):
    """Raises after `at` steps of this instance."""

    def __init__(self, at=300, **kw):
        super().__init__(**kw)
        self.at, self.steps = at, 0

    def step(self, action):
        self.steps += 1
        if self.steps >= self.at:
            raise ValueError(f"the simulator exploded at step {self.steps}")
        return super().step(action)
