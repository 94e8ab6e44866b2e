"""Theme Transformer on POP909's test songs: does a developed piece bring its theme back, and
does it sound like the real songs? The shipped seq2seq model (``theme-transformer``) against
the decoder-only baseline given the theme as a prompt (``theme-decoder``), the real songs,
and the real songs with their bars shuffled.

**Themes.** (a) the 29 published prompts (``$SYMBOLIC_DATA/theme-transformer/NNN_theme.mid``,
all their bars); (b) for the same songs, the theme :func:`symbolic.find_themes` retrieves
(the first two bars of its first region, annotated bars). Every generated piece opens with
its theme (the models read it, then continue) and has ``--bars`` bars; one sample per theme
and model (seed 0), temperature 1.2, top-p 0.9.

**Real songs.** For each test song, ``--bars`` bars from the retrieved theme's first bar,
through the same event codec (4/4, 16ths) as the generated pieces, so both open with the
theme; *shuffled*: the same excerpt with every bar after the opening two put in a random
order (a song's material without its order).

**Theme distance.** Each two-bar melody segment (:mod:`symbolic.models.themes.segments`:
bar ``i`` and ``i + 1`` of the MELODY track) is embedded by the shipped theme encoder; its
cosine distance to the opening segment (the theme) is the bar's distance. Bars 1-2 (the
opening) are left out. *Near* is a distance within the threshold fitted on POP909's valid
songs (838-873, never the test songs): the 90th percentile of the distance from each segment
of a song's theme cluster (:func:`symbolic.find_themes`) to that cluster's first segment:
"as close to the theme as nine in ten of its real recurrences". *Recurrences*: runs of near
bars; *where*: the mean first bar of those runs; *near_eps*: the share within
:data:`symbolic.models.themes.EPS` (find_themes' clustering radius) instead;
*marked*: regions the model itself opened with ``Theme_Start`` after the opening (for the
real songs: their own theme regions after the opening, as :func:`symbolic.find_themes` finds
them);
*in_marked* / *off_marked*: the mean distance of the segments that start in those marked bars
/ in the others (does the model's marker carry the theme's material?).

**Music.** Pitch-class entropy, pitch range, empty-beat rate and polyphony
(:mod:`symbolic.metrics`, MusPy's definitions), and the chord-tone ratio: the share of MELODY
notes whose pitch class belongs to the chord recognized per beat in BRIDGE + PIANO
(:func:`symbolic.harmony.recognize_chords`). Means over songs.

    SYMBOLIC_DATA=../shared/data python -P benchmarks/eval_theme.py [--songs 29] [--bars 16]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symbolic import metrics  # noqa: E402
from symbolic.data import data_root  # noqa: E402
from symbolic.data.pop909 import Pop909  # noqa: E402
from symbolic.harmony import recognize_chords  # noqa: E402
from symbolic.models import theme_transformer as tt  # noqa: E402
from symbolic.models import themes  # noqa: E402
from symbolic.representations import theme_events as te  # noqa: E402

BAR = 1920  # ticks of a decoded 4/4 bar
PERCENTILE = 90
RESULTS = Path(__file__).with_name("results_eval_theme.txt")


def bar_distances(score, encoder, n_bars: int) -> np.ndarray:
    """Distance of every two-bar MELODY segment from bar 3 on to the one at bar 1 ``[n - 3]``
    (1.0 for a segment with no notes)."""
    if score.tracks[0].note_num() == 0:
        return np.ones(max(n_bars - 3, 0))
    segs = themes.melody_segments(score, melody="MELODY", bar_ticks=np.arange(n_bars) * BAR)
    vec = encoder.embed_tokens(segs.tokens)
    d = 1.0 - vec[2:] @ vec[0]
    d[segs.note_counts()[2:] == 0] = 1.0
    return d


def fit_threshold(pop: Pop909, encoder) -> tuple[float, int]:
    """The near threshold (see the module docstring) and how many distances it is fitted on."""
    dists = []
    for i in pop.available("valid"):
        song = pop.song(i)
        found = themes.find_themes(song.score, bar_ticks=song.bar_ticks(), model=encoder)
        if found.theme is None:
            continue
        segs = themes.melody_segments(song.score, melody="MELODY", bar_ticks=song.bar_ticks())
        first = [int(b) - 1 for b in found.clusters[found.theme]]
        vec = encoder.embed_tokens(segs.tokens[first])
        dists.extend((1.0 - vec[1:] @ vec[0]).tolist())
    return float(np.percentile(dists, PERCENTILE)), len(dists)


def music_figures(score) -> dict:
    """The MusPy-style figures and the chord-tone ratio of one piece."""
    out = {"pc_entropy": metrics.pitch_class_entropy(score),
           "pitch_range": metrics.pitch_range(score),
           "empty_beat": metrics.empty_beat_rate(score), "polyphony": metrics.polyphony(score)}
    melody = score.tracks[0].notes.numpy()
    if len(melody["time"]) == 0:
        return {**out, "chord_tone": np.nan}
    seq = recognize_chords(score, segment="beat", tracks=[1, 2])
    masks = np.array([0 if ch.root is None else ch.mask for ch in seq.chords] + [0])
    mask = masks[seq.index_at(melody["time"])]
    under = mask != 0
    hits = ((mask >> (melody["pitch"].astype(np.int64) % 12)) & 1)[under]
    return {**out, "chord_tone": float(hits.mean()) if under.any() else np.nan}


def theme_figures(d: np.ndarray, threshold: float) -> dict:
    near = d <= threshold
    starts = np.flatnonzero(near & ~np.r_[False, near[:-1]]) + 3  # 1-based bars
    return {"distance": float(d.mean()), "near": float(near.mean()),
            "near_eps": float((d <= themes.EPS).mean()),
            "recurrences": len(starts), "where": float(starts.mean()) if len(starts) else np.nan}


def marked_figures(d: np.ndarray, out) -> dict:
    """Mean distance of the segments starting in the bars the model marked as theme after the
    opening (``in_marked``) and of the others (``off_marked``); NaN where there are none."""
    bars = np.arange(3, 3 + len(d))
    inside = np.isin(bars, out.theme_bars)
    return {"in_marked": float(d[inside].mean()) if inside.any() else np.nan,
            "off_marked": float(d[~inside].mean()) if (~inside).any() else np.nan}


def real_excerpt(song, first: int, bars: int, rng=None):
    """``bars`` bars of a song from bar ``first`` through the event codec (4/4); with ``rng``
    the bars after the opening two shuffled."""
    n = len(song.bar_ticks())
    last = min(first + bars - 1, n)
    ids = te.encode(song.score, song.bar_ticks(), [(first, first + 1)], bars=(first, last)).ids
    if rng is not None:
        at = np.flatnonzero(ids == te.BAR)
        cut = [ids[:at[2]]] + [ids[a:b] for a, b in zip(at[2:], np.r_[at[3:], len(ids) - 1])]
        order = rng.permutation(len(cut) - 1) + 1
        ids = np.concatenate([cut[0]] + [cut[k] for k in order] + [ids[-1:]])
    return te.decode(ids), last - first + 1


def retrieved(song, encoder):
    """The song's theme as :func:`symbolic.find_themes` finds it: (first bar of its first
    region or None, every bar of its regions)."""
    found = themes.find_themes(song.score, bar_ticks=song.bar_ticks(), model=encoder)
    return (found.regions[0][0] if found.regions else None), list(found.theme_bars)


def real_marked(d: np.ndarray, theme_bars: list, first: int, n: int) -> dict:
    """The real excerpt's counterpart of the model's markers: the song's own theme regions
    after the opening (find_themes), renumbered from the excerpt's first bar."""
    bars = [b - first + 1 for b in theme_bars if first + 2 <= b <= first + n - 1]
    runs = sum(1 for i, b in enumerate(bars) if i == 0 or bars[i - 1] != b - 1)
    return {"marked": runs, **marked_figures(d, SimpleNamespace(theme_bars=bars))}


