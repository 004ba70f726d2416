"""The ecommerce example: a template project (``project/``) and its raw-data generator."""
