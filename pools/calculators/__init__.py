"""Learn calculators (impermanent loss, APR <-> APY, break-even fee APR): pages and API.

``inputs`` parses and caps inputs and calls the pure maths in ``pools.amm`` and
``pools.yields``; ``views``/``forms`` are the web pages, ``api``/``api_urls`` the REST API.
"""
