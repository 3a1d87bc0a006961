"""Log pattern packs: one Pattern per known failure signature.

Each pattern carries literal `needles` (lower case): a line can only match when it contains
one of them, so the scanner finds candidate lines in one multi-needle pass (lower-cased ASCII,
no newline in a needle) and runs the regular expressions on those lines alone. `example` is a real-world line the pattern must
match (tests/ai/test_patterns.py holds every pattern to it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pattern:
    rule_id: str
    category: str
    severity: str
    regex: str
    needles: tuple[str, ...]
    title: str
    explanation: str
    remediation: tuple[str, ...]
    example: str
    priority: int = 60
    compiled: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "compiled", re.compile(self.regex))


P = Pattern
_FREE_PORT = ("Find what holds the port: `ss -ltnp` on the host or `docker ps --filter publish=PORT`.",
              "Stop the other process or container, or publish/listen on another port.")
_CHECK_TARGET = ("Check that the target service is running and healthy (`docker ps`, its logs).",
                 "Use the service name on a shared network, not localhost: inside a container localhost is the container itself.",
                 "Start dependencies first (compose `depends_on` with `condition: service_healthy`) and retry connections.")
_DNS = ("Check the hostname for typos and that both containers share a user-defined network (the default bridge has no DNS by name).",
        "Check the host's DNS (`docker run --rm busybox nslookup NAME`) and any `--dns` options.")
_PERMS = ("Check the file's owner and mode in the image or volume (`ls -ln`), and the user the container runs as (`--user`).",
          "For bind mounts, fix ownership on the host or run with a matching UID; with SELinux, add `:z` to the mount.")
_DISK = ("Free space: `docker system df`, prune unused images/volumes, rotate logs (`--log-opt max-size`).",
         "Grow the volume or filesystem that holds the data directory.")
_MODULE = ("Install the dependency in the image (requirements.txt / package.json / pom) and rebuild.",
           "Check the working directory and module path (PYTHONPATH, NODE_PATH, CLASSPATH).")
_FILE = ("Check the path in the command, the image contents (`docker run --rm IMAGE ls -l PATH`) and the volume mounts.",
         "A mount over the directory hides what the image put there.")
_ENV = ("Set the variable on the container (`-e NAME=value`, compose `environment:` or an env file) and recreate it.",)
_DBAUTH = ("Check the user name and password the application uses against the database's.",
           "A database volume initialised earlier keeps its first password: changing POSTGRES_PASSWORD/MYSQL_ROOT_PASSWORD later does not change it.")
_TLS = ("Check the certificate chain and expiry (`openssl s_client -connect HOST:PORT -showcerts`).",
        "Add the issuing CA to the image's trust store, or fix the hostname the client uses to match the certificate.")
_OOM = ("Raise the memory limit (and the swap limit with it), or lower the runtime's heap (-Xmx, --max-old-space-size).",
        "Look for a leak: memory growing steadily until the crash.")
_CRASH = ("Read the stack trace: the first frame in the application's own code is usually the cause.",
          "Reproduce with the same image and input; fix the code or the input that triggers it.")
_UPSTREAM = ("Check the upstream container is running and listening on the port nginx uses.",
             "Use the service name on a shared network; nginx resolves upstream names at start-up (use a resolver directive for dynamic names).")
_DBSTART = ("Read the database's first error lines: they name the file or setting at fault.",
            "Check the data volume's ownership and that it was created by the same major version.")

PATTERNS: tuple[Pattern, ...] = (
    # --- port in use
    P("log.port.eaddrinuse", "port_in_use", "error", r"EADDRINUSE", ("eaddrinuse",), "Port already in use (Node.js)",
      "The process could not listen because another process already holds the address and port.", _FREE_PORT,
      "Error: listen EADDRINUSE: address already in use :::3000", 80),
    P("log.port.address_in_use", "port_in_use", "error", r"(?i)address already in use|\(98: Address in use\)", ("address already in use", "address in use"),
      "Port already in use", "The process could not bind its listening socket: another process already uses that address and port.", _FREE_PORT,
      '2026/11/30 10:00:00 [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)', 78),
    P("log.port.java_bind", "port_in_use", "error", r"java\.net\.BindException", ("java.net.bindexception",), "Port already in use (Java)",
      "The JVM could not bind its server socket: the port is taken or not allowed.", _FREE_PORT,
      "Caused by: java.net.BindException: Address already in use", 79),
    P("log.port.postgres_bind", "port_in_use", "error", r"could not (?:bind IPv[46] address|create any TCP/IP sockets)", ("could not bind ipv", "could not create any tcp/ip"),
      "PostgreSQL cannot listen on its port", "PostgreSQL could not open its listening socket, usually because the port is in use.", _FREE_PORT,
      'LOG:  could not bind IPv4 address "0.0.0.0": Address already in use', 79),
    P("log.port.redis_bind", "port_in_use", "error", r"Could not create server TCP listening socket", ("could not create server tcp",),
      "Redis cannot listen on its port", "Redis could not bind its TCP port, usually because it is in use.", _FREE_PORT,
      "1:M 30 Nov 2026 10:00:00.000 # Could not create server TCP listening socket *:6379: bind: Address already in use", 80),
    # --- connection refused / timeouts
    P("log.net.econnrefused", "connection", "error", r"ECONNREFUSED", ("econnrefused",), "Connection refused (Node.js)",
      "The application tried to connect to a service that is not listening at that address.", _CHECK_TARGET,
      "Error: connect ECONNREFUSED 127.0.0.1:5432", 70),
    P("log.net.refused", "connection", "error", r"(?i)connection refused", ("connection refused",), "Connection refused",
      "Nothing was listening at the address the application connected to.", _CHECK_TARGET,
      "dial tcp 172.18.0.3:6379: connect: connection refused", 62),
    P("log.net.mysql_cant_connect", "connection", "error", r"Can't connect to (?:local )?MySQL server", ("can't connect to",),
      "Cannot reach MySQL", "The MySQL client could not reach the server.", _CHECK_TARGET,
      "ERROR 2003 (HY000): Can't connect to MySQL server on 'db:3306' (111)", 72),
    P("log.net.pg_not_running", "connection", "error", r"Is the server running on host|could not connect to server", ("is the server running", "could not connect to server"),
      "Cannot reach PostgreSQL", "The PostgreSQL client could not reach the server.", _CHECK_TARGET,
      'psql: error: could not connect to server: Is the server running on host "db" (172.18.0.2) and accepting TCP/IP connections on port 5432?', 71),
    P("log.net.timeout", "connection", "warning", r"(?i)connection timed out|ETIMEDOUT|i/o timeout|Connect timed out", ("timed out", "etimedout", "i/o timeout"),
      "Connection timed out", "A connection attempt got no answer: a firewall, a wrong address or an overloaded service.", _CHECK_TARGET,
      "dial tcp 10.0.0.5:443: i/o timeout", 55),
    # --- DNS
    P("log.dns.enotfound", "dns", "error", r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN)", ("getaddrinfo",), "Hostname not found (Node.js)",
      "The hostname the application connects to does not resolve.", _DNS, "Error: getaddrinfo ENOTFOUND postgres-db", 75),
    P("log.dns.no_such_host", "dns", "error", r"no such host", ("no such host",), "Hostname not found (Go)",
      "The hostname does not resolve on the container's networks.", _DNS, "dial tcp: lookup redis-cache on 127.0.0.11:53: no such host", 75),
    P("log.dns.resolution", "dns", "error", r"Name or service not known|Temporary failure in name resolution|nodename nor servname",
      ("name or service not known", "temporary failure in name resolution", "nodename nor servname"), "Hostname not found",
      "The hostname does not resolve.", _DNS, "socket.gaierror: [Errno -2] Name or service not known", 74),
    P("log.dns.java", "dns", "error", r"java\.net\.UnknownHostException", ("unknownhostexception",), "Hostname not found (Java)",
      "The JVM could not resolve a hostname.", _DNS, "java.net.UnknownHostException: kafka-broker", 76),
    P("log.dns.pg", "dns", "error", r"could not translate host name", ("could not translate host name",), "Hostname not found (PostgreSQL client)",
      "The PostgreSQL client could not resolve the database host.", _DNS,
      'psql: error: could not translate host name "db" to address: Name or service not known', 77),
    # --- permissions
    P("log.perm.eacces", "permission_denied", "error", r"EACCES", ("eacces",), "Permission denied (Node.js)",
      "The process was not allowed to open a file or bind a port.", _PERMS + ("Ports below 1024 need root or CAP_NET_BIND_SERVICE.",),
      "Error: EACCES: permission denied, open '/app/data/db.json'", 73),
    P("log.perm.denied", "permission_denied", "error", r"(?i)permission denied", ("permission denied",), "Permission denied",
      "The process was not allowed to read, write or execute a file.", _PERMS,
      "mkdir: can't create directory '/data/cache': Permission denied", 60),
    P("log.perm.eperm", "permission_denied", "error", r"Operation not permitted", ("operation not permitted",), "Operation not permitted",
      "The kernel refused an operation: a missing capability or a seccomp/AppArmor profile.", ("Check the capabilities the process needs (`--cap-add`), the user, and security profiles.",),
      "chown: /var/lib/app: Operation not permitted", 58),
    P("log.perm.read_only", "permission_denied", "error", r"Read-only file system", ("read-only file system",), "Read-only file system",
      "The process writes to a filesystem mounted read-only.", ("Mount a writable volume or tmpfs at that path, or drop `--read-only` / `:ro`.",),
      "touch: /etc/app.conf: Read-only file system", 70),
    # --- disk
    P("log.disk.enospc", "disk_full", "critical", r"(?i)no space left on device|ENOSPC", ("no space left on device", "enospc"), "No space left on device",
      "The filesystem holding the process's data is full.", _DISK, "write /var/lib/app/data.bin: no space left on device", 82),
    P("log.disk.quota", "disk_full", "critical", r"Disk quota exceeded", ("disk quota exceeded",), "Disk quota exceeded",
      "The filesystem quota for this data is used up.", _DISK, "cp: write error: Disk quota exceeded", 80),
    P("log.disk.mysql_table_full", "disk_full", "critical", r"The table '[^']+' is full", ("is full",), "MySQL table full",
      "MySQL could not grow a table: the disk or a size limit is exhausted.", _DISK, "[ERROR] [MY-013132] The table 'events' is full!", 78),
    # --- missing module / library
    P("log.module.python", "missing_module", "error", r"ModuleNotFoundError: No module named|ImportError: No module named", ("no module named",),
      "Python module not found", "Python could not import a module: it is not installed in the image or not on the path.", _MODULE,
      "ModuleNotFoundError: No module named 'flask'", 85),
    P("log.module.python_name", "missing_module", "error", r"ImportError: cannot import name", ("cannot import name",), "Python import failed",
      "A module exists but lacks the name imported: usually a version mismatch between packages.", ("Pin compatible package versions and rebuild.",),
      "ImportError: cannot import name 'url_quote' from 'werkzeug.urls'", 84),
    P("log.module.node", "missing_module", "error", r"Error: Cannot find module", ("cannot find module",), "Node.js module not found",
      "Node.js could not resolve a required module: `npm install` did not run in the image, or node_modules is hidden by a mount.", _MODULE,
      "Error: Cannot find module 'express'", 85),
    P("log.module.java", "missing_module", "error", r"java\.lang\.(?:NoClassDefFoundError|ClassNotFoundException)|Could not find or load main class",
      ("noclassdeffounderror", "classnotfoundexception", "could not find or load main class"), "Java class not found",
      "The JVM could not load a class: a missing jar on the classpath or a wrong main class.", _MODULE,
      "Error: Could not find or load main class com.example.App", 84),
    P("log.module.shared_lib", "missing_module", "error", r"error while loading shared libraries", ("error while loading shared libraries",),
      "Shared library missing", "A binary needs a shared library the image does not have (often built on glibc, run on musl/Alpine).",
      ("Install the library in the image, or build a static binary / use a matching base image.",),
      "./server: error while loading shared libraries: libssl.so.1.1: cannot open shared object file: No such file or directory", 86),
    P("log.module.ruby", "missing_module", "error", r"cannot load such file --", ("cannot load such file",), "Ruby library not found",
      "Ruby could not load a required library.", _MODULE, "<internal:kernel_require>:38:in `require': cannot load such file -- sinatra (LoadError)", 84),
    # --- missing file / command
    P("log.file.enoent", "missing_file", "error", r"ENOENT: no such file or directory", ("enoent",), "File not found (Node.js)",
      "A file the application opens does not exist.", _FILE, "Error: ENOENT: no such file or directory, open '/app/config.json'", 74),
    P("log.file.python", "missing_file", "error", r"FileNotFoundError", ("filenotfounderror",), "File not found (Python)",
      "A file the application opens does not exist.", _FILE, "FileNotFoundError: [Errno 2] No such file or directory: '/config/settings.yaml'", 76),
    P("log.file.no_such", "missing_file", "error", r"(?i)no such file or directory", ("no such file or directory",), "No such file or directory",
      "A path the process uses does not exist in the container.", _FILE, "cat: can't open '/etc/app/app.conf': No such file or directory", 52),
    P("log.file.cmd_not_found", "missing_file", "error", r"(?:^|: )[^\s:]+: (?:command )?not found\s*$", ("not found",), "Command not found",
      "The shell could not find a command: it is not installed in the image or not on PATH (exit code 127).", _FILE,
      "/entrypoint.sh: line 4: gunicorn: not found", 72),
    P("log.file.exec_not_found", "missing_file", "error", r"executable file not found in \$PATH", ("executable file not found",),
      "Executable not found", "The container's command names an executable that is not in the image's PATH.", _FILE,
      'exec: "uvicorn": executable file not found in $PATH', 84),
    # --- missing environment variable
    P("log.env.python_keyerror", "missing_env", "error", r"KeyError: '[A-Z][A-Z0-9_]{2,}'", ("keyerror: '",), "Environment variable missing (Python)",
      "The application reads an environment variable that is not set (os.environ[...] raised KeyError).", _ENV,
      "KeyError: 'DATABASE_URL'", 83),
    P("log.env.generic", "missing_env", "error",
      r"(?i)(?:environment variable|env var)\S*\s+\S+\s+(?:is\s+)?(?:not set|missing|required|undefined|must be set)|missing required environment variable|(?:is not set|must be set)(?: in the environment)?\W*$",
      ("environment variable", "env var", "not set", "must be set"), "Environment variable missing",
      "A required environment variable is not set.", _ENV, "Error: environment variable SECRET_KEY is not set", 81),
    P("log.env.postgres_password", "missing_env", "error", r"superuser password is not specified", ("superuser password is not specified",),
      "POSTGRES_PASSWORD not set", "The postgres image refuses to initialise a database without a superuser password.",
      ("Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust for throwaway tests) and recreate the container.",),
      "Error: Database is uninitialized and superuser password is not specified.", 88),
    P("log.env.mysql_password", "missing_env", "error", r"password option is not specified|You need to specify one of (?:the following|MYSQL_ROOT_PASSWORD|MARIADB_ROOT_PASSWORD)", ("password option is not specified", "you need to specify one of"),
      "MySQL root password not set", "The mysql/mariadb image refuses to initialise without a root password option.",
      ("Set MYSQL_ROOT_PASSWORD (or MYSQL_RANDOM_ROOT_PASSWORD / MYSQL_ALLOW_EMPTY_PASSWORD) and recreate.",),
      "2026-11-30 10:00:00+00:00 [ERROR] [Entrypoint]: Database is uninitialized and password option is not specified\n\tYou need to specify one of the following as an environment variable:", 88),
    P("log.env.shell_unset", "missing_env", "error", r": parameter not set|unbound variable", ("parameter not set", "unbound variable"),
      "Shell variable not set", "The entrypoint script uses a variable that is not set (set -u).", _ENV, "/entrypoint.sh: line 3: DB_HOST: parameter not set", 82),
    # --- database authentication
    P("log.db.pg_password", "db_auth", "error", r"password authentication failed for user", ("password authentication failed",),
      "PostgreSQL password rejected", "PostgreSQL rejected the password for the user.", _DBAUTH,
      'FATAL:  password authentication failed for user "app"', 90),
    P("log.db.pg_role", "db_auth", "error", r'role "[^"]+" does not exist', ("does not exist",), "PostgreSQL role missing",
      "The user name the application logs in with does not exist in PostgreSQL.", _DBAUTH + ("Create the role or fix POSTGRES_USER.",),
      'FATAL:  role "webapp" does not exist', 86),
    P("log.db.pg_hba", "db_auth", "error", r"no pg_hba\.conf entry for host", ("no pg_hba.conf entry",), "PostgreSQL refused the client",
      "pg_hba.conf has no rule allowing this client address, user and database.", ("Add a host rule for the client network in pg_hba.conf and reload.",),
      'FATAL:  no pg_hba.conf entry for host "172.18.0.5", user "app", database "app", no encryption', 88),
    P("log.db.mysql_denied", "db_auth", "error", r"Access denied for user", ("access denied for user",), "MySQL password rejected",
      "MySQL rejected the user or password.", _DBAUTH, "ERROR 1045 (28000): Access denied for user 'app'@'172.18.0.4' (using password: YES)", 90),
    P("log.db.redis_auth", "db_auth", "error", r"NOAUTH Authentication required|WRONGPASS|invalid username-password pair",
      ("noauth", "wrongpass", "invalid username-password pair"), "Redis authentication failed",
      "Redis requires a password the client did not send, or the password is wrong.", ("Set the client's Redis password (REDIS_URL redis://:PASSWORD@host) to match `requirepass`.",),
      "ReplyError: NOAUTH Authentication required.", 89),
    P("log.db.mongo_auth", "db_auth", "error", r"MongoServerError: Authentication failed|Authentication failed\.", ("authentication failed",),
      "MongoDB authentication failed", "MongoDB rejected the credentials.", _DBAUTH, "MongoServerError: Authentication failed.", 86),
    # --- TLS
    P("log.tls.verify", "tls", "error", r"(?i)certificate verify failed", ("certificate verify failed",), "TLS certificate not trusted",
      "The client does not trust the server's certificate.", _TLS,
      "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)", 80),
    P("log.tls.x509", "tls", "error", r"x509: certificate|tls: failed to verify certificate", ("x509: certificate", "tls: failed to verify"),
      "TLS certificate problem (Go)", "A Go client rejected the server's certificate (unknown authority, expired or wrong name).", _TLS,
      'Get "https://registry.internal/v2/": x509: certificate signed by unknown authority', 80),
    P("log.tls.java", "tls", "error", r"PKIX path building failed|SSLHandshakeException|CertificateExpiredException",
      ("pkix path building failed", "sslhandshakeexception", "certificateexpiredexception"), "TLS certificate problem (Java)",
      "The JVM rejected the server's certificate chain.", _TLS + ("Import the CA into the JVM's truststore (keytool -importcert).",),
      "javax.net.ssl.SSLHandshakeException: PKIX path building failed: unable to find valid certification path to requested target", 82),
    P("log.tls.node", "tls", "error", r"UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|CERT_HAS_EXPIRED|DEPTH_ZERO_SELF_SIGNED_CERT|unable to verify the first certificate",
      ("unable_to_verify", "self_signed_cert", "cert_has_expired", "depth_zero_self_signed", "unable to verify the first certificate"),
      "TLS certificate problem (Node.js)", "Node.js rejected the server's certificate.", _TLS + ("Point NODE_EXTRA_CA_CERTS at the CA bundle.",),
      "Error: self-signed certificate in certificate chain code: 'SELF_SIGNED_CERT_IN_CHAIN'", 82),
    P("log.tls.load", "tls", "error", r"cannot load certificate|SSL_CTX_use_PrivateKey|PEM_read_bio|key values mismatch",
      ("cannot load certificate", "ssl_ctx_use_privatekey", "pem_read_bio", "key values mismatch"), "TLS certificate or key cannot be loaded",
      "The server could not load its certificate or private key (missing file, wrong format, or a key that does not match).", _FILE + _TLS,
      '[emerg] 1#1: cannot load certificate "/etc/nginx/certs/site.crt": BIO_new_file() failed', 86),
    P("log.tls.handshake", "tls", "warning", r"(?i)tls handshake (?:error|timeout)|wrong version number|SSL routines", ("handshake", "wrong version number", "ssl routines"),
      "TLS handshake failed", "A TLS handshake failed: plain HTTP spoken to a TLS port (or the reverse), or incompatible versions.", _TLS,
      "http: TLS handshake error from 172.18.0.1:53422: tls: first record does not look like a TLS handshake", 64),
    # --- exec format
    P("log.exec.format", "exec_format", "critical", r"exec format error", ("exec format error",), "Binary for the wrong platform",
      "The image's binary was built for another CPU architecture (or a script lacks its #! line).",
      ("Build or pull the image for this host's platform (`docker buildx build --platform linux/amd64,...`).", "Scripts used as entrypoint need a `#!/bin/sh` first line."),
      "exec /usr/local/bin/server: exec format error", 95),
    # --- out of memory in runtimes
    P("log.oom.java", "oom", "critical", r"java\.lang\.OutOfMemoryError", ("outofmemoryerror",), "Java out of memory",
      "The JVM ran out of heap (or metaspace): the heap maximum is too small for the workload, or memory leaks.", _OOM,
      'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space', 92),
    P("log.oom.node", "oom", "critical", r"JavaScript heap out of memory|Reached heap limit Allocation failed", ("javascript heap out of memory", "reached heap limit"),
      "Node.js out of memory", "V8 reached its heap limit.", _OOM, "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", 92),
    P("log.oom.python", "oom", "critical", r"(?:^|\s)MemoryError\b", ("memoryerror",), "Python out of memory",
      "Python could not allocate memory.", _OOM, "MemoryError", 90),
    P("log.oom.go", "oom", "critical", r"fatal error: runtime: out of memory|runtime: cannot allocate memory", ("runtime: out of memory", "runtime: cannot allocate"),
      "Go out of memory", "The Go runtime could not allocate memory.", _OOM, "fatal error: runtime: out of memory", 92),
    P("log.oom.generic", "oom", "error", r"(?i)cannot allocate memory|out of memory", ("cannot allocate memory", "out of memory"), "Out of memory",
      "An allocation failed.", _OOM, "fork: Cannot allocate memory", 66),
    P("log.oom.killed", "oom", "critical", r"^(?:\S+: line \d+:\s+\d+\s+)?Killed(?:\s|$)", ("killed",), "Process killed (likely by the OOM killer)",
      "A process was killed with SIGKILL, which the shell reports as `Killed`: usually the kernel's OOM killer.", _OOM,
      "/start.sh: line 5:    12 Killed                  python train.py", 68),
    # --- panics and crashes
    P("log.panic.go", "panic", "critical", r"^panic: ", ("panic: ",), "Go panic", "The Go program panicked: an unhandled error or a bug.", _CRASH,
      "panic: runtime error: invalid memory address or nil pointer dereference", 75),
    P("log.panic.go_fatal", "panic", "critical", r"^fatal error: (?!runtime: out of memory)", ("fatal error: ",), "Go fatal error",
      "The Go runtime stopped the program (for example concurrent map writes or a deadlock).", _CRASH, "fatal error: concurrent map writes", 74),
    P("log.panic.rust", "panic", "critical", r"thread '[^']*' panicked at", ("panicked at",), "Rust panic", "The Rust program panicked.", _CRASH,
      "thread 'main' panicked at 'called `Option::unwrap()` on a `None` value', src/main.rs:10:5", 75),
    P("log.panic.segfault", "panic", "critical", r"(?i)segmentation fault|SIGSEGV", ("segmentation fault", "sigsegv"), "Segmentation fault",
      "The process accessed invalid memory and was killed (exit code 139).", _CRASH + ("Native libraries built for another libc/CPU are a common cause.",),
      "Segmentation fault (core dumped)", 70),
    P("log.panic.node_unhandled", "panic", "error", r"UnhandledPromiseRejection|Uncaught (?:\w*Error|Exception)|process exited with uncaught",
      ("unhandledpromiserejection", "uncaught "), "Unhandled error (Node.js)", "Node.js stopped on an error nothing caught.", _CRASH,
      "[UnhandledPromiseRejection: This error originated either by throwing inside of an async function without a catch block]", 65),
    P("log.panic.java_exception", "panic", "error", r'^Exception in thread "', ('exception in thread "',), "Uncaught Java exception",
      "A Java thread ended on an exception nothing caught.", _CRASH, 'Exception in thread "main" java.lang.NullPointerException', 45),
    P("log.panic.python_traceback", "panic", "error", r"^Traceback \(most recent call last\):", ("traceback (most recent call last)",), "Python exception",
      "Python stopped on an uncaught exception (the last line of the trace names it).", _CRASH, "Traceback (most recent call last):", 30),
    # --- nginx upstreams and configuration
    P("log.nginx.upstream_refused", "nginx_upstream", "error", r"\(111: Connection refused\) while connecting to upstream", ("while connecting to upstream",),
      "nginx: upstream refused the connection", "nginx could not reach the upstream application: it is down or listens elsewhere.", _UPSTREAM,
      '2026/11/30 10:00:00 [error] 29#29: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 172.18.0.1, server: _, request: "GET / HTTP/1.1", upstream: "http://172.18.0.3:8000/"', 88),
    P("log.nginx.upstream_timeout", "nginx_upstream", "error", r"upstream timed out", ("upstream timed out",), "nginx: upstream timed out",
      "The upstream application accepted the connection but answered too slowly.", _UPSTREAM + ("Raise proxy_read_timeout only after finding why the application is slow.",),
      "[error] 7#7: *3 upstream timed out (110: Connection timed out) while reading response header from upstream", 88),
    P("log.nginx.no_live", "nginx_upstream", "error", r"no live upstreams", ("no live upstreams",), "nginx: no live upstreams",
      "Every server of the upstream group is marked down.", _UPSTREAM, "[error] 8#8: *10 no live upstreams while connecting to upstream", 89),
    P("log.nginx.host_not_found", "nginx_upstream", "critical", r"host not found in upstream", ("host not found in upstream",), "nginx: upstream host not found",
      "nginx could not resolve an upstream hostname at start-up and refused to start.", _UPSTREAM,
      '[emerg] 1#1: host not found in upstream "app:8080" in /etc/nginx/conf.d/default.conf:3', 92),
    P("log.nginx.premature", "nginx_upstream", "error", r"upstream prematurely closed connection", ("upstream prematurely closed",),
      "nginx: upstream closed the connection", "The upstream application closed the connection before answering (it crashed or restarted).", _UPSTREAM,
      "[error] 9#9: *5 upstream prematurely closed connection while reading response header from upstream", 87),
    P("log.config.nginx", "config_error", "critical", r"\[emerg\].*(?:unknown directive|unexpected|invalid|is not allowed here|no \"events\" section)",
      ("[emerg]",), "nginx configuration error", "nginx refused to start because its configuration is invalid.",
      ("Run `nginx -t` against the configuration and fix the line it names.",), '[emerg] 1#1: unknown directive "proxy_passs" in /etc/nginx/conf.d/app.conf:7', 90),
    P("log.config.yaml", "config_error", "error", r"yaml\.(?:scanner|parser)\.\w+Error|YAMLException|mapping values are not allowed",
      ("yaml.", "yamlexception", "mapping values are not allowed"), "YAML configuration error", "A YAML configuration file does not parse.",
      ("Validate the file (a YAML linter) and fix the indentation or quoting at the line named.",), "yaml.scanner.ScannerError: mapping values are not allowed here", 85),
    # --- database start-up failures
    P("log.pg.data_dir", "db_startup", "critical", r'data directory "[^"]+" has (?:wrong ownership|invalid permissions)', ("data directory",),
      "PostgreSQL data directory permissions", "PostgreSQL refuses a data directory owned by another user or readable by others.", _DBSTART,
      'FATAL:  data directory "/var/lib/postgresql/data" has wrong ownership', 90),
    P("log.pg.incompatible", "db_startup", "critical", r"database files are incompatible with server", ("database files are incompatible",),
      "PostgreSQL data from another major version", "The data volume was created by a different PostgreSQL major version.",
      ("Run the old major version, dump and restore (or pg_upgrade) before switching images.",),
      "FATAL:  database files are incompatible with server", 92),
    P("log.pg.lock_file", "db_startup", "critical", r'lock file "[^"]+" already exists', ("lock file",), "PostgreSQL lock file exists",
      "Another postmaster uses the data directory, or a stale lock file remains after a crash.", ("Make sure only one container mounts the data volume; remove a stale postmaster.pid.",),
      'FATAL:  lock file "postmaster.pid" already exists', 89),
    P("log.mysql.innodb_lock", "db_startup", "critical", r"Unable to lock \./ibdata1|Data Dictionary initialization failed|data directory has files in it",
      ("unable to lock ./ibdata1", "data dictionary initialization failed", "data directory has files in it"), "MySQL cannot start on its data directory",
      "MySQL could not open or initialise its data directory.", _DBSTART + ("Only one server may use a data directory.",),
      "[ERROR] [MY-012574] [InnoDB] Unable to lock ./ibdata1 error: 11", 90),
    P("log.redis.config", "db_startup", "critical", r"\*\*\* FATAL CONFIG FILE ERROR", ("fatal config file error",), "Redis configuration error",
      "Redis refused to start because its configuration file is invalid.", ("Fix the directive Redis names after the error (`Bad directive or wrong number of arguments`).",),
      "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***", 90),
    P("log.redis.persistence", "db_startup", "critical", r"Bad file format reading the append only file|Wrong signature trying to load DB|Short read or OOM loading DB",
      ("bad file format reading", "wrong signature trying", "short read or oom"), "Redis data file corrupt",
      "Redis could not load its RDB/AOF file.", ("Repair with `redis-check-aof --fix` / `redis-check-rdb`, or restore from backup.",),
      "# Bad file format reading the append only file appendonly.aof: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", 90),
    P("log.mongo.start", "db_startup", "critical", r"exception in initAndListen|Data directory \S+ not found", ("initandlisten", "data directory"),
      "MongoDB cannot start", "mongod failed during start-up (data directory missing, locked or from another version).", _DBSTART,
      "exception in initAndListen: NonExistentPath: Data directory /data/db not found., terminating", 89),
)

BY_ID = {p.rule_id: p for p in PATTERNS}
CATEGORIES = sorted({p.category for p in PATTERNS})
