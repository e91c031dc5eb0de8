"""The training toolkit: one loop for every recipe (glassnet.train.loop), its batch sources, losses and
evaluations, checkpoints, the metrics log, progress bars, deferred Ctrl-C / SIGTERM and the warmup +
cosine schedule."""
from .batches import DrawnBatches, EpochBatches
from .checkpoint import CheckpointError, checkpoint_file, load_checkpoint
from .loop import Experiment, LoopResult, TrainingDiverged, train
from .players import Player, Players
from .schedules import WarmupCosineLR

__all__ = ["Experiment", "train", "LoopResult", "TrainingDiverged", "EpochBatches", "DrawnBatches",
           "CheckpointError", "checkpoint_file", "load_checkpoint", "WarmupCosineLR", "Player", "Players"]
