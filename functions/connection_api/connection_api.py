"""HTTP function: the integration dialog - state, enable, disable, credentials, test connection, settings, fields,
diagnostics and VAT types. May save and read its company's key pair, call SmartAccounts and write configuration."""

from smartaccounts_sync.api.handler import http_handler

lambda_handler = http_handler("connection")
