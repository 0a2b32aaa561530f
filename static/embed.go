// Package static holds the CSS, JavaScript and images, embedded in the binary and served
// under content-hashed names with a year-long cache lifetime: a changed file gets a new
// URL, so browsers never run stale code and never re-fetch unchanged files.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed css js img
var files embed.FS

// Prefix is the URL path under which assets are served.
const Prefix = "/static/"

type asset struct {
	body        []byte
	contentType string
	etag        string
}

var (
	hashedName = map[string]string{} // "css/app.css" -> "css/app.1a2b3c4d5e.css"
	byHashed   = map[string]asset{}  // "css/app.1a2b3c4d5e.css" -> content
)

func init() {
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		h := hex.EncodeToString(sum[:])[:10]
		ext := path.Ext(p)
		name := strings.TrimSuffix(p, ext) + "." + h + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		hashedName[p] = name
		byHashed[name] = asset{body: body, contentType: ct, etag: `"` + h + `"`}
		return nil
	})
	if err != nil {
		panic("static: " + err.Error())
	}
}

// URL returns the content-hashed URL of the asset at name (e.g. "css/app.css"). It panics
// on an unknown name, which a test that renders every page catches.
func URL(name string) string {
	h, ok := hashedName[name]
	if !ok {
		panic("static: no asset " + name)
	}
	return Prefix + h
}

// Handler serves assets by their hashed names, with immutable caching. Unhashed or
// outdated names are 404, so nothing is ever served under a URL whose content can change.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		a, ok := byHashed[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.contentType)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}
