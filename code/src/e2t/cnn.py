r"""Convolutional encoders and decoders: a small SegNet, a CNN feature extractor, a convolutional autoencoder.

SegNet (Badrinarayanan et al. 2015) is the source's CNN encoder-decoder. Its encoder is a stack of
convolution + batch norm + ReLU blocks, each stage ending in a 2x2 max pooling that *remembers where each maximum
was* (the pooling indices). Its decoder mirrors the encoder: it upsamples with those indices,

$$\mathrm{unpool}(z)_{p} = \begin{cases} z_q & \text{if } p \text{ was the position of the maximum of window } q \\
0 & \text{otherwise,}\end{cases}$$

which puts every value back exactly where it came from (``torch.nn.functional.max_unpool2d``), then convolves to
fill in the zeros. A per-pixel softmax over ``num_classes`` gives the segmentation.

Introduced in: chapter 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_tensor


def conv_block(*, in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 convolution (same padding) + batch norm + ReLU, the building block of every model here.

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H, W).
    """
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


def _check_images(x: torch.Tensor, channels: int, multiple: int) -> None:
    check_tensor("images", x, ndim=4, dtype_kind="float")
    B, C, H, W = x.shape
    if C != channels:
        raise ValueError(f"images have {C} channels but the model expects {channels} (shape {tuple(x.shape)})")
    if H % multiple or W % multiple:
        raise ValueError(f"images must have height and width divisible by {multiple}, got shape {tuple(x.shape)}")


# ----------------------------------------------------------------------------------------------------- SegNet
@dataclass(frozen=True)
class SegNetConfig:
    """A SegNet: ``widths[k]`` channels in encoder stage ``k`` (each stage halves the resolution)."""

    in_channels: int = 3
    num_classes: int = 4
    widths: tuple[int, ...] = (16, 32, 32)
    convs_per_stage: int = 1


class SegNetCode(NamedTuple):
    """What ``SegNet.encode`` returns: the code ``z``, the pooling ``indices`` and input ``sizes`` of each stage
    (for unpooling), and each stage's feature maps before pooling (``stages``, for looking at).
    """

    z: torch.Tensor
    indices: list[torch.Tensor]
    sizes: list[torch.Size]
    stages: list[torch.Tensor]


class SegNet(nn.Module):
    """SegNet encoder-decoder: max pooling with indices in the encoder, ``max_unpool2d`` with them in the decoder.

    Shapes: images (B, C, H, W) with H, W divisible by 2**len(widths) -> logits (B, num_classes, H, W).
    """

    def __init__(self, config: SegNetConfig):
        super().__init__()
        self.config = config
        widths = config.widths
        enc, dec = [], []
        for k, w in enumerate(widths):
            c_in = config.in_channels if k == 0 else widths[k - 1]
            enc.append(nn.Sequential(*[conv_block(in_channels=c_in if j == 0 else w, out_channels=w)
                                       for j in range(config.convs_per_stage)]))
        for k in reversed(range(len(widths))):  # decoder stage k mirrors encoder stage k
            w = widths[k]
            c_out = widths[k - 1] if k > 0 else widths[0]
            dec.append(nn.Sequential(*[conv_block(in_channels=w, out_channels=w if j < config.convs_per_stage - 1
                                                  else c_out) for j in range(config.convs_per_stage)]))
        self.encoder = nn.ModuleList(enc)
        self.decoder = nn.ModuleList(dec)
        self.classifier = nn.Conv2d(widths[0], config.num_classes, 1)

    def encode(self, images: torch.Tensor) -> SegNetCode:
        """Run the encoder, keeping each stage's pooling indices."""
        _check_images(images, self.config.in_channels, 2 ** len(self.config.widths))
        x, indices, sizes, stages = images, [], [], []
        for stage in self.encoder:
            x = stage(x)  # (B, w_k, H_k, W_k)
            stages.append(x)
            sizes.append(x.shape)
            x, idx = F.max_pool2d(x, 2, return_indices=True)  # (B, w_k, H_k / 2, W_k / 2)
            indices.append(idx)
        return SegNetCode(z=x, indices=indices, sizes=sizes, stages=stages)

    def decode(self, code: SegNetCode) -> torch.Tensor:
        """Unpool with the encoder's indices (last stage first), convolve, classify every pixel."""
        x = code.z
        for stage, idx, size in zip(self.decoder, reversed(code.indices), reversed(code.sizes)):
            x = F.max_unpool2d(x, idx, 2, output_size=size[-2:])  # (B, w_k, H_k, W_k), zeros off the maxima
            x = stage(x)  # (B, w_{k-1}, H_k, W_k)
        return self.classifier(x)  # (B, num_classes, H, W)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))


