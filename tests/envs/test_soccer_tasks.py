"""Soccer tasks on a bare scene: placement ranges, reward terms, termination."""

import math

import numpy as np
import pytest

from visiongym.envs.soccer_tasks import (
    REWARD_TERMS,
    SCENARIOS,
    EmptyGoalTask,
    MatchTask,
    PenaltyTask,
    make_task,
)
from visiongym.sims.soccer import SoccerScene


def scene_for(scenario: str) -> SoccerScene:
    setup = SCENARIOS[scenario]
    return SoccerScene(team_size=setup.team_sizes, roles=setup.roles)


def started(scenario: str, seed: int):
    """A scene and its scenario's task (controlling player 0) at the start of an episode."""
    scene, task, rng = scene_for(scenario), make_task(scenario, (0,)), np.random.default_rng(seed)
    scene.reset(rng)
    task.reset(scene, rng)
    return scene, task


def idle(scene: SoccerScene) -> np.ndarray:
    commands = np.zeros((scene.n_players, 4))
    commands[:, 3] = -1.0
    return commands


def test_every_scenario_makes_the_task_of_its_family():
    families = {name: type(make_task(name, (0,))) for name in SCENARIOS}
    assert families == {"empty_goal": EmptyGoalTask, "penalty": PenaltyTask, "1v1": MatchTask,
                        "2v2": MatchTask, "3v3": MatchTask, "5v5": MatchTask}
    assert make_task("penalty", (0,)).terminate_on_goal and not make_task("2v2", (1,)).terminate_on_goal
    assert make_task("2v2", (1,), terminate_on_goal=True).terminate_on_goal
    with pytest.raises(ValueError, match="scenario 'penalti' unknown; choose one of: empty_goal, penalty"):
        make_task("penalti", (0,))
    with pytest.raises(ValueError, match="at least one controlled player"):
        make_task("2v2", ())


def test_empty_goal_places_the_attacker_in_the_middle_and_the_ball_ahead_of_it():
    scene = scene_for("empty_goal")
    task = make_task("empty_goal", (0,))
    half_length, half_width = scene.pitch.length / 2, scene.pitch.width / 2
    rng = np.random.default_rng(0)
    for _ in range(50):
        scene.reset(rng)
        task.reset(scene, rng)
        (x, y), yaw = scene.player_positions()[0], scene.player_yaws()[0]
        assert abs(x) <= 0.3 * half_length and abs(y) <= 0.5 * half_width and abs(yaw) <= 0.5
        offset = scene.ball_position() - (x, y)
        ahead = offset[0] / math.cos(yaw)
        assert scene.reach + 0.02 * half_length <= ahead <= scene.reach + 0.25 * half_length + 1e-9
        assert offset[1] == pytest.approx(0.5 * ahead * math.sin(yaw))
        assert np.all(scene.player_velocities() == 0) and np.all(scene.ball_velocity() == 0)


def test_penalty_puts_the_ball_on_the_spot_the_taker_in_reach_and_the_keeper_on_his_line():
    scene = scene_for("penalty")
    task = make_task("penalty", (0,))
    half_length = scene.pitch.length / 2
    spot = half_length - 0.5 * (half_length / 1.2)
    rng = np.random.default_rng(1)
    for _ in range(50):
        scene.reset(rng)
        task.reset(scene, rng)
        assert (task.taker, task.keeper) == (0, 1)
        np.testing.assert_allclose(scene.ball_position(), (spot, 0.0))
        to_ball = scene.ball_position() - scene.player_positions()[0]
        assert np.hypot(*to_ball) == pytest.approx(scene.reach - 0.015)
        yaw = scene.player_yaws()[0]
        assert abs(yaw) <= 0.6 and math.atan2(to_ball[1], to_ball[0]) == pytest.approx(yaw)  # facing it
        keeper = scene.player_positions()[1]
        assert keeper[0] == pytest.approx(half_length - 0.08) and abs(keeper[1]) <= 0.05
        assert scene.player_yaws()[1] == pytest.approx(math.pi)


def test_a_match_keeps_the_kick_off_formation():
    scene = scene_for("2v2")
    scene.reset(np.random.default_rng(4))
    formation = scene.player_positions().copy()
    make_task("2v2", (1,)).reset(scene, np.random.default_rng(5))
    np.testing.assert_array_equal(scene.player_positions(), formation)


