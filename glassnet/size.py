"""`Size`: PyTorch's tuple of dimension lengths, for programs that build one (`torch.Size([2, 3])`).
glassnet's `tensor.shape` and `tensor.size()` are plain tuples, which compare equal to a Size."""
import math

__all__ = ["Size"]


class Size(tuple):
    """A tuple of non-negative ints with `numel()`; a slice of a Size is a Size."""

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in sizes):
            raise TypeError(f"Size: expected non-negative ints, got {sizes!r}")
        return super().__new__(cls, sizes)

    def numel(self):
        """The number of elements of a tensor of this size."""
        return math.prod(self)

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __repr__(self):
        return f"glassnet.Size({list(self)})"
