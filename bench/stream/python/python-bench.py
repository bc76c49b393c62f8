#!/usr/bin/env python3
"""The typical peer stack next to `stream`: a paho-mqtt Sparkplug consumer that decodes each DDATA with the
protobuf runtime, resolves aliases from the DBIRTH and inserts the samples into SQLite (INSERT OR IGNORE
keyed by series and timestamp, committed in batches), measured like bench/stream/StreamIngest:

1. connect once with a fixed client id and a persistent session, subscribe, disconnect;
2. publish an NBIRTH, a DBIRTH (10 Double metrics with aliases) and COUNT DDATA (10 metrics by alias),
   QoS 1, which the broker queues for the session;
3. start the consumer and time it until the database holds all COUNT x 10 samples.

Prints `msgs/s <rate> samples/s <rate>` like StreamIngest.

    python-bench.py <host> <port> <count> <sqlite-path>

Needs paho-mqtt and protobuf, and sparkplug_b_pb2.py generated next to this file by
`protoc --python_out=. sparkplug_b.proto` (bench/stream/stream-bench.sh does both in a venv).
"""
import os
import sqlite3
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sparkplug_b_pb2 as spb  # noqa: E402

DOUBLE = 10  # Sparkplug DataType Double


def payload(seq, timestamp, metrics):
    message = spb.Payload()
    message.timestamp = timestamp
    message.seq = seq
    for name, alias, value in metrics:
        metric = message.metrics.add()
        if name is not None:
            metric.name = name
            metric.datatype = DOUBLE
        metric.alias = alias
        metric.timestamp = timestamp
        metric.double_value = value
    return message.SerializeToString()


def main():
    host, port, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    run = uuid.uuid4().hex[:8]
    group, edge, device = f"pybench-{run}", "edge", "dev"
    client_id = f"pybench-consumer-{run}"
    root = f"spBv1.0/{group}"

    # 1. The persistent session.
    primer = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    primer.connect(host, port)
    primer.loop_start()
    primer.subscribe(f"{root}/#", qos=1)
    time.sleep(0.5)
    primer.disconnect()
    primer.loop_stop()

    # 2. The backlog.
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pybench-pub-{run}")
    publisher.max_inflight_messages_set(1000)
    publisher.max_queued_messages_set(0)
    publisher.connect(host, port)
    publisher.loop_start()
    base = int(time.time() * 1000)
    infos = [publisher.publish(f"{root}/NBIRTH/{edge}", payload(0, base, [("bdSeq", 0, 0.0)]), qos=1),
             publisher.publish(f"{root}/DBIRTH/{edge}/{device}",
                               payload(1, base, [(f"m{i}", 100 + i, 0.0) for i in range(10)]), qos=1)]
    for index in range(count):
        timestamp = base + 1 + index
        infos.append(publisher.publish(
            f"{root}/DDATA/{edge}/{device}",
            payload((index + 2) % 256, timestamp, [(None, 100 + i, timestamp + i * 0.5) for i in range(10)]),
            qos=1))
    for info in infos:
        info.wait_for_publish()
    publisher.disconnect()
    publisher.loop_stop()

    # 3. The consumer, timed.
    database = sqlite3.connect(path, check_same_thread=False)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("PRAGMA synchronous=NORMAL")
    database.executescript("""
        CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, device TEXT, metric TEXT, UNIQUE (device, metric));
        CREATE TABLE IF NOT EXISTS samples (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL,
                                            PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
    """)
    aliases = {}
    pending = []
    stored = 0
    lock = threading.Lock()
    done = threading.Event()
    expected = count * 10

    def flush():
        nonlocal stored
        if not pending:
            return
        with database:
            before = database.total_changes
            database.executemany("INSERT OR IGNORE INTO samples VALUES (?, ?, ?)", pending)
            stored += database.total_changes - before
        pending.clear()
        if stored >= expected:
            done.set()

    def on_message(client, userdata, message):
        decoded = spb.Payload()
        decoded.ParseFromString(message.payload)
        verb = message.topic.split("/")[2]
        with lock:
            if verb == "DBIRTH":
                for metric in decoded.metrics:
                    database.execute("INSERT OR IGNORE INTO series (device, metric) VALUES (?, ?)", (device, metric.name))
                    row = database.execute("SELECT id FROM series WHERE device = ? AND metric = ?",
                                           (device, metric.name)).fetchone()
                    aliases[metric.alias] = row[0]
                database.commit()
            elif verb == "DDATA":
                for metric in decoded.metrics:
                    series = aliases.get(metric.alias)
                    if series is not None:
                        pending.append((series, metric.timestamp or decoded.timestamp, metric.double_value))
                if len(pending) >= 20000:
                    flush()

    def flusher():
        while not done.is_set():
            time.sleep(0.02)
            with lock:
                flush()

    consumer = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    consumer.on_message = on_message
    start = time.monotonic()
    consumer.connect(host, port)
    consumer.loop_start()
    thread = threading.Thread(target=flusher, daemon=True)
    thread.start()
    if not done.wait(timeout=600):
        print(f"timed out with {stored} of {expected} samples", file=sys.stderr)
        sys.exit(1)
    elapsed = time.monotonic() - start
    consumer.disconnect()
    consumer.loop_stop()
    print(f"msgs/s {int(count / elapsed)} samples/s {int(expected / elapsed)}")


if __name__ == "__main__":
    main()
