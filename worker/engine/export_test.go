package engine

// NewFromGGUFEdited is NewFromGGUF with the config edited before the
// weights are read: tests flip the RoPE mode to show a wrong choice fails.
func NewFromGGUFEdited(f GGUFFile, opts Options, edit func(*Config)) (*Model, error) {
	cfg, err := GGUFConfig(f)
	if err != nil {
		return nil, err
	}
	edit(&cfg)
	return build(cfg, &ggufWeights{f: f}, opts)
}
