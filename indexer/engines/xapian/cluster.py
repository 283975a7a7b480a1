"""A cluster of Xapian shard servers (`xapian-tcpsrv`): its file, connections, and local servers.

The cluster file (TOML) names the shards in order; each has a writable primary `host:port` and
optional read-only replicas, tried in order when the primary does not answer:

    timeout = 10.0           # seconds a server may take to answer a search's request
    connect_timeout = 2.0    # seconds to connect
    write_timeout = 600.0    # seconds a write may take (committing a whole rebuild takes long)
    [[shard]]
    primary = "10.0.0.11:7001"
    replicas = ["10.0.0.21:7001"]

A Xapian stub file (one `remote HOST:PORT` line per shard) is read too, as shards without
replicas. A record goes to shard `shard_of(doc_id, n)` (a stable hash: every version and section
of a document on one shard). Reads go through one Database over every shard, so Xapian computes
the statistics over all of them: the scores are one index's.

`up`, `down` and `status` run N shard servers on 127.0.0.1 for trying a cluster on one machine
(`palimpsest cluster up|down|status`): pid and port of each in `<dir>/servers.json`, the shard
databases in `<dir>/shard-<i>`, a cluster file in `<dir>/cluster.toml`. A replica started here
is a read-only server over the primary's database folder: it answers when the primary's process
is gone (a replica on another host is a copy kept by xapian-replicate: see the README).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xapian

from ...errors import EngineUnavailableError

CLUSTER_FILE = "cluster.toml"
SERVERS_FILE = "servers.json"
TIMEOUT = 10.0
WRITE_TIMEOUT = 600.0
CONNECT_TIMEOUT = 2.0
START_WAIT = 10.0  # seconds a started server may take to answer
_STARTED: dict[int, subprocess.Popen[bytes]] = {}  # servers this process started, reaped when stopped
# Writes reach a server's database only at our commit: without this a server commits by itself
# every 10,000 changes, and readers would see half a batch.
FLUSH_THRESHOLD = "100000000"


@dataclass(frozen=True)
class Shard:
    primary: str
    replicas: tuple[str, ...] = ()

    def endpoints(self) -> tuple[str, ...]:
        return (self.primary, *self.replicas)


@dataclass(frozen=True)
class Cluster:
    shards: tuple[Shard, ...]
    timeout: float = TIMEOUT
    connect_timeout: float = CONNECT_TIMEOUT
    write_timeout: float = WRITE_TIMEOUT
    source: str = field(default="", compare=False)


def _endpoint(text: str, where: str) -> str:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{where}: {text!r} is not HOST:PORT")
    return f"{host}:{int(port)}"


def parse_cluster(text: str, where: str = "cluster file") -> Cluster:
    """A cluster from the text of a cluster file (TOML) or a Xapian stub file (`remote HOST:PORT`)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if lines and all(ln.split()[0] in ("remote", "tcp") for ln in lines):
        shards = []
        for ln in lines:
            parts = ln.split()
            target = parts[1] if len(parts) == 2 else ":".join(parts[1:3]) if len(parts) == 3 else ""
            shards.append(Shard(_endpoint(target, where)))
        return Cluster(tuple(shards), source=text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: {exc}") from None
    raw = data.get("shard") or []
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where}: no [[shard]] with a primary")
    shards = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or "primary" not in entry:
            raise ValueError(f"{where}: shard {i + 1} has no primary")
        replicas = entry.get("replicas", [])
        if not isinstance(replicas, list):
            raise ValueError(f"{where}: replicas of shard {i + 1} must be a list")
        shards.append(Shard(_endpoint(str(entry["primary"]), where), tuple(_endpoint(str(r), where) for r in replicas)))
    timeout = float(data.get("timeout", TIMEOUT))
    connect = float(data.get("connect_timeout", CONNECT_TIMEOUT))
    write = float(data.get("write_timeout", max(WRITE_TIMEOUT, timeout)))
    if timeout <= 0 or connect <= 0 or write <= 0:
        raise ValueError(f"{where}: timeouts must be positive")
    return Cluster(tuple(shards), timeout, connect, write, source=text)


def read_cluster(path: str | Path) -> Cluster:
    return parse_cluster(Path(path).read_text(encoding="utf-8"), str(path))


def cluster_text(cluster: Cluster) -> str:
    out = [f"timeout = {cluster.timeout}", f"connect_timeout = {cluster.connect_timeout}"]
    out.append(f"write_timeout = {cluster.write_timeout}")
    for shard in cluster.shards:
        out += ["", "[[shard]]", f'primary = "{shard.primary}"']
        if shard.replicas:
            out.append("replicas = [" + ", ".join(f'"{r}"' for r in shard.replicas) + "]")
    return "\n".join(out) + "\n"


