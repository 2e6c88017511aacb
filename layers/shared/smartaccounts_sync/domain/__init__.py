"""The domain core: import day calendar, field catalogue, monthly statistics and summary tasks.

Plain Python on pydantic models, with no AWS and no HTTP: adapters and handlers build on it, never the reverse.
"""
