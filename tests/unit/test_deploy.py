"""The deployment files: hardened systemd units, a non-root image with a health check, compose.

The pure-Python checks always run; ``systemd-analyze verify`` and ``docker compose config``
run too where those tools are installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
UNITS = ("sportello.service", "sportello-backup.service", "sportello-backup.timer")


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file as section -> key -> values (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_the_service_is_hardened() -> None:
    service = unit("sportello.service")["Service"]
    required = {
        "User": "sportello",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "Restart": "on-failure",
        "ReadWritePaths": "/var/lib/sportello",
        "StateDirectory": "sportello",
        "EnvironmentFile": "/etc/sportello/sportello.env",
        "CapabilityBoundingSet": "",
    }
    for key, value in required.items():
        assert service.get(key) == [value], key
    assert service["ExecStart"] == ["/opt/sportello/app/.venv/bin/sportello serve"]
    assert "SPORTELLO_DB=/var/lib/sportello/sportello.sqlite3" in service["Environment"]
    assert unit("sportello.service")["Install"]["WantedBy"] == ["multi-user.target"]


def test_the_nightly_backup_keeps_n_copies() -> None:
    service = unit("sportello-backup.service")["Service"]
    assert service["Type"] == ["oneshot"]
    assert service["User"] == ["sportello"]
    command = service["ExecStart"][0]
    assert re.fullmatch(r"\S+/sportello backup /var/lib/sportello/backups --keep \d+", command)
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateNetwork"):
        assert service[key] == ["yes"], key
    assert service["ProtectSystem"] == ["strict"]
    timer = unit("sportello-backup.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == ["yes"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]


def test_both_services_give_their_shared_folder_the_same_mode() -> None:
    # A StateDirectory's mode is 0755 when unsaid; a unit that says another mode than the
    # folder has gets a warning at each start, or (some systemd versions) changes the folder's
    # mode: the backup unit must not open up the folder the bot's database lives in.
    for name in UNITS[:2]:
        service = unit(name)["Service"]
        assert service["StateDirectory"] == ["sportello"], name
        assert service["StateDirectoryMode"] == ["0750"], name
        assert service["UMask"] == ["0077"], name  # what it writes is its user's only


def test_the_image_runs_unprivileged_with_a_health_check() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    instructions = [
        line.split(None, 1)
        for line in dockerfile.splitlines()
        if line and not line.startswith((" ", "#"))
    ]
    names = [parts[0] for parts in instructions]
    bases = [parts[1] for parts in instructions if parts[0] == "FROM"]
    assert bases and all(base.startswith("python:3.11-slim-bookworm") for base in bases)
    final = len(names) - names[::-1].index("FROM")  # instructions of the last stage
    users = [parts[1] for parts in instructions[final:] if parts[0] == "USER"]
    assert users == ["sportello"]
    assert names.index("USER", final) < names.index("CMD", final)
    assert "HEALTHCHECK" in names[final:] and "/healthz" in dockerfile
    assert "pybabel compile" in dockerfile
    assert 'CMD ["sportello", "serve"]' in dockerfile
    assert "chmod 0700 /data /data/backups" in dockerfile  # the volume: personal data
    for source in re.findall(r"^COPY (?!--from)(\S+)", dockerfile, re.MULTILINE):
        assert (PROJECT_ROOT / source).exists(), source
    # pg_dump and pg_restore for the backups on PostgreSQL, without apt's leftovers.
    assert re.search(
        r"apt-get install --yes --no-install-recommends postgresql-client-\d+ ", dockerfile
    )
    assert "rm -rf /var/lib/apt/lists/*" in dockerfile
    uid = re.search(r"--uid (\d+)", dockerfile)
    assert uid is not None
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert compose["services"]["bot"]["user"].split(":")[0] == uid.group(1)


def test_compose_has_volumes_health_and_a_tls_proxy() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    bot = compose["services"]["bot"]
    assert bot["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert "data:/data" in bot["volumes"]
    assert "../content:/app/content:ro" in bot["volumes"]
    assert bot["healthcheck"]["test"][0] == "CMD" and "/healthz" in bot["healthcheck"]["test"][-1]
    assert bot["user"] != "0" and not bot["user"].startswith("root")
    assert bot["read_only"] is True
    assert bot["restart"] == "unless-stopped"
    assert "ports" not in bot  # only the proxy faces the internet
    caddy = compose["services"]["caddy"]
    assert re.fullmatch(r"caddy:\d+\.\d+\.\d+-alpine", caddy["image"])
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert caddy["depends_on"]["bot"]["condition"] == "service_healthy"
    assert set(compose["volumes"]) == {"data", "caddy_data", "caddy_config"}
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert "{$SPORTELLO_DOMAIN}" in caddyfile and "reverse_proxy" in caddyfile
    assert "respond @metrics 404" in caddyfile


def test_compose_on_postgresql_runs_two_instances_on_one_database_behind_the_proxy() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.postgresql.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "bot-a", "bot-b", "caddy"}
    postgres = services["postgres"]
    server = re.fullmatch(r"postgres:(\d+)\.\d+-alpine", postgres["image"])
    assert server is not None
    # The bot's image dumps it (sportello backup): a pg_dump refuses a newer server than itself.
    client = re.search(r"postgresql-client-(\d+)", (DEPLOY / "Dockerfile").read_text("utf-8"))
    assert client is not None and int(server.group(1)) <= int(client.group(1))
    assert "ports" not in postgres  # only the bots reach it
    assert postgres["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert "postgres_data:/var/lib/postgresql/data" in postgres["volumes"]
    single = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))["services"]
    for name in ("bot-a", "bot-b"):
        bot = services[name]
        address = bot["environment"]["SPORTELLO_DB"]
        assert address.startswith("postgresql://sportello:${POSTGRES_PASSWORD")
        assert address.endswith("@postgres:5432/sportello")
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
        # The same image, hardening and health check as the single bot of compose.yaml.
        for key in ("build", "user", "read_only", "cap_drop", "security_opt", "healthcheck"):
            assert bot[key] == single["bot"][key], (name, key)
        assert "ports" not in bot and "../content:/app/content:ro" in bot["volumes"]
    assert services["bot-a"] == services["bot-b"]  # one settings file, one database
    caddy = services["caddy"]
    assert caddy["image"] == single["caddy"]["image"]
    assert caddy["volumes"] == single["caddy"]["volumes"]  # the same Caddyfile
    assert caddy["ports"] == single["caddy"]["ports"]
    assert caddy["environment"]["SPORTELLO_UPSTREAM"].split() == ["bot-a:8080", "bot-b:8080"]
    assert caddy["depends_on"]["bot-a"]["condition"] == "service_healthy"
    assert set(compose["volumes"]) == {"postgres_data", "caddy_data", "caddy_config"}
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert "lb_try_duration" in caddyfile  # a request to a stopped instance goes to another
    runbook = (DEPLOY / "README.md").read_text(encoding="utf-8")
    section = runbook.split("## Several instances, or several counters, on PostgreSQL", 1)[1]
    section = section.split("\n## ", 1)[0]
    for needed in ("compose.postgresql.yaml", "?schema=", "pg_dump", "sportello db copy"):
        assert needed in section, needed
    assert "CREATE DATABASE" in section and "CREATE SCHEMA" in section
    # The nightly backup unit has no network: the runbook says how it reaches PostgreSQL.
    assert unit("sportello-backup.service")["Service"]["PrivateNetwork"] == ["yes"]
    assert "?host=/var/run/postgresql" in section  # a socket: the unit as it is
    drop_in = r"\[Service\]\n *PrivateNetwork=no\n *RestrictAddressFamilies=AF_UNIX AF_INET\b"
    assert re.search(drop_in, section)  # over TCP: a drop-in gives it the network
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    assert "#SPORTELLO_DB=postgresql://" in example and "#POSTGRES_PASSWORD=" in example


def test_the_runbook_and_env_example_name_the_compose_domain() -> None:
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^#?SPORTELLO_DOMAIN=", example, re.MULTILINE)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    # A throw-away root: the units' programs exist there, and systemd's own units beside them.
    root = tmp_path / "root"
    program = root / "opt/sportello/app/.venv/bin/sportello"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    for system in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")):
        if system.is_dir():
            shutil.copytree(system, root / "usr/lib/systemd/system", symlinks=True)
            break
    else:
        pytest.skip("systemd's own units are not installed")
    (root / "etc/systemd/system").mkdir(parents=True)
    for name in UNITS:
        shutil.copy(DEPLOY / name, root / "etc/systemd/system" / name)
    result = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            f"--root={root}",
            *(f"/etc/systemd/system/{name}" for name in UNITS),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )
    # verify exits 0 even for unknown keys and bad values: it only warns, on stderr, naming
    # the file. Lines about the machine itself (a container's limits, say) are not ours.
    ours = [line for line in result.stderr.splitlines() if "sportello" in line]
    assert result.returncode == 0 and ours == [], result.stderr
    # systemd's own exposure score (0 to 10, shown as 1.4 "OK" today) must stay low.
    for service in UNITS[:2]:
        security = subprocess.run(
            [
                "systemd-analyze",
                "security",
                "--offline=yes",
                f"--root={root}",
                "--threshold=20",  # 2.0 on the printed scale
                service,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if "--offline" in security.stderr or "--threshold" in security.stderr:
            continue  # a systemd older than 250 cannot score a unit that is not loaded
        assert security.returncode == 0, security.stdout[-2000:]


def _compose_command() -> list[str] | None:
    """Compose v2 (``docker compose``): the file uses its syntax, which v1 does not know."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, timeout=30, check=False
    )
    return [docker, "compose"] if probe.returncode == 0 else None


