"""Double-DQN / plain DQN targets and target-network updates against hand computations."""

import pytest
import torch
from torch import nn

from visiongym.agents.common.augment import colour_jitter, draw_colour_jitter, random_shift
from visiongym.agents.common.replay import ReplayBatch
from visiongym.agents.dqn.learner import DQNLearner, td_targets
from visiongym.agents.dqn.networks import QNetwork, stacked_space


class TableQ(nn.Module):
    """Q-values looked up by the last frame's first pixel (a state id)."""

    def __init__(self, table):
        super().__init__()
        self.table = nn.Parameter(torch.tensor(table, dtype=torch.float32))

    def forward(self, observations):
        return self.table[observations[:, -1, 0, 0].long()]


def batch_for(next_states, returns, discounts):
    next_obs = torch.tensor(next_states, dtype=torch.uint8)[:, None, None, None].expand(-1, 1, 2, 2)
    return ReplayBatch(
        observations=torch.zeros_like(next_obs),
        actions=torch.zeros(len(next_states), dtype=torch.int64),
        returns=torch.tensor(returns),
        next_observations=next_obs.contiguous(),
        discounts=torch.tensor(discounts),
    )


ONLINE = [[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]]  # argmax: state 0 -> action 1, state 1 -> action 0
TARGET = [[10.0, 20.0, 30.0], [7.0, 8.0, 9.0]]


def test_double_dqn_target_uses_online_argmax_and_target_value():
    batch = batch_for([0, 1, 1], [1.0, 0.5, 2.0], [0.9, 0.81, 0.0])
    targets = td_targets(TableQ(ONLINE), TableQ(TARGET), batch, double=True)
    # 1 + .9 * TARGET[0][1]; .5 + .81 * TARGET[1][0]; terminal: just the return
    assert targets.tolist() == pytest.approx([1 + 0.9 * 20, 0.5 + 0.81 * 7, 2.0])


def test_plain_dqn_target_uses_target_max():
    batch = batch_for([0, 1], [1.0, 0.5], [0.9, 0.81])
    targets = td_targets(TableQ(ONLINE), TableQ(TARGET), batch, double=False)
    assert targets.tolist() == pytest.approx([1 + 0.9 * 30, 0.5 + 0.81 * 9])


def test_update_moves_q_towards_the_huber_target():
    online = TableQ([[0.0, 0.0], [0.0, 0.0]])
    learner = DQNLearner(online, learning_rate=0.1, augment_pad=0)
    batch = batch_for([1], [1.0], [0.0])
    for _ in range(50):
        metrics = learner.update(batch)
    assert online.table[0, 0].item() == pytest.approx(1.0, abs=0.05)
    assert {"losses/td_loss", "losses/q_values", "losses/grad_norm"} <= set(metrics)


def test_hard_and_polyak_target_updates():
    online = TableQ([[1.0, 1.0]])
    hard = DQNLearner(online, tau=1.0)
    with torch.no_grad():
        online.table.fill_(3.0)
    assert hard.target.table[0, 0].item() == 1.0
    hard.update_target()
    assert hard.target.table[0, 0].item() == 3.0
    polyak = DQNLearner(TableQ([[0.0]]), tau=0.25)
    with torch.no_grad():
        polyak.online.table.fill_(4.0)
    polyak.update_target()
    assert polyak.target.table.item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="tau"):
        DQNLearner(TableQ([[0.0]]), tau=0.0)


def test_dueling_head_mean_advantage_is_zero_offset():
    net = QNetwork(stacked_space((3, 40, 40), 2), 4, "nature_cnn", 64, dueling=True)
    obs = torch.randint(0, 255, (5, 6, 40, 40), dtype=torch.uint8)
    features = net.encoder(obs)
    q = net(obs)
    assert q.shape == (5, 4)
    assert torch.allclose(q.mean(1, keepdim=True), net.value(features), atol=1e-5)


