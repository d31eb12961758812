/// Turns key presses into text for one device, tracking its modifier state.
public protocol KeyDecoding {
    /// The text a press of `code` (Linux key code) types in the current state, if any; then
    /// updates the state (a modifier press changes what later keys type).
    mutating func press(_ code: UInt16) -> String?
    /// Updates the state for a release of `code`.
    mutating func release(_ code: UInt16)
    /// Forgets every held key and modifier: after `SYN_DROPPED`, or when the true key state
    /// cannot be read.
    mutating func reset()
}
