package sprec_test

import (
	"testing"
	"time"

	"biobank/internal/sprec"
)

func TestVersion_Is2_0(t *testing.T) {
	if sprec.Version != "2.0" {
		t.Fatalf("Version = %q, want 2.0", sprec.Version)
	}
}

// TestFluidCode_WorkedExamples are the golden tests of STANDARDS.md §1 for fluids.
func TestFluidCode_WorkedExamples(t *testing.T) {
	cases := []struct {
		name string
		in   sprec.Fluid
		want string
	}{
		{"serum in SST clotted 1 h RT, 2000 g 10 min RT braked, frozen 30 min later RT, 0.5 mL PP at -80", workedSerum(), workedSerumCode},
		{"stool frozen without spinning", sprec.Fluid{
			Type: "stool", PrimaryContainer: "PPS",
			CollectedAt: at(0), ProcessingStartedAt: at(3 * time.Hour), PreCentrifugationTemp: sprec.TempCold,
			Centrifugation: noSpin(), FrozenAt: at(3*time.Hour + 20*time.Minute),
			LongTermStorage: sprec.Storage{Container: sprec.ContainerPolypropyleneTube, Temperature: sprec.StoreMinus80},
		}, "STL-PPS-D-N-N-N-A"},
		{"stool in a stool tube frozen without spinning, nothing else known", sprec.Fluid{
			Type: "stool", PrimaryContainer: "STL", Centrifugation: noSpin(),
		}, "STL-ZZZ-X-N-N-N-X"},
		{"spot urine frozen without spinning", sprec.Fluid{
			Type: "urine", UrineKind: sprec.UrineSpot, PrimaryContainer: "PPS",
			CollectedAt: at(0), ProcessingStartedAt: at(30 * time.Minute), PreCentrifugationTemp: sprec.TempRoom,
			Centrifugation: noSpin(), SecondCentrifugation: noSpin(), FrozenAt: at(45 * time.Minute),
			LongTermStorage: sprec.Storage{Container: sprec.ContainerPolypropyleneLarge, Temperature: sprec.StoreMinus80},
		}, "URN-PPS-A-N-N-N-J"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mustFluid(t, c.in); got != c.want {
				t.Errorf("FluidCode = %s, want %s", got, c.want)
			}
		})
	}
}

// TestSolidCode_WorkedExamples is the golden test of STANDARDS.md §1 for tissue.
func TestSolidCode_WorkedExamples(t *testing.T) {
	cases := []struct {
		name string
		in   sprec.Solid
		want string
	}{
		{"FFPE: surgical, warm ischaemia unknown, 15 min cold, 12 h NBF, block at RT", workedFFPE(), workedFFPECode},
		{"snap-frozen biopsy without warm ischaemia, 5 min cold, cryotube in liquid nitrogen", sprec.Solid{
			Type: "tissue", Collection: "BPS", WarmIschaemia: sprec.NotApplicable, ColdIschaemia: sprec.Known(5 * time.Minute),
			FixationType:    "SNP",
			LongTermStorage: sprec.Storage{Container: sprec.ContainerCryotube, Temperature: sprec.StoreLiquidNitrogen},
		}, "TIS-BPS-N-B-SNP-N-C"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mustSolid(t, c.in); got != c.want {
				t.Errorf("SolidCode = %s, want %s", got, c.want)
			}
		})
	}
}
