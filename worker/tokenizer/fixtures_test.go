package tokenizer_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/tokenizer"
)

// The two tokenizer families of testdata/tokenizers (see its README).
const (
	spm       = "spm-bpe-32k"
	byteLevel = "bytelevel-bpe-152k"
)

var families = []string{spm, byteLevel}

type encoding struct {
	Text           string `json:"text"`
	IDs            []int  `json:"ids"`
	IDsWithSpecial []int  `json:"ids_with_special"`
	Decoded        string `json:"decoded"`
}

// fixture holds one family's files, read once per test binary.
type fixture struct {
	tokenizerJSON, configJSON []byte
	encodings                 []encoding
}

var (
	fixturesOnce sync.Once
	fixtures     map[string]*fixture
	fixturesErr  error
	loadedOnce   sync.Map // family → *tokenizer.Tokenizer
)

func fixtureDir(family string) string {
	return filepath.Join("..", "..", "testdata", "tokenizers", family)
}

func readFixtures() (map[string]*fixture, error) {
	out := map[string]*fixture{}
	for _, fam := range families {
		dir := fixtureDir(fam)
		gz, err := os.ReadFile(filepath.Join(dir, "tokenizer.json.gz"))
		if err != nil {
			return nil, err
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return nil, err
		}
		tj, err := io.ReadAll(zr)
		if err != nil {
			return nil, err
		}
		cj, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
		if err != nil {
			return nil, err
		}
		ej, err := os.ReadFile(filepath.Join(dir, "encodings.json"))
		if err != nil {
			return nil, err
		}
		f := &fixture{tokenizerJSON: tj, configJSON: cj}
		if err := json.Unmarshal(ej, &f.encodings); err != nil {
			return nil, err
		}
		out[fam] = f
	}
	return out, nil
}

func getFixture(t testing.TB, family string) *fixture {
	t.Helper()
	fixturesOnce.Do(func() { fixtures, fixturesErr = readFixtures() })
	require.NoError(t, fixturesErr)
	f := fixtures[family]
	require.NotNil(t, f, family)
	require.NotEmpty(t, f.encodings, family)
	return f
}

// load returns the family's tokenizer, built once per test binary.
func load(t testing.TB, family string) *tokenizer.Tokenizer {
	t.Helper()
	if tk, ok := loadedOnce.Load(family); ok {
		return tk.(*tokenizer.Tokenizer)
	}
	f := getFixture(t, family)
	tk, err := tokenizer.New(f.tokenizerJSON, f.configJSON)
	require.NoError(t, err)
	loadedOnce.Store(family, tk)
	return tk
}
