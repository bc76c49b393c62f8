#!/usr/bin/env python3
"""Independent Modbus TCP conformance checks, run by ModbusTests against a server whose tables hold:
holding register i = 3*i + 1 (0..99), input register i = 1000 + i (0..49), coil i = (i % 3 == 0) (0..39),
discrete input i = (i % 2 == 0) (0..29); every coil and holding register writable.

Uses pymodbus (pinned in scripts/setup.sh) for well-formed requests and raw sockets for frames pymodbus
will not build. Prints one JSON object per check: {"name", "ok", "detail"}; exit code 0 even on failures
(the Swift test reports them)."""
import json
import socket
import struct
import sys
import threading

from pymodbus.client import ModbusTcpClient
from pymodbus.pdu import ExceptionResponse

HOST, PORT, UNIT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
results = []


def check(name, ok, detail=""):
    results.append({"name": name, "ok": bool(ok), "detail": str(detail)})


def exception_code(response):
    return response.exception_code if isinstance(response, ExceptionResponse) else None


def raw(frames, read_count=1, timeout=2.0):
    """Sends raw bytes (a list of chunks sent separately) and returns up to read_count responses."""
    sock = socket.create_connection((HOST, PORT), timeout=timeout)
    try:
        for chunk in frames:
            sock.sendall(chunk)
        responses = []
        buffer = b""
        while len(responses) < read_count:
            try:
                data = sock.recv(4096)
            except socket.timeout:
                break
            if not data:
                responses.append(None)  # closed
                break
            buffer += data
            while len(buffer) >= 7:
                length = struct.unpack(">H", buffer[4:6])[0]
                if len(buffer) < 6 + length:
                    break
                responses.append(buffer[: 6 + length])
                buffer = buffer[6 + length:]
        return responses
    finally:
        sock.close()


def adu(tid, pdu, unit=UNIT, protocol=0, length=None):
    return struct.pack(">HHHB", tid, protocol, length if length is not None else len(pdu) + 1, unit) + pdu


def raw_answer(pdu):
    """The response PDU to one raw request PDU, or None."""
    responses = raw([adu(99, pdu)])
    return responses[0][7:] if responses and responses[0] else None


client = ModbusTcpClient(HOST, port=PORT, timeout=2, retries=0)
check("connect", client.connect())

# FC 1 read coils
r = client.read_coils(0, count=40, slave=UNIT)
check("fc1 values", not r.isError() and r.bits[:40] == [i % 3 == 0 for i in range(40)], r)
check("fc1 range crossing end -> 2", exception_code(client.read_coils(35, count=10, slave=UNIT)) == 2)
# pymodbus refuses to send quantities outside the limits, so these go out as raw frames.
check("fc1 quantity 2001 -> 3", raw_answer(struct.pack(">BHH", 1, 0, 2001)) == bytes([0x81, 3]))
check("fc1 quantity 0 -> 3", raw_answer(struct.pack(">BHH", 1, 0, 0)) == bytes([0x81, 3]))

# FC 2 read discrete inputs
r = client.read_discrete_inputs(3, count=10, slave=UNIT)
check("fc2 values", not r.isError() and r.bits[:10] == [(i + 3) % 2 == 0 for i in range(10)], r)
check("fc2 address past end -> 2", exception_code(client.read_discrete_inputs(30, count=1, slave=UNIT)) == 2)

# FC 3 read holding registers
r = client.read_holding_registers(0, count=10, slave=UNIT)
check("fc3 values", not r.isError() and r.registers == [3 * i + 1 for i in range(10)], r)
r = client.read_holding_registers(0, count=100, slave=UNIT)
check("fc3 whole table", not r.isError() and len(r.registers) == 100, r)
check("fc3 range crossing end -> 2", exception_code(client.read_holding_registers(95, count=10, slave=UNIT)) == 2)
check("fc3 quantity 126 -> 3", raw_answer(struct.pack(">BHH", 3, 0, 126)) == bytes([0x83, 3]))
check("fc4 quantity 0 -> 3", raw_answer(struct.pack(">BHH", 4, 0, 0)) == bytes([0x84, 3]))

# FC 4 read input registers
r = client.read_input_registers(10, count=5, slave=UNIT)
check("fc4 values", not r.isError() and r.registers == [1010 + i for i in range(5)], r)
check("fc4 address past end -> 2", exception_code(client.read_input_registers(50, count=1, slave=UNIT)) == 2)