@pytest.mark.parametrize("name", ["compose.yaml", "compose.postgresql.yaml"])
def test_docker_compose_config(tmp_path: Path, name: str) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("docker compose is not installed")
    result = subprocess.run(
        [*command, "-f", str(DEPLOY / name), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "SPORTELLO_DOMAIN": "sportello.example.org",
            "POSTGRES_PASSWORD": "0123456789abcdef",
        },
    )
    assert result.returncode == 0, result.stderr


def test_the_runbook_links_resolve() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "(deploy/README.md)" in readme
    for page in ("README.md", "whatsapp-templates.md"):
        text = (DEPLOY / page).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (DEPLOY / target).exists(), f"{page} links to a missing {target}"
    runbook = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for anchor in re.findall(r"\]\(#([^)]+)\)", runbook):
        headings = re.findall(r"^#+ (.+)$", runbook, re.MULTILINE)
        slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
        assert anchor in slugs, anchor
    templates = (DEPLOY / "whatsapp-templates.md").read_text(encoding="utf-8")
    for setting in ("REMINDER", "STAFF_CANCEL", "HANDOVER"):
        assert f"TWILIO_TEMPLATE_{setting}" in templates and f"TWILIO_TEMPLATE_{setting}" in runbook


def test_a_server_installs_without_the_developers_tools() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^install-prod:\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert target is not None
    recipe = target.group(1)
    assert "--editable ." in recipe and "[dev]" not in recipe and "pybabel" in recipe
    assert "(3, 11)" in recipe  # an older Python is refused with what to do
    runbook = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert "make install-prod" in runbook
    for line in runbook.splitlines():
        if "sudo -u sportello" in line and "make install" in line:
            assert "make install-prod" in line, line
    assert "make install-prod" in (DEPLOY / "sportello.service").read_text(encoding="utf-8")
    # Ubuntu 22.04's Python is 3.10: named only with the way to a 3.11.
    if "22.04" in runbook:
        assert "python3.11" in runbook and "PYTHON=python3.11" in runbook


