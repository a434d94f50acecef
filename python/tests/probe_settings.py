"""A setting of probe_state's model, in a module of its own."""
FACTOR = 1.0
