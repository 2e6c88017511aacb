"""Logger, tracer and metrics, created once for the whole service."""

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# Requests that emit no metric (most reads) are normal; Powertools would warn about each one.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
# Only what the service calls out through is patched (and only when tracing is on: Powertools does nothing when it is
# disabled), not every library X-Ray knows.
tracer = Tracer(patch_modules=["botocore", "requests"])
metrics = Metrics(namespace="UkuSmartAccounts")
