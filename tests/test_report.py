"""The run report (glassnet.viz.report): its sections, how it shows values, the pictures it embeds, and the
pictures of glassnet.viz that it shows (training curves, hidden-state heatmaps) staying legible."""
import base64
import html.parser
import json
import math
import os
import re

import numpy as np
import pytest

from glassnet import viz
from glassnet.recipes import get
from glassnet.viz._report_format import format_value, readable, value_html
from glassnet.viz.plots import plot_training_curves
from glassnet.viz.report import render_report, write_report
from glassnet.viz.rnn_gradients import token_label

SECTIONS = ["results", "curves", "configuration", "pictures", "samples", "log"]
VOID = {"meta", "img", "br", "hr", "link", "input"}


class _Page(html.parser.HTMLParser):
    """Checks that every element is closed in order, and collects the sections, the pictures and <pre> texts."""

    def __init__(self):
        super().__init__()
        self.open, self.sections, self.images, self.pre = [], [], [], []
        self.section = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs["id"]
            self.sections.append(self.section)
        if tag == "img":
            self.images.append((self.section, attrs["src"], attrs.get("alt")))
        if tag == "pre":
            self.pre.append("")
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        if tag == "pre" and self.pre[-1].startswith("\n"):  # as a browser does (html.parser keeps it)
            self.pre[-1] = self.pre[-1][1:]
        self.open.pop()
        if tag == "section":
            self.section = None

    def handle_data(self, data):
        if "pre" in self.open:
            self.pre[-1] += data


def _parse(text):
    page = _Page()
    page.feed(text)
    page.close()
    assert page.open == [], f"unclosed elements: {page.open}"
    return page


def _png(path, colour=0.5):
    fig = viz._figure.new_figure((2, 1.5))
    fig.add_subplot().imshow(np.full((4, 4), colour), cmap="gray", vmin=0, vmax=1)
    viz._figure.finish(fig, path)
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode("ascii")


SAMPLE = "\nROMEO:\nWhat light  through yonder\n\n  window <breaks>? & so on\n"


