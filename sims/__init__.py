"""Simulation: scenarios, spacecraft models, runner, coverage and revisit."""
