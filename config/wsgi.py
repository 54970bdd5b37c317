import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_wsgi_application()

# Everything loaded at start-up (Django, the apps, the libraries: hundreds of thousands of
# objects that live as long as the process) moves out of the collector's reach, so a full
# collection during a request walks only what requests created, not all of that again.
gc.freeze()
