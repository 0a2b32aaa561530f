package label

import (
	"fmt"
	"math"
	"strings"
)

// ZPL writes the labels in ZPL II for a thermal printer at the template's resolution, one
// ^XA … ^XZ per label (copies times each): UTF-8 text (^CI28), field data hex-escaped where
// it holds ^, ~ or _ (^FH), Data Matrix with ^BX, QR with ^BQ, Code 128 with ^BY and ^BC,
// text in the scalable font ^A0. Positions are dots from the label's top-left corner.
func ZPL(t Template, labels []Data, copies int) (string, error) {
	if copies < 1 {
		copies = 1
	}
	var b strings.Builder
	for _, d := range labels {
		items, err := t.Layout(d)
		if err != nil {
			return "", err
		}
		one := zplLabel(t, items)
		for range copies {
			b.WriteString(one)
		}
	}
	return b.String(), nil
}

func zplLabel(t Template, items []Item) string {
	dots := func(mm float64) int { return int(math.Round(mm * float64(t.DPI) / 25.4)) }
	var b strings.Builder
	b.WriteString("^XA\n^CI28\n")
	fmt.Fprintf(&b, "^PW%d\n^LL%d\n^LH0,0\n", dots(t.WidthMM), dots(t.HeightMM))
	module := ModuleDots(t.DPI)
	for _, it := range items {
		fmt.Fprintf(&b, "^FO%d,%d", dots(it.X), dots(it.Y))
		switch {
		case it.Kind == "text":
			h := dots(it.HeightMM)
			fmt.Fprintf(&b, "^A0N,%d,%d^FH_^FD%s^FS\n", h, h, zplEscape(it.Text))
		case it.Matrix.Symbology == DataMatrix:
			fmt.Fprintf(&b, "^BXN,%d,200^FH_^FD%s^FS\n", module, zplEscape(it.Matrix.Content))
		case it.Matrix.Symbology == QR:
			fmt.Fprintf(&b, "^BQN,2,%d^FH_^FDMA,%s^FS\n", module, zplEscape(it.Matrix.Content))
		case it.Matrix.Symbology == Code128:
			fmt.Fprintf(&b, "^BY%d^BCN,%d,N,N,N^FH_^FD%s^FS\n", module, dots(it.H), zplEscape(it.Matrix.Content))
		}
	}
	b.WriteString("^XZ\n")
	return b.String()
}

// zplEscape hex-escapes the characters ZPL reads as commands inside field data, for ^FH_.
func zplEscape(s string) string {
	return strings.NewReplacer("_", "_5F", "^", "_5E", "~", "_7E").Replace(s)
}
