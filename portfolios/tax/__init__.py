"""Tax reports: a Django app inside portfolios (label ``tax``).

``engine/`` is the pure tax engine (standard library only); around it:
``models`` (reports and their files), ``inputs`` (a report's ledger and
its fingerprint), ``selectors`` (reads), ``services`` (the request),
``build`` (the build, run by ``tasks``), ``exports`` (CSV and PDF files),
``views``/``urls`` (the /tax/ pages), ``api/`` (/api/v1/tax-reports/) and the
``tax_report`` management command.  See docs/tax.md.
"""