def make_segnet(config: SegNetConfig) -> SegNet:
    """Build a ``SegNet`` from its config."""
    return SegNet(config)


def segmentation_loss(model: SegNet, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Per-pixel cross-entropy of ``model(images)`` against ``masks`` (for ``e2t.train.fit``).

    Shapes: batch = (images (B, C, H, W), masks (B, H, W) long).
    """
    images, masks = batch
    return F.cross_entropy(model(images), masks)


def mean_iou(pred: torch.Tensor, truth: torch.Tensor, num_classes: int) -> tuple[float, list[float]]:
    r"""Mean intersection over union over classes: $\mathrm{IoU}_k = |P_k \cap G_k| / |P_k \cup G_k|$.

    Intersections and unions are summed over the whole set (not averaged per image). A class absent from both
    prediction and truth is left out of the mean (its IoU is reported as NaN in the list, never in the mean).

    Shapes: pred, truth (B, H, W) long; returns (mean IoU, per-class IoU list of length num_classes).
    """
    if pred.shape != truth.shape:
        raise ValueError(f"pred has shape {tuple(pred.shape)} but truth has shape {tuple(truth.shape)}")
    ious, present = [], []
    for k in range(num_classes):
        p, t = pred == k, truth == k
        union = int((p | t).sum())
        inter = int((p & t).sum())
        ious.append(inter / union if union else float("nan"))
        if union:
            present.append(inter / union)
    return (sum(present) / len(present) if present else 0.0), ious


@torch.no_grad()
def predict_masks(model: SegNet, images: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
    """Most probable class of every pixel, in eval mode.

    Shapes: images (B, C, H, W) -> (B, H, W) long.
    """
    model.eval()
    return torch.cat([model(images[i:i + batch_size]).argmax(1) for i in range(0, len(images), batch_size)])


# ----------------------------------------------------------------------------------------------------- features
@dataclass(frozen=True)
class ConvEncoderConfig:
    """A CNN that maps an image to one feature vector of width ``d_out``.

    ``pool="avg"`` averages the last feature map over positions (translation invariant: good for "which shape?");
    ``pool="flatten"`` keeps the positions (needed to say *where* things are, e.g. for captions).
    """

    in_channels: int = 3
    widths: tuple[int, ...] = (16, 32, 32)
    image_size: int = 32
    d_out: int = 64
    pool: str = "avg"


class ConvEncoder(nn.Module):
    """Conv blocks with 2x2 max pooling, then average pooling or flattening, then a linear layer and ReLU.

    Shapes: images (B, C, H, W) -> features (B, d_out).
    """

    def __init__(self, config: ConvEncoderConfig):
        super().__init__()
        if config.pool not in ("avg", "flatten"):
            raise ValueError(f"pool must be 'avg' or 'flatten', got {config.pool!r}")
        self.config = config
        layers, c = [], config.in_channels
        for w in config.widths:
            layers += [conv_block(in_channels=c, out_channels=w), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        side = config.image_size // 2 ** len(config.widths)
        d_in = c if config.pool == "avg" else c * side * side
        self.proj = nn.Sequential(nn.Linear(d_in, config.d_out), nn.ReLU())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        _check_images(images, self.config.in_channels, 2 ** len(self.config.widths))
        if images.shape[-1] != self.config.image_size and self.config.pool == "flatten":
            raise ValueError(f"images must be {self.config.image_size} pixels wide for pool='flatten', "
                             f"got shape {tuple(images.shape)}")
        x = self.features(images)  # (B, C', h, w)
        x = x.mean(dim=(2, 3)) if self.config.pool == "avg" else x.flatten(1)  # (B, C') or (B, C' h w)
        return self.proj(x)  # (B, d_out)


@dataclass(frozen=True)
class CNNClassifierConfig:
    """A ``ConvEncoder`` followed by a linear classifier over ``num_classes``."""

    encoder: ConvEncoderConfig = ConvEncoderConfig()
    num_classes: int = 4


class CNNClassifier(nn.Module):
    """Encoder (image -> feature vector) + decoder (a linear layer: features -> class scores).

    Shapes: images (B, C, H, W) -> logits (B, num_classes).
    """

    def __init__(self, config: CNNClassifierConfig):
        super().__init__()
        self.config = config
        self.encoder = ConvEncoder(config.encoder)
        self.head = nn.Linear(config.encoder.d_out, config.num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(images))  # (B, num_classes)


def make_cnn_classifier(config: CNNClassifierConfig) -> CNNClassifier:
    """Build a ``CNNClassifier`` from its config."""
    return CNNClassifier(config)


def classification_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy of ``model(inputs)`` against integer ``labels`` (for ``e2t.train.fit``)."""
    x, y = batch
    return F.cross_entropy(model(x), y)


def fit_linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, *, num_classes: int, steps: int = 300,
                     lr: float = 0.05, weight_decay: float = 1e-4) -> nn.Linear:
    r"""Fit a linear classifier $\mathrm{softmax}(W f + b)$ on fixed features ``train_x`` (full batch, Adam).

    Features are standardised with the training set's mean and standard deviation, folded into the returned layer,
    so it takes raw features.

    Shapes: train_x (N, F) float, train_y (N,) long; returns nn.Linear(F, num_classes).
    """
    check_tensor("train_x", train_x, ndim=2, dtype_kind="float")
    if train_y.shape != train_x.shape[:1]:
        raise ValueError(f"train_y has shape {tuple(train_y.shape)} but train_x has shape {tuple(train_x.shape)}")
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)  # (F,)
    z = (train_x - mean) / std  # (N, F)
    layer = nn.Linear(train_x.shape[1], num_classes)
    opt = torch.optim.Adam(layer.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(layer(z), train_y).backward()
        opt.step()
    with torch.no_grad():  # W ((x - m) / s) + b = (W / s) x + (b - W m / s)
        w = layer.weight / std  # (K, F)
        layer.bias -= (w * mean).sum(1)
        layer.weight.copy_(w)
    return layer


# ----------------------------------------------------------------------------------------------------- autoencoder
@dataclass(frozen=True)
class ConvAutoencoderConfig:
    """A convolutional autoencoder: strided convolutions down to a ``code_channels`` x (H/2^k) x (W/2^k) code,
    transposed convolutions back up.
    """

    in_channels: int = 3
    widths: tuple[int, ...] = (16, 32)
    code_channels: int = 8


class ConvAutoencoder(nn.Module):
    """Encoder: image -> small code; decoder: code -> image. Trained to reproduce its input (no indices passed).

    Shapes: images (B, C, H, W) -> code (B, code_channels, H / 2^k, W / 2^k) -> reconstruction (B, C, H, W).
    """

    def __init__(self, config: ConvAutoencoderConfig):
        super().__init__()
        self.config = config
        enc, c = [], config.in_channels
        for w in config.widths:
            enc += [nn.Conv2d(c, w, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
        enc += [nn.Conv2d(c, config.code_channels, 1)]
        dec, c = [nn.Conv2d(config.code_channels, config.widths[-1], 1), nn.ReLU()], config.widths[-1]
        for w in reversed(config.widths[:-1]):
            dec += [nn.ConvTranspose2d(c, w, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
        dec += [nn.ConvTranspose2d(c, config.in_channels, 4, stride=2, padding=1), nn.Sigmoid()]
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        _check_images(images, self.config.in_channels, 2 ** len(self.config.widths))
        return self.encoder(images)  # (B, code_channels, H / 2^k, W / 2^k)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(images))  # (B, C, H, W)


def make_conv_autoencoder(config: ConvAutoencoderConfig) -> ConvAutoencoder:
    """Build a ``ConvAutoencoder`` from its config."""
    return ConvAutoencoder(config)


def reconstruction_loss(model: ConvAutoencoder, images: torch.Tensor) -> torch.Tensor:
    """Mean squared error between the reconstruction and the input (for ``e2t.train.fit``)."""
    return F.mse_loss(model(images), images)


__all__ = ["conv_block", "SegNetConfig", "SegNetCode", "SegNet", "make_segnet", "segmentation_loss", "mean_iou",
           "predict_masks", "ConvEncoderConfig", "ConvEncoder", "CNNClassifierConfig", "CNNClassifier",
           "make_cnn_classifier", "classification_loss", "fit_linear_probe", "ConvAutoencoderConfig",
           "ConvAutoencoder", "make_conv_autoencoder", "reconstruction_loss"]
