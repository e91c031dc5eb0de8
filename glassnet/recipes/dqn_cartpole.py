"""dqn-cartpole: deep Q-learning on Gymnasium's CartPole-v1 (balance a pole on a cart for up to 500 steps,
reward 1 per step); target: a mean return >= 475 over 100 greedy test episodes.

The network (4 -> 256 -> 256 -> 2) maps the state to Q(s, left) and Q(s, right). It learns from
minibatches of a replay buffer against the Bellman target of a target network (glassnet.rl.dqn):

    y = r + gamma (1 - terminated) max_a' Q_target(s', a')      loss = Huber(Q(s, a) - y)

Training goes in rounds: 256 environment steps of the epsilon-greedy policy (epsilon from 1 down to 0.04
over the first 8,000 steps), then 128 updates against a target network copied from the online one at the
start of the round (the settings of the RL Baselines3 Zoo for this task). Every `eval_every` updates
the greedy policy plays `eval_episodes` episodes; the final test plays 100 other episodes with the weights
of the best evaluation (DQN's policy can get worse again as training goes on). Gymnasium is an optional
dependency: pip install 'glassnet[rl]'.
"""
import os
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from ..autograd import no_grad
from ..rl import DQNBatches, ReplayBuffer, ResumableEnv, evaluate_policy, linear_schedule, make_env, td_loss
from ..tensor import Tensor
from ..train import Experiment
from . import Recipe, register
from .config import flag, positive, probability, unit_interval

ENV = "CartPole-v1"
EVAL_SEED, TEST_SEED = 10_000, 20_000  # evaluation and test episodes never share a start with training


@dataclass
class DQNConfig:
    iters: int = flag(25000, "gradient updates (optimizer steps)", positive)
    lr: float = flag(2.3e-3, "AdamW learning rate", positive)
    batch_size: int = flag(64, "transitions per update", positive)
    gamma: float = flag(0.99, "discount factor", probability)
    hidden: int = flag(256, "units of each of the two hidden layers", positive)
    buffer_size: int = flag(100000, "transitions kept in the replay buffer", positive)
    learning_starts: int = flag(1000, "random steps that fill the buffer before learning", positive)
    train_freq: int = flag(256, "environment steps per round of updates", positive)
    gradient_steps: int = flag(128, "updates per round", positive)
    target_update: int = flag(128, "updates between target-network updates", positive)
    tau: float = flag(1.0, "fraction the target network moves towards the online one (1: a copy)", unit_interval)
    double: bool = flag(False, "double DQN: the online network picks the next action, the target network rates it")
    epsilon_start: float = flag(1.0, "exploration rate at the start", unit_interval)
    epsilon_end: float = flag(0.04, "exploration rate after exploration_steps", unit_interval)
    exploration_steps: int = flag(8000, "environment steps over which epsilon decays linearly")
    clip_grad_norm: float = flag(10.0, "clip the gradient norm to this value (0: off)")
    eval_every: int = flag(1000, "updates between greedy evaluations", positive)
    eval_episodes: int = flag(10, "episodes of each evaluation", positive)
    test_episodes: int = flag(100, "episodes of the final test", positive)
    seed: int = flag(0, "seed of initialisation, exploration, replay sampling and episode starts")
    pictures: bool = flag(True, "plot the episode returns at the end")


def q_network(hidden):
    """state (B, 4) -> Q-values (B, 2)."""
    return nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def greedy(model):
    def act(observations):
        with no_grad():
            return model(Tensor._make(np.asarray(observations, np.float32))).array.argmax(1)

    return act


class _Episodes:
    """Evaluation, test and pictures of a DQN run."""

    def __init__(self, config, batches):
        self.config, self.batches, self.evaluations = config, batches, []

    def evaluate(self, model):
        returns = evaluate_policy(lambda: make_env(ENV), greedy(model), self.config.eval_episodes, EVAL_SEED)
        self.batches.keep_if_best(float(returns.mean()))
        recent = self.batches.env.episode_returns[-20:]
        self.evaluations.append((self.batches.env.steps, float(returns.mean())))
        return {"eval_return": float(returns.mean()), "train_return": float(np.mean(recent)) if recent else 0.0,
                "epsilon": self.batches.current_epsilon, "episodes": len(self.batches.env.episode_returns)}

    def test(self, model):
        """The greedy policy of the best evaluation (the batch source keeps its weights), on unseen episodes."""
        if self.batches.best_weights is not None:
            model.load_state_dict({k: Tensor._make(v) for k, v in self.batches.best_weights.items()})
        returns = evaluate_policy(lambda: make_env(ENV), greedy(model), self.config.test_episodes, TEST_SEED)
        rng = np.random.default_rng(self.config.seed)
        random = evaluate_policy(lambda: make_env(ENV), lambda obs: rng.integers(0, 2, len(obs)),
                                 self.config.test_episodes, TEST_SEED)
        return {"test_return": float(returns.mean()), "test_return_std": float(returns.std()),
                "test_return_min": float(returns.min()), "test_episodes": len(returns),
                "random_policy_return": float(random.mean())}

    def pictures(self, model, run_dir):
        from ..viz.rl import plot_episode_returns

        env = self.batches.env
        path = os.path.join(run_dir, "plots", "episode_returns.png")
        plot_episode_returns(env.episode_returns, env.episode_ends, path, title=f"DQN on {ENV}", target=475,
                             evaluations=self.evaluations)
        return {"plots": [path], "training_episodes": len(env.episode_returns)}


def build(config):
    env = make_env(ENV)  # first: without Gymnasium the run stops here, with one line saying what to install
    model, target = q_network(config.hidden), q_network(config.hidden)
    epsilon = linear_schedule(config.epsilon_start, config.epsilon_end, config.exploration_steps)
    batches = DQNBatches(ResumableEnv(env, np.random.default_rng(config.seed + 1)), model, target,
                         ReplayBuffer(config.buffer_size, env.observation_space.shape),
                         np.random.default_rng(config.seed + 2), batch_size=config.batch_size, gamma=config.gamma,
                         epsilon=epsilon, learning_starts=config.learning_starts, train_freq=config.train_freq,
                         gradient_steps=config.gradient_steps,
                         target_update=config.target_update, tau=config.tau, double=config.double)
    episodes = _Episodes(config, batches)
    return Experiment(model, optim.AdamW(model.parameters(), lr=config.lr), batches, steps=config.iters,
                      loss=td_loss, evaluate=episodes.evaluate, eval_every=config.eval_every, test=episodes.test,
                      monitor="eval_return", mode="max", clip_grad_norm=config.clip_grad_norm, log_every=500,
                      report=episodes.pictures if config.pictures else None, unit="transition")


register(Recipe("dqn-cartpole", "DQN on Gymnasium's CartPole-v1: mean return >= 475 over 100 test episodes "
                "(needs pip install 'glassnet[rl]')", DQNConfig, build))
