"""Where data sets are looked for, and the download cache.

Lookup order for a data set's files:
  1. the `root` argument given to the data set;
  2. the folder named by the GLASSNET_DATA environment variable;
  3. the cache folder: GLASSNET_CACHE, else ~/.cache/glassnet (downloads are written there).
Within each base folder a data set looks in a few conventional sub-folders (for MNIST: the folder
itself, `mnist/` and `MNIST/raw/`, the last being torchvision's layout).
"""
import os
from pathlib import Path

__all__ = ["DATA_ENV", "CACHE_ENV", "cache_dir", "data_env_dir", "candidate_dirs"]

DATA_ENV = "GLASSNET_DATA"
CACHE_ENV = "GLASSNET_CACHE"


def cache_dir():
    """The glassnet cache folder: $GLASSNET_CACHE, else ~/.cache/glassnet (not created here)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "glassnet"


def data_env_dir():
    """The folder named by $GLASSNET_DATA, or None when the variable is unset or empty."""
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else None


def candidate_dirs(root, subdirs, bare_in_root=True, bare_in_env=True):
    """The folders to search, in order, as (folder, origin) pairs, duplicates removed.

    For each base folder (root, $GLASSNET_DATA, the cache) the candidates are the base itself (when
    allowed: never for the cache, whose layout glassnet controls) then `base/sub` for each of `subdirs`.
    """
    bases = []
    if root is not None:
        bases.append((Path(root).expanduser(), "root argument", bare_in_root))
    env = data_env_dir()
    if env is not None:
        bases.append((env, f"${DATA_ENV}", bare_in_env))
    bases.append((cache_dir(), "cache", False))
    out, seen = [], set()
    for base, origin, bare in bases:
        for folder in ([base] if bare else []) + [base / s for s in subdirs]:
            key = os.path.abspath(folder)
            if key not in seen:
                seen.add(key)
                out.append((folder, origin))
    return out
