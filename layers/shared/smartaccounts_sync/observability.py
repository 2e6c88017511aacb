"""Logger, tracer and metrics, created once for the whole service."""

import os
import warnings

import wrapt
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

# Requests that emit no metric (most reads) are normal; Powertools would warn about each one.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
# Only what the service calls out through is patched (and only when tracing is on: Powertools does nothing when it is
# disabled), not every library X-Ray knows. botocore is patched now (every function has boto3). requests is patched
# the moment it is imported, by the SmartAccounts client, before any request can be sent through it: X-Ray's patch
# would import it here, in every function, even those that never call SmartAccounts (reads, reloads, the docs, the
# schedule). A function that calls SmartAccounts traces those calls exactly as before.
tracer = Tracer(patch_modules=["botocore"])
if not tracer.disabled:
    wrapt.register_post_import_hook(lambda _requests: tracer.patch(["requests"]), "requests")
metrics = Metrics(namespace="UkuSmartAccounts")


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """One Powertools metric with its own dimensions (flushed at once, not mixed into the handler's metrics);
    nothing when metrics are disabled (`POWERTOOLS_METRICS_DISABLED`, as the local stack and tests set)."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=metrics.namespace) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
