"""Extensions loaded by the Rasa server itself (not the action server), by module path.

Rasa imports this package for the tracker store, the lock store, the featurizer and the channels,
so whatever `rasa` command runs this project (run, shell, test; scripts.quiet_rasa or plain
`rasa`, as in the Docker image) installs the fixes below before its first message: the tracker
store in endpoints.yml is created before the model is loaded and any message is handled. Each
replaces a Rasa method (Rasa has no hook for these), through addons/rasa_patches.py, which
refuses to start (IncompatibleRasa) if the installed Rasa is not the version they were written
for.
"""

from addons import (
    action_connections,
    action_response_check,
    action_server_guard,
    event_types,
    rule_keys,
)

action_response_check.install()  # the action server's replies checked without 20 ms of overhead
action_server_guard.install()  # a reply within 3 s when the action server is down or hung
event_types.install()  # events deserialised without walking Rasa's class tree each time
action_connections.install()  # calls to the action server reuse their connections under load
rule_keys.install()  # the rule policy's matching without decoding every rule again
