"""Saved views: a list's filters and sort under a name, private or shared with the company,
and each person's default view per list (docs/search.md)."""
