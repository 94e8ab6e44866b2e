"""The crafted attack inputs of symbolic.fuzz are refused by load with a SymbolicError naming
the reason, and broken chord progressions (found by benchmarks/fuzz_midi.py) by compose."""

import pytest

import symbolic
from symbolic.errors import ArgumentError, InputTooLargeError, ParseError, SymbolicError
from symbolic.fuzz import crafted_inputs

EXPECTED = {  # name prefix -> (error type, message part); None: it loads
    "deltas 0x0FFFFFFF": (InputTooLargeError, "Limits.max_quarters"),
    "one 77-hour note (37 B)": (InputTooLargeError, "Limits.max_quarters"),
    "tempo 0": (ParseError, "tempo of 0 microseconds"),
    "pitch byte 0xBC (-68)": (ParseError, "pitch -68 outside 0-127"),
    "program 205": (ParseError, "program 205 outside 0-127"),
    "velocity byte 0xFF": (ParseError, "outside 0-127"),
    "2 hours at 120 qpm": (InputTooLargeError, "Limits.max_seconds"),
    "ticks past 2^31": (ParseError, "negative note time"),  # was "no notes" through the sandbox
    "59 minutes, 2 notes": None,
    ".mxl bomb": (InputTooLargeError, "unpacks to"),
}


def test_crafted_inputs_are_refused_with_the_reason():
    inputs = crafted_inputs(80 << 20)  # the benchmark's bomb is 1 GiB; the check is the same
    assert len(inputs) == 12 and len(inputs[1][1]) == 37
    seen = set()
    for name, data, suffix in inputs:
        key = next((k for k in EXPECTED if name.startswith(k)), None)
        if key is None:  # "no notes": refused, any SymbolicError
            with pytest.raises(SymbolicError):
                symbolic.load(data)
            continue
        seen.add(key)
        if EXPECTED[key] is None:
            assert symbolic.load(data).note_num() == 2
            continue
        kind, part = EXPECTED[key]
        with pytest.raises(kind, match=part.replace("(", r"\(").replace(")", r"\)")):
            symbolic.load(data)
    assert seen == set(EXPECTED)


@pytest.mark.parametrize("chords, part", [
    ("", "empty progression"), ("   ", "empty progression"), ("| |", "has none"),
    (None, "got NoneType"), (123, "got int"),
])
def test_compose_refuses_broken_progressions_naming_chords(chords, part):
    with pytest.raises(ArgumentError, match=f"chords: .*{part}"):
        symbolic.compose(chords, steps=1, device="cpu")
