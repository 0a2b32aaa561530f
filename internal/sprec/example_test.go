package sprec_test

import (
	"fmt"
	"time"

	"biobank/internal/sprec"
)

func ExampleFluidCode() {
	collected := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	g, minutes, brake := 2000, 10, true
	code, err := sprec.FluidCode(sprec.Fluid{
		Type:                   "serum",
		PrimaryContainer:       "SST",
		CollectedAt:            &collected,
		ProcessingStartedAt:    ptr(collected.Add(time.Hour)),
		PreCentrifugationTemp:  sprec.TempRoom,
		Centrifugation:         &sprec.Spin{Temp: sprec.TempRoom, G: &g, Minutes: &minutes, Brake: &brake},
		SecondCentrifugation:   &sprec.Spin{None: true},
		CentrifugationEndedAt:  ptr(collected.Add(70 * time.Minute)),
		FrozenAt:               ptr(collected.Add(100 * time.Minute)),
		PostCentrifugationTemp: sprec.TempRoom,
		LongTermStorage:        sprec.Storage{Container: sprec.ContainerPolypropyleneTube, Temperature: sprec.StoreMinus80},
	})
	fmt.Println(code, sprec.Version, err)
	// Output: SER-SST-A-B-N-B-A 2.0 <nil>
}

func ExampleSolidCode() {
	code, err := sprec.SolidCode(sprec.Solid{
		Type:            "tissue",
		Collection:      "SRG",
		ColdIschaemia:   sprec.Known(15 * time.Minute),
		FixationType:    "NBF",
		FixationTime:    sprec.Known(12 * time.Hour),
		LongTermStorage: sprec.Storage{Container: sprec.ContainerParaffinBlock, Temperature: sprec.StoreRoomOrCold},
	})
	fmt.Println(code, err)
	// Output: TIS-SRG-X-C-NBF-E-P <nil>
}

func ExampleFluidCode_missingFacts() {
	// Only the type and the container are known: everything else is X, never a guess.
	code, _ := sprec.FluidCode(sprec.Fluid{Type: "plasma", PrimaryContainer: "PED"})
	fmt.Println(code)
	// Output: PL1-PED-X-X-X-X-X
}
