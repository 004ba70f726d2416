"""The Kafka source against librdkafka's built-in mock cluster (no broker can be had here):
four partitions, a consumer group, offsets committed after the Iceberg commit, exactly once
through a crash between the commit and the offset commit."""

from __future__ import annotations

import json
import uuid

import pytest

from headwater.platform import Platform
from headwater.sources.fault import FaultSource
from tests.streaming.helpers import events, stream_project

confluent_kafka = pytest.importorskip("confluent_kafka")


@pytest.fixture(scope="module")
def kafka_bootstrap():
    """A three-broker mock cluster that lives as long as the producer that started it."""
    owner = confluent_kafka.Producer({"test.mock.num.brokers": 3, "log_level": 0})
    meta = owner.list_topics(timeout=10)
    yield ",".join(f"{b.host}:{b.port}" for b in meta.brokers.values())
    owner.flush(1)


def _produce(bootstrap: str, topic: str, items: list[dict]) -> None:
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "log_level": 0})
    for item in items:
        producer.produce(topic, value=json.dumps(item).encode(), key=item["event_id"].encode())
    producer.flush(10)


def _committed(bootstrap: str, topic: str, group: str) -> int:
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": group, "log_level": 0})
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        tps = [confluent_kafka.TopicPartition(topic, p) for p in parts]
        return sum(max(tp.offset, 0) for tp in consumer.committed(tps, timeout=10))
    finally:
        consumer.close()


def test_kafka_consumer_group_is_exactly_once_through_a_crash_before_the_offset_commit(tmp_path, kafka_bootstrap):
    topic, group = f"clicks-{uuid.uuid4().hex[:6]}", "headwater-test"
    source = (f"{{kind: kafka, url: 'kafka://{kafka_bootstrap}', stream: {topic}, group: {group}, "
              "options: {log_level: 0, session.timeout.ms: 6000}}")
    root = stream_project(tmp_path / "p", source=source, lateness="1h", max_batch_rows=50)
    ev = events(400)
    _produce(kafka_bootstrap, topic, ev[:300] + ev[:40])  # 40 duplicates
    hw = Platform(root)
    product = hw.streaming.product("clicks")
    faulty = FaultSource(hw.streaming.source(product), options={"crash_on": {"commit": 2}})
    crashed = hw.streaming.run("clicks", until_idle=6, source=faulty)
    assert crashed.status == "failed" and "injected crash" in crashed.error
    faulty.close()  # leave the group now rather than after the session timeout
    _produce(kafka_bootstrap, topic, ev[300:] + ev[290:300])
    result = Platform(root).streaming.run("clicks", until_idle=6)
    assert result.status == "success", result.error
    ids = Platform(root).query("SELECT event_id FROM clicks").column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == 400
    snap = hw.lakehouse.current("clicks")
    positions = json.loads(snap.summary["headwater.stream.positions"])
    assert len(positions) > 1  # several Kafka partitions, each with its own position
    assert _committed(kafka_bootstrap, topic, group) == 450  # offsets acked after the commit
    status = Platform(root).streaming.status()[0]
    assert sum(p["records"] for p in status.lag.values()) == 0
