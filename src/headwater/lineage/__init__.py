"""Lineage: one graph of jobs and datasets from headwater's own runs and ingested OpenLineage
events; column lineage (facet or sqlglot), impact analysis, dbt import."""
