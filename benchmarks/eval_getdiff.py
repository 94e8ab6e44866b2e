"""Evaluate GETDiff on held-out POP909 songs (the test split, songs 874-909).

For each target track the model writes (the band model: MELODY, BRIDGE, BASS, PIANO; the
previous one: MELODY, BRIDGE, PIANO; the other tracks and the chords given), on
8-bar windows of the test songs:

- **bound**: the MDLM likelihood bound in nats per target cell (a cell: one track's onset and
  duration in one column), Monte Carlo over stratified diffusion times;
- **acc**: onset token accuracy (argmax) over the masked cells of those draws, and duration
  accuracy over those whose onset holds notes;
- **chord-tone**: share of generated notes whose pitch class is in the chord of their column
  (columns with no chord skipped), next to the ground truth's own share;
- **OA pitch / OA dur**: overlapped area of the generated notes' pitch and duration (steps)
  histograms with the ground truth's (``symbolic.metrics.overlapped_area``, method 'hist').

Baselines: **unigram** (each cell drawn independently from the track's training-set onset
frequencies, duration from its frequency given a stack; its bound is its exact NLL) and
**no chords** (the same model with the chord rows hidden). Then a quality-versus-steps table
(PIANO from melody + bridge + chords) and the generation time per 16 bars on this CPU.

    python benchmarks/eval_getdiff.py                 # shipped weights, every test song
    python benchmarks/eval_getdiff.py --model DIR --windows 2 --draws 2   # quicker
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symbolic.harmony import Chord, PITCH_NAMES  # noqa: E402
from symbolic.metrics import overlapped_area  # noqa: E402
from symbolic.models import getdiff as gd  # noqa: E402
from symbolic.representations.grid import QUALITY_HARTE, as_vocab  # noqa: E402
from symbolic.harmony import GETMUSIC_QUALITIES  # noqa: E402

PAD, EMPTY = gd.PAD, gd.EMPTY


def windows_of(songs, bars, width, per_song):
    """Non-overlapping ``bars``-bar windows, at most ``per_song`` per song (evenly spread)."""
    toks, pos = [], []
    for s in songs:
        wins = [w for w in s.windows(bars, hop=bars) if w[0] < max(1, s.n_bars - bars + 1)]
        if per_song and len(wins) > per_song:
            wins = [wins[i] for i in np.linspace(0, len(wins) - 1, per_song).round().astype(int)]
        for w in wins:
            tok, p, used, _ = s.cut(w, width)
            if used < width // 2:
                continue
            toks.append(tok)
            pos.append(p)
    return np.stack(toks), np.stack(pos)


def roles_for(tokens, k, target, chords=True, others=True):
    """Role arrays: ``target`` track to generate, the other tracks given (``others``) or
    absent, chords given or hidden."""
    b, _, n = tokens.shape
    role = np.zeros((b, k + 1, n), dtype=np.int64)
    used = tokens[:, 2 * k] != EMPTY  # chord rows are filled on every real column
    tok = tokens.copy()
    for j in range(k):
        present = (tok[:, 2 * j] != EMPTY).any(axis=1)[:, None]  # as training sees a window
        if j == target:
            role[:, j] = np.where(used, gd.ROLE_TARGET, 0)
            absent = used & ~present  # a part the window lacks is generated as silence
            tok[:, 2 * j][absent] = PAD
            tok[:, 2 * j + 1][absent] = PAD
        elif others:
            role[:, j] = np.where(used & present, gd.ROLE_SOURCE, 0)
        else:
            tok[:, 2 * j:2 * j + 2] = EMPTY
    if chords:
        role[:, k] = np.where(used, gd.ROLE_SOURCE, 0)
    else:
        tok[:, 2 * k:] = EMPTY
    return tok, role


@torch.no_grad()
def bound(model, tokens, role, pos, draws, rng, batch=48, marks=None):
    """(nats per target cell, onset accuracy, duration accuracy) over ``draws`` stratified
    times per window (``marks``: column marks for a model that reads them)."""
    k = model.n_tracks
    tot_nll = tot_cells = 0.0
    on_ok = on_n = du_ok = du_n = 0
    target = role[:, :k] == gd.ROLE_TARGET
    for d in range(draws):
        for a in range(0, len(tokens), batch):
            sl = slice(a, a + batch)
            n = len(tokens[sl])
            t = ((d + rng.random(n)) / draws).clip(gd.T_MIN, 1.0)
            masked = target[sl] & (rng.random(target[sl].shape) < t[:, None, None])
            b = {"tokens": torch.from_numpy(tokens[sl]), "role": torch.from_numpy(role[sl]),
                 "bar_pos": torch.from_numpy(pos[sl]), "masked": torch.from_numpy(masked),
                 "t": torch.from_numpy(t.astype(np.float32))}
            if marks is not None:
                b["marks"] = torch.from_numpy(marks[sl])
            for _, bi, nll_on, nll_dur, ok_on, ok_dur, stack in gd.cell_nll(model, b):
                tot_nll += float(((nll_on + nll_dur) / b["t"][bi]).sum())
                on_ok += int(ok_on.sum())
                on_n += len(ok_on)
                du_ok += int(ok_dur[stack].sum())
                du_n += int(stack.sum())
            tot_cells += float(target[sl].sum())
    return tot_nll / tot_cells, on_ok / max(on_n, 1), du_ok / max(du_n, 1)


class Unigram:
    """Per track: onset class frequencies and duration frequencies given a stack (train split,
    add-one smoothing)."""

    def __init__(self, songs, model):
        self.model = model
        self.on, self.dur = [], []
        for k, (a, b) in enumerate(model.track_slices):
            on = np.concatenate([s.tokens[2 * k].astype(np.int64) for s in songs])
            du = np.concatenate([s.tokens[2 * k + 1].astype(np.int64) for s in songs])
            on = on[on != EMPTY]
            cls = np.where(on == PAD, 0, on - a + 1)
            c = np.bincount(cls, minlength=1 + b - a) + 1.0
            self.on.append(c / c.sum())
            dd = du[du >= model.duration_offset] - model.duration_offset
            c = np.bincount(dd, minlength=model.n_durations) + 1.0
            self.dur.append(c / c.sum())

    def nll(self, tokens, k):
        a = self.model.track_slices[k][0]
        on = tokens[:, 2 * k]
        keep = on != EMPTY
        cls = np.where(on == PAD, 0, on - a + 1)[keep]
        du = tokens[:, 2 * k + 1][keep]
        nll = -np.log(self.on[k][cls])
        stack = cls > 0
        nll[stack] -= np.log(self.dur[k][du[stack] - self.model.duration_offset])
        acc_on = float(np.mean(cls == self.on[k].argmax()))
        acc_du = float(np.mean(du[stack] - self.model.duration_offset == self.dur[k].argmax()))
        return float(nll.mean()), acc_on, acc_du

    def sample(self, tokens, role, k, rng):
        out = tokens.copy()
        tgt = role[:, k] == gd.ROLE_TARGET
        n = int(tgt.sum())
        a = self.model.track_slices[k][0]
        cls = rng.choice(len(self.on[k]), n, p=self.on[k])
        on = np.where(cls == 0, PAD, cls - 1 + a)
        du = np.where(cls == 0, PAD,
                      rng.choice(len(self.dur[k]), n, p=self.dur[k]) + self.model.duration_offset)
        out[:, 2 * k][tgt] = on
        out[:, 2 * k + 1][tgt] = du
        return out


def note_stats(tokens, role, k, vocab, chord_pcs):
    """Pitches, duration steps and chord-tone flags of the notes in track k's target cells."""
    tgt = role[:, k] == gd.ROLE_TARGET
    on, du = tokens[:, 2 * k], tokens[:, 2 * k + 1]
    a, b = vocab.track_slices[vocab.track_names[k]]
    cell = tgt & (on >= a) & (on < b)
    bi, ci = np.nonzero(cell)
    ids = on[bi, ci]
    n = vocab.pitch_count[ids]
    at = np.repeat(vocab.pitch_start[ids] - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
    pitch = vocab.pitches[at]
    dcls = np.clip(du[bi, ci] - vocab.duration_offset, 0, len(vocab.durations) - 1)
    dur = np.repeat(vocab.durations[dcls], n)
    kk = len(vocab.track_names)
    root = tokens[bi, 2 * kk, ci] - vocab.root_offset
    qual = tokens[bi, 2 * kk + 1, ci] - vocab.quality_offset
    has = (root >= 0) & (root < 12) & (qual >= 0) & (qual < len(GETMUSIC_QUALITIES))
    pcs = np.where(has, chord_pcs[np.clip(root, 0, 11), np.clip(qual, 0, 7)], 0)
    pcs = np.repeat(pcs, n)
    has = np.repeat(has, n)
    tone = (pcs >> (pitch % 12)) & 1
    return pitch, dur, tone[has]


def generate(model, tokens, role, pos, steps, seed, batch=48, guidance=1.0,
             order="confidence"):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for a in range(0, len(tokens), batch):
        sl = slice(a, a + batch)
        out.append(gd.sample(model, torch.from_numpy(tokens[sl]), torch.from_numpy(role[sl]),
                             torch.from_numpy(pos[sl]), steps=steps, generator=gen,
                             guidance=guidance, order=order).numpy())
    return np.concatenate(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="model folder (default: shipped weights)")
    ap.add_argument("--windows", type=int, default=4, help="8-bar windows per test song")
    ap.add_argument("--draws", type=int, default=4, help="diffusion times per window (bound)")
    ap.add_argument("--steps", type=int, default=16, help="sampling steps (main table)")
    ap.add_argument("--steps-table", default="8,16,32,100")
    ap.add_argument("--order", default="random", help="sampling order (main table)")
    ap.add_argument("--steps-windows", type=int, default=48,
                    help="windows in the steps table (evenly spread; default 48)")
    ap.add_argument("--only", choices=("tables", "steps"), default=None,
                    help="run only the main tables, or only the steps table and timing")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = gd.load(args.model, device="cpu")
    vocab = as_vocab(model.config["vocab"])
    width = model.window_bars * 4 * vocab.resolution
    test = gd.pop909_grids("test", model.config["vocab"], progress=False)
    train = gd.pop909_grids("train", model.config["vocab"], progress=False)
    tokens, pos = windows_of(test, model.window_bars, width, args.windows)
    print(f"GETDiff {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters; "
          f"{len(test)} held-out POP909 songs, {len(tokens)} windows of {model.window_bars} bars; "
          f"bound over {args.draws} draws per window; sampling {args.steps} steps; "
          f"torch threads {torch.get_num_threads()}\n")
    chord_pcs = np.zeros((12, len(GETMUSIC_QUALITIES)), dtype=np.int64)
    for r in range(12):
        for qi, q in enumerate(GETMUSIC_QUALITIES):
            chord_pcs[r, qi] = Chord.parse(f"{PITCH_NAMES[r]}:{QUALITY_HARTE[q]}").mask
    uni = Unigram(train, model)
    rng = np.random.default_rng(args.seed)
    head = (f"{'target':<8} {'system':<10} {'bound':>7} {'acc on':>7} {'acc dur':>7} "
            f"{'chord-tone':>10} {'OA pitch':>8} {'OA dur':>7}")
    summary = {}
    for others in (True, False) if args.only != "steps" else ():
        given = "the other tracks + chords" if others else "chords alone"
        print(f"\ntarget track from {given} (no chords: chords hidden too); sampling order "
              f"{args.order}")
        print(head)
        print("-" * len(head))
        evaluate_condition(model, tokens, pos, vocab, chord_pcs, uni, rng, args, others,
                           summary)
    losses = [f"{n} ({'with' if o else 'without'} other tracks: bound "
              f"{summary[(o, n, lab)][0]:.5f}, no chords {summary[(o, n, 'no chords')][0]:.5f}, "
              f"unigram {summary[(o, n, 'unigram')][0]:.5f}; chord-tone "
              f"{summary[(o, n, lab)][1]:.3f}, no chords {summary[(o, n, 'no chords')][1]:.3f})"
              for (o, n, lab) in summary
              if lab == "model" and not (
                  summary[(o, n, lab)][0] < min(summary[(o, n, "no chords")][0],
                                                summary[(o, n, "unigram")][0])
                  and summary[(o, n, lab)][1] > max(summary[(o, n, "no chords")][1],
                                                    summary[(o, n, "unigram")][1]))]
    if summary:
        print(f"\nmodel beats both baselines on the bound and the chord-tone ratio everywhere: "
              f"{'no, not for ' + ', '.join(losses) if losses else 'yes'}")
    if args.only != "tables":
        pick = np.linspace(0, len(tokens) - 1, min(args.steps_windows, len(tokens))).round()
        pick = np.unique(pick.astype(int))
        steps_table(model, tokens[pick], pos[pick], vocab, chord_pcs, args)
        timing(model, args)
    return 0


def evaluate_condition(model, tokens, pos, vocab, chord_pcs, uni, rng, args, others, summary):
    """One table: each track as the target, the others given (``others``) or absent."""
    k = model.n_tracks
    for j, name in enumerate(model.tracks):
        if name in model.context_tracks:  # read, never written
            continue
        tok_c, role_c = roles_for(tokens, k, j, chords=True, others=others)
        tok_n, role_n = roles_for(tokens, k, j, chords=False, others=others)
        gt_p, gt_d, gt_tone = note_stats(tok_c, role_c, j, vocab, chord_pcs)
        b_m = bound(model, tok_c, role_c, pos, args.draws, np.random.default_rng(args.seed))
        b_n = bound(model, tok_n, role_n, pos, args.draws, np.random.default_rng(args.seed))
        b_u = uni.nll(tok_c, j)
        gen_m = generate(model, tok_c, role_c, pos, args.steps, args.seed, order=args.order)
        gen_n = generate(model, tok_n, role_n, pos, args.steps, args.seed, order=args.order)
        gen_n[:, 2 * k:] = tok_c[:, 2 * k:]  # judge chord tones against the true chords
        gen_u = uni.sample(tok_c, role_c, j, rng)
        rows = [("model", b_m, gen_m), ("no chords", b_n, gen_n), ("unigram", b_u, gen_u)]
        print(f"{name:<8} {'truth':<10} {'':>7} {'':>7} {'':>7} {gt_tone.mean():>10.3f} "
              f"{1.0:>8.3f} {1.0:>7.3f}")
        for label, (nats, acc_on, acc_du), gen in rows:
            p, d, tone = note_stats(gen, role_c, j, vocab, chord_pcs)
            ratio = float(tone.mean()) if len(tone) else float("nan")
            oa_p = overlapped_area(p, gt_p, method="hist")
            oa_d = overlapped_area(d, gt_d, method="hist")
            print(f"{'':<8} {label:<10} {nats:>7.3f} {acc_on:>7.3f} {acc_du:>7.3f} "
                  f"{ratio:>10.3f} {oa_p:>8.3f} {oa_d:>7.3f}")
            summary[(others, name, label)] = (nats, ratio)


def steps_table(model, tokens, pos, vocab, chord_pcs, args):
    """Quality versus sampling steps: PIANO from MELODY + BRIDGE + chords, both orders."""
    k = model.n_tracks
    j = model.tracks.index("PIANO") if "PIANO" in model.tracks else k - 1
    tok_c, role_c = roles_for(tokens, k, j, chords=True)
    gt_p, gt_d, gt_tone = note_stats(tok_c, role_c, j, vocab, chord_pcs)
    print(f"\nquality versus steps ({model.tracks[j]} from the other tracks + chords, "
          f"{len(tokens)} windows; truth chord-tone {gt_tone.mean():.3f}):")
    print(f"{'order':<11} {'steps':>5} {'chord-tone':>10} {'OA pitch':>8} {'OA dur':>7} "
          f"{'notes/GT':>8} {'s/window':>9}")
    for order in ("confidence", "random"):
        for s in [int(x) for x in args.steps_table.split(",") if x]:
            t0 = time.perf_counter()
            gen = generate(model, tok_c, role_c, pos, s, args.seed, order=order)
            dt = (time.perf_counter() - t0) / len(tok_c)
            p, d, tone = note_stats(gen, role_c, j, vocab, chord_pcs)
            print(f"{order:<11} {s:>5} {tone.mean():>10.3f} "
                  f"{overlapped_area(p, gt_p, method='hist'):>8.3f} "
                  f"{overlapped_area(d, gt_d, method='hist'):>7.3f} {len(p) / len(gt_p):>8.2f} "
                  f"{dt:>9.3f}")


def timing(model, args):
    """Generation time per 16 bars on this CPU (a batch of one, as a composer runs it)."""
    from symbolic.models.getdiff import compose

    for threads in sorted({1, args.threads}):
        torch.set_num_threads(threads)
        compose("C | G | Am | F", bars=16, model=model, steps=args.steps, seed=0)  # warm-up
        t0 = time.perf_counter()
        reps = 3
        for r in range(reps):
            compose("C | G | Am | F", bars=16, model=model, steps=args.steps, seed=r)
        dt = (time.perf_counter() - t0) / reps
        print(f"\ncompose 16 bars, every part, {args.steps} steps, {threads} thread(s): "
              f"{dt:.2f} s (CPU: {os.cpu_count()} cores here)")


if __name__ == "__main__":
    sys.exit(main())
