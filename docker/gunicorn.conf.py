"""gunicorn settings for the image. No "Server: gunicorn" banner (ASVS V14.3.3): gunicorn
writes that header itself from a module global, read when each response starts."""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "CardioPortal"
bind = "0.0.0.0:8000"
workers = 2
threads = 4
accesslog = "-"
