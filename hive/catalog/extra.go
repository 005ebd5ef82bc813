package catalog

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
)

// marshalWithExtra encodes the known fields in struct order, then appends the
// unknown ones (sorted) that do not collide with a known key.
func marshalWithExtra(known any, extra Extra) ([]byte, error) {
	b, err := json.Marshal(known)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(b, &present); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if _, dup := present[k]; !dup {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1]) // drop the closing brace
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(extra[k])
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// unmarshalWithExtra decodes the known fields into known and keeps every
// other key of the object in *extra.
func unmarshalWithExtra(b []byte, known any, extra *Extra) error {
	if err := json.Unmarshal(b, known); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for _, k := range jsonKeys(known) {
		delete(all, k)
	}
	if len(all) == 0 {
		*extra = nil
		return nil
	}
	*extra = all
	return nil
}

// jsonKeys lists the JSON names of the struct fields behind ptr.
func jsonKeys(ptr any) []string {
	t := reflect.TypeOf(ptr).Elem()
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}
