"""Model backends, one module each; every module registers a :class:`alu.models.Backend`."""
