// Package bytesize formats byte counts for people the way every rbee command
// prints them: 1024-based units with one decimal ("1.5 GiB").
package bytesize

import "fmt"

// Format renders n bytes: "1023 B", "1.5 KiB", … "2.0 EiB".
func Format[N int64 | uint64](n N) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := N(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
