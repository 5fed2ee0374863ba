import DataPlane
import Logging
import RecordModel

extension DNSServer {
    /// Builds the whole table of `store` and publishes it, logging how long
    /// the model (since `modelStart`), the table and the swap took; returns
    /// the table's name count.
    func publishWhole(_ store: ClusterRecordStore, modelStart: ContinuousClock.Instant, logger: Logger) throws -> Int {
        let clock = ContinuousClock()
        let modelled = clock.now
        let table = try AnswerTable(store)
        let built = clock.now
        let (names, answers, bytes) = (table.nameCount, table.answerCount, table.byteCount)
        publish(table)
        logger.info("records published", metadata: [
            "services": "\(store.objects.services.count)", "names": "\(names)", "answers": "\(answers)",
            "table MiB": "\(bytes >> 20)", "serial": "\(store.options.serial)",
            "model": "\(modelled - modelStart)", "table": "\(built - modelled)", "swap": "\(clock.now - built)",
        ])
        return names
    }
}
