# The action server. Build from the repository root:
#
#   docker build -f deploy/docker/actions.Dockerfile -t registry.example.org/coach/action-server:1.0.0 .
#
# deploy/kubernetes/action-server.yaml runs it; deploy/kubernetes/migrate-job.yaml too.
FROM python:3.10-slim

WORKDIR /app

# Only what actions/, common/ and migrations/ import, at the versions requirements.lock pins (-c): no
# Rasa, no TensorFlow.
COPY requirements.lock ./
RUN pip install --no-cache-dir "pip==24.0" \
 && pip install --no-cache-dir -c requirements.lock rasa-sdk SQLAlchemy alembic psycopg2-binary PyYAML dateparser \
      spacy-lookups-data

COPY actions/ actions/
COPY common/ common/
# The knowledge base is built from knowledge/ (KNOWLEDGE_DIR) and the learner database is
# migrated with migrations/, both on start.
COPY knowledge/ knowledge/
COPY migrations/ migrations/

ENV PYTHONPATH=/app \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    PYTHONWARNINGS=ignore

RUN mkdir -p var && chown 1001 /app/var
USER 1001

EXPOSE 5055
CMD ["python", "-m", "rasa_sdk", "--actions", "actions", "--port", "5055"]
