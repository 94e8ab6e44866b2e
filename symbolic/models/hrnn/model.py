"""CM-HRNN (Guo, Makris & Herremans, 2020) and its two baselines as one torch module.

Every kind reads the same inputs and has the same three heads. At event ``t`` the model reads
six class indices (:func:`symbolic.data.leadsheets.event_inputs`: bar flag, chord, duration
class and note of event t, chord of event t + 1, steps into the bar where event t + 1 starts)
and predicts event t + 1: note (130 classes: rest, sustain, 128 pitches), duration class (16:
1..16 sixteenths) and bar flag (2). The six indices are embedded and summed, which is a linear
layer on CM-HRNN's 262-dimensional multi-hot input.

- ``"hrnn"``: a SampleRNN-style hierarchy. The top tier (an LSTM of ``layers`` layers) runs
  once per frame of ``top_frame`` events and reads the previous frame's events (concatenated
  embeddings); its output is upsampled to ``top_frame // mid_frame`` vectors, one per middle
  frame. The middle tier (one LSTM layer) runs once per frame of ``mid_frame`` events, reads
  the previous middle frame plus the top vector, and is upsampled to one vector per event.
  The bottom tier (one LSTM layer) runs per event on the event's embedding plus the middle
  vector. Every tier sees only events before the current one (tested).
- ``"lstm"``: a flat LSTM of ``layers`` layers over the event embeddings.
- ``"attention"``: the flat LSTM plus causal multi-head attention over its own past outputs
  (:func:`symbolic.models.layers.attention`), joined to the LSTM output before the heads.

:meth:`CMHRNN.forward` runs a whole sequence (training, held-out loss); :meth:`CMHRNN.step`
runs one event at a time with a carried state (generation); both give the same logits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...data.leadsheets import INPUT_SIZES
from ...errors import ArgumentError
from .. import HubModel, load_pretrained
from ..layers import attention
from .settings import KINDS

__all__ = ["CMHRNN", "HEAD_SIZES", "load", "DEFAULT"]

#: Classes of the three heads: note, duration class, bar flag.
HEAD_SIZES = (130, 16, 2)
#: Name of the shipped CM-HRNN weights under ``symbolic/pretrained/``.
DEFAULT = "hrnn-pop909"
_OFFSETS = torch.tensor([sum(INPUT_SIZES[:i]) for i in range(len(INPUT_SIZES))])


class CMHRNN(nn.Module, HubModel, library_name="symbolic",
             tags=["symbolic-music", "melody-generation", "lead-sheet", "cm-hrnn"]):
    """A melody model over lead-sheet events (see the module docstring). ``forward(inputs,
    targets=None)``: ``inputs`` int64 ``[B, T, 6]``; without ``targets`` returns the logits
    ``(note [B, T, 130], duration [B, T, 16], bar [B, T, 2])``; with ``targets`` (int64
    ``[B, T, 3]``, -1 where unknown) the weighted cross-entropy ``weights[0] * note +
    weights[1] * duration + weights[2] * bar`` (nats per event)."""

    def __init__(self, kind: str = "hrnn", embed: int = 64, hidden: int = 128, layers: int = 2,
                 top_frame: int = 16, mid_frame: int = 8, dropout: float = 0.2,
                 weights=(0.4, 0.3, 0.3), settings: dict | None = None):
        super().__init__()
        if kind not in KINDS:
            raise ArgumentError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}",
                             "kind")
        if top_frame % mid_frame:
            raise ArgumentError(f"top_frame ({top_frame}) must be a multiple of mid_frame "
                             f"({mid_frame})", "top_frame")
        self.kind, self.hidden = kind, int(hidden)
        self.top_frame, self.mid_frame = int(top_frame), int(mid_frame)
        self.weights = tuple(float(w) for w in weights)
        self.settings = dict(settings or {})
        self.embed = nn.Embedding(sum(INPUT_SIZES), embed)
        self.register_buffer("offsets", _OFFSETS.clone(), persistent=False)
        self.drop = nn.Dropout(dropout)
        h = self.hidden
        if kind == "hrnn":
            self.top_in = nn.Linear(top_frame * embed, h)
            self.top = nn.LSTM(h, h, layers, batch_first=True,
                               dropout=dropout if layers > 1 else 0.0)
            self.top_up = nn.Linear(h, top_frame // mid_frame * h)
            self.mid_in = nn.Linear(mid_frame * embed, h)
            self.mid = nn.LSTM(h, h, 1, batch_first=True)
            self.mid_up = nn.Linear(h, mid_frame * h)
            self.rnn = nn.LSTM(embed + h, h, 1, batch_first=True)
        else:
            self.rnn = nn.LSTM(embed, h, layers, batch_first=True,
                               dropout=dropout if layers > 1 else 0.0)
        if kind == "attention":
            self.n_heads = 4
            self.qkv = nn.Linear(h, 3 * h)
            self.join = nn.Linear(2 * h, h)
        self.heads = nn.ModuleList(nn.Linear(h, n) for n in HEAD_SIZES)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------------ whole sequences

    def embed_events(self, inputs: torch.Tensor) -> torch.Tensor:
        """``[B, T, 6]`` class indices -> ``[B, T, embed]`` (sum of the six embeddings)."""
        return self.embed(inputs + self.offsets).sum(-2)

    def _frames(self, e: torch.Tensor, size: int) -> torch.Tensor:
        """Each frame of ``size`` events gets the previous frame's embeddings, concatenated:
        ``[B, T, E]`` -> ``[B, T / size, size * E]`` (zeros before the first frame)."""
        b, t, d = e.shape
        prev = torch.cat([e.new_zeros(b, size, d), e[:, :t - size]], dim=1)
        return prev.reshape(b, t // size, size * d)

    def _hierarchy(self, e: torch.Tensor) -> torch.Tensor:
        """Top and middle tiers: one conditioning vector per event ``[B, T, H]`` (T a multiple
        of ``top_frame``)."""
        b, t, _ = e.shape
        h = self.hidden
        top, _ = self.top(self.top_in(self._frames(e, self.top_frame)))
        top = self.top_up(top).reshape(b, t // self.mid_frame, h)
        mid, _ = self.mid(self.mid_in(self._frames(e, self.mid_frame)) + top)
        return self.mid_up(mid).reshape(b, t, h)

    def _attend(self, out: torch.Tensor, keys: torch.Tensor, causal: bool) -> torch.Tensor:
        """LSTM outputs ``out`` [B, L, H] attend over ``keys`` [B, S, H] (their past)."""
        b, L, h = out.shape
        d = h // self.n_heads
        q = self.qkv(out)[..., :h].reshape(b, L, self.n_heads, d)
        k, v = self.qkv(keys)[..., h:].reshape(b, keys.shape[1], 2, self.n_heads, d).unbind(2)
        ctx = attention(q, k, v, causal=causal).reshape(b, L, h)
        return torch.tanh(self.join(torch.cat([out, ctx], dim=-1)))

    def logits(self, inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Logits of the three heads for every event of ``inputs`` ``[B, T, 6]``."""
        e = self.embed_events(inputs)
        t = e.shape[1]
        if self.kind == "hrnn":
            pad = -t % self.top_frame  # padding after the end changes nothing before it
            if pad:
                e = torch.cat([e, e.new_zeros(e.shape[0], pad, e.shape[2])], dim=1)
            e = torch.cat([e, self._hierarchy(e)], dim=-1)[:, :t]
        out, _ = self.rnn(e)
        if self.kind == "attention":
            out = self._attend(out, out, causal=True)
        out = self.drop(out)
        return tuple(head(out) for head in self.heads)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor | None = None):
        out = self.logits(inputs)
        if targets is None:
            return out
        return sum(w * F.cross_entropy(lg.flatten(0, 1), targets[..., i].flatten(),
                                       ignore_index=-1)
                   for i, (w, lg) in enumerate(zip(self.weights, out)))

    # ------------------------------------------------------------------ one event at a time

    def start(self, batch: int = 1) -> dict:
        """The empty state of :meth:`step` for ``batch`` sequences."""
        return {"t": 0, "events": [], "rnn": None, "top": None, "mid": None, "past": None,
                "top_cond": None, "mid_cond": None, "batch": batch}

    def step(self, inputs: torch.Tensor, state: dict) -> tuple[tuple[torch.Tensor, ...], dict]:
        """Logits for one event ``inputs`` ``[B, 6]`` given ``state`` (from :meth:`start` or
        the previous step); returns ``((note [B, 130], duration [B, 16], bar [B, 2]), state)``.
        Equal to :meth:`forward`'s logits at that position (eval mode)."""
        e = self.embed_events(inputs[:, None])  # [B, 1, E]
        t = state["t"]
        x = e
        if self.kind == "hrnn":
            state["events"].append(e)
            x = torch.cat([e, self._tier_step(state, t)], dim=-1)
        out, state["rnn"] = self.rnn(x, state["rnn"])
        if self.kind == "attention":
            past = out if state["past"] is None else torch.cat([state["past"], out], dim=1)
            state["past"] = past
            out = self._attend(out, past, causal=False)
        state["t"] = t + 1
        out = self.drop(out)[:, 0]
        return tuple(head(out) for head in self.heads), state

    def _prev_frame(self, state: dict, t: int, size: int) -> torch.Tensor:
        """Embeddings of events ``t - size .. t - 1`` concatenated ``[B, 1, size * E]``."""
        ev = state["events"]
        if t == 0:
            return ev[0].new_zeros(ev[0].shape[0], 1, size * ev[0].shape[2])
        return torch.cat(ev[t - size:t], dim=1).reshape(ev[0].shape[0], 1, -1)

    def _tier_step(self, state: dict, t: int) -> torch.Tensor:
        """The middle tier's vector for event ``t`` ``[B, 1, H]``, running the top and middle
        tiers when a frame starts."""
        b, h = state["events"][0].shape[0], self.hidden
        if t % self.top_frame == 0:
            top, state["top"] = self.top(self.top_in(self._prev_frame(state, t, self.top_frame)),
                                         state["top"])
            state["top_cond"] = self.top_up(top).reshape(b, -1, h)
        if t % self.mid_frame == 0:
            j = t % self.top_frame // self.mid_frame
            x = self.mid_in(self._prev_frame(state, t, self.mid_frame))
            mid, state["mid"] = self.mid(x + state["top_cond"][:, j:j + 1], state["mid"])
            state["mid_cond"] = self.mid_up(mid).reshape(b, self.mid_frame, h)
        k = t % self.mid_frame
        return state["mid_cond"][:, k:k + 1]


def load(name_or_path=None, device="auto") -> CMHRNN:
    """A saved model: ``name_or_path`` (a folder, a name under ``symbolic/pretrained/`` such as
    ``"hrnn-lstm-pop909"``, or a Hub id; default the shipped CM-HRNN, loaded once per device
    and shared) on ``device`` (``"auto"``: CUDA when present). See
    :func:`symbolic.models.load_pretrained`."""
    return load_pretrained(CMHRNN, DEFAULT, name_or_path, device)