def attach_cluster(index_dir: str | Path, cluster_file: str | Path) -> Path:
    """Make the next slot of an index (a new index, or the next rebuild) a cluster: check the file
    and copy it to `<index_dir>/cluster.toml`. Returns the copy."""
    cluster = read_cluster(cluster_file)  # ValueError for a file that is not one
    folder = Path(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / CLUSTER_FILE
    tmp = folder / f".{CLUSTER_FILE}.tmp"
    tmp.write_text(cluster.source, encoding="utf-8")
    tmp.replace(target)
    return target


def shard_of(doc_id: str, shards: int) -> int:
    """The shard of a document: a stable hash of its id (the same in every process and release)."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def _split(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port)


def open_shard(cluster: Cluster, i: int) -> tuple[xapian.Database, str]:
    """A read connection to shard `i`: its primary, else the first replica that answers."""
    shard = cluster.shards[i]
    errors = []
    for endpoint in shard.endpoints():
        host, port = _split(endpoint)
        try:
            db = xapian.remote_open(host, port, int(cluster.timeout * 1000), int(cluster.connect_timeout * 1000))
            return db, endpoint
        except xapian.NetworkError as exc:
            errors.append(f"{endpoint}: {exc.get_msg()}")
    raise EngineUnavailableError(f"shard {i + 1} of {len(cluster.shards)} does not answer ({'; '.join(errors)})")


def open_writable(cluster: Cluster, i: int) -> xapian.WritableDatabase:
    """A write connection to shard `i`'s primary (replicas are read-only)."""
    host, port = _split(cluster.shards[i].primary)
    try:
        return xapian.remote_open_writable(
            host, port, int(cluster.write_timeout * 1000), int(cluster.connect_timeout * 1000)
        )
    except xapian.NetworkError as exc:
        raise EngineUnavailableError(
            f"the primary of shard {i + 1} of {len(cluster.shards)} ({cluster.shards[i].primary}) does not "
            f"answer: {exc.get_msg()}; writes need every primary"
        ) from None


# -- local servers for trying a cluster on one machine -------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int, timeout: float) -> bool:
    try:
        xapian.remote_open("127.0.0.1", port, int(timeout * 1000), int(timeout * 1000)).get_doccount()
    except xapian.Error:
        return False
    return True


def _start(directory: Path, db: Path, writable: bool, log: str) -> tuple[int, int]:
    tcpsrv = shutil.which("xapian-tcpsrv")
    if tcpsrv is None:
        raise EngineUnavailableError("xapian-tcpsrv is not installed (Debian: apt-get install xapian-tools)")
    for _attempt in range(5):
        port = _free_port()
        args = [tcpsrv, "--interface", "127.0.0.1", "--port", str(port)]
        args += ["--writable", str(db)] if writable else [str(db)]
        env = {**os.environ, "XAPIAN_FLUSH_THRESHOLD": FLUSH_THRESHOLD}
        with open(directory / log, "ab") as out:
            # Its own session: on SIGTERM the server signals its whole process group.
            proc = subprocess.Popen(args, stdout=out, stderr=out, env=env, start_new_session=True)
        _STARTED[proc.pid] = proc
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline and proc.poll() is None:
            if _answers(port, 1.0):
                return proc.pid, port
            time.sleep(0.05)
        if proc.poll() is None:
            _stop(proc.pid)
    raise EngineUnavailableError(f"xapian-tcpsrv did not start (see {directory / log})")


def _stop(pid: int, wait: float = 5.0) -> None:
    """SIGTERM (a stopped server is continued so it sees it), then SIGKILL after `wait` seconds."""
    for sig in (signal.SIGTERM, signal.SIGCONT):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    proc = _STARTED.pop(pid, None)
    if proc is not None:
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    proc = _STARTED.get(pid)
    if proc is not None:
        return proc.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def up(directory: str | Path, shards: int, replicas: int = 0, timeout: float = TIMEOUT) -> Path:
    """Start `shards` shard servers (and `replicas` read-only servers per shard) on 127.0.0.1;
    returns the cluster file. Servers already running in `directory` are stopped first."""
    if shards < 1 or replicas < 0:
        raise ValueError("a cluster needs at least one shard")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    down(folder)
    servers: list[dict[str, Any]] = []
    cluster_shards = []
    try:
        for i in range(shards):
            db = folder / f"shard-{i + 1}"
            xapian.WritableDatabase(str(db), xapian.DB_CREATE_OR_OPEN).close()
            pid, port = _start(folder, db, True, f"shard-{i + 1}.log")
            servers.append({"shard": i + 1, "role": "primary", "pid": pid, "port": port, "db": str(db)})
            ports = []
            for r in range(replicas):
                rpid, rport = _start(folder, db, False, f"shard-{i + 1}-replica-{r + 1}.log")
                servers.append({"shard": i + 1, "role": "replica", "pid": rpid, "port": rport, "db": str(db)})
                ports.append(f"127.0.0.1:{rport}")
            cluster_shards.append(Shard(f"127.0.0.1:{port}", tuple(ports)))
    finally:
        (folder / SERVERS_FILE).write_text(json.dumps(servers, indent=1) + "\n", encoding="utf-8")
    path = folder / CLUSTER_FILE
    path.write_text(cluster_text(Cluster(tuple(cluster_shards), timeout=timeout)), encoding="utf-8")
    return path


def servers(directory: str | Path) -> list[dict[str, Any]]:
    try:
        return json.loads((Path(directory) / SERVERS_FILE).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except FileNotFoundError:
        return []


def down(directory: str | Path) -> int:
    """Stop the servers `up` started in `directory` (by their pids); returns how many ran."""
    found = servers(directory)
    stopped = 0
    for server in found:
        pid = int(server["pid"])
        if _alive(pid):
            stopped += 1
        _stop(pid)
    with contextlib.suppress(FileNotFoundError):
        (Path(directory) / SERVERS_FILE).unlink()
    return stopped


def status(directory: str | Path) -> list[dict[str, Any]]:
    """Each server of `directory`: shard, role, pid, port, running, answering, records."""
    out = []
    for server in servers(directory):
        entry = dict(server)
        entry["running"] = _alive(int(server["pid"]))
        entry["records"] = None
        if entry["running"]:
            with contextlib.suppress(xapian.Error):
                db = xapian.remote_open("127.0.0.1", int(server["port"]), 2000, 2000)
                entry["records"] = db.get_doccount()
        entry["answering"] = entry["records"] is not None
        out.append(entry)
    return out
