@testable import APICore
import EventSchema
import Foundation
import Testing

/// Milliseconds of a UTC time of day on 2026-11-22.
private func ms(_ time: String) -> Int64 {
    Int64(((RFC3339.date(from: "2026-11-22T\(time)Z") ?? Date()).timeIntervalSince1970 * 1000).rounded())
}

@Suite("OEE arithmetic (ISO 22400), hand-computed")
struct OEETests {
    /// One shift 08:00–16:00: a 30 min breakdown, a 30 min planned break, 1 h planned maintenance;
    /// 9000 good + 500 scrap at an ideal 2 s/part.
    /// PBT = 8 h − 0.5 h − 1 h = 23 400 s; APT = 21 600 s; A = 21600/23400; P = 19000/21600; Q = 9000/9500;
    /// OEE = 9000 × 2 / 23400 = 0.769230…
    @Test func shiftWithBreakdownBreakAndMaintenance() {
        let tree = ReasonTree.standard
        let changes: [(since: Int64, state: EquipmentState, reasonCode: String?, planned: Bool)] = [
            (ms("08:00:00"), .running, nil, false),
            (ms("10:00:00"), .down, "BREAKDOWN-MECH", tree.planned("BREAKDOWN-MECH") ?? false),
            (ms("10:30:00"), .running, nil, false),
            (ms("12:00:00"), .down, "PLANNED-BREAK", tree.planned("PLANNED-BREAK") ?? false),
            (ms("12:30:00"), .running, nil, false),
            (ms("15:00:00"), .maintenance, nil, false),
        ]
        let spans = OEECalculator.spans(changes: changes, from: ms("08:00:00"), to: ms("16:00:00"))
        let figures = OEECalculator.compute(spans: spans, production: [ProductionSlice(good: 9000, scrap: 500, idealCycleSeconds: 2)])
        #expect(figures.plannedBusySeconds == 23_400)
        #expect(figures.runSeconds == 21_600)
        #expect(figures.plannedDowntimeSeconds == 5_400)
        #expect(abs((figures.availability ?? 0) - 21_600.0 / 23_400) < 1e-12)
        #expect(abs((figures.performance ?? 0) - 19_000.0 / 21_600) < 1e-12)
        #expect(abs((figures.quality ?? 0) - 9_000.0 / 9_500) < 1e-12)
        #expect(abs((figures.oee ?? 0) - 18_000.0 / 23_400) < 1e-12)
        #expect(figures.losses.availabilitySeconds == 1_800)
        #expect(figures.losses.byReason == ["BREAKDOWN-MECH": 1_800])
        #expect(figures.losses.byState == ["down": 1_800])
        #expect(figures.losses.performanceSeconds == 2_600)
        #expect(figures.losses.qualitySeconds == 1_000)
    }

    /// The state in force at `from` comes from the last change before it; time before any known state is
    /// unknown and leaves planned busy time.
    @Test func rangeStartsInsideAStateAndBeforeAnyState() {
        let spans = OEECalculator.spans(changes: [(ms("07:00:00"), .idle, nil, false), (ms("09:00:00"), .running, nil, false)],
                                        from: ms("08:00:00"), to: ms("10:00:00"))
        #expect(spans.map(\.state) == [.idle, .running])
        #expect(spans.map(\.seconds) == [3600, 3600])
        let figures = OEECalculator.compute(spans: spans, production: [])
        #expect(figures.availability == 0.5)
        #expect(figures.losses.byReason == ["unclassified": 3600])
        #expect(figures.quality == nil)
        #expect(figures.oee == nil)

        let unknownFirst = OEECalculator.spans(changes: [(ms("09:00:00"), .running, nil, false)],
                                               from: ms("08:00:00"), to: ms("10:00:00"))
        let unknown = OEECalculator.compute(spans: unknownFirst, production: [])
        #expect(unknown.unknownSeconds == 3600)
        #expect(unknown.availability == 1)
    }

