"""Check the action server's replies against Rasa's schema, compiled once instead of per reply.

Rasa 3.6's RemoteAction calls `jsonschema.validate(result, schema)` for every reply from the action
server, and that call first validates the schema itself against the JSON Schema metaschema. On
this machine that is about 20 ms of CPU per custom action, the largest single cost of a message
in the Rasa server's profile (py-spy, README "Speed"). The reply is still checked in full; only
the schema's own check is done once.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
from rasa.core.actions.action import RemoteAction

_rasa_validate = RemoteAction._validate_action_result


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if _validator().is_valid(result):
        return True
    return _rasa_validate(self, result)  # raises with Rasa's own explanation


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
