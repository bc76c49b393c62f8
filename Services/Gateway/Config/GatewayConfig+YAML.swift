import Foundation
import Modbus
import Yams

extension GatewayConfig {
    /// Reads and validates the YAML file at `path`; throws `GatewayConfigError` listing every problem.
    init(file path: String) throws(GatewayConfigError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw GatewayConfigError(file: path, issues: [.init(path: "file", line: nil,
                                                                message: "cannot read: \(error.localizedDescription)")])
        }
        try self.init(yaml: text, file: path)
    }

    /// Parses and validates YAML text; `file` only names the source in the error.
    init(yaml text: String, file: String = "<config>") throws(GatewayConfigError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw GatewayConfigError(file: file, issues: [.init(path: "file", line: nil, message: "not valid YAML: \(error)")])
        }
        var reader = ConfigReader()
        let config = reader.gateway(root.map { Located(node: $0, path: "") })
        guard reader.issues.isEmpty, let config else {
            throw GatewayConfigError(file: file, issues: reader.issues)
        }
        self = config
    }
}

/// A YAML node and where it is, for messages.
private struct Located {
    var node: Node
    var path: String

    var line: Int? { node.mark.map { $0.line } }

    func child(_ key: String) -> Located? {
        node[key].map { Located(node: $0, path: path.isEmpty ? key : "\(path).\(key)") }
    }

    func items() -> [Located]? {
        node.sequence.map { $0.enumerated().map { Located(node: $1, path: "\(path)[\($0)]") } }
    }

    var text: String? { node.scalar?.string }
}

/// Walks the YAML tree collecting every issue instead of stopping at the first.
private struct ConfigReader {
    var issues: [GatewayConfigError.Issue] = []

    mutating func fail(_ at: Located, _ message: String) {
        issues.append(.init(path: at.path, line: at.line, message: message))
    }

    mutating func failMissing(_ parent: Located, _ key: String, _ expected: String) {
        let path = parent.path.isEmpty ? key : "\(parent.path).\(key)"
        issues.append(.init(path: path, line: parent.line, message: "is missing; expected \(expected)"))
    }

    /// Reports keys the schema does not know (a typo would otherwise silently fall back to a default).
    mutating func checkKeys(_ at: Located, _ known: Set<String>) {
        guard let mapping = at.node.mapping else { return }
        for (key, _) in mapping {
            let name = key.string ?? "?"
            if !known.contains(name) {
                let path = at.path.isEmpty ? name : "\(at.path).\(name)"
                issues.append(.init(path: path, line: key.mark?.line,
                                    message: "unknown key; expected one of \(known.sorted().joined(separator: ", "))"))
            }
        }
    }

    mutating func mapping(_ at: Located?) -> Located? {
        guard let at else { return nil }
        guard at.node.mapping != nil else {
            fail(at, "is not a mapping (key: value lines)")
            return nil
        }
        return at
    }

    mutating func string(_ parent: Located, _ key: String, default value: String? = nil,
                         identifier: Bool = false) -> String? {
        guard let at = parent.child(key) else {
            if value == nil { failMissing(parent, key, identifier ? "a name without + / #" : "a string") }
            return value
        }
        guard let text = at.text, !text.isEmpty else {
            fail(at, "is empty; expected a string")
            return nil
        }
        if identifier && text.contains(where: { "+/#".contains($0) }) {
            fail(at, "\"\(text)\" contains + / or #; Sparkplug ids and MQTT topic levels cannot")
            return nil
        }
        return text
    }

    mutating func integer(_ parent: Located, _ key: String, default value: Int?, range: ClosedRange<Int>) -> Int? {
        guard let at = parent.child(key) else {
            if value == nil { failMissing(parent, key, "an integer in \(range.lowerBound)…\(range.upperBound)") }
            return value
        }
        guard let text = at.text, let number = Int(text), range.contains(number) else {
            fail(at, "\"\(at.text ?? "")\" is not an integer in \(range.lowerBound)…\(range.upperBound)")
            return nil
        }
        return number
    }

    mutating func number(_ parent: Located, _ key: String, default value: Double?) -> Double? {
        guard let at = parent.child(key) else { return value }
        guard let text = at.text, let number = Double(text), number.isFinite else {
            fail(at, "\"\(at.text ?? "")\" is not a number")
            return nil
        }
        return number
    }

