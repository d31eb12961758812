import CommandLineOutput

/// Results on stdout, errors on stderr, through the payment-card redactor (shared with `loyalty-hq`).
typealias Printer = CommandLineOutput.Printer
