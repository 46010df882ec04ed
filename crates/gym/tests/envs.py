"""Python env classes for mirrorflow-gym's tests: one that follows the gymnasium API, and one
per way of breaking it."""

import gymnasium as gym
import numpy as np


class Corridor(gym.Env):
    """Walk right along a corridor of `length` cells; reward 1 at the end, −0.01 per step."""

    def __init__(self, length=5, render_mode=None):
        self.length = length
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.pos = 0
        self.t = 0

    def _obs(self):
        return np.array([self.pos / self.length, self.t / 50.0], dtype=np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = int(self.np_random.integers(0, 2))
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.pos = max(0, self.pos + (1 if int(action) == 1 else -1))
        self.t += 1
        done = self.pos >= self.length
        return self._obs(), (1.0 if done else -0.01), done, self.t >= 50, {}

    def render(self):
        img = np.zeros((4, self.length + 1, 3), dtype=np.uint8)
        img[:, self.pos] = 255
        return img


class RaisesInStep(Corridor):
    def step(self, action):
        raise ValueError("the simulator exploded at step 1")


class RaisesInReset(Corridor):
    def reset(self, seed=None, options=None):
        raise RuntimeError("cannot connect to the robot")


class WrongShape(Corridor):
    def step(self, action):
        obs, r, te, tr, info = super().step(action)
        return np.zeros(3, dtype=np.float32), r, te, tr, info


class StringObs(Corridor):
    def step(self, action):
        _, r, te, tr, info = super().step(action)
        return np.array(["a", "b"]), r, te, tr, info


class NanObs(Corridor):
    def step(self, action):
        obs, r, te, tr, info = super().step(action)
        obs[1] = np.nan
        return obs, r, te, tr, info


class IntFlag(Corridor):
    def step(self, action):
        obs, r, te, tr, info = super().step(action)
        return obs, r, 1 if te else 0, tr, info


class FourValues(Corridor):
    """The pre-gymnasium API: (obs, reward, done, info)."""

    def step(self, action):
        obs, r, te, tr, info = super().step(action)
        return obs, r, te or tr, info


class TextSpace(Corridor):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.observation_space = gym.spaces.Text(5)


class DictObs(Corridor):
    """A Dict observation: flattened as gymnasium.spaces.flatten (keys sorted, Discrete one-hot)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.observation_space = gym.spaces.Dict(
            {"pos": gym.spaces.Discrete(self.length + 1), "t": gym.spaces.Box(0.0, 1.0, (1,), np.float32)}
        )

    def _obs(self):
        return {"pos": self.pos, "t": np.array([self.t / 50.0], dtype=np.float32)}


class Explodes(Corridor):
    """Raises after `at` steps of this instance (the CLI's failure test)."""

    def __init__(self, at=300, **kw):
        super().__init__(**kw)
        self.at, self.steps = at, 0

    def step(self, action):
        self.steps += 1
        if self.steps >= self.at:
            raise ValueError(f"the simulator exploded at step {self.steps}")
        return super().step(action)
