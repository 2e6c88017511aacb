"""Uku ↔ SmartAccounts sync service: domain core, adapters and HTTP API shared by every Lambda function."""
