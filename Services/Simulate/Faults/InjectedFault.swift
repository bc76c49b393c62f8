import Modbus

/// A fault injected at run time into one machine, from an MQTT command or a scenario file.
struct InjectedFault: Equatable, Sendable, CustomStringConvertible {
    enum Kind: Equatable, Sendable {
        /// The machine stops answering Modbus (clients time out).
        case silent
        /// Every answer is delayed.
        case slow(Duration)
        /// Every request is answered with this exception code.
        case exception(ModbusExceptionCode)
        /// Measured values read far outside their physical range.
        case outOfRange
        /// The machine goes down with this fault code (its behaviour, not only its Modbus face).
        case down(faultCode: UInt16)
    }

    /// The machine's name in the plant file.
    var machine: String
    var kind: Kind
    /// How long the fault lasts, in wall-clock time.
    var duration: Duration

    var kindName: String {
        switch kind {
        case .silent: "silent"
        case .slow: "slow"
        case .exception: "exception"
        case .outOfRange: "out-of-range"
        case .down: "down"
        }
    }

    var description: String {
        let detail: String =
            switch kind {
            case .silent, .outOfRange: ""
            case .slow(let delay): "(\(delay))"
            case .exception(let code): "(\(code.rawValue))"
            case .down(let code): "(\(code))"
            }
        return "\(kindName)\(detail) on \(machine) for \(duration)"
    }
}
