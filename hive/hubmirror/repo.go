package hubmirror

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// lfsThreshold: files at least this big are served as LFS files even without an
// LFS extension, like HF's pre-receive hook which refuses big non-LFS blobs.
const lfsThreshold = 10 << 20

// lfsExts are the extensions HF's default .gitattributes tracks with git-lfs.
var lfsExts = map[string]bool{
	".safetensors": true, ".bin": true, ".gguf": true, ".pt": true, ".pth": true, ".ckpt": true,
	".h5": true, ".onnx": true, ".msgpack": true, ".model": true, ".zip": true, ".tar": true, ".gz": true,
}

// lfsPointerPrefix starts a git-lfs pointer file (a repo checked out with
// GIT_LFS_SKIP_SMUDGE=1): the mirror lists it with the object's size and oid
// but has no content to serve.
const lfsPointerPrefix = "version https://git-lfs.github.com/spec/v1\n"

// File is one file of a repository as the mirror serves it.
type File struct {
	Path    string // repo-relative, slash separated
	Size    int64  // content size (the LFS object's size for pointer files)
	GitOID  string // git blob sha1 (of the pointer text for LFS files)
	SHA256  string // sha256 of the content (LFS files only)
	LFS     bool
	Pointer bool // only the LFS pointer is present; content cannot be served
	PtrSize int  // size of the LFS pointer text
	abs     string
}

// Repo is a scanned repository: its files and the commit hash derived from them.
type Repo struct {
	ID     string // org/name
	Commit string
	Files  []File // sorted by Path
}

// file returns the repo's file at p.
func (r *Repo) file(p string) (File, bool) {
	i := sort.Search(len(r.Files), func(i int) bool { return r.Files[i].Path >= p })
	if i < len(r.Files) && r.Files[i].Path == p {
		return r.Files[i], true
	}
	return File{}, false
}

// hashKey identifies a file version for the hash cache: rehash only when the
// file was rewritten.
type hashKey struct {
	abs   string
	size  int64
	mtime int64
}

type hashes struct {
	sha256 string
	gitOID string
	lfs    bool
	ptr    bool
	size   int64
	ptrLen int
}

// hashCache caches file hashes so a 1 GiB file is hashed once, not per request.
type hashCache struct {
	mu sync.Mutex // serialises hashing: two requests never hash the same file twice
	m  map[hashKey]hashes
}

var errNoRepo = errors.New("repository not found")

// validName: one path segment of a repo id.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.HasPrefix(s, ".") && !strings.ContainsAny(s, `/\`)
}

// scan reads DIR/<org>/<name> and hashes what changed since the last scan.
func (c *hashCache) scan(root, org, name string) (*Repo, error) {
	if !validName(org) || !validName(name) {
		return nil, errNoRepo
	}
	dir := filepath.Join(root, org, name)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, errNoRepo
	}
	repo := &Repo{ID: org + "/" + name}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		base := path.Base(rel)
		if strings.HasPrefix(base, ".") && base != ".gitattributes" {
			if d.IsDir() {
				return filepath.SkipDir // .git, .cache
			}
			return nil
		}
		if strings.HasSuffix(base, ".incomplete") || !d.Type().IsRegular() && !d.IsDir() {
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := c.hash(p, rel, info)
		if err != nil {
			return err
		}
		repo.Files = append(repo.Files, File{Path: rel, Size: h.size, GitOID: h.gitOID, SHA256: h.sha256,
			LFS: h.lfs, Pointer: h.ptr, PtrSize: h.ptrLen, abs: p})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", repo.ID, err)
	}
	sort.Slice(repo.Files, func(i, j int) bool { return repo.Files[i].Path < repo.Files[j].Path })
	// The commit is a hash over the tree (paths and blob ids), so it changes
	// exactly when a file changes, like a git commit of that tree would.
	ch := sha1.New()
	for _, f := range repo.Files {
		fmt.Fprintf(ch, "%s\x00%s\n", f.Path, f.GitOID)
	}
	repo.Commit = hex.EncodeToString(ch.Sum(nil))
	return repo, nil
}

func (c *hashCache) hash(abs, rel string, info fs.FileInfo) (hashes, error) {
	key := hashKey{abs, info.Size(), info.ModTime().UnixNano()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.m[key]; ok {
		return h, nil
	}
	h, err := hashFile(abs, rel, info.Size())
	if err != nil {
		return h, err
	}
	if c.m == nil {
		c.m = map[hashKey]hashes{}
	}
	c.m[key] = h
	return h, nil
}

// hashFile computes sha256 and the git blob id in one pass.
func hashFile(abs, rel string, size int64) (hashes, error) {
	f, err := os.Open(abs)
	if err != nil {
		return hashes{}, err
	}
	defer f.Close()
	if size < 1024 {
		head, err := io.ReadAll(f)
		if err != nil {
			return hashes{}, err
		}
		if oid, n, ok := parsePointer(head); ok {
			return hashes{sha256: oid, gitOID: gitBlobOID(head), lfs: true, ptr: true, size: n, ptrLen: len(head)}, nil
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return hashes{}, err
		}
	}
	lfs := size >= lfsThreshold || lfsExts[strings.ToLower(path.Ext(rel))]
	s := sha256.New()
	g := sha1.New()
	fmt.Fprintf(g, "blob %d\x00", size)
	w := io.Writer(s)
	if !lfs {
		w = io.MultiWriter(s, g)
	}
	if _, err := io.CopyBuffer(w, f, make([]byte, 1<<20)); err != nil {
		return hashes{}, err
	}
	h := hashes{sha256: hex.EncodeToString(s.Sum(nil)), size: size, lfs: lfs}
	if lfs {
		ptr := pointerText(h.sha256, size)
		h.gitOID, h.ptrLen = gitBlobOID(ptr), len(ptr)
	} else {
		h.gitOID = hex.EncodeToString(g.Sum(nil))
	}
	return h, nil
}

func pointerText(sha string, size int64) []byte {
	return []byte(lfsPointerPrefix + "oid sha256:" + sha + "\nsize " + strconv.FormatInt(size, 10) + "\n")
}

func gitBlobOID(b []byte) string {
	g := sha1.New()
	fmt.Fprintf(g, "blob %d\x00", len(b))
	g.Write(b)
	return hex.EncodeToString(g.Sum(nil))
}

// parsePointer recognises a git-lfs pointer file.
func parsePointer(b []byte) (oid string, size int64, ok bool) {
	if !bytes.HasPrefix(b, []byte(lfsPointerPrefix)) {
		return "", 0, false
	}
	size = -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "oid":
			oid = strings.TrimPrefix(v, "sha256:")
		case "size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return "", 0, false
			}
			size = n
		}
	}
	if len(oid) != 64 || size < 0 {
		return "", 0, false
	}
	return oid, size, true
}

// WritePointer writes a git-lfs pointer file at p describing an object of the
// given sha256 and size: the mirror lists it but cannot serve its content
// (used to describe a model bigger than any test disk).
func WritePointer(p, sha string, size int64) error {
	return os.WriteFile(p, pointerText(sha, size), 0o644)
}
