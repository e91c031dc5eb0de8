"""Reinforcement learning: the returns of the episodes played while training."""
import numpy as np

from ._figure import finish, new_figure

__all__ = ["plot_episode_returns"]


def plot_episode_returns(returns, ends, path=None, title="episode returns during training", target=None,
                         window=20, evaluations=None):
    """Each training episode's return (dots) at the environment step where it ended, their moving mean over
    `window` episodes, the greedy evaluations as (step, mean return) pairs, and a `target` line."""
    returns, ends = np.asarray(returns, float), np.asarray(ends)
    fig = new_figure((9, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(ends, returns, s=4, alpha=0.35, color="tab:blue", label="training episode (epsilon-greedy)")
    if returns.size >= window:
        mean = np.convolve(returns, np.ones(window) / window, mode="valid")
        ax.plot(ends[window - 1:], mean, color="tab:blue", lw=2, label=f"mean of the last {window}")
    if evaluations:
        steps, values = zip(*evaluations)
        ax.plot(steps, values, "o-", color="tab:orange", ms=4, label="greedy evaluation (mean)")
    if target is not None:
        ax.axhline(target, color="tab:green", ls="--", lw=1, label=f"target {target:g}")
    ax.set_xlabel("environment step")
    ax.set_ylabel("return")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    return finish(fig, path)
