"""Data sets kept as one NumPy archive of plain arrays (Cora, the spoken digits): found like MNIST's
files (see `glassnet.datasets.paths`: the `root` argument, then $GLASSNET_DATA, then the cache),
verified against their SHA-256, and loaded without pickle."""
import io
from pathlib import Path

import numpy as np

from . import paths
from .idx import ChecksumError, sha256


def find_file(dataset, filename, subdirs, root, how_to_get):
    """The first `filename` found in the candidate folders, or FileNotFoundError listing where it looked."""
    candidates = paths.candidate_dirs(root, subdirs, bare_in_root=True, bare_in_env=False)
    for folder, _ in candidates:
        if (Path(folder) / filename).is_file():
            return Path(folder) / filename
    looked = "\n".join(f"  {folder}  ({origin})" for folder, origin in candidates)
    raise FileNotFoundError(
        f"{dataset}: could not find {filename}. Looked in:\n{looked}\nTo provide it, put {filename} into one of the "
        f"folders above, for example a folder given as root=..., or set ${paths.DATA_ENV} to a folder that contains "
        f"{subdirs[0]}/{filename}. {how_to_get}")


def load_verified_npz(dataset, path, expected_sha256, names):
    """The arrays `names` of the archive at `path`, after checking its SHA-256 (plain arrays only)."""
    raw = Path(path).read_bytes()
    digest = sha256(raw)
    if digest != expected_sha256:
        raise ChecksumError(f"{dataset}: {path} has SHA-256 {digest} ({len(raw)} bytes), expected {expected_sha256}: "
                            f"a damaged or different copy")
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        missing = [n for n in names if n not in archive.files]
        if missing:
            raise ValueError(f"{dataset}: {path} lacks the arrays {', '.join(missing)}")
        return {n: archive[n] for n in names}
