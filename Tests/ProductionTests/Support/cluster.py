"""Start a whole Ocorrências deployment on this machine for scripts/resilience and scripts/bench-e2e.

Real executables from the build directory, one deployment secret, `<SERVICE>_ADDRESSES`
pointing at each other, SQLite files or a throwaway PostgreSQL 15 cluster (one database per
service, run as the `postgres` user through runuser when root), notification sending to the
aiosmtpd sink of the notification tests. Everything is stopped by `Deployment.close()`.
"""
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SINK = os.path.join(ROOT, "Tests", "NotificationTests", "Support", "smtp_sink.py")
SERVICES = ["intake", "workflow", "notification", "knowledge"]
PG_BIN = os.environ.get("OCORRENCIAS_PG_BIN", "/usr/lib/postgresql/15/bin")


def free_port():
    """A loopback port from 20000-31999, below Linux's ephemeral range, kept reserved for as long as
    this process lives, as Tests/TestSupport FreePort does: a socket stays bound to it (without
    SO_REUSEADDR while probing, so the port is skipped when anyone is bound to it; with it
    afterwards, so the service still binds it, also after a restart). Until the service has bound
    it, another process probing for ports sees it taken and no outgoing connection gets it."""
    global _next_port
    for _ in range(12000):
        _next_port = (_next_port + 1) % 12000
        port = 20000 + _next_port
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        except OSError:
            s.close()
            continue
        _reserved.append(s)
        return port
    raise RuntimeError("no free port")


_reserved = []
_next_port = random.randrange(12000)

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _dies_with_this_process():
    """For Popen's preexec_fn: the child gets SIGKILL when the process that started it ends, even
    by SIGKILL (Linux's parent-death signal), so a killed script leaves no service running. Only
    for children started from the main thread: the signal follows the starting thread's end."""
    parent = os.getpid()

    def arm():
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent ended before the signal was armed
            os._exit(1)
    return arm


def _watch_over(base, pg_data):
    """Starts a detached shell that, once this process has ended however it ended, stops the
    PostgreSQL cluster in `pg_data` (if any) and removes `base`, unless KEEP_DEPLOYMENT is set.
    `Deployment.close()` does the same first; then the shell finds nothing left to do."""
    stop = ""
    if pg_data:
        stop = " ".join(as_postgres([PG_BIN + "/pg_ctl", "-D", pg_data, "stop", "-m", "immediate"])) + " >/dev/null 2>&1; "
    remove = "" if os.environ.get("KEEP_DEPLOYMENT") else "rm -rf '%s'" % base
    script = "while kill -0 %d 2>/dev/null; do sleep 1; done; %s%s" % (os.getpid(), stop, remove)
    subprocess.Popen(["/bin/sh", "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)


def as_postgres(argv):
    return (["/usr/sbin/runuser", "-u", "postgres", "--"] + argv) if os.geteuid() == 0 else argv


class Postgres:
    """A throwaway cluster: fsync off (on with durable=True, as production runs), max_connections as given."""

    def __init__(self, base, max_connections=300, durable=False):
        self.dir = os.path.join(base, "pg")
        os.makedirs(self.dir)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = os.path.join(self.dir, "data")
        subprocess.run(as_postgres([PG_BIN + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                    "--locale=C", "--no-sync"]), check=True, stdout=subprocess.DEVNULL)
        self.port = free_port()
        settings = ("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nmax_connections = %d\n"
                    "shared_buffers = 128MB\n%s"
                    "log_min_messages = warning\n") % (self.port, self.dir, max_connections,
                                                        "" if durable else "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        path = os.path.join(data, "postgresql.auto.conf")
        with open(path, "w") as f:
            f.write(settings)
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")
        self._ctl("start")

    def _ctl(self, action, *extra):
        subprocess.run(as_postgres([PG_BIN + "/pg_ctl", "-D", os.path.join(self.dir, "data"), "-l",
                                    os.path.join(self.dir, "server.log"), "-w", "-t", "60"] + list(extra) + [action]),
                       check=True, stdout=subprocess.DEVNULL)

    def create(self, name):
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                        "-c", "CREATE DATABASE %s" % name], check=True, stdout=subprocess.DEVNULL)
        return "postgres://postgres@127.0.0.1:%d/%s" % (self.port, name)

    def restart(self):
        """pg_ctl restart -m fast: every connection is cut; returns the seconds it took."""
        began = time.time()
        self._ctl("restart", "-m", "fast")
        return time.time() - began

    def stop(self):
        try:
            self._ctl("stop", "-m", "immediate")
        except Exception:
            pass


class Proxy:
    """A TCP proxy that can cut the network: while cut, every connection is closed at once and new
    ones are accepted and dropped."""

    def __init__(self, target_port):
        self.target = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.cut_until = 0.0
        self.lock = threading.Lock()
        self.live = set()
        self.dropped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self, seconds):
        with self.lock:
            self.cut_until = time.time() + seconds
            live, self.live = self.live, set()
        for s in live:
            self._close(s)
        self.dropped += len(live)

    @staticmethod
    def _close(s):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if time.time() < self.cut_until:
                self.dropped += 1
                self._close(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=2)
                upstream.settimeout(None)
            except OSError:
                self._close(client)
                continue
            with self.lock:
                self.live.update([client, upstream])
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, target):
        try:
            while True:
                data = source.recv(65536)
                if not data or time.time() < self.cut_until:
                    break
                target.sendall(data)
        except OSError:
            pass
        with self.lock:
            self.live.discard(source)
            self.live.discard(target)
        self._close(source)
        self._close(target)


