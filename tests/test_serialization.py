import re

import numpy as np
import pytest

import glassnet as gn
from glassnet.serialization import DamagedFileError, remove_stale_temporaries


def test_state_dict_round_trip_is_plain_safetensors(tmp_path):
    from safetensors.numpy import load_file

    sd = {"fc.weight": gn.randn(3, 4), "fc.bias": gn.zeros(3), "steps": gn.tensor([5]), "scalar": gn.tensor(2.0),
          "strided": gn.randn(4, 6)[:, ::2]}
    gn.save(sd, tmp_path / "m.safetensors")
    back = gn.load(tmp_path / "m.safetensors")
    assert list(back) == list(sd) or set(back) == set(sd)
    for k in sd:
        np.testing.assert_array_equal(back[k].array, sd[k].array)
        assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape
    raw = load_file(str(tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(raw["fc.weight"], sd["fc.weight"].array)


def test_nested_structure_round_trip(tmp_path):
    obj = {"model": {"w": gn.randn(2, 2)}, "optimizer": {"state": {0: {"step": 3, "exp_avg": gn.ones(2)}},
                                                          "param_groups": [{"lr": 0.1, "params": [0]}]},
           "epoch": 4, "config": {"name": "x", "betas": (0.9, 0.99)}, "none": None}
    gn.save(obj, tmp_path / "ckpt.safetensors")
    back = gn.load(tmp_path / "ckpt.safetensors")
    assert back["epoch"] == 4 and back["config"] == {"name": "x", "betas": (0.9, 0.99)} and back["none"] is None
    assert back["optimizer"]["state"][0]["step"] == 3 and back["optimizer"]["param_groups"][0]["lr"] == 0.1
    np.testing.assert_array_equal(back["model"]["w"].array, obj["model"]["w"].array)


def test_save_is_atomic_and_rejects_unknown_objects(tmp_path):
    target = tmp_path / "x.safetensors"
    gn.save({"a": gn.ones(1)}, target)
    with pytest.raises(TypeError, match="cannot store an object of type object"):
        gn.save({"a": gn.ones(1), "b": object()}, target)
    assert gn.load(target)["a"].tolist() == [1.0]  # the old file survives the failed save
    assert [p.name for p in tmp_path.iterdir()] == ["x.safetensors"]  # no temporary left behind


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file at"):
        gn.load(tmp_path / "nonexistent.safetensors")


# ---- damaged files: every one refused with one message naming the file ---------------------------------------------
def _checkpoint_bytes(tmp_path):
    """A small checkpoint-like file: nested structure, float and int tensors, and its raw bytes."""
    gn.manual_seed(0)
    obj = {"model": {"w": gn.randn(8, 16), "b": gn.zeros(16), "n": gn.tensor(3)}, "step": 7,
           "optimizer": {"state": {0: {"exp_avg": gn.randn(8, 16)}}}}
    path = tmp_path / "ckpt.safetensors"
    gn.save(obj, path)
    return path, path.read_bytes()


def _header_size(raw):
    return 8 + int.from_bytes(raw[:8], "little")


def _refused(path, raw):
    path.write_bytes(bytes(raw))
    with pytest.raises(DamagedFileError, match=f"load: {re.escape(str(path))} is damaged"):
        gn.load(path)


DAMAGED = {"flipped bytes in the tensor data": 40, "dtype relabelled": 3, "truncated": 12, "header garbage": 12,
           "header length garbage": 4}


def test_damaged_files_are_refused(tmp_path):
    """Flipped bytes in the tensors, a relabelled dtype, a truncated file, garbage in the header: each refused by
    load with a DamagedFileError that names the file, never loaded silently (this would have evaluated wrong
    weights) and never a raw traceback of the safetensors library."""
    path, raw = _checkpoint_bytes(tmp_path)
    rng = np.random.default_rng(0)
    start = _header_size(raw)
    refused = 0
    for _ in range(DAMAGED["flipped bytes in the tensor data"]):
        damaged = bytearray(raw)
        for i in rng.choice(np.arange(start, len(raw)), size=rng.integers(1, 100), replace=False):
            damaged[i] ^= int(rng.integers(1, 256))
        _refused(path, damaged)
        refused += 1
    for old, new in ((b'"F32"', b'"I32"'), (b'"F32"', b'"U32"'), (b'"I64"', b'"F64"')):
        _refused(path, raw.replace(old, new, 1))
        refused += 1
    for size in rng.integers(0, len(raw), DAMAGED["truncated"]):
        _refused(path, raw[:size])
        refused += 1
    for _ in range(DAMAGED["header garbage"]):
        damaged = bytearray(raw)
        for i in rng.choice(np.arange(8, start), size=rng.integers(1, 20), replace=False):
            damaged[i] = int(rng.integers(0, 256))
        _refused(path, damaged)
        refused += 1
    for length in (0, 1, start + 10 ** 6, 2 ** 63):
        _refused(path, length.to_bytes(8, "little") + raw[8:])
        refused += 1
    assert refused == sum(DAMAGED.values()) == 71
    path.write_bytes(raw)
    assert gn.load(path)["step"] == 7  # the undamaged file loads


def test_stale_temporaries_are_removed(tmp_path):
    gn.save({"a": gn.ones(1)}, tmp_path / "a.safetensors")
    (tmp_path / ".tmp-killed.safetensors").write_bytes(b"half a file")
    assert remove_stale_temporaries(tmp_path) == [str(tmp_path / ".tmp-killed.safetensors")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.safetensors"]


def test_a_damaged_checkpoint_names_the_runs_other_checkpoints(tmp_path):
    from glassnet.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

    folder = tmp_path / "checkpoints"
    for name, step in (("best", 4), ("last", 6)):
        save_checkpoint(folder / f"{name}.safetensors", {"config": {"recipe": "x"}, "loop": {"step": step},
                                                         "model": {"w": gn.ones(3)}})
    raw = bytearray((folder / "last.safetensors").read_bytes())
    raw[-1] ^= 1
    (folder / "last.safetensors").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"last.safetensors is damaged.*Use another checkpoint of this run "
                                              r"instead \(give its path\): .*best.safetensors \(step 4\)"):
        load_checkpoint(folder / "last.safetensors")
    gn.save({"w": gn.ones(2)}, folder / "plain.safetensors")
    with pytest.raises(CheckpointError, match="is not a glassnet training checkpoint"):
        load_checkpoint(folder / "plain.safetensors")


def test_file_objects_like_torch_save_and_load(tmp_path):
    import io

    buffer = io.BytesIO()
    model = gn.nn.Linear(3, 2)
    gn.save(model.state_dict(), buffer)
    buffer.seek(0)
    loaded = gn.load(buffer, map_location="cpu", weights_only=True)
    np.testing.assert_array_equal(loaded["weight"].array, model.weight.array)
    with open(tmp_path / "m.safetensors", "wb") as f:
        gn.save({"step": 3, "w": model.weight}, f)
    with open(tmp_path / "m.safetensors", "rb") as f:
        assert gn.load(f)["step"] == 3
    with pytest.raises(RuntimeError, match="not available"):
        gn.load(tmp_path / "m.safetensors", map_location="cuda:0")


def test_saving_a_whole_module_says_to_save_its_state_dict(tmp_path):
    with pytest.raises(TypeError, match=r"never pickles objects.*state_dict\(\)"):
        gn.save(gn.nn.Linear(2, 2), tmp_path / "model.pt")
    with pytest.raises(TypeError, match="state_dict"):
        gn.save(gn.optim.SGD(gn.nn.Linear(2, 2).parameters(), lr=0.1), tmp_path / "opt.pt")


def test_bfloat16_safetensors_are_widened_to_float32(tmp_path):
    import torch
    from safetensors.torch import save_file

    weights = torch.randn(4, 5).to(torch.bfloat16)
    save_file({"w": weights, "n": torch.arange(3)}, str(tmp_path / "bf16.safetensors"))
    loaded = gn.load(tmp_path / "bf16.safetensors")
    assert loaded["w"].dtype == np.float32 and loaded["n"].dtype == np.int64
    np.testing.assert_array_equal(loaded["w"].array, weights.float().numpy())
