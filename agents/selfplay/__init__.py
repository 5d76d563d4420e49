"""Self-play for multi-agent soccer: an opponent pool, matches, the training env, the league.

``visiongym train ppo --multi-agent --self-play --env visiongym/TabletopSoccer-1v1-v0`` trains
(:mod:`visiongym.agents.selfplay.trainer`); ``visiongym league --run RUN`` rates the pool
(:mod:`visiongym.agents.selfplay.league`). See ``docs/agents/selfplay.md``.
"""
