"""Where the training loop takes its batches from. A batch source has

    next()                  the next (micro-)batch
    epoch_end               True when the batch just returned was the last of a pass over the data
    state_dict()            what a checkpoint must hold to continue with exactly the same batches
    load_state_dict(state)

`EpochBatches` walks a DataLoader epoch after epoch; `DrawnBatches` draws every batch afresh from
glassnet's default generator (whose state every checkpoint holds anyway). Recurrent models that carry
their state from batch to batch have their own source (glassnet.recipes.sequence.TBPTT).
"""
__all__ = ["EpochBatches", "DrawnBatches"]


class EpochBatches:
    """The batches of `loader`, epoch after epoch. A shuffling loader needs its own `generator`: the
    state it had at the start of the epoch, with the number of batches done, is what a checkpoint
    stores, so that a resumed run draws the same order and skips the batches already seen."""

    def __init__(self, loader):
        if len(loader) == 0:
            raise ValueError("EpochBatches: the loader has no batches (an empty data set?)")
        sampler = getattr(loader, "sampler", None)
        if loader.generator is None and type(sampler).__name__ == "RandomSampler":
            raise ValueError("EpochBatches: a shuffling DataLoader needs its own generator= for exact resuming")
        self.loader = loader
        self.epoch, self.index = 0, 0  # completed epochs; batches done in the current one
        self.epoch_end = False
        self._batches, self._epoch_start = None, None

    def __len__(self):
        return len(self.loader)

    @property
    def epochs(self):
        """Passes over the data so far, fractional."""
        return self.epoch + self.index / len(self.loader)

    def next(self):
        if self._batches is None:
            self._epoch_start = self._generator_state()
            self._batches = iter(self.loader)
            for _ in range(self.index):  # resumed mid-epoch: the same order, minus the batches done
                next(self._batches)
        batch = next(self._batches)
        self.index += 1
        self.epoch_end = self.index == len(self.loader)
        if self.epoch_end:
            self.epoch, self.index, self._batches = self.epoch + 1, 0, None
        return batch

    def _generator_state(self):
        return self.loader.generator.get_state() if self.loader.generator is not None else None

    def state_dict(self):
        start = self._epoch_start if self._batches is not None else self._generator_state()
        return {"epoch": self.epoch, "index": self.index, "epoch_start": start}

    def load_state_dict(self, state):
        self.epoch, self.index, self._batches = state["epoch"], state["index"], None
        if state["epoch_start"] is not None:
            self.loader.generator.set_state(state["epoch_start"])


class DrawnBatches:
    """`draw()` for every batch (random problems, random windows of a text), drawn from glassnet's
    default generator."""

    epoch_end = False

    def __init__(self, draw):
        self.draw = draw

    def next(self):
        return self.draw()

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass
