"""Diagnosis: walk upstream from a late or slow product to the cause, from run metadata alone."""
