"""Every write of the portfolios app, one module per sub-domain:

* ``portfolios``: create, rename, delete a portfolio;
* ``positions``: open, deposit/withdraw, stake/unstake, claim, close, edit,
  delete a position, and the user's own current amounts;
* ``transactions``: record, change, delete a transaction;
* ``csv_import``: preview and import a CSV file, export one;
* ``valuation``: the revaluation and the daily snapshots the tasks write;
* ``legs`` and ``errors``: what they share (leg validation and valuation, the
  kind rules, the errors meant for the user).

Import from the module (``from portfolios.services.positions import position_open``):
this package re-exports nothing, so importing one service never imports the
others (``portfolios.tasks`` imports ``valuation`` while the write services
import the tasks).
"""
