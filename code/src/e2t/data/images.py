"""Images generated in code: coloured shapes on a noisy background, with labels, masks or captions.

Three generators, each drawing from its own ``torch.Generator(seed)`` so the same ``seed`` gives the same data:

- ``classification_images``: one shape per image; the label is the shape (the features section of chapter 1).
- ``segmentation_scenes``: several shapes that may occlude each other; a per-pixel class mask (SegNet).
- ``caption_scenes``: one to three shapes in three columns; a caption such as
  ``red circle left and blue square right`` (the captioner: a CNN encoder with an RNN decoder).

A shape's class never depends on its colour: colours are drawn at random, so a model must see the *shape*.
Images are float tensors in [0, 1], batch first: ``(B, 3, H, W)``.

Introduced in: chapter 1.
"""

from __future__ import annotations

import torch

from .vocab import Vocab

#: The shapes the renderer knows, in class order (class ``k`` of a mask is ``SHAPES[k - 1]``; 0 is background).
SHAPES = ("circle", "square", "triangle", "cross")

#: Named colours of the caption task (RGB in [0, 1]).
COLOURS = {"red": (0.95, 0.15, 0.10), "green": (0.15, 0.80, 0.20), "blue": (0.20, 0.40, 1.00),
           "yellow": (0.95, 0.85, 0.10)}

#: Column words of the caption task, left to right.
COLUMNS = ("left", "middle", "right")


