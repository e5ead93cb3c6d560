"""Accounts, roles, API tokens and the tamper-evident audit trail (issue 16).

Core code: no web framework. The web layer (:mod:`gisapp.web.accounts`) and the CLI
(``gisapp users``, ``gisapp audit``) use :class:`~gisapp.accounts.accountsdb.AccountsDB`.

* :mod:`gisapp.accounts.roles` — the three roles 浏览 / 分析 / 管理 (view / analyse / manage);
* :mod:`gisapp.accounts.schema` — the tables (SQLAlchemy Core; SQLite by default, PostgreSQL alike);
* :mod:`gisapp.accounts.audit` — canonical record hashing and chain verification;
* :mod:`gisapp.accounts.accountsdb` — users, passwords (argon2id), tokens, layer rules, the trail.
"""
