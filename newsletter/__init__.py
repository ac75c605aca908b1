"""newsletter: a self-hosted weekly-digest newsletter and mailing-list system."""

from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from newsletter import config
from newsletter.extensions import csrf, db, limiter, migrate

PACKAGE = Path(__file__).resolve().parent
MIGRATIONS = PACKAGE / "migrations"


def _email_templates() -> Path:
    """The email templates' folder, rendered as email/<name>.

    They live in templates/email/ at the top of the repository; a wheel carries them inside
    the package as newsletter/templates/email (see setup.py). The packaged copy comes first,
    so an installed package never picks up a templates/ folder that happens to sit beside it.
    """
    packaged = PACKAGE / "templates" / "email"
    return packaged if packaged.is_dir() else PACKAGE.parent / "templates" / "email"


EMAIL_TEMPLATES = _email_templates()


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=config.instance_path(), instance_relative_config=True)
    app.config.from_mapping(config.load(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)
    config.prepare_instance(app.config, Path(app.instance_path))
    if not app.config["SECRET_KEY"]:
        raise RuntimeError(
            "Set NEWSLETTER_SECRET_KEY: with a shared database the web app and the workers "
            "must sign links with the same key."
        )
    if app.config["PROXY_COUNT"]:
        # Behind a proxy the client address (rate limits, consent) is in X-Forwarded-For.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    emails = PrefixLoader({"email": FileSystemLoader(EMAIL_TEMPLATES)})
    app.jinja_loader = ChoiceLoader([app.jinja_loader, emails])

    from newsletter import i18n

    i18n.init_app(app)
    db.init_app(app)
    _tune_sqlite(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    from newsletter import hardening

    # Before CSRFProtect: a NUL is refused before anything reads the request (a form's
    # stale-token page looked the list up by a slug holding one, and PostgreSQL refused it).
    hardening.init_app(app)  # and before the blueprints: their int rules take its converter
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", _limiter_storage(app.config["BROKER_URL"]))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)

    from newsletter.broker import celery_init_app

    celery_init_app(app)

    from newsletter import admin, analytics_views, api, archive, errors, pages, subscriptions
    from newsletter.subscriptions import embed, own_data_views

    app.register_blueprint(pages.bp)
    app.register_blueprint(subscriptions.bp)
    app.register_blueprint(embed.bp)  # the subscribe form pasted on other sites
    app.register_blueprint(own_data_views.bp)  # a reader's copy of their data, or erasure
    app.register_blueprint(archive.bp)
    app.register_blueprint(analytics_views.bp)  # /r/ and /o/: tracked links, open pixel
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    csrf.exempt(api.bp)
    errors.init_app(app)
    admin.init_app(app)
    if app.config["OUTBOX_DIR"]:
        from newsletter import outbox

        app.register_blueprint(outbox.bp, url_prefix="/outbox")

    from newsletter.cli import register_app_commands

    register_app_commands(app)

    from newsletter import redirects

    redirects.init_app(app)  # /r/ and /o/ answered before Flask when clicks are queued
    return app


def _limiter_storage(broker_url: str) -> str:
    """Share rate-limit counters through Redis when there is one."""
    if broker_url.startswith(("redis://", "rediss://")):
        return broker_url
    return "memory://"


def _tune_sqlite(app: Flask) -> None:
    """SQLite is shared by web, worker and beat: wait for locks and use WAL."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
