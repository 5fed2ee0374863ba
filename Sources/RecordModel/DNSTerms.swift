// The record model's answers are written in DNS terms (names, records,
// zones, changes to them); its users get those types with it.
@_exported import DNSModel
