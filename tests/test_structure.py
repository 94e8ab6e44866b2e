"""The package keeps its shape: no import cycles, no module reaching into another's underscore
names, no function over 80 lines (see ``tests/check_structure.py``), and the checker itself
finds each of those when they are there."""

import textwrap

import pytest

from check_structure import cycles, problems, scan


def test_the_package_has_no_cycles_private_reaches_or_long_functions():
    found = problems()
    assert found == {k: [] for k in found}, found


@pytest.fixture
def fake_package(tmp_path):
    root = tmp_path / "pkg"
    root.mkdir()

    def write(name, text):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))

    write("__init__.py", "")
    return root, write


def test_the_checker_sees_a_cycle_through_a_deferred_import(fake_package):
    root, write = fake_package
    write("a.py", "from .b import thing\n")
    write("b.py", "def thing():\n    from .a import other\n")
    graph, _, _ = scan(root)
    assert cycles(graph) == [["pkg.a", "pkg.b"]]


def test_the_checker_sees_private_names_and_long_functions(fake_package):
    root, write = fake_package
    write("a.py", "def _hidden():\n    pass\n")
    write("b.py", "from .a import _hidden\nfrom . import a\nx = a._hidden\n")
    write("c.py", "def long():\n" + "    x = 1\n" * 80)
    found = problems(root)
    assert len(found["private names used across modules"]) == 2
    assert [x.split(" ")[1] for x in found["functions over 80 lines"]] == ["long:"]
    assert found["import cycles"] == []


def test_the_readme_layout_names_every_module():
    """README's Layout section names every module and subpackage of ``symbolic`` (a module
    added or renamed without the README saying so fails here)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    layout = readme[readme.index("## Layout"):readme.index("### Adding a model family")]
    words = set(re.findall(r"[A-Za-z_0-9]+", layout))
    package = root / "symbolic"
    missing = []
    for path in package.rglob("*.py"):
        rel = path.relative_to(package)
        if "pretrained" in rel.parts or path.stem in ("__init__", "__main__"):
            continue
        missing += [p for p in (*rel.parts[:-1], path.stem) if p not in words]
    assert not missing, f"README's Layout does not name: {sorted(set(missing))}"
