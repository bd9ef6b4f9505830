import Foundation

/// Prints a line at once (stdout is not line-buffered when piped, and a killed run must still show what it saw).
public func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension Duration {
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
