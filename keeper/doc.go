// Package keeper is the operator side of rbee: the pools file, the Transport
// that runs a pool's rbee-hive (locally now; over SSH through a RemoteDialer),
// fan-out to several pools, and typed results decoded from the hive's --json
// output (hive.Status, catalog.Catalog) rather than scraped tables.
package keeper
