"""Shared by the tutorial examples: where pictures go, the command line, the MNIST sample."""
import argparse
import os

import numpy as np

IMAGES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "images"))


def run(main):
    """`python docs/examples/x.py [--small] [--out DIR]`: run `main` and print what it returns."""
    parser = argparse.ArgumentParser(description=(main.__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--small", action="store_true", help="tiny sizes (seconds; what the tests run)")
    parser.add_argument("--out", default=IMAGES, help=f"folder for the pictures (default {IMAGES})")
    args = parser.parse_args()
    result = main(out_dir=args.out, small=args.small)
    print({k: v for k, v in result.items() if np.isscalar(v)})


def mnist_sample(train, limit=None, flat=False):
    """The MNIST sample shipped with glassnet, normalised: images (N, 1, 28, 28) or (N, 784), labels (N,)."""
    import glassnet as gn
    from glassnet.datasets import MNIST

    ds = MNIST(train=train, sample=True)
    images, labels = ds.data.array[:limit], ds.targets.array[:limit]
    x = ((images.astype(np.float32) / 255 - 0.1307) / 0.3081)[:, None]
    return gn.tensor(x.reshape(len(x), -1) if flat else x), gn.tensor(labels)