    /// Parts without a known ideal cycle time make performance (and so OEE) unknown rather than wrong.
    @Test func performanceNeedsAnIdealCycleTime() {
        let spans = [StateSpan(state: .running, start: 0, end: 3_600_000)]
        let figures = OEECalculator.compute(spans: spans, production: [ProductionSlice(good: 100, scrap: 0, idealCycleSeconds: nil)])
        #expect(figures.performance == nil)
        #expect(figures.oee == nil)
        #expect(figures.producedWithoutIdealCycle == 100)
        #expect(figures.quality == 1)
    }

    /// Two machines aggregate by summing times and parts, not by averaging ratios.
    @Test func aggregateSumsBeforeDividing() {
        let a = [StateSpan(state: .running, start: 0, end: 3_000_000), StateSpan(state: .down, start: 3_000_000, end: 3_600_000)]
        let b = [StateSpan(state: .running, start: 0, end: 3_600_000)]
        let figures = OEECalculator.compute(spans: a + b, production: [])
        #expect(figures.availability == 6_600.0 / 7_200)
    }
}

@Suite("Work order lifecycle")
struct WorkOrderLifecycleTests {
    @Test func legalPathsReachTheirStatus() throws {
        var status = WorkOrderStatus.created
        for action in [WorkOrderAction.release, .start, .pause, .start, .complete] {
            status = try WorkOrderLifecycle.apply(action, to: status, workOrder: "WO-1")
        }
        #expect(status == .completed)
        #expect(try WorkOrderLifecycle.apply(.cancel, to: .paused, workOrder: "WO-1") == .cancelled)
    }

    @Test func illegalTransitionsAreRejectedWithTheAllowedActions() {
        let illegal: [(WorkOrderStatus, WorkOrderAction)] = [
            (.created, .start), (.created, .complete), (.created, .pause), (.released, .complete), (.released, .pause),
            (.running, .release), (.completed, .start), (.completed, .cancel), (.cancelled, .release), (.paused, .release),
        ]
        for (status, action) in illegal {
            #expect(throws: APIError.self) { try WorkOrderLifecycle.apply(action, to: status, workOrder: "WO-9") }
        }
        do {
            _ = try WorkOrderLifecycle.apply(.start, to: .created, workOrder: "WO-9")
        } catch {
            #expect(error.code == .illegalTransition)
            #expect(error.message == "work order \"WO-9\" is created; it cannot start (allowed: release, cancel)")
        }
        #expect(WorkOrderLifecycle.allowedActions(from: .completed).isEmpty)
    }
}

@Suite("Credentials")
struct CredentialTests {
    /// RFC 7914 §11: PBKDF2-HMAC-SHA256 (P="passwd", S="salt", c=1, dkLen=64).
    @Test func pbkdf2MatchesTheRFCVector() throws {
        let key = try LibCrypto.pbkdf2SHA256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64)
        #expect(Hex.encode(key) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
            + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
    }

    /// RFC 7914 §11 second vector (c = 80000), which also exercises many iterations.
    @Test func pbkdf2ManyIterations() throws {
        let key = try LibCrypto.pbkdf2SHA256(password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80000, length: 64)
        #expect(Hex.encode(key).hasPrefix("4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"))
    }

    /// FIPS 180-2 example: SHA-256("abc").
    @Test func sha256OfABC() throws {
        #expect(Hex.encode(try LibCrypto.sha256(Array("abc".utf8)))
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func passwordHashRoundTripsAndSalts() throws {
        let first = try PasswordHash(hashing: "correct horse", iterations: 1000)
        let second = try PasswordHash(hashing: "correct horse", iterations: 1000)
        #expect(first.salt != second.salt)
        let stored = try #require(PasswordHash(stored: first.description))
        #expect(try stored.verify("correct horse"))
        #expect(try !stored.verify("correct horse!"))
        #expect(first.description.hasPrefix("pbkdf2-sha256$1000$"))
        #expect(PasswordHash.defaultIterations >= 100_000)
        #expect(PasswordHash(stored: "md5$abc") == nil)
    }

    @Test func bearerSecretsAreRandomAndOnlyTheirDigestIsKept() throws {
        let (secret, digest) = try BearerSecret.generate()
        #expect(secret.hasPrefix("sf_") && secret.count == 67)
        #expect(try BearerSecret.digest(of: secret) == digest)
        #expect(!digest.contains(secret.dropFirst(3)))
        #expect(try BearerSecret.generate().secret != secret)
    }

    @Test func loginThrottleLocksAfterFiveFailures() {
        let throttle = LoginThrottle(maxFailures: 5, window: .seconds(300))
        for i in 0..<4 { throttle.fail("Ada", now: 1_000 + Int64(i)) }
        #expect(throttle.retryAfter("ada", now: 2_000) == nil)
        throttle.fail("ada", now: 1_500)
        #expect(throttle.retryAfter("ada", now: 2_000) == 299)
        #expect(throttle.retryAfter("ada", now: 302_000) == nil)
        #expect(throttle.retryAfter("bob", now: 2_000) == nil)
    }
}

