"""Dataset identity as the OpenLineage naming spec gives it: one spelling, one URI per dataset.

Producers spell the same datasource differently: ``postgresql://`` for ``postgres://``, ``s3a://``
for ``s3://``, a host in capitals or without its default port, ``file://`` or
``file://localhost`` for the local file system, a whole location as the name of namespace
``file``. :func:`normalise` maps each spelling to the spec's; the graph applies it to every dataset
identifier it is given (events, symlinks, column lineage, declarations, lookups), so one dataset is
one node whoever names it. :func:`uri` renders (namespace, name) the way the spec combines them,
``scheme:[//authority]path``: ``file`` + ``/tmp/x`` is ``file:/tmp/x``, ``postgres://h:5432`` +
``db.s.t`` is ``postgres://h:5432/db.s.t``. Job namespaces name schedulers, not datasources, and
are taken as given.
"""

from __future__ import annotations

from functools import lru_cache

# spellings producers use for a scheme -> the scheme the naming spec uses
SCHEME_SPELLINGS = {"postgresql": "postgres", "s3a": "s3", "s3n": "s3", "gcs": "gs", "mssql": "sqlserver"}

# schemes whose authority is a server's host[:port]: the host's case is folded, credentials are
# dropped (a DSN pasted as a namespace), and the default port is added where there is one
HOST_SCHEMES: dict[str, int | None] = {
    "postgres": 5432, "mysql": 3306, "sqlserver": 1433, "oracle": 1521,
    "trino": None, "hive": None, "kafka": None, "cassandra": None, "teradata": None, "redshift": None,
    "hdfs": None,
}

LOCAL_FILE_HOSTS = ("", "localhost")  # RFC 8089: file:///p and file://localhost/p are local


@lru_cache(maxsize=4096)  # a graph has few namespaces and asks for each one again and again
def normalise_namespace(namespace: str) -> str:
    """The naming spec's spelling of a dataset namespace (unknown schemes: only the case folded)."""
    scheme, sep, rest = namespace.partition("://")
    if not sep:
        return "file" if namespace.lower() in ("file", "file:") else namespace
    scheme = scheme.lower()
    base = scheme.partition("+")[0]  # a SQLAlchemy URL's driver: postgresql+psycopg://
    scheme = SCHEME_SPELLINGS.get(base, base if base in HOST_SCHEMES else scheme)
    authority, slash, path = rest.partition("/")
    if scheme == "file":
        authority = authority.lower()
        if authority in LOCAL_FILE_HOSTS and not path:
            return "file"
        return f"file://{authority}{slash}{path}".rstrip("/")
    if scheme in HOST_SCHEMES:
        host, port = _host_port(authority.rpartition("@")[2])
        port = port or (str(HOST_SCHEMES[scheme]) if HOST_SCHEMES[scheme] and host else "")
        authority = host.lower() + (f":{port}" if port else "")
    path = path.rstrip("/")
    return f"{scheme}://{authority}" + (f"/{path}" if path else "")


def normalise(namespace: str, name: str) -> tuple[str, str]:
    """(namespace, name) of a dataset as the naming spec spells it.

    A location given whole as the name of namespace ``file`` (``file:///tmp/x``, or a warehouse
    on an object store: ``s3://bucket/key``) is split into the namespace and name it stands for.
    """
    ns = normalise_namespace(namespace)
    if ns == "file" and (name.startswith("file:") or "://" in name) and not name.startswith("/"):
        split = split_uri(name)
        if split is not None:
            return normalise(*split)
    return ns, name


def uri(namespace: str, name: str) -> str:
    """The naming spec's URI of a dataset (``scheme:[//authority]path``); jobs read the same way.

    A namespace that is a bare scheme joins with ``:`` (``file:/tmp/x``, ``bigquery:p.d.t``); one
    with an authority joins with ``/`` (``postgres://h:5432/db.s.t``, ``s3://bucket/key``).
    """
    if ":" not in namespace:
        return f"{namespace}:{name}"
    if name.startswith("/") or namespace.endswith("/"):
        return f"{namespace}{name}"
    return f"{namespace}/{name}"


def split_uri(text: str) -> tuple[str, str] | None:
    """(namespace, name) of a URI (``file:/p``, ``scheme:name``, ``scheme://authority/path``), or
    None when it is not one. The name is everything after the authority, so a name that holds a ``/`` of its own
    under a namespace with a path (``azurecosmos://host/dbs/db`` + ``colls/t``) is found by trying
    each split instead (see ``LineageGraph.find``)."""
    scheme, sep, rest = text.partition(":")
    if not sep or not scheme.isascii() or not scheme.replace("+", "").replace("-", "").replace(".", "").isalnum():
        return None
    if scheme.lower() == "file":
        if rest.startswith("//"):
            authority, slash, path = rest[2:].partition("/")
            if not slash:
                return None
            ns = "file" if authority.lower() in LOCAL_FILE_HOSTS else f"file://{authority}"
            return ns, "/" + path
        return ("file", rest) if rest.startswith("/") else None
    if not rest.startswith("//"):
        return (scheme, rest) if rest else None  # a bare scheme: bigquery:p.d.t
    authority, slash, path = rest[2:].partition("/")
    if not authority or not slash or not path:
        return None
    return f"{scheme}://{authority}", path


def _host_port(authority: str) -> tuple[str, str]:
    host, sep, port = authority.rpartition(":")
    if sep and port.isdigit() and not host.endswith(":"):  # not the inside of a bare IPv6 address
        return host, port
    return authority, ""
