"""REST API v1 resources of the customers app: customers, contacts, interactions, tickets."""
