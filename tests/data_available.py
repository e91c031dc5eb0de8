"""Whether the real data sets are where the tests may look: $GLASSNET_DATA or the cache (tests never download)."""
import pytest


def shakespeare_available():
    from glassnet.datasets import TinyShakespeare

    try:
        TinyShakespeare(download=False)
        return True
    except (OSError, ValueError):
        return False


needs_shakespeare = pytest.mark.skipif(not shakespeare_available(),
                                       reason="tiny Shakespeare not found (set GLASSNET_DATA)")