@Suite("Reason tree, ERP formats, live filter")
struct FormatTests {
    @Test func plannedIsInherited() throws {
        let tree = ReasonTree.standard
        #expect(tree.planned("PLANNED-BREAK") == true)
        #expect(tree.planned("BREAKDOWN-ELEC") == false)
        #expect(tree.planned("NOPE") == nil)
        let json = #"{"reasons":[{"code":"A","name":"a","children":[{"code":"A","name":"dup"}]}]}"#
        #expect(throws: (any Error).self) { try JSONDecoder().decode(ReasonTree.self, from: Data(json.utf8)) }
    }

    @Test func csvRowsAreParsedWithQuotesAndReportedPerRow() throws {
        let csv = #"""
            id,product,quantityTarget,asset,scheduledStart,scheduledEnd
            WO-1,"BRK-1, rev ""B""",100,acme/plant1/press-area/line-1,,
            WO-2,BRK-1,many,acme/plant1/press-area/line-1,,
            """#
        let rows = try ERPFormat.parseCSV(csv)
        #expect(rows.count == 2)
        #expect(try rows[0].1.get().product == "BRK-1, rev \"B\"")
        guard case .failure(let error) = rows[1].1 else { Issue.record("row 2 should fail"); return }
        #expect(error.message.contains("quantityTarget \"many\""))
        #expect(throws: APIError.self) { try ERPFormat.parseCSV("id,asset\nx,y") }
    }

    @Test func workOrderInputValidationNamesTheField() {
        let bad = WorkOrderInput(id: "WO-1", product: "P", quantityTarget: 0, asset: "acme/plant1")
        #expect(throws: APIError.parameter("quantityTarget", "0", expected: "a whole number of parts above 0")) { try bad.validated() }
        let path = WorkOrderInput(id: "WO-1", product: "P", quantityTarget: 1, asset: "acme")
        #expect(throws: APIError.self) { try path.validated() }
        let order = WorkOrderInput(id: "WO-1", product: "P", quantityTarget: 1, asset: "acme/plant1",
                                   scheduledStart: "2026-11-22T10:00:00Z", scheduledEnd: "2026-11-22T09:00:00Z")
        #expect(throws: APIError.self) { try order.validated() }
    }

    @Test func liveFilterMatchesAssetPrefixAndShortOrFullType() {
        let item = LiveItem(kind: "event", asset: "acme/plant1/press-area/line-1/press-3", type: "alarm.raised",
                            fullType: "io.shopfloor.alarm.raised.v1", id: "1", json: "{}")
        #expect(LiveFilter(asset: "acme/plant1/press-area").matches(item))
        #expect(!LiveFilter(asset: "acme/plant1/press").matches(item))
        #expect(LiveFilter(type: "io.shopfloor.alarm.raised.v1").matches(item))
        #expect(!LiveFilter(type: "alarm.cleared").matches(item))
        let value = LiveItem(kind: "value", asset: item.asset, type: "value", fullType: "value", id: "2", json: "{}")
        #expect(!LiveFilter().matches(value))
        #expect(LiveFilter(includeValues: true).matches(value))
    }

    @Test func postgresPlaceholdersAreNumbered() {
        #expect(PostgresBackend.numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)") == "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)")
    }
}
