"""CUDA paths of every model family and of the audio synth, side by side with the CPU.

    python benchmarks/gpu_check.py [--pieces 8] [--bars 16]

Prints, in one run on the same inputs:

1. the attention backend per device, and on CUDA xformers' memory-efficient attention against
   PyTorch's SDPA (largest difference, milliseconds per call, fp32 and fp16);
2. GETDiff loaded through ``getdiff.load(device=...)``: ``--pieces`` pieces of ``--bars``
   bars composed from chords (``compose``, one piece after another), seconds on each
   device and notes written (the two devices draw from the same seed but their float sums
   differ, so the notes differ; both must be music: notes in every track);
3. harmony2vec loaded on each device: the same nearest chords;
4. the batched torch synth rendering those pieces on each device: seconds, times real time,
   and the largest sample difference between the two renders.

On a machine without CUDA it prints the CPU side and says so; nothing here needs data beyond
the shipped weights.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from symbolic.models import getdiff, harmony2vec
from symbolic.models.layers import attention, attention_backend


def _cuda_ms(fn, repeat: int = 20) -> float:
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeat):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / repeat


def check_attention(devices) -> None:
    print("== attention")
    for dev in devices:
        print(f"{dev}: backend {attention_backend(dev)}")
    from symbolic.models import layers
    if "cuda" in devices and layers._xops is not None and attention_backend("cuda") == "sdpa":
        print("cuda: xformers is installed but its kernel does not run here (a build for "
              "another torch/CUDA): SDPA is used")
    if "cuda" not in devices:
        return
    g = torch.Generator(device="cuda").manual_seed(0)
    for dtype in (torch.float32, torch.float16):
        q, k, v = (torch.randn(8, 1024, 8, 64, device="cuda", dtype=dtype, generator=g)
                   for _ in range(3))

        def sdpa():
            return torch.nn.functional.scaled_dot_product_attention(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)

        diff = (attention(q, k, v).float() - sdpa().float()).abs().max().item()
        print(f"cuda {str(dtype)[6:]}: [8, 1024, 8, 64] max |{attention_backend('cuda')} - sdpa| "
              f"{diff:.2e}; {_cuda_ms(lambda: attention(q, k, v)):.3f} ms vs sdpa "
              f"{_cuda_ms(sdpa):.3f} ms")


def _progressions(n: int) -> list[str]:
    base = ["C | G | Am | F", "Am | F | C | G", "F | G | Em | Am", "C | Am | Dm | G",
            "D | A | Bm | G", "Eb | Bb | Cm | Ab", "G | D | Em | C", "Dm | G | C | A7"]
    return [base[i % len(base)] for i in range(n)]


def compose_batch(device: str, pieces: int, bars: int):
    """``pieces`` songs composed one after another; returns the Scores and the seconds it took
    (model load excluded)."""
    from symbolic.models.getdiff.generate import compose

    model = getdiff.load(device=device)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    songs = [compose(p, bars=bars, seed=i, model=model, device=device)
             for i, p in enumerate(_progressions(pieces))]
    if device == "cuda":
        torch.cuda.synchronize()
    return songs, time.perf_counter() - start


def check_getdiff(devices, pieces: int, bars: int) -> dict:
    print(f"\n== GETDiff: compose {pieces} pieces x {bars} bars (16 steps per window)")
    out = {}
    for dev in devices:
        songs, seconds = compose_batch(dev, pieces, bars)
        notes = [[len(t.notes) for t in s.tracks] for s in songs]
        silent = sum(n == 0 for row in notes for n in row)
        print(f"{dev}: {seconds:.2f} s ({seconds / pieces:.2f} s per piece); notes per track "
              f"(melody, bridge, piano) median {np.median(np.array(notes), axis=0).tolist()}; "
              f"silent tracks {silent} of {len(notes) * len(notes[0])}")
        out[dev] = (songs, seconds)
    if len(out) == 2:
        print(f"cuda is {out['cpu'][1] / out['cuda'][1]:.1f}x the CPU")
    return out


def check_harmony2vec(devices) -> None:
    print("\n== harmony2vec")
    got = {}
    for dev in devices:
        model = harmony2vec.load(device=dev)
        got[dev] = [n.label for n in model.similar("C", topn=5)]
        print(f"{dev}: parameters on {next(model.parameters()).device}; C -> {got[dev]}")
    if len(got) == 2:
        print(f"same neighbours on both devices: {got['cpu'] == got['cuda']}")


def check_synth(devices, songs) -> None:
    from symbolic.audio import render

    print(f"\n== batched synth: {len(songs)} pieces at 22050 Hz")
    waves = {}
    for dev in devices:
        render(songs[:1], 22050, device=dev)  # warm-up (kernels, tables)
        if dev == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        wav = render(songs, 22050, device=dev)
        if dev == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        audio = wav.shape[0] * wav.shape[-1] / 22050
        waves[dev] = wav.float().cpu()
        print(f"{dev}: {seconds:.3f} s for {audio:.0f} s of audio ({audio / seconds:.0f}x real "
              f"time), output on {wav.device}")
    if len(waves) == 2:
        diff = (waves["cpu"] - waves["cuda"]).abs().max().item()
        print(f"max |cpu - cuda| sample difference {diff:.2e} (peak 1.0)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pieces", type=int, default=8)
    ap.add_argument("--bars", type=int, default=16)
    args = ap.parse_args(argv)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}; CUDA: "
          f"{torch.cuda.get_device_name(0) if 'cuda' in devices else 'absent (CPU side only)'}")
    try:
        import xformers

        print(f"xformers {xformers.__version__}")
    except ImportError:
        print("xformers not installed")
    check_attention(devices)
    composed = check_getdiff(devices, args.pieces, args.bars)
    check_harmony2vec(devices)
    check_synth(devices, composed["cpu"][0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
