"""HTTP function: reload requests (company, one client) and reload job progress. Queues import work; no secrets."""

from smartaccounts_sync.api.handler import http_handler

lambda_handler = http_handler("reload")
