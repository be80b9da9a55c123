package config

import (
	"fmt"
	"strings"
)

// Suggest returns the candidate closest to name, for a "did you mean"
// hint, or "" when none is close: a case slip, the name without its
// package, or a few typos (an edit distance of 2, or of one in six bytes
// for long names such as a service's full name). Ties go to the smallest
// candidate, so the hint is stable.
//
// The catalog's selectors and rules files use it as config's own keys do
// (unknownKey). Written here rather than imported: it is an edit distance
// and a threshold, a few lines that no error-path dependency would shorten.
func Suggest(name string, candidates []string) string {
	limit := max(2, len(name)/6)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		var d int
		switch {
		case c == name:
			continue
		case strings.EqualFold(c, name):
			d = 0
		case strings.HasSuffix(c, "."+name):
			d = 1
		default:
			d = editDistance(name, c)
		}
		if d >= len(name) {
			continue
		}
		if d < bestDist || d == bestDist && c < best {
			best, bestDist = c, d
		}
	}
	return best
}

// DidYouMean is " (did you mean X?)" for the closest candidate, or "".
func DidYouMean(name string, candidates []string) string {
	if s := Suggest(name, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
