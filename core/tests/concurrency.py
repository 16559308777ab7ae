"""What the concurrency tests share: requests released together from threads, each thread on a
database connection of its own, as requests on several workers would be."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient


def skip_without_real_locks() -> None:
    """Skip on SQLite's in-memory test database: one shared-cache database whose table locks
    fail at once ("database table is locked") instead of waiting, unlike a SQLite file or
    PostgreSQL."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("needs PostgreSQL or a SQLite file database (DATABASES TEST NAME)")


def client_for(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def run_at_once(jobs: list) -> list:
    """Run every job in its own thread, released together; return each result. An exception
    in any job fails the test (it is never lost in its thread), and so does a hung job."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except Exception as error:  # reported below, never lost in the thread
            results[index] = error
        finally:
            connection.close()  # each thread opened its own connection

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    errors = [result for result in results if isinstance(result, Exception)]
    assert not errors, errors
    return results
