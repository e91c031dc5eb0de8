"""Automatic differentiation: the engine, `grad`, `backward`, `gradcheck`, forward mode (`jvp`), grad modes."""
from .function import Function  # noqa: F401
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .gradcheck import GradcheckError, gradcheck  # noqa: F401
from .backward import backward, grad  # noqa: F401
from . import functional  # noqa: F401,E402
from . import forward_ad  # noqa: F401,E402
from .forward_ad import jvp  # noqa: F401,E402
