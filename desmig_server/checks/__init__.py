"""Checks only HQ can make: they need records of several officers and villages at once."""
