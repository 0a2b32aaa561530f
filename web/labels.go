package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/input"
	"biobank/internal/label"
)

// labelImage answers GET /labels/{code}.png?symbology=&dpi=: the barcode of a sample's
// accession ID or tube barcode, or of a box, as PNG. The image of one code with the same
// options never changes, so it carries an ETag and may be cached for good.
func (s *Server) labelImage(c echo.Context) error {
	file := c.Param("file")
	if !strings.HasSuffix(file, ".png") {
		return apperr.NotFound("label", file)
	}
	sym := label.Symbology(strings.ToLower(c.QueryParam("symbology")))
	if sym == "" {
		sym = label.DataMatrix
	}
	if !sym.Known() {
		return apperr.Invalid("symbology", fmt.Sprintf("The barcode kind is one of datamatrix, code128 or qr, not %q.", sym))
	}
	dpi := 300
	if v := c.QueryParam("dpi"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return apperr.Invalid("dpi", "Give the resolution as a number of dots per inch: 203, 300 or 600.")
		}
		dpi = n
	}
	if err := label.CheckDPI(dpi); err != nil {
		return err
	}
	code, err := s.labelCode(c, input.Scanned(strings.TrimSuffix(file, ".png")))
	if err != nil {
		return err
	}
	m, err := label.Encode(sym, code)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte("biobank-label-v1\x00" + string(sym) + "\x00" + strconv.Itoa(dpi) + "\x00" + code))
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set(echo.HeaderCacheControl, "private, max-age=31536000, immutable")
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "image/png", label.PNG(m, label.ModuleDots(dpi), dpi))
}

// labelCode is the code a label carries for what was asked: a sample's accession ID (or its
// tube barcode, when that was asked for), or a box's barcode; 404 for anything else.
func (s *Server) labelCode(c echo.Context, code string) (string, error) {
	ctx := c.Request().Context()
	smp, err := s.app.Samples.Get(ctx, actor(c), code)
	if err == nil {
		if smp.TubeBarcode != nil && *smp.TubeBarcode == code {
			return code, nil
		}
		return smp.Accession, nil
	}
	if _, missing := apperr.AsNotFound(err); !missing {
		return "", err
	}
	box, err := s.app.Storage.FindBox(ctx, actor(c), code)
	if err != nil {
		if _, missing := apperr.AsNotFound(err); missing {
			return "", apperr.NotFound("code", code)
		}
		return "", err
	}
	return box.Barcode, nil
}
