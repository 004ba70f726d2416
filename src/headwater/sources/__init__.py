"""Sources of records for the streaming and CDC lanes, behind one small interface (see base.py)."""
