# DockerForge image: one image for web (daphne), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DOCKERFORGE_VAR_DIR=/var/lib/dockerforge DOCKERFORGE_STATIC_ROOT=/app/staticfiles

# The Compose CLI (stack operations) and the ssh client (ssh:// hosts through the SDK use paramiko).
RUN apt-get update \
 && apt-get install -y --no-install-recommends docker-compose openssh-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN pip install --no-cache-dir --no-deps -e . \
 && useradd --system --home /var/lib/dockerforge --uid 10001 dockerforge \
 && mkdir -p /var/lib/dockerforge && chown dockerforge /var/lib/dockerforge \
 && DOCKERFORGE_VAR_DIR=/tmp/build-var SECRET_KEY=build-only \
    DOCKERFORGE_ENCRYPTION_KEYS=$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
    python manage.py collectstatic --noinput -v0 \
 && rm -rf /tmp/build-var

USER dockerforge
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "dockerforge.asgi:application"]
