import numpy as np
import pytest

import glassnet as gn


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


def test_load_missing_file():
    with pytest.raises(FileNotFoundError, match="no file at"):
        gn.load("/nonexistent/file.safetensors")
