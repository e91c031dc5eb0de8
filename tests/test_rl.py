"""Reinforcement learning: the replay buffer, epsilon-greedy actions, Bellman targets (plain and double DQN),
target-network updates, environments that resume exactly, the DQN batch source's state, a short DQN
training that must beat a random policy by far, and the one-line message without Gymnasium."""
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.rl import (DQNBatches, ReplayBuffer, ResumableEnv, bellman_targets, epsilon_greedy, linear_schedule,
                         make_env, td_loss)
from glassnet.rl.dqn import soft_update


def test_replay_buffer_overwrites_the_oldest_and_round_trips():
    buffer = ReplayBuffer(3, (2,))
    for i in range(5):
        buffer.push([i, -i], i % 2, float(i), [i + 1, 0], i == 4)
    assert len(buffer) == 3
    assert sorted(buffer.rewards.tolist()) == [2.0, 3.0, 4.0]  # 0 and 1 were overwritten
    batch = buffer.sample(16, np.random.default_rng(0))
    assert batch["obs"].shape == (16, 2) and batch["actions"].dtype == np.int64
    np.testing.assert_array_equal(batch["next_obs"][:, 0], batch["obs"][:, 0] + 1)  # transitions stay whole
    copy = ReplayBuffer(3, (2,))
    copy.load_state_dict(buffer.state_dict())
    for name in ("obs", "actions", "rewards", "next_obs", "terminated"):
        np.testing.assert_array_equal(getattr(copy, name), getattr(buffer, name))
    assert (copy.size, copy.position) == (buffer.size, buffer.position)
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(2, (1,)).sample(1, np.random.default_rng(0))


def test_bellman_targets_plain_and_double():
    rewards, terminated = np.array([1.0, 1.0, 0.5]), np.array([0.0, 1.0, 0.0])
    next_target = np.array([[2.0, 3.0], [5.0, 7.0], [4.0, -1.0]])
    np.testing.assert_allclose(bellman_targets(rewards, terminated, next_target, 0.9), [1 + 0.9 * 3, 1.0, 0.5 + 0.9 * 4])
    next_online = np.array([[9.0, 0.0], [0.0, 1.0], [0.0, 9.0]])  # the online network picks, the target rates
    np.testing.assert_allclose(bellman_targets(rewards, terminated, next_target, 0.9, next_online),
                               [1 + 0.9 * 2, 1.0, 0.5 - 0.9])


def test_epsilon_greedy_and_schedule():
    rng = np.random.default_rng(0)
    q = np.array([[0.0, 1.0]] * 2000)
    assert (epsilon_greedy(q, 0.0, rng) == 1).all()
    assert 0.45 < (epsilon_greedy(q, 1.0, rng) == 0).mean() < 0.55
    assert 0.08 < (epsilon_greedy(q, 0.2, rng) == 0).mean() < 0.12  # half of the random actions are greedy too
    eps = linear_schedule(1.0, 0.1, 100)
    assert (eps(0), eps(50), eps(100), eps(10 ** 6)) == (1.0, 0.55, 0.1, 0.1)


def test_td_loss_is_huber_of_the_taken_actions():
    model = nn.Linear(2, 3)
    obs, actions, y = gn.randn(5, 2), gn.tensor([0, 2, 1, 1, 0]), gn.randn(5) * 3
    loss, figures = td_loss(model, (obs, actions, y))
    q = model(obs).array[np.arange(5), actions.array]
    z = np.abs(q - y.array)
    np.testing.assert_allclose(loss.item(), np.where(z < 1, 0.5 * z ** 2, z - 0.5).mean(), rtol=1e-6)
    assert figures["q"] == pytest.approx(q.mean(), rel=1e-6)


def test_soft_update_moves_a_fraction_and_tau_one_copies():
    online, target = nn.Linear(3, 2), nn.Linear(3, 2)
    before = target.weight.array.copy()
    soft_update(target, online, 0.25)
    np.testing.assert_allclose(target.weight.array, 0.75 * before + 0.25 * online.weight.array, rtol=1e-6)
    soft_update(target, online, 1.0)
    np.testing.assert_array_equal(target.bias.array, online.bias.array)


gymnasium = pytest.importorskip("gymnasium")


def _source(seed=0):
    model, target = nn.Linear(4, 2), nn.Linear(4, 2)
    env = ResumableEnv(make_env("CartPole-v1"), np.random.default_rng(seed))
    return DQNBatches(env, model, target, ReplayBuffer(500, (4,)), np.random.default_rng(seed + 1), batch_size=8,
                      gamma=0.99, epsilon=linear_schedule(1.0, 0.1, 300), learning_starts=50, target_update=5), model


def test_resumable_env_comes_back_to_the_same_state():
    env = ResumableEnv(make_env("CartPole-v1"), np.random.default_rng(3))
    for t in range(60):
        env.step(t % 2)
    saved = env.state_dict()
    after = [env.step(t % 3 > 0)[0] for t in range(80)]
    other = ResumableEnv(make_env("CartPole-v1"), np.random.default_rng(99))
    other.load_state_dict(saved)
    again = [other.step(t % 3 > 0)[0] for t in range(80)]
    np.testing.assert_array_equal(np.stack(after), np.stack(again))
    assert other.episode_returns == env.episode_returns and len(env.episode_returns) >= 2


def test_dqn_batches_resume_exactly_through_a_checkpoint_file(tmp_path):
    source, model = _source()
    for _ in range(30):
        source.next()
    source.keep_if_best(12.5)
    source.keep_if_best(3.0)  # not better: the first copy stays
    gn.save(source.state_dict(), tmp_path / "state.safetensors")
    state = gn.load(tmp_path / "state.safetensors")
    expected = [source.next() for _ in range(20)]
    other, other_model = _source(seed=7)
    other_model.load_state_dict(model.state_dict())
    other.load_state_dict(state)
    assert other.best_return == 12.5
    np.testing.assert_array_equal(other.best_weights["weight"], model.weight.array)
    for want, got in zip(expected, [other.next() for _ in range(20)]):
        for a, b in zip(want, got):
            np.testing.assert_array_equal(a.array, b.array)


def test_a_short_dqn_run_beats_a_random_policy_by_far(tmp_path):
    from glassnet.recipes import get

    recipe = get("dqn-cartpole")
    config = recipe.config(iters=3000, eval_every=1500, eval_episodes=5, test_episodes=20, pictures=False)
    summary = recipe.run(config, tmp_path / "run")
    assert summary["status"] == "finished"
    assert summary["random_policy_return"] < 30
    assert summary["test_return"] > 4 * summary["random_policy_return"] and summary["test_return"] > 100


def test_without_gymnasium_the_command_line_says_what_to_install(monkeypatch, capsys, tmp_path):
    from glassnet.cli import main

    monkeypatch.setitem(sys.modules, "gymnasium", None)  # import gymnasium now raises ImportError
    status = main(["train", "dqn-cartpole", "--iters", "10", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert "pip install 'glassnet[rl]'" in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "run").exists()  # nothing started
