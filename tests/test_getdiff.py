"""GETDiff: shared attention, the diffusion model, sampling, infill/compose on real files."""

import warnings

import numpy as np
import pytest
import symusic
import torch

import symbolic
from symbolic.models.getdiff import (TrackMappingError, compose, generate_grids, infill,
                                     map_tracks, parse_progression)
from symbolic.models import getdiff as gd
from symbolic.models.layers import RotaryEmbedding, apply_rotary, attention, attention_backend


# ------------------------------------------------------------------ layers

def test_attention_matches_the_textbook_formula():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 7, 3, 8, generator=g) for _ in range(3))
    w = torch.einsum("blhd,bmhd->bhlm", q, k) / 8 ** 0.5
    ref = torch.einsum("bhlm,bmhd->blhd", w.softmax(-1), v)
    assert torch.allclose(attention(q, k, v), ref, atol=1e-5)
    pad = torch.ones(2, 7, dtype=torch.bool)
    pad[:, 5:] = False
    w2 = w.masked_fill(~pad[:, None, None, :], float("-inf"))
    ref2 = torch.einsum("bhlm,bmhd->blhd", w2.softmax(-1), v)
    assert torch.allclose(attention(q, k, v, key_padding_mask=pad), ref2, atol=1e-5)
    assert attention_backend("cpu") == "sdpa"


def test_rotary_scores_depend_only_on_relative_position():
    rot = RotaryEmbedding(16)
    cos, sin = rot(40, "cpu", torch.float32)
    g = torch.Generator().manual_seed(1)
    q, k = torch.randn(1, 1, 1, 16, generator=g), torch.randn(1, 1, 1, 16, generator=g)

    def score(i, j):
        qi = apply_rotary(q, cos[i:i + 1], sin[i:i + 1])
        kj = apply_rotary(k, cos[j:j + 1], sin[j:j + 1])
        return float((qi * kj).sum())

    assert score(3, 1) == pytest.approx(score(30, 28), abs=1e-4)
    assert score(3, 1) != pytest.approx(score(3, 2), abs=1e-4)


# ------------------------------------------------------------------ data, masks, loss

@pytest.fixture(scope="module")
def valid_songs(pop909_root):
    return gd.pop909_grids("valid", path=pop909_root, progress=False)


def test_training_batches_respect_roles(valid_songs):
    rng = np.random.default_rng(0)
    tables = gd.transpose_tables("pop909")
    for scenario in ("tracks", "span", "chords", "nothing", None):
        b = gd.training_batch(valid_songs, rng, batch=8, bars=8, width=128, n_tracks=3,
                              tables=tables, scenario=scenario)
        role, target, masked, tok = b["role"], b["target"], b["masked"], b["tokens"]
        assert tok.shape == (8, 8, 128) and role.shape == (8, 4, 128)
        assert np.array_equal(target, role[:, :3] == gd.ROLE_TARGET)
        assert not (masked & ~target).any()  # only targets are ever masked
        assert target.any(axis=(1, 2)).all()
        if scenario in ("chords", "nothing"):
            assert target.any(axis=2).all()  # every track is generated
        if scenario == "nothing":
            assert (role[:, 3] == gd.ROLE_EMPTY).all() and (tok[:, 6:] == gd.EMPTY).all()
        if scenario == "span":  # a span of bars, not the whole window, in some windows
            used = (tok[:, 6] != gd.EMPTY).sum(1)
            assert any(target[i].any(0).sum() < used[i] for i in range(8))
        # empty cells hold EMPTY tokens
        for j in range(3):
            empty = role[:, j] == gd.ROLE_EMPTY
            assert (tok[:, 2 * j][empty] == gd.EMPTY).all()


def test_transposition_tables_invert():
    tb = gd.transpose_tables("pop909")
    up, down = tb[gd.SHIFTS.index(3)], tb[gd.SHIFTS.index(-3)]
    ok = up >= 0
    assert np.array_equal(down[up[ok]], np.arange(len(up))[ok])
    from symbolic.representations.grid import as_vocab

    v = as_vocab("pop909")
    assert up[v.root_offset + 11] == v.root_offset + 2  # B + 3 = D
    assert up[v.no_chord] == v.no_chord
    assert ok.mean() > 0.5


