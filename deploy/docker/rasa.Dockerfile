# The Rasa server with this project's model, addons/ and widget. Build from the repository root
# after `make train widget` (the model, the spaCy pipeline and the widget's socket.io client are
# build outputs, not in git):
#
#   make train widget
#   docker build -f deploy/docker/rasa.Dockerfile -t registry.example.org/coach/rasa-server:1.0.0 .
#
# deploy/helm/rasa-values.yaml runs it; the chart mounts credentials.yml and endpoints.yml.
FROM python:3.10-slim

WORKDIR /app

# The exact pinned set the tests run against (Rasa 3.6 needs Python 3.10).
COPY requirements.lock requirements-nodeps.lock ./
RUN pip install --no-cache-dir "pip==24.0" \
 && pip install --no-cache-dir -r requirements.lock \
 && pip install --no-cache-dir --no-deps -r requirements-nodeps.lock

# Rasa loads the tracker store, lock store, channels and featurizer from addons/ by module path;
# addons/ reads its settings and opens databases through common/. The action server's code
# (actions/) is not needed here.
COPY addons/ addons/
COPY common/ common/
# The featurizer ranks the knowledge base's entries by their example questions (KNOWLEDGE_DIR).
COPY knowledge/questions.yml knowledge/questions.yml
# The operators' report names the career path's milestones (addons/operator_report.py).
COPY knowledge/path.yml knowledge/path.yml
# config.yml's SpacyNLP loads the pipeline from this relative path when the model loads.
COPY build/spacy_kb/ build/spacy_kb/
COPY models/coach.tar.gz models/coach.tar.gz
# What addons/website_widget.py serves under /webhooks/widget/.
COPY widget/coach-widget.js widget/index.html widget/
COPY widget/node_modules/socket.io-client/dist/socket.io.min.js widget/node_modules/socket.io-client/dist/
COPY deploy/docker/rasa-entrypoint.sh /usr/local/bin/coach-rasa

# As the Makefile sets them for every target.
ENV PYTHONPATH=/app \
    HOME=/app \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=3 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    PYTHONWARNINGS=ignore

# A numeric non-root user (Kubernetes' runAsNonRoot can check it); Rasa writes its global
# config under HOME.
RUN mkdir -p var && chown 1001 /app /app/var
USER 1001

EXPOSE 5005
ENTRYPOINT ["coach-rasa"]
CMD ["run", "--model", "models/coach.tar.gz", "--port", "5005", "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"]
