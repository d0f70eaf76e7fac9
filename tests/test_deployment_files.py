"""The Kubernetes deployment files in deploy/ agree with the project's own configuration.

They cannot be applied on this machine (no Kubernetes, no Docker engine), so this is what checks
them: every YAML file parses, and the ports, the action server's address, the store and channel
classes, the model path, the environment variables and the secret keys they name are
cross-checked against endpoints.yml, credentials.yml, config.yml, scripts/start.sh, the Makefile,
common/settings.py and the "Configuration" table of docs/operators.md.
(tests/integration/test_security.py also scans deploy/, like every file, for anything that looks
like a secret.)
"""

from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from functools import cache
from importlib.metadata import distributions
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from common.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
RASA_VALUES_FILE = DEPLOY / "helm" / "rasa-values.yaml"
SECRETS_FILE = DEPLOY / "helm" / "secrets.example.yaml"
ACTION_SERVER_FILE = DEPLOY / "kubernetes" / "action-server.yaml"
MIGRATE_JOB_FILE = DEPLOY / "kubernetes" / "migrate-job.yaml"
RASA_DOCKERFILE = DEPLOY / "docker" / "rasa.Dockerfile"
ACTIONS_DOCKERFILE = DEPLOY / "docker" / "actions.Dockerfile"

# What each deployment needs so that its replicas share one state instead of each keeping its
# own SQLite files: the Rasa server's conversations, locks and Slack deliveries, the action
# server's learners and knowledge base. Slack's two secrets and the widget's origins are the
# channel settings `make run` takes from the environment.
RASA_SERVER_NEEDS = {
    "TRACKER_DB_URL",
    "LOCK_STORE_URL",
    "SLACK_DELIVERIES_DB_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "WIDGET_ALLOWED_ORIGINS",
}
ACTION_SERVER_NEEDS = {"LEARNER_DB_URL", "KNOWLEDGE_DB_URL"}

# The rasa chart's (1.17.3) defaults for these endpoint sections name ${DB_HOST}, ${REDIS_HOST}
# and so on. Rasa refuses to start when such a variable is unset, so the values must delete
# each of them (null deletes a chart default in Helm).
CHART_DEFAULT_KEYS = {
    "trackerStore": ("dialect", "url", "port", "username", "password", "db", "login_db"),
    "lockStore": ("url", "port", "password", "db"),
}

PLACEHOLDER = "change-me"
SECRET_NAMED = re.compile(r"TOKEN|SECRET|PASSW|_URL$")  # database URLs carry passwords
SECRET_LOOKING = {
    "Slack token": r"xox[abposr]-[0-9A-Za-z-]{10,}",
    "signing secret": r"\b[0-9a-f]{32}\b",
    "password in a URL": r"://[^/\s:@'\"]+:[^/\s:@'\"$]+@",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
}


# --- the deployment files --------------------------------------------------------------------


class StrictLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys in a mapping; Helm and kubectl refuse the file."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        duplicates = sorted({str(key) for key in keys if keys.count(key) > 1})
        if duplicates:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate keys {duplicates}", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


def documents(path: Path) -> list:
    return [doc for doc in yaml.load_all(path.read_text(), Loader=StrictLoader) if doc is not None]


def only(path: Path, kind: str) -> dict:
    (found,) = [doc for doc in documents(path) if doc.get("kind") == kind]
    return found


(RASA_VALUES,) = documents(RASA_VALUES_FILE)
APP = RASA_VALUES["applicationSettings"]
SECRET = only(SECRETS_FILE, "Secret")
ACTION_DEPLOYMENT = only(ACTION_SERVER_FILE, "Deployment")
ACTION_SERVICE = only(ACTION_SERVER_FILE, "Service")
MIGRATE_JOB = only(MIGRATE_JOB_FILE, "Job")


def containers(workload: dict) -> list[dict]:
    return workload["spec"]["template"]["spec"]["containers"]


(ACTION_CONTAINER,) = containers(ACTION_DEPLOYMENT)


