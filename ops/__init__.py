"""Running Conclave locally: the PostgreSQL cluster and the supervisor-managed stack of `make up`."""
