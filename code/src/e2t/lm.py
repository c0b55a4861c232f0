r"""GPT and BERT in miniature: a decoder-only causal language model and an encoder-only masked language model.

Both are a stack of Transformer layers with *one* attention sub-layer each (self-attention) and a feed-forward
sub-layer; there is no encoder-decoder attention because there is no second sequence to attend to. They differ in
the mask and the objective:

- **GPT** (Radford et al. 2018): a causal mask; predict every next token, $\max \sum_t \log p(x_t \mid x_{<t})$.
  It generates continuations one token at a time.
- **BERT** (Devlin et al. 2019): no causal mask (every token sees both sides); replace some tokens by ``<mask>``
  and predict the originals, $\max \sum_{t \in \mathcal{M}} \log p(x_t \mid x_{\setminus \mathcal{M}})$.

The text is generated in code: runs of consecutive English number words, "forty one , forty two , forty three ,".
Continuing a run needs the rule of counting in words (with carries: "ninety nine , one hundred"); filling a gap
needs both neighbours.

Introduced in: chapter 6.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from num2words import num2words
from torch import nn

from .checkpoints import save_checkpoint
from .masks import causal_mask, padding_mask
from .transformer import Encoder, sinusoidal_positions

SPECIALS = ("<pad>", "<bos>", "<eos>", "<mask>")
PAD, BOS, EOS, MASK = range(4)
SEP = ","


def number_words(n: int) -> list[str]:
    """English words of ``n`` (1..999) as tokens: 342 -> ['three', 'hundred', 'and', 'forty', 'two'].

    Introduced in: chapter 6.
    """
    if not isinstance(n, int) or not 1 <= n <= 999:
        raise ValueError(f"n must be an int in [1, 999], got {n!r}")
    return list(_number_words(n))


@functools.lru_cache(maxsize=None)
def _number_words(n: int) -> tuple[str, ...]:
    return tuple(num2words(n, lang="en").replace("-", " ").split())


def _build_words() -> tuple[str, ...]:
    words = sorted({w for n in range(1, 1000) for w in number_words(n)})
    return SPECIALS + (SEP,) + tuple(words)


#: The language models' vocabulary: 4 special tokens, the separator and the number words.
WORDS: tuple[str, ...] = _build_words()
_INDEX = {w: i for i, w in enumerate(WORDS)}


def encode(tokens: list[str]) -> list[int]:
    """Token strings -> ids (raises on a word outside ``WORDS``).

    Introduced in: chapter 6.
    """
    unknown = [t for t in tokens if t not in _INDEX]
    if unknown:
        raise ValueError(f"tokens {unknown[:5]} are not in the vocabulary")
    return [_INDEX[t] for t in tokens]


def decode(ids) -> list[str]:
    """Ids -> token strings, dropping padding.

    Introduced in: chapter 6.
    """
    return [WORDS[i] for i in ids if i != PAD]


def counting_run(start: int, count: int) -> list[str]:
    """The tokens of ``start, start+1, ..., start+count-1``, each number followed by ``,``.

    Introduced in: chapter 6.
    """
    if start < 1 or start + count - 1 > 999 or count < 1:
        raise ValueError(f"the run {start}..{start + count - 1} must lie in [1, 999]")
    out: list[str] = []
    for n in range(start, start + count):
        out += number_words(n) + [SEP]
    return out


#: The numbers no training run contains: every evaluation of the language models uses runs inside this range only.
#: (Runs that merely *start* elsewhere would overlap the training text: "fourteen , fifteen" is in a run from 13.)
HELD_OUT = range(600, 700)


def held_out(n: int) -> bool:
    """Whether the number ``n`` is held out (never in the training text): ``n`` in ``HELD_OUT``, 600..699.

    Introduced in: chapter 6.
    """
    return n in HELD_OUT


def training_starts(count: int = 5) -> list[int]:
    """The starts of the training runs of ``count`` numbers: every run in 1..999 that holds no held-out number.

    Introduced in: chapter 6.
    """
    return [s for s in range(1, 1000 - count + 1) if not any(held_out(n) for n in range(s, s + count))]


def _pad(seqs: list[list[int]], value: int = PAD) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(s) for s in seqs])
    out = torch.full((len(seqs), int(lengths.max())), value, dtype=torch.long)  # (B, L)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.tensor(s)
    return out, lengths


def lm_batches(*, batch_size: int = 64, count: int = 5, seed: int = 0, masked: bool = False,
               mask_rate: float = 0.15) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Endless training batches ``(tokens (B, L), lengths (B,), targets (B, L))`` of counting runs.

    Causal (``masked=False``): tokens are ``<bos> run``, targets the run shifted by one then ``<eos>`` (padding
    ``-100``, ignored).
    Masked (BERT): ``mask_rate`` of the tokens are chosen; of those 80 % become ``<mask>``, 10 % a random word,
    10 % stay; targets hold the original token at chosen positions and ``-100`` (ignored) elsewhere.

    Introduced in: chapter 6.
    """
    g = torch.Generator().manual_seed(seed)
    starts = training_starts(count)
    while True:
        picks = torch.randint(len(starts), (batch_size,), generator=g).tolist()
        runs = [encode(counting_run(starts[i], count)) for i in picks]
        if not masked:
            tokens, lengths = _pad([[BOS] + r for r in runs])
            targets, _ = _pad([r + [EOS] for r in runs], value=-100)
            yield tokens, lengths, targets
            continue
        tokens, lengths = _pad(runs)
        real = padding_mask(lengths, tokens.shape[1])[:, 0, 0]  # (B, L)
        chosen = (torch.rand(tokens.shape, generator=g) < mask_rate) & real  # (B, L)
        targets = torch.where(chosen, tokens, torch.full_like(tokens, -100))
        roll = torch.rand(tokens.shape, generator=g)  # (B, L)
        random_words = torch.randint(len(SPECIALS), len(WORDS), tokens.shape, generator=g)  # (B, L)
        corrupted = torch.where(chosen & (roll < 0.8), torch.full_like(tokens, MASK), tokens)
        corrupted = torch.where(chosen & (roll >= 0.9), random_words, corrupted)
        yield corrupted, lengths, targets


