"""System Control → Simulator: drive the simulated hardware of any charge point (Manufacturer)."""
