"""The SmartAccounts API adapter: the only code in the service that talks to SmartAccounts.

``protocol`` holds every wire decision, ``client`` the behaviour (retries, paging, rate guard), ``models`` the wire
models, ``errors`` the error taxonomy and ``rate_guard`` the per-key request guard shared by all invocations.

Import from the modules themselves: the package imports nothing, so that a function which only needs, say, the
error taxonomy does not load the HTTP client (requests) at its cold start.
"""
