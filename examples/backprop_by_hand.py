"""Backpropagation by hand on a tiny expression, checked against glassnet's autograd.

The walk-through lives in glassnet/explain/backprop.py (also `glassnet explain backprop`).
Run: python examples/backprop_by_hand.py
"""
from glassnet.explain.backprop import by_autograd, by_hand, main  # noqa: F401

if __name__ == "__main__":
    main()
