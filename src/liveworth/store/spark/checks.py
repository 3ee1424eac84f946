"""What ``--engine spark`` needs, checked in a second or less before Spark starts: PySpark
installed, Java 17 or newer, a master URL of a known form (and, for ``spark://``, a master that
accepts a connection). Each failure is one :class:`SparkUnavailable` line (exit status 2).

Nothing here imports PySpark.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess

from liveworth.errors import UsageError

#: The oldest Java that PySpark 4 runs on.
MIN_JAVA = 17
#: Seconds to wait for ``java -version`` and for a ``spark://`` master's port.
JAVA_TIMEOUT = 20.0
CONNECT_TIMEOUT = 3.0
_LOCAL = re.compile(r"local(\[(\*|[1-9][0-9]*)(,[0-9]+)?\])?")
_HOST_PORT = re.compile(r"\[?([^\[\]]+?)\]?:([0-9]{1,5})")


class SparkUnavailable(UsageError):
    """PySpark, Java or the Spark master is missing or unusable (one line, exit 2)."""


def check_pyspark() -> None:
    if importlib.util.find_spec("pyspark") is None:
        raise SparkUnavailable("--engine spark needs PySpark: pip install 'liveworth[spark]'")


def java_command() -> str | None:
    """The ``java`` Spark will start: ``$JAVA_HOME/bin/java``, else the one on ``PATH``."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = os.path.join(home, "bin", "java")
        return candidate if os.access(candidate, os.X_OK) else None
    return shutil.which("java")


def java_major(text: str) -> int | None:
    """The major version in ``java -version``'s output (``1.8.0_392`` is 8, ``17.0.15`` 17)."""
    m = re.search(r'version "([0-9]+)(?:\.([0-9]+))?', text)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def check_java() -> None:
    java = java_command()
    where = "$JAVA_HOME/bin/java" if os.environ.get("JAVA_HOME") else "java on PATH"
    if java is None:
        raise SparkUnavailable(f"--engine spark needs Java {MIN_JAVA} or newer and found no "
                               f"{where} (install openjdk-17-jre-headless, or set JAVA_HOME)")
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True,
                              timeout=JAVA_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SparkUnavailable(f"--engine spark: {java} -version failed "
                               f"({exc.__class__.__name__})") from None
    major = java_major(done.stderr + done.stdout)
    if major is None or major < MIN_JAVA:
        found = f"Java {major}" if major else "an unknown Java"
        raise SparkUnavailable(f"--engine spark needs Java {MIN_JAVA} or newer; {java} is "
                               f"{found} (install openjdk-17-jre-headless, or set JAVA_HOME)")


def check_master(master: str) -> None:
    """Refuse a master URL of no known form, and a ``spark://`` master none of whose
    ``host:port`` accepts a TCP connection within :data:`CONNECT_TIMEOUT` seconds."""
    if _LOCAL.fullmatch(master) or master == "yarn" or master.startswith(("k8s://", "mesos://")):
        return
    if not master.startswith("spark://"):
        raise SparkUnavailable(f"--spark-master {master[:80]!r}: not a Spark master URL "
                               "(local[N], local[*], spark://HOST:PORT, yarn or k8s://URL)")
    addresses = master.removeprefix("spark://").split(",")
    errors = []
    for address in addresses:
        m = _HOST_PORT.fullmatch(address)
        if not m or not 0 < int(m.group(2)) < 65536:
            raise SparkUnavailable(f"--spark-master {master[:80]}: {address[:60]!r} is not "
                                   "HOST:PORT")
        try:
            with socket.create_connection((m.group(1), int(m.group(2))),
                                          timeout=CONNECT_TIMEOUT):
                return
        except OSError as exc:
            errors.append(exc.strerror or exc.__class__.__name__)
    raise SparkUnavailable(f"--spark-master {master[:80]}: cannot reach the master "
                           f"({'; '.join(errors)})")



def main() -> int:
    """``make java``: whether Java 17+ is there for the Spark tests (one line and 1 if not)."""
    try:
        check_java()
    except SparkUnavailable as exc:
        print(f"make test: {exc} (the Spark tests, tests/test_spark.py, need it)")
        return 1
    return 0
