"""Group commit on SQLite: many transactions, one flush, and each still stands alone."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from cohortlab.errors import APIError
from cohortlab.store.batching import GroupCommitExecutor
from cohortlab.store.db import connect, read_only_factory, session_factory, upgrade
from cohortlab.store.models import User
from sqlalchemy import func, select


@pytest.fixture
def cl_writer(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'batch.sqlite'}"
    upgrade(url)
    engine = connect(url)
    factory = session_factory(engine)
    executor = GroupCommitExecutor(engine, factory)
    yield executor, factory
    executor.shutdown()
    engine.dispose()


def _hold(executor: GroupCommitExecutor) -> threading.Event:
    """Keep the database thread busy until the returned event is set, so what is submitted
    meanwhile queues up as one batch."""
    release = threading.Event()
    executor.submit(release.wait)
    return release


def _add(session, name: str) -> int:
    user = User(name=name)
    session.add(user)
    session.flush()
    return user.id


def _count(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(User))


def test_waiting_transactions_commit_together_and_each_gets_its_own_result(cl_writer) -> None:
    executor, factory = cl_writer
    release = _hold(executor)
    futures = [executor.submit_transaction(_add, f"u{i}") for i in range(20)]
    release.set()
    ids = [f.result(timeout=10) for f in futures]
    assert len(set(ids)) == 20
    assert _count(factory) == 20
    assert executor.batches == 1 and executor.batched == 20


def test_a_failing_transaction_in_a_batch_undoes_only_its_own_writes(cl_writer) -> None:
    executor, factory = cl_writer

    def add_then_refuse(session) -> None:
        _add(session, "refused")
        raise APIError(409, "taken", "That name is taken.")

    release = _hold(executor)
    before = executor.submit_transaction(_add, "ada")
    bad = executor.submit_transaction(add_then_refuse)
    after = executor.submit_transaction(_add, "ben")
    release.set()
    assert before.result(timeout=10) and after.result(timeout=10)
    with pytest.raises(APIError):
        bad.result(timeout=10)
    with factory() as s:
        assert sorted(s.scalars(select(User.name))) == ["ada", "ben"]
    assert executor.batches == 1


def test_a_unique_violation_in_a_batch_fails_only_that_transaction(cl_writer) -> None:
    executor, factory = cl_writer
    release = _hold(executor)
    first = executor.submit_transaction(_add, "cy")
    duplicate = executor.submit_transaction(_add, "cy")
    other = executor.submit_transaction(_add, "dee")
    release.set()
    assert first.result(timeout=10) and other.result(timeout=10)
    with pytest.raises(Exception, match="UNIQUE"):
        duplicate.result(timeout=10)
    assert _count(factory) == 2


def test_later_transactions_in_a_batch_see_earlier_ones(cl_writer) -> None:
    executor, _factory = cl_writer
    release = _hold(executor)
    executor.submit_transaction(_add, "eve")
    seen = executor.submit_transaction(lambda s: User.find(s, "eve") is not None)
    release.set()
    assert seen.result(timeout=10) is True


def test_a_result_is_delivered_only_once_committed(cl_writer) -> None:
    """Readers on other connections (the event loop's read-only sessions) see the write as
    soon as its future resolves: an acknowledged write is a committed write."""
    executor, factory = cl_writer
    reader = read_only_factory(factory.kw["bind"])
    release = _hold(executor)
    futures = [executor.submit_transaction(_add, f"r{i}") for i in range(5)]
    release.set()
    for i, f in enumerate(futures):
        f.result(timeout=10)
        with reader() as s:
            assert User.find(s, f"r{i}") is not None


def test_plain_calls_run_in_order_between_batches(cl_writer) -> None:
    executor, _factory = cl_writer
    order: list[str] = []
    release = _hold(executor)
    executor.submit_transaction(lambda s: order.append("t1"))
    executor.submit(order.append, "call")
    done = executor.submit_transaction(lambda s: order.append("t2"))
    release.set()
    done.result(timeout=10)
    assert order == ["t1", "call", "t2"]


def test_no_work_is_taken_after_shutdown(cl_writer) -> None:
    executor, _factory = cl_writer
    executor.shutdown()
    with pytest.raises(RuntimeError):
        executor.submit_transaction(_add, "late")
