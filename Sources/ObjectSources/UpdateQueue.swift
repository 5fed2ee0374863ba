import RecordPublisher

/// The informers' updates, on their way to the one task that applies them.
public typealias UpdateQueue = BatchQueue<ObjectUpdate>
