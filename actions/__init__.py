"""Custom actions of the career coach. The action server imports every module here; the start-up
work (building the knowledge base, migrating the learner database) is in actions/startup.py."""
