"""The rule policy finds the same rules with addons/rule_keys.py as with Rasa's own method, for
every rule of the trained model, and rules of the kinds it has none of, against conversations
made of the rules' own states."""

import itertools
import json
import random
import tarfile

import pytest
from rasa.core.policies.rule_policy import RulePolicy

import addons  # noqa: F401  (installs the replacement, as the Rasa server's first addon import does)
from addons import rasa_patches
from addons.rule_keys import possible_keys
from scripts.local_servers import DEFAULT_MODEL

pytestmark = pytest.mark.model  # skipped without a trained model (tests/conftest.py)


@pytest.fixture(scope="module")
def lookups() -> dict[str, dict[str, str]]:
    """The trained rule policy's lookups, by kind (rules, rules for a loop's unhappy path...)."""
    with tarfile.open(DEFAULT_MODEL) as model:
        member = next(m for m in model if m.name.endswith("rule_policy.json"))
        return json.load(model.extractfile(member))["lookup"]


# Rules of kinds the model may lack: one that starts a conversation (no action before it), one
# after a bot's text rather than an action, one after an action that must not have run.
OTHER_KINDS = {
    json.dumps([{"user": {"intent": "greet"}}]): "utter_greet",
    json.dumps([{"prev_action": {"action_text": "Hi!"}, "user": {"intent": "affirm"}}]): "a",
    json.dumps([{"prev_action": {"action_name": "should_not_be_set"}}]): "b",
    json.dumps([{"prev_action": {"action_name": "action_listen", "action_text": "x"}}]): "c",
}


def as_in_a_conversation(state: dict) -> dict:
    """A rule's state as a conversation's: featurized values are tuples, not JSON's lists."""
    return {
        part: {key: tuple(v) if isinstance(v, list) else v for key, v in sub.items()}
        for part, sub in state.items()
    }


def conversations(lookup: dict[str, str]) -> list[list[dict]]:
    """Each rule's own states, alone, after the start of a conversation, and after another rule's
    (a seeded sample of the pairs): histories that match some rules and not others."""
    rules = [[as_in_a_conversation(s) for s in RulePolicy._rule_key_to_state(k)] for k in lookup]
    pairs = random.Random(19).sample(list(itertools.permutations(rules, 2)), 2000)
    return [[]] + rules + [[{}] + rule for rule in rules] + [a + b for a, b in pairs]


def test_it_finds_the_rules_rasa_finds(lookups):
    policy = RulePolicy.__new__(RulePolicy)  # the methods compared use none of its settings
    rasas_own = rasa_patches.original(RulePolicy, "_get_possible_keys")
    compared = 0
    for kind in ("rules", "rules_for_loop_unhappy_path"):
        lookup = {**lookups[kind], **OTHER_KINDS}
        for states in conversations(lookup):
            found = possible_keys(policy, lookup, states)
            assert found == rasas_own(policy, lookup, states), states
            compared += bool(found)
    assert compared > 1000  # most histories match some rule: the comparison is not of empties
