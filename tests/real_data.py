"""The real data sets under $GLASSNET_DATA (CI points it at the shared data folder); tests skip without them."""
import os
from pathlib import Path

import pytest


def real_data_dir(*parts):
    """$GLASSNET_DATA/<parts...> if it exists, else skip the test."""
    env = os.environ.get("GLASSNET_DATA")
    path = Path(env, *parts) if env else None
    if path is None or not path.exists():
        pytest.skip(f"real data unavailable: $GLASSNET_DATA/{'/'.join(parts)} not found")
    return Path(env)
