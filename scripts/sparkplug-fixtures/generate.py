#!/usr/bin/env python3
"""Writes independent-implementation Sparkplug B fixtures for Tests/SparkplugTests/Fixtures.

Produced with PyPI package `pysparkplug` 0.6.1 (https://pypi.org/project/pysparkplug/, Apache-2.0),
its own encoder (pysparkplug.NBirth/NData/NDeath ... .encode) for every DataType it implements, and,
for the types it leaves out (DataSet, Template, PropertySet/PropertySetList, MetaData on a File),
the Tahu-schema `sparkplug_b_pb2` module it ships, serialised by Google's `protobuf` runtime
(7.x as installed with it). Neither uses our sparkplug_b.proto or protobuf-c.

    python3 -m venv /tmp/spvenv && /tmp/spvenv/bin/pip install pysparkplug==0.6.1
    /tmp/spvenv/bin/python scripts/sparkplug-fixtures/generate.py Tests/SparkplugTests/Fixtures

manifest.json lists every .bin with the values the test expects, written as strings so nothing
is lost in JSON: integers in decimal, Float/Double as the hex IEEE-754 bit pattern, bytes as hex,
DateTime as decimal milliseconds, booleans as "true"/"false".
"""

import datetime
import json
import os
import struct
import sys

import pysparkplug as sp
from pysparkplug import DataType as DT
from pysparkplug._protobuf import sparkplug_b_pb2 as pb

TS = 1700000000123
SPEC_NAMES = {
    1: "Int8", 2: "Int16", 3: "Int32", 4: "Int64", 5: "UInt8", 6: "UInt16", 7: "UInt32", 8: "UInt64",
    9: "Float", 10: "Double", 11: "Boolean", 12: "String", 13: "DateTime", 14: "Text", 15: "UUID",
    16: "DataSet", 17: "Bytes", 18: "File", 19: "Template", 20: "PropertySet", 21: "PropertySetList",
    22: "Int8Array", 23: "Int16Array", 24: "Int32Array", 25: "Int64Array", 26: "UInt8Array",
    27: "UInt16Array", 28: "UInt32Array", 29: "UInt64Array", 30: "FloatArray", 31: "DoubleArray",
    32: "BooleanArray", 33: "StringArray", 34: "DateTimeArray",
}


def dt(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)


def f32(x):
    return "0x%08x" % struct.unpack("<I", struct.pack("<f", x))[0]


def f64(x):
    return "0x%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def render(datatype, value):
    """The manifest's string form of a value (see module doc)."""
    if value is None:
        return None
    if datatype in (DT.FLOAT,):
        return f32(value)
    if datatype in (DT.DOUBLE,):
        return f64(value)
    if datatype == DT.FLOAT_ARRAY:
        return [f32(v) for v in value]
    if datatype == DT.DOUBLE_ARRAY:
        return [f64(v) for v in value]
    if datatype == DT.BOOLEAN:
        return "true" if value else "false"
    if datatype == DT.BOOLEAN_ARRAY:
        return ["true" if v else "false" for v in value]
    if datatype in (DT.BYTES, DT.FILE):
        return value.hex()
    if datatype == DT.DATETIME:
        return str(int(value.timestamp() * 1000))
    if datatype == DT.DATETIME_ARRAY:
        return [str(int(v.timestamp() * 1000)) for v in value]
    if datatype in (DT.STRING_ARRAY,):
        return list(value)
    if isinstance(value, (tuple, list)):
        return [str(v) for v in value]
    return str(value)


