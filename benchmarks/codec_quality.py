"""Quality figures of the codec parts written here (the README quotes them).

- PQMF (16 bands): designed reconstruction error, and the SNR of analysis + synthesis on white
  noise and on 6 s of a Bach chorale rendered by the torch synth at 16 kHz.
- RAVE-style codec (small config): stage-1 loss over 40 steps on those 6 s (the test's setup),
  first and last logged loss.

    python benchmarks/codec_quality.py
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symbolic  # noqa: E402
from symbolic.audio import PQMF, render  # noqa: E402
from symbolic.models.rave import stage1_smoke  # noqa: E402

RATE = 16000


def snr_db(ref, est) -> float:
    return 10 * math.log10(float((ref ** 2).sum() / ((est - ref) ** 2).sum()))


def main() -> int:
    torch.set_num_threads(1)
    bach = render([symbolic.load("corpus:bach/bwv66.6")], RATE, backend="synth",
                  length=6 * RATE, device="cpu")
    pqmf = PQMF(16)
    torch.manual_seed(0)
    noise = torch.randn(2, 1, 16 * 2000)
    music = bach[..., :pqmf.pad_length(bach.shape[-1]) - 16]
    print(f"PQMF 16 bands: designed error {pqmf.error_db:.1f} dB; reconstruction SNR white noise "
          f"{snr_db(noise, pqmf.synthesis(pqmf.analysis(noise))):.1f} dB, rendered chorale "
          f"{snr_db(music, pqmf(music)):.1f} dB")
    result = stage1_smoke(bach[0], steps=40)
    losses = [r["loss"] for r in result.history]
    print(f"RAVE-style codec (small config), stage 1 on 6 s of rendered Bach: loss {losses[0]:.2f} (steps 1-5) -> "
          f"{losses[-1]:.2f} (steps 36-40)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
