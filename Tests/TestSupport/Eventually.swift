import Foundation

/// Polls `condition` every 50 ms until it holds or `timeout` passes;
/// returns whether it held. Tests assert on the result, so a change that
/// never shows up fails instead of hanging.
public func eventually(timeout: Duration = .seconds(20), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        usleep(50_000)
    }
}

/// The HTTP status of `GET url`, from the real curl; 0 when nothing answered.
public func httpStatus(_ url: String, extra: [String] = []) throws -> Int {
    let output = try run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2"] + extra + [url])
    return Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
}

/// `eventually` for async tests: waits without blocking a thread, so the
/// tasks under test keep running on a small machine.
public func asyncEventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(50))
    }
}
