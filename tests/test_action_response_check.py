"""The action server's replies are still checked against Rasa's schema, with it compiled once:
the replacement accepts and refuses exactly what Rasa's own check does, with Rasa's explanation."""

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import addons  # noqa: F401  (installs the check, as the Rasa server's first addon import does)
from addons import rasa_patches
from addons.action_response_check import validate_with_compiled_schema

rasa_validate = rasa_patches.original(RemoteAction, "_validate_action_result")


@pytest.fixture
def remote_action() -> RemoteAction:
    return RemoteAction("action_answer_topic", None)


def test_the_rasa_server_uses_the_compiled_check():
    assert RemoteAction._validate_action_result is validate_with_compiled_schema
    assert rasa_validate.__module__ == "rasa.core.actions.action"


@pytest.mark.parametrize(
    "reply",
    [
        {"events": [], "responses": []},
        {"events": [{"event": "slot", "name": "target_role", "value": "cpm"}]},
        {"responses": [{"text": "Hi", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]},
    ],
)
def test_valid_replies_pass_as_in_rasa(remote_action, reply):
    assert rasa_validate(remote_action, reply) is True
    assert remote_action._validate_action_result(reply) is True


@pytest.mark.parametrize(
    "reply",
    [
        {"events": "not a list"},
        {"events": [{"no_event_name": 1}]},
        {"responses": "text"},
    ],
)
def test_invalid_replies_are_refused_with_rasas_explanation(remote_action, reply):
    with pytest.raises(jsonschema.ValidationError) as by_rasa:
        rasa_validate(remote_action, reply)
    with pytest.raises(jsonschema.ValidationError) as by_the_replacement:
        remote_action._validate_action_result(reply)
    assert str(by_the_replacement.value) == str(by_rasa.value)
    assert "Failed to validate Action server" in by_rasa.value.message
