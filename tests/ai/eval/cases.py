"""The evaluation set: real-world failure logs, each replayed by one busybox container that
prints the log and exits the way the real program does.

Each case: the log, how it exits (code, or a memory limit the script exceeds), the category
a correct analysis names, and a substring of the evidence line it must cite.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    log: str
    category: str
    evidence: str
    exit_code: int = 1
    memory_mb: int | None = None  # with a limit, the script allocates past it (OOM kill)


CASES = (
    Case("nginx-port-in-use", """/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration
/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh
10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf
/docker-entrypoint.sh: Configuration complete; ready for start up
2026/11/30 10:00:00 [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)
nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)
2026/11/30 10:00:00 [notice] 1#1: try again to bind() after 500ms
2026/11/30 10:00:01 [emerg] 1#1: still could not bind()
nginx: [emerg] still could not bind()""", "port_in_use", "bind() to 0.0.0.0:80 failed"),
    Case("python-module-not-found", """Starting gunicorn 21.2.0
Traceback (most recent call last):
  File "/app/app.py", line 3, in <module>
    import flask_sqlalchemy
ModuleNotFoundError: No module named 'flask_sqlalchemy'""", "missing_module", "No module named 'flask_sqlalchemy'"),
    Case("java-heap-oom", """  .   ____          _            __ _ _
 :: Spring Boot ::                (v3.2.0)
2026-11-30T10:00:00.000Z  INFO 1 --- [main] com.example.App : Starting App using Java 17.0.9
2026-11-30T10:00:05.000Z  INFO 1 --- [main] com.example.App : Loading catalogue into memory
Exception in thread "main" java.lang.OutOfMemoryError: Java heap space
	at java.base/java.util.Arrays.copyOf(Arrays.java:3537)
	at java.base/java.util.ArrayList.grow(ArrayList.java:237)
	at com.example.Catalogue.load(Catalogue.java:42)
	at com.example.App.main(App.java:17)""", "oom", "java.lang.OutOfMemoryError: Java heap space"),
    Case("node-heap-oom", """> api@1.4.0 start
> node server.js
Server listening on 3000
<--- Last few GCs --->
[1:0x5a1c2e0]    52311 ms: Mark-Compact 2037.5 (2083.2) -> 2036.9 (2084.2) MB, 1841.2 / 0.0 ms  (average mu = 0.121, current mu = 0.004) allocation failure
<--- JS stacktrace --->
FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory
 1: 0xb7b3e0 node::Abort() [node]
 2: 0xa8e823  [node]""", "oom", "Reached heap limit Allocation failed", 134),
    Case("postgres-client-auth", """Waiting for database...
psql: error: connection to server at "db" (172.18.0.2), port 5432 failed: FATAL:  password authentication failed for user "app"
Database not ready, giving up""", "db_auth", 'password authentication failed for user "app"'),
    Case("django-postgres-auth", """Operations to perform:
  Apply all migrations: admin, auth, contenttypes, sessions
Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/django/db/backends/base/base.py", line 275, in ensure_connection
    self.connect()
  File "/usr/local/lib/python3.12/site-packages/psycopg/connection.py", line 119, in connect
    raise last_ex.with_traceback(None)