@dataclass(frozen=True)
class LMConfig:
    """A tiny Transformer language model: ``causal=True`` is GPT-style, ``causal=False`` BERT-style.

    Introduced in: chapter 6.
    """

    vocab_size: int = len(WORDS)
    d_model: int = 64
    num_heads: int = 4
    num_layers: int = 2
    d_ff: int = 128
    dropout: float = 0.0
    max_len: int = 64
    causal: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "num_heads", "num_layers", "d_ff", "max_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by num_heads={self.num_heads}")


class TinyLM(nn.Module):
    """Token embedding + sinusoidal positions, a stack of self-attention layers, a tied output layer.

    The mask is causal (GPT) or only hides padding (BERT). Build it with ``make_lm(config)``.

    Shapes: tokens (B, L), lengths (B,) or None -> logits (B, L, V).

    Introduced in: chapter 6.
    """

    def __init__(self, config: LMConfig):
        super().__init__()
        c = self.config = config
        self.embed = nn.Embedding(c.vocab_size, c.d_model, padding_idx=PAD)
        self.register_buffer("positions", sinusoidal_positions(c.max_len, c.d_model), persistent=False)
        self.layers = Encoder(num_layers=c.num_layers, d_model=c.d_model, num_heads=c.num_heads, d_ff=c.d_ff,
                              dropout=c.dropout, norm_first=True)
        self.head = nn.Linear(c.d_model, c.vocab_size)
        self.head.weight = self.embed.weight

    def mask(self, L: int, lengths: torch.Tensor | None, device) -> torch.Tensor | None:
        """The self-attention mask: causal (L, L) for GPT, padding (B, 1, 1, L) for BERT, or both."""
        mask = causal_mask(L, device=device) if self.config.causal else None
        if lengths is not None:
            pad = padding_mask(lengths.to(device), L)  # (B, 1, 1, L)
            mask = pad if mask is None else mask & pad  # (B, 1, L, L) when both
        return mask

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        B, L = tokens.shape
        if L > self.config.max_len:
            raise ValueError(f"tokens has {L} positions but max_len is {self.config.max_len}")
        x = self.embed(tokens) * self.config.d_model ** 0.5 + self.positions[:L]  # (B, L, D)
        x = self.layers(x, self.mask(L, lengths, tokens.device))  # (B, L, D)
        return self.head(x)  # (B, L, V)


