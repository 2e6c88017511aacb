"""The local stack: the service on embedded defaults (moto server for AWS, the sandbox for SmartAccounts)."""
