"""visiongym: reinforcement learning and computer vision from pixels, built around Gymnasium.

Importing the package registers every environment under the ``visiongym/`` namespace::

    import gymnasium as gym
    import visiongym

    gym.register_envs(visiongym)  # a no-op that keeps linters from dropping the import
    env = gym.make("visiongym/TabletopSoccer-v0", scenario="2v2", obs_mode="pixels")

``gym.make("visiongym:visiongym/TabletopSoccer-v0")`` imports the package itself. The parts:
:mod:`visiongym.sims` (MuJoCo scenes), :mod:`visiongym.envs` (Gymnasium envs and wrappers),
:mod:`visiongym.vision` (PyTorch models) and :mod:`visiongym.agents` (DQN family, SB3); the
``visiongym`` command (:mod:`visiongym.cli`) runs them.
"""

from importlib.metadata import PackageNotFoundError, version

from visiongym.envs.registration import register_all

try:
    __version__ = version("visiongym")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

register_all()

__all__ = ["__version__", "register_all"]
