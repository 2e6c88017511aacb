"""One router per concept of the help page; `smartaccounts_sync.api.app` includes them all."""
