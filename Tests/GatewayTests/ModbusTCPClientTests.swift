import Foundation
import Modbus
import Testing

/// The Modbus TCP client against a real (in-process) server: every function code, exceptions, timeouts and
/// reconnecting after the device comes back.
@Suite struct ModbusTCPClientTests {
    @Test func everyFunctionCodeRoundTrips() async throws {
        let (device, server) = try await TestDevice.start()
        let client = ModbusTCPClient(host: "127.0.0.1", port: server.port, timeout: .milliseconds(500))
        device.setRegister(3, 0xBEEF)
        #expect(try await client.send(.readHoldingRegisters(address: 2, count: 2), unit: 1) == .readHoldingRegisters([0, 0xBEEF]))
        #expect(try await client.send(.writeSingleRegister(address: 5, value: 7), unit: 1) == .writeSingleRegister(address: 5, value: 7))
        #expect(try await client.send(.writeMultipleRegisters(address: 6, values: [8, 9]), unit: 1)
                == .writeMultipleRegisters(address: 6, count: 2))
        #expect(device.register(5) == 7 && device.register(7) == 9)
        #expect(try await client.send(.writeSingleCoil(address: 1, value: true), unit: 1) == .writeSingleCoil(address: 1, value: true))
        #expect(try await client.send(.writeMultipleCoils(address: 4, values: [true, false, true]), unit: 1)
                == .writeMultipleCoils(address: 4, count: 3))
        #expect(try await client.send(.readCoils(address: 0, count: 6), unit: 1)
                == .readCoils([false, true, false, false, true, false]))
        #expect(try await client.send(.readDiscreteInputs(address: 0, count: 3), unit: 1) == .readDiscreteInputs([false, false, false]))
        #expect(try await client.send(.readInputRegisters(address: 0, count: 1), unit: 1) == .readInputRegisters([0]))
        await client.close()
        await server.close()
    }

    @Test func exceptionResponsesArePreciseErrors() async throws {
        let (_, server) = try await TestDevice.start()
        let client = ModbusTCPClient(host: "127.0.0.1", port: server.port, timeout: .milliseconds(500))
        do {
            _ = try await client.send(.readHoldingRegisters(address: 60, count: 10), unit: 1)
            Issue.record("reading past the table succeeded")
        } catch {
            #expect(error.code == .deviceException)
            #expect(error.exception == .illegalDataAddress)
            #expect(error.message.contains("exception 2 (illegal data address)"))
        }
        // The connection stays usable after an exception.
        #expect(try await client.send(.readHoldingRegisters(address: 0, count: 1), unit: 1) == .readHoldingRegisters([0]))
        await server.close()
    }

    @Test func silentDeviceTimesOutAndRecovers() async throws {
        let (device, server) = try await TestDevice.start()
        let client = ModbusTCPClient(host: "127.0.0.1", port: server.port, timeout: .milliseconds(200))
        device.silent.withLock { $0 = true }
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: ModbusError.self) { try await client.send(.readHoldingRegisters(address: 0, count: 1), unit: 1) }
        // It gave up rather than hung; the bound is loose because a loaded CI machine is slow, not wrong.
        #expect(clock.now - start < .seconds(10))
        device.silent.withLock { $0 = false }
        #expect(try await client.send(.readHoldingRegisters(address: 0, count: 1), unit: 1) == .readHoldingRegisters([0]))
        await server.close()
    }

    @Test func refusedConnectionIsConnectFailed() async throws {
        // A port bound but not listening refuses connections, and no other test can take it meanwhile.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let client = ModbusTCPClient(host: "127.0.0.1", port: port, timeout: .milliseconds(200))
        do {
            _ = try await client.send(.readCoils(address: 0, count: 1), unit: 1)
            Issue.record("a closed port answered")
        } catch {
            #expect(error.code == .connectFailed)
        }
    }
}
