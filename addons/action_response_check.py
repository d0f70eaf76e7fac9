"""Check the action server's replies against Rasa's schema, compiled once instead of per reply.

Rasa 3.6's RemoteAction calls `jsonschema.validate(result, schema)` for every reply from the action
server, and that call first validates the schema itself against the JSON Schema metaschema. On
this machine that is about 20 ms of CPU per custom action, the largest single cost of a message
in the Rasa server's profile (py-spy, README "Speed"). The reply is still checked in full; only
the schema's own check is done once. Rasa has no hook for this, so `install()` replaces
`RemoteAction._validate_action_result` (through addons/rasa_patches.py, which checks it against
the installed Rasa first).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
from rasa.core.actions.action import RemoteAction

from addons import rasa_patches


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_with_compiled_schema(self: RemoteAction, result: dict[str, Any]) -> bool:
    if _validator().is_valid(result):
        return True
    # raises with Rasa's own explanation
    return rasa_patches.original(RemoteAction, "_validate_action_result")(self, result)


PATCHES = [
    rasa_patches.Patch(
        RemoteAction,
        "_validate_action_result",
        validate_with_compiled_schema,
        written_for="3.6.21",
        signature="(self, result: Dict[str, Any]) -> bool",
    )
]


def install() -> None:
    rasa_patches.install(PATCHES)
