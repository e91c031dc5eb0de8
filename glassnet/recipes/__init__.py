"""Recipes: a named model, data set and training setup that reaches a stated result with its defaults.

A recipe is only its model, data and defaults:

    config    a dataclass whose fields are its flags (glassnet.recipes.config)
    build     build(config) -> glassnet.train.Experiment: the model, optimizer, batches, loss,
              evaluation, the final `test` and the `report` (examples, samples, pictures)
    sampler   for text models, sampler(config, extra) -> (model, tokenizer): how `glassnet sample`
              rebuilds the model from a checkpoint (extra: what the recipe saved with it)

Everything around it (the run folder, the loop, checkpoints, resuming, the summary, the curves) is
the same for every recipe: glassnet.recipes.scaffold.
"""
from dataclasses import dataclass
from typing import Callable, Optional

from .config import LENGTH_FIELDS


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    config: type  # a dataclass; every field is a flag of `glassnet train <name>`
    build: Callable  # build(config) -> Experiment, with freshly initialised weights
    sampler: Optional[Callable] = None  # sampler(config, extra) -> (model, tokenizer), for glassnet sample

    @property
    def length_field(self):
        """'epochs' or 'iters': the field that says how long the recipe trains."""
        names = {f for f in self.config.__dataclass_fields__}
        return next(f for f in LENGTH_FIELDS if f in names)

    def run(self, config, run_dir, resume=None, distributed=False):
        """Train into run_dir (continuing from the checkpoint file `resume`; with `distributed`, as one rank of
        an MPI job); returns the summary."""
        from .scaffold import run

        return run(self, config, run_dir, resume, distributed)

    def evaluate(self, config, checkpoint):
        """The final test of the weights in `checkpoint` (a loaded checkpoint dict); returns a dict."""
        from .scaffold import evaluate

        return evaluate(self, config, checkpoint)


RECIPES = {}


def register(recipe):
    if recipe.name in RECIPES:
        raise ValueError(f"register: a recipe named {recipe.name!r} exists already")
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
    # each module registers its recipes
    from . import dqn_cartpole, gat_cora, gcn_cora, mnist, sequence, speech_digits, transformers  # noqa: F401
    from . import detect_digits, detr_digits, resnet_degradation, resnet_mnist, unet_segment  # noqa: F401
    from . import ddpm_mnist, denoise_mnist, gan_mnist, mnist_feature_net, vae_mnist  # noqa: F401  (generative)
    from . import clip_mnist, siamese_mnist, simclr_mnist  # noqa: F401  (contrastive and self-supervised, issue 15)
    from . import transfer_mnist  # noqa: F401  (transfer learning, issue 17)
