"""The 管理 (manage) page and API: upload a red line or 镇街 layer, see the validation report and the
diff, publish it, roll back, read the audit trail.

* ``GET  /admin``                         — the page (``templates/admin/page.html``, ``static/admin/admin.js``);
* ``POST /api/admin/imports``             — multipart ``file`` + ``kind`` (``redline``/``towns``/``farmland``/``ecology``/``udb``) and the
  field options: validates, stores the upload as *pending* and answers the preview
  (:func:`gisapp.plans.publish.preview_import`) with its ``id``; audited as ``import``;
* ``POST /api/admin/imports/<id>/publish`` — stores it as a new version (audited ``publish``);
* ``POST /api/admin/rollback``            — restores the previous version (audited ``rollback``);
* ``GET  /api/admin/history``             — versions with the red line's total per version;
* ``GET  /api/admin/audit``               — the trail, filtered (``user``, ``since``, ``kind``, ``limit``),
  with the chain's verification.

Every route needs 管理 (:data:`gisapp.web.policy.POLICY`, ``admin.*``).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path

from flask import Blueprint, Response, jsonify, render_template, request

from gisapp.core.errors import InputError
from gisapp.plans import publish
from gisapp.web.accounts import access, set_audit
from gisapp.web.admission import request_limits
from gisapp.web.context import current_settings, current_store

blueprint = Blueprint("admin", __name__)
_PENDING_ID = re.compile(r"^[a-f0-9]{16}$")
_OPTIONS = ("id_field", "tier_field", "name_field")
#: A preview not published within a day is removed.
PENDING_MAX_AGE_S = 86_400.0


def pending_dir() -> Path:
    """Where uploads wait to be published: ``<store>.pending/`` beside the layer store."""
    layers = current_settings().layers_dir
    return layers.parent / f"{layers.name}.pending"


def _prune_pending(folder: Path, max_age_s: float = PENDING_MAX_AGE_S) -> None:
    """Remove previews never published (older than ``max_age_s`` seconds)."""
    if not folder.is_dir():
        return
    now = time.time()
    for p in folder.iterdir():
        if _PENDING_ID.match(p.name) and now - p.stat().st_mtime > max_age_s:
            shutil.rmtree(p, ignore_errors=True)


@blueprint.get("/admin")
def page() -> str:
    """The 管理 page (Chinese first)."""
    return render_template("admin/page.html", kinds=publish.IMPORT_KINDS)


@blueprint.post("/api/admin/imports")
def upload() -> Response:
    """Validate an upload and compare it with the stored layer; nothing is published yet."""
    kind = request.form.get("kind", "")
    if kind not in publish.IMPORT_KINDS:
        raise InputError(f"kind must be one of {', '.join(publish.IMPORT_KINDS)}", code="unknown_import_kind")
    upload = request.files.get("file")
    if upload is None:
        raise InputError("upload a file in the field 'file'", code="missing_file")
    options = {k: request.form.get(k, "").strip() for k in _OPTIONS if request.form.get(k, "").strip()}
    _prune_pending(pending_dir())
    pending_id = secrets.token_hex(8)
    folder = pending_dir() / pending_id
    try:
        path = publish.stage_upload(upload.read(), upload.filename or "", folder, request_limits())
        preview = publish.preview_import(kind, path, current_settings().layers_dir, options)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    (folder / "pending.json").write_text(
        json.dumps({"kind": kind, "path": path.name, "file": upload.filename, "options": options}, ensure_ascii=False),
        "utf-8",
    )
    preview["id"] = pending_id
    diff = preview["diff"]
    set_audit(
        "import",
        {"valid": True, "features": preview["report"]["features"], "total": diff["total"], "pending_id": pending_id},
        kind=kind,
        file=upload.filename,
        options=options,
    )
    return jsonify(preview)


@blueprint.post("/api/admin/imports/<pending_id>/publish")
def publish_pending(pending_id: str) -> Response:
    """Publish a previewed upload as a new store version."""
    folder = pending_dir() / pending_id
    if not _PENDING_ID.match(pending_id) or not (folder / "pending.json").is_file():
        raise InputError(f"no pending import {pending_id!r} (preview it first)", code="unknown_import", status=404)
    pending = json.loads((folder / "pending.json").read_text("utf-8"))
    manifest = publish.publish_import(
        pending["kind"], folder / pending["path"], current_settings().layers_dir, pending["options"]
    )
    shutil.rmtree(folder, ignore_errors=True)
    current_store().clear_cache()
    result = {"version": manifest.version if manifest else None, "changed": manifest.changed if manifest else []}
    set_audit("publish", result, kind=pending["kind"], file=pending["file"], pending_id=pending_id)
    return jsonify(result | {"unchanged": manifest is None})


@blueprint.post("/api/admin/rollback")
def rollback() -> Response:
    """Restore the previous store version (the current one is discarded)."""
    from gisapp.store.storetxn import VersionedStore

    store = VersionedStore(current_settings().layers_dir)
    before = store.manifest()
    now = store.rollback("store rollback (admin page)")
    current_store().clear_cache()
    result = {"from_version": before.version if before else None, "to_version": now.version}
    set_audit("rollback", result)
    return jsonify(result)


@blueprint.get("/api/admin/history")
def history() -> Response:
    """Every kept version, newest first, with the red line total (km²) of each."""
    return jsonify({"versions": publish.version_figures(current_settings().layers_dir)})


@blueprint.get("/api/admin/audit")
def audit() -> Response:
    """The trail (newest ``limit`` records, default 200, matching ``user``/``since``/``kind``) and its verification."""
    try:
        limit = min(5000, max(1, int(request.args.get("limit", "200"))))
    except ValueError:
        raise InputError("limit must be a whole number", code="invalid_parameter") from None
    db = access().db
    records = db.audit_records(
        user=request.args.get("user") or None,
        since=request.args.get("since") or None,
        kind=request.args.get("kind") or None,
        limit=limit,
    )
    problem = db.verify_audit() if db.exists else None
    return jsonify(
        {"records": [r.to_dict() for r in reversed(records)], "verified": problem is None, "problem": problem}
    )
