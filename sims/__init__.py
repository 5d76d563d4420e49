"""visiongym.sims: MuJoCo scenes, cameras and ground truth (no RL words here).

MuJoCo picks its OpenGL backend when it is first imported, so the choice is made here, before
any submodule imports ``mujoco``. A ``MUJOCO_GL`` that cannot work does not fail this import; the
first render says what to install (:func:`visiongym.sims.gl.configure_gl_at_import`).
"""

from visiongym.sims.gl import configure_gl_at_import

configure_gl_at_import()
