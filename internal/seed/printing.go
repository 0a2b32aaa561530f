package seed

import (
	"context"
	"fmt"

	"biobank/internal/app"
	"biobank/internal/auth"
	"biobank/internal/label"
	"biobank/internal/printing"
)

// demoTemplates are a label template per material family.
var demoTemplates = []label.Template{
	{Name: "Liquid aliquot 32 × 13 mm", WidthMM: 32, HeightMM: 13, DPI: 300, Codes: []label.Symbology{label.DataMatrix}, FontPt: 5,
		Lines: []label.Line{{Field: "accession"}, {Field: "pseudonym"}, {Field: "specimen_short"}, {Field: "volume"}}, Stock: "cryo −196 °C"},
	{Name: "Primary tube 51 × 25 mm", WidthMM: 51, HeightMM: 25, DPI: 300, Codes: []label.Symbology{label.DataMatrix, label.Code128}, FontPt: 6,
		Lines: []label.Line{{Field: "accession"}, {Field: "pseudonym"}, {Field: "study"}, {Field: "specimen_type"}, {Field: "collected_on"}}, Stock: "−80 °C freezer label"},
	{Name: "Cells and tissue 38 × 19 mm", WidthMM: 38, HeightMM: 19, DPI: 300, Codes: []label.Symbology{label.DataMatrix}, FontPt: 5,
		Lines: []label.Line{{Field: "accession"}, {Field: "pseudonym"}, {Field: "specimen_type"}, {Field: "collected_on"}}, Stock: "LN2 vapour −196 °C"},
}

// demoPrinting adds a label printer per site — at a local address where nothing listens,
// so printing fails cleanly, naming the printer, until a real one is set — and the label
// templates.
func demoPrinting(ctx context.Context, a *app.App, actor auth.Actor, sum *Summary) error {
	for i, site := range DemoSites {
		_, err := a.Printing.CreatePrinter(ctx, actor, printing.PrinterInput{Name: site.Name + " bench printer", Site: site.Code,
			Kind: "zpl", Address: fmt.Sprintf("127.0.0.1:%d", 19101+i), DPI: 300, TimeoutMS: 2000, SiteDefault: true,
			Reason: "demonstration data: point it at the site's label printer"})
		if err != nil {
			return err
		}
		sum.Printers++
	}
	for _, t := range demoTemplates {
		if _, err := a.Printing.CreateTemplate(ctx, actor, printing.TemplateInput{Template: t, Reason: "demonstration data"}); err != nil {
			return fmt.Errorf("template %s: %w", t.Name, err)
		}
		sum.Templates++
	}
	return nil
}
