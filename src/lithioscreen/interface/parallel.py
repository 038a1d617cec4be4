"""Where the relaxations run: local joblib workers, or a Dask distributed cluster through joblib's
Dask backend (``joblib.parallel_config(backend="dask")`` with a ``distributed.Client``).

Each worker loads the potential once (the calculators are cached per process) and relaxes the
independent (metal, plane, thickness) structures it is sent.
"""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def execution(scheduler: str | None = None, local_workers: int | None = None, processes: bool = True):
    """Context in which :func:`~lithioscreen.interface.workflow.run_relaxations` uses Dask.

    ``scheduler``: address of a running scheduler (``tcp://host:8786``); ``local_workers``: start a
    ``LocalCluster`` with that many single-threaded workers (processes, or threads when
    ``processes`` is False). With neither, nothing changes (plain joblib).
    Yields the ``distributed.Client`` or None.
    """
    if scheduler is None and not local_workers:
        yield None
        return
    if scheduler is not None and local_workers:
        raise ValueError("give either a scheduler address or a number of local Dask workers, not both")
    import joblib
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            client = stack.enter_context(Client(scheduler, timeout="20s"))
        else:
            cluster = stack.enter_context(
                LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=processes, dashboard_address=None)
            )
            client = stack.enter_context(Client(cluster))
        stack.enter_context(joblib.parallel_config(backend="dask"))
        yield client
