"""HTTP function: summary tasks, sync history, notifications and Uku lookups (topics, custom task fields, clients).
Reads summary tasks and history; writes only the configuration table (Uku store, notification read marks)."""

from smartaccounts_sync.api.handler import http_handler

lambda_handler = http_handler("reads")
