"""Ray RLlib as a second engine for PPO: ``python -m visiongym.agents.train ppo --engine rllib``.

Ray is an extra (``pip install 'visiongym[rllib]'``); nothing here imports it until a run starts.
"""
