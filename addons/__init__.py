"""Extensions loaded by the Rasa server itself (not the action server), by module path.

Rasa imports this package for the tracker store, the lock store, the featurizer and the channels,
so whatever `rasa` command runs this project (run, shell, test) gets the fixes installed here.
The first two replace Rasa methods (Rasa has no hook for them) through addons/rasa_patches.py,
which refuses to start (IncompatibleRasa) if the installed Rasa is not the version they were
written for.
"""

from addons import action_response_check, action_server_guard, warm_up

action_response_check.install()  # the action server's replies checked without 20 ms of overhead
action_server_guard.install()  # a reply within 3 s when the action server is down or hung
warm_up.install()  # each worker's first learner is not kept waiting while TensorFlow warms up
