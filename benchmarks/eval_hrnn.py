"""Evaluate CM-HRNN, its two baselines, GETDiff's melody from chords and the real melodies on
held-out POP909 lead sheets (the test split, songs 874-909), in one run.

Per test song, one 16-bar window of 4/4 bars starting at the first bar where the melody
enters (songs whose window holds a bar of another length are left out: 29 of 36 remain); its
chords, read at every beat (4 per bar, full POP909 labels), form a progression text
(``"C:maj C:maj G:maj G:maj | ..."``) that every generator gets:

- **CM-HRNN, LSTM, attention RNN** (``symbolic/pretrained/hrnn-*``): 16 bars sampled with
  ``melodize``'s defaults (the published temperatures: note 0.7, duration 0.4; a silence may
  not grow past one bar), seed = song index; CM-HRNN also at temperature 1.0 with a 0.95
  nucleus, and without the rule that stops a silence after one bar (``max_rest_bars=None``);
- **GETDiff**: ``symbolic.compose(progression, bars=16, tracks=["melody"])`` (shipped weights,
  16 steps);
- **real**: the song's own melody in that window.

Measures (``symbolic.models.hrnn.metrics``; every melody read as a monophonic lead sheet on 16th
steps): per-head NLL (nats per event) and argmax accuracy of the RNNs on fixed 128-event test
windows; success-bar ratio (RNNs only: bars delimited by the sampled bar flags whose durations
sum to 16 steps; a score-level melody is split at bar lines by the codec, so it would be 1 by
construction); chord-tone ratio; share of 2-bar spans whose exact note pattern repeats
elsewhere in the 16 bars; pitch-class entropy (bits); pitch range (semitones); one-pitch share
(bars whose notes all have one pitch); silent-bar share; notes per 16 bars; CPU seconds per
16 bars (``time.process_time``, one torch thread).

    python -P benchmarks/eval_hrnn.py              # every test song (about 2 minutes)
    python -P benchmarks/eval_hrnn.py --songs 6    # quicker
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symbolic  # noqa: E402
from symbolic.data.leadsheets import held_out_windows, pop909_leadsheets  # noqa: E402
from symbolic.data.pop909 import Pop909  # noqa: E402
from symbolic.harmony import ChordSequence  # noqa: E402
from symbolic.models import hrnn  # noqa: E402
from symbolic.models.hrnn import metrics  # noqa: E402
from symbolic.representations import leadsheet as ls  # noqa: E402

BARS, BAR = 16, 16
RNNS = (("CM-HRNN", "hrnn-pop909"), ("LSTM", "hrnn-lstm-pop909"),
        ("attention RNN", "hrnn-attention-pop909"))


def test_windows(n_songs: int | None):
    """``[(song id, progression text, real notes (onset, duration, pitch))]``: one 16-bar
    window of 16-step bars per test song, from the first bar where the melody enters."""
    pop = Pop909()
    out = []
    for i in pop.available("test")[:n_songs]:
        lead = ls.from_pop909(pop.song(i))
        bfs, spb = lead.grid.bar_first_step, lead.grid.steps_per_bar
        if len(lead.onset) == 0:
            continue
        b0 = int(np.searchsorted(bfs, lead.onset[0], side="right") - 1)
        if b0 + BARS > len(spb) or (spb[b0:b0 + BARS] != BAR).any():
            continue
        start = int(bfs[b0])
        seq = lead.chord_sequence()
        beats = lead.grid.steps_to_ticks(start + np.arange(BARS * 4) * 4)
        chords = [str(c) for c in seq.at(beats)]
        text = " | ".join(" ".join(chords[4 * b:4 * b + 4]) for b in range(BARS))
        sel = (lead.onset >= start) & (lead.onset < start + BARS * BAR)
        on = lead.onset[sel] - start
        out.append((i, text, (on, np.minimum(lead.duration[sel], BARS * BAR - on),
                              lead.pitch[sel])))
    return out


def notes_of(score, track: str):
    """Monophonic lead-sheet notes (steps) of one track of a generated score."""
    empty = ChordSequence(np.zeros(0, np.int64), np.zeros(0, np.int64), [])
    lead = ls.from_score(score, melody=track, chords=empty)
    return lead.onset, lead.duration, lead.pitch


def evaluate_rnn(name, windows, test_batches, **sampling):
    model = hrnn.load(name, device="cpu")
    heads = hrnn.head_metrics(model, test_batches)
    rows, ok, bars, cpu = [], 0, 0, 0.0
    for i, text, _ in windows:
        chords, _ = hrnn.progression_steps(text, BARS, BAR)
        t = time.process_time()
        ev = hrnn.sample_events(model, chords, BAR, seed=i, **sampling)
        cpu += time.process_time() - t
        s, n = hrnn.success_bars(ev, BAR)
        ok, bars = ok + s, bars + n
        on, dur, pitch = hrnn.events_to_notes(ev)
        rows.append(metrics.melody_summary(on, dur, pitch, chords, BAR, BARS))
    return heads, ok / max(bars, 1), rows, cpu / len(windows)


def evaluate_getdiff(windows):
    rows, cpu = [], 0.0
    for i, text, _ in windows:
        t = time.process_time()
        score = symbolic.compose(text, bars=BARS, tracks=["melody"], seed=i, device="cpu")
        cpu += time.process_time() - t
        chords, _ = hrnn.progression_steps(text, BARS, BAR)
        on, dur, pitch = notes_of(score, "melody")
        rows.append(metrics.melody_summary(on, dur, pitch, chords, BAR, BARS))
    return rows, cpu / len(windows)


def mean(rows, key):
    v = np.array([r[key] for r in rows], dtype=float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--songs", type=int, default=None, help="first N test songs (default all)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    windows = test_windows(args.songs)
    print(f"{len(windows)} test songs, {BARS} bars each")
    test_batches = held_out_windows(pop909_leadsheets("test", progress=False), length=128,
                                    batch=32, n_batches=8)
    results = []
    for label, name in RNNS:
        heads, success, rows, cpu = evaluate_rnn(name, windows, test_batches)
        results.append((label, heads, success, rows, cpu))
    warmer = dict(temperature=1.0, duration_temperature=1.0, top_p=0.95)
    _, success, rows, cpu = evaluate_rnn(RNNS[0][1], windows, test_batches, **warmer)
    results.append(("CM-HRNN T1 p.95", None, success, rows, cpu))
    _, success, rows, cpu = evaluate_rnn(RNNS[0][1], windows, test_batches, max_rest_bars=None)
    results.append(("CM-HRNN no rule", None, success, rows, cpu))
    rows, cpu = evaluate_getdiff(windows)
    results.append(("GETDiff (compose)", None, None, rows, cpu))
    real = [metrics.melody_summary(*w[2], hrnn.progression_steps(w[1], BARS, BAR)[0], BAR, BARS)
            for w in windows]
    results.append(("real melodies", None, None, real, None))
    print_tables(results)
    return 0


def print_tables(results) -> None:
    print("\nper-head NLL (nats/event) and accuracy on 8 x 32 test windows of 128 events")
    print(f"{'model':<18}{'note NLL':>9}{'acc':>7}{'dur NLL':>9}{'acc':>7}{'bar NLL':>9}"
          f"{'acc':>7}")
    for label, heads, *_ in results:
        if heads:
            print(f"{label:<18}{heads['note_nll']:>9.3f}{heads['note_acc']:>7.3f}"
                  f"{heads['duration_nll']:>9.3f}{heads['duration_acc']:>7.3f}"
                  f"{heads['bar_nll']:>9.4f}{heads['bar_acc']:>7.4f}")
    keys = ("chord_tone_ratio", "repeated_pattern_share", "pitch_class_entropy", "pitch_range",
            "one_pitch_share", "silent_bar_share", "notes")
    print("\nmelodies over the test songs' progressions (means over songs)")
    print(f"{'model':<18}{'success':>8}{'chord-t':>8}{'rep2bar':>8}{'PC ent':>7}{'range':>6}"
          f"{'1-pitch':>8}{'silent':>7}{'notes':>6}{'CPU s/16':>9}")
    for label, _, success, rows, cpu in results:
        v = [mean(rows, k) for k in keys]
        s = "-" if success is None else f"{success:.3f}"
        c = "-" if cpu is None else f"{cpu:.2f}"
        print(f"{label:<18}{s:>8}{v[0]:>8.3f}{v[1]:>8.3f}{v[2]:>7.2f}{v[3]:>6.1f}{v[4]:>8.3f}"
              f"{v[5]:>7.3f}{v[6]:>6.1f}{c:>9}")


if __name__ == "__main__":
    sys.exit(main())
