"""``visiongym evaluate --appearance``: any run evaluated on shifted looks."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_evaluate_takes_an_appearance():
    from visiongym.agents.evaluate import main as evaluate_main

    run = Path(__file__).parent / "fixtures" / "release1" / "ppo"  # soccer, state observations
    base = evaluate_main([str(run), "--episodes", "2", "--device", "cpu"])
    shifted = evaluate_main([str(run), "--episodes", "2", "--device", "cpu", "--appearance", "held_out"])
    assert shifted.returns == base.returns  # a look never changes states, so a state policy plays the same
    with pytest.raises(ValueError, match="appearance 'grey' unknown"):
        evaluate_main([str(run), "--episodes", "1", "--device", "cpu", "--appearance", "grey"])
