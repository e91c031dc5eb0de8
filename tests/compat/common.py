"""What the compatibility programs share: the starting weights and the batch choices of a reference run
(see the package docstring). Plain user code on a model and tensors, so it runs on either framework."""


def numpy_state(model):
    """The model's state dict as NumPy arrays (copies), for another run to start from."""
    return {name: value.detach().cpu().numpy().copy() for name, value in model.state_dict().items()}


def load_numpy_state(torch, model, weights):
    """Load NumPy arrays into `model` through its own load_state_dict (nothing to do when None)."""
    if weights is not None:
        model.load_state_dict({name: torch.from_numpy(array.copy()) for name, array in weights.items()})


class Replay:
    """Batch choices: each call records the choice used, which is the drawn one unless a recorded run
    is being replayed. `batch(indices)` takes a tensor of indices, `item(index)` one int."""

    def __init__(self, torch, recorded=None):
        self.torch, self.recorded, self.used = torch, recorded, []

    def batch(self, drawn):
        if self.recorded is not None:
            drawn = self.torch.tensor(self.recorded[len(self.used)])
        self.used.append(drawn.tolist())
        return drawn

    def item(self, drawn):
        drawn = int(drawn) if self.recorded is None else self.recorded[len(self.used)]
        self.used.append(drawn)
        return drawn
