"""What the processes of tests/test_concurrency.py run, one app process each (spawned: this module is their entry point).

Each process opens its own store and service on the shared database, as a worker of a multi-process server
does, waits at a barrier so that all of them run at once, and puts what it did on a result queue.
"""
import random
import traceback

from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService

STEPS = ("upload", "transcribe", "review")


def open_store(name: str, target):
    "A store of backend `name` on `target` (a SQLite path, or a PostgreSQL conninfo)."
    if name == "sqlite":
        from cjm_workflow_state.state_store import SQLiteWorkflowStateStore
        return SQLiteWorkflowStateStore(target)
    from cjm_fasthtml_workflow_session_management.stores.postgres import PostgresWorkflowStateStore
    return PostgresWorkflowStateStore(target, max_size=2)


def close(store) -> None:
    if hasattr(store, "close"): store.close()


class Writer:
    "One process's random writes to sessions of its own, through the store and through the service."
    def __init__(self, store, svc, flow: str, worker: int):
        self.store, self.svc, self.flow, self.worker = store, svc, flow, worker
        self.rng, self.alive, self.trashed = random.Random(worker), {}, []  # alive: session id -> its step

    def create(self, i: int) -> None:
        how, sid = self.rng.randrange(4), f"p{self.worker}-{i}"
        if how == 0: sid, step = self.svc.create_session(f"p{self.worker} n{i}"), None
        elif how == 1: self.store.create_session(self.flow, sid, f"store {i}"); step = None
        elif how == 2: self.store.update_state(self.flow, sid, {"i": i}); step = None  # an upsert that inserts
        else: step = self.rng.choice(STEPS); self.store.set_current_step(self.flow, sid, step)
        self.alive[sid] = step

    def update(self, i: int) -> None:
        sid, how = self.rng.choice(sorted(self.alive)), self.rng.randrange(3)
        if how == 0: self.store.update_state(self.flow, sid, {"i": i, "w": self.worker})
        elif how == 1: self.alive[sid] = self.rng.choice(STEPS); self.store.set_current_step(self.flow, sid, self.alive[sid])
        else: self.svc.rename_session(sid, f"p{self.worker} renamed {i}")

    def delete(self) -> None:
        sid = self.rng.choice(sorted(self.alive))
        del self.alive[sid]
        if self.rng.random() < 0.5:
            self.svc.delete_session(sid)
            self.trashed.append(sid)
        else: self.store.delete_session(self.flow, sid)

    def run(self, ops: int) -> None:
        for i in range(ops):
            op = self.rng.random()
            if op < 0.4 or not self.alive: self.create(i)
            elif op < 0.75: self.update(i)
            else: self.delete()
            if i % 10 == 0: self.svc.read_page(0, 20, search=f"p{self.worker}")


def mixed_writes(name: str, target, flow: str, worker: int, ops: int, barrier, results) -> None:
    "Process entry point: `ops` random writes; puts (worker, alive {id: step}, trashed ids, errors) on `results`."
    writer, errors = None, []
    try:
        store = open_store(name, target)
        writer = Writer(store, SessionManagementService(store, flow), flow, worker)
        barrier.wait(60)
        writer.run(ops)
        close(store)
    except Exception: errors.append(traceback.format_exc())
    results.put((worker, writer.alive if writer else {}, writer.trashed if writer else [], errors))


def start_service(name: str, targets: list, flow: str, barrier, results) -> None:
    "Process entry point: on each target in turn, start a store and a service at the same moment as the others."
    outcome = []
    for target in targets:
        try:
            barrier.wait(60)
            store = open_store(name, target)
            total = SessionManagementService(store, flow).read_page().total
            close(store)
            outcome.append(total)
        except Exception: outcome.append(traceback.format_exc())
    results.put(outcome)


def trash_churn(store, svc, flow: str, worker: int, rounds: int) -> None:
    """The writes whose locks meet on PostgreSQL, over and over: the workflow saving state (its triggers update
    the display and count rows), deleting into the trash and undoing it, and list reads that refresh stale rows."""
    mine = [svc.create_session(f"churn {worker} {i}") for i in range(4)]
    for i in range(rounds):
        for sid in mine: store.update_state(flow, sid, {"i": i})
        _, batch = svc.move_to_trash(mine[:2])
        svc.read_page(0, 20)
        svc.restore_batch(batch)
        store.set_current_step(flow, mine[i % 4], STEPS[i % 3])
