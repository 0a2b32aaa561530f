package label

import (
	"bytes"
	"fmt"
	"html"
)

// SVG draws a label as the template page previews it, at its real size in millimetres: the
// codes as their modules, the text in a sans-serif font, a line that does not fit in red
// past the label's edge.
func SVG(t Template, items []Item) []byte {
	var b bytes.Buffer
	w, h := t.WidthMM, t.HeightMM
	// The drawing may extend past the label to show what overflows.
	vw := w
	for _, it := range items {
		vw = max(vw, it.X+it.W+1)
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.2fmm" height="%.2fmm" viewBox="0 0 %.2f %.2f">`, vw, h+1, vw, h+1)
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.2f" height="%.2f" rx="1" fill="#fff" stroke="#888" stroke-width="0.2"/>`, w, h)
	module := float64(ModuleDots(t.DPI)) * 25.4 / float64(t.DPI)
	for _, it := range items {
		switch it.Kind {
		case "code":
			m := it.Matrix
			b.WriteString(`<path fill="#000" d="`)
			for r := 0; r < m.H; r++ {
				for c := 0; c < m.W; {
					if !m.Dark(c, r) {
						c++
						continue
					}
					start := c
					for c < m.W && m.Dark(c, r) {
						c++
					}
					hh := module
					if m.Linear() {
						hh = it.H
					}
					fmt.Fprintf(&b, "M%.3f %.3fh%.3fv%.3fh-%.3fz", it.X+float64(start)*module, it.Y+float64(r)*module, float64(c-start)*module, hh, float64(c-start)*module)
				}
			}
			b.WriteString(`"/>`)
		case "text":
			fill := "#000"
			if it.Overflow {
				fill = "#c00"
			}
			fmt.Fprintf(&b, `<text x="%.2f" y="%.2f" font-family="Helvetica, Arial, sans-serif" font-size="%.2f" fill="%s">%s</text>`,
				it.X, it.Y+it.HeightMM*0.8, it.HeightMM, fill, html.EscapeString(it.Text))
		}
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}
