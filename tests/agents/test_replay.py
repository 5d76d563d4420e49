"""The frame-stack replay: exact stacks, episode boundaries, n-step sums, memory refusal."""

import numpy as np
import pytest
import torch

from visiongym.agents.common.frames import FrameStacker
from visiongym.agents.common.replay import FrameStackReplay, ReplayMemoryError

# (reward, terminated, truncated, first, final) per row; frame k is filled with the value k.
ROWS = [
    (1.0, False, False, True, False),  # 0 episode A starts
    (2.0, False, False, False, False),  # 1
    (3.0, True, False, False, False),  # 2 A terminates
    (0.0, False, False, False, True),  # 3 A's final observation
    (1.0, False, False, True, False),  # 4 episode B starts
    (1.0, False, False, False, False),  # 5
    (1.0, False, True, False, False),  # 6 B is truncated
    (0.0, False, False, False, True),  # 7 B's final observation
    (5.0, False, False, True, False),  # 8 episode C starts
    (6.0, False, False, False, False),  # 9
    (7.0, False, False, False, False),  # 10
    (8.0, False, False, False, False),  # 11
]


def filled_buffer(capacity=32, stack=2, n_step=3, gamma=0.5, rows=ROWS):
    buffer = FrameStackReplay(capacity, 1, (1, 2, 2), stack=stack, n_step=n_step, gamma=gamma)
    for index, (reward, terminated, truncated, first, final) in enumerate(rows):
        frame = torch.full((1, 1, 2, 2), index, dtype=torch.uint8)
        buffer.add(frame, [index % 3], [reward], [terminated], [truncated], [first], [final])
    return buffer


def frame_ids(stacked):
    """The frame numbers in each stacked observation (B, stack)."""
    return stacked[:, :, 0, 0].tolist()


def test_n_step_returns_and_bootstrap_match_hand_computation():
    buffer = filled_buffer()
    rows = torch.tensor([0, 1, 2, 4, 5, 8])
    batch = buffer.transitions(rows, torch.zeros_like(rows))
    # row 0: 1 + .5*2 + .25*3, terminated inside the window -> no bootstrap
    # row 4: 1 + .5 + .25, truncated at row 6 -> bootstrap from final row 7 with .5**3
    # row 8: 5 + .5*6 + .25*7, no end -> bootstrap from row 11 with .5**3
    assert batch.returns.tolist() == pytest.approx([2.75, 3.5, 3.0, 1.75, 1.5, 9.75])
    assert batch.discounts.tolist() == pytest.approx([0.0, 0.0, 0.0, 0.125, 0.25, 0.125])
    assert frame_ids(batch.next_observations)[3:] == [[6, 7], [6, 7], [10, 11]]
    assert batch.actions.tolist() == [0, 1, 2, 1, 2, 2]


def test_stacks_repeat_the_first_frame_and_never_cross_episodes():
    buffer = filled_buffer(stack=3)
    rows = torch.tensor([0, 1, 2, 4, 5, 8, 10])
    stacked = buffer.stacked(rows, torch.zeros_like(rows))
    assert frame_ids(stacked) == [[0, 0, 0], [0, 0, 1], [0, 1, 2], [4, 4, 4], [4, 4, 5], [8, 8, 8], [8, 9, 10]]


def test_acting_stacker_matches_replay_stacks():
    stacker = FrameStacker(1, (1, 2, 2), 3, torch.device("cpu"))
    buffer = filled_buffer(stack=3)
    for index, (*_, first, _final) in enumerate(ROWS):
        frame = torch.full((1, 1, 2, 2), index, dtype=torch.uint8)
        if index == 0:
            stacker.reset(frame)
        else:
            stacker.push(frame, np.array([first]))
        replayed = buffer.stacked(torch.tensor([index]), torch.tensor([0]))
        assert torch.equal(stacker.observation(), replayed)


def test_sampling_skips_final_rows_and_respects_the_window():
    buffer = filled_buffer()
    rows, envs = buffer.sample_indices(2000)
    allowed = set(range(1, len(ROWS) - 3)) - {3, 7}  # a full stack behind, 3 rows ahead, not final
    assert set(rows.tolist()) == allowed
    assert envs.eq(0).all()


