"""Alembic environment for the learner database. Run through actions.learner_store.migrate()
(make migrate, or automatically when the action server starts)."""

from alembic import context
from sqlalchemy import create_engine

from common.learner_schema import LearnerModel

url = context.config.get_main_option("sqlalchemy.url")


def run_migrations_online() -> None:
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=LearnerModel.metadata,
            render_as_batch=True,  # SQLite can only ALTER tables by copying them
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=LearnerModel.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
