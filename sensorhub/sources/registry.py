"""The registry of source kinds (see :mod:`sensorhub.sources`)."""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from .base import FileSource

#: kind name -> plugin class (file kinds are tried in registration order)
REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make a source kind known by its ``name``."""
    if not getattr(cls, "name", ""):
        raise TypeError(f"{cls.__name__} needs a name")
    REGISTRY[cls.name] = cls
    return cls


def file_kinds(cfg: Config, **instances: FileSource) -> list[FileSource]:
    """One instance of every registered file kind, built from the configuration;
    ``instances`` replaces a kind's default instance by one configured on the command line
    (e.g. ``imu=ImuSource(placement="shank")``)."""
    out = []
    for name, cls in REGISTRY.items():
        if issubclass(cls, FileSource):
            out.append(instances.get(name) or cls.from_config(cfg))
    return out


def kind_for(path: Path, kinds: list[FileSource]) -> FileSource | None:
    """The first kind that claims ``path``."""
    return next((k for k in kinds if k.claims(path)), None)
