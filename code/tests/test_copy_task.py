"""Tests of e2t.data.copy_task: the copy-task batches, their layout and their seeding."""

import itertools

import pytest
import torch

from e2t.data.copy_task import bits_to_tokens, copy_batch, copy_batches, copy_inputs, random_bits


def test_layout_of_one_batch():
    batch = copy_batch(batch_size=4, length=5, seed=0)
    assert batch.inputs.shape == (4, 11, 9) and batch.targets.shape == (4, 5, 8) and batch.length == 5
    torch.testing.assert_close(batch.inputs[:, :5, :8], batch.targets)   # the bits come first
    assert (batch.inputs[:, :5, 8] == 0).all()                           # no flag while reading
    assert (batch.inputs[:, 5, 8] == 1).all() and (batch.inputs[:, 5, :8] == 0).all()  # the delimiter
    assert (batch.inputs[:, 6:] == 0).all()                              # blank answer phase
    assert set(batch.targets.unique().tolist()) <= {0.0, 1.0}


def test_seeds_repeat_and_differ():
    a = copy_batch(batch_size=3, length=7, seed=1).targets
    assert torch.equal(a, copy_batch(batch_size=3, length=7, seed=1).targets)
    assert not torch.equal(a, copy_batch(batch_size=3, length=7, seed=2).targets)
    s1 = [b.targets for b in itertools.islice(copy_batches(batch_size=2, seed=5), 4)]
    s2 = [b.targets for b in itertools.islice(copy_batches(batch_size=2, seed=5), 4)]
    assert all(torch.equal(x, y) for x, y in zip(s1, s2))


def test_stream_lengths_cover_the_range():
    lengths = {b.length for b in itertools.islice(copy_batches(batch_size=1, min_length=1, max_length=20, seed=0),
                                                   400)}
    assert lengths == set(range(1, 21))


def test_bits_are_balanced():
    bits = random_bits(batch_size=64, length=20, width=8, seed=3)
    assert abs(bits.mean().item() - 0.5) < 0.03


def test_bits_to_tokens():
    bits = torch.tensor([[0, 0, 0, 0, 0, 1, 0, 1], [1, 0, 0, 0, 0, 0, 0, 0]], dtype=torch.float32)
    assert bits_to_tokens(bits).tolist() == [5, 128]
    tokens = bits_to_tokens(copy_batch(batch_size=2, length=3, seed=0).targets)
    assert tokens.shape == (2, 3) and tokens.dtype == torch.long and int(tokens.max()) < 256


def test_bad_arguments():
    with pytest.raises(ValueError, match="length must be an int >= 1"):
        copy_batch(batch_size=2, length=0, seed=0)
    with pytest.raises(ValueError, match="seed is required"):
        random_bits(batch_size=1, length=1)
    with pytest.raises(ValueError, match="min_length"):
        next(copy_batches(batch_size=1, min_length=5, max_length=2, seed=0))
    with pytest.raises(ValueError, match=r"bits must be a \(B, L, W\) tensor"):
        copy_inputs(torch.zeros(3, 4))
