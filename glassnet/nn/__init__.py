"""Neural-network building blocks. `glassnet.nn.functional` holds the stateless forms."""
from . import functional  # noqa: F401
