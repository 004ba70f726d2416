"""Alert sinks: one interface (``send(alert)``), one registry (``SINKS``).

    from headwater.observe.sinks import Alert, make_sink
    make_sink({"kind": "webhook", "url": "https://hooks.slack.com/..."}).send(Alert(...))

Any capability may send through them (cost sends budget alerts the same way).
"""

from headwater.observe.sinks.base import SINKS, Alert, Sink, SinkError, make_sink

__all__ = ["SINKS", "Alert", "Sink", "SinkError", "make_sink"]
