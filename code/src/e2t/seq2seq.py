"""Sequence to sequence (Sutskever et al. 2014; Cho et al. 2014): an RNN encoder squeezes the source into one
fixed-length vector, the encoder vector, and an RNN decoder generates the target from it.

    encoder:  h_i = f(x_i, h_{i-1}),            c = h_S          (the last state: the encoder vector)
    decoder:  s_0 = c,  s_t = f(y_{t-1}, s_{t-1}),  p(y_t | y_<t, x) = softmax(W_o s_t + b_o)
    training: maximise  sum_t log p(y_t | y_<t, x)  with the true y_<t fed in (teacher forcing)

The cell ``f`` is a vanilla RNN (tanh), a GRU or an LSTM, chosen by one argument (``Seq2SeqConfig.cell``).
The chapter's experiments (reversed source, source fed twice, the three cells, the bottleneck by source length)
are ``run_setting`` calls; ``checkpoint_job`` runs them all for ``make checkpoints``.

Introduced in: chapter 2.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import e2t
from e2t.data.text import Batch, Example, NumberTask, batches, collate, number_task
from e2t.decoding import decode

__all__ = ["CELLS", "Seq2SeqConfig", "Encoder", "Decoder", "Seq2Seq", "make_seq2seq", "seq2seq_loss",
           "translator", "TrainSettings", "train_seq2seq", "run_setting", "SETTINGS", "LR_GRID", "SWEPT",
           "load_seq2seq", "checkpoint_job"]

#: The recurrent cells behind ``Seq2SeqConfig.cell``.
CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def _check_cell(cell: str) -> None:
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")


# The RNN modules keep their state as (L, B, H); the book (and e2t.decoding) keeps the batch first: (B, L, H).
def _to_batch_first(state):
    if isinstance(state, tuple):  # LSTM: (h, c)
        return tuple(s.transpose(0, 1).contiguous() for s in state)  # each (B, L, H)
    return state.transpose(0, 1).contiguous()  # (B, L, H)


def _to_layer_first(state):
    if isinstance(state, tuple):
        return tuple(s.transpose(0, 1).contiguous() for s in state)  # each (L, B, H)
    return state.transpose(0, 1).contiguous()  # (L, B, H)


class Encoder(nn.Module):
    """Embed the source and run a (stacked) RNN over it; its last state is the encoder vector $c = h_S$.

    Padding is skipped (packed sequences), so each row's state is taken at its own last real token.

    Shapes:
        src (B, S) long, src_lengths (B,) -> outputs (B, S, H) (zeros at padding),
        state (B, L, H) for rnn/gru, a pair (h, c) of (B, L, H) for lstm  (L = num_layers)

    Introduced in: chapter 2.
    """

    def __init__(self, *, vocab_size: int, d_embed: int, d_hidden: int, num_layers: int = 1, cell: str = "gru",
                 dropout: float = 0.0, pad: int = 0):
        super().__init__()
        _check_cell(cell)
        self.embed = nn.Embedding(vocab_size, d_embed, padding_idx=pad)
        self.rnn = CELLS[cell](d_embed, d_hidden, num_layers=num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor):
        if src.dim() != 2:
            raise ValueError(f"src must be (B, S), got shape {tuple(src.shape)}")
        if src_lengths.shape != (src.shape[0],):
            raise ValueError(f"src_lengths must be (B,) = ({src.shape[0]},), got {tuple(src_lengths.shape)}")
        if int(src_lengths.min()) < 1 or int(src_lengths.max()) > src.shape[1]:
            raise ValueError(f"src_lengths must lie in 1..S={src.shape[1]}, got {src_lengths.tolist()}")
        x = self.embed(src)  # (B, S, E)
        packed = pack_padded_sequence(x, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed)  # state (L, B, H)
        outputs, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])  # (B, S, H)
        return outputs, _to_batch_first(state)


class Decoder(nn.Module):
    """An RNN language model over the target, started from the encoder vector: $s_0 = c$,
    $s_t = f(y_{t-1}, s_{t-1})$, $p(y_t \\mid y_{<t}, x) = \\mathrm{softmax}(W_o s_t + b_o)$.

    ``forward`` runs a whole target prefix at once (teacher forcing); ``step`` advances one token and has the
    signature ``e2t.decoding`` expects.

    Shapes:
        tgt_in (B, T) long, state (B, L, H) [or (h, c)] -> logits (B, T, V), state
        step: prev (B,) long, state -> log_probs (B, V), state

    Introduced in: chapter 2.
    """

    def __init__(self, *, vocab_size: int, d_embed: int, d_hidden: int, num_layers: int = 1, cell: str = "gru",
                 dropout: float = 0.0, pad: int = 0):
        super().__init__()
        _check_cell(cell)
        self.embed = nn.Embedding(vocab_size, d_embed, padding_idx=pad)
        self.rnn = CELLS[cell](d_embed, d_hidden, num_layers=num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0)
        self.W_o = nn.Linear(d_hidden, vocab_size)

    def forward(self, tgt_in: torch.Tensor, state):
        if tgt_in.dim() != 2:
            raise ValueError(f"tgt_in must be (B, T), got shape {tuple(tgt_in.shape)}")
        y = self.embed(tgt_in)  # (B, T, E)
        s, state = self.rnn(y, _to_layer_first(state))  # s (B, T, H)
        return self.W_o(s), _to_batch_first(state)  # (B, T, V)

    def step(self, prev: torch.Tensor, state):
        logits, state = self.forward(prev.unsqueeze(1), state)  # (B, 1, V)
        return torch.log_softmax(logits.squeeze(1), dim=-1), state  # (B, V)


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Everything that defines a seq2seq model, including how it reads its source.

    ``reverse_source`` feeds the source backwards (Sutskever 2014); ``repeat_source`` feeds it twice (Zaremba &
    Sutskever 2014). Both are applied by ``e2t.data.text.batches`` / ``collate``; the model stores them so a
    checkpoint knows how it must be fed.

    Introduced in: chapter 2.
    """

    src_vocab_size: int
    tgt_vocab_size: int
    cell: str = "gru"
    d_embed: int = 64
    d_hidden: int = 128
    num_layers: int = 1
    dropout: float = 0.0
    reverse_source: bool = False
    repeat_source: bool = False
    pad: int = 0

    def __post_init__(self):
        _check_cell(self.cell)
        for name in ("src_vocab_size", "tgt_vocab_size", "d_embed", "d_hidden", "num_layers"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")

    @classmethod
    def for_task(cls, task: NumberTask, **kwargs) -> Seq2SeqConfig:
        """A config sized for ``task``'s vocabularies."""
        return cls(src_vocab_size=len(task.src_vocab), tgt_vocab_size=len(task.tgt_vocab),
                   pad=task.src_vocab.pad, **kwargs)


class Seq2Seq(nn.Module):
    """Encoder + decoder; the decoder starts from the encoder's last state $c$ (same cell, width and depth).

    Shapes:
        forward: src (B, S), src_lengths (B,), tgt_in (B, T) -> logits (B, T, V)
        translate: -> B lists of target ids (no bos / eos)

    Introduced in: chapter 2.
    """

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.config = config
        kw = dict(d_embed=config.d_embed, d_hidden=config.d_hidden, num_layers=config.num_layers,
                  cell=config.cell, dropout=config.dropout, pad=config.pad)
        self.encoder = Encoder(vocab_size=config.src_vocab_size, **kw)
        self.decoder = Decoder(vocab_size=config.tgt_vocab_size, **kw)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor):
        """The encoder vector: the encoder's last state, (B, L, H) (or an (h, c) pair for an LSTM)."""
        return self.encoder(src, src_lengths)[1]

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        if tgt_in.shape[0] != src.shape[0]:
            raise ValueError(f"src has batch {src.shape[0]} but tgt_in has batch {tgt_in.shape[0]}")
        logits, _ = self.decoder(tgt_in, self.encode(src, src_lengths))  # (B, T, V)
        return logits

    @torch.no_grad()
    def translate(self, src: torch.Tensor, src_lengths: torch.Tensor, *, bos: int, eos: int, max_len: int = 40,
                  beam_size: int = 1, length_penalty: float = 1.0) -> list[list[int]]:
        """Decode greedily (``beam_size=1``) or with beam search, from the encoder vector."""
        state = self.encode(src, src_lengths)
        return decode(self.decoder.step, state, batch_size=src.shape[0], bos=bos, eos=eos, max_len=max_len,
                      beam_size=beam_size, length_penalty=length_penalty)


