// Package catalogschema validates a catalog document (models/catalog.json)
// against the published JSON Schema, catalog.schema.json of hive/catalog.
//
// It is a package of its own because the JSON Schema library compiles the
// meta-schemas of five drafts in its package init (~4 ms of CPU and 1.7 MB of
// allocations): every rbee-hive and rbee-keeper process paid that at start-up,
// about half of a `rbee-hive status` invocation, while only tests and the
// acceptance steps check documents against the schema. The store checks
// the same rules in Go (catalog.Catalog.Validate) before it writes.
package catalogschema

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rbee-go/rbee/hive/catalog"
)

const schemaURL = "https://github.com/rbee-go/rbee/hive/catalog/catalog.schema.json"

// compiledSchema is compiled once per process; the schema is immutable.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(catalog.SchemaJSON))
	if err != nil {
		return nil, fmt.Errorf("catalog schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("catalog schema: %w", err)
	}
	return c.Compile(schemaURL)
})

// ValidateDocument checks raw catalog JSON against the published schema.
func ValidateDocument(data []byte) error {
	sch, err := compiledSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("catalog document: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("catalog document does not match catalog.schema.json: %w", err)
	}
	return nil
}
