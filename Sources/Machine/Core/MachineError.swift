// MachineError: a failure of the model's own machinery or of a request made to it (a mapping that
// cannot be built, memory that is exhausted), as opposed to a `Fault`, which is an exception the
// modelled CPU raises. Scenario code reports these as invalid input, never as CPU behaviour.

/// A request the machine cannot carry out; `message` says why, in the scenario's terms.
public struct MachineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// The `origin` of the input the error is about (e.g. the `PageMapping` being mapped), so that
    /// the scenario layer can point at the line that asked for it.
    public var origin: Int?

    public init(_ message: String) {
        self.message = message
    }

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