def run_song(song, prompt, models, encoder, threshold, bars, rng) -> dict:
    """Every row's figures for one test song (a row missing where it cannot be made)."""
    rows = {}
    first, theme_bars = retrieved(song, encoder)
    themes_of = {"prompt": str(prompt)}
    if first is not None and first + 1 <= len(song.bar_ticks()):
        themes_of["retrieved"] = (song, (first, first + 1))
    for tname, theme in themes_of.items():
        for mname, model in models.items():
            out = tt.develop_theme(theme, bars, model=model, seed=0)
            d = bar_distances(out.score, encoder, bars)
            rows[f"{mname}, {tname} theme"] = {
                **theme_figures(d, threshold), **music_figures(out.score),
                "marked": len(out.recurrences()), **marked_figures(d, out)}
    if "retrieved" in themes_of:
        for name, r in (("real songs", None), ("shuffled real bars", rng)):
            score, n = real_excerpt(song, first, bars, r)
            if n >= 4:
                d = bar_distances(score, encoder, n)
                marked = (real_marked(d, theme_bars, first, n) if r is None else
                          {"marked": np.nan, "in_marked": np.nan, "off_marked": np.nan})
                rows[name] = {**theme_figures(d, threshold), **music_figures(score), **marked}
    return rows


COLUMNS = ("distance", "near", "near_eps", "recurrences", "where", "marked", "in_marked",
           "off_marked", "pc_entropy", "pitch_range",
           "empty_beat", "polyphony", "chord_tone")


