"""Stateless layers and activations, under the names of torch.nn.functional."""
from ..ops.activation import *  # noqa: F401,F403

