// AddressMap: a map from physical addresses to values, for the page-table bookkeeping looked up at
// every level of every mapping (an `OpenAddressTable`: one multiply per look-up, not a SipHash round).

typealias AddressMap<Value: Sendable> = OpenAddressTable<UInt64, Value>
