import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A Modbus TCP server on one address and port: MBAP framing over SwiftNIO, requests answered by a
/// `ModbusRequestHandler`. Many clients may connect at once; each connection's requests are answered in the
/// order they arrive (unless the handler delays some). `close()` stops listening and closes every connection.
public final class ModbusTCPServer: Sendable {
    private let channel: any Channel
    /// Open client connections, so `close()` can end them; children remove themselves when they close.
    private let connections: Connections
    /// The port actually bound (useful when asked for port 0).
    public let port: Int
    public let host: String

    private init(channel: any Channel, connections: Connections, host: String, port: Int) {
        self.channel = channel
        self.connections = connections
        self.host = host
        self.port = port
    }

    /// Binds `host:port` and starts serving. Port 0 picks a free port (read it from `port`).
    public static func start(
        host: String, port: Int, handler: any ModbusRequestHandler, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    )
        async throws(ModbusError) -> ModbusTCPServer
    {
        let connections = Connections()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                connections.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MBAPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        ModbusServerChannelHandler(handler: handler, logger: logger))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw ModbusError(.bindFailed, "cannot listen on \(host):\(port): \(error)")
        }
        let bound = channel.localAddress?.port ?? port
        logger.debug("modbus server listening", metadata: ["address": "\(host):\(bound)"])
        return ModbusTCPServer(channel: channel, connections: connections, host: host, port: bound)
    }

    /// Stops listening and closes every client connection.
    public func close() async {
        try? await channel.close()
        for child in connections.all() {
            try? await child.close()
        }
    }

    /// Number of clients connected now.
    public var connectionCount: Int { connections.all().count }
}

/// The open child channels of one server.
private final class Connections: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = channels.withLock { $0.removeValue(forKey: id) }
        }
    }

    func all() -> [any Channel] { channels.withLock { Array($0.values) } }
}

/// Cuts the TCP byte stream into MBAP frames: waits for partial frames, yields every complete one when a
/// read carries several, and fails the connection on a header that is not Modbus TCP (it cannot resync).
struct MBAPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ModbusFrame

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = try ModbusFrame.frameSize(in: buffer.readableBytesView),
            buffer.readableBytes >= size,
            let transaction = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
            let unit = buffer.getInteger(at: buffer.readerIndex + 6, as: UInt8.self),
            let pdu = buffer.getBytes(
                at: buffer.readerIndex + ModbusFrame.headerSize,
                length: size - ModbusFrame.headerSize)
        else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: size)
        context.fireChannelRead(wrapInboundOut(ModbusFrame(transactionID: transaction, unitID: unit, pdu: pdu)))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        // A half-sent frame at EOF is dropped: there is no one left to answer.
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

/// Answers each frame through the handler. Responses to one read are flushed together at the end of the read,
/// so a client that pipelines requests gets one TCP segment back.
final class ModbusServerChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ModbusFrame
    typealias OutboundOut = ByteBuffer

    private let handler: any ModbusRequestHandler
    private let logger: Logger
    private var needsFlush = false

    init(handler: any ModbusRequestHandler, logger: Logger) {
        self.handler = handler
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        handler.connectionOpened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        handler.connectionClosed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let reply: ModbusReply
        switch ModbusRequest.decode(pdu: frame.pdu) {
        case .request(let request): reply = handler.reply(to: request, unit: frame.unitID)
        case .exception(let exception): reply = handler.reply(toInvalid: exception, unit: frame.unitID)
        }
        switch reply {
        case .noResponse:
            return
        case .respond(let response):
            context.write(wrapOutboundOut(buffer(for: response, answering: frame, context: context)), promise: nil)
            needsFlush = true
        case .respondAfter(let delay, let response):
            let buffer = buffer(for: response, answering: frame, context: context)
            let channel = context.channel
            let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
            context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
                channel.writeAndFlush(buffer, promise: nil)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("closing modbus connection", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func buffer(
        for response: ModbusResponse, answering frame: ModbusFrame,
        context: ChannelHandlerContext
    ) -> ByteBuffer {
        let pdu = response.encoded
        var buffer = context.channel.allocator.buffer(capacity: ModbusFrame.headerSize + pdu.count)
        buffer.writeInteger(frame.transactionID)
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(UInt16(pdu.count + 1))
        buffer.writeInteger(frame.unitID)
        buffer.writeBytes(pdu)
        return buffer
    }
}
