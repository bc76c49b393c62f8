import Foundation

/// One PostgreSQL value, as bound to a parameter or read from a column.
///
/// Parameters travel in libpq's binary format with an explicit type (int8, float8, bool, bytea, timestamptz),
/// except text, which is sent untyped so the server can read it as any type (`uuid`, `jsonb`, `numeric` …).
/// Literals work: `[1, 2.5, "text", nil, true]` is a `[PostgresValue]`.
public enum PostgresValue: Sendable, Hashable {
    case null
    case int64(Int64)
    case double(Double)
    case text(String)
    case bytes([UInt8])
    case bool(Bool)
    case date(Date)
    /// A column of a type this library does not decode; cast it in SQL (`::text`, `::float8`).
    case unsupported(typeOID: UInt32)

    public init(_ value: some PostgresValueConvertible) { self = value.postgresValue }

    var typeName: String {
        switch self {
        case .null: "NULL"
        case .int64: "integer"
        case .double: "double precision"
        case .text: "text"
        case .bytes: "bytea"
        case .bool: "boolean"
        case .date: "timestamp"
        case .unsupported(let oid): "type oid \(oid)"
        }
    }
}

extension PostgresValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(integerLiteral value: Int64) { self = .int64(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}

/// A Swift type that can be bound as a PostgreSQL parameter.
public protocol PostgresValueConvertible {
    var postgresValue: PostgresValue { get }
}

/// A Swift type that can be read from a PostgreSQL column; `nil` means the column has another type.
public protocol PostgresValueDecodable {
    init?(postgresValue: PostgresValue)
}

extension Int64: PostgresValueConvertible, PostgresValueDecodable {
    public var postgresValue: PostgresValue { .int64(self) }
    public init?(postgresValue: PostgresValue) {
        guard case .int64(let value) = postgresValue else { return nil }
        self = value
    }
}

extension Int: PostgresValueConvertible, PostgresValueDecodable {
    public var postgresValue: PostgresValue { .int64(Int64(self)) }
    public init?(postgresValue: PostgresValue) {
        guard case .int64(let value) = postgresValue, let int = Int(exactly: value) else { return nil }
        self = int
    }
}

extension Double: PostgresValueConvertible, PostgresValueDecodable {
    public var postgresValue: PostgresValue { .double(self) }
    public init?(postgresValue: PostgresValue) {
        switch postgresValue {
        case .double(let value): self = value
        case .int64(let value): self = Double(value)
        default: return nil
        }
    }
}

extension String: PostgresValueConvertible, PostgresValueDecodable {
    public var postgresValue: PostgresValue { .text(self) }
    public init?(postgresValue: PostgresValue) {
        guard case .text(let value) = postgresValue else { return nil }
        self = value
    }
}

extension Bool: PostgresValueConvertible, PostgresValueDecodable {
    public var postgresValue: PostgresValue { .bool(self) }
    public init?(postgresValue: PostgresValue) {
        guard case .bool(let value) = postgresValue else { return nil }
        self = value
    }
}

extension Array: PostgresValueConvertible, PostgresValueDecodable where Element == UInt8 {
    public var postgresValue: PostgresValue { .bytes(self) }
    public init?(postgresValue: PostgresValue) {
        guard case .bytes(let value) = postgresValue else { return nil }
        self = value
    }
}

extension Data: PostgresValueConvertible, PostgresValueDecodable {
    public var postgresValue: PostgresValue { .bytes([UInt8](self)) }
    public init?(postgresValue: PostgresValue) {
        guard case .bytes(let value) = postgresValue else { return nil }
        self = Data(value)
    }
}

extension Date: PostgresValueConvertible, PostgresValueDecodable {
    public var postgresValue: PostgresValue { .date(self) }
    public init?(postgresValue: PostgresValue) {
        guard case .date(let value) = postgresValue else { return nil }
        self = value
    }
}

extension Optional: PostgresValueConvertible where Wrapped: PostgresValueConvertible {
    public var postgresValue: PostgresValue { self?.postgresValue ?? .null }
}

extension Optional: PostgresValueDecodable where Wrapped: PostgresValueDecodable {
    public init?(postgresValue: PostgresValue) {
        if case .null = postgresValue {
            self = .none
            return
        }
        guard let value = Wrapped(postgresValue: postgresValue) else { return nil }
        self = .some(value)
    }
}

/// One result row: the column names of its result and one value per column.
public struct PostgresRow: Sendable, Hashable {
    public let columns: [String]
    public let values: [PostgresValue]

    public init(columns: [String], values: [PostgresValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value at a column index; `.null` past the end so a wrong index surfaces in `decode` instead.
    public func column(_ index: Int) -> PostgresValue {
        values.indices.contains(index) ? values[index] : .null
    }

    /// The value of the first column with that name, nil if the result has no such column.
    public func column(_ name: String) -> PostgresValue? {
        columns.firstIndex(of: name).map { values[$0] }
    }

    /// Reads a column as a Swift type; throws `typeMismatch` naming the column and its type.
    public func decode<T: PostgresValueDecodable>(_ type: T.Type, at index: Int) throws -> T {
        guard values.indices.contains(index) else {
            throw PostgresError(code: .columnNotFound,
                                message: "column index \(index) is out of range; the row has \(values.count) columns \(columns)",
                                context: "decode(\(T.self), at: \(index))")
        }
        guard let value = T(postgresValue: values[index]) else {
            var message = "column \(index) (\"\(columns[index])\") holds \(values[index].typeName), not \(T.self)"
            if case .unsupported = values[index] { message += "; cast it in SQL (::text, ::float8, ::int8)" }
            throw PostgresError(code: .typeMismatch, message: message, context: "decode(\(T.self), at: \(index))")
        }
        return value
    }

    /// Reads a column by name as a Swift type.
    public func decode<T: PostgresValueDecodable>(_ type: T.Type, named name: String) throws -> T {
        guard let index = columns.firstIndex(of: name) else {
            throw PostgresError(code: .columnNotFound, message: "no column \"\(name)\"; the row has \(columns)",
                                context: "decode(\(T.self), named: \"\(name)\")")
        }
        return try decode(type, at: index)
    }
}
