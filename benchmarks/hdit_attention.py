"""Neighbourhood attention (:func:`symbolic.models.layers.neighborhood_attention`, pure torch,
block-wise SDPA with a window mask) against its definition and against global attention
(:func:`symbolic.models.layers.attention`), on one CPU thread.

Prints: the largest absolute difference from a per-query reference (each query's clamped
kernel x kernel window gathered by hand, float64 softmax); the median of 5 timings of forward
calls at 32 x 32 and 64 x 64 tokens, 4 heads of 64 dims, kernel 7, batch 1, for neighbourhood
and global attention and their ratio, also with the backward pass; and one forward of the
default CPU-sized HDiT (128 x 128 image) and of Pictures of MIDI's size (256 x 256).

    python benchmarks/hdit_attention.py > benchmarks/results_hdit_attention.txt
"""

from __future__ import annotations

import math
import platform
import statistics
import time

import torch

from symbolic.models.hdit import HDiT, Settings
from symbolic.models.layers import attention, neighborhood_attention

HEADS, HEAD_DIM, KERNEL = 4, 64, 7


def per_query_reference(q, k, v, kernel: int) -> torch.Tensor:
    """Neighbourhood attention by its definition, one query at a time, in float64."""
    _, h, w, heads, d = q.shape
    q, k, v = q.double(), k.double(), v.double()
    out = torch.empty_like(v)
    for i in range(h):
        r0 = min(max(i - kernel // 2, 0), h - kernel)
        for j in range(w):
            c0 = min(max(j - kernel // 2, 0), w - kernel)
            keys = k[:, r0:r0 + kernel, c0:c0 + kernel].reshape(-1, kernel * kernel, heads, d)
            vals = v[:, r0:r0 + kernel, c0:c0 + kernel].reshape(-1, kernel * kernel, heads, d)
            p = (torch.einsum("bhd,bnhd->bhn", q[:, i, j], keys) / math.sqrt(d)).softmax(-1)
            out[:, i, j] = torch.einsum("bhn,bnhd->bhd", p, vals)
    return out


def median_seconds(fn, repeats: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(side: int) -> None:
    g = torch.Generator().manual_seed(side)
    q, k, v = (torch.randn(1, side, side, HEADS, HEAD_DIM, generator=g) for _ in range(3))
    err = (neighborhood_attention(q, k, v, KERNEL).double()
           - per_query_reference(q, k, v, KERNEL)).abs().max().item()
    flat = [x.reshape(1, side * side, HEADS, HEAD_DIM) for x in (q, k, v)]
    with torch.no_grad():
        t_na = median_seconds(lambda: neighborhood_attention(q, k, v, KERNEL))
        t_global = median_seconds(lambda: attention(*flat))
    grads = [x.clone().requires_grad_() for x in (q, k, v)]
    grads_flat = [x.clone().requires_grad_() for x in flat]
    t_na_bw = median_seconds(lambda: neighborhood_attention(*grads, KERNEL).sum().backward())
    t_global_bw = median_seconds(lambda: attention(*grads_flat).sum().backward())
    print(f"{side}x{side} tokens ({side * side}), {HEADS} heads x {HEAD_DIM}, kernel {KERNEL}:")
    print(f"  max |neighborhood_attention - per-query reference| = {err:.2e}")
    print(f"  forward:            neighbourhood {t_na * 1e3:8.1f} ms   global {t_global * 1e3:8.1f} ms"
          f"   global / neighbourhood = {t_global / t_na:5.2f}")
    print(f"  forward + backward: neighbourhood {t_na_bw * 1e3:8.1f} ms   global "
          f"{t_global_bw * 1e3:8.1f} ms   global / neighbourhood = {t_global_bw / t_na_bw:5.2f}")


def model_forward(name: str, settings: Settings) -> None:
    torch.manual_seed(0)
    model = HDiT(settings).eval()
    x = torch.randn(1, settings.channels, *settings.image_size)
    sigma = torch.tensor([1.0])
    with torch.no_grad():
        t = median_seconds(lambda: model(x, sigma), repeats=3)
    print(f"{name}: {model.n_parameters() / 1e6:.2f}M parameters, one forward of a "
          f"{settings.image_size[0]}x{settings.image_size[1]} image: {t:.2f} s")


def main() -> None:
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"1 thread, median of 5")
    for side in (32, 64):
        compare(side)
    model_forward("HDiT default (CPU size)", Settings())
    model_forward("HDiT Pictures of MIDI size", Settings.pictures_of_midi())


if __name__ == "__main__":
    main()
