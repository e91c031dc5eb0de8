"""Environments for reinforcement learning: Gymnasium's, wrapped so that a training run can be stopped
and resumed exactly, plus the evaluation of a policy over many episodes.

Gymnasium is an optional dependency (`pip install 'glassnet[rl]'`); it is imported only here, when an
environment is made.
"""
import numpy as np

__all__ = ["MissingDependency", "make_env", "ResumableEnv", "evaluate_policy"]

INSTALL_HINT = "pip install 'glassnet[rl]' (or pip install gymnasium)"


class MissingDependency(ImportError):
    """An optional package that this feature needs is not installed."""


def make_env(name, **kwargs):
    """gymnasium.make(name, **kwargs), or MissingDependency saying what to install."""
    try:
        import gymnasium
    except ImportError:
        raise MissingDependency(f"the environment {name} needs Gymnasium, an optional dependency of glassnet: "
                                f"{INSTALL_HINT}") from None
    return gymnasium.make(name, **kwargs)


class ResumableEnv:
    """An environment whose position can be saved: every episode starts from env.reset(seed=s) with s
    drawn from `rng`, and the actions taken since are recorded, so that resetting with the same seed
    and replaying them brings a deterministic environment back to the same state. It also keeps the
    return (summed reward) and length of every finished episode.

        obs = env.observation                 the current observation
        obs, reward, terminated, truncated = env.step(action)   starts a new episode after the last step
    """

    def __init__(self, env, rng):
        """env: a Gymnasium environment; rng: the NumPy Generator that draws the episodes' seeds."""
        self.env, self.rng = env, rng
        self.episode_returns, self.episode_lengths, self.episode_ends = [], [], []  # ends: env steps so far
        self.steps = 0
        self._start_episode()

    def _start_episode(self):
        self.seed = int(self.rng.integers(2 ** 31))
        self.observation, _ = self.env.reset(seed=self.seed)
        self.actions, self.episode_return = [], 0.0

    def step(self, action):
        """Take `action`; returns (next observation, reward, terminated, truncated). terminated: the
        episode reached a final state (the pole fell); truncated: it was cut by a time limit."""
        next_obs, reward, terminated, truncated, _ = self.env.step(action)
        self.actions.append(int(action))
        self.episode_return += float(reward)
        self.steps += 1
        if terminated or truncated:
            self.episode_returns.append(self.episode_return)
            self.episode_lengths.append(len(self.actions))
            self.episode_ends.append(self.steps)
            self._start_episode()
        else:
            self.observation = next_obs
        return next_obs, float(reward), bool(terminated), bool(truncated)

    def state_dict(self):
        return {"rng": self.rng.bit_generator.state, "seed": self.seed, "actions": list(self.actions),
                "episode_return": self.episode_return,
                "episode_returns": list(self.episode_returns), "episode_lengths": list(self.episode_lengths),
                "episode_ends": list(self.episode_ends), "steps": self.steps}

    def load_state_dict(self, state):
        self.seed = state["seed"]
        self.observation, _ = self.env.reset(seed=self.seed)
        for action in state["actions"]:
            self.observation, *_ = self.env.step(action)
        self.actions, self.episode_return = list(state["actions"]), state["episode_return"]
        self.episode_returns, self.episode_lengths = list(state["episode_returns"]), list(state["episode_lengths"])
        self.episode_ends, self.steps = list(state["episode_ends"]), state["steps"]
        self.rng.bit_generator.state = state["rng"]


def evaluate_policy(make, act, episodes, seed):
    """Returns of `episodes` episodes played with act(observations (B, *obs)) -> actions (B,), all at once:
    one environment per episode (made by make()), reset with seeds seed, seed + 1, ...; the policy sees
    the observations of every episode still running as one batch."""
    envs = [make() for _ in range(episodes)]
    obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
    returns = np.zeros(episodes)
    running = list(range(episodes))
    while running:
        actions = act(np.stack([obs[i] for i in running]))
        still = []
        for i, action in zip(running, actions):
            obs[i], reward, terminated, truncated, _ = envs[i].step(int(action))
            returns[i] += reward
            if not (terminated or truncated):
                still.append(i)
        running = still
    for env in envs:
        env.close()
    return returns