def env_entries() -> list[tuple[str, dict]]:
    """Every environment variable the deployment sets: (which workload, the env entry)."""
    entries = [("rasa-server", entry) for entry in RASA_VALUES.get("extraEnv", [])]
    for name, workload in [("action-server", ACTION_DEPLOYMENT), ("migrate-job", MIGRATE_JOB)]:
        for container in containers(workload):
            entries += [(name, entry) for entry in container.get("env", [])]
    return entries


ENV = env_entries()
SECRET_REFS = [
    (where, entry["valueFrom"]["secretKeyRef"])
    for where, entry in ENV
    if "secretKeyRef" in entry.get("valueFrom", {})
]


def option(arguments: list[str], flag: str) -> str:
    return arguments[arguments.index(flag) + 1]


def port_number(container: dict, port: int | str) -> int:
    """A port given by number or by the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container["ports"] if p.get("name") == port]
    return number


def dockerfile(path: Path) -> tuple[list[list[str]], list[str]]:
    """(the COPY instructions' arguments, the CMD) of a Dockerfile."""
    lines = path.read_text().splitlines()
    copies = [line.split()[1:] for line in lines if line.startswith("COPY ")]
    (cmd,) = [json.loads(line[len("CMD ") :]) for line in lines if line.startswith("CMD ")]
    return copies, cmd


def copied_to_the_same_place(path: str, copies: list[list[str]]) -> bool:
    """Whether an image copies `path` from the repository to the same path under its WORKDIR."""
    path = path.rstrip("/")
    for *sources, destination in copies:
        for source in sources:
            if source.rstrip("/") != path:
                continue
            if destination.rstrip("/") == path:
                return True
            # A file into its own folder: COPY widget/coach-widget.js widget/
            if not source.endswith("/") and destination == str(Path(path).parent) + "/":
                return True
    return False


# --- the project's own configuration ---------------------------------------------------------


def read_yaml(name: str) -> dict:
    return yaml.safe_load((PROJECT_ROOT / name).read_text()) or {}


def assignment(name: str, pattern: str) -> str:
    match = re.search(pattern, (PROJECT_ROOT / name).read_text(), re.MULTILINE)
    assert match, f"{name} no longer matches {pattern!r}: update this test"
    return match.group(1)


ENDPOINTS = read_yaml("endpoints.yml")
CREDENTIALS = read_yaml("credentials.yml")
ACTION_URL = urlsplit(ENDPOINTS["action_endpoint"]["url"])
RASA_PORT = int(assignment("scripts/start.sh", r"port=\$\{RASA_PORT:-(\d+)\}"))
ACTIONS_PORT = int(assignment("scripts/start.sh", r"^actions_port=(\d+)"))
MODEL = assignment("Makefile", r"^MODEL := (\S+)$")
WIDGET_CLIENT = assignment("Makefile", r"^WIDGET_CLIENT := (\S+)$")
(SPACY_PIPELINE,) = [
    c["model"] for c in read_yaml("config.yml")["pipeline"] if c["name"] == "SpacyNLP"
]


def variables_read_by_settings() -> set[str]:
    source = (PROJECT_ROOT / "common" / "settings.py").read_text()
    return set(
        re.findall(r"(?:environ\.get\(|getenv\(|environ\[)\s*[\"']([A-Z][A-Z0-9_]*)", source)
    )


def variables_in_operators_guide() -> set[str]:
    guide = (PROJECT_ROOT / "docs" / "operators.md").read_text()
    start = guide.index("\n## Configuration\n")
    section = guide[start : guide.find("\n## ", start + 1)]
    names = set()
    for row in section.splitlines():
        if row.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1]))
    return names


KNOWN_VARIABLES = variables_read_by_settings() | variables_in_operators_guide()


def defined_in_project(dotted_path: str) -> bool:
    """Whether `package.module.Class` is a class defined in this project's source."""
    module, _, name = dotted_path.rpartition(".")
    path = PROJECT_ROOT.joinpath(*module.split(".")).with_suffix(".py")
    if not path.is_file():
        return False
    tree = ast.parse(path.read_text())
    return any(isinstance(node, ast.ClassDef) and node.name == name for node in tree.body)


