r"""An RNN encoder with a CNN decoder: read a caption, draw the scene it describes (a sketch).

The source allows every mix of encoder and decoder, "a CNN encoder with RNN decoder, or vice versa". The captioner
(``e2t.captioning``) is the first mix; this is the second, turned round from the same task. A GRU encoder
(``e2t.rnn.GRUEncoder``) reads the caption into its last state $c = h_T$; a linear layer spreads $c$ over a small
grid of ``code_channels`` channels; the decoder of the convolutional autoencoder (``e2t.cnn.ConvAutoencoder``:
transposed convolutions) draws the image from it:

$$\hat I = \mathrm{Dec}\big(\mathrm{reshape}(W c + b)\big),$$

trained to minimise the mean squared error against the scene (``drawing_loss``). Squared error is smallest for the
*average* of every image that fits the text, so what it draws are smudges where the caption leaves things open (the
height, the size): a real text-to-image model needs another objective.

Shapes: tokens (B, T) long, lengths (B,) long -> images (B, 3, image_size, image_size).

Introduced in: chapter 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .checks import check_tensor
from .cnn import ConvAutoencoderConfig, make_conv_autoencoder
from .rnn import GRUEncoder


@dataclass(frozen=True)
class TextToImageConfig:
    """Sizes of the sketch: the GRU encoder's widths, the code grid's channels and the decoder's widths."""

    vocab_size: int
    d_embed: int = 24
    d_hidden: int = 96
    code_channels: int = 8
    widths: tuple[int, ...] = (16, 32)  # the autoencoder's widths: the decoder upsamples by 2 ** len(widths)
    image_size: int = 32
    image_channels: int = 3
    pad_id: int = 0

    def __post_init__(self):
        scale = 2 ** len(self.widths)
        if self.image_size % scale:
            raise ValueError(f"image_size must be a multiple of 2 ** len(widths) = {scale}, got {self.image_size}")

    @property
    def grid(self) -> int:
        """Side of the code grid: image_size / 2 ** len(widths)."""
        return self.image_size // 2 ** len(self.widths)


class TextToImage(nn.Module):
    """Caption tokens (B, T) and their lengths (B,) -> image (B, C, H, W) in (0, 1) (the decoder ends in a sigmoid)."""

    def __init__(self, config: TextToImageConfig):
        super().__init__()
        self.config = config
        self.encoder = GRUEncoder(vocab_size=config.vocab_size, d_embed=config.d_embed, d_hidden=config.d_hidden,
                                  pad_id=config.pad_id)
        self.to_grid = nn.Linear(config.d_hidden, config.code_channels * config.grid ** 2)
        # the autoencoder's decoder on its own (transposed convolutions): (B, code_channels, grid, grid) -> image
        self.decoder = make_conv_autoencoder(ConvAutoencoderConfig(
            in_channels=config.image_channels, widths=config.widths, code_channels=config.code_channels)).decoder

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        c = self.encoder(tokens, lengths).final                               # (B, d_hidden); checks both inputs
        grid = self.to_grid(c).view(-1, cfg.code_channels, cfg.grid, cfg.grid)  # (B, code_channels, grid, grid)
        return self.decoder(grid)                                             # (B, C, image_size, image_size)


def make_text_to_image(config: TextToImageConfig | dict) -> TextToImage:
    """Build a ``TextToImage`` from its config (or the config's dict)."""
    if isinstance(config, dict):
        config = TextToImageConfig(**{**config, "widths": tuple(config.get("widths", (16, 32)))})
    return TextToImage(config)


def drawing_loss(model: TextToImage, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Mean squared error between the drawing of each caption and its scene (for ``e2t.train.fit``)."""
    tokens, lengths, target = batch
    drawn = model(tokens, lengths)
    check_tensor("target", target, ndim=4, dtype_kind="float")
    if target.shape != drawn.shape:
        raise ValueError(f"target has shape {tuple(target.shape)} but the drawings have shape {tuple(drawn.shape)} "
                         f"(tokens {tuple(tokens.shape)})")
    return F.mse_loss(drawn, target)


def text_image_batches(tokens: torch.Tensor, lengths: torch.Tensor, images: torch.Tensor, *, batch_size: int = 32,
                       seed: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Endless random batches ``(tokens, lengths, images)`` drawn with replacement, reproducible from ``seed``."""
    check_tensor("tokens", tokens, ndim=2)
    if not (len(tokens) == len(lengths) == len(images)):
        raise ValueError(f"tokens, lengths and images must have the same length, got shapes {tuple(tokens.shape)}, "
                         f"{tuple(lengths.shape)} and {tuple(images.shape)}")
    g = torch.Generator().manual_seed(seed)
    while True:
        idx = torch.randint(len(tokens), (batch_size,), generator=g)
        yield tokens[idx], lengths[idx], images[idx]


__all__ = ["TextToImageConfig", "TextToImage", "make_text_to_image", "drawing_loss", "text_image_batches"]
