"""e2t.self_attention: the group tags and the one-layer self-attention tagger."""

import pytest
import torch

import e2t
from e2t.data.text import english_tokens
from e2t.self_attention import GROUPS, TaggerConfig, make_tagger, scale_groups


@pytest.fixture(autouse=True)
def _one_thread():
    e2t.set_seed(0)


@pytest.mark.parametrize("value, groups", [
    (42, [0, 0]),
    (42_005, [1, 1, 1, 0, 0]),
    (3_000_100, [2, 2, 0, 0]),
    (2_300_000, [2, 2, 1, 1, 1]),
    (7_000_000_001, [3, 3, 0, 0]),
])
def test_scale_groups(value, groups):
    assert scale_groups(english_tokens(value)) == groups


def test_scale_groups_rejects_trillions():
    with pytest.raises(ValueError, match="trillion"):
        scale_groups(english_tokens(2 * 10**12))


def test_tagger_shapes_and_padding():
    torch.manual_seed(0)
    model = make_tagger(TaggerConfig(vocab_size=20, d_model=16, num_heads=2, d_ff=32)).eval()
    tokens = torch.tensor([[4, 5, 6, 0, 0], [7, 8, 9, 10, 11]])
    lengths = torch.tensor([3, 5])
    logits, weights = model(tokens, lengths)
    assert logits.shape == (2, 5, len(GROUPS)) and weights.shape == (2, 2, 5, 5)
    assert bool((weights[0, :, :, 3:] == 0).all())
    torch.testing.assert_close(weights[1].sum(-1), torch.ones(2, 5))
    alone, _ = model(tokens[:1, :3], lengths[:1])
    torch.testing.assert_close(alone[0], logits[0, :3], atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="max_len"):
        model(torch.ones(1, 40, dtype=torch.long), torch.tensor([40]))
