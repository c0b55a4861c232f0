r"""Soft and hard attention over image patches (Xu et al. 2015), hard attention trained with REINFORCE.

Show, Attend and Tell computes one feature vector $\mathbf{a}_i$ per image region and attention weights
$\alpha_i = \mathrm{softmax}_i(f_\text{att}(\mathbf{a}_i))$ over them. Then

- **soft** attention reads the expected feature $\mathbf{z} = \sum_i \alpha_i \mathbf{a}_i$: smooth, trained by
  ordinary backpropagation, but every region is read;
- **hard** attention samples one region $s \sim \mathrm{Categorical}(\alpha)$ and reads $\mathbf{z} = \mathbf{a}_s$:
  one region read, but sampling has no gradient, so the attention is trained with the score-function estimator
  REINFORCE (Williams 1992):
  $\nabla_\theta \mathbb{E}_s[R(s)] = \mathbb{E}_s[(R(s) - b)\,\nabla_\theta \log \alpha_s]$, whose variance a
  baseline $b$ (a moving average of past rewards) reduces without adding bias.

The reward is Xu's: the log-likelihood of the right label given the sampled region, $R = \log p(y \mid \mathbf{a}_s)$.
Here the regions are the cells of ``e2t.data.patches``, embedded linearly (as a ViT embeds patches); a third model
with **no attention** averages all cells with equal weights, $\mathbf{z} = \frac1N\sum_i \mathbf{a}_i$.

Introduced in: chapter 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from .checks import check_tensor
from .data.patches import PatchSearch, to_patches

__all__ = ["PatchModelConfig", "PatchOutput", "PatchAttentionModel", "make_patch_model", "MovingAverageBaseline",
           "reinforce_surrogate", "patch_loss", "accuracy", "policy_gradient_variance",
           "MODES"]

#: The three ways of reading the cells: attention weights and sample one, weights and average, equal weights.
MODES = ("hard", "soft", "none")


@dataclass(frozen=True)
class PatchModelConfig:
    """A patch classifier: linear cell embedding, an attention scorer, an MLP head.

    ``mode`` is ``"soft"``, ``"hard"`` or ``"none"`` (uniform average). ``patch_dim`` is the flattened cell size.
    """

    mode: str = "soft"
    patch_dim: int = 100
    d_model: int = 32
    d_attn: int = 32
    d_hidden: int = 64
    num_classes: int = 4


class PatchOutput(NamedTuple):
    """What a ``PatchAttentionModel`` returns.

    Shapes: logits (B, C); weights (B, N) the attention $\\alpha$ (uniform for ``"none"``); index (B,) the cell a
    hard model read (argmax for soft/none); log_prob (B,) $\\log \\alpha_{\\text{index}}$.
    """

    logits: torch.Tensor
    weights: torch.Tensor
    index: torch.Tensor
    log_prob: torch.Tensor


class PatchAttentionModel(nn.Module):
    r"""Classify an image from its cells with soft, hard or no attention.

    $\mathbf{a}_i = W_e\,\mathrm{patch}_i + b_e$; $e_i = \mathbf{v}^\top \tanh(W_a \mathbf{a}_i + b_a)$;
    $\alpha = \mathrm{softmax}(e)$; soft: $\mathbf{z} = \sum_i \alpha_i \mathbf{a}_i$; hard:
    $\mathbf{z} = \mathbf{a}_s$ with $s \sim \alpha$ in training and $s = \arg\max_i \alpha_i$ in evaluation (or
    sampled when ``sample=True``); none: $\mathbf{z} = \frac1N\sum_i \mathbf{a}_i$. Logits $= \mathrm{MLP}(\mathbf{z})$.

    Shapes: patches (B, N, patch_dim) -> ``PatchOutput``.
    """

    def __init__(self, config: PatchModelConfig):
        super().__init__()
        if config.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {config.mode!r}")
        self.config = config
        self.embed = nn.Linear(config.patch_dim, config.d_model)
        self.W_a = nn.Linear(config.d_model, config.d_attn)
        self.v = nn.Linear(config.d_attn, 1, bias=False)
        self.head = nn.Sequential(nn.Linear(config.d_model, config.d_hidden), nn.ReLU(),
                                  nn.Linear(config.d_hidden, config.num_classes))

    def forward(self, patches: torch.Tensor, *, sample: bool | None = None,
                generator: torch.Generator | None = None) -> PatchOutput:
        check_tensor("patches", patches, ndim=3, dtype_kind="float")
        B, N, P = patches.shape
        if P != self.config.patch_dim:
            raise ValueError(f"patches have width {P} but the model was built for patch_dim="
                             f"{self.config.patch_dim}: shape {tuple(patches.shape)}")
        a = self.embed(patches)  # (B, N, D)
        mode = self.config.mode
        if mode == "none":
            weights = torch.full((B, N), 1.0 / N, device=patches.device)  # (B, N)
        else:
            e = self.v(torch.tanh(self.W_a(a))).squeeze(-1)  # (B, N)
            weights = torch.softmax(e, dim=-1)  # (B, N)
        log_weights = torch.log(weights.clamp_min(torch.finfo(weights.dtype).tiny))  # (B, N)
        if mode == "hard":
            if sample is None:
                sample = self.training
            if sample:
                index = torch.multinomial(weights.detach(), 1, generator=generator).squeeze(1)  # (B,)
            else:
                index = weights.argmax(dim=-1)  # (B,)
            z = a.gather(1, index.view(B, 1, 1).expand(B, 1, a.shape[-1])).squeeze(1)  # (B, D)
        else:
            index = weights.argmax(dim=-1)  # (B,)
            z = (weights.unsqueeze(-1) * a).sum(dim=1)  # (B, D)
        log_prob = log_weights.gather(1, index[:, None]).squeeze(1)  # (B,)
        return PatchOutput(self.head(z), weights, index, log_prob)


def make_patch_model(config: PatchModelConfig) -> PatchAttentionModel:
    """Build a ``PatchAttentionModel`` from its config."""
    return PatchAttentionModel(config)


class MovingAverageBaseline:
    r"""The REINFORCE baseline $b \leftarrow m\,b + (1 - m)\,\bar R$ (Xu et al. 2015, Sec. 4.1).

    ``value`` starts at ``None`` (the first update sets it to the first mean reward). It is a constant for the
    gradient: it depends on past rewards only, so the estimator stays unbiased.
    """

    def __init__(self, momentum: float = 0.9):
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = momentum
        self.value: float | None = None

    def __call__(self) -> float:
        return 0.0 if self.value is None else self.value

    def update(self, reward: torch.Tensor) -> None:
        mean = float(reward.detach().mean())
        self.value = mean if self.value is None else self.momentum * self.value + (1 - self.momentum) * mean


def reinforce_surrogate(log_prob: torch.Tensor, reward: torch.Tensor, baseline: float | torch.Tensor = 0.0
                        ) -> torch.Tensor:
    r"""A loss whose gradient is minus the REINFORCE estimate $\frac1B\sum_b (R_b - b)\nabla\log\alpha_{s_b}$.

    The reward and the baseline are treated as constants (detached). Minimising it climbs the expected reward.

    Shapes: log_prob (B,), reward (B,) -> ().
    """
    check_tensor("log_prob", log_prob, ndim=1, dtype_kind="float")
    check_tensor("reward", reward, ndim=1, dtype_kind="float")
    if log_prob.shape != reward.shape:
        raise ValueError(f"log_prob has shape {tuple(log_prob.shape)} but reward has shape {tuple(reward.shape)}")
    advantage = (reward - baseline).detach()  # (B,)
    return -(advantage * log_prob).mean()


def patch_loss(model: PatchAttentionModel, patches: torch.Tensor, labels: torch.Tensor, *,
               baseline: MovingAverageBaseline | None = None, entropy_weight: float = 0.01) -> torch.Tensor:
    r"""The training loss of every mode.

    Soft and none: cross-entropy. Hard (Xu's $L_s$ with REINFORCE): cross-entropy of the sampled read
    $-\log p(y \mid \mathbf{a}_s)$ (trains embedding and head) + the REINFORCE surrogate with reward
    $R = \log p(y \mid \mathbf{a}_s)$ and the baseline (trains the scorer), minus ``entropy_weight`` times the
    entropy of $\alpha$ (Xu's entropy bonus keeps it exploring). ``baseline=None`` uses $b = 0$; a given baseline
    is updated with this batch's rewards *after* it is used.

    Shapes: patches (B, N, patch_dim), labels (B,) long -> ().
    """
    out = model(patches)
    nll = nn.functional.cross_entropy(out.logits, labels, reduction="none")  # (B,)
    if model.config.mode != "hard":
        return nll.mean()
    reward = -nll.detach()  # (B,)
    b = baseline() if baseline is not None else 0.0
    policy = reinforce_surrogate(out.log_prob, reward, b)
    entropy = -(out.weights * torch.log(out.weights.clamp_min(1e-12))).sum(-1).mean()
    if baseline is not None:
        baseline.update(reward)
    return nll.mean() + policy - entropy_weight * entropy


@torch.no_grad()
def accuracy(model: PatchAttentionModel, data: PatchSearch, *, sample: bool = False, seed: int = 0) -> dict:
    """Accuracy of the label and of *where it looked* (the read cell is the target), in evaluation mode.

    A hard model reads its argmax cell unless ``sample=True``.
    """
    was_training = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    out = model(to_patches(data.images, data.patch), sample=sample, generator=g)
    model.train(was_training)
    return {"accuracy": float((out.logits.argmax(-1) == data.labels).float().mean()),
            "looks_at_target": float((out.index == data.target).float().mean()),
            "weight_on_target": float(out.weights.gather(1, data.target[:, None]).mean())}


def policy_gradient_variance(model: PatchAttentionModel, patches: torch.Tensor, labels: torch.Tensor, *,
                             baseline: float, draws: int = 64, seed: int = 0) -> dict:
    r"""Spread of the REINFORCE gradient of the scorer over ``draws`` independent samples of the cells read.

    Each draw samples $s_b \sim \alpha_b$ for the whole batch and computes the estimate
    $\hat g = \frac1B \sum_b (R_b - b)\nabla \log\alpha_{s_b}$ w.r.t. the scorer's parameters ($W_a$, $\mathbf{v}$).
    Returns the mean estimate's norm and the total variance $\mathbb{E}\lVert \hat g - \bar g\rVert^2$.
    """
    if model.config.mode != "hard":
        raise ValueError(f"policy_gradient_variance needs a hard-attention model, got mode {model.config.mode!r}")
    params = [*model.W_a.parameters(), *model.v.parameters()]
    g = torch.Generator().manual_seed(seed)
    grads = []
    for _ in range(draws):
        out = model(patches, sample=True, generator=g)
        reward = -nn.functional.cross_entropy(out.logits, labels, reduction="none").detach()  # (B,)
        surrogate = reinforce_surrogate(out.log_prob, reward, baseline)
        flat = torch.cat([x.flatten() for x in torch.autograd.grad(surrogate, params)])  # (P,)
        grads.append(-flat)
    G = torch.stack(grads)  # (draws, P)
    mean = G.mean(0)  # (P,)
    return {"mean_norm": float(mean.norm()), "variance": float(((G - mean) ** 2).sum(1).mean())}
