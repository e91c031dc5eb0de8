"""Deep Q-learning (DQN; Mnih et al. 2015): learn the optimal action-value function with a network.

The optimal action-value function Q*(s, a) is the expected discounted return of taking action a in
state s and acting optimally afterwards. It satisfies Bellman's optimality equation

    Q*(s, a) = E[ r + gamma max_a' Q*(s', a') ]        (just E[r] when s' is a final state)

and the optimal policy is greedy with respect to it: pi*(s) = argmax_a Q*(s, a). DQN fits a network
Q_theta to this equation by regression. For a minibatch of stored transitions (s, a, r, s', terminated)
the Bellman target is computed with the target network Q_theta- (a copy of Q_theta refreshed every
`target_update` updates, or nudged towards it a little (a fraction `tau`) after every update, so that the
target does not jump with every step):

    y = r + gamma (1 - terminated) max_a' Q_theta-(s', a')
    loss = mean Huber(Q_theta(s, a) - y)                 (quadratic below 1, linear above: big errors
                                                          do not produce huge gradients)
With `double` (double DQN, van Hasselt et al. 2016), the online network picks the action and the target
network rates it: y = r + gamma (1 - terminated) Q_theta-(s', argmax_a' Q_theta(s', a')), which counters
the max's upward bias. A time limit cutting an episode short is not a final state: such transitions keep
bootstrapping (terminated = 0). Actions are epsilon-greedy: random with probability epsilon, which
decays linearly, else argmax_a Q_theta(s, a).

`DQNBatches` is the training loop's batch source (glassnet.train.batches): each `next()` plays
`train_freq` steps in the environment, stores them in the replay buffer and returns a minibatch with its
Bellman targets; the loop then minimises `td_loss`. So DQN runs on the same loop as every recipe.
"""
import numpy as np

from ..autograd import no_grad
from ..nn import functional as F
from ..tensor import Tensor

__all__ = ["epsilon_greedy", "linear_schedule", "bellman_targets", "td_loss", "soft_update", "DQNBatches"]


def epsilon_greedy(q_values, epsilon, rng):
    """Actions (B,): argmax_a q_values[b, a], or with probability epsilon a uniformly random action."""
    greedy = np.asarray(q_values).argmax(axis=1)
    explore = rng.random(greedy.shape[0]) < epsilon
    return np.where(explore, rng.integers(0, q_values.shape[1], greedy.shape[0]), greedy)


def linear_schedule(start, end, duration):
    """value(step): from `start` at step 0 to `end` at step `duration`, then constant."""
    def value(step):
        return end + (start - end) * max(0.0, 1.0 - step / duration) if duration > 0 else end

    return value


def bellman_targets(rewards, terminated, next_q_target, gamma, next_q_online=None):
    """y = r + gamma (1 - terminated) Q_target(s', a*), a* = argmax of next_q_online (double DQN) if given,
    else of next_q_target. rewards, terminated (B,); next_q_* (B, A) -> y (B,) float32."""
    chooser = next_q_target if next_q_online is None else next_q_online
    best = chooser.argmax(axis=1)
    bootstrap = next_q_target[np.arange(best.size), best]
    return (rewards + gamma * (1.0 - terminated) * bootstrap).astype(np.float32)


def td_loss(model, batch):
    """The loop's loss: Huber(Q(s, a) - y) averaged over the batch (obs, actions, targets)."""
    obs, actions, targets = batch
    q = model(obs).gather(1, actions.unsqueeze(1)).squeeze(1)  # (B,) Q(s, a) of the actions taken
    return F.smooth_l1_loss(q, targets), {"q": float(q.array.mean())}


def soft_update(target, source, tau):
    """theta- <- tau theta + (1 - tau) theta- for every parameter and buffer (Polyak averaging; tau = 1: a copy)."""
    kept_state = target.state_dict()
    for name, value in source.state_dict().items():
        kept = kept_state[name].array
        kept *= 1.0 - tau
        kept += tau * value.array


def _q_values(model, obs):
    with no_grad():
        return model(Tensor._make(np.asarray(obs, np.float32))).array


