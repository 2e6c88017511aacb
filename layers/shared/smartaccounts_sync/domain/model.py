"""The base of the service's pydantic models: validators built at first use, not at import.

A cold start imports every model of the modules its handler reaches, but an invocation validates a few of them;
with ``defer_build`` each model builds its schema the first time it validates, dumps or documents, so a cold start
pays only for the ones its invocation uses (subclasses inherit the setting with their own ``model_config``).

pydantic 2.13 does not lock that first build: two threads using a model for the first time together may rebuild it
at once and race on the class's attributes (pydantic/pydantic#13419). Lambda runs one invocation at a time, but the
local stack and the tests run handlers in threads, so the build is serialised here (pydantic itself does the same
from #13438 on).
"""

from __future__ import annotations

import threading
from typing import Any

from pydantic import BaseModel, ConfigDict

_build_lock = threading.RLock()


class DeferredModel(BaseModel):
    model_config = ConfigDict(defer_build=True)

    @classmethod
    def model_rebuild(
        cls,
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        with _build_lock:
            return super().model_rebuild(
                force=force,
                raise_errors=raise_errors,
                # one frame more than pydantic expects: this override
                _parent_namespace_depth=_parent_namespace_depth + 1 if _parent_namespace_depth > 0 else 0,
                _types_namespace=_types_namespace,
            )
