"""symbolic.models.sampling: schedules, the categorical draw and the unmasking orders."""

import pytest
import torch

from symbolic.errors import SymbolicError
from symbolic.models import sampling as S


def test_schedule_is_the_linear_time_grid_and_commits_every_cell():
    assert S.unmask_schedule(4).tolist() == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert S.unmask_schedule(0).tolist() == [1.0, 0.0]
    for steps in (1, 3, 16, 100):
        ts = S.unmask_schedule(steps).tolist()
        left = torch.tensor([37, 5, 0])
        for t, t_next in zip(ts[:-1], ts[1:]):
            n = S.unmask_count(left, t, t_next)
            assert (n <= left).all()
            left = left - n
        assert left.tolist() == [0, 0, 0]


def test_categorical_draw_is_seeded_greedy_at_zero_and_truncated_by_top_p():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.2]] * 200))

    def draw(seed, **kw):
        return S.categorical(logits, generator=torch.Generator().manual_seed(seed), **kw)

    c, p = draw(0)
    assert torch.equal(c, draw(0)[0]) and not torch.equal(c, draw(1)[0])
    assert set(c.tolist()) == {0, 1, 2}
    assert torch.allclose(p, torch.tensor([0.5, 0.3, 0.2])[c])
    c, p = draw(0, temperature=0)
    assert (c == 0).all() and torch.allclose(p, torch.tensor(0.5))
    c, p = draw(0, top_p=0.6)  # 0.5 + 0.3 reach 0.6: class 2 is cut, the rest renormalised
    assert set(c.tolist()) == {0, 1} and torch.allclose(p, torch.tensor([0.625, 0.375])[c])


def test_guidance_of_one_is_the_conditional_model():
    cond, uncond = torch.randn(4, 7), torch.randn(4, 7)
    assert torch.allclose(S.guided_log_probs(cond, uncond, 1.0), cond.log_softmax(-1))
    g = S.guided_log_probs(cond, uncond, 3.0)
    assert torch.allclose(g, uncond.log_softmax(-1) + 3 * (cond.log_softmax(-1)
                                                           - uncond.log_softmax(-1)))


@pytest.mark.parametrize("name", sorted(S.UNMASK_ORDERS))
def test_every_order_commits_keep_cells_of_the_masked_ones(name):
    gen = torch.Generator().manual_seed(0)
    masked = torch.rand(3, 20, generator=gen) < 0.6
    cells = torch.nonzero(masked, as_tuple=True)
    conf = torch.rand(len(cells[0]), generator=gen)
    note = torch.rand(len(cells[0]), generator=gen) < 0.3
    keep = torch.tensor([0, 2, int(masked[2].sum())])
    order = S.unmask_order(name)
    chosen = order(masked, cells, conf, keep, note=note, t=0.5,
                   generator=torch.Generator().manual_seed(1))
    assert not (chosen & ~masked).any()
    assert chosen.sum(-1).tolist() == keep.tolist()
    again = order(masked, cells, conf, keep, note=note, t=0.5,
                  generator=torch.Generator().manual_seed(1))
    assert torch.equal(chosen, again)


def test_confidence_keeps_the_most_probable_and_the_drawn_note_share():
    masked = torch.ones(1, 10, dtype=torch.bool)
    cells = torch.nonzero(masked, as_tuple=True)
    conf = torch.arange(10, dtype=torch.float32) / 10
    top = S.confidence(masked, cells, conf, torch.tensor([3]))
    assert torch.nonzero(top[0]).flatten().tolist() == [7, 8, 9]
    note = torch.tensor([True] * 5 + [False] * 5)  # half drawn as notes: half the kept ones
    split = S.confidence(masked, cells, conf, torch.tensor([4]), note=note)
    assert torch.nonzero(split[0]).flatten().tolist() == [3, 4, 8, 9]


def test_unknown_order_names_the_argument():
    with pytest.raises(SymbolicError, match="order.*confidence, random, noisy"):
        S.unmask_order("greedy")