psycopg.OperationalError: connection failed: FATAL:  password authentication failed for user "django\"""", "db_auth", "password authentication failed"),
    Case("exec-format-error", """exec /usr/local/bin/server: exec format error""", "exec_format", "exec format error"),
    Case("command-not-found-127", """Running migrations
/entrypoint.sh: line 7: gunicorn: not found""", "missing_file", "gunicorn: not found", 127),
    Case("oom-killed-memory-limit", """Starting worker pid 1
Loading dataset into memory""", "oom", "State.OOMKilled = true", 137, 32),
    Case("postgres-no-password", """Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.""", "missing_env", "superuser password is not specified"),
    Case("mysql-no-root-password", """2026-11-30 10:00:00+00:00 [Note] [Entrypoint]: Entrypoint script for MySQL Server 8.0.35-1.el8 started.
2026-11-30 10:00:00+00:00 [ERROR] [Entrypoint]: Database is uninitialized and password option is not specified
    You need to specify one of the following as an environment variable:
    - MYSQL_ROOT_PASSWORD
    - MYSQL_ALLOW_EMPTY_PASSWORD
    - MYSQL_RANDOM_ROOT_PASSWORD""", "missing_env", "password option is not specified"),
    Case("mysql-access-denied", """Connecting to db:3306
ERROR 1045 (28000): Access denied for user 'wordpress'@'172.18.0.4' (using password: YES)""", "db_auth", "Access denied for user 'wordpress'"),
    Case("redis-noauth", """[worker] connecting to redis://cache:6379/0
ReplyError: NOAUTH Authentication required.
    at parseError (/app/node_modules/redis-parser/lib/parser.js:179:12)
    at parseType (/app/node_modules/redis-parser/lib/parser.js:302:14)""", "db_auth", "NOAUTH Authentication required"),
    Case("go-panic-nil", """2026/11/30 10:00:00 starting server on :8080
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6a2b3c]

goroutine 1 [running]:
main.(*Server).Start(0x0)
	/src/server.go:42 +0x1c
main.main()
	/src/main.go:12 +0x85""", "panic", "panic: runtime error: invalid memory address", 2),
    Case("go-dns-no-such-host", """2026/11/30 10:00:00 connecting to redis-cache:6379
2026/11/30 10:00:00 fatal: dial tcp: lookup redis-cache on 127.0.0.11:53: no such host""", "dns", "no such host"),
    Case("node-econnrefused", """> worker@2.0.0 start
> node index.js
Connecting to database...
Error: connect ECONNREFUSED 172.18.0.3:5432
    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {
  errno: -111,
  code: 'ECONNREFUSED',
  syscall: 'connect',
  address: '172.18.0.3',
  port: 5432
}
Node.js v20.10.0""", "connection", "ECONNREFUSED 172.18.0.3:5432"),
    Case("node-cannot-find-module", """node:internal/modules/cjs/loader:1080
  throw err;
  ^

Error: Cannot find module 'express'
Require stack:
- /app/server.js
    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)
    at Module._load (node:internal/modules/cjs/loader:922:27)
    at Object.<anonymous> (/app/server.js:1:17) {
  code: 'MODULE_NOT_FOUND',
  requireStack: [ '/app/server.js' ]
}

Node.js v20.10.0""", "missing_module", "Cannot find module 'express'"),
    Case("nginx-upstream-refused", """/docker-entrypoint.sh: Configuration complete; ready for start up
2026/11/30 10:00:00 [error] 29#29: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 172.18.0.1, server: _, request: "GET / HTTP/1.1", upstream: "http://172.18.0.3:8000/", host: "localhost"
172.18.0.1 - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/8.4.0\"""", "nginx_upstream", "while connecting to upstream"),
    Case("nginx-host-not-found", """/docker-entrypoint.sh: Configuration complete; ready for start up
2026/11/30 10:00:00 [emerg] 1#1: host not found in upstream "app:8080" in /etc/nginx/conf.d/default.conf:3
nginx: [emerg] host not found in upstream "app:8080" in /etc/nginx/conf.d/default.conf:3""", "nginx_upstream", 'host not found in upstream "app:8080"'),
    Case("nginx-unknown-directive", """/docker-entrypoint.sh: Configuration complete; ready for start up
2026/11/30 10:00:00 [emerg] 1#1: unknown directive "proxy_passs" in /etc/nginx/conf.d/app.conf:7
nginx: [emerg] unknown directive "proxy_passs" in /etc/nginx/conf.d/app.conf:7""", "config_error", 'unknown directive "proxy_passs"'),
    Case("disk-full", """2026-11-30 10:00:00 INFO exporting report batch 41
2026-11-30 10:00:01 ERROR write /var/lib/app/reports/batch-41.csv: no space left on device
2026-11-30 10:00:01 INFO shutting down""", "disk_full", "no space left on device"),
    Case("permission-denied-volume", """Starting app as uid 1000
mkdir: can't create directory '/data/cache': Permission denied
Failed to prepare cache directory""", "permission_denied", "can't create directory '/data/cache': Permission denied"),
    Case("python-tls-verify", """INFO fetching https://api.internal/v1/config
Traceback (most recent call last):
  File "/app/fetch.py", line 9, in <module>
    r = requests.get(URL)
  File "/usr/local/lib/python3.12/site-packages/requests/adapters.py", line 517, in send
    raise SSLError(e, request=request)
requests.exceptions.SSLError: HTTPSConnectionPool(host='api.internal', port=443): Max retries exceeded with url: /v1/config (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)')))""", "tls", "CERTIFICATE_VERIFY_FAILED"),
    Case("go-x509-unknown-authority", """time="2026-11-30T10:00:00Z" level=info msg="starting sync"
time="2026-11-30T10:00:00Z" level=fatal msg="Get \\"https://registry.internal/v2/\\": x509: certificate signed by unknown authority\"""", "tls", "x509: certificate signed by unknown authority"),
    Case("python-keyerror-env", """Traceback (most recent call last):
  File "/app/settings.py", line 12, in <module>
    DATABASE_URL = os.environ["DATABASE_URL"]
  File "<frozen os>", line 685, in __getitem__
KeyError: 'DATABASE_URL'""", "missing_env", "KeyError: 'DATABASE_URL'"),
    Case("shell-parameter-not-set", """+ set -u
/entrypoint.sh: line 3: DB_HOST: parameter not set""", "missing_env", "DB_HOST: parameter not set"),
    Case("postgres-data-dir-ownership", """PostgreSQL Database directory appears to contain a database; Skipping initialization

2026-11-30 10:00:00.000 UTC [1] FATAL:  data directory "/var/lib/postgresql/data" has wrong ownership
2026-11-30 10:00:00.000 UTC [1] HINT:  The server must be started by the user that owns the data directory.""", "db_startup", "has wrong ownership"),
    Case("postgres-incompatible-version", """PostgreSQL Database directory appears to contain a database; Skipping initialization

2026-11-30 10:00:00.000 UTC [1] FATAL:  database files are incompatible with server
2026-11-30 10:00:00.000 UTC [1] DETAIL:  The data directory was initialized by PostgreSQL version 14, which is not compatible with this version 16.1.""", "db_startup", "database files are incompatible with server"),
    Case("redis-bad-config", """
*** FATAL CONFIG FILE ERROR (Redis 7.2.3) ***
Reading the configuration file, at line 12
>>> 'maxmemory-policy allkeys-lfuu'
argument(s) must be one of the following: volatile-lru, allkeys-lru""", "db_startup", "FATAL CONFIG FILE ERROR"),
    Case("mysql-innodb-lock", """2026-11-30T10:00:00.000000Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.35) starting as process 1
2026-11-30T10:00:01.000000Z 1 [ERROR] [MY-012574] [InnoDB] Unable to lock ./ibdata1 error: 11
2026-11-30T10:00:01.000000Z 1 [ERROR] [MY-012592] [InnoDB] Operating system error number 11 in a file operation.""", "db_startup", "Unable to lock ./ibdata1"),
    Case("redis-port-in-use", """1:C 30 Nov 2026 10:00:00.000 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
1:M 30 Nov 2026 10:00:00.001 # Warning: Could not create server TCP listening socket *:6379: bind: Address already in use
1:M 30 Nov 2026 10:00:00.001 # Failed listening on port 6379 (TCP), aborting.""", "port_in_use", "Could not create server TCP listening socket"),
    Case("java-unknown-host", """2026-11-30 10:00:00.000 ERROR 1 --- [main] o.a.k.c.NetworkClient : Connection to node -1 could not be established
org.apache.kafka.common.KafkaException: Failed to construct kafka consumer
	at org.apache.kafka.clients.consumer.KafkaConsumer.<init>(KafkaConsumer.java:830)
Caused by: java.net.UnknownHostException: kafka-broker
	at java.base/java.net.InetAddress$CachedAddressLookup.get(InetAddress.java:801)""", "dns", "java.net.UnknownHostException: kafka-broker"),
    Case("java-bind-exception", """2026-11-30 10:00:00.000  INFO 1 --- [main] o.s.b.w.embedded.tomcat.TomcatWebServer : Tomcat initialized with port(s): 8080 (http)
2026-11-30 10:00:01.000 ERROR 1 --- [main] o.a.catalina.core.StandardService : Failed to start connector [Connector[HTTP/1.1-8080]]
org.apache.catalina.LifecycleException: Protocol handler start failed
	at org.apache.catalina.connector.Connector.startInternal(Connector.java:1075)
Caused by: java.net.BindException: Address already in use
	at java.base/sun.nio.ch.Net.bind0(Native Method)""", "port_in_use", "java.net.BindException: Address already in use"),
    Case("shared-library-missing", """./server: error while loading shared libraries: libssl.so.1.1: cannot open shared object file: No such file or directory""", "missing_module", "libssl.so.1.1", 127),
    Case("segfault-139", """Loading native extension
Segmentation fault (core dumped)""", "panic", "Segmentation fault", 139),
)
