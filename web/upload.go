package web

import (
	"io"

	"github.com/labstack/echo/v4"
)

// uploaded reads the file a form sent in its field "file", up to limit bytes. It returns
// the file's name and content, or — when there is no file, it cannot be read or it is
// larger than limit — the reason as a sentence for the page (missing says which file to
// choose). An error is the server's own.
func uploaded(c echo.Context, limit int64, missing string) (name string, data []byte, problem string, err error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return "", nil, missing, nil
	}
	src, err := fh.Open()
	if err != nil {
		return "", nil, "", err
	}
	defer src.Close()
	data, err = io.ReadAll(io.LimitReader(src, limit+1))
	if err != nil {
		return "", nil, "The file could not be read.", nil
	}
	if int64(len(data)) > limit {
		return "", nil, "The file is too large.", nil
	}
	return fh.Filename, data, "", nil
}
