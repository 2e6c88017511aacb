"""Fixtures of the integration tier that drive the local stack as the Uku front end does."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.local_company import Admin, Company, company_factory


@pytest.fixture
def admin(stack) -> Admin:
    """The sandbox's admin interface (keys, quotas, faults, raw documents, request counts)."""
    return Admin(stack.sandbox.admin_url)


@pytest.fixture
def make_company(stack, admin: Admin) -> Callable[..., Company]:
    return company_factory(stack, admin)