# Every DataType pysparkplug encodes itself, with edge values (minimum, maximum, negative).
SCALARS = [
    ("Int8/min", DT.INT8, -128), ("Int8/neg", DT.INT8, -1), ("Int8/max", DT.INT8, 127),
    ("Int16/min", DT.INT16, -32768), ("Int16/max", DT.INT16, 32767),
    ("Int32/min", DT.INT32, -2147483648), ("Int32/max", DT.INT32, 2147483647),
    ("Int64/min", DT.INT64, -9223372036854775808), ("Int64/max", DT.INT64, 9223372036854775807),
    ("UInt8/max", DT.UINT8, 255), ("UInt16/max", DT.UINT16, 65535),
    ("UInt32/max", DT.UINT32, 4294967295), ("UInt64/max", DT.UINT64, 18446744073709551615),
    ("Float/pi", DT.FLOAT, struct.unpack("<f", struct.pack("<f", 3.1415927))[0]),
    ("Double/e", DT.DOUBLE, 2.718281828459045),
    ("Boolean/true", DT.BOOLEAN, True), ("Boolean/false", DT.BOOLEAN, False),
    ("String/utf8", DT.STRING, "Grüße 温度 ✓"), ("String/empty", DT.STRING, ""),
    ("DateTime", DT.DATETIME, dt(1700000000000)),
    ("Text", DT.TEXT, "line one\nline two"),
    ("UUID", DT.UUID, "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
    ("Bytes", DT.BYTES, bytes([0, 1, 2, 254, 255])),
    ("File", DT.FILE, b"%PDF-1.4\n"),
]
ARRAYS = [
    ("Int8Array", DT.INT8_ARRAY, (-128, -1, 0, 127)),
    ("Int16Array", DT.INT16_ARRAY, (-32768, -2, 32767)),
    ("Int32Array", DT.INT32_ARRAY, (-2147483648, 0, 2147483647)),
    ("Int64Array", DT.INT64_ARRAY, (-9223372036854775808, -1, 9223372036854775807)),
    ("UInt8Array", DT.UINT8_ARRAY, (0, 128, 255)),
    ("UInt16Array", DT.UINT16_ARRAY, (0, 65535)),
    ("UInt32Array", DT.UINT32_ARRAY, (1, 4294967295)),
    ("UInt64Array", DT.UINT64_ARRAY, (0, 18446744073709551615)),
    ("FloatArray", DT.FLOAT_ARRAY, tuple(struct.unpack("<3f", struct.pack("<3f", 1.5, -0.25, 1e10)))),
    ("DoubleArray", DT.DOUBLE_ARRAY, (1.5, -0.1, 1e300)),
    ("BooleanArray", DT.BOOLEAN_ARRAY, (True, False, True, True, False, False, False, False, True)),
    ("StringArray", DT.STRING_ARRAY, ("ab", "", "ü")),
    ("DateTimeArray", DT.DATETIME_ARRAY, (dt(1700000000000), dt(1700000001000))),
    ("Int8Array/empty", DT.INT8_ARRAY, ()),
]


def metric_entry(name, alias, datatype, value, **extra):
    entry = {"name": name, "alias": alias, "datatype": SPEC_NAMES[int(datatype)] if datatype else None,
             "value": render(datatype, value)}
    entry.update(extra)
    return entry


def write(out, files, name, verb, raw, timestamp, seq, metrics, **extra):
    with open(os.path.join(out, name), "wb") as f:
        f.write(raw)
    record = {"file": name, "verb": verb, "timestamp": str(timestamp) if timestamp is not None else None,
              "seq": str(seq) if seq is not None else None, "metrics": metrics}
    record.update(extra)
    files.append(record)


def main(out):
    os.makedirs(out, exist_ok=True)
    files = []

    # NBIRTH with every scalar type pysparkplug implements, aliases 1..n, plus bdSeq and Rebirth.
    metrics, expected = [], []
    metrics.append(sp.Metric(timestamp=TS, name="bdSeq", datatype=DT.INT64, value=7))
    expected.append(metric_entry("bdSeq", None, DT.INT64, 7))
    metrics.append(sp.Metric(timestamp=TS, name="Node Control/Rebirth", datatype=DT.BOOLEAN, value=False))
    expected.append(metric_entry("Node Control/Rebirth", None, DT.BOOLEAN, False))
    for alias, (name, datatype, value) in enumerate(SCALARS + ARRAYS, start=1):
        metrics.append(sp.Metric(timestamp=TS, name=name, datatype=datatype, value=value, alias=alias))
        expected.append(metric_entry(name, alias, datatype, value))
    metrics.append(sp.Metric(timestamp=TS, name="Null/Double", datatype=DT.DOUBLE, value=None, alias=100))
    expected.append(metric_entry("Null/Double", 100, DT.DOUBLE, None, is_null=True))
    birth = sp.NBirth(timestamp=TS, seq=0, metrics=tuple(metrics))
    write(out, files, "pysparkplug_nbirth.bin", "NBIRTH", birth.encode(), TS, 0, expected)

    # NDATA by alias only, without datatypes (pysparkplug's default for DATA): needs the NBIRTH.
    data_values = [("Int8/neg", DT.INT8, -5), ("Int16/min", DT.INT16, -300), ("UInt32/max", DT.UINT32, 12),
                   ("Double/e", DT.DOUBLE, -1.25), ("StringArray", DT.STRING_ARRAY, ("x", "yz")),
                   ("BooleanArray", DT.BOOLEAN_ARRAY, (False, True))]
    aliases = {name: alias for alias, (name, _, _) in enumerate(SCALARS + ARRAYS, start=1)}
    metrics = [sp.Metric(timestamp=TS + 1, name=None, alias=aliases[n], datatype=d, value=v, is_historical=(n == "Double/e"))
               for n, d, v in data_values]
    expected = [metric_entry(n, aliases[n], d, v, is_historical=(n == "Double/e")) for n, d, v in data_values]
    data = sp.NData(timestamp=TS + 1, seq=1, metrics=tuple(metrics))
    write(out, files, "pysparkplug_ndata_aliases.bin", "NDATA", data.encode(), TS + 1, 1, expected,
          birth="pysparkplug_nbirth.bin")

    # NDEATH: only bdSeq, no seq.
    death = sp.NDeath(timestamp=TS + 2, bd_seq_metric=sp.Metric(timestamp=TS + 2, name="bdSeq", datatype=DT.INT64, value=7))
    write(out, files, "pysparkplug_ndeath.bin", "NDEATH", death.encode(), TS + 2, None,
          [metric_entry("bdSeq", None, DT.INT64, 7)])

    # DDEATH: timestamp and seq, no metrics.
    write(out, files, "pysparkplug_ddeath.bin", "DDEATH", sp.DDeath(timestamp=TS + 3, seq=9).encode(), TS + 3, 9, [])

    # Types pysparkplug does not implement, built with the Tahu-schema module it ships.
    p = pb.Payload()
    p.timestamp = TS
    p.seq = 2
    m = p.metrics.add()
    m.name, m.alias, m.timestamp, m.datatype = "Recipe", 200, TS, 16
    ds = m.dataset_value
    ds.num_of_columns = 3
    ds.columns.extend(["step", "temp", "label"])
    ds.types.extend([3, 10, 12])
    for step, temp, label in [(-1, 21.5, "warm-up"), (2, 180.0, "bake")]:
        row = ds.rows.add()
        row.elements.add().int_value = step & 0xFFFFFFFF
        row.elements.add().double_value = temp
        row.elements.add().string_value = label
    m = p.metrics.add()
    m.name, m.alias, m.timestamp, m.datatype = "Press/Motor", 201, TS, 19
    t = m.template_value
    t.version, t.template_ref, t.is_definition = "v1", "Motor", False
    par = t.parameters.add()
    par.name, par.type, par.int_value = "poles", 5, 4
    tm = t.metrics.add()
    tm.name, tm.datatype, tm.float_value = "rpm", 9, 1450.5
    m = p.metrics.add()
    m.name, m.alias, m.timestamp, m.datatype, m.double_value = "Temperature", 202, TS, 10, 72.25
    props = m.properties
    props.keys.extend(["engUnit", "Quality", "limits"])
    v = props.values.add(); v.type, v.string_value = 12, "°C"
    v = props.values.add(); v.type, v.int_value = 3, 192
    v = props.values.add(); v.type = 21
    for lo, hi in [(0.0, 100.0), (-10.0, 110.0)]:
        s = v.propertysets_value.propertyset.add()
        s.keys.extend(["low", "high"])
        a = s.values.add(); a.type, a.double_value = 10, lo
        b = s.values.add(); b.type, b.double_value = 10, hi
    m = p.metrics.add()
    m.name, m.alias, m.timestamp, m.datatype, m.bytes_value = "Manual", 203, TS, 18, b"hello"
    md = m.metadata
    md.is_multi_part, md.content_type, md.size, md.seq = False, "application/pdf", 5, 0
    md.file_name, md.file_type, md.md5, md.description = "manual.pdf", "pdf", "5d41402abc4b2a76b9719d911017c592", "operator manual"
    structured = [
        {"name": "Recipe", "alias": 200, "datatype": "DataSet",
         "value": {"columns": ["step", "temp", "label"], "types": ["Int32", "Double", "String"],
                   "rows": [["-1", f64(21.5), "warm-up"], ["2", f64(180.0), "bake"]]}},
        {"name": "Press/Motor", "alias": 201, "datatype": "Template",
         "value": {"version": "v1", "template_ref": "Motor", "is_definition": False,
                   "parameters": [{"name": "poles", "datatype": "UInt8", "value": "4"}],
                   "metrics": [{"name": "rpm", "datatype": "Float", "value": f32(1450.5)}]}},
        {"name": "Temperature", "alias": 202, "datatype": "Double", "value": f64(72.25),
         "properties": {"engUnit": "°C", "Quality": "192",
                        "limits": [{"low": f64(0.0), "high": f64(100.0)}, {"low": f64(-10.0), "high": f64(110.0)}]}},
        {"name": "Manual", "alias": 203, "datatype": "File", "value": b"hello".hex(),
         "metadata": {"is_multi_part": False, "content_type": "application/pdf", "size": "5", "seq": "0",
                      "file_name": "manual.pdf", "file_type": "pdf", "md5": "5d41402abc4b2a76b9719d911017c592",
                      "description": "operator manual"}},
    ]
    write(out, files, "tahu_pb2_structured.bin", "DBIRTH", p.SerializeToString(), TS, 2, structured)

    # STATE JSON as pysparkplug writes it (key order differs from the spec's example).
    with open(os.path.join(out, "pysparkplug_state.json"), "wb") as f:
        f.write(sp.State(timestamp=TS, online=True).encode())

    manifest = {"generator": "pysparkplug 0.6.1 + its bundled sparkplug_b_pb2 (protobuf runtime)",
                "state": {"file": "pysparkplug_state.json", "online": True, "timestamp": str(TS)},
                "payloads": files}
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
    print(f"wrote {len(files)} payloads to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/SparkplugTests/Fixtures")
