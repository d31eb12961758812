public import Logging
import LoyaltyCore

/// Head office's log lines through the payment-card redactor, message and metadata: a log line may
/// carry what a client sent before it was authenticated (a store header, a path).
public struct RedactingLogHandler: LogHandler {
    var inner: any LogHandler

    public init(wrapping inner: any LogHandler) { self.inner = inner }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(PaymentCardDetector.redacted(event.message.description))"
        event.metadata = event.metadata?.mapValues { .string(PaymentCardDetector.redacted($0.description)) }
        inner.log(event: event)
    }
}
