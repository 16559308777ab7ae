"""The reliability checks (soak.py, db_fault.py, worker_fault.py), in modules new checks reuse."""
