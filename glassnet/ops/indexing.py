"""Indexing, joining and slicing (filled in below)."""
__all__ = ["to_index"]


def to_index(index):
    return index
