"""gunicorn's settings for the web app, as deployed (`docs/deploy.md`) and as the bench runs it.

    gunicorn --config python:booking.gunicorn_config --bind 127.0.0.1:8000 "booking:create_app()"

Measured on 2 cores at national scale (`docs/benchmarks.md`, eighth round).
"""

import os

# Python runs one thread of a process at a time: one worker more than cores, two threads each, so that a core
# does not idle while a worker's requests wait on PostgreSQL (search p95 37-47 ms against 48-66 ms with 2 x 4).
workers = (os.cpu_count() or 2) + 1
threads = 2
worker_class = "gthread"
# A gthread worker accepts connections as long as it holds fewer than this, and queues them for its threads:
# with gunicorn's default (1,000), one worker took connections while another sat idle, and they waited behind
# its requests (booking p95 101-161 ms). At its thread count, a worker takes only what it can serve at once;
# the rest wait in the kernel's queue for the first free worker (p95 57-79 ms, bookings a second up by 8-26 %).
# A worker still answers the arbiter during a long response (the open-slots feed streams for a minute at
# national scale), which a sync worker would not: it would be killed after `timeout`.
worker_connections = threads
# nginx speaks to gunicorn one request per connection; a kept-alive connection would also hold a worker's place.
keepalive = 0
# The longest request line gunicorn reads (its default is 4094). The application refuses addresses over
# MAX_URL_BYTES itself, in French or in JSON under /api/: gunicorn's own refusal is an HTML page in English.
limit_request_line = 8190
