"""Experience replay (Lin 1992; Mnih et al. 2015): a memory of past transitions to learn from."""
import numpy as np

__all__ = ["ReplayBuffer"]

_FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated")


class ReplayBuffer:
    """The last `capacity` transitions (s, a, r, s', terminated), the oldest overwritten first.

    Learning from minibatches drawn uniformly from it, rather than from the steps just taken, breaks the
    strong correlation between consecutive steps and lets each transition be used many times.

        buffer.push(obs, action, reward, next_obs, terminated)
        batch = buffer.sample(64, rng)     # dict of arrays: obs (64, *obs_shape), actions (64,), ...
    """

    def __init__(self, capacity, obs_shape, obs_dtype=np.float32):
        if capacity < 1:
            raise ValueError(f"ReplayBuffer: capacity must be positive, got {capacity}")
        self.capacity = int(capacity)
        self.obs = np.zeros((capacity,) + tuple(obs_shape), obs_dtype)
        self.next_obs = np.zeros_like(self.obs)
        self.actions = np.zeros(capacity, np.int64)
        self.rewards = np.zeros(capacity, np.float32)
        self.terminated = np.zeros(capacity, np.float32)
        self.size, self.position = 0, 0

    def __len__(self):
        return self.size

    def push(self, obs, action, reward, next_obs, terminated):
        i = self.position
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, terminated
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size, rng):
        """`batch_size` transitions drawn uniformly with replacement (rng: a NumPy Generator)."""
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty")
        index = rng.integers(0, self.size, batch_size)
        return {name: getattr(self, name)[index] for name in _FIELDS}

    def state_dict(self):
        return {"size": self.size, "position": self.position,
                **{name: getattr(self, name)[:self.size].copy() for name in _FIELDS}}

    def load_state_dict(self, state):
        size = int(state["size"])
        if size > self.capacity:
            raise ValueError(f"ReplayBuffer: the saved buffer holds {size} transitions, more than capacity "
                             f"{self.capacity}")
        for name in _FIELDS:
            value = state[name]
            getattr(self, name)[:size] = getattr(value, "array", value)
        self.size, self.position = size, int(state["position"])
