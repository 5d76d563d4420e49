"""The commands' error handling: a bad input is one ``error:`` line and exit status 2."""

import pytest

from visiongym.envs.cli import TRACEBACK_VARIABLE, run_command
from visiongym.sims.errors import MissingFileError, UsageError
from visiongym.sims.gl import RenderingUnavailableError


def _bad_env():
    raise UsageError("env 'nope' unknown; choose one of: a, b")


def test_bad_input_is_one_error_line_and_status_2(capsys, monkeypatch):
    monkeypatch.delenv(TRACEBACK_VARIABLE, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        run_command(_bad_env)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        f"error: env 'nope' unknown; choose one of: a, b\n({TRACEBACK_VARIABLE}=1 shows the traceback)\n")


def test_missing_renderer_is_a_user_error(monkeypatch):
    monkeypatch.delenv(TRACEBACK_VARIABLE, raising=False)

    def no_gl():
        raise RenderingUnavailableError("MUJOCO_GL='egl' needs libEGL")

    with pytest.raises(SystemExit) as exit_info:
        run_command(no_gl)
    assert exit_info.value.code == 2


def test_traceback_on_request_and_for_bugs(monkeypatch):
    monkeypatch.setenv(TRACEBACK_VARIABLE, "1")
    with pytest.raises(ValueError, match="env 'nope' unknown"):
        run_command(_bad_env)
    monkeypatch.delenv(TRACEBACK_VARIABLE)
    with pytest.raises(ZeroDivisionError):  # not a bad input: a bug keeps its traceback
        run_command(lambda: 1 / 0)

    def plain_value_error():  # a ValueError that no validator raised is a bug too
        raise ValueError("math domain error")

    with pytest.raises(ValueError, match="math domain"):
        run_command(plain_value_error)
    assert run_command(lambda: 7) == 7


def test_play_command_on_an_unknown_scenario(tmp_path, run_module):
    result = run_module("visiongym.envs.play", "visiongym/TabletopSoccer-v0", "--scenario", "4v4", "--policy", "random",
                        "--record", tmp_path / "out.gif")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "'4v4'" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_are_the_old_exception_types_too():
    assert issubclass(UsageError, ValueError)
    assert issubclass(MissingFileError, FileNotFoundError) and issubclass(MissingFileError, UsageError)
    assert issubclass(RenderingUnavailableError, RuntimeError) and issubclass(RenderingUnavailableError, UsageError)
