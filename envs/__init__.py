"""Gymnasium environments of the suite, registered under the ``visiongym/`` namespace.

Importing :mod:`visiongym.envs` registers every environment, so ``gymnasium.make("visiongym/...")`` works
after ``import envs``. Each environment module registers itself in :mod:`visiongym.envs.registration`.
"""

from visiongym.envs.registration import register_all

register_all()
