"""gunicorn settings for the image. No "Server: gunicorn" banner (ASVS V14.3.3): gunicorn
writes that header itself from a module global, read when each response starts."""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "CardioPortal"
bind = "0.0.0.0:8000"
workers = 2
threads = 4
accesslog = "-"
# The path without its query string: searches carry patients' names (/patients/?q=,
# /fhir/r4/Patient?name=), which must not land in the server's log (ASVS V8.3.1, V7.1.1).
# Last, the request's id (portal/request_ids.py), which the portal's own log lines carry.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %({x-request-id}o)s'
)
