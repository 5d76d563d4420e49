"""One evaluation, best-model and checkpoint-metadata path (agents/common/checkpoints.py) for every
trainer: the options it reads are honoured by our DQN family and by SB3 alike."""

import csv

import pytest

from visiongym.agents.train import main as train_main
from visiongym.vision.runtime import load_checkpoint

TINY = ["--env", "visiongym/CatchBall-v0", "--env-kwargs", "rows=4", "columns=3", "image_size=36",
        "--features-dim", "8", "--buffer-size", "200", "--learning-starts", "20", "--batch-size", "4",
        "--total-steps", "40", "--eval-interval", "40", "--eval-episodes", "2", "--checkpoint-interval", "40",
        "--no-video", "--no-progress", "--threads", "1", "--grayscale"]


@pytest.mark.parametrize("algo", ["dqn", "drqn"])
def test_eval_info_keys_are_written_by_our_dqn_family(tmp_path, algo):
    extra = ["--sequence-length", "4", "--burn-in", "1", "--lstm-hidden", "8"] if algo == "drqn" else ["--frame-stack", "2"]
    run = train_main([algo, *TINY, *extra, "--eval-info-keys", "catch", "--runs-dir", str(tmp_path)])
    rows = list(csv.DictReader((run / "evaluations.csv").open()))
    assert "mean_catch" in rows[0] and -1.0 <= float(rows[0]["mean_catch"]) <= 1.0
    best = load_checkpoint(run / "checkpoints" / "best.pt")["meta"]
    last = load_checkpoint(run / "checkpoints" / "last.pt")["meta"]
    for meta in (best, last):  # the same metadata path: algo, env, seed, config, network description
        assert {"algo", "env_id", "env_kwargs", "seed", "config", "network", "frame_stack", "grayscale"} <= set(meta)
    assert best["network"] == last["network"]
    assert best["network"]["class"] == ("RecurrentQNetwork" if algo == "drqn" else "QNetwork")


def test_an_unknown_eval_info_key_is_refused_by_dqn(tmp_path):
    with pytest.raises(ValueError, match="eval info key 'nope' is not in the env's info; it has: catch, is_success"):
        train_main(["dqn", *TINY, "--eval-info-keys", "nope", "--runs-dir", str(tmp_path)])
