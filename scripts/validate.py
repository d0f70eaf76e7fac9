"""`rasa data validate`, failing on every warning but one kind that Rasa gets wrong here.

Rasa's validator warns about each response that no story or rule names ("The utterance
'utter_noted' is not used in any story or rule"), and --fail-on-warnings then fails. Responses
this project's actions send by name (dispatcher.utter_message(response=...)) and the questions
Rasa's forms ask by themselves (utter_ask_<slot>) are used, just not from a story. Those warnings
are expected; any other warning, or a response nothing uses, fails.

    python -m scripts.validate          # make validate
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from common.settings import PROJECT_ROOT

UNUSED_RESPONSE = re.compile(r"The utterance '(\w+)' is not used in any story or rule\.")
WARNING = re.compile(r"UserWarning: (.*)")


def responses_used_outside_stories() -> set[str]:
    """Responses the actions send by name, and the questions forms ask (utter_ask_<slot>)."""
    source = "\n".join(path.read_text() for path in (PROJECT_ROOT / "actions").glob("*.py"))
    sent = set(re.findall(r"[\"'](utter_\w+)[\"']", source))
    # Names built from a prefix: f"utter_not_covered_{gap.kind}" sends every utter_not_covered_*.
    prefixes = re.findall(r"f[\"'](utter_\w+?)\{", source)
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    slots = {slot for form in domain["forms"].values() for slot in form["required_slots"]}
    responses = set(domain["responses"])
    built = {name for name in responses if any(name.startswith(p) for p in prefixes)}
    return sent | built | {f"utter_ask_{slot}" for slot in slots}


def unexpected_warnings(output: str) -> list[str]:
    expected = responses_used_outside_stories()
    warnings = [match.group(1).strip() for match in WARNING.finditer(output)]
    return [
        warning
        for warning in warnings
        if not ((m := UNUSED_RESPONSE.search(warning)) and m.group(1) in expected)
    ]


def main() -> int:
    rasa = str(Path(sys.executable).parent / "rasa")
    result = subprocess.run(
        [rasa, "data", "validate"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    problems = unexpected_warnings(output)
    if result.returncode != 0 or problems:
        print(output[-3000:] if result.returncode != 0 else "\n".join(problems))
        return 1
    print("Training data and domain: valid, no unexpected warnings.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
