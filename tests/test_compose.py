"""docker-compose.yml, as Compose reads it: settings in .env reach every app container, and
the DKIM key has a place to be mounted. `config` needs no Docker daemon."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import IN_CI

pytestmark = [pytest.mark.processes, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat", "bounces")
KEY_FILE = "/run/newsletter/dkim/private.pem"


def _compose() -> list[str]:
    """Debian's docker-compose, or the docker CLI's compose plugin."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        plugin = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if plugin.returncode == 0:
            return ["docker", "compose"]
    if IN_CI:
        pytest.fail("CI=true but neither docker-compose nor docker compose is installed")
    pytest.skip("neither docker-compose nor docker compose is installed")


@pytest.fixture
def compose_config(tmp_path):
    """The stack as Compose resolves it, with this .env beside the file."""
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    (tmp_path / ".env").write_text(
        "NEWSLETTER_SECRET_KEY=from-the-env-file\n"
        "NEWSLETTER_RATE_PER_SECOND=7\n"
        f"NEWSLETTER_DKIM_KEY_FILE={KEY_FILE}\n"
    )
    answer = subprocess.run(
        [*_compose(), "config"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert answer.returncode == 0, answer.stderr
    return yaml.safe_load(answer.stdout)["services"]


def _environment(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):  # KEY=value items
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def _mounts(service: dict) -> dict[str, bool]:
    """Target → read-only, from the short ("src:target:ro") or the long form."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            parts = volume.split(":")
            mounts[parts[1]] = parts[2:] == ["ro"]
        else:
            mounts[volume["target"]] = bool(volume.get("read_only"))
    return mounts


def test_every_setting_in_the_env_file_reaches_every_app_container(compose_config):
    for name in APP_SERVICES:
        environment = _environment(compose_config[name])
        assert environment.get("NEWSLETTER_RATE_PER_SECOND") == "7", name
        assert environment["NEWSLETTER_SECRET_KEY"] == "from-the-env-file", name
        # The stack's own services still win over .env for where the database and broker are.
        assert environment["NEWSLETTER_DATABASE_URL"].endswith("@postgres:5432/newsletter")


def test_the_dkim_key_is_mounted_read_only_where_the_setting_points(compose_config):
    for name in APP_SERVICES:
        environment = _environment(compose_config[name])
        assert environment["NEWSLETTER_DKIM_KEY_FILE"] == KEY_FILE, name
        assert _mounts(compose_config[name]).get(str(Path(KEY_FILE).parent)) is True, name


def test_the_bounce_server_starts_only_when_asked_for(compose_config):
    """Without NEWSLETTER_BOUNCE_DOMAIN it refuses to start, and `restart: unless-stopped`
    restarted it for ever: it is in a profile of its own, which `up` leaves out unless
    named (`--profile bounces`)."""
    assert compose_config["bounces"].get("profiles") == ["bounces"]
    assert all(not compose_config[name].get("profiles") for name in APP_SERVICES[:-1])


def test_a_worker_is_given_time_to_finish_its_batch_and_logs_are_rotated(compose_config):
    """Compose's 10 s stopped a worker mid-batch (a batch on a slow relay took 40 s)."""
    grace = compose_config["worker"]["stop_grace_period"]
    assert grace in ("2m", "2m0s", "120s") or grace == 120, grace
    for name in APP_SERVICES:
        options = compose_config[name]["logging"]["options"]
        assert options["max-size"] == "10m" and str(options["max-file"]) == "5", name
