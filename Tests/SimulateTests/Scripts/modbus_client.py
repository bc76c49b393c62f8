#!/usr/bin/env python3
"""A scriptable independent Modbus TCP client (pymodbus) for SimulateTests.

usage: modbus_client.py HOST PORT UNIT OP...
OP is one of  hr:ADDR:COUNT  ir:ADDR:COUNT  co:ADDR:COUNT  di:ADDR:COUNT  (reads)
              wc:ADDR:0|1  wr:ADDR:VALUE  wrs:ADDR:V1,V2,...  wcs:ADDR:0,1,...  (writes)
Prints one JSON object per OP: {"op", "values"?, "exception"?, "timeout"?, "seconds"}."""
import json
import sys
import time

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ExceptionResponse

host, port, unit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
client = ModbusTcpClient(host, port=port, timeout=1.5, retries=0)
client.connect()
for op in sys.argv[4:]:
    kind, address, argument = op.split(":")
    address = int(address)
    started = time.monotonic()
    result = {"op": op}
    try:
        if kind == "hr":
            r = client.read_holding_registers(address, count=int(argument), slave=unit)
        elif kind == "ir":
            r = client.read_input_registers(address, count=int(argument), slave=unit)
        elif kind == "co":
            r = client.read_coils(address, count=int(argument), slave=unit)
        elif kind == "di":
            r = client.read_discrete_inputs(address, count=int(argument), slave=unit)
        elif kind == "wc":
            r = client.write_coil(address, argument == "1", slave=unit)
        elif kind == "wr":
            r = client.write_register(address, int(argument), slave=unit)
        elif kind == "wrs":
            r = client.write_registers(address, [int(v) for v in argument.split(",")], slave=unit)
        elif kind == "wcs":
            r = client.write_coils(address, [v == "1" for v in argument.split(",")], slave=unit)
        else:
            raise SystemExit(f"unknown op {op}")
        if isinstance(r, ExceptionResponse):
            result["exception"] = r.exception_code
        elif kind in ("hr", "ir"):
            result["values"] = list(r.registers)
        elif kind in ("co", "di"):
            result["values"] = [1 if b else 0 for b in r.bits[: int(argument)]]
        else:
            result["values"] = []
    except ModbusException as error:
        result["timeout"] = str(error)
        client.close()
        client = ModbusTcpClient(host, port=port, timeout=1.5, retries=0)
        client.connect()
    result["seconds"] = time.monotonic() - started
    print(json.dumps(result), flush=True)
client.close()
