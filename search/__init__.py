"""Global search: one box across customers, contacts, opportunities, tickets and tasks (docs/search.md)."""
