"""A real install: the wheel built from what the Docker image copies, installed (not editable)
into a fresh venv, renders every email template from another working folder."""

import email
import email.policy
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest
from builders import as_rfc2047_reads_it

pytestmark = [pytest.mark.processes, pytest.mark.slow, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parent.parent
EMAIL_TEMPLATES = sorted(p.name for p in (ROOT / "templates" / "email").glob("*.html"))


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    answer = subprocess.run(args, capture_output=True, text=True, timeout=240, **kwargs)
    assert answer.returncode == 0, f"{args}\n{answer.stdout}\n{answer.stderr}"
    return answer


def _docker_context(folder: Path) -> Path:
    """The files the Dockerfile copies, and nothing else (no build/ left from earlier)."""
    folder.mkdir()
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not line.startswith("COPY "):
            continue
        *sources, target = line.split()[1:]
        for source in sources:
            destination = folder / (source if target.endswith("/") else target)
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, destination, ignore=shutil.ignore_patterns("__py*"))
            else:
                shutil.copy(ROOT / source, destination)
    return folder


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built as `pip install .` builds it: in an isolated build environment."""
    folder = tmp_path_factory.mktemp("wheel")
    source = _docker_context(folder / "source")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(folder), source)
    return next(folder.glob("newsletter-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel; its dependencies come from this venv, offline."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    _run(*pip, "install", "--quiet", "--no-deps", "--no-index", str(wheel))
    purelib = _run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    # A plain path line: this venv's site-packages is searched after the fresh one's, and its
    # own .pth files (the editable install of the source tree) are not run.
    deps = sysconfig.get_paths()["purelib"]
    (Path(purelib.stdout.strip()) / "deps-from-test-venv.pth").write_text(deps + "\n")
    return venv


def test_the_wheel_carries_the_email_templates(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for name in EMAIL_TEMPLATES:
        assert f"newsletter/templates/email/{name}" in names
    assert "newsletter/templates/base.html" in names
    assert "newsletter/migrations/env.py" in names
    assert "worker/tasks.py" in names
    for locale in ("en", "fa"):  # compiled in the build, not kept in git
        assert f"newsletter/translations/{locale}/LC_MESSAGES/messages.mo" in names


RENDER_ALL = textwrap.dedent(
    """
    import os, sys
    from flask import render_template
    from jinja2 import ChainableUndefined
    import newsletter
    from newsletter import create_app

    assert newsletter.__file__.startswith(sys.prefix), newsletter.__file__
    app = create_app({"TESTING": True})
    app.jinja_env.undefined = ChainableUndefined  # every template, without a context
    with app.app_context():
        for name in sys.argv[1:]:
            html = render_template("email/" + name)
            assert "</html>" in html or name != "layout.html", name
            print(name, len(html))
    """
)


def test_the_installed_package_renders_every_email_template_from_another_folder(
    installed, tmp_path
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "NEWSLETTER_INSTANCE_PATH": str(tmp_path / "instance"),
        "NEWSLETTER_SECRET_KEY": "install-test",
    }
    answer = _run(
        str(installed / "bin" / "python"),
        "-c",
        RENDER_ALL,
        *EMAIL_TEMPLATES,
        cwd=elsewhere,
        env=env,
    )
    assert sorted(re.findall(r"^(\S+) \d+$", answer.stdout, re.M)) == EMAIL_TEMPLATES
    # The console script works there too, and the instance folder is where it was told.
    _run(str(installed / "bin" / "newsletter"), "--help", cwd=elsewhere, env=env)
    assert (tmp_path / "instance").is_dir()


PERSIAN_PAGE = textwrap.dedent(
    """
    from flask_migrate import upgrade
    from newsletter import create_app
    from newsletter.extensions import db
    from newsletter.models import MailingList

    app = create_app({"TESTING": True})
    with app.app_context():
        upgrade()
        db.session.add(MailingList(slug="iran", name="خبرنامهٔ ایران", language="fa",
                                   from_email="news@example.org", from_name="اینترلینک"))
        db.session.commit()
        print(app.test_client().get("/subscribe/iran").text)
    """
)


def test_the_installed_package_shows_a_persian_page_in_persian(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "NEWSLETTER_INSTANCE_PATH": str(tmp_path / "instance"),
        "NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'persian.sqlite'}",
    }
    page = _run(str(installed / "bin" / "python"), "-c", PERSIAN_PAGE, cwd=elsewhere, env=env)
    assert '<html lang="fa" dir="rtl">' in page.stdout
    assert "عضویت در «" in page.stdout and "نشانی ایمیل" in page.stdout
    assert "Email address" not in page.stdout


SEND_PERSIAN = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from flask_migrate import upgrade
    from newsletter import create_app
    from newsletter.digest.compose import compose_issue
    from newsletter.extensions import db
    from newsletter.models import MailingList
    from newsletter.posts.service import add_post
    from newsletter.sending.proofs import send_proof

    app = create_app()
    with app.app_context():
        upgrade()
        weekly = MailingList(
            slug="iran", name="خبرنامهٔ هفتگی ایران — گزیدهٔ خبرها و تحلیل‌ها",
            from_email="news@example.org", from_name="اینترلینک 📰 گزیدهٔ هفته",
            postal_address="تهران",
        )
        db.session.add(weekly)
        db.session.commit()
        add_post(weekly, title="گزارش هفتگی: اعتراضات و پاسخ دولت", url="https://example.org/1",
                 published_at=datetime(2026, 11, 30, tzinfo=UTC))
        issue = compose_issue(weekly, datetime(2026, 11, 25, tzinfo=UTC),
                              datetime(2026, 12, 2, tzinfo=UTC), subject=sys.argv[1])
        print(send_proof(issue, ["leila@example.org"]))
    """
)
PERSIAN_SUBJECT = "گزیدهٔ هفتگی ایران: اعتراضات، اقتصاد، سیاست خارجی و حقوق بشر — شمارهٔ نخست 📰"


def test_the_installed_package_sends_a_long_persian_subject_through_real_smtp(
    installed, inbox, tmp_path
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "NEWSLETTER_INSTANCE_PATH": str(tmp_path / "instance"),
        "NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'plain.sqlite'}",
        "NEWSLETTER_SMTP_URL": inbox.url,
    }
    answer = _run(
        str(installed / "bin" / "python"),
        "-c",
        SEND_PERSIAN,
        PERSIAN_SUBJECT,
        cwd=elsewhere,
        env=env,
    )
    assert answer.stdout.strip().endswith("1")
    [received] = inbox.to("leila@example.org")
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert message["Subject"] == f"[Test] {PERSIAN_SUBJECT}"
    assert as_rfc2047_reads_it(dict(message.raw_items())["From"]) == "اینترلینک 📰 گزیدهٔ هفته"
    assert "گزارش هفتگی" in message.get_body(("html",)).get_content()
