package workers

import (
	"context"

	"github.com/rbee-go/rbee/hive/catalog"
)

// StoreCatalog adapts the hive's catalog store to Catalog.
type StoreCatalog struct{ Store catalog.Store }

// Model implements Catalog.
func (c StoreCatalog) Model(ctx context.Context, id string) (Model, bool, error) {
	m, err := c.Store.Get(ctx, id)
	if catalog.CodeOf(err) == catalog.CodeModelNotFound {
		return Model{}, false, nil
	}
	if err != nil {
		return Model{}, false, err
	}
	bs := make([]string, len(m.Backends))
	for i, b := range m.Backends {
		bs[i] = string(b)
	}
	return Model{ID: m.ID, Path: m.Path, Downloaded: m.Downloaded, Changed: m.Changed(), Backends: bs}, true, nil
}
