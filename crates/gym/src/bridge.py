"""mirrorflow's side of the Python bridge (loaded by crates/gym into the embedded interpreter).

A `Shard` owns `count` gymnasium envs and numpy buffers that Rust reads and writes through the
buffer protocol: one call from Rust steps every env of the shard (one interpreter-lock
acquisition), and no Python object is created per observation element or action element.

Every check of what the env returns lives here and raises `BridgeError` with a message that
names the env, the call and what was wrong; Rust adds the env id and keeps tracebacks of the
env's own exceptions.
"""

import importlib
import importlib.util
import json
import os
import sys
import threading

import numpy as np


class BridgeError(Exception):
    """An env broke the gymnasium API (shape, dtype, flags, return values)."""


def _gymnasium():
    try:
        import gymnasium
    except ModuleNotFoundError as e:
        raise BridgeError(
            "the Python package `gymnasium` is not installed in the interpreter mirrorflow uses "
            f"({sys.prefix}); install it (e.g. `.venv/bin/pip install gymnasium==1.4.0`) or "
            "point MIRRORFLOW_PYTHON at a venv that has it"
        ) from e
    return gymnasium


_LOAD_LOCK = threading.Lock()
_FILE_MODULES = {}


def _load_class(target):
    """`path/to/file.py:ClassName` or `package.module:ClassName`."""
    if ":" not in target:
        raise BridgeError(
            f"py:{target}: expected `py:path/to/file.py:ClassName` or `py:package.module:ClassName`"
        )
    where, name = target.rsplit(":", 1)
    if where.endswith(".py"):
        path = os.path.abspath(where)
        if not os.path.isfile(path):
            raise BridgeError(f"py:{target}: no such file {path}")
        with _LOAD_LOCK:
            module = _FILE_MODULES.get(path)
            if module is None:
                mod_name = "mirrorflow_user_" + os.path.splitext(os.path.basename(path))[0]
                spec = importlib.util.spec_from_file_location(mod_name, path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                _FILE_MODULES[path] = module
    else:
        # modules are found from the working directory too, like `python -m`
        if os.getcwd() not in sys.path:
            sys.path.append(os.getcwd())
        module = importlib.import_module(where)
    cls = getattr(module, name, None)
    if cls is None:
        raise BridgeError(f"py:{target}: `{where}` has no attribute `{name}`")
    return cls


def make_env(kind, target, kwargs_json, render):
    kwargs = json.loads(kwargs_json) if kwargs_json else {}
    if render:
        kwargs.setdefault("render_mode", "rgb_array")
    if kind == "gym":
        gymnasium = _gymnasium()
        return gymnasium.make(target, **kwargs)
    cls = _load_class(target)
    env = cls(**kwargs)
    for attr in ("observation_space", "action_space", "reset", "step"):
        if not hasattr(env, attr):
            raise BridgeError(
                f"py:{target}: the env has no `{attr}`; a gymnasium env defines "
                "observation_space, action_space, reset(seed=None, options=None) and step(action)"
            )
    return env


def _bounds(x, n):
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    if a.size == 1 and n != 1:
        a = np.full(n, a.item())
    # JSON has no infinity: an unbounded side is null
    return [float(v) if np.isfinite(v) else None for v in a]


def describe(space, role):
    """A plain description of a gymnasium space for Rust (once per env, so lists are fine)."""
    gymnasium = _gymnasium()
    s = gymnasium.spaces
    if isinstance(space, s.Discrete):
        return {"type": "discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, s.Box):
        n = int(np.prod(space.shape)) if space.shape else 1
        return {
            "type": "box",
            "low": _bounds(space.low, n),
            "high": _bounds(space.high, n),
            "shape": [int(d) for d in space.shape],
            "dtype": str(space.dtype),
        }
    if isinstance(space, s.MultiDiscrete):
        if np.any(np.asarray(space.start) != 0):
            raise BridgeError(f"{role} space {space}: MultiDiscrete with a nonzero start is not supported")
        return {"type": "multi_discrete", "nvec": [int(v) for v in np.asarray(space.nvec).reshape(-1)]}
    if isinstance(space, s.MultiBinary):
        return {"type": "multi_binary", "n": int(np.prod(space.n))}
    if isinstance(space, (s.Dict, s.Tuple)) and role == "observation":
        flat = s.flatten_space(space)
        d = describe(flat, role)
        d["flattened_from"] = str(space)
        return d
    raise BridgeError(
        f"{role} space {space} ({type(space).__name__}) is not supported: mirrorflow maps "
        "Discrete, Box, MultiDiscrete and MultiBinary"
        + (", and flattens Dict/Tuple observations" if role == "observation" else "")
    )


def _flat_dim(desc):
    t = desc["type"]
    if t == "discrete":
        return 1
    if t == "box":
        return int(np.prod(desc["shape"])) if desc["shape"] else 1
    if t == "multi_discrete":
        return len(desc["nvec"])
    return desc["n"]


_FLAG = (bool, np.bool_)
_NUMBER = (float, int, np.float64, np.float32, np.int64, np.int32)


class Shard:
    """`count` envs with shared buffers. `autoreset`: reset finished envs inside `step`."""

    def __init__(self, kind, target, kwargs_json, count, render=False):
        self.name = f"{kind}:{target}"
        self.envs = [make_env(kind, target, kwargs_json, render) for _ in range(count)]
        env = self.envs[0]
        self.obs_space = env.observation_space
        self.act_space = env.action_space
        self.obs_desc = describe(self.obs_space, "observation")
        self.act_desc = describe(self.act_space, "action")
        gymnasium = _gymnasium()
        self.flatten = (
            (lambda o: gymnasium.spaces.flatten(self.obs_space, o))
            if "flattened_from" in self.obs_desc
            else None
        )
        self.od = _flat_dim(self.obs_desc)
        self.obs_shape = (
            tuple(self.obs_desc["shape"]) if self.obs_desc["type"] == "box" and self.flatten is None else None
        )
        self.ad = _flat_dim(self.act_desc)
        self.actions = np.zeros((count, self.ad), dtype=np.float32)
        self.next = np.zeros((count, self.od), dtype=np.float32)
        self.reset_obs = np.zeros((count, self.od), dtype=np.float32)
        # per env: reward, terminated, truncated
        self.infos = np.zeros((count, 3), dtype=np.float64)
        # gymnasium only warns on a step after the end; mirrorflow's Env contract makes it an error
        self.needs_reset = ["before the first reset"] * count

    def spaces_json(self):
        return json.dumps({"observation": self.obs_desc, "action": self.act_desc,
                           "max_episode_steps": getattr(getattr(self.envs[0], "spec", None), "max_episode_steps", None)})

    # -- conversions --------------------------------------------------------------------------

    def _action(self, i):
        row = self.actions[i]
        t = self.act_desc["type"]
        if t == "discrete":
            return int(row[0]) + self.act_desc["start"]
        if t == "box":
            return row.reshape(self.act_desc["shape"]).astype(self.act_space.dtype, copy=False)
        if t == "multi_discrete":
            return row.astype(np.int64)
        return row.astype(np.int8)

    def _write_obs(self, out, i, obs, call):
        # fast path: a numeric ndarray of the declared shape (what well-behaved envs return)
        if type(obs) is np.ndarray and obs.shape == self.obs_shape and obs.dtype.kind in "fiub":
            out[i] = obs.reshape(-1) if obs.ndim != 1 else obs
            return
        if obs is None:
            raise BridgeError(f"{call} returned no observation (None)")
        if self.flatten is not None:
            obs = self.flatten(obs)
        if self.obs_desc["type"] == "discrete":
            if not isinstance(obs, (int, np.integer)):
                raise BridgeError(
                    f"{call} returned observation {obs!r} of type {type(obs).__name__}; "
                    "the Discrete observation space needs an int"
                )
            out[i, 0] = int(obs) - self.obs_desc["start"]
            return
        try:
            a = np.asarray(obs)
        except Exception as e:  # noqa: BLE001 (anything numpy cannot take)
            raise BridgeError(f"{call} returned an observation numpy cannot read: {e}") from e
        if a.dtype.kind not in "fiub":
            raise BridgeError(
                f"{call} returned an observation of dtype {a.dtype} ({type(obs).__name__}); "
                f"the observation space is {self.obs_space} (numbers expected)"
            )
        if a.size != self.od:
            raise BridgeError(
                f"{call} returned an observation of shape {tuple(a.shape)}; the observation space "
                f"{self.obs_space} has shape {tuple(self.obs_desc.get('shape', [self.od]))} "
                f"({self.od} values)"
            )
        out[i] = a.reshape(-1)

    def _split_reset(self, out, call):
        if not isinstance(out, tuple) or len(out) != 2:
            got = f"{len(out)} values" if isinstance(out, tuple) else type(out).__name__
            raise BridgeError(f"{call} returned {got}; gymnasium's reset returns (obs, info)")
        return out[0]

    # -- calls from Rust ----------------------------------------------------------------------

    def reset_all(self, seeds):
        for i, env in enumerate(self.envs):
            obs = self._split_reset(env.reset(seed=int(seeds[i])), "reset")
            self._write_obs(self.next, i, obs, "reset")
            self.needs_reset[i] = None

    def reset_one(self, i, seed):
        obs = self._split_reset(self.envs[i].reset(seed=None if seed < 0 else int(seed)), "reset")
        self._write_obs(self.next, i, obs, "reset")
        self.needs_reset[i] = None

    def step_all(self, autoreset):
        discrete = self.act_desc["type"] == "discrete"
        if discrete:
            acts = (self.actions[:, 0].astype(np.int64) + self.act_desc["start"]).tolist()
        infos = self.infos
        for i, env in enumerate(self.envs):
            if self.needs_reset[i] is not None:
                raise BridgeError(f"step called {self.needs_reset[i]}; call reset first")
            out = env.step(acts[i] if discrete else self._action(i))
            if not isinstance(out, tuple) or len(out) != 5:
                got = f"{len(out)} values" if isinstance(out, tuple) else type(out).__name__
                raise BridgeError(
                    f"step returned {got}; gymnasium's step returns 5 values "
                    "(obs, reward, terminated, truncated, info)"
                )
            obs, reward, terminated, truncated, _info = out
            self._write_obs(self.next, i, obs, "step")
            if type(reward) not in _NUMBER and (
                not isinstance(reward, (int, float, np.integer, np.floating)) or isinstance(reward, bool)
            ):
                raise BridgeError(
                    f"step returned reward {reward!r} of type {type(reward).__name__}; a number is needed"
                )
            if type(terminated) not in _FLAG or type(truncated) not in _FLAG:
                bad, val = ("terminated", terminated) if type(terminated) not in _FLAG else ("truncated", truncated)
                raise BridgeError(
                    f"step returned {bad} = {val!r} of type {type(val).__name__}; it must be a bool"
                )
            infos[i] = (reward, terminated, truncated)
            if terminated or truncated:
                if autoreset:
                    obs = self._split_reset(env.reset(), "reset")
                    self._write_obs(self.reset_obs, i, obs, "reset")
                else:
                    self.needs_reset[i] = "after the episode ended"

    def render(self, i):
        frame = self.envs[i].render()
        if frame is None:
            return None
        a = np.ascontiguousarray(np.asarray(frame, dtype=np.uint8))
        if a.ndim != 3 or a.shape[2] != 3:
            return None
        return (int(a.shape[1]), int(a.shape[0]), a.tobytes())

    def close(self):
        for env in self.envs:
            try:
                env.close()
            except Exception:  # noqa: BLE001 (closing must not fail a finished run)
                pass
