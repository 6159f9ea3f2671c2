"""A throwaway PostgreSQL server for the tests: a temporary data folder, 127.0.0.1 and a free port.

`start_server()` runs initdb and pg_ctl from the newest `/usr/lib/postgresql/*/bin` (Debian's
`postgresql` package), creates one database with the extensions the service uses and returns a
`PgServer` whose `url` is ready for psycopg; `stop()` stops the server and deletes its folder.
initdb refuses to run as root, so as root every server binary runs as the `postgres` user.
"""
import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DATABASE = "sm_test"
EXTENSIONS = ("pg_trgm", "btree_gin")
SERVER_USER = "postgres"
# Durability is worthless for a throwaway server; these make writes (and the tests) faster
FAST_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"


def server_bin() -> Path:
    "The newest installed PostgreSQL bin folder."
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)])
    if not found:
        raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: install them with "
                           "`apt-get install postgresql postgresql-contrib`, or point SM_TEST_PG_URL at a server")
    return found[-1].parent


def free_port() -> int:
    "A TCP port on 127.0.0.1 that nothing listens on right now."
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_server_user(cmd: list) -> list:
    "`cmd` run as the server's user when we are root (initdb and postgres refuse root)."
    return ["runuser", "-u", SERVER_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def run(cmd: list) -> None:
    "Run a server binary; a failure raises with its output, which says why."
    done = subprocess.run(as_server_user(cmd), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")


@dataclass
class PgServer:
    "A running throwaway server."
    root: Path  # Temporary folder holding the data folder, the log and the socket
    bin: Path  # Folder of the server binaries that started it
    port: int  # Port on 127.0.0.1

    @property
    def url(self) -> str: return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self) -> None:
        "Stop the server (fast: open sessions are cut) and delete its folder."
        try: run([str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop"])
        finally: shutil.rmtree(self.root, ignore_errors=True)


def make_root() -> Path:
    "An empty folder the server's user owns and nobody else can read."
    root = Path(tempfile.mkdtemp(prefix="sm-pg-"))
    if os.geteuid() == 0: shutil.chown(root, SERVER_USER, SERVER_USER)
    root.chmod(0o700)
    return root


def init_cluster(pg_bin: Path, root: Path) -> None:
    "A new data folder: trust auth on the loopback, UTF-8, no fsync during initdb."
    run([str(pg_bin / "initdb"), "-D", str(root / "data"), "-U", SERVER_USER, "-A", "trust", "-E", "UTF8",
         "--locale=C.UTF-8", "--no-sync"])


def start_cluster(pg_bin: Path, root: Path, port: int) -> None:
    "Start the server on 127.0.0.1:`port`, its socket in `root`, and wait until it accepts connections."
    run([str(pg_bin / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "log"), "-w", "-t", "30",
         "-o", f"-h 127.0.0.1 -p {port} -k {root} {FAST_SETTINGS}", "start"])


def create_database(server: PgServer) -> None:
    "The test database with the extensions the service's PostgreSQL dialect needs."
    run([str(server.bin / "createdb"), "-h", "127.0.0.1", "-p", str(server.port), "-U", SERVER_USER, DATABASE])
    import psycopg  # only the tests that use PostgreSQL need the driver
    with psycopg.connect(server.url, autocommit=True) as conn:
        for ext in EXTENSIONS: conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")


def start_on_free_port(server: PgServer, attempts: int) -> None:
    "Start `server` on a free port, trying another if one was taken between choosing and binding it."
    for attempt in range(attempts):
        server.port = free_port()
        try: return start_cluster(server.bin, server.root, server.port)
        except RuntimeError as e:
            if attempt == attempts - 1:
                tail = (server.root / "log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{e}\nserver log:\n{tail}") from None


def start_server(attempts: int = 3) -> PgServer:
    "A running server with the test database; on any failure nothing is left behind."
    pg_bin = server_bin()  # before making a folder that a missing server would leave behind
    server = PgServer(make_root(), pg_bin, 0)
    try:
        init_cluster(server.bin, server.root)
        start_on_free_port(server, attempts)
        create_database(server)
    except BaseException:
        with suppress(RuntimeError): server.stop()  # pg_ctl stop fails if it never started; the folder goes anyway
        raise
    log.info("PostgreSQL test server on port %s (%s)", server.port, server.bin)
    return server
