"""Login and logout pages (``/login``, ``/logout``) and who am I (``/api/me``).

Flask-Login keeps the session; the form carries a Flask-WTF CSRF token. Every login (and every
failed attempt) is written to the audit trail. See :mod:`gisapp.web.accounts` for the policy.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from gisapp.web.accounts import SessionUser, access, audit_now, current_account

blueprint = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    """User name and password (CSRF token included by Flask-WTF)."""

    name = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=256)])


def _safe_next(value: str | None) -> str:
    """Only a path on this server (``/…``, not ``//host``) may be the target after login."""
    return value if value and value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    """The login page; on success the session starts and the browser goes to ``next`` (default ``/``)."""
    form = LoginForm()
    error = ""
    if request.method == "POST":
        access().limits.hit(f"address:{request.remote_addr}")  # guessing passwords is bounded like any request
    if form.validate_on_submit():
        control = access()
        user = control.db.check_password(form.name.data or "", form.password.data or "")
        if user is not None:
            login_user(SessionUser(user))
            audit_now(control, "login", user.name, {"status": "ok"}, method="password")
            return redirect(_safe_next(request.args.get("next")))  # type: ignore[return-value]  # werkzeug Response is a Flask Response at runtime
        audit_now(control, "login_failed", form.name.data or "", {"status": "refused"}, method="password")
        error = "用户名或密码错误 — wrong user name or password"
    elif request.method == "POST":
        error = "表单已过期或不完整，请重试 — the form expired or is incomplete"
    return render_template("auth/login.html", form=form, error=error), (401 if error else 200)


@blueprint.post("/logout")
def logout() -> Response:
    """End the session (a POST with the CSRF token, from the badge on every page)."""
    logout_user()
    return redirect(url_for("auth.login"))  # type: ignore[return-value]  # werkzeug Response is a Flask Response at runtime


@blueprint.get("/api/me")
def me() -> Response:
    """The current account (``{"user": null, "mode": "single-user"}`` without accounts)."""
    user = current_account()
    mode = "accounts" if access().enforced else "single-user"
    return jsonify({"user": user.to_dict() if user else None, "mode": mode})
