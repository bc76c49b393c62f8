#!/usr/bin/env python3
"""End-to-end latency of the data path: a register written over Modbus TCP (FC 6) on a simulated machine →
gateway poll → DDATA → stream (journal, store, UNS) → the retained UNS value on the broker.

    latency.py <mqtt-host> <mqtt-port> <modbus-host> <modbus-port> <uns-topic> <count>

Writes holding register 40021 (temperature setpoint, int16, scale 0.1) with a new value each round, then
times until the UNS value with that value arrives. Prints `p50 <ms> p99 <ms> max <ms> n <count>`.
"""
import json
import queue
import socket
import struct
import sys
import time

import paho.mqtt.client as mqtt


def write_register(sock, transaction, offset, value):
    """Modbus TCP FC 6 (write single register), unit 1; waits for the echo."""
    request = struct.pack(">HHHBBHh", transaction, 0, 6, 1, 6, offset, value)
    sock.sendall(request)
    response = b""
    while len(response) < 12:
        chunk = sock.recv(12 - len(response))
        if not chunk:
            raise RuntimeError("Modbus connection closed")
        response += chunk
    if response[7] != 6:
        raise RuntimeError(f"Modbus exception {response[8]}")


def main():
    mqtt_host, mqtt_port, modbus_host, modbus_port, topic, count = (
        sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
    values = queue.Queue()

    def on_message(client, userdata, message):
        values.put((time.monotonic(), json.loads(message.payload)["value"]))

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"latency-{time.time_ns()}")
    client.on_message = on_message
    client.connect(mqtt_host, mqtt_port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    # The pipeline is up once the first (retained) value is there.
    values.get(timeout=120)
    sock = socket.create_connection((modbus_host, modbus_port))
    latencies = []
    for round_number in range(count):
        raw = 200 + round_number % 400          # 20.0 … 59.9 °C, each different from the previous
        expected = raw / 10
        while not values.empty():
            values.get_nowait()
        start = time.monotonic()
        write_register(sock, round_number % 65536, 20, raw)
        while True:
            arrived, value = values.get(timeout=10)
            if abs(value - expected) < 1e-6:
                latencies.append((arrived - start) * 1000)
                break
        time.sleep(0.005)
    latencies.sort()
    def pick(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"p50 {pick(0.50):.1f} p99 {pick(0.99):.1f} max {latencies[-1]:.1f} n {len(latencies)}")
    client.loop_stop()


if __name__ == "__main__":
    main()
