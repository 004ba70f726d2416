"""The streaming lane: sources -> decode -> event time and watermarks -> late policy -> contract
gate -> dedupe -> micro-batch committed to Iceberg with its source positions -> acknowledge.

    service.py     StreamingService (Platform.streaming): run, status, ingest
    consumer.py    the loop: batching, one Iceberg commit per micro-batch, ack after the commit
    reader.py      reading a source into decoded Arrow chunks (JSON-lines fast path), the replay fence
    decode.py      JSON to Arrow, event times to UTC microseconds
    state.py       watermarks per source partition (idle timeout), dedupe state, summary codec
    windows.py     tumbling / sliding aggregates emitted when the watermark passes
    steps.py       ledger steps for a long-running consumer (SLIs in step details)
    killpoints.py  named points where a crash harness kills the process with SIGKILL
    demo.py        the demo stage
"""
