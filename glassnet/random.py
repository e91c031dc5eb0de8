"""Random number generation: a seedable `Generator` and the default one behind `manual_seed`.

glassnet draws from NumPy's PCG64. The numbers differ from PyTorch's for the same seed, but a
seed always gives the same numbers in glassnet, which is what reproducible runs need.
"""
import numpy as np


class Generator:
    """A source of random numbers with its own seed and state (like torch.Generator)."""

    def __init__(self, seed=None):
        self.manual_seed(np.random.SeedSequence().entropy if seed is None else seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.np = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        """Reseed from fresh entropy and return the new seed."""
        self.manual_seed(np.random.SeedSequence().entropy % (2**63))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The generator's state as a dict of plain ints and strings (JSON-serialisable)."""
        return self.np.bit_generator.state

    def set_state(self, state):
        self.np.bit_generator.state = state
        return self


default_generator = Generator(0)


def manual_seed(seed):
    """Seed the default generator, so that every random factory and layer repeats its numbers."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def rng(generator=None):
    """The NumPy generator to draw from: `generator`'s, or the default one."""
    return (generator or default_generator).np
