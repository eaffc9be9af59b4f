"""The WSGI entry point servers load: the portal plus its in-process job worker.

    gunicorn "portal.wsgi:app"

A `.env` in the working directory is read first, as `cardio` reads it (variables already set
win): gunicorn started in a folder whose .env said CARDIO_ENV=production ran in development
mode, on SQLite, with insecure cookies (an ops audit). (`create_app()` alone starts no thread,
so commands and tests can build apps freely.)
"""

from flask.cli import load_dotenv

from portal import create_app, start_job_worker

load_dotenv()
app = create_app()
start_job_worker(app)