@pytest.mark.parametrize(("player", "sign"), [(1, 1.0), (3, -1.0)])
def test_reward_terms_are_per_player_from_its_team_point_of_view(player, sign):
    scene = scene_for("2v2")
    scene.reset(np.random.default_rng(0))
    task = MatchTask((1, 3), shaping=2.0)
    task.reset(scene, np.random.default_rng(0))
    # Move the ball 0.3 m towards team A's target (+x), off the kick-off spot, by hand.
    before = {p: task.potentials(scene, p) for p in (1, 3)}
    scene.set_ball((0.3, 0.2))
    task.after_step(scene)
    terms = task.rewards(scene, 0)
    assert set(terms) == {1, 3} and set(terms[player]) == {f"reward_{name}" for name in REWARD_TERMS}
    length = scene.pitch.length
    goal = np.array([sign * length / 2, 0.0])
    to_goal = np.hypot(*(goal - scene.ball_position())) / length
    to_ball = np.hypot(*(scene.ball_position() - scene.player_positions()[player])) / length
    assert terms[player]["reward_ball_progress"] == pytest.approx(2.0 * (-to_goal - before[player][0]))
    assert terms[player]["reward_ball_approach"] == pytest.approx(1.0 * (-to_ball - before[player][1]))
    assert np.sign(terms[player]["reward_ball_progress"]) == sign  # closer to A's target, further from B's
    assert terms[player]["reward_scoring"] == 0.0
    # A goal by team A: +1 for team A's player, -1 for team B's, and no shaping on the restart.
    scene.set_ball((length / 2 - 0.05, 0.0), vel=(2.0, 0.0))
    goal = scene.step(idle(scene))
    assert goal == 1 and scene.last_restart == "kickoff"
    task.after_step(scene)
    terms = task.rewards(scene, goal)[player]
    assert terms == {"reward_scoring": sign, "reward_ball_progress": 0.0, "reward_ball_approach": 0.0}


def test_without_shaping_only_scoring_counts():
    scene = scene_for("1v1")
    task = make_task("1v1", (0,))
    task.reset(scene, np.random.default_rng(0))
    scene.set_ball((0.5, 0.3))
    reward, terminated, truncated, terms = task.reward(scene, 0)
    assert reward == 0.0 and not terminated and not truncated
    assert terms["reward_ball_progress"] == terms["reward_ball_approach"] == 0.0
    assert task.reward(scene, -1)[0] == -1.0 and task.steps == 2


def test_a_goal_ends_the_academy_tasks_but_not_a_match():
    scene = scene_for("1v1")
    assert not make_task("1v1", (0,)).terminated(scene, 1)
    assert make_task("1v1", (0,), terminate_on_goal=True).terminated(scene, -1)
    scene, task = started("empty_goal", 0)
    assert task.terminated(scene, 1) and not task.terminated(scene, 0)


def test_penalty_ends_when_the_keeper_plays_the_ball():
    scene, task = started("penalty", 2)
    assert not task.reward(scene, scene.step(idle(scene)))[1]
    # The ball rolls to the keeper, who kicks it away: a save.
    scene.set_player(1, (scene.ball_position()[0] + scene.reach - 0.01, 0.0), math.pi)
    commands = idle(scene)
    commands[1, 3] = 1.0
    goal = scene.step(commands)
    assert scene.last_kicker == 1
    assert task.reward(scene, goal)[1]


def test_penalty_ends_once_the_takers_shot_has_come_to_rest():
    scene, task = started("penalty", 3)
    scene.set_player(1, (scene.pitch.length / 2 - 0.08, 0.5), math.pi)  # keeper out of the way
    commands = idle(scene)
    commands[1] = 0.0
    commands[0, 3] = 1.0
    task.reward(scene, scene.step(commands))
    assert task.shot_step == 1 and scene.last_kicker == 0
    scene.set_ball(scene.ball_position().copy())  # stop it dead, short of the goal
    ends = []
    for _ in range(4):
        commands[:, 3] = -1.0
        ends.append(task.reward(scene, scene.step(commands))[1])
    assert ends == [False, False, True, True]  # more than two steps after the kick, at rest