def top_level_imports(package: str) -> set[str]:
    """The top-level modules that the modules under `package` import ("yaml", "common", ...)."""
    imported = set()
    for path in (PROJECT_ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
    return imported


def project_packages_imported_by(package: str) -> set[str]:
    """The project's own top-level packages that the modules under `package` import, as
    "name/" (e.g. {"common/"}), the package itself excepted."""
    return {
        f"{name}/"
        for name in top_level_imports(package) - {package}
        if (PROJECT_ROOT / name / "__init__.py").is_file()
    }


def distribution_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def installed_providers() -> dict[str, set[str]]:
    """Top-level module -> the installed distributions that provide it."""
    # importlib.metadata.packages_distributions() of Python 3.10 reads only top_level.txt, which
    # rasa-sdk's wheel lacks: the top-level modules are read from the installed files instead.
    providers = defaultdict(set)
    for distribution in distributions():
        name = distribution_name(distribution.metadata["Name"])  # parses METADATA: once each
        for file in distribution.files or []:
            if file.suffix == ".py" and file.parts[0] != "..":
                providers[file.parts[0] if len(file.parts) > 1 else file.stem].add(name)
    return providers


def distributions_imported_by(package: str) -> set[str]:
    """The installed distributions that provide what the modules under `package` import (the
    standard library and the project's own packages provide the rest)."""
    providers = installed_providers()
    return {name for module in top_level_imports(package) for name in providers.get(module, ())}


def pip_installed(path: Path) -> set[str]:
    """The distributions a Dockerfile's `pip install -c requirements.lock ...` names."""
    text = path.read_text().replace("\\\n", " ")
    named = set()
    for command in re.findall(r"pip install ([^&\n]*-c requirements\.lock[^&\n]*)", text):
        named |= {distribution_name(word) for word in command.split() if word[0].isalpha()}
    return named - {"requirements-lock"}


# --- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        RASA_VALUES_FILE,
        SECRETS_FILE,
        ACTION_SERVER_FILE,
        MIGRATE_JOB_FILE,
        RASA_DOCKERFILE,
        ACTIONS_DOCKERFILE,
    ],
    ids=lambda path: str(path.relative_to(DEPLOY)),
)
def test_the_deployment_files_are_there(path):
    assert path.is_file()


@pytest.mark.parametrize(
    "path",
    sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")]),
    ids=lambda path: str(path.relative_to(DEPLOY)),
)
def test_every_yaml_file_under_deploy_parses(path):
    assert documents(path), "empty"


# --- ports and addresses ---------------------------------------------------------------------


def test_the_rasa_server_listens_on_the_port_make_run_uses():
    assert RASA_PORT == 5005
    assert APP["port"] == RASA_PORT
    assert RASA_VALUES["service"]["port"] == RASA_PORT
    assert int(option(RASA_VALUES["args"], "--port")) == RASA_PORT


def test_the_action_server_listens_where_endpoints_yml_points():
    assert ACTION_URL.port == ACTIONS_PORT == 5055
    assert int(option(ACTION_CONTAINER["command"], "--port")) == ACTIONS_PORT
    assert port_number(ACTION_CONTAINER, "http") == ACTIONS_PORT
    (service_port,) = ACTION_SERVICE["spec"]["ports"]
    assert service_port["port"] == ACTIONS_PORT
    assert port_number(ACTION_CONTAINER, service_port["targetPort"]) == ACTIONS_PORT


