"""Logger, tracer and metrics, created once for the whole service."""

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# Requests that emit no metric (most reads) are normal; Powertools would warn about each one.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="UkuSmartAccounts")
