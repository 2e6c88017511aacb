"""Liveness: answers without touching any dependency, so API Gateway and monitors can call it cheaply."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

router = APIGatewayHttpRouter()


class Health(BaseModel):
    status: str


@router.get("/health", summary="Liveness", tags=["Health"])
def health() -> Health:
    return Health(status="ok")
