"""visiongym agents: our DQN family and SB3 policy agents, with one way to train and evaluate.

- ``python -m visiongym.agents.train <algo> ...``: an algorithm of ``visiongym.agents.algorithms.ALGORITHMS``
  (our dqn, drqn; SB3's and sb3-contrib's); run folders under ``runs/`` with config, TensorBoard,
  evaluations, checkpoints.
- ``python -m visiongym.agents.evaluate <run or checkpoint>``: return, goal rate, length with 95% CIs.
- ``visiongym.agents.policies.load_policy(path, env)``: a trained policy as ``obs -> action``.
- ``python -m visiongym.agents.demo``: train our DQN on soccer ``empty_goal`` from pixels, film it.

See ``docs/agents.md``.
"""
