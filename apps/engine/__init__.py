"""The only package that imports `docker` (DESIGN.md). Public surface:

- `engine.client.connect(url, ...)` -> docker.DockerClient
- `engine.info(client)` -> EngineInfo
- `engine.errors.TransientEngineError` / `PermanentEngineError`
- `engine.client.fetch_ssh_host_key(host, port, timeout)` -> (type, base64, fingerprint)

Submodules import `docker` lazily through this package so Django's app loading stays light.
"""


def info(client):
    from .facts import info as _info

    return _info(client)


def __getattr__(name):
    if name == "EngineInfo":
        from .facts import EngineInfo

        return EngineInfo
    raise AttributeError(name)
