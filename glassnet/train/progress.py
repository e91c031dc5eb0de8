"""A progress bar for training (tqdm) that shows loss, accuracy, throughput and the time left."""
import sys
import time

from tqdm.auto import tqdm


class Progress:
    def __init__(self, total, desc, initial=0, disable=None):
        self.bar = tqdm(total=total, initial=initial, desc=desc, unit="batch", dynamic_ncols=True, leave=True,
                        disable=(not sys.stderr.isatty() and total < 2) if disable is None else disable,
                        mininterval=0.5)
        self.images = 0
        self.start = time.perf_counter()

    def update(self, images, **values):
        self.images += images
        rate = self.images / max(time.perf_counter() - self.start, 1e-9)
        self.bar.set_postfix({**{k: f"{v:.4f}" for k, v in values.items()}, "img/s": f"{rate:.0f}"},
                             refresh=False)
        self.bar.update(1)

    @property
    def images_per_second(self):
        return self.images / max(time.perf_counter() - self.start, 1e-9)

    def close(self):
        self.bar.close()