# FC 5 write single coil
r = client.write_coil(1, True, slave=UNIT)
back = client.read_coils(1, count=1, slave=UNIT)
check("fc5 write and read back", not r.isError() and back.bits[0] is True, r)
check("fc5 address past end -> 2", exception_code(client.write_coil(40, True, slave=UNIT)) == 2)
resp = raw([adu(7, struct.pack(">BHH", 5, 1, 0x1234))])
check("fc5 value not FF00/0000 -> 3", resp and resp[0] and resp[0][7:] == bytes([0x85, 3]), resp)

# FC 6 write single register
r = client.write_register(7, 0xBEEF, slave=UNIT)
back = client.read_holding_registers(7, count=1, slave=UNIT)
check("fc6 write and read back", not r.isError() and back.registers == [0xBEEF], back)
check("fc6 address past end -> 2", exception_code(client.write_register(100, 1, slave=UNIT)) == 2)

# FC 15 write multiple coils
pattern = [True, False, True, True, False, False, True, False, True, True]
r = client.write_coils(10, pattern, slave=UNIT)
back = client.read_coils(10, count=10, slave=UNIT)
check("fc15 write and read back", not r.isError() and back.bits[:10] == pattern, back)
check("fc15 range crossing end -> 2", exception_code(client.write_coils(35, [True] * 10, slave=UNIT)) == 2)
resp = raw([adu(8, struct.pack(">BHHB", 15, 0, 10, 1) + b"\xff")])  # 10 coils need 2 bytes
check("fc15 byte count mismatch -> 3", resp and resp[0] and resp[0][7:] == bytes([0x8F, 3]), resp)

# FC 16 write multiple registers
values = [11, 22, 33, 44, 55]
r = client.write_registers(20, values, slave=UNIT)
back = client.read_holding_registers(20, count=5, slave=UNIT)
check("fc16 write and read back", not r.isError() and back.registers == values, back)
check("fc16 range crossing end -> 2", exception_code(client.write_registers(98, [1, 2, 3], slave=UNIT)) == 2)
resp = raw([adu(9, struct.pack(">BHHB", 16, 0, 2, 3) + b"\x00\x01\x00")])
check("fc16 byte count mismatch -> 3", resp and resp[0] and resp[0][7:] == bytes([0x90, 3]), resp)
check("fc16 quantity 0 -> 3", raw_answer(struct.pack(">BHHB", 16, 0, 0, 0)) == bytes([0x90, 3]))
check("fc15 quantity 0 -> 3", raw_answer(struct.pack(">BHHB", 15, 0, 0, 0)) == bytes([0x8F, 3]))

# Exception 1: function codes the server does not implement
for function in (7, 8, 0x2B, 0x41):
    resp = raw([adu(11, bytes([function]) + b"\x00\x00")])
    check(f"fc{function} -> 1", resp and resp[0] and resp[0][7:] == bytes([function | 0x80, 1]), resp)

# Framing: one request split over three sends, two requests in one send
request = adu(0x1234, struct.pack(">BHH", 3, 0, 2))
resp = raw([request[:3], request[3:8], request[8:]])
check("partial frame", resp and resp[0] and resp[0][:2] == b"\x12\x34" and resp[0][7:] == bytes([3, 4, 0, 1, 0, 4]), resp)
resp = raw([adu(1, struct.pack(">BHH", 3, 0, 1)) + adu(2, struct.pack(">BHH", 4, 0, 1))], read_count=2)
check("two frames in one read",
      len(resp) == 2 and resp[0][:2] == b"\x00\x01" and resp[1][:2] == b"\x00\x02" and resp[1][7:] == bytes([4, 2, 0x03, 0xE8]),
      resp)
resp = raw([adu(3, struct.pack(">BHH", 3, 0, 1), protocol=1)])
check("protocol id 1 closes the connection", resp == [None] or resp == [], resp)
resp = raw([adu(4, b"\x03", length=300)])
check("length 300 closes the connection", resp == [None] or resp == [], resp)

# Many concurrent clients
errors = []


def worker(index):
    c = ModbusTcpClient(HOST, port=PORT, timeout=3, retries=0)
    try:
        c.connect()
        for n in range(50):
            address = (index * 7 + n) % 30 + 30
            rr = c.read_holding_registers(address, count=5, slave=UNIT)
            if rr.isError() or rr.registers != [3 * (address + i) + 1 for i in range(5)]:
                errors.append((index, n, rr))
                return
    except Exception as error:  # noqa: BLE001 - report, don't crash the run
        errors.append((index, str(error)))
    finally:
        c.close()


threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check("20 concurrent clients x 50 reads", not errors, errors[:3])

client.close()
for result in results:
    print(json.dumps(result))