class Instance:
    def __init__(self, deployment, service, index, port):
        self.deployment, self.service, self.index, self.port = deployment, service, index, port
        self.process = None
        self.log_path = os.path.join(deployment.base, "%s-%d.log" % (service, index))

    def start(self, timeout=30, attempts=5):
        """Starts the instance and waits for its "ready" line. A port taken for a moment by
        someone else (an ephemeral port of another test's connection) is retried; any other exit
        raises with the end of the instance's log (the log file goes with the deployment)."""
        for attempt in range(attempts):
            try:
                return self._start_once(timeout)
            except PortBusy:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.3)

    def _start_once(self, timeout):
        env = dict(os.environ)
        env.update(self.deployment.environment(self.service))
        env["%s_PORT" % self.service.upper()] = str(self.port)
        offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        began = time.time()
        self.process = subprocess.Popen([os.path.join(self.deployment.bin_dir, self.service)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
                                        preexec_fn=_dies_with_this_process())
        log.close()
        while time.time() - began < timeout:
            if self.process.poll() is not None:
                with open(self.log_path, "rb") as f:
                    f.seek(offset)
                    tail = f.read().decode("utf-8", "replace")[-2000:]
                if "in use" in tail:
                    raise PortBusy(tail)
                raise RuntimeError("%s-%d exited (status %s):\n%s" % (self.service, self.index, self.process.returncode, tail))
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                if b'"msg":"ready"' in f.read():
                    return time.time() - began
            time.sleep(0.05)
        raise RuntimeError("%s-%d not ready: see %s" % (self.service, self.index, self.log_path))

    def kill(self, sig=signal.SIGKILL):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cpu_seconds(self):
        """utime + stime of the process, from /proc/<pid>/stat."""
        try:
            with open("/proc/%d/stat" % self.process.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError):
            return 0.0


class PortBusy(RuntimeError):
    """The instance could not listen: its port is in use."""


class Deployment:
    def __init__(self, bin_dir, postgres=False, instances=None, proxy=None, secret=None, durable=False):
        """`proxy=("intake", "workflow")` puts a cuttable proxy between intake and workflow; `durable`
        runs PostgreSQL with fsync, synchronous commit and full page writes on."""
        self.bin_dir = bin_dir
        self.base = tempfile.mkdtemp(prefix="ocorrencias-deploy-")
        if os.geteuid() == 0:
            os.chmod(self.base, 0o755)
        self.secret = secret or "deploy-secret-%032x" % random.getrandbits(128)
        self.instances = {}
        self.pg = None
        self.proxy = None
        self.proxy_pair = proxy
        self.sink = None
        self.extra = {}
        self.mail_dir = os.path.join(self.base, "mail")
        try:
            self.pg = Postgres(self.base, durable=durable) if postgres else None
            _watch_over(self.base, os.path.join(self.pg.dir, "data") if self.pg else None)
            self.databases = {}
            for service in SERVICES:
                os.makedirs(os.path.join(self.base, service))
                self.databases[service] = self.pg.create(service) if self.pg else os.path.join(self.base, service, service + ".sqlite")
            for service in SERVICES:
                count = (instances or {}).get(service, 1)
                self.instances[service] = [Instance(self, service, i, free_port()) for i in range(count)]
            if proxy:
                self.proxy = Proxy(self.instances[proxy[1]][0].port)
            sink_port = free_port()
            self.sink = subprocess.Popen(["/usr/bin/python3", SINK, "--port", str(sink_port), "--dir", self.mail_dir],
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=_dies_with_this_process())
            self.sink.stdout.readline()
            self.sink_port = sink_port
            for service in SERVICES:
                for instance in self.instances[service]:
                    instance.start()
        except BaseException:
            self.close()
            raise

    def addresses(self, service, caller=None):
        if self.proxy and caller == self.proxy_pair[0] and service == self.proxy_pair[1]:
            return "127.0.0.1:%d" % self.proxy.port
        return ",".join("127.0.0.1:%d" % i.port for i in self.instances[service])

    def environment(self, service):
        env = {"OCORRENCIAS_DATA_DIR": os.path.join(self.base, service), "OCORRENCIAS_SECRET": self.secret}
        for other in SERVICES:
            env["%s_ADDRESSES" % other.upper()] = self.addresses(other, caller=service)
        if self.pg:
            env["%s_DATABASE_URL" % service.upper()] = self.databases[service]
        env.update(self.extra.get(service, {}))
        if service == "notification":
            env.update({"NOTIFICATION_SMTP_URL": "smtp://127.0.0.1:%d" % self.sink_port,
                        "NOTIFICATION_MAIL_DOMAIN": "suporte.example", "NOTIFICATION_POLL_MS": "50"})
        return env

    def driver_arguments(self):
        return ["--intake", self.addresses("intake"), "--workflow", self.addresses("workflow"),
                "--notification", self.addresses("notification"), "--secret", self.secret]

    def driver(self, *arguments, timeout=None):
        return subprocess.run([os.path.join(self.bin_dir, "load-driver")] + list(arguments), capture_output=True,
                              text=True, timeout=timeout)

    def close(self):
        for instances in self.instances.values():
            for instance in instances:
                instance.kill(signal.SIGTERM if instance.process and instance.process.poll() is None else signal.SIGKILL)
        if self.sink and self.sink.poll() is None:
            self.sink.kill()
            self.sink.wait()
        if self.pg:
            self.pg.stop()
        if not os.environ.get("KEEP_DEPLOYMENT"):
            shutil.rmtree(self.base, ignore_errors=True)
