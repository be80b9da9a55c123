package params

// SkipBound returns a skip function for Query that ignores the query
// parameters grpc-gateway's generated filter ignores for fields already
// bound by the path or the body: a parameter whose path is a bound path,
// lies under one ("book.title" when "book" is the body), or contains one
// ("author" when "author.value" is a path variable, since setting "author"
// would replace the bound value). With no bound paths it returns nil.
func SkipBound(bound ...Path) func(path string) bool {
	if len(bound) == 0 {
		return nil
	}
	dotted := make([]string, len(bound))
	for i, p := range bound {
		dotted[i] = p.String()
	}
	return func(path string) bool {
		for _, b := range dotted {
			if related(path, b) {
				return true
			}
		}
		return false
	}
}

// related reports whether dotted paths a and b are equal or one lies under
// the other.
func related(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return b[:len(a)] == a && (len(a) == len(b) || b[len(a)] == '.')
}
