"""The action server's replies are still checked against Rasa's schema, with it compiled once."""

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import addons  # noqa: F401  (installs the check, as the Rasa server's first addon import does)
from addons.action_response_check import _validate_action_result


@pytest.fixture
def remote_action() -> RemoteAction:
    return RemoteAction("action_answer_topic", None)


def test_the_rasa_server_uses_the_compiled_check():
    assert RemoteAction._validate_action_result is _validate_action_result


@pytest.mark.parametrize(
    "reply",
    [
        {"events": [], "responses": []},
        {"events": [{"event": "slot", "name": "target_role", "value": "cpm"}]},
        {"responses": [{"text": "Hi", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]},
    ],
)
def test_valid_replies_pass(remote_action, reply):
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
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"):
        remote_action._validate_action_result(reply)
