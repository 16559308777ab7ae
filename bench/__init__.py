"""The benchmark harness behind bench/run.py, in modules that reliability/ reuses."""
