import CRabbitMQ

// rabbitmq-c's replies turned into `AMQPError`s: the one conversion for every call the connection thread makes.

extension ConnectionCore {
    /// Throws for a failed RPC, after reopening the channel the broker closed (so the connection stays usable).
    func check(_ reply: amqp_rpc_reply_t, _ context: String, channel: amqp_channel_t? = nil, code: AMQPError.Code = .connectionClosed) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let text = String(cString: amqp_error_string2(reply.library_error))
            throw AMQPError(code: code, message: "\(context): \(text)")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            guard let state else { throw AMQPError(code: .connectionClosed, message: context) }
            switch reply.reply.id {
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = reply.reply.decoded?.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                var ok = amqp_channel_close_ok_t()
                let closedChannel = channel ?? Channel.control
                _ = amqp_send_method(state, closedChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
                channelEpochs[closedChannel] = nil
                let error = AMQPError(
                    code: .channelClosed, replyCode: close?.reply_code, message: "\(context): \(close?.reply_text.string ?? "channel closed")")
                if closedChannel == Channel.control || closedChannel == Channel.publish {
                    try openChannel(closedChannel)
                    if closedChannel == Channel.publish { try selectConfirms() }
                }
                throw error
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = reply.reply.decoded?.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                var ok = amqp_connection_close_ok_t()
                _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
                throw AMQPError(
                    code: code == .connectionFailed ? .connectionFailed : .connectionClosed, replyCode: close?.reply_code,
                    message: "\(context): \(close?.reply_text.string ?? "connection closed")")
            default:
                throw AMQPError(code: code, message: "\(context): unexpected broker method \(reply.reply.id)")
            }
        default:
            throw AMQPError(code: code, message: "\(context): the broker closed the connection")
        }
    }

    /// Throws for a failed library call (a status other than `AMQP_STATUS_OK`).
    func check(_ status: Int32, _ context: String, code: AMQPError.Code) throws {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        throw AMQPError(code: code, message: "\(context): \(String(cString: amqp_error_string2(status)))")
    }
}