def _run(folder, summary=None, evals=3):
    """A run folder as the scaffold writes it; returns {picture path: its base64}."""
    os.makedirs(folder / "plots" / "extra")
    (folder / "config.json").write_text(json.dumps({"recipe": "toy-lm", "lr": 0.003, "batch_size": 64,
                                                    "data_dir": "", "pictures": True}))
    rows = [{"split": "train", "step": s, "epoch": s / 100, "loss": 3.0 / (1 + s / 10), "lr": 0.003,
             "seconds": s / 10} for s in range(10, 10 * (evals + 1), 10)]
    rows += [{"split": "eval", "step": s, "epoch": s / 100, "val_loss": 3.2 / (1 + s / 10),
              "val_accuracy": 0.3 + s / 100, "train_loss": 3.0 / (1 + s / 10), "eval_seconds": 0.2,
              "char_per_second": 1234.5} for s in range(10, 10 * (evals + 1), 10)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pictures = {name: _png(folder / "plots" / name, c) for name, c in
                (("curves.png", 0.1), ("hidden_states.png", 0.3), ("extra/heat map.png", 0.6))}
    if summary is not None:
        (folder / "summary.json").write_text(json.dumps({"recipe": "toy-lm", "run_dir": str(folder), **summary,
                                                         "plots": [str(folder / "plots" / "curves.png")]}))
    (folder / "samples.txt").write_text(SAMPLE)
    return pictures


FINISHED = {"status": "finished", "steps": 30, "train_loss": 0.75, "train_seconds": 3.25, "char_per_second": 1234.5,
            "best": {"val_loss": 0.8}, "val_loss": 0.8, "val_accuracy": 0.9349, "test_wer": 1.25, "perplexity": None,
            "iou_per_class": {"background": 0.5, "3": 0.25}, "grad_ratio": {"rnn (init)": 9.8e-14, "lstm": 0.01},
            "sample": SAMPLE, "generated": "N' ast thou\n\nlas the aghe\n", "wrong_examples": ["7 4 -> 4 7   model: 4 4", "1 0 -> 0 1   model: 1 1"],
            "seconds": 4000.0}


def test_a_finished_run_reads_in_order_with_every_picture_in_its_section(tmp_path):
    pictures = _run(tmp_path / "run", FINISHED)
    path = write_report(tmp_path / "run")
    assert path == os.path.join(str(tmp_path / "run"), "report.html")
    text = open(path, encoding="utf-8").read()
    page = _parse(text)
    assert page.sections == SECTIONS
    where = {src: section for section, src, _ in page.images}
    assert len(where) == len(page.images) == 3  # each picture once
    assert where[f"data:image/png;base64,{pictures['curves.png']}"] == "curves"
    assert where[f"data:image/png;base64,{pictures['hidden_states.png']}"] == "pictures"
    assert where[f"data:image/png;base64,{pictures['extra/heat map.png']}"] == "pictures"
    assert {alt for _, _, alt in page.images} == {"Curves", "Hidden states", "Extra / heat map"}
    assert not re.search(r'src="(?!data:)', text)  # self-contained
    assert "<script" not in text


def test_values_are_readable_and_no_raw_dict_or_list_reaches_the_page(tmp_path):
    _run(tmp_path / "run", FINISHED)
    text = render_report(tmp_path / "run")
    body = text.split("</style>", 1)[1]
    for raw in ("{'", '{"', "['", '["', "': ", '": ', "None", "nan", "NaN"):
        assert raw not in body, raw
    results = body.split('id="results"')[1].split("</section>")[0]
    for shown in ("validation accuracy", "93.49 %", "test WER", "125.00 %", "characters per second", "1,234 char/s", "3.2 s", "best validation loss", "9.8e-14", "\u2014",
                  "<th>background</th>", "50.00 %"):
        assert shown in results, shown
    assert "1 h 06 min" in body  # the wall time
    assert body.count("What light") == 1  # samples.txt holds summary.json's sample: shown once


def test_sample_text_keeps_its_newlines_and_examples_are_a_table(tmp_path):
    _run(tmp_path / "run", FINISHED)
    text = render_report(tmp_path / "run")
    page = _parse(text)
    assert SAMPLE in page.pre  # newlines, blank lines, leading spaces and markup characters all kept
    assert "N' ast thou\n\nlas the aghe\n" in page.pre  # a text of summary.json that no file holds
    samples = text.split('id="samples"')[1].split("</section>")[0]
    assert "<td>7 4 -&gt; 4 7</td><td>model: 4 4</td>" in samples


def test_a_stopped_run_shows_its_status_how_to_continue_and_its_last_evaluation(tmp_path):
    stopped = {"status": "stopped", "stopped_by": "SIGINT", "steps": 30, "train_loss": 0.75,
               "message": "Ctrl-C (SIGINT) at step 30: saved checkpoints/last.safetensors", "best": {"val_loss": 0.8}}
    _run(tmp_path / "run", stopped)
    text = render_report(tmp_path / "run")
    _parse(text)
    header = text.split('id="results"')[0]
    assert 'class="status status-stopped">stopped (SIGINT)<' in header
    assert "Ctrl-C (SIGINT) at step 30" in header and f"--resume {tmp_path / 'run'}" in header
    results = text.split('id="results"')[1].split("</section>")[0]
    assert "last evaluation, at step 30" in results and "validation accuracy" in results and "60.00 %" in results


def test_a_run_without_summary_is_incomplete_and_its_curves_are_drawn_from_the_log(tmp_path):
    _run(tmp_path / "run")
    os.remove(tmp_path / "run" / "plots" / "curves.png")
    text = render_report(tmp_path / "run")
    page = _parse(text)
    assert 'status-incomplete">incomplete<' in text and "no summary.json" in text
    assert [section for section, _, _ in page.images].count("curves") == 1
    assert "Curves drawn from metrics.jsonl" in text and "plots/curves.png" not in text
    assert SAMPLE in page.pre  # samples.txt


def test_a_diverged_run_says_why(tmp_path):
    _run(tmp_path / "run", {"status": "diverged", "message": "the training loss became nan at step 7"})
    text = render_report(tmp_path / "run")
    _parse(text)
    assert "status-diverged" in text and "the training loss became nan at step 7" in text


def test_the_report_refuses_what_is_no_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run folder"):
        write_report(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="holds no run"):
        write_report(tmp_path)
    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(ValueError, match="summary.json is not valid JSON"):
        write_report(tmp_path)


def test_every_run_ends_with_its_report(tmp_path):
    config = get("mnist-cnn-quick").config(limit=512, channels=4, hidden=16, epochs=1, pictures=False)
    summary = get("mnist-cnn-quick").run(config, str(tmp_path / "run"))
    text = open(tmp_path / "run" / "report.html", encoding="utf-8").read()
    page = _parse(text)
    assert [section for section, _, _ in page.images] == ["curves"]
    assert f"{100 * summary['test_accuracy']:.2f} %" in text.split('id="results"')[1].split("</section>")[0]


@pytest.mark.parametrize("name, value, shown", [
    ("test_accuracy", 0.98765, "98.77 %"), ("val_wer", 1.5, "150.00 %"), ("test_mean_iou", 0.5, "50.00 %"),
    ("test_map50", 0.25, "25.00 %"), ("val_loss", 1.23456, "1.235"), ("seconds", 59.5, "60 s"),
    ("train_seconds", 125.0, "2 min 05 s"), ("eval_seconds", 0.25, "0.2 s"), ("img_per_second", 717.4, "717 img/s"),
    ("graph_per_second", 4.146, "4.146 graph/s"), ("test_images", 10000, "10,000"), ("lr", 1.2e-8, "1.2e-08"),
    ("kl", 0.0257, "0.0257"), ("frechet_distance", 12345.6, "12,346"), ("val_loss", None, "\u2014"),
    ("val_loss", math.nan, "\u2014"), ("val_loss", math.inf, "\u221e"), ("augment", False, "no"), ("data_dir", "", "\u2014"),
])
def test_values_are_shown_with_their_units(name, value, shown):
    assert format_value(name, value) == shown


def test_names_read_as_words():
    assert readable("val_loss") == "validation loss"
    assert readable("img_per_second") == "images per second"
    assert readable("test_map50") == "test mAP@0.5"
    assert readable("lr") == "learning rate"


def test_nested_values_are_small_tables():
    page = _parse(value_html("best", {"val_loss": 0.5, "test_accuracy": 0.25}))
    assert page.open == []
    shown = value_html("best", {"val_loss": 0.5, "test_accuracy": 0.25})
    assert "<th>val_loss</th>" in shown and "<td>0.5</td>" in shown and "<td>25.00 %</td>" in shown
    rows = value_html("detections", [{"label": 3, "score": 0.5}, {"label": 7, "score": 0.25}])
    assert rows.count("<tr>") == 3 and "{" not in rows
    assert value_html("values", list(range(20))).endswith("\u2026 (20 values)")
    assert value_html("wrong_examples", []) == "none"


# ---- the pictures the report shows -------------------------------------------------------------------------
def test_hidden_states_of_a_long_sequence_wrap_into_rows_of_legible_labels():
    text = "ROMEO:\nWhat light through yonder window breaks? It is the east, and Juliet is the sun.\n" * 2
    tokens = [token_label(c) for c in text]
    assert tokens[6] == "\u21b5" and tokens[11] == "\u2423" and max(map(len, tokens)) == 1
    h = np.random.default_rng(0).standard_normal((len(text), 1, 100))
    fig = viz.plot_hidden_states(h, tokens, boundary=6)
    heatmaps = [ax for ax in fig.axes if ax.images and ax.get_ylabel() == "hidden unit"]
    assert len(heatmaps) == -(-len(text) // 48)  # rows of at most 48 steps
    width, _ = fig.get_size_inches()
    assert width <= 12  # a page's width: labels are not shrunk when shown
    columns = sum(ax.images[0].get_array().shape[1] for ax in heatmaps)
    assert columns == len(text) and all(ax.images[0].get_array().shape[0] == 64 for ax in heatmaps)
    for ax in heatmaps:
        labels = ax.get_xticklabels()
        assert labels and all(label.get_fontsize() >= 9 and label.get_rotation() == 0 for label in labels)
    assert heatmaps[0].lines and heatmaps[0].lines[0].get_xdata()[0] == 5.5  # where generation begins
    assert len([ax for ax in fig.axes if not ax.images and ax not in heatmaps]) == 1  # one colour bar


def test_training_curves_give_each_metric_its_own_scale():
    records = [{"split": "train", "step": s, "d_loss": 0.7 - s / 100, "g_loss": 1.0 + s / 100, "d_real": 0.8}
               for s in (10, 20, 30)]
    records += [{"split": "eval", "step": s, "frechet_distance": 1300.0 - s, "classifier_score": 1.0 + s / 10,
                 "scored_images": 200.0, "train_d_loss": 0.5, "img_per_second": 70.0} for s in (10, 20, 30)]
    fig = plot_training_curves(records, title="gan")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "frechet distance", "classifier score"]  # a constant count is no curve
    assert [line.get_label() for line in fig.axes[0].lines] == ["train d_loss (running)", "train g_loss (running)"]


def test_training_curves_show_accuracy_in_percent_beside_the_running_accuracy():
    records = [{"split": "train", "step": s, "loss": 2.0 / s, "accuracy": 0.5 + s / 100} for s in (10, 20, 30)]
    records += [{"split": "eval", "step": s, "test_loss": 2.5 / s, "test_accuracy": 0.4 + s / 100} for s in (10, 30)]
    fig = plot_training_curves(records, title="mnist")
    loss, accuracy = fig.axes
    assert [line.get_label() for line in loss.lines] == ["train (running)", "test_loss"]
    assert loss.get_yscale() == "log" and loss.yaxis.get_major_formatter()(0.1, 0) == "0.1"
    assert accuracy.get_ylabel() == "%" and np.allclose(accuracy.lines[1].get_ydata(), [50, 70])
    assert [line.get_label() for line in accuracy.lines] == ["train accuracy (running)", "test_accuracy"]


def test_training_curves_put_the_variants_of_one_metric_in_one_panel():
    records = [{"split": "eval", "step": s, "test_accuracy_plain8": 0.2 + s / 100, "test_accuracy_resnet8": 0.3,
                "test_mean_iou": 0.5, "test_foreground_iou": 0.1 * s} for s in (10, 20)]
    fig = plot_training_curves(records, title="degradation")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "test accuracy", "test mean IoU", "test foreground IoU"]
    assert [line.get_label() for line in fig.axes[1].lines] == ["test_accuracy_plain8", "test_accuracy_resnet8"]


def test_training_curves_take_the_running_value_from_the_eval_records_when_train_records_lack_it():
    records = [{"split": "train", "step": s, "loss": 1.0 / s, "q": 2.0} for s in (5, 10, 15, 20)]
    records += [{"split": "eval", "step": s, "eval_return": 10.0 * s, "train_return": 5.0 * s} for s in (10, 20)]
    ret = plot_training_curves(records, title="dqn").axes[1]
    assert ret.get_title() == "eval return"
    assert [line.get_label() for line in ret.lines] == ["train return (running)", "eval_return"]
    assert list(ret.lines[0].get_ydata()) == [50.0, 100.0]
