"""Model families: every one a ``torch.nn.Module`` that saves and loads as a folder of
``config.json`` plus ``model.safetensors`` (Hugging Face conventions, through :class:`HubModel`).

- :mod:`~symbolic.models.getdiff`: masked track diffusion over GETScore grids (infill, compose).
- :mod:`~symbolic.models.harmony2vec`: skip-gram embeddings of pitch-class slices.
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

import os
from pathlib import Path

from huggingface_hub import PyTorchModelHubMixin

from ..errors import DataNotFoundError

__all__ = ["HubModel", "pretrained_path", "load_pretrained", "PRETRAINED_ROOT"]

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
    shipped = isinstance(name, str) and (PRETRAINED_ROOT / name / "model.safetensors").is_file()
    if not shipped:
        return cls.from_pretrained(str(name), map_location=dev)
    key = (cls, name, dev)
    if key not in _LOADED:
        _LOADED[key] = cls.from_pretrained(str(pretrained_path(name)), map_location=dev)
    return _LOADED[key]


class HubModel(PyTorchModelHubMixin):
    """Mix into a ``torch.nn.Module`` whose ``__init__`` takes JSON-able keyword arguments:
    ``save_pretrained(folder)`` writes them to ``config.json`` and the ``state_dict`` to
    ``model.safetensors``; ``from_pretrained(folder_or_repo)`` rebuilds the module from both.

    Differences from the plain huggingface_hub mixin: loading is strict (every tensor must
    match), prints nothing, and refuses pickled ``pytorch_model.bin`` weights.
    """

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
