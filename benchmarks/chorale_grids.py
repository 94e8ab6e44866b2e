"""What the ``satb`` grid keeps of music21's Bach chorales, per split (the chorale GETDiff's data).

For every chorale of each split (:func:`symbolic.data.music21_corpus.piece_names`), four voices
(:func:`~symbolic.data.music21_corpus.load_chorale`) encoded with their measures and chords per
beat (:func:`symbolic.data.grids.encode_chorale`): notes in, kept exact, altered, dropped, the
reasons, fermatas kept, meters and pickups.

    python benchmarks/chorale_grids.py     # about 20 s on one core
"""

from __future__ import annotations

import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from symbolic.data.grids import encode_chorale  # noqa: E402
from symbolic.data.music21_corpus import piece_names  # noqa: E402
from symbolic.representations import EncodeReport  # noqa: E402


def split_figures(split: str) -> dict:
    names = piece_names("bach_chorales", split)
    total, fermatas, columns, meters, pickups = EncodeReport(), 0, 0, collections.Counter(), 0
    for name in names:
        g, cols = encode_chorale(name)
        total = total + g.report
        fermatas += len(cols)
        columns += g.tokens.shape[1]
        grid = g.meta.grid
        meters.update(f"{n}/{d}" for n, d in zip(grid.numerators.tolist(),
                                                  grid.denominators.tolist()))
        pickups += int(grid.n_bars > 1 and grid.steps_per_bar[0] < grid.steps_per_bar[1])
    return dict(split=split, chorales=len(names), report=total, fermatas=fermatas,
                columns=columns, meters=meters, pickups=pickups)


def main() -> None:
    for split in ("train", "valid", "test"):
        f = split_figures(split)
        r = f["report"]
        changed = 100 * (r.altered + r.dropped) / max(1, r.notes_in)
        print(f"{split:5s}: {f['chorales']} chorales ({f['pickups']} with a pickup), "
              f"{r.notes_in} notes: {r.kept_exact} exact, {r.altered} altered, {r.dropped} "
              f"dropped ({changed:.2f}% changed); {f['fermatas']} fermatas; {f['columns']} "
              f"columns")
        print(f"       reasons: {dict(r.reasons.most_common())}")
        print(f"       bars by meter (time signatures): {dict(f['meters'].most_common())}")


if __name__ == "__main__":
    main()
