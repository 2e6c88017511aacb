"""Logger, tracer and metrics, created once for the whole service."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="UkuSmartAccounts")
