"""The load mix (locust): who uses Yieldledger and how, in proportions.

Run through ``benchmarks/load/run.py`` (it starts the production setup and locust
headless), or by hand against a running site seeded by ``benchmarks.load.seed``:

    .venv/bin/locust -f benchmarks/load/locustfile.py --headless -u 40 -r 10 -t 2m \\
        --host http://127.0.0.1:8000

* ``Visitor`` (weight 5): anonymous browsing - the home page, the pool explorer with
  filters and orderings, a pool's page, the Learn pages.
* ``Member`` (weight 3): logs in through the form once, then the dashboard, the
  portfolio page, its transactions, the tax page.
* ``MobileApp`` (weight 3): the API with a token - pool lists, the user's portfolios,
  transactions and positions.
* ``Importer`` (weight 1): imports a small CSV through the API (a new one each time).
* ``TaxRequester`` (weight 1): requests a tax report through the API and polls it.

Requests are named by endpoint (``name=``), so the statistics are per endpoint, not per
URL. Wait times are short (0.5-2 s): a busy site, not a benchmark of one request.
"""

from __future__ import annotations

import random
import re
import uuid

from locust import HttpUser, between, task

from benchmarks.load.seed import EMAIL, PASSWORD, token_for

USERS = 1000
POOL_QUERIES = [
    "", "ordering=apy", "ordering=-tvl", "chain=ethereum&ordering=apy", "chain=base&min_tvl=1000000",
    "stablecoin=true&ordering=apy", "token=usdc&ordering=apy", "kind=stableswap&ordering=risk", "page=5",
]


def some_user() -> int:
    return random.randint(1, USERS)


class Visitor(HttpUser):
    weight = 5
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        listed = self.client.get("/api/v1/pools/?ordering=-tvl", name="/api/v1/pools/ (anonymous)").json()
        self.pool_ids = [row["id"] for row in listed.get("results", [])] or [1]

    @task(2)
    def home(self) -> None:
        self.client.get("/", name="/")

    @task(4)
    def explorer(self) -> None:
        self.client.get(f"/pools/?{random.choice(POOL_QUERIES)}", name="/pools/ (explorer)")

    @task(3)
    def pool_page(self) -> None:
        self.client.get(f"/pools/{random.choice(self.pool_ids)}/", name="/pools/<id>/")

    @task(1)
    def learn(self) -> None:
        self.client.get("/learn/", name="/learn/")


class Member(HttpUser):
    weight = 3
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        form = self.client.get("/accounts/login/", name="/accounts/login/ (form)")
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        self.client.post("/accounts/login/", name="/accounts/login/ (POST)", allow_redirects=False,
                         data={"csrfmiddlewaretoken": found.group(1) if found else "",
                               "login": EMAIL.format(n=some_user()), "password": PASSWORD},
                         headers={"Referer": f"{self.host}/accounts/login/"})
        dashboard = self.client.get("/portfolios/", name="/portfolios/ (dashboard)")
        ids = re.findall(r'href="/portfolios/(\d+)/"', dashboard.text)
        self.portfolio_id = ids[0] if ids else None

    @task(4)
    def dashboard(self) -> None:
        self.client.get("/portfolios/", name="/portfolios/ (dashboard)")

    @task(2)
    def portfolio(self) -> None:
        if self.portfolio_id:
            self.client.get(f"/portfolios/{self.portfolio_id}/", name="/portfolios/<id>/")

    @task(2)
    def transactions(self) -> None:
        if self.portfolio_id:
            self.client.get(f"/portfolios/{self.portfolio_id}/transactions/", name="/portfolios/<id>/transactions/")

    @task(1)
    def tax(self) -> None:
        self.client.get("/tax/", name="/tax/")


class ApiUser(HttpUser):
    abstract = True
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Token {token_for(some_user())}"
        mine = self.client.get("/api/v1/portfolios/", name="/api/v1/portfolios/").json()
        self.portfolio_id = mine["results"][0]["id"] if mine.get("results") else None


class MobileApp(ApiUser):
    weight = 3

    @task(4)
    def pools(self) -> None:
        self.client.get(f"/api/v1/pools/?{random.choice(POOL_QUERIES)}", name="/api/v1/pools/")

    @task(2)
    def portfolios(self) -> None:
        self.client.get("/api/v1/portfolios/", name="/api/v1/portfolios/")

    @task(2)
    def transactions(self) -> None:
        self.client.get("/api/v1/transactions/", name="/api/v1/transactions/")

    @task(1)
    def positions(self) -> None:
        self.client.get("/api/v1/positions/", name="/api/v1/positions/")


class Importer(ApiUser):
    weight = 1

    @task
    def import_csv(self) -> None:
        if not self.portfolio_id:
            return
        ref = uuid.uuid4().hex[:12]
        day = f"2025-0{random.randint(1, 9)}-{random.randint(10, 28)}T10:00:00Z"
        rows = [
            "tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note",
            f"{ref}a,{day},buy,,ETH,0.1,300,false,,load",
            f"{ref}a,{day},buy,,USD,-300,300,false,,",
            f"{ref}b,{day},reward,staking,ETH,0.001,3,false,,",
        ]
        self.client.post(f"/api/v1/portfolios/{self.portfolio_id}/import/", name="/api/v1/portfolios/<id>/import/",
                         data={"format": "native", "commit": "true"},
                         files={"file": ("load.csv", "\n".join(rows).encode(), "text/csv")})


class TaxRequester(ApiUser):
    weight = 1

    @task
    def request_report(self) -> None:
        year = random.choice([2024, 2025])
        with self.client.post("/api/v1/tax-reports/", name="/api/v1/tax-reports/ (request)",
                              json={"year": year, "jurisdiction": "us", "method": random.choice(["fifo", "hifo"])},
                              catch_response=True) as response:
            if response.status_code in (200, 201, 202):
                response.success()
                report = response.json().get("id")
                if report:
                    self.client.get(f"/api/v1/tax-reports/{report}/", name="/api/v1/tax-reports/<id>/")