class DQNBatches:
    """The DQN batch source: plays the epsilon-greedy policy of `q_net` in `env` (a ResumableEnv), keeps
    the transitions in `buffer` and yields minibatches (obs, actions, Bellman targets).

    Before the first minibatch, `learning_starts` steps of random actions fill the buffer. Then rounds of
    `train_freq` policy steps, each followed by `gradient_steps` minibatches of `batch_size` transitions
    drawn from the buffer (with `rng`, a NumPy Generator); every `target_update` minibatches the target
    network moves a fraction `tau` towards the online one (tau = 1: a copy).
    epsilon(env_steps) gives the exploration rate. Its state_dict holds the buffer, the target network,
    the environment's position and the generators: a resumed run continues exactly.
    """

    epoch_end = False

    def __init__(self, env, q_net, target_net, buffer, rng, *, batch_size, gamma, epsilon, learning_starts=1000,
                 train_freq=1, gradient_steps=1, target_update=500, tau=1.0, double=False):
        self.env, self.q_net, self.target_net, self.buffer, self.rng = env, q_net, target_net, buffer, rng
        self.batch_size, self.gamma, self.epsilon = batch_size, gamma, epsilon
        self.learning_starts, self.train_freq = max(learning_starts, batch_size), train_freq
        self.gradient_steps = gradient_steps
        self.target_update, self.tau, self.double = target_update, tau, double
        self.n_actions = env.env.action_space.n
        self.updates = 0
        self.target_net.load_state_dict(q_net.state_dict())
        self.best_return, self.best_weights = None, None

    def _play(self, random=False):
        obs = self.env.observation
        if random:
            action = int(self.rng.integers(self.n_actions))
        else:
            q = _q_values(self.q_net, obs[None])
            action = int(epsilon_greedy(q, self.epsilon(self.env.steps), self.rng)[0])
        next_obs, reward, terminated, _ = self.env.step(action)
        self.buffer.push(obs, action, reward, next_obs, terminated)

    def next(self):
        while len(self.buffer) < self.learning_starts:
            self._play(random=True)
        if self.updates % self.gradient_steps == 0:
            for _ in range(self.train_freq):
                self._play()
        if self.updates % self.target_update == 0:
            soft_update(self.target_net, self.q_net, self.tau)
        self.updates += 1
        b = self.buffer.sample(self.batch_size, self.rng)
        next_q_online = _q_values(self.q_net, b["next_obs"]) if self.double else None
        y = bellman_targets(b["rewards"], b["terminated"], _q_values(self.target_net, b["next_obs"]), self.gamma,
                            next_q_online)
        return Tensor._make(b["obs"]), Tensor._make(b["actions"]), Tensor._make(y)

    @property
    def current_epsilon(self):
        return self.epsilon(self.env.steps)

    def keep_if_best(self, mean_return):
        """Keep a copy of the online network's weights when `mean_return` (of a greedy evaluation) is the
        best so far: DQN's policy can get worse again with more training, and the final test should play
        the best one. The copy is part of the state_dict, so a resumed run keeps it."""
        if self.best_return is None or mean_return > self.best_return:
            self.best_return = mean_return
            self.best_weights = {k: v.array.copy() for k, v in self.q_net.state_dict().items()}

    def state_dict(self):
        return {"env": self.env.state_dict(), "buffer": self.buffer.state_dict(), "rng": self.rng.bit_generator.state,
                "updates": self.updates, "target": self.target_net.state_dict(),
                "best": None if self.best_weights is None else {"return": self.best_return,
                                                                "weights": self.best_weights}}

    def load_state_dict(self, state):
        self.env.load_state_dict(state["env"])
        self.buffer.load_state_dict(state["buffer"])
        self.rng.bit_generator.state = state["rng"]
        self.updates = state["updates"]
        self.target_net.load_state_dict(state["target"])
        best = state["best"]
        self.best_return = None if best is None else best["return"]
        self.best_weights = None if best is None else {k: getattr(v, "array", v) for k, v in best["weights"].items()}
