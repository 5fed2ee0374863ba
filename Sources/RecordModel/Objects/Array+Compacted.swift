extension Array {
    /// The elements in storage of their count: a decoder grows an array by
    /// doubling it, and a slice of 10 endpoints kept room for 16 (2.9 MB
    /// at 100,000 endpoints, by heaptrack).
    var compacted: [Element] { capacity == count ? self : withUnsafeBufferPointer { Array($0) } }
}