    mutating func bool(_ parent: Located, _ key: String, default value: Bool) -> Bool {
        guard let at = parent.child(key) else { return value }
        switch at.text?.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            fail(at, "\"\(at.text ?? "")\" is not true or false")
            return value
        }
    }

    mutating func duration(_ parent: Located, _ key: String, default value: Duration) -> Duration? {
        guard let at = parent.child(key) else { return value }
        guard let text = at.text, let duration = Self.parseDuration(text), duration > .zero else {
            fail(at, "\"\(at.text ?? "")\" is not a positive duration; write 500ms, 2s, 1m or seconds as a number")
            return nil
        }
        return duration
    }

    /// `250ms`, `2s`, `1.5s`, `1m`, or a plain number of seconds.
    static func parseDuration(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count)), value.isFinite, value >= 0 else { return nil }
            return .milliseconds(Int64((value * factor * 1000).rounded()))
        }
        guard let seconds = Double(trimmed), seconds.isFinite, seconds >= 0 else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ parent: Located, _ key: String, default value: T)
        -> T where T.RawValue == String {
        guard let at = parent.child(key) else { return value }
        guard let text = at.text, let parsed = T(rawValue: text) else {
            let accepted = T.allCases.map(\.rawValue).joined(separator: ", ")
            fail(at, "\"\(at.text ?? "")\" is not one of \(accepted)")
            return value
        }
        return parsed
    }

    // MARK: The schema

    mutating func gateway(_ root: Located?) -> GatewayConfig? {
        guard let root = mapping(root ?? Located(node: Node([(Node, Node)]()), path: "")) else { return nil }
        checkKeys(root, ["groupId", "edgeNodeId", "primaryHostId", "maxGap", "spool", "pollGroups", "devices"])
        let group = string(root, "groupId", identifier: true)
        let edge = string(root, "edgeNodeId", identifier: true)
        let primaryHost = root.child("primaryHostId") == nil ? nil : string(root, "primaryHostId", identifier: true)
        let maxGap = integer(root, "maxGap", default: 8, range: 0...125)

        var spool = SpoolConfig(path: "gateway-spool.sqlite", maxMessages: 100_000, replayRate: 200)
        if let node = mapping(root.child("spool")) {
            checkKeys(node, ["path", "maxMessages", "replayRate"])
            spool.path = string(node, "path", default: spool.path) ?? spool.path
            spool.maxMessages = integer(node, "maxMessages", default: spool.maxMessages, range: 1...100_000_000)
                ?? spool.maxMessages
            if let rate = number(node, "replayRate", default: spool.replayRate) {
                if rate > 0 { spool.replayRate = rate } else if let at = node.child("replayRate") {
                    fail(at, "\"\(rate)\" must be above 0 messages per second")
                }
            }
        }

        var pollGroups: [PollGroupConfig] = []
        if let list = root.child("pollGroups") {
            if let items = list.items() {
                for item in items {
                    guard let item = mapping(item) else { continue }
                    checkKeys(item, ["name", "interval"])
                    let name = string(item, "name")
                    let interval = duration(item, "interval", default: .seconds(1))
                    if let name, pollGroups.contains(where: { $0.name == name }) {
                        fail(item, "poll group \"\(name)\" is defined twice")
                    } else if let name, let interval {
                        pollGroups.append(PollGroupConfig(name: name, interval: interval))
                    }
                }
            } else {
                fail(list, "is not a list")
            }
        }
        if pollGroups.isEmpty && root.child("pollGroups") == nil {
            pollGroups = [PollGroupConfig(name: "default", interval: .seconds(1))]
        }

        var devices: [DeviceConfig] = []
        if let list = root.child("devices"), let items = list.items() {
            if items.isEmpty { fail(list, "is empty; configure at least one device") }
            for item in items {
                if let device = self.device(item, pollGroups: pollGroups, maxGap: maxGap ?? 8) {
                    if devices.contains(where: { $0.name == device.name }) {
                        fail(item, "device name \"\(device.name)\" is used twice; Sparkplug device ids are unique")
                    } else {
                        devices.append(device)
                    }
                }
            }
        } else if let list = root.child("devices") {
            fail(list, "is not a list")
        } else {
            failMissing(root, "devices", "a list of Modbus TCP devices")
        }

        guard let group, let edge, let maxGap else { return nil }
        return GatewayConfig(groupID: group, edgeNodeID: edge, maxGap: maxGap, spool: spool,
                             pollGroups: pollGroups, devices: devices, primaryHostID: primaryHost)
    }

    mutating func device(_ at: Located, pollGroups: [PollGroupConfig], maxGap: Int) -> DeviceConfig? {
        guard let at = mapping(at) else { return nil }
        checkKeys(at, ["name", "host", "port", "unitId", "timeout", "retries", "reconnectBackoff", "assetPath",
                       "wordOrder", "byteOrder", "tags"])
        let name = string(at, "name", identifier: true)
        let host = string(at, "host")
        let port = integer(at, "port", default: 502, range: 1...65535)
        let unit = integer(at, "unitId", default: 1, range: 0...255)
        let timeout = duration(at, "timeout", default: .seconds(1))
        let retries = integer(at, "retries", default: 1, range: 0...10)
        var backoffMinimum: Duration? = .milliseconds(500), backoffMaximum: Duration? = .seconds(30)
        if let backoff = mapping(at.child("reconnectBackoff")) {
            checkKeys(backoff, ["min", "max"])
            backoffMinimum = duration(backoff, "min", default: .milliseconds(500))
            backoffMaximum = duration(backoff, "max", default: .seconds(30))
            if let low = backoffMinimum, let high = backoffMaximum, high < low {
                fail(backoff, "max \(high) is below min \(low)")
            }
        }
        let assetPath = string(at, "assetPath", default: "")
        let wordOrder: ModbusWordOrder = choice(at, "wordOrder", default: .bigEndian)
        let byteOrder: ByteOrder = choice(at, "byteOrder", default: .bigEndian)

        var tags: [TagConfig] = []
        if let list = at.child("tags"), let items = list.items() {
            if items.isEmpty { fail(list, "is empty; a device needs at least one tag") }
            for item in items {
                guard let tag = self.tag(item, wordOrder: wordOrder, byteOrder: byteOrder, pollGroups: pollGroups)
                else { continue }
                if tags.contains(where: { $0.name == tag.name }) {
                    fail(item, "tag name \"\(tag.name)\" is used twice in this device")
                } else {
                    tags.append(tag)
                }
            }
        } else if let list = at.child("tags") {
            fail(list, "is not a list")
        } else {
            failMissing(at, "tags", "a list of tags")
        }
        guard let name, let host, let port, let unit, let timeout, let retries, let backoffMinimum,
              let backoffMaximum
        else { return nil }
        return DeviceConfig(name: name, host: host, port: port, unitID: UInt8(unit), timeout: timeout,
                            retries: retries, backoffMinimum: backoffMinimum, backoffMaximum: backoffMaximum,
                            assetPath: assetPath.flatMap { $0.isEmpty ? nil : $0 }, tags: tags)
    }

    mutating func tag(_ at: Located, wordOrder: ModbusWordOrder, byteOrder: ByteOrder,
                      pollGroups: [PollGroupConfig]) -> TagConfig? {
        guard let at = mapping(at) else { return nil }
        checkKeys(at, ["name", "address", "type", "length", "byteOrder", "wordOrder", "scale", "offset", "unit",
                       "deadband", "pollGroup", "writable", "min", "max"])
        let name = string(at, "name")
        if let name, name.contains(where: { "+#".contains($0) }) || name.hasPrefix("/") {
            fail(at.child("name") ?? at, "\"\(name)\" cannot contain + or # or start with /")
        }
        var address: TagAddress?
        if let node = at.child("address") {
            address = self.address(node)
        } else {
            failMissing(at, "address", "40001, 1!40001 or {area: holding, offset: 0}")
        }
        let defaultType: TagType = address?.area.isBit == true ? .bool : .uint16
        let type: TagType = choice(at, "type", default: defaultType)
        if let address, address.area.isBit, type != .bool {
            fail(at.child("type") ?? at, "\"\(type.rawValue)\" cannot be read from a \(address.area.rawValue); "
                 + "coils and discrete inputs hold bool")
        }
        var length = type.registerCount
        if type == .string {
            length = integer(at, "length", default: nil, range: 1...125) ?? 1
        } else if let node = at.child("length") {
            fail(node, "only string tags take a length; \(type.rawValue) occupies \(type.registerCount) register(s)")
        }
        if let address, !address.area.isBit, Int(address.offset) + length > 65536 {
            fail(at.child("address") ?? at, "\(type.rawValue) at \(address) runs past register 65535")
        }
        let scale = number(at, "scale", default: 1)
        if scale == 0, let node = at.child("scale") { fail(node, "\"0\" would make every value 0; use a non-zero scale") }
        let offset = number(at, "offset", default: 0)
        if (type == .bool || type == .string) && (scale != 1 || offset != 0) {
            fail(at, "scale and offset apply to numbers; \(type.rawValue) cannot be scaled")
        }
        let deadband = number(at, "deadband", default: 0)
        if let deadband, deadband < 0, let node = at.child("deadband") {
            fail(node, "\"\(deadband)\" is negative; a deadband is ≥ 0")
        }
        let group = string(at, "pollGroup", default: pollGroups.first?.name ?? "default")
        if let group, !pollGroups.contains(where: { $0.name == group }), let node = at.child("pollGroup") {
            let known = pollGroups.map(\.name).joined(separator: ", ")
            fail(node, "\"\(group)\" is not a poll group; defined: \(known.isEmpty ? "none" : known)")
        }
        let writable = bool(at, "writable", default: false)
        if writable, let address, address.area == .input || address.area == .discrete {
            fail(at.child("writable") ?? at, "\(address.area.rawValue) \(address) is read-only in Modbus; "
                 + "only coils and holding registers can be written")
        }
        let minimum = number(at, "min", default: nil)
        let maximum = number(at, "max", default: nil)
        if let minimum, let maximum, minimum > maximum { fail(at, "min \(minimum) is above max \(maximum)") }
        if (minimum != nil || maximum != nil) && !writable {
            fail(at.child("min") ?? at.child("max") ?? at, "min/max limit writes; set writable: true or remove them")
        }
        guard let name, let address, let scale, let offset, let deadband, let group else { return nil }
        return TagConfig(name: name, address: address, type: type, length: length,
                         byteOrder: choice(at, "byteOrder", default: byteOrder),
                         wordOrder: choice(at, "wordOrder", default: wordOrder),
                         scale: scale, offset: offset, unit: string(at, "unit", default: ""),
                         deadband: deadband, pollGroup: group, writable: writable, minimum: minimum,
                         maximum: maximum).withEmptyUnitRemoved
    }

    mutating func address(_ at: Located) -> TagAddress? {
        if at.node.mapping != nil {
            checkKeys(at, ["area", "offset"])
            let area: ModbusArea? = {
                guard let node = at.child("area") else { return nil }
                return ModbusArea(rawValue: node.text ?? "")
            }()
            if area == nil {
                if let node = at.child("area") {
                    fail(node, "\"\(node.text ?? "")\" is not one of coil, discrete, input, holding")
                } else {
                    failMissing(at, "area", "coil, discrete, input or holding")
                }
            }
            let offset = integer(at, "offset", default: nil, range: 0...65535)
            guard let area, let offset else { return nil }
            return TagAddress(area: area, offset: UInt16(offset), unit: nil)
        }
        let text = at.text ?? ""
        if let address = TagAddress(parsing: text) { return address }
        fail(at, "\"\(text)\" is not a Modbus address; write 40001 or 400001 (1-based, first digit 0 coil, "
             + "1 discrete input, 3 input register, 4 holding register), 1!40001 (unit!address) "
             + "or {area: holding, offset: 0}")
        return nil
    }
}

extension TagAddress {
    /// Parses the 1-based conventions: `40001` (5 digits, offsets up to 9999), `400001` (6 digits, up to
    /// 65536), each optionally prefixed by `unit!`.
    init?(parsing text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var unit: UInt8?
        if let bang = rest.firstIndex(of: "!") {
            guard let parsed = UInt8(rest[..<bang]) else { return nil }
            unit = parsed
            rest = rest[rest.index(after: bang)...]
        }
        guard rest.count == 5 || rest.count == 6, rest.allSatisfy(\.isASCII), rest.allSatisfy(\.isNumber),
              let first = rest.first, let area = ModbusArea.allCases.first(where: { $0.prefix == first }),
              let number = Int(rest.dropFirst()), number >= 1, number <= 65536
        else { return nil }
        self.init(area: area, offset: UInt16(number - 1), unit: unit)
    }
}

extension TagConfig {
    fileprivate var withEmptyUnitRemoved: TagConfig {
        var copy = self
        if copy.unit?.isEmpty == true { copy.unit = nil }
        return copy
    }
}
