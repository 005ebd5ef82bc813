package catalog

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaJSON is the published JSON Schema of the catalog document
// (catalog.schema.json next to this file).
//
//go:embed catalog.schema.json
var SchemaJSON []byte

const schemaURL = "https://github.com/rbee-go/rbee/hive/catalog/catalog.schema.json"

// compiledSchema is compiled once per process; the schema is immutable.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaJSON))
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
