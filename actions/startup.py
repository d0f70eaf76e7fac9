"""Run when the action server starts (it imports every module of this package): build the
knowledge base if it is missing or stale, and bring the learner database to the latest schema, so
a fresh checkout answers from the first message and an operator's database upgrades in place."""

from actions.knowledge_base import default_knowledge_base
from actions.learner_store import default_progress_store

default_knowledge_base()
default_progress_store()
