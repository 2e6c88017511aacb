"""Uku's own topics, custom task fields and clients, as the embedded default store keeps them."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smartaccounts_sync.api.context import caller, dependencies
from smartaccounts_sync.api.models import (
    ClientIn,
    ClientOut,
    ClientsOut,
    CustomTaskFieldIn,
    CustomTaskFieldOut,
    CustomTaskFieldsOut,
    TopicIn,
    TopicOut,
    TopicsOut,
)
from smartaccounts_sync.api.presenters import client_out
from smartaccounts_sync.domain.uku import UkuClient

router = APIGatewayHttpRouter()


@router.get("/custom-task-fields", summary="Uku custom task fields", tags=["Uku"])
def list_custom_task_fields() -> CustomTaskFieldsOut:
    fields = dependencies(router).uku.list_custom_fields(caller(router).company_id)
    return CustomTaskFieldsOut(fields=[CustomTaskFieldOut(id=f.id, name=f.name, type=f.type) for f in fields])


@router.post(
    "/custom-task-fields", summary="Create a custom task field (New custom field)", tags=["Uku"], status_code=201
)
def create_custom_task_field(body: CustomTaskFieldIn) -> tuple[CustomTaskFieldOut, int]:
    who = caller(router, manage=True)
    created = dependencies(router).uku.create_custom_field(who.company_id, body.name, body.type)
    return CustomTaskFieldOut(id=created.id, name=created.name, type=created.type), 201


@router.get("/topics", summary="Uku topics", tags=["Uku"])
def list_topics() -> TopicsOut:
    topics = dependencies(router).uku.list_topics(caller(router).company_id)
    return TopicsOut(topics=[TopicOut(id=t.id, name=t.name) for t in topics])


@router.post("/topics", summary="Create a topic", tags=["Uku"], status_code=201)
def create_topic(body: TopicIn) -> tuple[TopicOut, int]:
    who = caller(router, manage=True)
    created = dependencies(router).uku.create_topic(who.company_id, body.name)
    return TopicOut(id=created.id, name=created.name), 201


@router.get("/clients", summary="Uku clients with their integration column", tags=["Clients"])
def list_clients() -> ClientsOut:
    deps = dependencies(router)
    company_id = caller(router).company_id
    links = {link.client_id: link for link in deps.links.list(company_id)}
    return ClientsOut(clients=[client_out(c, links.get(c.id)) for c in deps.uku.list_clients(company_id)])


@router.post("/clients", summary="Create a client (embedded store)", tags=["Clients"], status_code=201)
def create_client(body: ClientIn) -> tuple[ClientOut, int]:
    who = caller(router, manage=True)
    client = UkuClient(
        id=f"client-{uuid.uuid4().hex[:12]}",
        name=body.name,
        registry_code=body.registry_code,
        vat_number=body.vat_number,
        default_user_id=body.default_user_id,
    )
    dependencies(router).uku.create_client(who.company_id, client)
    return client_out(client, None), 201
