"""Custom actions of the career coach.

The action server imports this package when it starts; building the knowledge base here means a
fresh checkout answers from the first message (and a stale one is rebuilt from knowledge/).
"""

from actions.knowledge_base import default_knowledge_base

default_knowledge_base()
