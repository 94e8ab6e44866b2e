"""The tokenizing pipeline on a MidiCaps-format fixture: one row per good input, quarantine for
the bad ones, ids equal to miditok's, crash and timeout recovery, SIGKILL and resume, Ray,
readers (PyTorch, Hugging Face datasets), tokenizer training."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import midicaps_fixture as M
from symbolic.data import bpe
from symbolic.data import shards as S
from symbolic.data.sources import content_hash
from symbolic.data.pipeline import RunMismatchError, tokenize
from symbolic.representations import tokens as T

REPO = Path(__file__).resolve().parents[1]
SHARD = 4


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    return M.build(tmp_path_factory.mktemp("midicaps"), n_pop909=6, n_music21=2)


@pytest.fixture(scope="module")
def ref(fx, tmp_path_factory):
    """The reference run: local backend, archive + captions."""
    import symbolic

    # The parent has a parser sandbox of its own: forked workers must not share it.
    assert symbolic.load(fx.folder / fx.good[0]).note_num() > 0
    out = tmp_path_factory.mktemp("ref")
    summary = tokenize(fx.archive, out, captions=fx.captions, workers=2, shard_size=SHARD,
                       progress=False)
    return out, summary


def _table(out):
    return S.read_table(out)


def _miditok_ids(tok, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(tok.encode(Path(path)).ids)


def test_one_row_per_good_input_and_quarantine_for_the_bad(fx, ref):
    out, summary = ref
    table = _table(out)
    locations = table.column("location").to_pylist()
    assert sorted(locations) == sorted(fx.good) and len(set(locations)) == len(locations)
    quarantine = S.read_quarantine(out)
    assert {q["location"]: q["error"] for q in quarantine} == fx.bad
    assert all(q["reason"] for q in quarantine)
    lines = [json.loads(line) for line in (out / "quarantine.jsonl").read_text().splitlines()]
    assert lines == quarantine
    # nothing lost, nothing counted twice
    indices = table.column("index").to_pylist() + [q["index"] for q in quarantine]
    assert sorted(indices) == list(range(len(fx.order)))
    assert summary.inputs == len(fx.order) and summary.rows == len(fx.good)
    assert summary.rejected == len(fx.bad)
    assert summary.tokens == sum(table.column("n_tokens").to_pylist())
    # shard k holds inputs [k * SHARD, (k + 1) * SHARD), in order
    for k, record in S.read_manifest(out)["shards"].items():
        if record["file"]:
            idx = pq.read_table(out / record["file"], columns=["index"]).column("index").to_pylist()
            assert idx == sorted(idx) and all(i // SHARD == int(k) for i in idx)
    assert not list((out / "data").glob(".*"))  # no temporary files left


def test_ids_equal_miditok_and_columns_are_joined(fx, ref):
    out, _ = ref
    table = _table(out)
    tok = T.load(out)
    assert tok == T.load("remi")
    assert table.schema.field("ids").type.value_type == "uint16"
    captions = [json.loads(line) for line in fx.captions.read_text().splitlines()]
    rows = {c["location"]: c for c in captions}
    for row in table.to_pylist():
        path = fx.folder / row["location"]
        assert np.array_equal(row["ids"], _miditok_ids(tok, path)), row["location"]
        assert row["n_tokens"] == len(row["ids"])
        assert row["hash"] == content_hash(path.read_bytes())
        assert row["bar_starts"][0] == 0 and row["bar_starts"] == sorted(row["bar_starts"])
        for field, value in rows[row["location"]].items():
            assert row[field] == value, field
        assert row["extra"] is None


def test_rerun_resumes_and_does_nothing(fx, ref):
    out, _ = ref
    before = {p: p.stat().st_mtime_ns for p in (out / "data").iterdir()}
    again = tokenize(fx.archive, out, captions=fx.captions, workers=2, shard_size=SHARD,
                     progress=False)
    assert again.resumed == again.inputs == len(fx.order)
    assert {p: p.stat().st_mtime_ns for p in (out / "data").iterdir()} == before
    with pytest.raises(RunMismatchError, match="tokenizer"):
        tokenize(fx.archive, out, captions=fx.captions, tokenizer="tsd", shard_size=SHARD,
                 progress=False)
    with pytest.raises(RunMismatchError, match="shard_size"):
        tokenize(fx.archive, out, captions=fx.captions, shard_size=SHARD + 1, progress=False)


def _identity(score):
    return score


@pytest.mark.parametrize("change, match", [
    ({"source": "folder"}, "source.kind"),            # the same files, another source
    ({"limit": 3}, "source.limit"),                   # the same archive, fewer inputs
    ({"captions": None}, "source.captions"),          # the archive without its captions
    ({"max_notes": 1000}, "max_notes"),
    ({"max_bytes": 1 << 20}, "max_bytes"),
    ({"transform": _identity}, "transform"),
])
def test_resume_refuses_any_other_source_or_setting(fx, ref, change, match):
    """An OUT folder is resumed only by the run that made it: anything else would mix rows."""
    out, _ = ref
    args = {"source": fx.archive, "captions": fx.captions, "shard_size": SHARD, **change}
    if args["source"] == "folder":
        args["source"] = fx.folder
    before = S.read_manifest(out)
    with pytest.raises(RunMismatchError, match=match):
        tokenize(args.pop("source"), out, progress=False, **args)
    assert S.read_manifest(out) == before


def test_folder_source_gives_the_same_rows(fx, ref, tmp_path):
    out, _ = ref
    tokenize(fx.folder, tmp_path, captions=fx.captions, workers=1, shard_size=SHARD, progress=False)
    a = {r["location"]: r for r in _table(out).drop(["index"]).to_pylist()}
    b = {r["location"]: r for r in _table(tmp_path).drop(["index"]).to_pylist()}
    assert a == b
    assert {q["location"] for q in S.read_quarantine(tmp_path)} == set(fx.bad)


def test_crashing_and_hanging_inputs_are_quarantined(fx, tmp_path):
    small = M.build(tmp_path / "fx", n_pop909=2, n_music21=1, crash=True, hang=True)
    summary = tokenize(small.archive, tmp_path / "out", captions=small.captions, workers=2,
                       shard_size=3, timeout=4, transform=M.crash_or_hang, progress=False)
    errors = {q["location"]: q["error"] for q in S.read_quarantine(tmp_path / "out")}
    assert errors == small.bad
    crash = next(q for q in S.read_quarantine(tmp_path / "out") if q["error"] == "WorkerCrashError")
    assert "SIGKILL" in crash["reason"] and "2 times" in crash["reason"]
    assert sorted(_table(tmp_path / "out").column("location").to_pylist()) == sorted(small.good)
    assert summary.workers_replaced >= 3  # two crashes, one timeout
    # Resuming tries the crashed input again (a worker may have been killed from outside),
    # not the one over the time limit; it crashes again and stays quarantined, once.
    before, table = S.read_quarantine(tmp_path / "out"), _table(tmp_path / "out")
    again = tokenize(small.archive, tmp_path / "out", captions=small.captions, workers=2,
                     shard_size=3, timeout=4, transform=M.crash_or_hang, progress=False)
    assert again.retried == 1 and again.resumed == again.inputs - 1
    assert S.read_quarantine(tmp_path / "out") == before
    assert _table(tmp_path / "out").equals(table)


def test_sigkill_then_rerun_gives_the_same_shards(tmp_path):
    big = M.build(tmp_path / "fx", n_pop909=6, n_music21=2, copies=3)
    ref_out, out = tmp_path / "ref", tmp_path / "killed"
    # TSD goes through miditok's own encoder: slow enough to be caught part-way.
    tokenize(big.archive, ref_out, captions=big.captions, workers=2, shard_size=2, tokenizer="tsd",
             progress=False)
    cmd = [sys.executable, "-m", "symbolic", "tokenize", str(big.archive), str(out),
           "--captions", str(big.captions), "--shard-size", "2", "--workers", "2", "--no-progress",
           "--tokenizer", "tsd"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    manifest = out / "manifest.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if json.loads(manifest.read_text())["shards"]:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its workers, mid-way
    proc.wait()
    partial = S.read_manifest(out)
    total_shards = -(-len(big.order) // 2)
    assert 0 < len(partial["shards"]) < total_shards and not partial["complete"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(big.order)} inputs" in done.stdout
    assert _table(out).equals(_table(ref_out))
    assert S.read_quarantine(out) == S.read_quarantine(ref_out)
    assert not list((out / "data").glob(".*"))


def test_ray_backend_matches_local(fx, ref, tmp_path):
    out, _ = ref
    summary = tokenize(fx.archive, tmp_path, captions=fx.captions, workers=2, shard_size=SHARD,
                       backend="ray", progress=False)
    assert summary.backend == "ray" and summary.rows == len(fx.good)
    assert _table(tmp_path).equals(_table(out))
    assert S.read_quarantine(tmp_path) == S.read_quarantine(out)


def test_shards_load_with_hugging_face_datasets(ref, tmp_path):
    import datasets

    out, _ = ref
    ds = datasets.load_dataset("parquet", data_files=S.hf_data_files(out), split="train",
                               cache_dir=str(tmp_path))
    table = _table(out)
    assert ds.num_rows == table.num_rows
    assert str(ds.features["ids"].feature.dtype) == "uint16"
    assert ds[0]["ids"] == table.column("ids")[0].as_py()
    assert ds[0]["caption"] == table.column("caption")[0].as_py()


def test_torch_dataset_bucketing_and_padding(fx, ref):
    import torch

    out, _ = ref
    table = _table(out)
    ds = S.TokenDataset(out, columns=["caption"])
    assert len(ds) == table.num_rows
    for i in (0, len(ds) - 1, -1):
        item = ds[i]
        row = table.slice(i % len(ds), 1).to_pylist()[0]
        assert item["input_ids"].tolist() == row["ids"] and item["caption"] == row["caption"]
    assert len(S.TokenDataset(out, split="test")) == len(fx.test_set & set(fx.good))
    sampler = S.LengthBucketSampler(ds.lengths, batch_size=3, seed=1)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(len(ds)))
    pad = T.load(out).pad_token_id
    loader = torch.utils.data.DataLoader(ds, batch_sampler=sampler, collate_fn=S.PadCollator(pad))
    seen = 0
    for batch in loader:
        B, L = batch["input_ids"].shape
        assert batch["attention_mask"].sum(1).tolist() == batch["lengths"].tolist()
        assert L == max(batch["lengths"].tolist())
        assert (batch["input_ids"][batch["attention_mask"] == 0] == pad).all()
        assert (batch["labels"][batch["attention_mask"] == 0] == -100).all()
        seen += B
    assert seen == len(ds)
    budget = S.LengthBucketSampler(ds.lengths, max_tokens=40_000, shuffle=False)
    for b in budget:
        assert len(b) == 1 or len(b) * max(ds.lengths[b]) <= 40_000
    cropped = S.TokenDataset(out, max_length=64, crop="bar", seed=0)
    assert max(len(cropped[i]["input_ids"]) for i in range(len(cropped))) == 64


def test_bpe_from_shards_then_tokenize_with_it(fx, ref, tmp_path):
    out, _ = ref
    tok = bpe.train(out, 700, max_tokens=20_000, split=None, save_as="remi-bpe-test",
                    directory=tmp_path)
    assert tok.is_trained and len(tok) == 700
    assert T.load(tmp_path / "remi-bpe-test.json") == tok
    # the memory cap: a sample of rows whose tokens stay within the budget
    rows = bpe.sample_rows(out, max_tokens=20_000, split=None)
    sampled = [pq.read_table(f, columns=["n_tokens"]).column("n_tokens").to_numpy()[r]
               for f, r in rows.items()]
    n_rows = sum(len(x) for x in sampled)
    assert 0 < n_rows < _table(out).num_rows
    assert sum(int(x.sum()) for x in sampled) <= 20_000 or n_rows == 1
    summary = tokenize(fx.archive, tmp_path / "bpe", captions=fx.captions, workers=2,
                       shard_size=SHARD, tokenizer=tmp_path / "remi-bpe-test.json",
                       progress=False)
    table = _table(tmp_path / "bpe")
    base = S.TokenDataset(out)
    by_location = dict(zip(_table(out).column("location").to_pylist(), range(len(base))))
    on_the_fly = S.TokenDataset(out, tokenizer=tok)
    for row in table.to_pylist():
        ref_ids = _miditok_ids(tok, fx.folder / row["location"])
        assert np.array_equal(row["ids"], ref_ids)
        assert on_the_fly[by_location[row["location"]]]["input_ids"].tolist() == row["ids"]
    locations = table.column("location").to_pylist()
    assert summary.tokens < sum(len(base.ids(by_location[loc])) for loc in locations)


def test_multi_vocabulary_tokenizer_rows(fx, tmp_path):
    tokenize(fx.folder, tmp_path, captions=fx.captions, workers=1, shard_size=SHARD,
             tokenizer="octuple", progress=False, limit=4)
    table = _table(tmp_path)
    step = table.schema.field("ids").type.value_type
    assert pa.types.is_fixed_size_list(step) and step.list_size == 8
    assert step.value_type == pa.uint16()
    assert table.num_rows == 4
    tok = T.load("octuple")
    for row in table.to_pylist():
        ref_ids = _miditok_ids(tok, fx.folder / row["location"])
        assert np.array_equal(np.asarray(row["ids"]), ref_ids)
    batch = S.PadCollator(0)([S.TokenDataset(tmp_path)[i] for i in range(min(2, table.num_rows))])
    assert batch["input_ids"].ndim == 3 and batch["input_ids"].shape[2] == 8


def test_frame_midi_makes_chunks_whole():
    from symbolic.io import frame_midi
    from symbolic.errors import MidiParseError
    from symbolic.fuzz import seed_midi

    data = seed_midi()
    assert frame_midi(data) == (data, [])  # a complete file is left as it is
    stray, notes = frame_midi(data + b"xyz")
    assert stray == data and "3 stray bytes" in notes[0]
    padded, notes = frame_midi(data[:200])
    assert padded[:200] == data[:200] and len(padded) > 200 and "completed with" in notes[0]
    more = data[:10] + (int.from_bytes(data[10:12], "big") + 1).to_bytes(2, "big") + data[12:]
    fixed, notes = frame_midi(more)
    assert fixed == more + b"MTrk\0\0\0\0" and "declares 4 tracks, 3 are there" in notes[0]
    with pytest.raises(MidiParseError, match="header takes 14 bytes"):
        frame_midi(data[:10])
    with pytest.raises(MidiParseError, match="inside a chunk header"):
        frame_midi(data[:17])
    huge = data[:18] + (0x7FFFFFFF).to_bytes(4, "big") + data[22:]
    with pytest.raises(MidiParseError, match="declares"):
        frame_midi(huge)


def test_broken_inputs_give_the_same_result_every_run(tmp_path):
    """symusic reads past the end of truncated files: without frame_midi the same file parses
    on one run and fails on the next. Two runs over the broken corpus must agree exactly."""
    from symbolic.fuzz import broken_midi_corpus

    paths = []
    for i, (_, data) in enumerate(broken_midi_corpus(n_random=40)):
        p = tmp_path / "in" / f"{i:04d}.mid"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data)
        paths.append(p)
    runs = []
    for k in range(2):
        summary = tokenize(paths, tmp_path / f"run{k}", workers=2, shard_size=64, progress=False)
        assert summary.inputs == len(paths) and summary.rows + summary.rejected == len(paths)
        runs.append((_table(tmp_path / f"run{k}"), S.read_quarantine(tmp_path / f"run{k}")))
    assert runs[0][0].equals(runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert runs[0][0].num_rows > 0 and len(runs[0][1]) > 0


@pytest.mark.parametrize("model", ["Unigram", "WordPiece"])
def test_other_models_train_from_shards(fx, ref, model):
    out, _ = ref
    tok = bpe.train(out, 650, model=model, max_tokens=30_000, split=None)
    assert tok.is_trained and tok._model_name == model
    ds = S.TokenDataset(out, tokenizer=tok)
    for i, loc in enumerate(_table(out).column("location").to_pylist()[:3]):
        assert np.array_equal(ds[i]["input_ids"].numpy(), _miditok_ids(tok, fx.folder / loc))
