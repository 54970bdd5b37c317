"""Portfolio pages, one module per part of the site:

* ``dashboard``: the dashboard (all portfolios) and one portfolio's page;
* ``portfolios``: create, rename, delete a portfolio;
* ``positions``: a position's page, opening one, deposits and withdrawals,
  claims, closing, the user's own amounts;
* ``transactions``: the list, record, edit, delete;
* ``imports``: CSV import (upload, preview, commit) and export.

Thin views: ``@login_required``, an access-checked selector
(another user's id is a 404), a form, a service, render or redirect. Figures
come from ``portfolios.selectors``, sentences from ``portfolios.explain``;
these modules only arrange them into charts and templates.
"""
