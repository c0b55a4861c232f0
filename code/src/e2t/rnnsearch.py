"""RNNsearch (Bahdanau et al. 2015): a bidirectional encoder and a decoder that attends to all of its states.

    encoder:   h_i = [->h_i ; <-h_i]                                  (a bidirectional GRU, i = 1..S)
    start:     s_0 = tanh(W_s <-h_1)
    attention: e_{t,i} = score(s_{t-1}, h_i),  alpha_t = softmax(e_t),  c_t = sum_i alpha_{t,i} h_i
    decoder:   s_t = GRU([E y_{t-1}; c_t], s_{t-1})
    output:    p(y_t | y_<t, x) = softmax(W_o tanh(W_h [s_t; c_t; E y_{t-1}]))

The score is an argument: the paper's additive one by default (``e2t.scores.AdditiveScore``), or any other of
``e2t.scores`` (``RNNsearchConfig.score``, or a callable passed to ``make_rnnsearch``); chapter 4 trains the same
model with each. Compared with chapter 2's fixed-vector "RNNenc" (``e2t.seq2seq``), the decoder no longer has to
carry the whole source in one vector: it reads a fresh context ``c_t`` at every step.

The paper's output layer is a maxout layer fed with s_{t-1}; ours is a tanh layer fed with s_t (a common
simplification that changes nothing essential here).

Introduced in: chapter 3.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import e2t
from e2t.attention import BahdanauAttention
from e2t.data.text import Batch, Example, NumberTask, batches, collate, number_task
from e2t.decoding import decode
from e2t.scores import SCORE_NAMES, make_score

__all__ = ["RNNsearchConfig", "RNNsearch", "make_rnnsearch", "rnnsearch_loss", "translator", "alignments",
           "Alignment", "load_rnnsearch", "decoding_step_macs", "train_rnnsearch", "MODELS", "STEPS",
           "train_and_track", "checkpoint_job"]


@dataclass(frozen=True)
class RNNsearchConfig:
    """Everything that defines an RNNsearch model.

    ``d_enc`` is the width of EACH direction of the encoder, so an annotation $h_i$ has ``2 * d_enc`` numbers.
    ``score`` names the alignment score (one of ``e2t.scores.SCORE_NAMES``); ``d_attn`` is the additive score's
    hidden width; ``max_src_len`` bounds the sources the location score can see.

    Introduced in: chapter 3.
    """

    src_vocab_size: int
    tgt_vocab_size: int
    d_embed: int = 64
    d_enc: int = 128
    d_dec: int = 256
    d_attn: int = 128
    d_out: int = 256
    score: str = "additive"
    max_src_len: int = 64
    pad: int = 0

    def __post_init__(self):
        for name in ("src_vocab_size", "tgt_vocab_size", "d_embed", "d_enc", "d_dec", "d_attn", "d_out",
                     "max_src_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.score not in SCORE_NAMES:
            raise ValueError(f"score must be one of {SCORE_NAMES}, got {self.score!r}")

    @classmethod
    def for_task(cls, task: NumberTask, **kwargs) -> RNNsearchConfig:
        """A config sized for ``task``'s vocabularies."""
        return cls(src_vocab_size=len(task.src_vocab), tgt_vocab_size=len(task.tgt_vocab), pad=task.src_vocab.pad,
                   **kwargs)


