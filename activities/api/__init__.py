"""REST API v1 resources of activities: tasks."""