def test_random_shift_is_a_replicate_padded_integer_shift():
    images = torch.arange(3 * 2 * 6 * 7, dtype=torch.uint8).reshape(3, 2, 6, 7)
    shifted = random_shift(images, pad=2, generator=torch.Generator().manual_seed(0))
    assert shifted.dtype == torch.uint8 and shifted.shape == images.shape
    # the shifts random_shift draws, then the crops of a replicate-padded copy at those offsets
    shifts = torch.randint(0, 5, (3, 2), generator=torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(images.float(), (2, 2, 2, 2), mode="replicate").byte()
    for index, (dy, dx) in enumerate(shifts.tolist()):
        assert torch.equal(shifted[index], padded[index, :, dy : dy + 6, dx : dx + 7])
    assert torch.equal(random_shift(images, pad=0), images)


def test_random_shift_of_a_strided_view_equals_that_of_a_copy():
    images = torch.randint(0, 255, (4, 6, 9, 11), dtype=torch.uint8)
    view = images[:, ::2, :, 1:]  # neither contiguous nor channels-last
    copy = view.contiguous()
    shifted_view = random_shift(view, pad=3, generator=torch.Generator().manual_seed(2))
    assert torch.equal(shifted_view, random_shift(copy, pad=3, generator=torch.Generator().manual_seed(2)))


def test_random_shift_gives_the_same_pixels_in_both_layouts():
    images = torch.randint(0, 255, (8, 6, 12, 10), dtype=torch.uint8)
    nchw = random_shift(images, pad=3, generator=torch.Generator().manual_seed(5))
    nhwc_input = images.float().contiguous(memory_format=torch.channels_last)
    nhwc = random_shift(nhwc_input, pad=3, generator=torch.Generator().manual_seed(5))
    assert nhwc.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(nhwc, nchw.float())


def test_amp_flag_is_ignored_on_the_cpu():
    online = TableQ([[0.0, 0.0], [0.0, 0.0]])
    learner = DQNLearner(online, learning_rate=0.1, augment_pad=0, amp=True)
    assert not learner.amp  # float16 autocast is a CUDA option
    learner.update(batch_for([1], [1.0], [0.0]))
    assert online.table[0, 0].item() > 0


def test_colour_jitter_is_one_light_per_sample_across_its_stack():
    frame = torch.full((1, 3, 4, 4), 100, dtype=torch.uint8)
    stack = torch.cat([frame, frame], dim=1).expand(6, -1, -1, -1).contiguous()  # (6, 2 frames x RGB, 4, 4)
    params = draw_colour_jitter(6, 3, 0.5, generator=torch.Generator().manual_seed(0))
    out = colour_jitter(stack, params, frame_channels=3)
    assert out.dtype == torch.uint8
    # both frames of a stack got the same factors: gains, then contrast about the sample's mean
    assert torch.equal(out[:, :3], out[:, 3:])
    gained = 100 * params.gains
    mean = gained.mean(1, keepdim=True)
    expected = ((gained - mean) * params.contrast[:, None] + mean).clamp(0, 255).round()
    assert torch.allclose(out[:, :3, 0, 0].float(), expected, atol=1)
    # different samples got different lights, inside the documented range exp(+-1.5 s)
    assert len({tuple(row) for row in out[:, :3, 0, 0].tolist()}) == 6
    assert params.gains.min() >= torch.exp(torch.tensor(-0.75)) and params.gains.max() <= torch.exp(torch.tensor(0.75))
    assert torch.equal(colour_jitter(stack, draw_colour_jitter(6, 3, 0.0), 3), stack)


def test_colour_jitter_scales_contrast_about_the_mean_and_keeps_grey_grey():
    images = torch.tensor([[[[50.0, 150.0]]]]).expand(3, 1, 1, 2).contiguous()  # 3 grey samples
    params = draw_colour_jitter(3, 1, 0.8, generator=torch.Generator().manual_seed(1))
    out = colour_jitter(images, params, frame_channels=1)
    gained = images * params.gains[:, :, None, None]
    mean = gained.mean(dim=(1, 2, 3), keepdim=True)
    assert torch.allclose(out, ((gained - mean) * params.contrast[:, None, None, None] + mean).clamp(0, 255))


def test_learner_applies_the_same_colour_jitter_to_s_and_s_next():
    online = TableQ([[0.0], [0.0]])
    learner = DQNLearner(online, augment_pad=0, augment_colour=0.5, frame_channels=1,
                         generator=torch.Generator().manual_seed(3))
    frames = torch.full((4, 1, 2, 2), 80, dtype=torch.uint8)
    batch = ReplayBatch(observations=frames, actions=torch.zeros(4, dtype=torch.int64), returns=torch.zeros(4),
                        next_observations=frames.clone(), discounts=torch.zeros(4))
    prepared = learner.prepare(batch)
    assert torch.equal(prepared.observations, prepared.next_observations)
    assert not torch.equal(prepared.observations, frames)
