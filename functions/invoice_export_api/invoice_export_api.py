"""HTTP function: invoice export records and retries. The only HTTP function that may queue an invoice export."""

from smartaccounts_sync.api.handler import http_handler

lambda_handler = http_handler("invoice_export")
