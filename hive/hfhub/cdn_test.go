package hfhub_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/internal/syncio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeDNS resolves the given host names to loopback addresses.
func fakeDNS(hosts map[string]string) http.RoundTripper {
	tr := &http.Transport{DisableCompression: true}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err == nil && hosts[host] != "" {
			addr = net.JoinHostPort(hosts[host], port)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return tr
}

// The hub redirects LFS files to presigned URLs on a CDN that answers 400 to
// any Authorization header: the token must be dropped whatever changes.
func TestCDNGetsNoToken(t *testing.T) {
	tests := []struct {
		name, cdnAddr string
		fakeNames     bool // hub.test and its subdomain cdn-lfs.hub.test
	}{
		{"another host", hubmirror.DefaultCDNAddr, false},
		{"the same host on another port", "127.0.0.1:0", false},
		{"a subdomain of the hub (Go alone would forward the token)", hubmirror.DefaultCDNAddr, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, hubmirror.WithToken("hf_secret"))
			cdnURL, err := f.srv.StartCDN(tt.cdnAddr, 0)
			require.NoError(t, err)
			endpoint := f.srv.URL
			var opts []hfhub.Option
			if tt.fakeNames {
				hubHost, hubPort, _ := net.SplitHostPort(strings.TrimPrefix(f.srv.URL, "http://"))
				cdnHost, cdnPort, _ := net.SplitHostPort(strings.TrimPrefix(cdnURL, "http://"))
				f.srv.SetCDNBase("http://cdn-lfs.hub.test:" + cdnPort)
				endpoint = "http://hub.test:" + hubPort
				opts = append(opts, hfhub.WithTransport(fakeDNS(map[string]string{"hub.test": hubHost, "cdn-lfs.hub.test": cdnHost})))
			}
			size := int64(len(f.files["model.safetensors"]))
			f.srv.SetFaults(weightsPath, hubmirror.Faults{CutAfter: size / 2, CutTimes: 1})
			out := &syncio.Buffer{}
			opts = append(opts, hfhub.WithRetries(6, time.Millisecond), hfhub.WithProgress(hfhub.NewLines(out, 0)))
			_, err = hfhub.New(hfhub.Config{Endpoint: endpoint, Token: "hf_secret"}, opts...).Download(context.Background(), f.request())
			require.NoError(t, err, out.String())
			f.requireDownloaded(t)
			assert.Contains(t, out.String(), "resuming model.safetensors at 1.0 MiB", "Range survives the redirect")
			assert.Less(t, float64(f.srv.BytesServed(weightsPath)), 1.01*float64(size))
		})
	}
}

func TestExpiredPresignedURLIsSignedAgain(t *testing.T) {
	f := newFixture(t)
	cdnURL, err := f.srv.StartCDN(hubmirror.DefaultCDNAddr, 0)
	require.NoError(t, err)
	host := strings.TrimPrefix(cdnURL, "http://")
	f.srv.SetFaults(weightsPath, hubmirror.Faults{ExpireURLs: 2})
	out := &syncio.Buffer{}
	_, err = f.client(t, hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.Contains(t, out.String(), "HTTP 403 from the CDN "+host+": Request has expired")
	assert.Equal(t, 3, f.srv.FileRequests(weightsPath), "a fresh URL from the hub after each 403")

	// A CDN that keeps refusing is reported as the CDN's refusal, naming it.
	f2 := newFixture(t)
	cdn2, err := f2.srv.StartCDN(hubmirror.DefaultCDNAddr, 0)
	require.NoError(t, err)
	f2.srv.SetFaults(weightsPath, hubmirror.Faults{ExpireURLs: 100})
	out = &syncio.Buffer{}
	_, err = f2.client(t, hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f2.request())
	require.ErrorIs(t, err, hfhub.ErrCDN)
	var he *hfhub.Error
	require.ErrorAs(t, err, &he)
	assert.Contains(t, he.Msg, "the hub's CDN "+strings.TrimPrefix(cdn2, "http://")+" refused model.safetensors")
	assert.Contains(t, he.Hint, "not a token problem")
	for _, s := range []string{err.Error(), he.Hint, out.String()} {
		assert.NotContains(t, s, "Signature=")
	}
}

func TestUnreachableCDNURLIsRedacted(t *testing.T) {
	f := newFixture(t)
	_, err := f.srv.StartCDN(hubmirror.DefaultCDNAddr, 0)
	require.NoError(t, err)
	f.srv.SetCDNBase("http://127.0.0.2:1") // nothing listens there
	out := &syncio.Buffer{}
	_, err = f.client(t, hfhub.WithRetries(2, time.Millisecond), hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f.request())
	require.ErrorIs(t, err, hfhub.ErrUnavailable)
	assert.Contains(t, err.Error(), "127.0.0.2:1/repos/")
	assert.Contains(t, err.Error(), "?REDACTED")
	assert.NotContains(t, err.Error()+out.String(), "Signature")
}

func TestXetBackedRepoDownloadsThroughTheBridge(t *testing.T) {
	f := newFixture(t)
	_, err := f.srv.StartCDN(hubmirror.DefaultCDNAddr, 0)
	require.NoError(t, err)
	f.srv.SetXet(true)
	_, err = f.client(t).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
}
