package mirror

import "testing"

// TestSamplerExact: any 100 calls in a row hold exactly percent picks,
// evenly spread (percent 10: every 10th call).
func TestSamplerExact(t *testing.T) {
	for _, percent := range []uint32{1, 10, 33, 50, 100} {
		s := NewSampler(percent)
		picks := make([]bool, 300)
		for k := range picks {
			picks[k] = s.Pick()
		}
		for start := 0; start+100 <= len(picks); start += 37 {
			n := 0
			for _, p := range picks[start : start+100] {
				if p {
					n++
				}
			}
			if n != int(percent) {
				t.Errorf("percent %d, calls %d to %d: got %d picks, want %d", percent, start, start+99, n, percent)
			}
		}
	}
	s := NewSampler(10)
	for k := 1; k <= 30; k++ {
		if got, want := s.Pick(), k%10 == 0; got != want {
			t.Errorf("percent 10, call %d: got picked %v, want %v", k, got, want)
		}
	}
}