def make_lm(config: LMConfig) -> TinyLM:
    """Build a tiny GPT-style (``config.causal``) or BERT-style language model.

    Introduced in: chapter 6.
    """
    if not isinstance(config, LMConfig):
        raise TypeError(f"config must be an LMConfig, got {type(config).__name__}")
    model = TinyLM(config)
    nn.init.normal_(model.embed.weight, std=config.d_model ** -0.5)
    return model


def lm_loss(model: TinyLM, batch) -> torch.Tensor:
    """Cross-entropy over the targets of ``lm_batches`` (padding and unchosen positions ignored).

    Introduced in: chapter 6.
    """
    tokens, lengths, targets = batch
    logits = model(tokens, lengths)  # (B, L, V)
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)


@torch.no_grad()
def generate(model: TinyLM, prompt: list[str], *, max_new_tokens: int = 20, stop: str | None = None) -> list[str]:
    """Greedy continuation of ``prompt`` by a causal model (re-running the prefix each step: sequences are short).

    Stops after ``max_new_tokens``, at ``<eos>``, or after emitting ``stop``.

    Introduced in: chapter 6.
    """
    if not model.config.causal:
        raise ValueError("generate needs a causal (GPT-style) model")
    model.eval()
    ids = [BOS] + encode(prompt)
    new: list[str] = []
    for _ in range(max_new_tokens):
        if len(ids) >= model.config.max_len:
            break
        nxt = int(model(torch.tensor([ids]))[0, -1].argmax())
        if nxt == EOS:
            break
        ids.append(nxt)
        new.append(WORDS[nxt])
        if stop is not None and WORDS[nxt] == stop:
            break
    return new


@torch.no_grad()
def fill_masks(model: TinyLM, tokens: list[str]) -> list[str]:
    """A masked model's best guess for every ``<mask>`` in ``tokens``; other tokens are returned unchanged.

    Introduced in: chapter 6.
    """
    if model.config.causal:
        raise ValueError("fill_masks needs a masked (BERT-style) model")
    model.eval()
    ids = torch.tensor([encode(tokens)])  # (1, L)
    logits = model(ids)[0]  # (L, V)
    logits[:, :len(SPECIALS)] = float("-inf")  # guess words, never a special token
    guess = logits.argmax(-1)  # (L,)
    return [WORDS[int(g)] if t == "<mask>" else t for t, g in zip(tokens, guess)]


