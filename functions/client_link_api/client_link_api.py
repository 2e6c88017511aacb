"""HTTP function: a client's SmartAccounts link (link, relink, unlink, read) and the list of SmartAccounts companies.
May save and delete a client's own key pair, read the company's, call SmartAccounts and write client links."""

from smartaccounts_sync.api.handler import http_handler

lambda_handler = http_handler("client_links")