def test_wrapped_buffer_stacks_stay_inside_the_stored_rows():
    rows = [(0.0, False, False, index == 0, False) for index in range(50)]
    buffer = filled_buffer(capacity=10, stack=4, n_step=2, rows=rows)
    sampled, envs = buffer.sample_indices(500)
    batch = buffer.transitions(sampled, envs)
    ids = torch.tensor(frame_ids(batch.observations))
    # the 10 newest frames are 40..49; a stack must be 4 consecutive stored frames
    assert ids.min() >= 40
    assert torch.equal(ids[:, 1:] - ids[:, :-1], torch.ones_like(ids[:, 1:]))
    assert torch.equal(torch.tensor(frame_ids(batch.next_observations))[:, -1], ids[:, -1] + 2)


def test_mark_truncated_makes_a_cut_bootstrap():
    rows = [(1.0, False, False, index == 0, False) for index in range(6)]
    buffer = filled_buffer(rows=rows, n_step=3, gamma=0.5)
    buffer.mark_truncated(np.array([True]))
    buffer.add(torch.full((1, 1, 2, 2), 6, dtype=torch.uint8), [0], [0.0], [False], [False], [False], [True])
    batch = buffer.transitions(torch.tensor([4]), torch.tensor([0]))
    assert batch.returns.item() == pytest.approx(1.5)
    assert batch.discounts.item() == pytest.approx(0.25)
    assert frame_ids(batch.next_observations) == [[5, 6]]


def test_too_large_buffer_is_refused_before_allocating():
    with pytest.raises(ReplayMemoryError, match=r"buffer_size=10,000,000,000.*choose buffer_size <="):
        FrameStackReplay(10_000_000_000, 1, (3, 84, 84))


def test_state_dict_round_trip():
    buffer = filled_buffer()
    other = FrameStackReplay(32, 1, (1, 2, 2), stack=2, n_step=3, gamma=0.5)
    other.load_state_dict(buffer.state_dict())
    rows = torch.arange(1, 8)
    assert torch.equal(other.stacked(rows, torch.zeros_like(rows)), buffer.stacked(rows, torch.zeros_like(rows)))
    assert (other.pos, other.size) == (buffer.pos, buffer.size)


def prioritized_buffer(**kwargs):
    from visiongym.agents.common.replay import PrioritizedFrameStackReplay

    buffer = PrioritizedFrameStackReplay(32, 1, (1, 2, 2), stack=2, n_step=3, gamma=0.5,
                                         generator=torch.Generator().manual_seed(0), **kwargs)
    for index, (reward, terminated, truncated, first, final) in enumerate(ROWS):
        frame = torch.full((1, 1, 2, 2), index, dtype=torch.uint8)
        buffer.add(frame, [index % 3], [reward], [terminated], [truncated], [first], [final])
    return buffer


def test_prioritized_sampling_follows_priorities_and_weights_correct_the_bias():
    buffer = prioritized_buffer(alpha=1.0)
    allowed = sorted(set(range(1, len(ROWS) - 3)) - {3, 7})  # rows 1, 2, 4, 5, 6, 8
    # New rows start at the same (max) priority: sampling is uniform over the valid rows.
    rows, envs, weights = buffer.sample_prioritized(3000)
    assert set(rows.tolist()) == set(allowed) and torch.allclose(weights, torch.ones(3000))
    # Row 5 gets priority 5, the others 1 (|TD| + eps with eps tiny): P(5) = 5/10.
    buffer.update_priorities((torch.tensor(allowed), torch.zeros(6, dtype=torch.long)),
                             torch.tensor([1.0, 1.0, 1.0, 5.0, 1.0, 1.0]) - buffer.eps)
    rows, _, weights = buffer.sample_prioritized(4000, beta=1.0)
    assert (rows == 5).float().mean().item() == pytest.approx(0.5, abs=0.04)
    # w_i = (N P(i))^-1 normalised by the largest: rows of priority 1 weigh 1, row 5 weighs 1/5.
    assert weights[rows == 5].unique().tolist() == pytest.approx([0.2])
    assert weights[rows != 5].unique().tolist() == pytest.approx([1.0])
    batch = buffer.sample(8, beta=0.4)
    assert batch.weights.shape == (8,) and batch.indices[0].shape == (8,)


def test_prioritized_state_round_trips_and_bad_alpha_is_refused():
    from visiongym.agents.common.replay import PrioritizedFrameStackReplay

    buffer = prioritized_buffer()
    buffer.update_priorities((torch.tensor([4]), torch.tensor([0])), torch.tensor([7.0]))
    copy = prioritized_buffer()
    copy.load_state_dict(buffer.state_dict())
    assert torch.equal(copy.priorities, buffer.priorities) and copy.max_priority == buffer.max_priority
    with pytest.raises(ValueError, match="alpha=2 must be in"):
        PrioritizedFrameStackReplay(32, 1, (1, 2, 2), alpha=2)
