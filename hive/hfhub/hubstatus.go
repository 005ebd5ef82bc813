package hfhub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// checkStatus turns a failed answer into a typed error (permanent), a
// statusError or cdnExpired (retried) or a rateLimited (waited for). Answers
// of another origin than the endpoint come from the hub's CDN (LFS files are
// redirected to presigned URLs there) and are reported as such.
func (c *Client) checkStatus(resp *http.Response, repo, rev, file string) error {
	if resp.StatusCode < 300 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8192))
	msg := serverMessage(resp.Header, b)
	if resp.StatusCode == http.StatusTooManyRequests {
		return rateLimitedFrom(resp.Header, msg)
	}
	if resp.Request != nil && !c.fromEndpoint(resp.Request.URL) {
		return c.cdnStatus(resp, repo, file, msg)
	}
	code := resp.Header.Get("X-Error-Code")
	hub := c.cfg.Endpoint
	switch {
	case code == "RevisionNotFound":
		return &Error{Code: CodeNotFound, Repo: repo, File: file,
			Msg:  fmt.Sprintf("revision %q of %s not found on the hub (%s)", rev, repo, hub),
			Hint: "check --revision (a branch, tag, commit or refs/pr/N of the repo)"}
	case code == "EntryNotFound" && file != "":
		return &Error{Code: CodeNotFound, Repo: repo, File: file,
			Msg:  fmt.Sprintf("file %s of %s not found on the hub (%s)", file, repo, hub),
			Hint: "check the --include patterns of the catalog entry (rbee-hive models catalog)"}
	case code == "GatedRepo":
		e := &Error{Code: CodeGated, Repo: repo, File: file,
			Msg: fmt.Sprintf("%s is a gated repo: the hub (%s) needs a token of an account that accepted its terms (HTTP %d)", repo, hub, resp.StatusCode),
			Hint: fmt.Sprintf("accept the terms at %s/%s, then set HF_TOKEN to a token of that account (%s/settings/tokens)",
				hub, repo, hub)}
		if c.cfg.Token != "" {
			e.Msg = fmt.Sprintf("%s is a gated repo and the token from %s is not on its authorized list (HTTP %d from %s)", repo, c.cfg.TokenFrom, resp.StatusCode, hub)
			e.Hint = fmt.Sprintf("accept the terms at %s/%s with the account of that token (approval can take a while), or set HF_TOKEN to a token of an account that has", hub, repo)
		}
		return e
	case msg == "Access to this resource is disabled.":
		return &Error{Code: CodeAccessDenied, Repo: repo, File: file,
			Msg:  fmt.Sprintf("%s is disabled on the hub (%s): %s", repo, hub, msg),
			Hint: "the repo's owner disabled it; pick another repo for this catalog entry"}
	case code == "RepoNotFound" || resp.StatusCode == http.StatusNotFound:
		// The hub answers 401 RepoNotFound for repos it hides from anonymous users.
		e := &Error{Code: CodeNotFound, Repo: repo, File: file,
			Msg:  fmt.Sprintf("model repo %s not found on the hub (%s)", repo, hub),
			Hint: "check the repo name in the catalog entry (rbee-hive models catalog) and HF_ENDPOINT"}
		switch {
		case code == "" && file != "":
			e.Msg = fmt.Sprintf("file %s of %s not found on the hub (%s)", file, repo, hub)
		case resp.StatusCode == http.StatusUnauthorized && c.cfg.Token == "":
			e.Hint = "if the repo is private or gated, set HF_TOKEN to a token with access"
		case c.cfg.Token != "":
			e.Hint += fmt.Sprintf("; if the repo is private, the token from %s has no access to it", c.cfg.TokenFrom)
		}
		return e
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e := &Error{Code: CodeAccessDenied, Repo: repo, File: file,
			Msg: fmt.Sprintf("access denied to %s on the hub (%s) (HTTP %d: %s)", repo, hub, resp.StatusCode, msg)}
		if c.cfg.Token == "" {
			e.Hint = "set HF_TOKEN (or write the token file $HF_HOME/token) to a token with access to " + repo
		} else {
			e.Hint = fmt.Sprintf("the token from %s was refused; set HF_TOKEN to a token with access to %s", c.cfg.TokenFrom, repo)
		}
		return e
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return &statusError{Status: resp.StatusCode, Msg: msg}
	}
	return &Error{Code: CodeBadResponse, Repo: repo, File: file,
		Msg: fmt.Sprintf("unexpected answer from the hub (%s) for %s: HTTP %d %s", hub, repo, resp.StatusCode, msg)}
}

// cdnStatus classifies an error answer of the CDN a file was redirected to.
// An expired presigned URL (403) is fetched again through the hub, which signs
// a fresh one; other client errors are the CDN's, never the token's.
func (c *Client) cdnStatus(resp *http.Response, repo, file, msg string) error {
	host := resp.Request.URL.Host
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return &statusError{Status: resp.StatusCode, Msg: msg, Host: host}
	case resp.StatusCode == http.StatusForbidden:
		return &cdnExpired{statusError{Status: resp.StatusCode, Msg: msg, Host: host}}
	}
	return c.cdnError(repo, file, &statusError{Status: resp.StatusCode, Msg: msg, Host: host})
}

func (c *Client) cdnError(repo, file string, se *statusError) *Error {
	return &Error{Code: CodeCDN, Repo: repo, File: file, Err: se,
		Msg: fmt.Sprintf("the hub's CDN %s refused %s of %s", se.Host, file, repo),
		Hint: fmt.Sprintf("the hub (%s) redirected the download to %s, which refused it; this is not a token problem: "+
			"check this host's clock (presigned URLs expire) and run the command again later", c.cfg.Endpoint, se.Host)}
}

// cdnExpired is a 403 of the CDN: usually the presigned URL expired.
type cdnExpired struct{ statusError }

// fromEndpoint reports whether u has the endpoint's origin (scheme, host, port).
func (c *Client) fromEndpoint(u *url.URL) bool {
	ep, err := url.Parse(c.cfg.Endpoint)
	return err == nil && sameOrigin(ep, u)
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// checkRedirect keeps Authorization (and Range) on same-origin redirects (a
// relative 307 to /api/resolve-cache/..., a renamed repo) and drops the token
// whenever scheme, host or port change: presigned CDN URLs refuse it (400),
// and it must never leak. Go alone would forward it to subdomains of the hub.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !sameOrigin(via[0].URL, req.URL) {
		req.Header.Del("Authorization")
	}
	return nil
}

// redactURL hides the query (presigned signatures) of a URL in messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable URL>"
	}
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	u.User = nil
	return u.String()
}

// redact rewrites the URL of a transport error (url.Error), so a presigned
// query string never reaches a message or log.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redactURL(ue.URL)
	}
	return err
}

var xmlMessage = regexp.MustCompile(`<Message>([^<]{1,300})</Message>`)

// serverMessage is the hub's X-Error-Message, else the JSON body's "error",
// else an S3-style XML <Message> (CDN answers).
func serverMessage(h http.Header, body []byte) string {
	if m := h.Get("X-Error-Message"); m != "" {
		return m
	}
	var v struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil && v.Error != "" {
		return v.Error
	}
	if m := xmlMessage.FindSubmatch(body); m != nil {
		return string(m[1])
	}
	return ""
}
