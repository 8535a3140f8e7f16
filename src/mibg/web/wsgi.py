"""WSGI entry point: ``mibg.web.wsgi:application`` for any WSGI server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mibg.web.settings")
application = get_wsgi_application()
