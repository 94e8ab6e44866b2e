"""Model families: every one a ``torch.nn.Module`` that saves and loads as a folder of
``config.json`` plus ``model.safetensors`` (Hugging Face conventions, through :class:`HubModel`).

- :mod:`~symbolic.models.getdiff`: masked track diffusion over GETScore grids (infill, compose).
- :mod:`~symbolic.models.harmony2vec`: skip-gram embeddings of pitch-class slices.
- :mod:`~symbolic.models.hrnn`: CM-HRNN melodies over chord progressions (and two RNN baselines).
- :mod:`~symbolic.models.sampling`: the samplers every diffusion model shares.
- :mod:`~symbolic.models.layers`: the one attention function, rotary positions, transformer.

A family is one package with the same parts everywhere: ``settings.py`` (a dataclass, saved in
``config.json``), ``model.py`` (the module, :class:`HubModel`, and ``load(name_or_path=None,
device="auto")`` through :func:`load_pretrained`), ``train.py`` (``train(settings, ...)`` over
:func:`symbolic.training.fit`), then the user-facing functions; its corpus comes from
:mod:`symbolic.data` and its commands from :mod:`symbolic.cli` (``symbolic train NAME``).

Default weights ship inside the package under ``symbolic/pretrained/<name>/``
(:func:`pretrained_path`); ``from_pretrained`` also takes any other folder, or a Hub repository
id when the network is allowed (only safetensors weights are read, never a pickle).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from huggingface_hub import PyTorchModelHubMixin

from ..errors import DataNotFoundError, InputTooLargeError, ModelFolderError, SymbolicError

__all__ = ["HubModel", "pretrained_path", "load_pretrained", "check_model_folder",
           "PRETRAINED_ROOT"]

#: Folder of the shipped default weights.
PRETRAINED_ROOT = Path(__file__).resolve().parents[1] / "pretrained"


def pretrained_path(name: str) -> Path:
    """Folder of the shipped weights ``name`` (``symbolic/pretrained/<name>``); must exist."""
    path = PRETRAINED_ROOT / name
    if not (path / "model.safetensors").is_file():
        raise DataNotFoundError("no shipped weights of that name (model.safetensors missing)",
                                path)
    return path


_LOADED: dict = {}


def load_pretrained(cls, default: str, name_or_path=None, device="auto"):
    """The one way every family's ``load(name_or_path=None, device="auto")`` loads weights.

    ``name_or_path``: None (the family's shipped ``default``), the name of a folder under
    ``symbolic/pretrained/``, a folder holding ``config.json`` + ``model.safetensors``, or a Hub
    repository id (only when the network is allowed). ``device``: ``"auto"`` (CUDA when
    present), or any torch device. Shipped weights are loaded once per device and shared (the
    model comes back in eval mode; copy it before training it further).
    """
    from ..training import resolve_device

    dev = str(resolve_device(device))
    name = default if name_or_path is None else name_or_path
    shipped = (isinstance(name, str) and not any(c in name for c in "/\\")
               and not name.startswith(".") and (PRETRAINED_ROOT / name / "model.safetensors").is_file())
    if not shipped:
        return _load_elsewhere(cls, name, dev)
    key = (cls, name, dev)
    if key not in _LOADED:
        _LOADED[key] = cls.from_pretrained(str(pretrained_path(name)), map_location=dev)
    return _LOADED[key]


MAX_CONFIG_BYTES = 1 << 20
MAX_WEIGHTS_BYTES = 4 << 30


def check_model_folder(folder) -> Path:
    """``folder`` if it holds a ``config.json`` (a JSON object, at most 1 MB) and a
    ``model.safetensors`` whose header reads and whose size is at most 4 GB; else a
    :class:`~symbolic.errors.SymbolicError` naming the folder and what is wrong, before any
    tensor is allocated."""
    folder = Path(folder)
    config, weights = folder / "config.json", folder / "model.safetensors"
    for f in (config, weights):
        if not f.is_file():
            raise DataNotFoundError(f"{f.name} missing (a model folder holds config.json and "
                                    "model.safetensors)", folder)
    if config.stat().st_size > MAX_CONFIG_BYTES or weights.stat().st_size > MAX_WEIGHTS_BYTES:
        raise InputTooLargeError("config.json over 1 MB or model.safetensors over 4 GB", folder)
    try:
        if not isinstance(json.loads(config.read_text(encoding="utf-8")), dict):
            raise ValueError("not a JSON object")
        with open(weights, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if not 0 < n <= min(MAX_CONFIG_BYTES * 64, weights.stat().st_size - 8):
                raise ValueError("bad safetensors header length")
            json.loads(f.read(n))
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelFolderError(f"unreadable config.json or model.safetensors: {e}", folder) from e
    return folder


def _looks_local(text: str) -> bool:
    """A string meant as a path, never as a Hub id: anything but exactly ``owner/name``
    (``org/model-v1.5`` is an id; ``runs/x/last``, ``./x``, ``~/x``, ``x.safetensors`` are
    paths)."""
    return (text.startswith((".", "/", "~")) or text.count("/") != 1 or "\\" in text
            or os.path.exists(text))


def _load_elsewhere(cls, name, device: str):
    """A model from a folder (checked first) or, for an ``owner/name`` id, from the Hub;
    anything that fails comes back as a SymbolicError naming it."""
    text = os.fspath(name) if isinstance(name, os.PathLike) else str(name)
    folder = Path(text).expanduser()
    if folder.is_dir():
        check_model_folder(folder)
        try:
            return cls.from_pretrained(str(folder), map_location=device)
        except SymbolicError:
            raise
        except (RuntimeError, TypeError, ValueError, KeyError) as e:
            raise ModelFolderError(f"its weights do not fit the model its config.json "
                                   f"describes ({type(e).__name__}: {str(e)[:300]})", folder) from e
    if _looks_local(text) or isinstance(name, os.PathLike):
        raise DataNotFoundError("no such model folder (a path: the Hub is not asked)", text)
    try:
        return cls.from_pretrained(text, map_location=device)
    except SymbolicError:
        raise
    except Exception as e:  # noqa: BLE001 - hub, network and format errors alike
        raise DataNotFoundError(f"not a local folder, and no model came from the Hub under this "
                                f"id ({type(e).__name__}; HF_HUB_OFFLINE="
                                f"{os.environ.get('HF_HUB_OFFLINE', 'unset')})", text) from e


class HubModel(PyTorchModelHubMixin):
    """Mix into a ``torch.nn.Module`` whose ``__init__`` takes JSON-able keyword arguments:
    ``save_pretrained(folder)`` writes them to ``config.json`` and the ``state_dict`` to
    ``model.safetensors``; ``from_pretrained(folder_or_repo)`` rebuilds the module from both.

    Differences from the plain huggingface_hub mixin: loading is strict (every tensor must
    match), prints nothing, and refuses pickled ``pytorch_model.bin`` weights; saving writes
    ``card`` (or a short card naming the class) as ``README.md``, never the mixin's blank Hub
    card, and replaces a stale one.
    """

    def save_pretrained(self, save_directory, *, card: str | None = None, **kwargs):
        folder = Path(save_directory)
        folder.mkdir(parents=True, exist_ok=True)
        if card is None:
            cls = type(self)
            card = (f"# {folder.name}\n\n`{cls.__module__}.{cls.__qualname__}` of `symbolic`: "
                    "`config.json` holds its settings, `model.safetensors` its weights; load "
                    f"it with `{cls.__qualname__}.from_pretrained(folder)`.\n")
        (folder / "README.md").write_text(card)  # present, so the mixin writes none
        return super().save_pretrained(save_directory, **kwargs)

    @classmethod
    def _from_pretrained(cls, *, model_id: str, revision=None, cache_dir=None,
                         force_download: bool = False, local_files_only: bool = False,
                         token=None, map_location: str = "cpu", strict: bool = True,
                         **model_kwargs):
        from safetensors.torch import load_model

        for name in ("proxies", "resume_download"):  # passed by older huggingface_hub
            model_kwargs.pop(name, None)
        model = cls(**model_kwargs)
        if os.path.isdir(model_id):
            model_file = Path(model_id) / "model.safetensors"
            if not model_file.is_file():
                raise DataNotFoundError("model.safetensors missing", model_id)
        else:
            from huggingface_hub import hf_hub_download

            model_file = hf_hub_download(repo_id=model_id, filename="model.safetensors",
                                         revision=revision, cache_dir=cache_dir,
                                         force_download=force_download, token=token,
                                         local_files_only=local_files_only)
        load_model(model, str(model_file), strict=strict)
        model.to(map_location)
        model.eval()
        return model
