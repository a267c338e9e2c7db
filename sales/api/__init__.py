"""REST API v1 resources of the sales app: opportunities."""