def make_seq2seq(config: Seq2SeqConfig) -> Seq2Seq:
    """Build a ``Seq2Seq`` from its config.

    Introduced in: chapter 2.
    """
    return Seq2Seq(config)


def seq2seq_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Teacher forcing: the mean over real target tokens of $-\\log p(y_t \\mid y_{<t}, x)$, with the true
    $y_{<t}$ (``batch.tgt_in``) as the decoder's input; padding is ignored.

    Introduced in: chapter 2.
    """
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
    B, T, V = logits.shape
    return nn.functional.cross_entropy(logits.reshape(B * T, V), batch.tgt_out.reshape(B * T),  # (B*T, V)
                                       ignore_index=model.config.pad)


def translator(model: Seq2Seq, task: NumberTask, *, beam_size: int = 1, length_penalty: float = 1.0,
               batch_size: int = 500, max_len: int = 40):
    """A ``translate_fn(examples) -> token lists`` for ``e2t.evaluation.evaluate``, feeding the source the way
    ``model.config`` says (reversed and/or twice).

    Introduced in: chapter 2.
    """
    cfg = model.config

    def translate(examples: list[Example]) -> list[list[str]]:
        model.eval()
        out = []
        for start in range(0, len(examples), batch_size):
            b = collate(examples[start:start + batch_size], task, reverse_source=cfg.reverse_source,
                        repeat_source=cfg.repeat_source)
            ids = model.translate(b.src, b.src_lengths, bos=task.tgt_vocab.bos, eos=task.tgt_vocab.eos,
                                  max_len=max_len, beam_size=beam_size, length_penalty=length_penalty)
            out.extend(task.tgt_vocab.decode(s) for s in ids)
        return out

    return translate


# ---------------------------------------------------------------------------------------------- experiments

@dataclass(frozen=True)
class TrainSettings:
    """How a seq2seq model is trained: Adam, ``steps`` batches of ``batch_size``, a cosine-decayed learning rate.

    Introduced in: chapter 2.
    """

    steps: int = 1200
    batch_size: int = 64
    lr: float = 3e-3
    clip: float = 1.0


def train_seq2seq(config: Seq2SeqConfig, task: NumberTask, *, seed: int = 0,
                  settings: TrainSettings = TrainSettings(), progress: bool = True, max_seconds: float | None = None):
    """Train a fresh model with ``e2t.train.fit`` (seeded: the same seed gives the same model on one machine).

    Returns ``(model, history)``.

    Introduced in: chapter 2.
    """
    e2t.set_seed(seed)
    model = make_seq2seq(config)
    stream = batches(task.train, task, batch_size=settings.batch_size, seed=seed, epochs=None, sort_pool=32,
                     reverse_source=config.reverse_source, repeat_source=config.repeat_source)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(  # cosine decay from lr to lr / 20
        opt, lambda step: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(step, settings.steps) / settings.steps)))
    history = e2t.train.fit(model, seq2seq_loss, stream, steps=settings.steps, optimizer=opt, scheduler=sched,
                            clip=settings.clip, progress=progress, max_seconds=max_seconds,
                            desc=f"seq2seq {config.cell}")
    return model, history


#: The chapter's experiment settings (all GRU except the cell comparison), as overrides of ``Seq2SeqConfig``.
SETTINGS: dict[str, dict[str, Any]] = {
    "gru": {},
    "gru_reversed": {"reverse_source": True},
    "gru_twice": {"repeat_source": True},
    "lstm": {"cell": "lstm"},
    "rnn": {"cell": "rnn"},
}


def run_setting(name: str, *, seed: int, task: NumberTask | None = None, settings: TrainSettings = TrainSettings(),
                model_kwargs: dict[str, Any] | None = None, progress: bool = False,
                eval_examples: list[Example] | None = None, valid_examples: list[Example] | None = None):
    """Train setting ``name`` of ``SETTINGS`` with ``seed`` and evaluate it (greedy) on the validation split and on
    the test split (or on ``valid_examples`` / ``eval_examples``).

    Returns ``(model, record)`` where ``record`` holds the seed, learning rate, steps, wall time, final loss and the
    ``e2t.evaluation.evaluate`` results ``valid`` and ``test``.

    Introduced in: chapter 2.
    """
    from e2t.evaluation import evaluate

    if name not in SETTINGS:
        raise ValueError(f"name must be one of {sorted(SETTINGS)}, got {name!r}")
    task = task or number_task()
    config = Seq2SeqConfig.for_task(task, **{**(model_kwargs or {}), **SETTINGS[name]})
    model, history = train_seq2seq(config, task, seed=seed, settings=settings, progress=progress)
    start = time.perf_counter()
    valid = evaluate(translator(model, task), valid_examples or task.valid)
    result = evaluate(translator(model, task), eval_examples or task.test)
    record = {"setting": name, "seed": seed, "lr": settings.lr, "steps": len(history.steps),
              "wall_time_s": round(history.wall_time_s, 1), "eval_time_s": round(time.perf_counter() - start, 1),
              "final_loss": round(sum(history.losses[-50:]) / len(history.losses[-50:]), 4),
              "curve": _curve(history.losses), "valid": valid, "test": result}
    return model, record


def _curve(losses: list[float], points: int = 40) -> list[list[float]]:
    """``[step, mean loss of the steps since the previous point]`` at about ``points`` evenly spaced steps."""
    every = max(1, len(losses) // points)
    return [[i + every, round(sum(losses[i:i + every]) / len(losses[i:i + every]), 4)]
            for i in range(0, len(losses) - every + 1, every)]


def load_seq2seq(name: str, *, directory=None) -> tuple[Seq2Seq, dict[str, Any]]:
    """Rebuild a shipped checkpoint ``name`` from its card's config and load its weights: ``(model, card)``.

    Introduced in: chapter 2.
    """
    from e2t.checkpoints import load_checkpoint, read_card

    card = read_card(name, directory=directory)
    model = make_seq2seq(Seq2SeqConfig(**card["config"]))
    load_checkpoint(model, name, directory=directory)
    model.eval()
    return model, card


#: The learning rates tried for each cell (seed 0, ``TrainSettings().steps`` steps); the one with the best
#: validation exact match (ties: token accuracy) trains that cell's settings. The vanilla RNN gets the same chance
#: as the gated cells.
LR_GRID: tuple[float, ...] = (3e-4, 1e-3, 3e-3, 1e-2)

#: The settings whose learning rate each cell's sweep decides (named after the setting the sweep trains).
SWEPT: dict[str, str] = {"rnn": "rnn", "gru": "gru", "gru_reversed": "gru", "gru_twice": "gru", "lstm": "lstm"}

COMMAND = "python -m e2t.jobs seq2seq"


def _valid_key(record: dict[str, Any]) -> tuple[float, float]:
    overall = record["valid"]["overall"]
    return overall["exact_match"], overall["token_accuracy"]


def _strip(result: dict[str, Any]) -> dict[str, Any]:
    """An ``evaluate`` result for a card: no hypotheses, numbers rounded to 4 places."""
    def r(d):
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}
    return {"overall": r(result["overall"]), "by_bucket": {k: r(v) for k, v in result["by_bucket"].items()}}


def checkpoint_job(*, quick: bool = False, directory=None, seeds: tuple[int, ...] = (0, 1, 2),
                   names: tuple[str, ...] | None = None, baseline: bool = True,
                   lr_grid: tuple[float, ...] = LR_GRID) -> dict[str, Any]:
    """Train the chapter's experiments and save them (``python -m e2t.jobs seq2seq``).

    1. A learning-rate sweep per cell (``LR_GRID``, seed 0): each cell's learning rate is the one with the best
       **validation** exact match; the sweep is the card ``seq2seq_lr_sweep`` (no weights).
    2. For each setting of ``SETTINGS``: seeds 0, 1, 2 at its cell's learning rate (``SWEPT``); the seed-0 model is
       saved as ``seq2seq_<setting>`` and its card lists every seed's validation and test results (``runs``) and
       the test mean (``metrics``).
    3. The bottleneck baseline ``seq2seq_gru_baseline``: the GRU at its learning rate, trained four times as long,
       evaluated on test by source-length bucket and at every source length, greedy and with beam search.

    Nothing is chosen on test: the only choice, the learning rate, is made on validation. Returns the baseline's
    card (``names`` and ``baseline=False`` run a part of the job).

    Introduced in: chapter 2.
    """
    from e2t.checkpoints import save_card, save_checkpoint
    from e2t.evaluation import evaluate, mean_std

    if quick and directory is None:
        raise ValueError("quick=True must write to a directory (not over the shipped checkpoints)")
    task = number_task()
    base = TrainSettings(steps=5, batch_size=8) if quick else TrainSettings()
    model_kwargs = {"d_hidden": 16, "d_embed": 8} if quick else {}
    seeds = tuple(seeds)[:1] if quick else tuple(seeds)
    lr_grid = tuple(lr_grid)[:2] if quick else tuple(lr_grid)
    test = list(task.test[:100] if quick else task.test)
    valid = list(task.valid[:100] if quick else task.valid)
    command = COMMAND + (" (quick)" if quick else "")
    names = tuple(SETTINGS) if names is None else tuple(names)
    cells = sorted({SWEPT[n] for n in names} | ({"gru"} if baseline else set()))

    # 1. the learning-rate sweep, on validation
    chosen, sweep, kept = {}, {}, {}
    for cell in cells:
        trials = []
        for lr in lr_grid:
            settings = dataclasses.replace(base, lr=lr)
            model, record = run_setting(cell, seed=seeds[0], task=task, settings=settings, model_kwargs=model_kwargs,
                                        eval_examples=test, valid_examples=valid)
            trials.append((record, model))
            print(f"  sweep {cell} lr {lr:g}: valid EM {record['valid']['overall']['exact_match']:.3f}",
                  file=sys.stderr)
        best_record, best_model = max(trials, key=lambda t: _valid_key(t[0]))
        chosen[cell] = best_record["lr"]
        kept[cell] = (best_model, best_record)  # the seed-0 run of the chosen rate is reused below
        sweep[cell] = [{"lr": r["lr"], "valid": _strip(r["valid"])["overall"], "final_loss": r["final_loss"],
                        "wall_time_s": r["wall_time_s"]} for r, _ in trials]
    save_card("seq2seq_lr_sweep", {
        "name": "seq2seq_lr_sweep", "command": command, "seed": seeds[0], "steps": base.steps,
        "wall_time_s": round(sum(t["wall_time_s"] for c in sweep.values() for t in c), 1),
        "metrics": {"chosen_lr": chosen}, "trials": sweep, "lr_grid": list(lr_grid),
        "selection_rule": "per cell, the learning rate with the highest validation exact match "
                          "(ties: validation token accuracy); seed 0; test never consulted"},
        directory=directory)

    # 2. the settings, three seeds each, at their cell's chosen rate
    card: dict[str, Any] = {}
    for name in names:
        settings = dataclasses.replace(base, lr=chosen[SWEPT[name]])
        records, first = [], None
        for seed in seeds:
            if name == SWEPT[name] and seed == seeds[0]:
                model, record = kept[name]
            else:
                model, record = run_setting(name, seed=seed, task=task, settings=settings,
                                            model_kwargs=model_kwargs, eval_examples=test, valid_examples=valid)
            records.append({**record, "valid": _strip(record["valid"]), "test": _strip(record["test"])})
            first = first or model
            print(f"  {name} seed {seed}: test EM {record['test']['overall']['exact_match']:.3f} "
                  f"in {record['wall_time_s']:.0f} s", file=sys.stderr)
        metrics = {}
        for key in ("exact_match", "token_accuracy", "bleu"):
            m, sd = mean_std([r["test"]["overall"][key] for r in records])
            metrics[key] = round(m, 4)
            metrics[key + "_std"] = round(sd, 4)
        card = {"name": f"seq2seq_{name}", "command": command, "seed": seeds[0], "steps": settings.steps,
                "wall_time_s": records[0]["wall_time_s"], "metrics": metrics,
                "config": dataclasses.asdict(first.config), "train": dataclasses.asdict(settings),
                "runs": records,
                "selection_rule": f"learning rate {settings.lr:g} from the {SWEPT[name]} sweep (seq2seq_lr_sweep, "
                                  "validation); the weights are seed 0's, the metrics the mean over the seeds"}
        save_checkpoint(first, f"seq2seq_{name}", card, directory=directory)

    if not baseline:
        return card
    # the bottleneck baseline: one GRU trained longer on all lengths
    long = dataclasses.replace(base, steps=3 * base.steps if quick else 4 * base.steps, lr=chosen["gru"])
    config = Seq2SeqConfig.for_task(task, **model_kwargs)
    model, history = train_seq2seq(config, task, seed=0, settings=long, progress=False)
    greedy = evaluate(translator(model, task), test, return_hypotheses=True)
    beam = evaluate(translator(model, task, beam_size=4), test)
    by_length = {}
    for n in sorted({len(e.src) for e in test}):
        idx = [i for i, e in enumerate(test) if len(e.src) == n]
        hits = sum(greedy["hypotheses"][i] == list(test[i].tgt) for i in idx)
        by_length[str(n)] = {"n": len(idx), "exact_match": round(hits / len(idx), 4)}
    del greedy["hypotheses"]
    short = evaluate(translator(model, task), test, max_source_len=10)
    valid_result = evaluate(translator(model, task), valid)
    card = {"name": "seq2seq_gru_baseline", "command": command, "seed": 0,
            "steps": len(history.steps), "wall_time_s": round(history.wall_time_s, 1),
            "metrics": {"exact_match": round(greedy["overall"]["exact_match"], 4),
                        "token_accuracy": round(greedy["overall"]["token_accuracy"], 4),
                        "bleu": round(greedy["overall"]["bleu"], 4),
                        "exact_match_upto10": round(short["overall"]["exact_match"], 4),
                        "exact_match_by_bucket": {k: round(v["exact_match"], 4)
                                                  for k, v in greedy["by_bucket"].items()},
                        "beam4_exact_match": round(beam["overall"]["exact_match"], 4),
                        "beam4_exact_match_by_bucket": {k: round(v["exact_match"], 4)
                                                        for k, v in beam["by_bucket"].items()}},
            "test_greedy": greedy, "test_beam4": beam, "exact_match_by_length": by_length,
            "config": dataclasses.asdict(config), "train": dataclasses.asdict(long),
            "final_loss": round(sum(history.losses[-50:]) / len(history.losses[-50:]), 4),
            "curve": _curve(history.losses), "valid": _strip(valid_result),
            "selection_rule": f"learning rate {long.lr:g} from the gru sweep (seq2seq_lr_sweep, validation); "
                              "steps fixed in advance at four times the settings' steps; seed 0"}
    save_checkpoint(model, "seq2seq_gru_baseline", card, directory=directory)
    return card
