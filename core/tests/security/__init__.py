"""OWASP API Security Top 10 (2023), one module per risk that applies to this API.

API1 object-level authorization, API2 broken authentication, API3 object property level
authorization (mass assignment, excessive data exposure), API4 unrestricted resource
consumption (resource limits, login rate limits), API8 security misconfiguration.
"""
