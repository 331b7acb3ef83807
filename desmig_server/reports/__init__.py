"""Aggregate figures per region level, computed in SQL from ``records``."""
