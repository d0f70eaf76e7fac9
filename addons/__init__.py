"""Extensions loaded by the Rasa server itself (not the action server), by module path.

Rasa imports this package for the tracker store, the lock store, the featurizer and the channels,
so whatever `rasa` command runs this project (run, shell, test) gets the fixes installed here.
"""

from addons import action_response_check, action_server_guard, warm_up

action_response_check.install()  # the action server's replies checked without 20 ms of overhead
action_server_guard.install()  # a reply within 3 s when the action server is down or hung
warm_up.install()  # each worker's first learner is not kept waiting while TensorFlow warms up
