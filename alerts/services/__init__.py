"""Every write of the alerts app, one module per sub-domain (import from the module):

- ``watchlist``: star / unstar pools, remember what the user last saw;
- ``rules``: create, update, pause and delete alert rules; defaults for a position;
- ``evaluation``: the bulk evaluation after a refresh (notifications, once per episode);
- ``notifications``: mark read;
- ``emails``: immediate and digest emails, preferences, the signed unsubscribe.

None of them enqueues a task (``alerts.tasks`` imports them, never the reverse).
"""
