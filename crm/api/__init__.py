"""REST API v1 for integrations: the kernel's pieces (errors, paging, filters, throttling, schema, recycle bin).

Each app's resources live in its own `api/` package; `crm.api.urls` mounts them all under /api/.
"""
