"""Stand-ins for stream (history) and rag-index (ask) over MQTT 5 request/response, so schemathesis reaches
the api's relay path instead of its 504. Usage: stand_in_responders.py HOST PORT PREFIX"""
import json
import sys

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ANSWERS = {
    f"{prefix}/_svc/stream/history": {"asset": "acme/plant1", "metric": "temperature",
                                      "samples": [{"t": 0, "ts": "1970-01-01T00:00:00Z", "value": 1, "quality": "good"}],
                                      "next": None},
    f"{prefix}/_svc/rag-index/ask": {"answer": "Check the spindle.", "sources": [{"path": "manual.md", "score": 1}]},
}


def on_connect(client, userdata, flags, reason, properties):
    for topic in ANSWERS:
        client.subscribe(topic, qos=1)
    print("ready", flush=True)


def on_message(client, userdata, message):
    props = message.properties
    response_topic = getattr(props, "ResponseTopic", None)
    if not response_topic:
        return
    out = Properties(PacketTypes.PUBLISH)
    correlation = getattr(props, "CorrelationData", None)
    if correlation is not None:
        out.CorrelationData = correlation
    client.publish(response_topic, json.dumps(ANSWERS[message.topic]), qos=1, properties=out)


client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
client.on_connect = on_connect
client.on_message = on_message
client.connect(host, port)
client.loop_forever()
