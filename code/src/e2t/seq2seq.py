"""Sequence to sequence (Sutskever et al. 2014; Cho et al. 2014): an RNN encoder squeezes the source into one
fixed-length vector, the encoder vector, and an RNN decoder generates the target from it.

    encoder:  h_i = f(x_i, h_{i-1}),            c = h_S          (the last state: the encoder vector)
    decoder:  s_0 = c,  s_t = f(y_{t-1}, s_{t-1}),  p(y_t | y_<t, x) = softmax(W_o s_t + b_o)
    training: maximise  sum_t log p(y_t | y_<t, x)  with the true y_<t fed in (teacher forcing)

The cell ``f`` is a vanilla RNN (tanh), a GRU or an LSTM, chosen by one argument (``Seq2SeqConfig.cell``). The
model has the interface of every sequence model of the book: ``start(src, src_lengths) -> state`` (the encoder
vector), ``step(prev_tokens, state) -> (logits, state)``, ``forward(src, src_lengths, tgt_in) -> logits``. Training
(``e2t.recipes.seq2seq``) uses ``e2t.train.losses.teacher_forced_loss``; decoding ``e2t.train.decoding``.

Introduced in: chapter 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from e2t.checks import check_tokens
from e2t.data.text import NumberTask

__all__ = ["CELLS", "Seq2SeqConfig", "Encoder", "Decoder", "Seq2Seq", "make_seq2seq"]

#: The recurrent cells behind ``Seq2SeqConfig.cell``.
CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def _check_cell(cell: str) -> None:
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")


# The RNN modules keep their state as (L, B, H); the book (and e2t.train.decoding) keeps the batch first: (B, L, H).
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
    """

    def __init__(self, *, vocab_size: int, d_embed: int, d_hidden: int, num_layers: int = 1, cell: str = "gru",
                 dropout: float = 0.0, pad_id: int = 0):
        super().__init__()
        _check_cell(cell)
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, d_embed, padding_idx=pad_id)
        self.rnn = CELLS[cell](d_embed, d_hidden, num_layers=num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor):
        check_tokens("src", src, self.vocab_size)
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
    signature ``e2t.train.decoding`` expects.

    Shapes:
        tgt_in (B, T) long, state (B, L, H) [or (h, c)] -> logits (B, T, V), state
        step: prev (B,) long, state -> logits (B, V), state
    """

    def __init__(self, *, vocab_size: int, d_embed: int, d_hidden: int, num_layers: int = 1, cell: str = "gru",
                 dropout: float = 0.0, pad_id: int = 0):
        super().__init__()
        _check_cell(cell)
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, d_embed, padding_idx=pad_id)
        self.rnn = CELLS[cell](d_embed, d_hidden, num_layers=num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0)
        self.W_o = nn.Linear(d_hidden, vocab_size)

    def forward(self, tgt_in: torch.Tensor, state):
        check_tokens("tgt_in", tgt_in, self.vocab_size)
        y = self.embed(tgt_in)  # (B, T, E)
        s, state = self.rnn(y, _to_layer_first(state))  # s (B, T, H)
        return self.W_o(s), _to_batch_first(state)  # (B, T, V)

    def step(self, prev: torch.Tensor, state):
        logits, state = self.forward(prev.unsqueeze(1), state)  # (B, 1, V)
        return logits.squeeze(1), state  # (B, V)


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Everything that defines a seq2seq model, including how it reads its source.

    ``reverse_source`` feeds the source backwards (Sutskever 2014); ``repeat_source`` feeds it twice (Zaremba &
    Sutskever 2014). Both are applied by ``e2t.data.text.batches`` / ``collate``; the model stores them so a
    checkpoint knows how it must be fed.
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
    pad_id: int = 0

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
                   pad_id=task.src_vocab.pad, **kwargs)


class Seq2Seq(nn.Module):
    """Encoder + decoder; the decoder starts from the encoder's last state $c$ (same cell, width and depth).

    Shapes:
        start: src (B, S), src_lengths (B,) -> the encoder vector, (B, L, H) (an (h, c) pair for an LSTM)
        step: prev_tokens (B,), state -> logits (B, V), state
        forward: src (B, S), src_lengths (B,), tgt_in (B, T) -> logits (B, T, V)
    """

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.config = config
        kw = dict(d_embed=config.d_embed, d_hidden=config.d_hidden, num_layers=config.num_layers,
                  cell=config.cell, dropout=config.dropout, pad_id=config.pad_id)
        self.encoder = Encoder(vocab_size=config.src_vocab_size, **kw)
        self.decoder = Decoder(vocab_size=config.tgt_vocab_size, **kw)

    def start(self, src: torch.Tensor, src_lengths: torch.Tensor):
        """The decoder's first state: the encoder vector, the encoder's last state."""
        return self.encoder(src, src_lengths)[1]

    def step(self, prev_tokens: torch.Tensor, state):
        """One decoder step: (prev_tokens (B,), state) -> (logits (B, V), state)."""
        return self.decoder.step(prev_tokens, state)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        if tgt_in.shape[0] != src.shape[0]:
            raise ValueError(f"src has batch {src.shape[0]} but tgt_in has batch {tgt_in.shape[0]}")
        logits, _ = self.decoder(tgt_in, self.start(src, src_lengths))  # (B, T, V)
        return logits


def make_seq2seq(config: Seq2SeqConfig | dict) -> Seq2Seq:
    """Build a ``Seq2Seq`` from its config (or the config's dict, as a card stores it)."""
    return Seq2Seq(Seq2SeqConfig(**config) if isinstance(config, dict) else config)
