#!/usr/bin/env python3
"""An independent Modbus TCP server (pymodbus) for GatewayTests: 100 coils, 100 discrete inputs, 100 holding
and 100 input registers, 0-based, with a few known values.

usage: pymodbus_server.py PORT
  HR 0 = 0xFF38 (int16 -200), HR 1-2 = 0x0001 0x0002 (uint32 65538), HR 3-4 = 0x4148 0x0000 (float32 12.5),
  HR 10-11 = "AB" "C\\0" (string ABC), coil 0 = on, discrete input 2 = on, IR 5 = 1234."""
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext)
from pymodbus.server import StartTcpServer

port = int(sys.argv[1])
holding = [0] * 100
holding[0:5] = [0xFF38, 0x0001, 0x0002, 0x4148, 0x0000]
holding[10:12] = [0x4142, 0x4300]
inputs = [0] * 100
inputs[5] = 1234
coils = [False] * 100
coils[0] = True
discrete = [False] * 100
discrete[2] = True
# pymodbus 3.8 looks up protocol address A at block address A + 1, so blocks start at 1.
device = ModbusSlaveContext(
    co=ModbusSequentialDataBlock(1, coils), di=ModbusSequentialDataBlock(1, discrete),
    hr=ModbusSequentialDataBlock(1, holding), ir=ModbusSequentialDataBlock(1, inputs))
StartTcpServer(context=ModbusServerContext(slaves=device, single=True), address=("127.0.0.1", port))
