"""Prints the OpenAPI document generated from the routes and models (`make openapi` writes it to docs/)."""

from __future__ import annotations

import json

from smartaccounts_sync.api.app import build_app, openapi_document


def main() -> None:
    document = json.loads(openapi_document(build_app()))
    print(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))


if __name__ == "__main__":
    main()
