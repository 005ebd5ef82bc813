package llamacpp

import "fmt"

// Difference is the first step where another engine's greedy token differs
// from llama.cpp's.
type Difference struct {
	Index       int     // step index (0 = the first generated token)
	Ours, Judge int     // the two tokens
	Margin      float32 // llama.cpp's top-2 logit gap at that step
	JudgeText   string  // what llama.cpp's token would have written
}

func (d Difference) String() string {
	return fmt.Sprintf("step %d: ours %d, llama.cpp %d (%q), llama.cpp's top-2 margin %.5f", d.Index, d.Ours, d.Judge, d.JudgeText, d.Margin)
}

// FirstDifference compares ours with the judge's steps over their common
// length; ok is false when they agree throughout.
func FirstDifference(ours []int, judge []Step) (d Difference, ok bool) {
	for i := 0; i < len(ours) && i < len(judge); i++ {
		if ours[i] != judge[i].Token {
			return Difference{Index: i, Ours: ours[i], Judge: judge[i].Token, Margin: judge[i].Margin(), JudgeText: judge[i].Text}, true
		}
	}
	return Difference{}, false
}

// Tokens returns the steps' token ids.
func Tokens(steps []Step) []int {
	ids := make([]int, len(steps))
	for i, s := range steps {
		ids[i] = s.Token
	}
	return ids
}