def _small_model(**kw):
    torch.manual_seed(0)
    return gd.GETDiff(dim=64, depth=2, heads=2, embed_dim=32, dropout=0.0, **kw)


def test_loss_is_a_bound_per_target_cell_and_training_lowers_it(valid_songs):
    model = _small_model()
    rng = np.random.default_rng(0)
    batch = {k: torch.from_numpy(v) for k, v in
             gd.training_batch(valid_songs, rng, batch=8, bars=4, width=64, n_tracks=3).items()}
    loss0 = gd.diffusion_loss(model, batch)
    assert torch.isfinite(loss0) and loss0 > 0
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    for _ in range(40):
        loss = gd.diffusion_loss(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(gd.diffusion_loss(model, batch)) < 0.6 * float(loss0)


def test_save_and_load_give_the_same_model(tmp_path):
    model = _small_model().eval()
    model.save_pretrained(tmp_path / "m")
    again = gd.GETDiff.from_pretrained(str(tmp_path / "m"))
    tok = torch.randint(3, 100, (1, 8, 16))
    role = torch.ones(1, 4, 16, dtype=torch.long)
    pos = torch.arange(16)[None] % 16
    assert torch.equal(model(tok, role, pos), again(tok, role, pos))
    assert again.config == model.config


# ------------------------------------------------------------------ sampling

@pytest.fixture(scope="module")
def model():
    return gd.load()


@pytest.fixture(scope="module")
def prev():
    """The previous shipped model (POP909's three parts), which the 3-track grids fit."""
    return gd.load("getdiff-pop909")


def test_shipped_weights_are_small_and_load(model, prev):
    from symbolic.models import pretrained_path

    size = (pretrained_path(gd.DEFAULT_NAME) / "model.safetensors").stat().st_size
    assert size < 25e6
    assert model.tracks == ["MELODY", "BRIDGE", "BASS", "PIANO", "OTHER"]
    assert model.context_tracks == ["OTHER"] and set(model.role_stats) == {
        "MELODY", "BRIDGE", "BASS", "PIANO"}
    assert prev.tracks == ["MELODY", "BRIDGE", "PIANO"] and prev.context_tracks == []


def test_sampling_fills_targets_only_and_is_seeded(prev, valid_songs):
    model = prev
    rng = np.random.default_rng(3)
    b = gd.training_batch(valid_songs, rng, batch=4, bars=8, width=128, n_tracks=3,
                          scenario="span")
    tok, role, pos = (torch.from_numpy(b[k]) for k in ("tokens", "role", "bar_pos"))

    def run(seed, **kw):
        return gd.sample(model, tok, role, pos, steps=4,
                         generator=torch.Generator().manual_seed(seed), **kw)

    out = run(0)
    assert torch.equal(out, run(0))
    assert not torch.equal(out, run(1))
    target = role[:, :3] == gd.ROLE_TARGET
    for j in range(3):
        for r in (2 * j, 2 * j + 1):
            assert torch.equal(out[:, r][~target[:, j]], tok[:, r][~target[:, j]])
        on, du = out[:, 2 * j], out[:, 2 * j + 1]
        assert ((on == gd.PAD) == (du == gd.PAD))[target[:, j]].all()
    assert not (out == gd.MASK).any()
    guided = run(0, guidance=2.0, temperature=0.8, top_p=0.9)
    assert not (guided == gd.MASK).any()
    greedy = run(0, temperature=0)
    assert torch.equal(greedy, run(5, temperature=0))


# ------------------------------------------------------------------ infill / compose

def _notes(track):
    return [(n.time, n.duration, n.pitch, n.velocity) for n in track.notes]


def test_infill_keeps_every_source_note_bit_exact(model, pop909_root):
    src = symbolic.load(pop909_root / "003" / "003.mid")
    out = infill(src, tracks=["piano"], bars=(9, 12), regions=[("melody", (20, 21))],
                 model=model, steps=4, seed=0)
    from symbolic.timeline import MetricGrid

    bt = MetricGrid.from_score(src, resolution=4).bar_ticks
    regions = {"PIANO": (bt[8], bt[12]), "MELODY": (bt[19], bt[21])}
    assert [t.name for t in out.tracks] == [t.name for t in src.tracks]
    changed = 0
    for a, b in zip(src.tracks, out.tracks):
        na, nb = _notes(a), _notes(b)
        if a.name not in regions:
            assert na == nb  # untouched track
            continue
        lo, hi = regions[a.name]
        outside_a = [n for n in na if not lo <= n[0] < hi]
        outside_b = [n for n in nb if not lo <= n[0] < hi]
        assert outside_a == outside_b  # every source note outside the region, bit for bit
        inside = [n for n in nb if lo <= n[0] < hi]
        changed += len(inside)
        assert inside != [n for n in na if lo <= n[0] < hi]
    assert changed > 0
    assert src.tempos == out.tempos and src.time_signatures == out.time_signatures
    # The generated notes give way to kept ones: what was written survives a MIDI file.
    again = symusic.Score.from_midi(bytes(out.dumps_midi()))
    for a, b in zip(out.tracks, again.tracks):
        if a.name in regions:
            assert sorted(_notes(a)) == sorted(_notes(b))


def _marked(src, names):
    """``src`` with the notes of tracks ``names`` moved to odd ticks: generated notes lie on
    the 16th-note grid (even ticks at 480 per quarter), so a marked note is an old one."""
    out = src.copy()
    for t in out.tracks:
        if t.name in names:
            n = t.notes.numpy()
            t.notes = type(t.notes).from_numpy(n["time"] | 1, n["duration"], n["pitch"],
                                               n["velocity"])
    return out


@pytest.mark.parametrize("meter", [(4, 4), (3, 4), (6, 8)])
def test_infill_regenerates_the_whole_region_and_keeps_the_rest(model, pop909_root, meter):
    """Every old note of a target track inside its bars (1-based, inclusive: first and last
    bar included) is gone, every one outside is kept, and new notes fill the region."""
    from symbolic.timeline import MetricGrid

    src = symbolic.load(pop909_root / "003" / "003.mid")
    src.time_signatures.clear()
    src.time_signatures.append(symusic.TimeSignature(0, *meter))
    src = _marked(src, {"PIANO", "MELODY"})
    bt = MetricGrid.from_score(src, resolution=4).bar_ticks
    m0 = int(np.searchsorted(bt, src.tracks[0].notes[0].time, side="right"))  # 1-based bar
    bars = {"PIANO": (1, 2), "MELODY": (m0 + 1, m0 + 3)}
    out = infill(src, tracks=["piano"], bars=bars["PIANO"], regions=[("melody", bars["MELODY"])],
                 model=model, steps=2, seed=0)
    for a, b in zip(src.tracks, out.tracks):
        old, new = set(_notes(a)), _notes(b)
        if a.name not in bars:
            assert _notes(a) == new
            continue
        first, last = bars[a.name]
        lo, hi = bt[first - 1], bt[last]
        for edge in (first, last):  # the region's edge bars held old notes: none survives
            assert any(bt[edge - 1] <= n[0] < bt[edge] for n in old), (a.name, edge)
        assert not [n for n in new if lo <= n[0] < hi and n in old], a.name
        assert [n for n in new if lo <= n[0] < hi], a.name  # the region was written
        assert sorted(n for n in new if not lo <= n[0] < hi) == sorted(
            n for n in old if not lo <= n[0] < hi)  # the bars around it kept, note for note


def test_infill_adds_a_missing_track_and_names_every_other_use(model, prev):
    chorale = symbolic.load("corpus:bach/bwv66.6")  # Soprano, Alto, Tenor, Bass
    assert map_tracks(chorale, prev.tracks) == ["MELODY", "BRIDGE", "BRIDGE", None]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = infill(chorale, tracks=["piano"], model=model, steps=4, seed=0)
    msg = " ".join(str(w.message) for w in caught)
    # one message: the second voice on BRIDGE is heard as context, the new piano is written
    assert "'Tenor' -> OTHER" in msg and "'Bass' -> BASS" in msg and "new track -> PIANO" in msg
    assert "--map" in msg
    assert [t.name for t in out.tracks] == ["Soprano", "Alto", "Tenor", "Bass", "piano"]
    for a, b in zip(chorale.to("tick").tracks, out.tracks):
        assert _notes(a) == _notes(b)
    assert len(out.tracks[-1].notes) > 0
    with pytest.raises(TrackMappingError, match="drums"):
        infill(chorale, tracks=["drums"], model=model)
    with pytest.raises(TrackMappingError, match="OTHER|writes"):
        infill(chorale, tracks=["other"], model=model)
    out2 = infill(chorale, tracks=["piano"], model=model, steps=2, track_map={"Bass": "piano"})
    assert len(out2.tracks) == 4  # the bass became the piano track's context and target
    assert _notes(out2.tracks[0]) == _notes(chorale.to("tick").tracks[0])


def test_user_chords_override_recognized_ones(model):
    chorale = symbolic.load("corpus:bach/bwv66.6")
    a = infill(chorale, tracks=["piano"], bars=(1, 4), model=model, steps=4, seed=0,
               chords="C | F | G | C")
    b = infill(chorale, tracks=["piano"], bars=(1, 4), model=model, steps=4, seed=0)
    assert _notes(a.tracks[-1]) != _notes(b.tracks[-1])


def test_compose_from_chords_alone(model):
    song = compose("C | G | Am | F", bars=12, model=model, steps=4, seed=0)
    assert [t.name for t in song.tracks] == ["melody", "bridge", "bass", "piano"]
    assert all(len(t.notes) for t in song.tracks)  # every part plays (density from training)
    assert len({n.velocity for t in song.tracks for n in t.notes}) > 1  # not one velocity
    assert song.end() <= 12 * 4 * 480 + 52 * 120  # 12 bars, plus a last note's tail
    marks = [m.text for m in song.markers]
    assert marks[:5] == ["chord:C:maj", "chord:G:maj", "chord:A:min", "chord:F:maj",
                         "chord:C:maj"]
    assert all(len(t.notes) for t in song.tracks[2:])
    again = symusic.Score.from_midi(bytes(song.dumps_midi()))
    assert [sorted(_notes(t)) for t in again.tracks] == [sorted(_notes(t)) for t in song.tracks]
    only = compose("Am F C G", tracks=["melody"], model=model, steps=4, tempo=90,
                   time_signature=(3, 4))
    assert [t.name for t in only.tracks] == ["melody"]
    assert only.time_signatures[0].numerator == 3


def test_progressions_parse():
    bars = parse_progression("C G | Am | F")
    assert [len(b) for b in bars] == [2, 1, 1]
    seq = parse_progression("C G", np.array([0, 100, 200, 300]))
    assert seq.start.tolist() == [0, 100, 200] and [c.root for c in seq.chords] == [0, 7, 0]
    with pytest.raises(ValueError):
        parse_progression(" ")
    with pytest.raises(symbolic.errors.ChordLabelError):
        parse_progression("C Hmaj")


def test_long_pieces_are_generated_window_by_window(prev):
    model = prev
    k = 3
    n_bars, per = 20, 16
    tok = np.zeros((8, n_bars * per), dtype=np.int64)
    from symbolic.representations.grid import as_vocab

    v = as_vocab("pop909")
    tok[6], tok[7] = v.root_offset, v.quality_offset  # C major throughout
    role = np.full((k + 1, tok.shape[1]), gd.ROLE_SOURCE)
    role[2] = gd.ROLE_TARGET
    first = np.arange(n_bars + 1) * per
    a = generate_grids(model, [tok], [role], [first], steps=2, seed=0)[0]
    b = generate_grids(model, [tok, tok[:, :8 * per]], [role, role[:, :8 * per]],
                       [first, first[:9]], steps=2, seed=0)
    assert not (a == gd.MASK).any() and (a[4] != gd.PAD).sum() > 20
    assert b[1].shape == (8, 8 * per) and not (b[1] == gd.MASK).any()


# ------------------------------------------------------------------ command line

def test_cli_infill_and_compose(tmp_path, pop909_root):
    from symbolic.cli import main

    song = tmp_path / "song.mid"
    assert main(["compose", "--chords", "C | G | Am | F", "--bars", "8", "--steps", "2",
                 "-o", str(song), "--png", str(tmp_path / "song.png"), "--wav",
                 str(tmp_path / "song.wav"), "--sample-rate", "8000", "--quiet"]) == 0
    assert song.read_bytes()[:4] == b"MThd" and (tmp_path / "song.png").stat().st_size > 1000
    from symbolic.audio import read_wav

    wav, sr = read_wav(tmp_path / "song.wav")
    assert sr == 8000 and wav.shape[-1] > 8 * 2.4 * 8000 and float(wav.abs().max()) > 0.1
    out = tmp_path / "out.mid"
    assert main(["infill", str(song), "--tracks", "piano", "--bars", "3-4", "--steps", "2",
                 "-o", str(out), "--quiet"]) == 0
    assert symbolic.load(out).tracks
    assert main(["infill", str(song), "--tracks", "drums", "-o", str(out), "--quiet"]) == 1


def test_training_command_saves_resumes_and_stops_deterministically(tmp_path, pop909_root):
    settings = gd.Settings(steps=100, batch=2, dim=32, depth=1, heads=2, embed_dim=16,
                           window_bars=2, eval_every=50, checkpoint_every=50)
    kw = dict(data_path=pop909_root, progress=False)
    info = gd.train(settings, tmp_path / "a", stop_at=50, **kw)
    assert info["steps"] == 50 and info["planned_steps"] == 100
    a = gd.GETDiff.from_pretrained(str(tmp_path / "a"))
    # the same run, interrupted after its checkpoint at step 50 and resumed, ends identical
    import json

    state = json.loads((tmp_path / "a" / "checkpoint" / "trainer_state.json").read_text())
    assert state["step"] == 50
    info_full = gd.train(settings, tmp_path / "a", **kw)  # resumes from a/checkpoint (step 50)
    b = gd.train(settings, tmp_path / "b", **kw)
    wa = gd.GETDiff.from_pretrained(str(tmp_path / "a")).state_dict()
    wb = gd.GETDiff.from_pretrained(str(tmp_path / "b")).state_dict()
    assert info_full["steps"] == b["steps"] == 100
    assert all(torch.equal(wa[n], wb[n]) for n in wa)
    assert any(not torch.equal(a.state_dict()[n], wa[n]) for n in wa)
    assert any("eval_loss" in h for h in b["history"])


@pytest.mark.parametrize("kwargs, name", [
    ({"tempo": 0}, "tempo"), ({"tempo": -50}, "tempo"), ({"tempo": float("inf")}, "tempo"),
    ({"time_signature": (5, 3)}, "time_signature"), ({"time_signature": "4"}, "time_signature"),
    ({"bars": 0}, "bars"), ({"bars": 2.5}, "bars"), ({"steps": 0}, "steps"),
    ({"top_p": 0}, "top_p"), ({"temperature": -1}, "temperature"), ({"seed": -1}, "seed"),
    ({"order": "sideways"}, "order"),
])
def test_compose_names_a_bad_argument_and_its_range(model, kwargs, name):
    from symbolic.errors import SymbolicError

    with pytest.raises(SymbolicError, match=f"^{name}: "):
        compose("C G", model=model, **kwargs)


def test_infill_names_bad_bars_and_sampling_options(model):
    from symbolic.errors import ArgumentError

    song = compose("C G Am F", model=model, steps=2)
    with pytest.raises(ArgumentError, match="^bars: must be 1 <= first <= last"):
        infill(song, tracks=["piano"], bars=(3, 2), model=model)
    with pytest.raises(ArgumentError, match="^bars: bar 9 is past the end"):
        infill(song, tracks=["piano"], bars=(9, 9), model=model)
    with pytest.raises(ArgumentError, match="^steps: "):
        infill(song, tracks=["piano"], bars=(1, 2), model=model, steps="many")
