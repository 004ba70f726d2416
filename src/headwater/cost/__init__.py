"""Cost attribution, showback, budgets, waste and retention.

Public entry point: ``Platform.cost`` (a :class:`headwater.cost.service.CostService`).
"""
