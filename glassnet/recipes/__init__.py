"""Recipes: a named model, data set and training setup that reaches a stated result with its defaults.

Each recipe is a `Recipe` with a config dataclass (its fields become command-line flags) and a `run`
function that trains into a run folder and returns a summary dict.
"""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    config: type  # a dataclass; every field is a flag of `glassnet train <name>`
    run: Callable  # run(config, run_dir, resume=None, **fit_options) -> summary dict
    evaluate: Callable  # evaluate(config, checkpoint_state) -> summary dict


RECIPES = {}


def register(recipe):
    RECIPES[recipe.name] = recipe
    return recipe


def get(name):
    _load_all()
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; available: {', '.join(sorted(RECIPES))}")
    return RECIPES[name]


def all_recipes():
    _load_all()
    return dict(sorted(RECIPES.items()))


def _load_all():
    from . import mnist, sequence, transformers  # noqa: F401  (each module registers its recipes)
