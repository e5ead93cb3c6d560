"""Transactions on the layer store: stage a set of layers, switch it in one step, keep history.

The live layer files stay where every reader expects them (``<store>/<id>.geojson`` and
``<store>/<id>.meta.json``, see :mod:`gisapp.store.layerstore`); the store's own records live in
``<store>/.store/``::

    .store/manifest.json        the current version: number, time, command, changed layer ids,
                                and per layer the SHA-256 of both files and, for layers built
                                from another layer (structures from zs-towns), that layer's
                                SHA-256 ("depends_on")
    .store/journal.json         present only while a switch is in progress (the commit record)
    .store/staging-<random>/    the layers a running command writes (never read by anyone else)
    .store/versions/<n>/        what version n held before version n+1 replaced it: its
                                manifest.json and the old files of every layer n+1 changed

A transaction (:meth:`VersionedStore.transaction`):

1. takes the *writer lock* (``flock`` on the store directory; one writer at a time), rolls
   forward an interrupted switch and removes stale staging directories and temp files;
2. lets the command write complete layers into its staging directory (a kill here leaves
   the store untouched; the staging directory is removed by the next command);
3. on :meth:`Transaction.commit`: computes the new manifest, takes the *switch lock*
   (``flock`` on ``.store``, shared by readers), hard-links the files about to be replaced
   into ``versions/<old>/``, writes ``journal.json`` (the commit point), renames the staged
   files and finally the manifest into place, and deletes the journal.

A kill before the journal exists leaves the old version; a kill after it is rolled forward by
the next reader or writer (:func:`read_lock`, :meth:`VersionedStore.recover`), so the store
is always exactly one version. Readers hold the shared switch lock while they read a layer,
so they never see a half-switched store.

The directory is always a parameter (no module globals), so that an app-owned store object
can wrap :class:`VersionedStore` later.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gisapp.core.errors import InputError

STORE_DIR = ".store"
MANIFEST = "manifest.json"
JOURNAL = "journal.json"
VERSIONS = "versions"
STAGING_PREFIX = "staging-"
#: How many previous versions are kept for ``gisapp store rollback``.
KEEP_VERSIONS = 10
#: Test hook: ``GISAPP_TEST_KILL_AT=<step>`` makes :func:`checkpoint` SIGKILL the process at that step.
KILL_ENV = "GISAPP_TEST_KILL_AT"
LAYER_SUFFIXES = (".geojson", ".meta.json")
MANIFEST_FORMAT = 1


def checkpoint(step: str) -> None:
    """Kill this process with SIGKILL when ``$GISAPP_TEST_KILL_AT`` equals ``step`` (kill tests only).

    Steps used: ``validated``, ``staging``, ``staged``, ``saved``, ``journal``, ``switch-<n>``
    (after the n-th rename), ``switched``.
    """
    if os.environ.get(KILL_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def layer_file_names(layer_id: str) -> list[str]:
    """Return the two file names of a layer: ``<id>.geojson`` and ``<id>.meta.json``."""
    return [layer_id + s for s in LAYER_SUFFIXES]


def layer_ids_in(directory: Path) -> list[str]:
    """Return the ids of every layer with a file in ``directory`` (temp files ``.*`` ignored), sorted.

    Large layers (a ``<id>.meta.json`` with a ``backend`` and no GeoJSON; their features live in a
    spatial backend, replaced atomically on import) are not versioned and not listed.
    """
    ids = set()
    for p in directory.iterdir():
        if p.name.startswith(".") or not p.is_file():
            continue
        for suffix in LAYER_SUFFIXES:
            if p.name.endswith(suffix):
                ids.add(p.name.removesuffix(suffix))
    return sorted(i for i in ids if not _large_layer(directory, i))


def _large_layer(directory: Path, layer_id: str) -> bool:
    if (directory / (layer_id + ".geojson")).exists():
        return False
    try:
        return bool(json.loads((directory / (layer_id + ".meta.json")).read_text("utf-8")).get("backend"))
    except (OSError, ValueError, AttributeError):
        return False


def temp_files_in(directory: Path) -> list[Path]:
    """Return the temp files an interrupted atomic write leaves in ``directory`` (``.<id>.*.geojson`` / ``.json``)."""
    return sorted(p for p in directory.glob(".*") if p.is_file() and p.suffix in (".geojson", ".json"))


@dataclass
class Manifest:
    """One version of the store (``.store/manifest.json``).

    Attributes:
        version: 1, 2, … (a rollback returns to an earlier number).
        time: UTC time of the commit, ISO 8601.
        command: the command that made it (``build``, ``towns replace FILE`` …).
        changed: ids of the layers this version added, replaced or removed.
        layers: id → ``{"geojson": sha256, "meta": sha256, "depends_on": {layer id: sha256 of
            its .geojson that this layer was built from}}``.
        format: manifest format number.
    """

    version: int
    time: str
    command: str
    changed: list[str] = field(default_factory=list)
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    format: int = MANIFEST_FORMAT

    def to_bytes(self) -> bytes:
        """Serialise as pretty, sorted UTF-8 JSON."""
        return (json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read a manifest file.

        Raises:
            InputError: code ``bad_manifest`` when it is not a readable manifest.
        """
        try:
            data = json.loads(path.read_text("utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise InputError(f"the store manifest {path.name} is unreadable: {exc}", code="bad_manifest") from exc


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a uniquely named temporary file in the same folder, fsync and
    :func:`os.replace`: readers see the old file or the new one, and two writers never share a temporary file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def _flock(path: Path, mode: int) -> Iterator[int]:
    """Hold ``flock(mode)`` on the directory (or file) ``path`` for the ``with`` block."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, mode)
        yield fd
    finally:
        os.close(fd)


_held = threading.local()


@contextmanager
def read_lock(directory: Path) -> Iterator[None]:
    """Hold the shared switch lock of a versioned store while reading it (re-entrant per thread).

    A switch interrupted by a kill (``journal.json`` present and nobody switching) is rolled
    forward first, so the reader sees exactly one version. An unversioned directory (no
    ``.store``) is read without a lock.
    """
    meta_dir = directory / STORE_DIR
    held: set[str] = _held.__dict__.setdefault("dirs", set())
    key = str(meta_dir)
    if key in held or not meta_dir.is_dir():
        yield
        return
    with _flock(meta_dir, fcntl.LOCK_SH) as fd:
        if (meta_dir / JOURNAL).exists():
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                _roll_forward(directory)
            except (OSError, ValueError, KeyError):
                pass  # a read-only reader cannot repair; it reads what is there
            fcntl.flock(fd, fcntl.LOCK_SH)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)


def _roll_forward(directory: Path) -> bool:
    """Finish an interrupted switch (caller holds the exclusive switch lock). Return True if one was found."""
    journal_path = directory / STORE_DIR / JOURNAL
    if not journal_path.exists():
        return False
    journal = json.loads(journal_path.read_text("utf-8"))
    for i, (src, dst) in enumerate(journal["moves"], start=1):
        s = directory / src
        if s.exists():
            os.replace(s, directory / dst)
        checkpoint(f"switch-{i}")
    for name in journal.get("deletes", []):
        (directory / name).unlink(missing_ok=True)
    _fsync_dir(directory)
    journal_path.unlink()
    _fsync_dir(directory / STORE_DIR)
    return True


class VersionedStore:
    """A layer store directory with versions (see the module docstring).

    Args:
        directory: the store (``paths.layers_dir()`` for the app); need not exist yet.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.meta_dir = self.directory / STORE_DIR
        self.versions_dir = self.meta_dir / VERSIONS

    # -- reading ---------------------------------------------------------------------------
    def manifest(self) -> Manifest | None:
        """The current version's manifest, or None for an unversioned store."""
        path = self.meta_dir / MANIFEST
        return Manifest.load(path) if path.exists() else None

    def saved_versions(self) -> list[int]:
        """The numbers of the previous versions kept for rollback, oldest first."""
        if not self.versions_dir.is_dir():
            return []
        return sorted(int(p.name) for p in self.versions_dir.iterdir() if p.name.isdigit())

    def history(self) -> list[Manifest]:
        """Every known version, newest (current) first."""
        out = []
        current = self.manifest()
        if current is not None:
            out.append(current)
        for n in reversed(self.saved_versions()):
            out.append(Manifest.load(self.versions_dir / f"{n:06d}" / MANIFEST))
        return out

    def layer_entry(self, layer_id: str) -> dict[str, Any]:
        """The checksums of one layer's files as they are on disk now (``{"geojson", "meta"}``)."""
        g, m = (self.directory / n for n in layer_file_names(layer_id))
        return {"geojson": sha256_file(g), "meta": sha256_file(m)}

    def leftovers(self) -> list[Path]:
        """Stale temp files and staging directories (left by killed commands)."""
        out = temp_files_in(self.directory) if self.directory.is_dir() else []
        if self.meta_dir.is_dir():
            out += sorted(p for p in self.meta_dir.iterdir() if p.name.startswith(STAGING_PREFIX))
            out += temp_files_in(self.meta_dir)
            if self.versions_dir.is_dir():
                out += sorted(p for p in self.versions_dir.iterdir() if p.name.startswith("."))
        return out

    def verify(self) -> list[str]:
        """Check that the files on disk are exactly the current version.

        Returns:
            one sentence per problem (empty when consistent): no manifest, an interrupted
            switch, a file missing or differing from its checksum, a layer not in the manifest,
            a layer built from another version of the layer it depends on.
        """
        manifest = self.manifest()
        if manifest is None:
            return ["the store has no manifest (.store/manifest.json): run `gisapp store init`"]
        problems = []
        if (self.meta_dir / JOURNAL).exists():
            problems.append("a switch was interrupted (.store/journal.json present)")
        on_disk = set(layer_ids_in(self.directory))
        for layer_id in sorted(on_disk - set(manifest.layers)):
            problems.append(f"layer '{layer_id}' is on disk but not part of version {manifest.version}")
        for layer_id, entry in sorted(manifest.layers.items()):
            for kind, name in zip(("geojson", "meta"), layer_file_names(layer_id)):
                path = self.directory / name
                if not path.exists():
                    problems.append(f"{name} of version {manifest.version} is missing")
                elif sha256_file(path) != entry[kind]:
                    problems.append(f"{name} differs from version {manifest.version} (checksum mismatch)")
            for dep, sha in sorted(entry.get("depends_on", {}).items()):
                have = manifest.layers.get(dep, {}).get("geojson")
                if have != sha:
                    problems.append(
                        f"layer '{layer_id}' was built from another '{dep}' "
                        f"({sha[:12]}) than the stored one ({(have or 'none')[:12]})"
                    )
        return problems

    # -- maintenance (writer) --------------------------------------------------------------
    @contextmanager
    def writer(self, wait: bool = True) -> Iterator[bool]:
        """Hold the writer lock; yield True, or False when ``wait`` is False and another writer runs."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def _recover_locked(self) -> list[str]:
        """Roll forward / clean up (caller holds the writer lock). Return what was done."""
        done = []
        if self.meta_dir.is_dir():
            with _flock(self.meta_dir, fcntl.LOCK_EX):
                if _roll_forward(self.directory):
                    done.append("finished an interrupted switch")
        for p in self.leftovers():
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            done.append(f"removed {p.name}")
        self._prune()
        return done

    def recover(self, wait: bool = False) -> list[str]:
        """Finish an interrupted switch and remove stale temp files and staging directories.

        Args:
            wait: wait for a running writer; by default skip (return ``[]``) while one runs.

        Returns:
            one line per repair made.
        """
        if not self.directory.is_dir():
            return []
        with self.writer(wait=wait) as got:
            return self._recover_locked() if got else []

    def _prune(self) -> None:
        manifest = self.manifest()
        current = manifest.version if manifest else 0
        saved = self.saved_versions()
        for n in saved:
            if n >= current:  # left by a commit killed before its journal, or a finished rollback
                shutil.rmtree(self.versions_dir / f"{n:06d}", ignore_errors=True)
        kept = [n for n in saved if n < current]
        for n in kept[: max(0, len(kept) - KEEP_VERSIONS)]:
            shutil.rmtree(self.versions_dir / f"{n:06d}", ignore_errors=True)
        if self.versions_dir.is_dir() and not any(self.versions_dir.iterdir()):
            self.versions_dir.rmdir()

    def init(self, command: str = "store init") -> Manifest:
        """Record the layers on disk as version 1 of an unversioned store.

        Raises:
            InputError: code ``already_versioned`` when the store has a manifest.
        """
        with self.writer():
            if self.manifest() is not None:
                raise InputError("the store is already versioned", code="already_versioned")
            self.meta_dir.mkdir(exist_ok=True)
            self._recover_locked()
            ids = layer_ids_in(self.directory)
            layers = {i: self.layer_entry(i) | {"depends_on": {}} for i in ids}
            m = Manifest(1, _now(), command, ids, layers)
            atomic_write_bytes(self.meta_dir / MANIFEST, m.to_bytes())
            return m

    # -- writing ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self, command: str) -> Iterator[Transaction]:
        """Open a transaction: writer lock held, store recovered, a fresh staging directory.

        Use ``txn.stage_dir`` as the target directory of :func:`gisapp.store.layerstore.write_layer`
        and call ``txn.commit()``; leaving the block without committing discards the staging.
        An unversioned store that already holds layers is first recorded as version 1.
        """
        with self.writer():
            self.meta_dir.mkdir(parents=True, exist_ok=True)
            self._recover_locked()
            if self.manifest() is None and layer_ids_in(self.directory):
                ids = layer_ids_in(self.directory)
                m = Manifest(
                    1, _now(), "store init (implicit)", ids, {i: self.layer_entry(i) | {"depends_on": {}} for i in ids}
                )
                atomic_write_bytes(self.meta_dir / MANIFEST, m.to_bytes())
            stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.meta_dir))
            txn = Transaction(self, command, stage)
            try:
                yield txn
            finally:
                shutil.rmtree(stage, ignore_errors=True)

    def _switch(self, new: Manifest, stage: Path, moves: list[str], deletes: list[str], save: bool) -> None:
        """Save the previous version (if ``save``), write the journal, rename, drop the journal."""
        old = self.manifest()
        atomic_write_bytes(stage / MANIFEST, new.to_bytes())
        with _flock(self.meta_dir, fcntl.LOCK_EX):
            if save and old is not None:
                tmp = self.versions_dir / f".tmp-{old.version:06d}"
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir(parents=True)
                for layer_id in new.changed:
                    if layer_id not in old.layers:
                        continue
                    for name in layer_file_names(layer_id):
                        src = self.directory / name
                        if src.exists():
                            try:
                                os.link(src, tmp / name)
                            except OSError:
                                shutil.copy2(src, tmp / name)
                shutil.copy2(self.meta_dir / MANIFEST, tmp / MANIFEST)
                final = self.versions_dir / f"{old.version:06d}"
                shutil.rmtree(final, ignore_errors=True)
                os.replace(tmp, final)
                checkpoint("saved")
            self._journal_and_roll_forward(stage, moves, deletes, {"version": new.version})
        self._prune()

    def rollback(self, command: str = "store rollback") -> Manifest:
        """Restore the previous version (the current one is discarded).

        Returns:
            the manifest now current (byte-identical to the one that version had).

        Raises:
            InputError: code ``nothing_to_roll_back`` when no previous version is kept.
        """
        with self.writer():
            if self.meta_dir.is_dir():
                self._recover_locked()
            current = self.manifest()
            saved = [n for n in self.saved_versions() if current and n < current.version]
            if current is None or not saved:
                raise InputError(
                    "nothing to roll back: no previous version of the store is kept", code="nothing_to_roll_back"
                )
            src = self.versions_dir / f"{saved[-1]:06d}"
            target = Manifest.load(src / MANIFEST)
            stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.meta_dir))
            try:
                moves = []
                for p in sorted(src.iterdir()):
                    if p.name == MANIFEST:
                        continue
                    try:
                        os.link(p, stage / p.name)
                    except OSError:
                        shutil.copy2(p, stage / p.name)
                    moves.append(p.name)
                deletes = [n for i in sorted(set(current.layers) - set(target.layers)) for n in layer_file_names(i)]
                checkpoint("staged")
                shutil.copy2(src / MANIFEST, stage / MANIFEST)
                # the target manifest is written as is (byte-identical), so _switch gets it unchanged
                self._switch_raw(stage, moves, deletes)
            finally:
                shutil.rmtree(stage, ignore_errors=True)
            self._prune()
            return target

    def _switch_raw(self, stage: Path, moves: list[str], deletes: list[str]) -> None:
        """Switch to the manifest already in ``stage`` without saving the current version (rollback)."""
        with _flock(self.meta_dir, fcntl.LOCK_EX):
            self._journal_and_roll_forward(stage, moves, deletes, {})

    def _journal_and_roll_forward(
        self, stage: Path, moves: list[str], deletes: list[str], extra: dict[str, Any]
    ) -> None:
        """Write the journal (the commit point: the staged files and manifest to move in, the files to
        delete), then carry it out. Called with the store's exclusive lock held."""
        rel_stage = stage.relative_to(self.directory)
        journal = {
            **extra,
            "moves": [[str(rel_stage / n), n] for n in moves]
            + [[str(rel_stage / MANIFEST), f"{STORE_DIR}/{MANIFEST}"]],
            "deletes": deletes,
        }
        atomic_write_bytes(self.meta_dir / JOURNAL, json.dumps(journal, indent=1).encode("utf-8"))
        _fsync_dir(self.meta_dir)
        checkpoint("journal")
        _roll_forward(self.directory)
        checkpoint("switched")


class Transaction:
    """The layers one command writes, staged until :meth:`commit` (see :meth:`VersionedStore.transaction`).

    Attributes:
        store: the store; command: recorded in the history; stage_dir: where to write layers.
    """

    def __init__(self, store: VersionedStore, command: str, stage_dir: Path) -> None:
        self.store = store
        self.command = command
        self.stage_dir = stage_dir
        self._depends: dict[str, dict[str, str]] = {}
        self.committed: Manifest | None = None

    def depends(self, layer_ids: list[str], on: dict[str, str]) -> None:
        """Record that the staged layers ``layer_ids`` were built from the layers ``on`` (id → .geojson SHA-256)."""
        for i in layer_ids:
            self._depends[i] = dict(on)

    def commit(self) -> Manifest | None:
        """Switch the store to the staged layers in one step.

        Returns:
            the new manifest, or None when nothing differs from the current version (no new
            version is made).

        Raises:
            RuntimeError: when a staged layer lacks its ``.geojson`` or ``.meta.json``.
        """
        old = self.store.manifest()
        layers = dict(old.layers) if old else {}
        staged = layer_ids_in(self.stage_dir)
        for layer_id in staged:
            g, m = (self.stage_dir / n for n in layer_file_names(layer_id))
            if not (g.exists() and m.exists()):
                raise RuntimeError(f"staged layer {layer_id} is incomplete")
            layers[layer_id] = {
                "geojson": sha256_file(g),
                "meta": sha256_file(m),
                "depends_on": self._depends.get(layer_id, {}),
            }
        before = old.layers if old else {}
        changed = sorted(i for i in layers if before.get(i) != layers[i])
        if not changed:
            return None
        moves = [
            n
            for i in changed
            for n, kind in zip(layer_file_names(i), ("geojson", "meta"))
            if before.get(i, {}).get(kind) != layers[i][kind]
        ]
        new = Manifest((old.version if old else 0) + 1, _now(), self.command, changed, layers)
        checkpoint("staged")
        self.store._switch(new, self.stage_dir, moves, [], save=True)
        self.committed = new
        return new


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
