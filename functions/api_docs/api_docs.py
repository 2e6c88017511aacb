"""HTTP function: health, the OpenAPI document and Swagger UI of every route. Public, and no AWS permission at all."""

from smartaccounts_sync.api.handler import http_handler

lambda_handler = http_handler(None)
