"""The PMSs this installation reads: one per adapter folder, the site's or a shipped one.

A PMS is named nowhere else. A source's `kind` is the name of a folder holding a
manifest.yaml, in the site's `adapters_dir` (which wins) or among the shipped adapters; its
manifest says which drivers run its SQL (`driver:`), what it can take (`capabilities:`) and
what messages call it (`title:`). `configuration_problems` holds a loaded configuration to
those folders: the configuration package cannot, as it imports nothing of the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from tc_sync.adapter.manifest import ManifestModel
from tc_sync.config import Settings
from tc_sync.config.yamlfile import YamlFileError, load_yaml
from tc_sync.drivers.registry import drivers_running, runs

MANIFEST = "manifest.yaml"
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Pms:
    """One adapter folder; its manifest is read when first asked for."""

    kind: str
    folder: Path

    @property
    def manifest(self) -> ManifestModel | None:
        """None when the manifest cannot be read (loading the adapter says why)."""
        return _manifest(self.folder / MANIFEST)

    @property
    def title(self) -> str:
        return self.manifest.title if self.manifest is not None else self.kind

    def can(self, capability: str) -> bool:
        return self.manifest is not None and capability in self.manifest.capabilities


def default_adapters_dir() -> Path:
    """Where the shipped adapter folders are: inside an installed wheel, or the source tree."""
    packaged = Path(__file__).parent.parent / "_data" / "adapters"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "adapters"


def _roots(adapters_dir: Path | None) -> list[Path]:
    """Where adapter folders are looked for, first match winning."""
    return [*([adapters_dir] if adapters_dir is not None else []), default_adapters_dir()]


def _plain(kind: str) -> bool:
    return bool(kind) and Path(kind).name == kind and kind not in (".", "..")


def adapter_folder(kind: str, adapters_dir: Path | None = None) -> Path:
    """The folder of PMS `kind`: the site's (in `adapters_dir`) when it has one, else the
    shipped one; where it would be when neither exists."""
    roots = _roots(adapters_dir)
    if _plain(kind):
        for root in roots:
            if (root / kind / MANIFEST).is_file():
                return root / kind
    return roots[0] / (kind if _plain(kind) else "_")


def known_pmss(adapters_dir: Path | None = None) -> dict[str, Pms]:
    """Every PMS an adapter folder offers, by kind, in name order."""
    found: dict[str, Pms] = {}
    for root in _roots(adapters_dir):
        try:
            folders = sorted(root.iterdir())
        except OSError:
            continue
        for folder in folders:
            manifest = folder / MANIFEST
            if folder.name not in found and manifest.is_file():
                found[folder.name] = Pms(folder.name, folder)
    return dict(sorted(found.items()))


def pms_title(kind: str, adapters_dir: Path | None = None) -> str:
    """What messages call PMS `kind`: its adapter's title (the kind, if it has none)."""
    pms = known_pmss(adapters_dir).get(kind)
    return pms.title if pms is not None else kind


def _manifest(path: Path) -> ManifestModel | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return _read_manifest(path, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=32)
def _read_manifest(path: Path, mtime_ns: int, size: int) -> ManifestModel | None:
    """The manifest, read again only when its file changes (the CLI and `status` ask)."""
    del mtime_ns, size
    try:
        return ManifestModel.model_validate(load_yaml(path).data)
    except (YamlFileError, ValidationError):
        return None


def configuration_problems(settings: Settings) -> list[tuple[Loc, str]]:
    """Where the configuration names a PMS no adapter folder offers, reads one with a driver
    that does not run its SQL, or sends tasks to one that cannot take them."""
    pmss = known_pmss(settings.adapters_dir)
    problems: list[tuple[Loc, str]] = []
    for source_id, source in settings.sources.items():
        pms = pmss.get(source.kind)
        if pms is None:
            problems.append((("sources", source_id, "kind"),
                             _unknown(source.kind, pmss, settings.adapters_dir)))
        elif pms.manifest is not None and not runs(source.connection.driver,
                                                   pms.manifest.driver):
            problems.append((("sources", source_id, "connection", "driver"),
                             f"{pms.title} is read with connection.driver "
                             f"{_or(drivers_running(pms.manifest.driver))}"))
    for name, target in settings.push.targets.items():
        fed = getattr(target, "source", None)   # a task target's source
        read = settings.sources.get(fed) if fed is not None else None
        pms = pmss.get(read.kind) if read is not None else None
        if pms is not None and pms.manifest is not None and not pms.can("tasks"):
            takers = [other.title for other in pmss.values() if other.can("tasks")]
            problems.append((("push", "targets", name, "source"),
                             f"source '{fed}' is {pms.title}, which is read-only: "
                             f"{f'only {_or(takers)} takes' if takers else 'no PMS takes'} "
                             "tasks (use email or webhook targets)"))
    return problems


def _unknown(kind: str, pmss: dict[str, Pms], adapters_dir: Path | None) -> str:
    where = " or ".join(str(root) for root in _roots(adapters_dir))
    offered = ", ".join(f"{pms.kind} ({pms.title})" for pms in pmss.values()) or "none"
    return (f"no adapter '{kind}': it must name a folder holding a {MANIFEST} in {where}; "
            f"the adapters are: {offered}")


def _or(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
