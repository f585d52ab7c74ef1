"""deskalert: a panic/alert system for the front desks of public services."""

__version__ = "0.1.0"
