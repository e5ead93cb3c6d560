"""The layer store is transactional (issue 11, finding 7).

``gisapp towns replace``, ``gisapp redline import`` and ``gisapp build`` run as real
subprocesses on a copy of the bundled store and are SIGKILLed at named steps
(``GISAPP_TEST_KILL_AT``, see :func:`gisapp.store.storetxn.checkpoint`). After each kill the store
must be exactly the old or exactly the new version (``gisapp store status`` / ``validate``),
no temp file may survive the next command, and ``gisapp store rollback`` must restore the
previous version byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest

from gisapp.core import paths
from gisapp.store.layerstore import read_layer, read_meta, write_layer
from gisapp.store.storetxn import JOURNAL, STORE_DIR, VersionedStore
from tests.helpers import ZHONGSHANGANG, square_4547

KILLED = -signal.SIGKILL


def run(store: Path, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``gisapp ARGS`` on ``store`` in a subprocess (killed at ``kill_at`` if given)."""
    env = os.environ | {"GISAPP_LAYERS_DIR": str(store)}
    env.pop("GISAPP_TEST_KILL_AT", None)
    if kill_at:
        env["GISAPP_TEST_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "gisapp", *args], capture_output=True, text=True, env=env, timeout=120)


def layer_sums(store: Path) -> dict[str, str]:
    """SHA-256 of every layer file at the top of the store (what readers see)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(store.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


def manifest_bytes(store: Path) -> bytes:
    return (store / STORE_DIR / "manifest.json").read_bytes()


def copy_store(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def assert_one_version(store: Path, expected: dict[str, str], version: int) -> None:
    """``store status`` passes, the files are ``expected``, the manifest says ``version``, nothing is left over."""
    r = run(store, "store", "status")
    assert r.returncode == 0, r.stdout + r.stderr
    assert layer_sums(store) == expected
    assert json.loads(manifest_bytes(store))["version"] == version
    vs = VersionedStore(store)
    assert vs.leftovers() == [] and not (store / STORE_DIR / JOURNAL).exists()
    assert vs.verify() == []


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Path:
    """A pristine copy of the bundled store (never changed)."""
    return copy_store(paths.layers_dir(), tmp_path_factory.mktemp("bundled") / "layers")


@pytest.fixture(scope="module")
def official_towns(tmp_path_factory) -> Path:
    """The bundled cells as an "official" GeoPackage in EPSG:4547."""
    path = tmp_path_factory.mktemp("src") / "official.gpkg"
    read_layer("zs-towns", paths.layers_dir())[["name", "geometry"]].to_crs("EPSG:4547").to_file(path, driver="GPKG")
    return path


@pytest.fixture(scope="module")
def official_redline(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("red") / "redline.gpkg"
    gpd.GeoDataFrame(
        {"BH": ["A1", "A2"], "JB": ["一级", "二级"]},
        geometry=[square_4547(*ZHONGSHANGANG, 1000), square_4547(113.25, 22.67, 1000)],
        crs="EPSG:4547",
    ).to_file(path, driver="GPKG")
    return path


@pytest.fixture(scope="module")
def replaced(bundled, official_towns, tmp_path_factory) -> Path:
    """The bundled store after a complete ``towns replace`` (version 2)."""
    store = copy_store(bundled, tmp_path_factory.mktemp("replaced") / "layers")
    r = run(store, "towns", "replace", str(official_towns))
    assert r.returncode == 0, r.stderr
    return store


@pytest.fixture(scope="module")
def imported(bundled, official_redline, tmp_path_factory) -> Path:
    """The bundled store after a complete ``redline import`` (version 2)."""
    store = copy_store(bundled, tmp_path_factory.mktemp("imported") / "layers")
    r = run(store, "redline", "import", str(official_redline), "--id-field", "BH")
    assert r.returncode == 0, r.stderr
    return store


# steps before the journal leave the old version, steps from the journal on the new one
TOWNS_STEPS = [("staging", "old"), ("saved", "old"), ("switch-2", "new")]


@pytest.mark.parametrize(("step", "outcome"), TOWNS_STEPS)
def test_towns_replace_killed_leaves_one_version_and_rollback_restores(
    step, outcome, bundled, replaced, official_towns, tmp_path
):
    store = copy_store(bundled, tmp_path / "layers")
    old_manifest = manifest_bytes(store)
    r = run(store, "towns", "replace", str(official_towns), kill_at=step)
    assert r.returncode == KILLED, r.stderr
    if outcome == "old":
        assert_one_version(store, layer_sums(bundled), 1)
        assert manifest_bytes(store) == old_manifest
        assert run(store, "store", "rollback").returncode == 2  # nothing was committed
    else:
        assert_one_version(store, layer_sums(replaced), 2)
        assert read_meta("zs-towns", store).geometry_basis == "official"
        r = run(store, "store", "rollback")
        assert r.returncode == 0, r.stderr
        assert layer_sums(store) == layer_sums(bundled) and manifest_bytes(store) == old_manifest


def test_a_reader_finishes_a_switch_killed_between_the_renames(bundled, replaced, official_towns, tmp_path):
    store = copy_store(bundled, tmp_path / "layers")
    assert run(store, "towns", "replace", str(official_towns), kill_at="switch-1").returncode == KILLED
    assert (store / STORE_DIR / JOURNAL).exists()  # killed mid-switch: .geojson and .meta.json disagree now
    assert read_meta("zs-towns", store).geometry_basis == "official"  # the reader rolls forward first
    assert not (store / STORE_DIR / JOURNAL).exists()
    assert layer_sums(store) == layer_sums(replaced)
    assert run(store, "store", "status").returncode == 0
    # validate finds the store one consistent version (the cells now count as official, so validate may
    # hold gazetteer places to the stricter official tolerance: those are data findings, not the store's)
    r = run(store, "validate")
    assert "[store]" not in r.stdout, r.stdout[-2000:]


REDLINE_STEPS = [("validated", "old"), ("journal", "new"), ("switched", "new")]


@pytest.mark.parametrize(("step", "outcome"), REDLINE_STEPS)
def test_redline_import_killed_leaves_one_version(step, outcome, bundled, imported, official_redline, tmp_path):
    store = copy_store(bundled, tmp_path / "layers")
    r = run(store, "redline", "import", str(official_redline), "--id-field", "BH", kill_at=step)
    assert r.returncode == KILLED, r.stderr
    if outcome == "old":
        assert_one_version(store, layer_sums(bundled), 1)
    else:
        assert_one_version(store, layer_sums(imported), 2)
        assert read_meta("zs-industrial-redline", store).geometry_basis == "official"
        assert run(store, "store", "rollback").returncode == 0
        assert layer_sums(store) == layer_sums(bundled)
        assert read_meta("zs-industrial-redline", store).geometry_basis == "illustrative"


BUILD_STEPS = [("staging", "old"), ("staged", "old"), ("switch-3", "new")]


@pytest.mark.parametrize(("step", "outcome"), BUILD_STEPS)
def test_build_killed_early_and_late_leaves_one_version(step, outcome, bundled, replaced, tmp_path):
    store = copy_store(replaced, tmp_path / "layers")
    before = layer_sums(store)
    r = run(store, "build", "--replace-official", kill_at=step)
    assert r.returncode == KILLED, r.stderr
    if outcome == "old":
        assert_one_version(store, before, 2)
    else:
        assert_one_version(store, layer_sums(bundled), 3)  # schematic towns again: the bundled files
        assert run(store, "store", "rollback").returncode == 0
        assert layer_sums(store) == before and read_meta("zs-towns", store).geometry_basis == "official"


def test_build_refuses_to_drop_official_towns_and_writes_nothing(replaced, tmp_path):
    store = copy_store(replaced, tmp_path / "layers")
    before, manifest = layer_sums(store), manifest_bytes(store)
    r = run(store, "build")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "official" in r.stderr and "--replace-official" in r.stderr
    assert layer_sums(store) == before and manifest_bytes(store) == manifest


def test_structures_built_from_another_town_layer_fail_validate_and_towns_check(bundled, official_towns, tmp_path):
    from gisapp.plans.towns import replace_towns

    store = copy_store(bundled, tmp_path / "layers")
    gdf, meta = replace_towns(official_towns)
    write_layer(gdf, meta, store)  # the towns alone, as the old non-transactional command did
    r = run(store, "validate")
    assert r.returncode == 1
    assert "layer 'zs-services-structure' was built from another 'zs-towns'" in r.stdout
    assert run(store, "towns", "check").returncode == 1
    assert run(store, "store", "status").returncode == 1


def test_a_file_changed_behind_the_stores_back_fails_validate(bundled, tmp_path):
    store = copy_store(bundled, tmp_path / "layers")
    meta = json.loads((store / "zs-industrial-redline.meta.json").read_text("utf-8"))
    meta["geometry_basis"] = "official"  # a meta that disagrees with its .geojson
    (store / "zs-industrial-redline.meta.json").write_text(json.dumps(meta), "utf-8")
    (store / "stray.geojson").write_text('{"type": "FeatureCollection", "features": []}', "utf-8")
    r = run(store, "validate")
    assert r.returncode == 1
    assert "zs-industrial-redline.meta.json differs from version 1 (checksum mismatch)" in r.stdout
    assert "layer 'stray' is on disk but not part of version 1" in r.stdout


def test_stale_temp_files_and_staging_are_removed_by_the_next_command(bundled, tmp_path):
    store = copy_store(bundled, tmp_path / "layers")
    (store / ".zs-towns.k1ll3d.geojson").write_text("{", "utf-8")
    (store / ".zs-towns.k1ll3d.meta.json").write_text("{", "utf-8")
    staging = store / STORE_DIR / "staging-k1ll3d"
    staging.mkdir()
    (staging / "zs-towns.geojson").write_text("{", "utf-8")
    before = layer_sums(store)
    r = run(store, "store", "status")
    assert r.returncode == 0 and "removed .zs-towns.k1ll3d.geojson" in r.stdout
    assert not staging.exists() and not list(store.glob(".*.json")) and not list(store.glob(".*.geojson"))
    assert layer_sums(store) == before


def test_history_lists_versions_and_rollback_walks_back(bundled, official_redline, tmp_path):
    store = copy_store(bundled, tmp_path / "layers")
    original = manifest_bytes(store)
    assert run(store, "redline", "import", str(official_redline), "--id-field", "BH").returncode == 0
    assert run(store, "redline", "import", str(official_redline)).returncode == 0  # ids B0001…: a new version
    history = json.loads(run(store, "store", "history", "--json").stdout)
    assert [h["version"] for h in history] == [3, 2, 1]
    assert history[0]["command"] == "redline import redline.gpkg"
    assert history[0]["changed"] == ["zs-industrial-redline"] and history[2]["command"] == "build"
    assert all(h["time"] for h in history)
    assert run(store, "store", "rollback").returncode == 0
    assert read_layer("zs-industrial-redline", store)["id"].tolist() == ["A1", "A2"]
    assert run(store, "store", "rollback").returncode == 0
    assert manifest_bytes(store) == original and layer_sums(store) == layer_sums(bundled)
    r = run(store, "store", "rollback")
    assert r.returncode == 2 and r.stderr.startswith("gisapp: error: nothing to roll back")


def test_an_identical_import_makes_no_new_version(imported, official_redline, tmp_path):
    store = copy_store(imported, tmp_path / "layers")
    before = manifest_bytes(store)
    r = run(store, "redline", "import", str(official_redline), "--id-field", "BH")
    assert r.returncode == 0 and "nothing changed" in r.stdout
    assert manifest_bytes(store) == before