def table(per_song: list) -> list:
    names = []
    for rows in per_song:
        names += [n for n in rows if n not in names]
    lines = ["| row | songs | " + " | ".join(COLUMNS) + " |",
             "|---|---|" + "---|" * len(COLUMNS)]
    for name in names:
        got = [rows[name] for rows in per_song if name in rows]
        cells = [np.nanmean([g[c] for g in got]) if not all(np.isnan(g[c]) for g in got)
                 else np.nan for c in COLUMNS]
        lines.append(f"| {name} | {len(got)} | " + " | ".join(
            "-" if np.isnan(v) else f"{v:.3f}" for v in cells) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--songs", type=int, default=29, help="how many of the 29 prompts")
    ap.add_argument("--bars", type=int, default=16, help="bars of each piece")
    ap.add_argument("--model", default=None, help="seq2seq folder (default: shipped)")
    ap.add_argument("--baseline", default=None, help="decoder-only folder (default: shipped)")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = data_root()
    pop = Pop909(root / "pop909")
    encoder = themes.load(device="cpu")
    models = {"theme transformer": tt.load(args.model, device="cpu"),
              "decoder-only": tt.load(args.baseline, device="cpu", decoder_only=True)}
    threshold, n_fit = fit_threshold(pop, encoder)
    prompts = sorted((root / "theme-transformer").glob("*_theme.mid"))[:args.songs]
    rng, per_song, started = np.random.default_rng(0), [], time.process_time()
    for path in prompts:
        song = pop.song(int(path.name.split("_")[0]))
        per_song.append(run_song(song, path, models, encoder, threshold, args.bars, rng))
        print(f"{path.name}: {len(per_song[-1])} rows", flush=True)
    lines = [f"# eval_theme: {len(prompts)} POP909 test songs, {args.bars} bars per piece, "
             f"1 sample (seed 0), temperature 1.2, top-p 0.9",
             f"near threshold: cosine distance {threshold:.3f} (the {PERCENTILE}th percentile "
             f"of {n_fit} theme-cluster distances on the valid songs)",
             f"CPU time: {time.process_time() - started:.0f} s (one thread)", ""]
    lines += table(per_song)
    lines += ["", "distance/near/recurrences/where: melody two-bar segments from bar 3 against "
              "the opening theme (module docstring); marked: Theme_Start regions the model "
              "opened after the opening (real songs: their own theme regions, find_themes); "
              "in_marked/off_marked: mean distance in and out of "
              "those bars (means over the pieces that have such bars); music figures over the "
              "whole piece."]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
