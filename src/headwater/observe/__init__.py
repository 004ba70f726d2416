"""Observe: SLIs from the ledger and table metadata, SLOs and error budgets, burn-rate alerts,
anomalies, schema-change events, incidents, postmortems and alert sinks.

Entry point: ``Platform.observe`` (an :class:`headwater.observe.service.ObserveService`).
"""
