"""Evaluation: calibration scripts, metrics, scripted suites and reports."""
