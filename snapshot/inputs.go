package snapshot

// Inputs are the files a snapshot was built from: the config file and
// every descriptor source, rules file and proto path it names (a watcher
// reloads when one changes).
func (s *Snapshot) Inputs() []string {
	var out []string
	f := s.config
	if f.Path != "" {
		out = append(out, f.Path)
	}
	c := f.Config
	for _, p := range c.GetDescriptors() {
		out = append(out, f.Resolve(p))
	}
	for _, p := range c.GetHttpRules() {
		out = append(out, f.Resolve(p))
	}
	for _, p := range c.GetProtoPaths() {
		out = append(out, f.Resolve(p))
	}
	return out
}
