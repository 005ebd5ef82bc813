package catalog

import _ "embed"

// SchemaJSON is the published JSON Schema of the catalog document
// (catalog.schema.json next to this file). Documents are checked against it
// by hive/catalog/catalogschema, kept out of this package so the hive and the
// keeper do not pay the schema library's start-up cost on every command;
// Catalog.Validate enforces the same rules before every write.
//
//go:embed catalog.schema.json
var SchemaJSON []byte