def _check_common(n: int, size: int, noise: float) -> None:
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8, got {size!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")


def shape_masks(kind: torch.Tensor, cx: torch.Tensor, cy: torch.Tensor, r: torch.Tensor, *,
                size: int) -> torch.Tensor:
    """Boolean masks of one shape per image: ``kind[b]`` indexes ``SHAPES``, centred at ``(cx, cy)``, radius ``r``.

    Shapes: kind (B,) long; cx, cy, r (B,) float, in pixels; returns (B, size, size) bool.
    """
    if kind.dim() != 1 or not (cx.shape == cy.shape == r.shape == kind.shape):
        raise ValueError(f"kind, cx, cy, r must all have shape (B,), got {tuple(kind.shape)}, {tuple(cx.shape)}, "
                         f"{tuple(cy.shape)}, {tuple(r.shape)}")
    if kind.numel() and (int(kind.min()) < 0 or int(kind.max()) >= len(SHAPES)):
        raise ValueError(f"kind must index SHAPES (0..{len(SHAPES) - 1}), got values in "
                         f"[{int(kind.min())}, {int(kind.max())}]")
    coords = torch.arange(size, dtype=torch.float32, device=cx.device) + 0.5
    x = coords.view(1, 1, size) - cx.view(-1, 1, 1)  # (B, 1, W)
    y = coords.view(1, size, 1) - cy.view(-1, 1, 1)  # (B, H, 1)
    r = r.view(-1, 1, 1)  # (B, 1, 1)
    circle = x**2 + y**2 <= r**2  # (B, H, W)
    half = 0.85 * r  # a square of the same area as the circle would have half-side 0.89 r
    square = (x.abs() <= half) & (y.abs() <= half)  # (B, H, W)
    # Upward triangle: apex at the top (y = -r), base at y = +0.8 r, half-width growing with depth.
    depth = (y + r) / 1.8  # 0 at the apex, r at the base
    triangle = (y >= -r) & (y <= 0.8 * r) & (x.abs() <= 1.15 * depth)  # (B, H, W)
    arm = 0.35 * r
    cross = ((x.abs() <= arm) & (y.abs() <= r)) | ((y.abs() <= arm) & (x.abs() <= r))  # (B, H, W)
    stack = torch.stack([circle, square, triangle, cross], dim=1)  # (B, 4, H, W)
    return stack.gather(1, kind.view(-1, 1, 1, 1).expand(-1, 1, size, size)).squeeze(1)  # (B, H, W)


def _background(n: int, size: int, g: torch.Generator) -> torch.Tensor:
    """A dark, slightly tinted background per image, with a faint horizontal or vertical gradient."""
    base = 0.05 + 0.25 * torch.rand(n, 3, 1, 1, generator=g)  # (B, 3, 1, 1)
    ramp = torch.linspace(-1, 1, size).view(1, 1, 1, size)  # (1, 1, 1, W)
    tilt = 0.08 * (torch.rand(n, 1, 1, 1, generator=g) - 0.5)  # (B, 1, 1, 1)
    img = base + tilt * ramp  # (B, 3, 1, W)
    flip = torch.rand(n, generator=g) < 0.5
    img = img.expand(n, 3, size, size).clone()  # (B, 3, H, W)
    img[flip] = img[flip].transpose(-1, -2)
    return img


def _random_colours(n: int, g: torch.Generator) -> torch.Tensor:
    """Bright random colours: a random hue at high value, so every shape stands out from the dark background."""
    hue = torch.rand(n, generator=g) * 6.0
    value = 0.7 + 0.3 * torch.rand(n, generator=g)
    sat = 0.5 + 0.5 * torch.rand(n, generator=g)
    k = (torch.tensor([5.0, 3.0, 1.0]).view(1, 3) + hue.view(-1, 1)) % 6.0  # (B, 3)
    rgb = value.view(-1, 1) * (1 - sat.view(-1, 1) * torch.clamp(torch.minimum(k, 4 - k), 0, 1))  # (B, 3)
    return rgb


def _paint(img: torch.Tensor, mask: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
    """Paint ``colour`` (B, 3) into ``img`` (B, 3, H, W) where ``mask`` (B, H, W) is True; later paint occludes."""
    return torch.where(mask.unsqueeze(1), colour.view(-1, 3, 1, 1), img)


def _finish(img: torch.Tensor, noise: float, g: torch.Generator) -> torch.Tensor:
    if noise > 0:
        img = img + noise * torch.randn(img.shape, generator=g)
    return img.clamp(0.0, 1.0)


def classification_images(n: int, *, size: int = 32, shapes: tuple[str, ...] = SHAPES, noise: float = 0.08,
                          seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """One shape per image at a random position, radius and colour; the label is the shape's index in ``shapes``.

    Shapes: returns images (n, 3, size, size) in [0, 1] and labels (n,) long in [0, len(shapes)).
    """
    _check_common(n, size, noise)
    kinds = torch.tensor([SHAPES.index(s) for s in shapes])  # raises ValueError for an unknown shape name
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(len(shapes), (n,), generator=g)
    r = size * (0.16 + 0.14 * torch.rand(n, generator=g))
    cx = r + (size - 2 * r) * torch.rand(n, generator=g)
    cy = r + (size - 2 * r) * torch.rand(n, generator=g)
    img = _background(n, size, g)
    img = _paint(img, shape_masks(kinds[labels], cx, cy, r, size=size), _random_colours(n, g))
    return _finish(img, noise, g), labels


def segmentation_scenes(n: int, *, size: int = 32, shapes: tuple[str, ...] = SHAPES[:3], max_objects: int = 4,
                        noise: float = 0.08, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Scenes of 1..``max_objects`` shapes that may overlap (later ones occlude earlier ones), plus noise.

    The mask holds 0 for background and ``k`` for the ``k``-th name of ``shapes`` (visible pixels only, so an
    occluded shape keeps only what can be seen of it).

    Shapes: returns images (n, 3, size, size) in [0, 1] and masks (n, size, size) long in [0, len(shapes)].
    """
    _check_common(n, size, noise)
    if max_objects < 1:
        raise ValueError(f"max_objects must be >= 1, got {max_objects}")
    kinds = torch.tensor([SHAPES.index(s) for s in shapes])
    g = torch.Generator().manual_seed(seed)
    count = torch.randint(1, max_objects + 1, (n,), generator=g)
    img = _background(n, size, g)
    mask = torch.zeros(n, size, size, dtype=torch.long)
    for slot in range(max_objects):
        present = count > slot  # (B,)
        label = torch.randint(len(shapes), (n,), generator=g)
        r = size * (0.10 + 0.10 * torch.rand(n, generator=g))
        cx = r + (size - 2 * r) * torch.rand(n, generator=g)
        cy = r + (size - 2 * r) * torch.rand(n, generator=g)
        m = shape_masks(kinds[label], cx, cy, r, size=size) & present.view(-1, 1, 1)  # (B, H, W)
        img = _paint(img, m, _random_colours(n, g))
        mask = torch.where(m, (label + 1).view(-1, 1, 1), mask)
    return _finish(img, noise, g), mask


#: Every word a caption can use.
CAPTION_WORDS = tuple(COLOURS) + SHAPES[:3] + COLUMNS + ("and",)


def caption_vocab() -> Vocab:
    """The vocabulary of ``caption_scenes`` (with pad, bos, eos, unk)."""
    return Vocab(CAPTION_WORDS)


def caption_scenes(n: int, *, size: int = 32, max_objects: int = 3, noise: float = 0.05,
                   seed: int = 0) -> tuple[torch.Tensor, list[list[str]]]:
    """Scenes of 1..``max_objects`` shapes, one per column, and captions that name them left to right.

    Each object is described by three words, colour, shape and column, joined by ``and``:
    ``["red", "circle", "left", "and", "blue", "square", "right"]``. Colours come from ``COLOURS``, shapes are
    circle, square and triangle, the vertical position is random.

    Shapes: returns images (n, 3, size, size) in [0, 1] and n captions (lists of words).
    """
    _check_common(n, size, noise)
    if not 1 <= max_objects <= len(COLUMNS):
        raise ValueError(f"max_objects must be in 1..{len(COLUMNS)}, got {max_objects}")
    g = torch.Generator().manual_seed(seed)
    count = torch.randint(1, max_objects + 1, (n,), generator=g)
    # A random subset of `count` columns per image: the columns with the smallest random keys.
    order = torch.rand(n, len(COLUMNS), generator=g).argsort(dim=1)  # (B, 3)
    rank = order.argsort(dim=1)  # (B, 3): rank of each column's key
    used = rank < count.view(-1, 1)  # (B, 3)
    colour_names = list(COLOURS)
    palette = torch.tensor([COLOURS[c] for c in colour_names])  # (4, 3)
    img = _background(n, size, g)
    width = size / len(COLUMNS)
    words: list[list[list[str]]] = [[[] for _ in COLUMNS] for _ in range(n)]
    for col in range(len(COLUMNS)):
        shape = torch.randint(3, (n,), generator=g)
        colour = torch.randint(len(colour_names), (n,), generator=g)
        r = width * (0.30 + 0.12 * torch.rand(n, generator=g))
        cx = width * (col + 0.5) + (width / 2 - r) * (2 * torch.rand(n, generator=g) - 1)
        cy = r + (size - 2 * r) * torch.rand(n, generator=g)
        jitter = 0.06 * (torch.rand(n, 3, generator=g) - 0.5)  # (B, 3): shades of the named colour
        rgb = (palette[colour] + jitter).clamp(0, 1)  # (B, 3)
        m = shape_masks(shape, cx, cy, r, size=size) & used[:, col].view(-1, 1, 1)  # (B, H, W)
        img = _paint(img, m, rgb)
        for b in torch.nonzero(used[:, col]).flatten().tolist():
            words[b][col] = [colour_names[int(colour[b])], SHAPES[int(shape[b])], COLUMNS[col]]
    captions = []
    for per_col in words:
        caption: list[str] = []
        for item in per_col:
            if item:
                caption += (["and"] if caption else []) + item
        captions.append(caption)
    return _finish(img, noise, g), captions


def class_pixel_fractions(masks: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Fraction of pixels of each class over a set of masks (for the majority-class baseline).

    Shapes: masks (B, H, W) long; returns (num_classes,).
    """
    counts = torch.bincount(masks.flatten(), minlength=num_classes).float()  # (K,)
    return counts / max(float(counts.sum()), 1.0)


__all__ = ["SHAPES", "COLOURS", "COLUMNS", "CAPTION_WORDS", "shape_masks", "classification_images",
           "segmentation_scenes", "caption_scenes", "caption_vocab", "class_pixel_fractions"]
