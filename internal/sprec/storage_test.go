package sprec_test

import (
	"testing"

	"biobank/internal/sprec"
)

// TestLongTermStorage_EveryCombination checks the whole container × temperature table:
// the listed combinations give their letter, Y ignores the temperature, an unknown half is
// X and every other known combination is Z.
func TestLongTermStorage_EveryCombination(t *testing.T) {
	type key struct {
		c sprec.StorageContainer
		t sprec.StorageTemperature
	}
	listed := map[key]string{
		{sprec.ContainerPolypropyleneTube, sprec.StoreMinus80}:                     "A",
		{sprec.ContainerPolypropyleneTube, sprec.StoreMinus20}:                     "B",
		{sprec.ContainerPolypropyleneTube, sprec.StoreBelowMinus135}:               "V",
		{sprec.ContainerPolypropyleneTube, sprec.StoreLiquidNitrogen}:              "V",
		{sprec.ContainerPolypropyleneTube, sprec.StoreLiquidNitrogenAfterMinus80}:  "V",
		{sprec.ContainerPolypropyleneTube, sprec.StoreProgrammableFreezing}:        "V",
		{sprec.ContainerCryotube, sprec.StoreLiquidNitrogen}:                       "C",
		{sprec.ContainerCryotube, sprec.StoreMinus80}:                              "D",
		{sprec.ContainerCryotube, sprec.StoreProgrammableFreezing}:                 "E",
		{sprec.ContainerCryotube, sprec.StoreLiquidNitrogenAfterMinus80}:           "N",
		{sprec.ContainerPolypropyleneLarge, sprec.StoreMinus80}:                    "J",
		{sprec.ContainerPolypropyleneLarge, sprec.StoreMinus20}:                    "K",
		{sprec.ContainerPolypropyleneSmall, sprec.StoreMinus80}:                    "S",
		{sprec.ContainerPolypropyleneSmall, sprec.StoreMinus20}:                    "T",
		{sprec.ContainerPolypropyleneSmall, sprec.StoreBelowMinus135}:              "W",
		{sprec.ContainerPolypropyleneSmall, sprec.StoreLiquidNitrogen}:             "W",
		{sprec.ContainerPolypropyleneSmall, sprec.StoreLiquidNitrogenAfterMinus80}: "W",
		{sprec.ContainerPolypropyleneSmall, sprec.StoreProgrammableFreezing}:       "W",
		{sprec.ContainerParaffinBlock, sprec.StoreRoomOrCold}:                      "P",
	}
	seen := map[string]bool{}
	for c := sprec.ContainerUnknown; c <= sprec.ContainerOther; c++ {
		for temp := sprec.StoreUnknown; temp <= sprec.StoreOther; temp++ {
			want, ok := listed[key{c, temp}]
			switch {
			case ok:
			case c == sprec.ContainerPrimary:
				want = "Y"
			case c == sprec.ContainerOther:
				want = "Z"
			case c == sprec.ContainerUnknown || temp == sprec.StoreUnknown:
				want = "X"
			default:
				want = "Z"
			}
			seen[want] = true
			f := workedSerum()
			f.LongTermStorage = sprec.Storage{Container: c, Temperature: temp}
			if got := element(t, mustFluid(t, f), elStorage); got != want {
				t.Errorf("storage %q at %q = %s, want %s", c, temp, got, want)
			}
			s := workedFFPE()
			s.LongTermStorage = f.LongTermStorage
			if got := element(t, mustSolid(t, s), elStorage); got != want {
				t.Errorf("tissue storage %q at %q = %s, want %s", c, temp, got, want)
			}
		}
	}
	for _, code := range []string{"A", "B", "V", "C", "D", "E", "N", "J", "K", "S", "T", "W", "P", "Y", "X", "Z"} {
		if !seen[code] {
			t.Errorf("no combination gives %s", code)
		}
	}
}
