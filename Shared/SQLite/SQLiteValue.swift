import Foundation

/// One SQLite value, as bound to a parameter or read from a column.
///
/// Literals work: `[1, 2.5, "text", nil, true]` is a `[SQLiteValue]`. Dates are stored as REAL seconds since
/// 1970 (UTC), which sorts correctly and keeps sub-second precision.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// Any value that knows its SQLite form, so `SQLiteValue(Date())` and `SQLiteValue(Data())` read naturally.
    public init(_ value: some SQLiteValueConvertible) { self = value.sqliteValue }

    /// The storage class name SQLite uses, for error messages.
    var typeName: String {
        switch self {
        case .null: "NULL"
        case .integer: "INTEGER"
        case .real: "REAL"
        case .text: "TEXT"
        case .blob: "BLOB"
        }
    }
}

extension SQLiteValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(booleanLiteral value: Bool) { self = .integer(value ? 1 : 0) }
    public init(nilLiteral: ()) { self = .null }
}

/// A Swift type that can be bound as an SQLite parameter.
public protocol SQLiteValueConvertible {
    var sqliteValue: SQLiteValue { get }
}

/// A Swift type that can be read from an SQLite column; `nil` means the stored value has another type.
public protocol SQLiteValueDecodable {
    init?(sqliteValue: SQLiteValue)
}

extension Int64: SQLiteValueConvertible, SQLiteValueDecodable {
    public var sqliteValue: SQLiteValue { .integer(self) }
    public init?(sqliteValue: SQLiteValue) {
        guard case .integer(let value) = sqliteValue else { return nil }
        self = value
    }
}

extension Int: SQLiteValueConvertible, SQLiteValueDecodable {
    public var sqliteValue: SQLiteValue { .integer(Int64(self)) }
    public init?(sqliteValue: SQLiteValue) {
        guard case .integer(let value) = sqliteValue, let int = Int(exactly: value) else { return nil }
        self = int
    }
}

extension Double: SQLiteValueConvertible, SQLiteValueDecodable {
    public var sqliteValue: SQLiteValue { .real(self) }
    public init?(sqliteValue: SQLiteValue) {
        switch sqliteValue {
        case .real(let value): self = value
        // REAL columns hand back integers for whole numbers stored from integer binds.
        case .integer(let value): self = Double(value)
        default: return nil
        }
    }
}

extension String: SQLiteValueConvertible, SQLiteValueDecodable {
    public var sqliteValue: SQLiteValue { .text(self) }
    public init?(sqliteValue: SQLiteValue) {
        guard case .text(let value) = sqliteValue else { return nil }
        self = value
    }
}

extension Bool: SQLiteValueConvertible, SQLiteValueDecodable {
    public var sqliteValue: SQLiteValue { .integer(self ? 1 : 0) }
    public init?(sqliteValue: SQLiteValue) {
        guard case .integer(let value) = sqliteValue, value == 0 || value == 1 else { return nil }
        self = value == 1
    }
}

extension Array: SQLiteValueConvertible, SQLiteValueDecodable where Element == UInt8 {
    public var sqliteValue: SQLiteValue { .blob(self) }
    public init?(sqliteValue: SQLiteValue) {
        guard case .blob(let value) = sqliteValue else { return nil }
        self = value
    }
}

extension Data: SQLiteValueConvertible, SQLiteValueDecodable {
    public var sqliteValue: SQLiteValue { .blob([UInt8](self)) }
    public init?(sqliteValue: SQLiteValue) {
        guard case .blob(let value) = sqliteValue else { return nil }
        self = Data(value)
    }
}

extension Date: SQLiteValueConvertible, SQLiteValueDecodable {
    public var sqliteValue: SQLiteValue { .real(timeIntervalSince1970) }
    public init?(sqliteValue: SQLiteValue) {
        guard let seconds = Double(sqliteValue: sqliteValue) else { return nil }
        self = Date(timeIntervalSince1970: seconds)
    }
}

extension Optional: SQLiteValueConvertible where Wrapped: SQLiteValueConvertible {
    public var sqliteValue: SQLiteValue { self?.sqliteValue ?? .null }
}

extension Optional: SQLiteValueDecodable where Wrapped: SQLiteValueDecodable {
    public init?(sqliteValue: SQLiteValue) {
        if case .null = sqliteValue {
            self = .none
            return
        }
        guard let value = Wrapped(sqliteValue: sqliteValue) else { return nil }
        self = .some(value)
    }
}

/// One result row: the column names of its statement and one value per column.
public struct SQLiteRow: Sendable, Hashable {
    public let columns: [String]
    public let values: [SQLiteValue]

    public init(columns: [String], values: [SQLiteValue]) {
        self.columns = columns
        self.values = values
    }

    /// The raw value at a column index; `.null` past the end so a typo'd index surfaces in `decode` instead.
    public func column(_ index: Int) -> SQLiteValue {
        values.indices.contains(index) ? values[index] : .null
    }

    /// The raw value of the first column with that name, nil if the statement has no such column.
    public func column(_ name: String) -> SQLiteValue? {
        columns.firstIndex(of: name).map { values[$0] }
    }

    /// Reads a column as a Swift type; throws `typeMismatch` naming the column and the stored type.
    public func decode<T: SQLiteValueDecodable>(_ type: T.Type, at index: Int) throws -> T {
        guard values.indices.contains(index) else {
            throw SQLiteError(code: .columnNotFound,
                              message: "column index \(index) is out of range; the row has \(values.count) columns \(columns)",
                              context: "decode(\(T.self), at: \(index))")
        }
        guard let value = T(sqliteValue: values[index]) else {
            throw SQLiteError(code: .typeMismatch,
                              message: "column \(index) (\"\(columns[index])\") holds \(values[index].typeName), not \(T.self)",
                              context: "decode(\(T.self), at: \(index))")
        }
        return value
    }

    /// Reads a column by name as a Swift type.
    public func decode<T: SQLiteValueDecodable>(_ type: T.Type, named name: String) throws -> T {
        guard let index = columns.firstIndex(of: name) else {
            throw SQLiteError(code: .columnNotFound, message: "no column \"\(name)\"; the row has \(columns)",
                              context: "decode(\(T.self), named: \"\(name)\")")
        }
        return try decode(type, at: index)
    }
}