def test_the_service_selects_the_action_server_pods():
    pod_labels = ACTION_DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert ACTION_SERVICE["spec"]["selector"].items() <= pod_labels.items()
    assert ACTION_DEPLOYMENT["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_rasa_calls_the_action_server_through_its_service():
    action_server = RASA_VALUES["rasa-action-server"]
    assert action_server["install"] is False and action_server["external"]["enabled"] is True
    url = urlsplit(action_server["external"]["url"])
    assert url.hostname == ACTION_SERVICE["metadata"]["name"]
    assert url.port == ACTION_SERVICE["spec"]["ports"][0]["port"]
    assert url.path == ACTION_URL.path


@pytest.mark.parametrize("probe", ["readinessProbe", "livenessProbe"])
def test_the_action_server_is_probed_on_its_health_endpoint(probe):
    check = ACTION_CONTAINER[probe]["httpGet"]
    assert check["path"] == "/health"
    assert port_number(ACTION_CONTAINER, check["port"]) == ACTIONS_PORT


@pytest.mark.parametrize(
    "path, port",
    [(RASA_DOCKERFILE, RASA_PORT), (ACTIONS_DOCKERFILE, ACTIONS_PORT)],
    ids=["rasa.Dockerfile", "actions.Dockerfile"],
)
def test_each_image_starts_its_server_on_the_same_port(path, port):
    _, cmd = dockerfile(path)
    assert int(option(cmd, "--port")) == port
    assert f"EXPOSE {port}" in path.read_text()


# --- stores, channels, model -----------------------------------------------------------------


@pytest.mark.parametrize(
    "section, store", [("trackerStore", "tracker_store"), ("lockStore", "lock_store")]
)
def test_the_stores_are_the_projects_own_as_in_endpoints_yml(section, store):
    settings = APP["endpoints"][section]
    assert settings["enabled"] is True
    assert settings["type"] == ENDPOINTS[store]["type"]
    assert defined_in_project(settings["type"]), settings["type"]


@pytest.mark.parametrize(
    "section, key", [(s, k) for s, keys in CHART_DEFAULT_KEYS.items() for k in keys]
)
def test_the_charts_environment_based_store_defaults_are_deleted(section, key):
    settings = APP["endpoints"][section]
    assert key in settings and settings[key] is None


def test_no_setting_names_a_variable_the_deployment_does_not_set():
    # Rasa fills "${NAME}" in credentials and endpoints from the environment, or refuses to start.
    referenced = set(re.findall(r"\$\{(\w+)\}", json.dumps(APP)))
    assert referenced <= {entry["name"] for _, entry in ENV}


def test_the_channels_are_those_of_credentials_yml():
    channels = APP["credentials"]["additionalChannelCredentials"]
    assert APP["credentials"]["enabled"] is True
    assert {name: settings or {} for name, settings in channels.items()} == {
        name: settings or {} for name, settings in CREDENTIALS.items()
    }


@pytest.mark.parametrize("channel", sorted(CREDENTIALS))
def test_each_channel_is_a_class_of_this_project(channel):
    assert channel in APP["credentials"]["additionalChannelCredentials"]
    assert defined_in_project(channel), channel


def test_the_server_runs_the_model_the_makefile_trains():
    assert MODEL == assignment("scripts/start.sh", r"^model=(\S+)$") == "models/coach.tar.gz"
    assert option(RASA_VALUES["args"], "--model") == MODEL
    # The chart would otherwise mount its own (downloaded or freshly trained) models over ours.
    assert APP["initialModel"] == "" and APP["trainInitialModel"] is False


def test_the_http_api_stays_off_as_with_make_run():
    assert "--enable-api" not in RASA_VALUES["args"] and APP["enableAPI"] is False


@pytest.mark.parametrize(
    "path",
    [
        MODEL,
        SPACY_PIPELINE,
        WIDGET_CLIENT,
        "addons/",
        "knowledge/questions.yml",  # the featurizer's knowledge ranking
        *project_packages_imported_by("addons"),
    ],
)
def test_the_rasa_image_holds_what_the_server_loads_by_relative_path(path):
    copies, _ = dockerfile(RASA_DOCKERFILE)
    assert copied_to_the_same_place(path, copies), f"{path} is not copied to the same path"


def test_the_rasa_image_does_not_need_the_action_servers_code():
    copies, _ = dockerfile(RASA_DOCKERFILE)
    assert "actions/" not in project_packages_imported_by("addons")
    assert not copied_to_the_same_place("actions/", copies)


def test_the_rasa_image_runs_that_model_by_default_too():
    _, cmd = dockerfile(RASA_DOCKERFILE)
    assert option(cmd, "--model") == MODEL


@pytest.mark.parametrize(
    "path",
    sorted(
        {"actions/", "knowledge/", "migrations/"}
        | project_packages_imported_by("actions")
        | project_packages_imported_by("migrations")
    ),
)
def test_the_action_server_image_holds_its_code_content_and_migrations(path):
    copies, _ = dockerfile(ACTIONS_DOCKERFILE)
    assert copied_to_the_same_place(path, copies), f"{path} is not copied to the same path"


@pytest.mark.parametrize(
    "distribution",
    sorted(
        distributions_imported_by("actions")
        | distributions_imported_by("common")
        | distributions_imported_by("migrations")
    ),
)
def test_the_action_server_image_installs_what_its_code_imports(distribution):
    assert distribution in pip_installed(ACTIONS_DOCKERFILE)


# --- replicas and stickiness -----------------------------------------------------------------


def test_two_replicas_of_each_server():
    assert RASA_VALUES["replicaCount"] == 2
    assert not RASA_VALUES.get("autoscaling", {}).get("enabled", False)
    assert ACTION_DEPLOYMENT["spec"]["replicas"] == 2


def test_the_widgets_socket_io_sessions_stick_to_one_rasa_replica():
    # Rasa's socket.io channel keeps its sessions in one process.
    assert RASA_VALUES["ingress"]["enabled"] is True
    annotations = RASA_VALUES["ingress"]["annotations"]
    sticky = annotations.get("nginx.ingress.kubernetes.io/upstream-hash-by") or (
        annotations.get("nginx.ingress.kubernetes.io/affinity") == "cookie"
    )
    assert sticky, "with more than one replica the ingress needs session affinity"


# --- environment variables and secrets -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(variables_read_by_settings()))
def test_every_variable_the_project_reads_is_documented_for_operators(name):
    assert name in variables_in_operators_guide()


@pytest.mark.parametrize(
    "where, name",
    sorted({(where, entry["name"]) for where, entry in ENV}),
    ids=lambda value: value,
)
def test_every_variable_the_deployment_sets_is_one_the_project_reads(where, name):
    assert name in KNOWN_VARIABLES, (
        f"{where} sets {name}, which neither common/settings.py nor the Configuration table "
        "of docs/operators.md names"
    )


@pytest.mark.parametrize(
    "workload, needed",
    [("rasa-server", RASA_SERVER_NEEDS), ("action-server", ACTION_SERVER_NEEDS)],
    ids=["rasa-server", "action-server"],
)
def test_each_server_gets_the_variables_that_make_its_replicas_share_state(workload, needed):
    assert needed <= {entry["name"] for where, entry in ENV if where == workload}


@pytest.mark.parametrize(
    "where, entry",
    [(where, entry) for where, entry in ENV if SECRET_NAMED.search(entry["name"])],
    ids=lambda value: value if isinstance(value, str) else value["name"],
)
def test_secrets_are_referenced_by_name_never_written_as_values(where, entry):
    assert "value" not in entry and "secretKeyRef" in entry.get("valueFrom", {})


@pytest.mark.parametrize(
    "where, ref",
    SECRET_REFS,
    ids=lambda value: value if isinstance(value, str) else value["key"],
)
def test_every_secret_key_referenced_is_in_the_example_secret(where, ref):
    assert ref["name"] == SECRET["metadata"]["name"]
    assert ref["key"] in SECRET["stringData"]


def test_every_key_of_the_example_secret_is_used():
    assert set(SECRET["stringData"]) == {ref["key"] for _, ref in SECRET_REFS}


@pytest.mark.parametrize("key", sorted(SECRET["stringData"]))
def test_the_example_secret_holds_placeholders_only(key):
    assert SECRET["stringData"][key] == PLACEHOLDER


@pytest.mark.parametrize(
    "path",
    sorted(path for path in DEPLOY.rglob("*") if path.is_file()),
    ids=lambda path: str(path.relative_to(DEPLOY)),
)
def test_no_file_under_deploy_holds_a_real_looking_secret(path):
    text = path.read_text()
    found = [kind for kind, pattern in SECRET_LOOKING.items() if re.search(pattern, text)]
    assert found == []
