"""segsql: dynamic customer segments compiled to SQL and refreshed inside your warehouse."""

__version__ = "0.1.0"
