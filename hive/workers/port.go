package workers

import (
	"fmt"
	"net"
	"strconv"
)

// portScan is how many ports after the wanted one are tried.
const portScan = 200

// pickPort returns the first port from want on that can be bound on both
// loopback and all interfaces (a worker may bind either) and that no other
// worker record claims (a loading worker may not have bound it yet).
func pickPort(want int, claimed map[int]bool) (int, error) {
	for p := want; p < want+portScan && p <= 65535; p++ {
		if claimed[p] || !bindable(p) {
			continue
		}
		return p, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d", want, min(want+portScan-1, 65535))
}

// bindable checks a port by binding it, the only reliable test.
func bindable(port int) bool {
	for _, host := range []string{"127.0.0.1", ""} {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}