class RNNsearch(nn.Module):
    """The encoder-decoder with attention of Bahdanau et al. (2015); see the module docstring for the equations.

    ``score`` overrides the config's score with any callable ``score(q (B, T, Dq), k (B, S, Dk)) -> (B, T, S)``.

    Shapes:
        encode: src (B, S) long, src_lengths (B,) -> keys h (B, S, 2*d_enc), s_0 (B, d_dec), mask (B, 1, S)
        step:   prev (B,) long, state dict -> log_probs (B, V), state dict (its "alpha" (B, S): the step's weights)
        forward: src (B, S), src_lengths (B,), tgt_in (B, T) -> logits (B, T, V) [and weights (B, T, S)]

    Introduced in: chapter 3.
    """

    def __init__(self, config: RNNsearchConfig, *, score: Callable | None = None):
        super().__init__()
        self.config = config
        c = config
        d_key = 2 * c.d_enc
        self.src_embed = nn.Embedding(c.src_vocab_size, c.d_embed, padding_idx=c.pad)
        self.encoder = nn.GRU(c.d_embed, c.d_enc, batch_first=True, bidirectional=True)
        self.W_s = nn.Linear(c.d_enc, c.d_dec)  # s_0 = tanh(W_s <-h_1)
        if score is None:
            score = make_score(c.score, d_query=c.d_dec, d_key=d_key, d_attn=c.d_attn, max_len=c.max_src_len)
        self.attention = BahdanauAttention(d_query=c.d_dec, d_key=d_key, score=score)
        self.tgt_embed = nn.Embedding(c.tgt_vocab_size, c.d_embed, padding_idx=c.pad)
        self.cell = nn.GRUCell(c.d_embed + d_key, c.d_dec)  # s_t = GRU([E y_{t-1}; c_t], s_{t-1})
        self.W_h = nn.Linear(c.d_dec + d_key + c.d_embed, c.d_out)
        self.W_o = nn.Linear(c.d_out, c.tgt_vocab_size)

    # -- encoder ---------------------------------------------------------------------------------------------
    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run the bidirectional encoder; return the decoder's starting state (a dict of batch-first tensors)."""
        if src.dim() != 2:
            raise ValueError(f"src must be (B, S), got shape {tuple(src.shape)}")
        B, S = src.shape
        if src_lengths.shape != (B,):
            raise ValueError(f"src_lengths must be (B,) = ({B},), got shape {tuple(src_lengths.shape)}")
        if int(src_lengths.min()) < 1 or int(src_lengths.max()) > S:
            raise ValueError(f"src_lengths must lie in 1..S={S}, got {src_lengths.tolist()}")
        if S > self.config.max_src_len and self.config.score == "location":
            raise ValueError(f"src has {S} positions but the location score was built for max_src_len="
                             f"{self.config.max_src_len}")
        x = self.src_embed(src)  # (B, S, E)
        packed = pack_padded_sequence(x, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.encoder(packed)
        keys, _ = pad_packed_sequence(out, batch_first=True, total_length=S)  # (B, S, 2*d_enc), zeros at padding
        backward_first = keys[:, 0, self.config.d_enc:]  # (B, d_enc)  <-h_1, which has read the whole source
        s0 = torch.tanh(self.W_s(backward_first))  # (B, d_dec)
        positions = torch.arange(S, device=src.device)  # (S,)
        mask = (positions[None, :] < src_lengths.to(src.device)[:, None]).unsqueeze(1)  # (B, 1, S) True = real
        alpha = torch.zeros(B, S, device=src.device)  # (B, S) no step taken yet
        prepared = self.attention.prepare(keys)  # (B, S, A) for the additive score, else None
        return {"s": s0, "keys": keys, "mask": mask, "alpha": alpha, "prepared": prepared}

    # -- decoder ---------------------------------------------------------------------------------------------
    def step(self, prev: torch.Tensor, state: dict[str, torch.Tensor]):
        """One decoder step with the signature of ``e2t.decoding``: attend with $s_{t-1}$, update, predict.

        Returns ``log_probs`` (B, V) and the new state; ``state["alpha"]`` (B, S) holds this step's attention
        weights $\\alpha_{t,\\cdot}$ (for alignment plots).
        """
        logits, state = self._step(prev, state)
        return torch.log_softmax(logits, dim=-1), state  # (B, V)

    def _recur(self, y: torch.Tensor, state: dict[str, torch.Tensor]):
        r"""Attend with $s_{t-1}$, then $s_t = \mathrm{GRU}([E y_{t-1}; c_t], s_{t-1})$; y is $E y_{t-1}$ (B, E)."""
        s_prev = state["s"]
        context, alpha = self.attention(s_prev, state["keys"], state["mask"],
                                        prepared=state["prepared"])  # c_t (B, 2*d_enc), alpha_t (B, S)
        s = self.cell(torch.cat([y, context], dim=-1), s_prev)  # (B, d_dec)
        return context, {**state, "s": s, "alpha": alpha}

    def _output(self, s: torch.Tensor, context: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        r"""Logits of $p(y_t \mid y_{<t}, x) = \mathrm{softmax}(W_o \tanh(W_h [s_t; c_t; E y_{t-1}]))$."""
        hidden = torch.tanh(self.W_h(torch.cat([s, context, y], dim=-1)))  # (..., d_out)
        return self.W_o(hidden)  # (..., V)

    def _step(self, prev: torch.Tensor, state: dict[str, torch.Tensor]):
        y = self.tgt_embed(prev)  # (B, E)
        context, state = self._recur(y, state)
        return self._output(state["s"], context, y), state  # (B, V)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, *,
                return_weights: bool = False):
        """Teacher forcing over a whole target prefix ``tgt_in`` (starting with ``bos``)."""
        if tgt_in.dim() != 2 or tgt_in.shape[0] != src.shape[0]:
            raise ValueError(f"tgt_in must be (B, T) with B = {src.shape[0]}, got shape {tuple(tgt_in.shape)}")
        state = self.encode(src, src_lengths)
        y = self.tgt_embed(tgt_in)  # (B, T, E)
        states, contexts, weights = [], [], []
        for t in range(tgt_in.shape[1]):  # the recurrence is sequential; the output layer is not
            context, state = self._recur(y[:, t], state)
            states.append(state["s"])
            contexts.append(context)
            weights.append(state["alpha"])
        logits = self._output(torch.stack(states, dim=1), torch.stack(contexts, dim=1), y)  # (B, T, V)
        if return_weights:
            return logits, torch.stack(weights, dim=1)  # (B, T, V), (B, T, S)
        return logits

    @torch.no_grad()
    def translate(self, src: torch.Tensor, src_lengths: torch.Tensor, *, bos: int, eos: int, max_len: int = 40,
                  beam_size: int = 1, length_penalty: float = 1.0) -> list[list[int]]:
        """Decode greedily (``beam_size=1``) or with beam search; token ids without bos/eos."""
        state = self.encode(src, src_lengths)
        return decode(self.step, state, batch_size=src.shape[0], bos=bos, eos=eos, max_len=max_len,
                      beam_size=beam_size, length_penalty=length_penalty)


def make_rnnsearch(config: RNNsearchConfig, *, score: Callable | None = None) -> RNNsearch:
    """Build an ``RNNsearch`` from its config (``score`` overrides ``config.score`` with any score callable).

    Introduced in: chapter 3.
    """
    return RNNsearch(config, score=score)


def rnnsearch_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Teacher forcing: mean over real target tokens of $-\\log p(y_t \\mid y_{<t}, x)$ (padding ignored).

    Introduced in: chapter 3.
    """
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
    B, T, V = logits.shape
    return nn.functional.cross_entropy(logits.reshape(B * T, V), batch.tgt_out.reshape(B * T),  # (B*T, V)
                                       ignore_index=model.config.pad)


def translator(model: nn.Module, task: NumberTask, *, beam_size: int = 1, batch_size: int = 500,
               max_len: int = 40) -> Callable[[list[Example]], list[list[str]]]:
    """A ``translate_fn(examples) -> token lists`` for ``e2t.evaluation.evaluate``.

    Introduced in: chapter 3.
    """

    def translate(examples: list[Example]) -> list[list[str]]:
        model.eval()
        out = []
        for start in range(0, len(examples), batch_size):
            b = collate(examples[start:start + batch_size], task)
            ids = model.translate(b.src, b.src_lengths, bos=task.tgt_vocab.bos, eos=task.tgt_vocab.eos,
                                  max_len=max_len, beam_size=beam_size)
            out.extend(task.tgt_vocab.decode(s) for s in ids)
        return out

    return translate


@dataclass(frozen=True)
class Alignment:
    """One translated example and its alignment matrix: row t = output token t, column i = source word i.

    ``weights`` (T+1, S) includes the row of the final ``<eos>``; ``correct`` says whether the output equals the
    reference.

    Introduced in: chapter 3.
    """

    example: Example
    output: tuple[str, ...]
    weights: torch.Tensor

    @property
    def correct(self) -> bool:
        return self.output == tuple(self.example.tgt)

    @property
    def rows(self) -> list[str]:
        return [*self.output, "<eos>"]


@torch.no_grad()
def alignments(model: RNNsearch, task: NumberTask, examples: Sequence[Example], *, max_len: int = 40
               ) -> list[Alignment]:
    """Translate ``examples`` greedily and return each output with its attention weights.

    The weights come from re-running the decoder with teacher forcing on its own output, which gives exactly the
    weights of the greedy decoding (the decoder is deterministic given its inputs).

    Introduced in: chapter 3.
    """
    model.eval()
    examples = list(examples)
    if not examples:
        raise ValueError("examples is empty")
    b = collate(examples, task)
    V = task.tgt_vocab
    ids = model.translate(b.src, b.src_lengths, bos=V.bos, eos=V.eos, max_len=max_len)
    out = []
    for i, (e, seq) in enumerate(zip(examples, ids)):
        tgt_in = torch.tensor([[V.bos, *seq]])  # (1, T+1)
        S = int(b.src_lengths[i])
        _, w = model(b.src[i:i + 1, :S], b.src_lengths[i:i + 1], tgt_in, return_weights=True)  # (1, T+1, S)
        out.append(Alignment(example=e, output=tuple(V.decode(seq)), weights=w[0]))
    return out


def load_rnnsearch(name: str = "rnnsearch", *, directory=None) -> tuple[RNNsearch, dict[str, Any]]:
    """Rebuild a shipped checkpoint from its card's config and load its weights: ``(model, card)``.

    Introduced in: chapter 3.
    """
    from e2t.checkpoints import load_checkpoint, read_card

    card = read_card(name, directory=directory)
    model = make_rnnsearch(RNNsearchConfig(**card["config"]))
    load_checkpoint(model, name, directory=directory)
    model.eval()
    return model, card


# ---------------------------------------------------------------------------------------------- cost

def decoding_step_macs(model: nn.Module, S: int) -> dict[str, int]:
    r"""Multiply-adds of ONE greedy decoding step for one sentence with ``S`` source words, counted from the
    layer sizes: ``{"fixed": ..., "per_source_word": ..., "per_step": ..., "once_per_sentence": ...}``.

    RNNenc (``e2t.seq2seq``, one layer): a GRU step $3H(E + H)$ and the output layer $HV$, whatever ``S`` is.
    RNNsearch (additive score): the same kind of fixed work, plus for every source word $A$ for
    $v_a^\top \tanh(\cdot)$ and $D_k$ for its share of $c_t = \sum_i \alpha_{t,i} h_i$; the keys' half of the
    score, $W_a^{(h)} h_i$, costs $S D_k A$ once per sentence. So a sentence of ``T`` output words costs
    $O(T \cdot S)$ with attention and $O(T)$ without (after the encoder's $O(S)$).

    Introduced in: chapter 3.
    """
    if not isinstance(S, int) or S < 1:
        raise ValueError(f"S must be a positive int, got {S!r}")
    c = model.config
    if isinstance(model, RNNsearch):
        if c.score != "additive":
            raise ValueError(f"decoding_step_macs counts the additive score only, got score={c.score!r}")
        d_key = 2 * c.d_enc
        fixed = (c.d_attn * c.d_dec + 3 * c.d_dec * (c.d_embed + d_key + c.d_dec)
                 + c.d_out * (c.d_dec + d_key + c.d_embed) + c.d_out * c.tgt_vocab_size)
        per_word = c.d_attn + d_key
        once = S * d_key * c.d_attn
    else:
        if getattr(c, "num_layers", 1) != 1 or getattr(c, "cell", "gru") != "gru":
            raise ValueError("decoding_step_macs counts a one-layer GRU seq2seq only")
        fixed = 3 * c.d_hidden * (c.d_embed + c.d_hidden) + c.d_hidden * c.tgt_vocab_size
        per_word, once = 0, 0
    return {"fixed": fixed, "per_source_word": per_word, "per_step": fixed + per_word * S, "once_per_sentence": once}


# ---------------------------------------------------------------------------------------------- training

def train_rnnsearch(config: RNNsearchConfig, task: NumberTask, *, seed: int = 0, steps: int = 1500,
                    batch_size: int = 128, lr: float = 1e-3, progress: bool = True,
                    max_seconds: float | None = None, score: Callable | None = None, eval_fn=None,
                    eval_every: int | None = None):
    """Train a fresh model with ``e2t.train.fit`` (Adam, constant ``lr``); returns ``(model, history)``.

    Introduced in: chapter 3.
    """
    e2t.set_seed(seed)
    model = make_rnnsearch(config, score=score)
    stream = batches(task.train, task, batch_size=batch_size, seed=seed, epochs=None)
    history = e2t.train.fit(model, rnnsearch_loss, stream, steps=steps, lr=lr, progress=progress,
                            max_seconds=max_seconds, eval_fn=eval_fn, eval_every=eval_every, desc="RNNsearch")
    return model, history


def _rounded(result: dict[str, Any]) -> dict[str, Any]:
    """An ``evaluate`` result without hypotheses, numbers rounded to 4 places."""
    def r(d):
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}

    return {"overall": r(result["overall"]), "by_bucket": {k: r(v) for k, v in result["by_bucket"].items()}}


MODELS = ("RNNenc", "RNNsearch")


def _builder(name: str, task: NumberTask, small: bool):
    """(build, loss_fn, make_translate) for one of ``MODELS``; ``small`` gives tiny models (for tests)."""
    if name == "RNNenc":
        from e2t.seq2seq import Seq2SeqConfig, make_seq2seq, seq2seq_loss
        from e2t.seq2seq import translator as seq2seq_translator

        size = dict(d_embed=8, d_hidden=16) if small else dict(d_embed=64, d_hidden=256)  # one GRU of 256
        return (lambda: make_seq2seq(Seq2SeqConfig.for_task(task, **size)), seq2seq_loss,
                lambda m: seq2seq_translator(m, task))
    if name == "RNNsearch":
        size = (dict(d_embed=8, d_enc=8, d_dec=16, d_attn=8, d_out=16) if small else
                dict(d_embed=64, d_enc=128, d_dec=256))  # a biGRU of 2 x 128
        return (lambda: make_rnnsearch(RNNsearchConfig.for_task(task, **size)), rnnsearch_loss,
                lambda m: translator(m, task))
    raise ValueError(f"name must be one of {MODELS}, got {name!r}")


#: Steps every Fig. 2 run trains (both models, the same batches), and the budgets at which each is scored on the
#: test split. Both were fixed before any run: the first budget is where attention has learned the task and the
#: fixed vector has not; the last is where the fixed vector, too, translates short numbers.
STEPS = 1500
BUDGETS = (300, 1500)


def train_and_track(name: str, seed: int, *, steps: int = STEPS, eval_every: int = 100,
                    budgets: Sequence[int] = BUDGETS, batch_size: int = 128, lr: float = 1e-3,
                    task: NumberTask | None = None, small: bool = False,
                    progress: bool = False) -> tuple[dict[str, Any], dict[int, dict[str, torch.Tensor]]]:
    """Train model ``name`` (``"RNNenc"`` or ``"RNNsearch"``) with ``seed`` for ``steps`` steps.

    Every ``eval_every`` steps the model is scored on the **validation** split (exact match overall and by
    source-length bucket: the learning curves); at each step of ``budgets`` it is also scored on the whole **test**
    split, and its weights at that step are kept. Returns ``(run, weights)``: ``run["valid"]`` is the curve,
    ``run["test"]`` maps each budget to its test scores, ``weights`` maps each budget to a ``state_dict`` copy.

    Introduced in: chapter 3.
    """
    from e2t.evaluation import evaluate

    budgets = sorted(set(budgets))
    if not budgets or budgets[0] < 1 or budgets[-1] > steps:
        raise ValueError(f"budgets must lie in 1..steps={steps}, got {budgets}")
    task = task or number_task()
    build, loss_fn, make_translate = _builder(name, task, small)
    e2t.set_seed(seed)
    model = build()
    stream = batches(task.train, task, batch_size=batch_size, seed=seed, epochs=None)
    valid = list(task.valid[:50]) if small else list(task.valid)
    test = list(task.test[:50]) if small else list(task.test)
    losses: list[float] = []
    run: dict[str, Any] = {"model": name, "seed": seed, "steps": steps, "eval_every": eval_every,
                           "budgets": budgets, "batch_size": batch_size, "lr": lr,
                           "config": dataclasses.asdict(model.config), "valid": [], "test": {},
                           "train_time_s": 0.0}
    weights: dict[int, dict[str, torch.Tensor]] = {}
    clock = {"start": time.perf_counter(), "eval": 0.0}

    def tracked_loss(m, batch):
        loss = loss_fn(m, batch)
        losses.append(float(loss.detach()))
        return loss

    def eval_fn(m):
        begin = time.perf_counter()
        step = len(losses)
        res = _rounded(evaluate(make_translate(m), valid))
        res["step"] = step
        res["loss"] = round(sum(losses[-50:]) / max(len(losses[-50:]), 1), 4)
        run["valid"].append(res)
        if step in budgets:
            run["test"][str(step)] = _rounded(evaluate(make_translate(m), test))
            weights[step] = {k: v.detach().clone() for k, v in m.state_dict().items()}
        clock["eval"] += time.perf_counter() - begin
        run["train_time_s"] = round(time.perf_counter() - clock["start"] - clock["eval"], 1)
        return {"exact_match": res["overall"]["exact_match"]}

    every = math.gcd(eval_every, *budgets)  # evaluate at least at every budget
    if every != eval_every:
        raise ValueError(f"eval_every={eval_every} must divide every budget {budgets}")
    e2t.train.fit(model, tracked_loss, stream, steps=steps, lr=lr, eval_fn=eval_fn, eval_every=eval_every,
                  progress=progress, desc=f"{name} seed {seed}")
    last = run["test"][str(budgets[-1])]
    print(f"  {name} seed {seed}: {len(losses)} steps in {run['train_time_s']:.0f} s (training only), test EM "
          f"{last['overall']['exact_match']:.3f} at {budgets[-1]} steps", file=sys.stderr)
    return run, weights


# ---------------------------------------------------------------------------------------------- make checkpoints

SELECTION_RULE = ("the RNNsearch run with the highest validation exact match at the last budget (ties: the first "
                  "seed), at that budget; test never consulted")


def _assemble(runs: list[dict[str, Any]], weights: dict[tuple[str, int], dict[int, dict[str, torch.Tensor]]],
              task: NumberTask, *, command: str, directory=None) -> dict[str, Any]:
    """Write ``rnnsearch_fig2.json`` (all runs, no weights) and the ``rnnsearch`` checkpoint; return its card."""
    from e2t.checkpoints import save_card, save_checkpoint

    seeds = sorted({r["seed"] for r in runs})
    steps = max(r["steps"] for r in runs)
    budgets = runs[0]["budgets"]
    fig2 = {"name": "rnnsearch_fig2", "command": command, "seed": seeds, "steps": steps, "budgets": budgets,
            "wall_time_s": round(sum(r["train_time_s"] for r in runs), 1), "runs": runs,
            "comparison": "both models train the same steps on the same batches (same seed) with the same "
                          "optimiser; each is scored on test at every budget",
            "metrics": {f"{r['model']} seed {r['seed']} @{b}": {k: v["exact_match"] for k, v in
                                                               r["test"][str(b)]["by_bucket"].items()}
                        for r in runs for b in budgets}}
    save_card("rnnsearch_fig2", fig2, directory=directory)

    def valid_at_last(r):
        return next(v for v in r["valid"] if v["step"] == budgets[-1])["overall"]["exact_match"]

    candidates = [r for r in runs if r["model"] == "RNNsearch"]
    run = max(candidates, key=lambda r: (valid_at_last(r), -r["seed"]))
    model = make_rnnsearch(RNNsearchConfig(**run["config"]))
    model.load_state_dict(weights[("RNNsearch", run["seed"])][budgets[-1]])
    model.eval()
    final = run["test"][str(budgets[-1])]
    short = [final["by_bucket"][k] for k in ("1-5", "6-10")]
    upto10 = sum(b["n"] * b["exact_match"] for b in short) / max(sum(b["n"] for b in short), 1)
    card = {"name": "rnnsearch", "command": command, "seed": run["seed"], "steps": budgets[-1],
            "wall_time_s": run["train_time_s"], "selection_rule": SELECTION_RULE,
            "valid_exact_match": valid_at_last(run),
            "train": {"batch_size": run["batch_size"], "lr": run["lr"],
                      "optimizer": "Adam (constant learning rate), gradient norm clipped at 1"},
            "config": dataclasses.asdict(model.config),
            "curve": [[v["step"], v["loss"], v["overall"]["exact_match"]] for v in run["valid"]],
            "curve_columns": ["step", "training loss (mean of the last 50 steps)", "validation exact match"],
            "metrics": {"exact_match": final["overall"]["exact_match"], "bleu": final["overall"]["bleu"],
                        "token_accuracy": final["overall"]["token_accuracy"],
                        "exact_match_upto10": round(upto10, 4),
                        "exact_match_by_bucket": {k: v["exact_match"] for k, v in final["by_bucket"].items()},
                        "bleu_by_bucket": {k: v["bleu"] for k, v in final["by_bucket"].items()}},
            "test": {"overall": final["overall"], "by_bucket": final["by_bucket"]}}
    save_checkpoint(model, "rnnsearch", card, directory=directory)
    return card


def checkpoint_job(*, quick: bool = False, directory=None, seeds: Sequence[int] = (0, 1),
                   steps: int = STEPS, budgets: Sequence[int] = BUDGETS, eval_every: int = 100) -> dict[str, Any]:
    """Reproduce what chapter 3 ships (``python -m e2t.jobs rnnsearch``): Bahdanau et al.'s Fig. 2 on the number
    task, at equal training steps.

    For each of ``seeds``, RNNenc (chapter 2's fixed-vector GRU, ``e2t.seq2seq``, one GRU of 256) and RNNsearch
    (a biGRU of 2 x 128 with attention) train ``steps`` steps on the same batches (same seed, same order) with the
    same optimiser (Adam, learning rate 1e-3, batch 128). Each is scored on the validation split every
    ``eval_every`` steps and on the whole test split at each step of ``budgets`` (``train_and_track``). Writes
    - ``rnnsearch_fig2.json``: a card without weights holding every evaluation of every run (the Fig. 2 data);
    - ``rnnsearch.safetensors`` + ``rnnsearch.json``: one RNNsearch at the last budget, chosen on validation
      (``SELECTION_RULE``), with its test metrics by bucket and on sources of up to 10 words.
    The runs go one after another in this process. Returns the ``rnnsearch`` card.

    Introduced in: chapter 3.
    """
    if quick and directory is None:
        raise ValueError("quick=True must write to a directory (not over the shipped checkpoints)")
    if quick:
        seeds, steps, budgets, eval_every = tuple(seeds)[:1], 4, (2, 4), 2
    task = number_task()
    runs, weights = [], {}
    for seed in seeds:
        for name in MODELS:
            run, kept = train_and_track(name, seed, steps=steps, eval_every=eval_every, budgets=budgets,
                                        task=task, small=quick)
            runs.append(run)
            weights[(name, seed)] = kept
    command = "python -m e2t.jobs rnnsearch" + (" (quick)" if quick else "")
    return _assemble(runs, weights, task, command=command, directory=directory)


