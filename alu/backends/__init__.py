"""Model backends; each module registers itself with ``alu.models.register_backend``."""
