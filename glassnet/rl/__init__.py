"""Reinforcement learning on glassnet: environments that resume exactly (Gymnasium, an optional
dependency), experience replay and DQN with a target network. DQN is a batch source for the one training
loop (glassnet.train), so a recipe is only its network, environment and defaults."""
from .dqn import DQNBatches, bellman_targets, epsilon_greedy, linear_schedule, td_loss
from .env import MissingDependency, ResumableEnv, evaluate_policy, make_env
from .replay import ReplayBuffer

__all__ = ["DQNBatches", "bellman_targets", "epsilon_greedy", "linear_schedule", "td_loss", "MissingDependency",
           "ResumableEnv", "evaluate_policy", "make_env", "ReplayBuffer"]
