"""visiongym.sims: MuJoCo scenes, cameras and ground truth (no RL words here).

MuJoCo picks its OpenGL backend when it is first imported, so the choice is made here, before
any submodule imports ``mujoco``.
"""

from visiongym.sims.gl import configure_gl

configure_gl()
