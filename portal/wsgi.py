"""The WSGI entry point servers load: the portal plus its in-process job worker.

    gunicorn "portal.wsgi:app"

(`create_app()` alone starts no thread, so commands and tests can build apps freely.)
"""

from portal import create_app, start_job_worker

app = create_app()
start_job_worker(app)
