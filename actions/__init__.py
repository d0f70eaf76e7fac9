"""Custom actions of the career coach.

The action server imports this package when it starts: building the knowledge base (if missing
or stale) and migrating the learner database here means a fresh checkout answers from the first
message, and an operator's existing learner database is upgraded in place.
"""

from actions.knowledge_base import default_knowledge_base
from actions.learner_store import default_progress_store

default_knowledge_base()
default_progress_store()
