"""The command line as a user meets it: help for every recipe, --version, every bad value refused at parse time
with the flag's name in one `glassnet: error:` line and exit status 2, resume semantics (extend, refuse a change,
refuse another recipe's checkpoint, relative paths, a damaged file), run folders never appended to, a wrong
--data-dir honoured, sampling and evaluation errors. No traceback in any of them."""
import json
import os

import pytest

from glassnet import __version__, cli
from glassnet.recipes import all_recipes

SORT = ["--length", "3", "--iters", "4", "--eval-every", "2", "--batch-size", "8", "--n-embd", "16", "--n-layer", "1",
        "--eval-problems", "8", "--test-problems", "8"]


def _error(capsys, argv, status=2):
    """Run the command line; it must fail with `status` and one `glassnet: error:` message (one line, or the few
    lines of a data set's list of the folders it looked in), no traceback. Returns the message."""
    assert cli.main(argv) == status
    err = capsys.readouterr().err.strip().splitlines()
    starts = [i for i, line in enumerate(err) if line.startswith("glassnet: error: ")]
    assert len(starts) == 1 and "Traceback" not in "\n".join(err), err
    return "\n".join(err[starts[0]:])


@pytest.mark.parametrize("name", sorted(all_recipes()))
def test_help_works_for_every_recipe(name, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", name, "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--seed", "--lr", "--out", "--resume", "--epochs", "--iters"):
        assert flag in text, flag


def test_train_help_and_version(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    assert "99%" in capsys.readouterr().out  # a '%' in a description is shown, not a crash
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"glassnet {__version__}"


@pytest.mark.parametrize("argv, expected", [
    (["train", "mnist-cnn-quick", "--epochs", "-1"], "argument --epochs: must be a positive integer, got -1"),
    (["train", "mnist-cnn-quick", "--epochs", "two"], "argument --epochs: expected an int, got 'two'"),
    (["train", "mnist-cnn-quick", "--limit", "-5"], "argument --limit: must be >= 0, got -5"),
    (["train", "mnist-cnn-quick", "--grad-accum", "0"], "argument --grad-accum: must be a positive integer, got 0"),
    (["train", "mnist-cnn-quick", "--clip-grad-norm", "-1"], "argument --clip-grad-norm: must be >= 0, got -1"),
    (["train", "mnist-cnn-quick", "--lr", "0"], "argument --lr: must be > 0, got 0"),
    (["train", "mnist-cnn-quick", "--lr", "nan"], "argument --lr: must be a finite number, got nan"),
    (["train", "mnist-cnn-quick", "--weight-decay", "inf"], "argument --weight-decay: must be a finite number, got inf"),
    (["train", "mnist-cnn-quick", "--dropout", "1.5"], "argument --dropout: must be in [0, 1), got 1.5"),
    (["train", "mnist-cnn-quick", "--data-dir", "/no/such/folder"], "argument --data-dir: no such folder"),
    (["train", "seq2seq-attention", "--task", "chess"], "argument --task: must be one of number-words, reverse"),
    (["train", "char-lstm", "--reset-prob", "2"], "argument --reset-prob: must be in [0, 1], got 2"),
    (["train", "sort-toy", "--epochs", "3"], "argument --epochs: sort-toy counts optimizer steps: use --iters"),
    (["train", "mnist-mlp", "--iters", "3"], "argument --iters: mnist-mlp counts passes over the data: use --epochs"),
    (["train", "no-such-recipe"], "argument recipe: invalid choice: 'no-such-recipe'"),
    (["train", "mnist-mlp", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["sample", "x", "--length", "-3"], "argument --length: must be >= 0, got -3"),
    (["explain", "nothing"], "argument topic: invalid choice: 'nothing'"),
])
def test_bad_values_are_refused_at_parse_time_naming_the_flag(argv, expected, capsys):
    assert expected in _error(capsys, argv)


def test_missing_and_wrong_paths(tmp_path, capsys):
    assert "no such run folder or checkpoint file" in _error(capsys, ["eval", str(tmp_path / "nothing")])
    assert "is not a run folder" in _error(capsys, ["train", "sort-toy", "--resume", str(tmp_path)])
    (tmp_path / "file").write_text("x")
    assert "is a file, not a folder" in _error(capsys, ["train", "sort-toy", *SORT, "--out", str(tmp_path / "file")])
    (tmp_path / "x.safetensors").write_bytes(b"\x00" * 3)
    assert "is damaged" in _error(capsys, ["sample", str(tmp_path / "x.safetensors")])


@pytest.fixture
def sort_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "sort-toy", *SORT, "--out", str(run)]) == 0
    capsys.readouterr()
    return run


def test_a_run_folder_is_never_appended_to(sort_run, capsys):
    before = (sort_run / "metrics.jsonl").read_text()
    assert cli.main(["train", "sort-toy", *SORT, "--out", str(sort_run)]) == 0
    out = capsys.readouterr().out
    assert f"{sort_run} holds another run" in out and f"run folder {sort_run}-2 " in out
    assert (sort_run / "metrics.jsonl").read_text() == before


def test_resume_extends_with_iters_and_refuses_changes(sort_run, capsys):
    assert cli.main(["train", "sort-toy", "--resume", str(sort_run), "--iters", "6"]) == 0
    assert "extending the run to --iters 6" in capsys.readouterr().out
    summary = json.loads((sort_run / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["status"] == "finished"
    steps = [json.loads(line)["step"] for line in (sort_run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps)  # the log continues; nothing written twice
    assert "--lr, --n-embd would change the run being resumed" in _error(
        capsys, ["train", "sort-toy", "--resume", str(sort_run), "--lr", "0.1", "--n-embd", "32"])
    assert "--iters 2 is less than the 6 iters" in _error(
        capsys, ["train", "sort-toy", "--resume", str(sort_run), "--iters", "2"])
    assert "is a run of the recipe 'sort-toy', not of 'add-toy'" in _error(
        capsys, ["train", "add-toy", "--resume", str(sort_run)])
    assert "cannot be used with --resume" in _error(
        capsys, ["train", "sort-toy", "--resume", str(sort_run), "--out", str(sort_run)])


def test_resume_from_a_relative_checkpoint_path(sort_run, capsys, monkeypatch):
    monkeypatch.chdir(sort_run)
    assert cli.main(["train", "sort-toy", "--resume", os.path.join("checkpoints", "last.safetensors"),
                     "--iters", "5"]) == 0
    assert json.loads((sort_run / "summary.json").read_text())["steps"] == 5
    assert "run folder . " in capsys.readouterr().out


def test_a_damaged_checkpoint_is_refused_naming_it_and_offering_another(sort_run, capsys):
    last = sort_run / "checkpoints" / "last.safetensors"
    raw = bytearray(last.read_bytes())
    raw[-100] ^= 0x10  # one flipped bit in the tensor data
    last.write_bytes(bytes(raw))
    for argv in (["train", "sort-toy", "--resume", str(sort_run)], ["eval", str(sort_run)],
                 ["eval", str(last)]):
        line = _error(capsys, argv)
        assert f"{last} is damaged: its content does not match the SHA-256 stored in it" in line
        assert f"{sort_run / 'checkpoints' / 'best.safetensors'} (step" in line


def test_a_wrong_data_dir_is_honoured_even_with_glassnet_data_set(tmp_path, capsys, monkeypatch):
    """An empty --data-dir: the error names it; the data under $GLASSNET_DATA is not silently taken instead."""
    monkeypatch.setenv("GLASSNET_DATA", os.environ.get("GLASSNET_DATA") or str(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    line = _error(capsys, ["train", "gpt-shakespeare", "--iters", "1", "--data-dir", str(empty),
                           "--out", str(tmp_path / "run")])
    assert "TinyShakespeare: could not find input.txt" in line and str(empty) in line
    assert os.environ["GLASSNET_DATA"] != str(empty)  # the environment is as it was
    assert not (tmp_path / "run").exists()  # a run that could not start leaves no folder behind


def test_sample_and_eval_errors(sort_run, capsys):
    assert "is a run of sort-toy, not a text model" in _error(capsys, ["sample", str(sort_run)])
    assert cli.main(["eval", str(sort_run)]) == 0
    assert "test_exact_match" in capsys.readouterr().out
