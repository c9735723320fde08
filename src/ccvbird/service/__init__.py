"""Use cases. They orchestrate domain code through the ports and never import an adapter."""