def test_the_runbook_tells_the_monthly_report_for_both_installations() -> None:
    runbook = (DEPLOY / "README.md").read_text(encoding="utf-8")
    section = runbook.split("## Monthly report", 1)[1].split("\n## ", 1)[0]
    assert "sportello report --from 2026-01-01 --to 2026-01-31 --out /var/lib/sportello/" in section
    assert "--out /data/report-2026-01.html" in section
    assert "compose.yaml cp bot:/data/report-2026-01.html ~/" in section
    assert "sportello stats --from 2026-01-01 --to 2026-01-31 --format csv >" in section
    assert "--office" in section


def test_the_runbook_tells_how_to_audit_the_dependencies_without_ci_needing_the_network() -> None:
    runbook = (DEPLOY / "README.md").read_text(encoding="utf-8")
    section = runbook.split("## Checking the dependencies for known vulnerabilities", 1)[1]
    section = section.split("\n## ", 1)[0]
    assert "**Once a month**" in section and "**and after every update**" in section
    assert "PIPAPI_PYTHON_LOCATION=/opt/sportello/app/.venv/bin/python" in section
    assert "pip-audit --skip-editable" in section
    assert "exec -T bot pip freeze" in section and "--no-deps --disable-pip" in section
    assert "--ignore-vuln" in section and "A fixed version exists" in section
    updating = runbook.split("## Updating", 1)[1].split("\n## ", 1)[0]
    assert "(#checking-the-dependencies-for-known-vulnerabilities)" in updating
    # The audit needs the network: neither the tests nor CI install or run it.
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "pip-audit" not in pyproject
    assert "pip-audit" not in (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")


def test_the_runbook_tells_how_to_run_several_counters() -> None:
    runbook = (DEPLOY / "README.md").read_text(encoding="utf-8")
    section = runbook.split("## Several counters on one server", 1)[1].split("\n## ", 1)[0]
    for setting in ("SPORTELLO_CONTENT", "SPORTELLO_DB", "PORT", "TELEGRAM_BOT_TOKEN"):
        assert f"`{setting}`" in section, setting
    assert "desk.yaml" in section and "tests/data/como/" in section
    assert "sportello-como.service" in section and "como.sqlite3" in section
    assert "PostgreSQL" in section
    assert (PROJECT_ROOT / "tests" / "data" / "como" / "desk.yaml").is_file()
