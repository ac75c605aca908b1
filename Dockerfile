FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY newsletter newsletter
COPY worker worker
COPY templates templates
# A real install (a wheel), as anywhere else: the source is not needed at run time.
RUN pip install --no-cache-dir . && useradd --create-home newsletter \
    && mkdir -p /app/instance && chown newsletter /app/instance
# An installed package's instance folder would be under /usr/local, which is not writable.
ENV NEWSLETTER_INSTANCE_PATH=/app/instance
USER newsletter
EXPOSE 8000
CMD ["newsletter", "serve", "--host", "0.0.0.0", "--port", "8000"]
