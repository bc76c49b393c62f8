import Foundation

/// Fixed values the `example` of every event type uses, so documentation and golden tests are stable.
enum ExampleValues {
    /// 2026-11-22T08:15:30.250Z.
    static let time = Date(timeIntervalSince1970: 1_795_335_330.25)
    /// acme/plant1/press-area/line-1/press-3: a press cell.
    static let press = ISA95Path(trusted: ["acme", "plant1", "press-area", "line-1", "press-3"])
    /// acme/plant1/press-area/line-1: the press line.
    static let line = ISA95Path(trusted: ["acme", "plant1", "press-area", "line-1"])
}

extension ISA95Path {
    /// A path from constant levels known to be valid; only for this library's own constants.
    init(trusted levels: [String]) {
        func level(_ index: Int) -> String? { index < levels.count ? levels[index] : nil }
        enterprise = level(0) ?? ""
        site = level(1) ?? ""
        area = level(2)
        line = level(3)
        cell = level(4)
    }
}
