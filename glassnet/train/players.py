"""Training with several optimizers that take turns: the players of a game (a GAN's discriminator and
generator), each minimising its own loss over its own parameters.

Give the loop a `Players` as the Experiment's optimizer. Each step of the loop then draws one batch
and, for each player in order,

    loss = player.loss(model, batch)        a NaN or infinite loss stops the run here
    zero every gradient; loss.backward(); clip this player's gradients (optional); player.optimizer.step()

so the second player's loss is computed after the first player's update of this step (the alternating
updates of Goodfellow et al. 2014). A player's loss may reach the other players' parameters (the
generator's loss flows through the discriminator): those gradients are zeroed before the next
backward and never applied. The loop logs `<name>_loss` for each player (and whatever figures its loss
function returns) and checkpoints every player's optimizer.
"""
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Player", "Players"]


@dataclass
class Player:
    name: str  # for the logs: <name>_loss
    loss: Callable  # loss(model, batch) -> loss Tensor, or (loss, {name: per-batch value})
    optimizer: Any  # the optimizer of this player's parameters


class Players:
    """Optimizers taking turns within each step of the loop; stands where an Experiment's optimizer does."""

    def __init__(self, *players):
        names = [p.name for p in players]
        if not players or len(set(names)) != len(names):
            raise ValueError(f"Players: expected players with distinct names, got {names}")
        self.players = players

    @property
    def param_groups(self):
        """The first player's parameter groups (the loop logs the learning rate of the first group)."""
        return self.players[0].optimizer.param_groups

    def zero_grad(self):
        for player in self.players:
            player.optimizer.zero_grad()

    def state_dict(self):
        return {player.name: player.optimizer.state_dict() for player in self.players}

    def load_state_dict(self, state):
        for player in self.players:
            player.optimizer.load_state_dict(state[player.name])

    def parameters(self, player):
        """The parameters that `player`'s optimizer updates."""
        return [p for group in player.optimizer.param_groups for p in group["params"]]
