"""segsql's own tables in the warehouse, the statements that write them, and the fault
points of a write. Below the adapters (which execute these statements) and the runner."""