def held_out_starts(count: int = 5, *, limit: int | None = None) -> list[int]:
    """The starts of runs of ``count`` numbers that lie wholly in the held-out range (every one, or ``limit``
    spread evenly).

    Introduced in: chapter 6.
    """
    starts = [s for s in range(HELD_OUT.start, HELD_OUT.stop - count + 1)]
    if limit is not None and limit < len(starts):
        starts = starts[:: len(starts) // limit][:limit]
    return starts


@torch.no_grad()
def evaluate_gpt(model: TinyLM, *, prompt_numbers: int = 3, limit: int | None = None) -> float:
    """Exact match of the next number after ``prompt_numbers`` numbers of a held-out run (greedy; every number of
    the run is in ``HELD_OUT``, so none of it was in the training text).

    Introduced in: chapter 6.
    """
    starts = held_out_starts(prompt_numbers + 1, limit=limit)
    hits = 0
    for s in starts:
        out = generate(model, counting_run(s, prompt_numbers), max_new_tokens=8, stop=SEP)
        hits += out == number_words(s + prompt_numbers) + [SEP]
    return hits / len(starts)


@torch.no_grad()
def evaluate_bert(model: TinyLM, *, count: int = 5, limit: int | None = None) -> float:
    """Exact match of the middle number of a held-out run (all in ``HELD_OUT``) when all its tokens are masked.

    Introduced in: chapter 6.
    """
    starts = held_out_starts(count, limit=limit)
    hits = 0
    middle = count // 2
    for s in starts:
        before = counting_run(s, middle)
        target = number_words(s + middle)
        after = counting_run(s + middle + 1, count - middle - 1)
        filled = fill_masks(model, before + ["<mask>"] * len(target) + [SEP] + after)
        hits += filled[len(before):len(before) + len(target)] == target
    return hits / len(starts)


GPT_CONFIG = LMConfig(causal=True)
BERT_CONFIG = LMConfig(causal=False)
TRAINING = {"gpt": {"steps": 1500, "lr": 3e-3, "batch_size": 64}, "bert": {"steps": 2500, "lr": 3e-3, "batch_size": 64}}


def train_lm(kind: str, *, steps: int | None = None, seed: int = 0, max_seconds: float | None = None,
             progress: bool = True):
    """Train the GPT (``kind="gpt"``) or BERT (``kind="bert"``) model from scratch; return ``(model, history)``.

    Adam with a linear warmup over the first 5 % of the steps and a linear decay to zero.

    Introduced in: chapter 6.
    """
    from . import set_seed
    from .train import fit

    if kind not in TRAINING:
        raise ValueError(f"kind must be 'gpt' or 'bert', got {kind!r}")
    hp = TRAINING[kind]
    steps = hp["steps"] if steps is None else steps
    set_seed(seed)
    model = make_lm(GPT_CONFIG if kind == "gpt" else BERT_CONFIG)
    opt = torch.optim.Adam(model.parameters(), lr=hp["lr"], betas=(0.9, 0.98))
    warmup = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    history = fit(model, lm_loss, lm_batches(batch_size=hp["batch_size"], seed=seed, masked=kind == "bert"),
                  steps=steps, optimizer=opt, scheduler=sched, max_seconds=max_seconds, progress=progress,
                  desc=kind)
    return model, history


def checkpoint_job(*, quick: bool = False, directory=None) -> dict:
    """Train and save ``lm_gpt`` and ``lm_bert`` (``python -m e2t.jobs lm``); return the GPT card with both metrics.

    Introduced in: chapter 6.
    """
    if quick and directory is None:
        raise ValueError("quick runs must write to a directory (they must not overwrite the shipped checkpoints)")
    cards = {}
    for kind in ("gpt", "bert"):
        start = time.perf_counter()
        model, history = train_lm(kind, steps=5 if quick else None, progress=False)
        wall = time.perf_counter() - start
        limit = 5 if quick else None
        metric = evaluate_gpt(model, limit=limit) if kind == "gpt" else evaluate_bert(model, limit=limit)
        card = {"name": f"lm_{kind}", "command": "python -m e2t.jobs lm" + (" (quick)" if quick else ""),
                "seed": 0, "steps": len(history.steps),
                "wall_time_s": round(wall, 1), "config": asdict(model.config), "training": TRAINING[kind],
                "data": f"counting runs of 5 numbers in 1..999 holding no number of {HELD_OUT.start}.."
                        f"{HELD_OUT.stop - 1}; evaluated on runs inside that range only",
                "selection_rule": "none: the last step, steps fixed in advance",
                "curve": [[i + 1, round(sum(history.losses[i:i + 25]) / len(history.losses[i:i + 25]), 4)]
                          for i in range(0, len(history.losses), 25)],
                "metrics": {"final_loss": round(history.losses[-1], 4),
                            ("next_number_exact_match" if kind == "gpt" else "masked_number_exact_match"):
                                round(metric, 4)}}
        save_checkpoint(model, f"lm_{kind}", card, directory=directory)
        cards[kind] = card
    return {**cards["gpt"], "metrics": {**cards["gpt"]["metrics"], **cards["bert"]["metrics"]}}
