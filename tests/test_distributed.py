"""Data-parallel training on MPI, with two processes on this machine (run by mpiexec)."""
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import glassnet as gn

pytest.importorskip("mpi4py", reason="glassnet[distributed] is not installed")
WORKER = os.path.join(os.path.dirname(__file__), "distributed_worker.py")
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")


def _mpiexec(scenario, out, *flags, timeout=120, env=None):
    if MPIEXEC is None:
        pytest.fail("mpi4py is installed but no mpiexec was found next to the Python executable or on PATH")
    cmd = [MPIEXEC, *flags, "-n", "2", sys.executable, WORKER, scenario, str(out)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=environment)


def test_collectives_on_two_ranks(tmp_path):
    run = _mpiexec("collectives", tmp_path / "ok")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "ok").read_text() == "ok"


def test_two_ranks_with_batch_b_equal_one_process_with_batch_2b(tmp_path):
    import distributed_worker as w

    run = _mpiexec("equivalence", tmp_path / "ddp.safetensors")
    assert run.returncode == 0, run.stderr
    ddp = gn.load(tmp_path / "ddp.safetensors")
    single = w.train(w.model(), gn.utils.data.DataLoader(w.data(), batch_size=2 * w.PER_RANK_BATCH))
    for name, value in single.state_dict().items():  # (layer norm: per-sample, so the split changes nothing)
        np.testing.assert_allclose(ddp[name].array, value.array, rtol=2e-5, atol=2e-6, err_msg=name)


def test_a_killed_rank_stops_the_job(tmp_path):
    """The launcher notices the dead process and ends the job: nothing hangs."""
    start = time.monotonic()
    run = _mpiexec("killed", tmp_path / "x")
    assert run.returncode != 0 and time.monotonic() - start < 60
    assert "Killed" in run.stdout + run.stderr


def test_a_rank_that_never_arrives_stops_the_job_with_a_clear_error(tmp_path):
    start = time.monotonic()
    run = _mpiexec("stalled", tmp_path / "x", env={"GLASSNET_DIST_TIMEOUT": "3"})
    assert run.returncode != 0 and time.monotonic() - start < 40
    assert "all_reduce: rank 0 waited 3 s for the other ranks" in run.stdout + run.stderr


def test_distributed_sampler_splits_and_pads_like_torch():
    import torch.utils.data as tud

    from glassnet.distributed import DistributedSampler

    for n, replicas, shuffle, drop_last in [(10, 3, False, False), (10, 3, False, True), (7, 2, True, False)]:
        ours = [list(DistributedSampler(range(n), replicas, r, shuffle=shuffle, drop_last=drop_last))
                for r in range(replicas)]
        theirs = [list(tud.DistributedSampler(range(n), replicas, r, shuffle=shuffle, drop_last=drop_last))
                  for r in range(replicas)]
        assert [len(o) for o in ours] == [len(t) for t in theirs]
        if not shuffle:
            assert ours == theirs
        else:  # another random generator: the same coverage, each index once plus the same amount of padding
            assert set(sum(ours, [])) == set(range(n)) and len(sum(ours, [])) == len(sum(theirs, []))


def test_a_recipe_trains_on_two_ranks_and_rank_0_writes_the_run(tmp_path):
    import json

    glassnet_cli = os.path.join(os.path.dirname(sys.executable), "glassnet")
    cmd = [MPIEXEC, "-n", "2", glassnet_cli, "train", "mnist-cnn-quick", "--epochs", "1", "--distributed",
           "--out", str(tmp_path / "run")]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(os.listdir(tmp_path)) == ["run"]  # one run folder, written by rank 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["test_accuracy"] > 0.85
    assert run.stdout.count("summary") == 1  # rank 1 trains silently
