"""Simulators of the five source APIs, fed by one seeded synthetic estate."""
