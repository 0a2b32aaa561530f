package sprec

import "fmt"

// Storage is how a sample is kept long term: the container and the temperature. The zero
// value is unknown and gives X.
type Storage struct {
	Container   StorageContainer
	Temperature StorageTemperature
}

// StorageContainer is the kind of container a sample is stored in.
type StorageContainer int

// Storage containers the codes distinguish. The zero value is unknown.
const (
	ContainerUnknown StorageContainer = iota
	// ContainerPolypropyleneTube is a polypropylene tube of 0.5–2 mL.
	ContainerPolypropyleneTube
	// ContainerCryotube is a cryotube of 1–2 mL.
	ContainerCryotube
	// ContainerPolypropyleneLarge is a polypropylene tube of 5 mL or more.
	ContainerPolypropyleneLarge
	// ContainerPolypropyleneSmall is a polypropylene tube of 40–500 µL.
	ContainerPolypropyleneSmall
	// ContainerParaffinBlock is a paraffin block.
	ContainerParaffinBlock
	// ContainerPrimary is the original primary (collection) container: Y at any temperature.
	ContainerPrimary
	// ContainerOther is any other known container (for example a 3 mL polypropylene tube);
	// it gives Z.
	ContainerOther
)

var containerText = [...]string{"", "pp_0.5-2ml", "cryotube_1-2ml", "pp_5ml", "pp_40-500ul", "paraffin_block", "primary", "other"}

// String returns the text form: "" (unknown), "pp_0.5-2ml", "cryotube_1-2ml", "pp_5ml",
// "pp_40-500ul", "paraffin_block", "primary" or "other".
func (c StorageContainer) String() string {
	if c < 0 || int(c) >= len(containerText) {
		return fmt.Sprintf("StorageContainer(%d)", int(c))
	}
	return containerText[c]
}

// ParseStorageContainer reads the text form String returns.
func ParseStorageContainer(s string) (StorageContainer, error) {
	for i, txt := range containerText {
		if s == txt {
			return StorageContainer(i), nil
		}
	}
	return ContainerUnknown, inputError("storage_container", fmt.Sprintf("%q is not a storage container.", s))
}

// MarshalText stores a StorageContainer as its text form.
func (c StorageContainer) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a StorageContainer from its text form.
func (c *StorageContainer) UnmarshalText(b []byte) error {
	v, err := ParseStorageContainer(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// StorageTemperature is the temperature (or freezing process) of long-term storage.
type StorageTemperature int

// Storage temperatures the codes distinguish. The zero value is unknown.
const (
	StoreUnknown StorageTemperature = iota
	// StoreMinus80 is −85…−60 °C.
	StoreMinus80
	// StoreMinus20 is −35…−18 °C.
	StoreMinus20
	// StoreBelowMinus135 is below −135 °C other than in liquid nitrogen: a −150 °C freezer,
	// nitrogen vapour.
	StoreBelowMinus135
	// StoreLiquidNitrogen is liquid nitrogen.
	StoreLiquidNitrogen
	// StoreLiquidNitrogenAfterMinus80 is liquid nitrogen after a temporary stay at
	// −85…−60 °C.
	StoreLiquidNitrogenAfterMinus80
	// StoreProgrammableFreezing is programmable (controlled-rate) freezing to below −135 °C.
	StoreProgrammableFreezing
	// StoreRoomOrCold is room temperature or 2–10 °C (paraffin blocks).
	StoreRoomOrCold
	// StoreOther is any other known temperature; it gives Z.
	StoreOther
)

var storeText = [...]string{"", "-80", "-20", "below-135", "ln2", "ln2_after_-80", "programmable", "rt_or_2-10", "other"}

// String returns the text form: "" (unknown), "-80", "-20", "below-135", "ln2",
// "ln2_after_-80", "programmable", "rt_or_2-10" or "other".
func (t StorageTemperature) String() string {
	if t < 0 || int(t) >= len(storeText) {
		return fmt.Sprintf("StorageTemperature(%d)", int(t))
	}
	return storeText[t]
}

// ParseStorageTemperature reads the text form String returns.
func ParseStorageTemperature(s string) (StorageTemperature, error) {
	for i, txt := range storeText {
		if s == txt {
			return StorageTemperature(i), nil
		}
	}
	return StoreUnknown, inputError("storage_temperature", fmt.Sprintf("%q is not a storage temperature.", s))
}

// MarshalText stores a StorageTemperature as its text form.
func (t StorageTemperature) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads a StorageTemperature from its text form.
func (t *StorageTemperature) UnmarshalText(b []byte) error {
	v, err := ParseStorageTemperature(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// validate refuses values outside the declared constants, which only a programming error
// or a corrupted record can produce.
func (s Storage) validate() error {
	if s.Container < 0 || int(s.Container) >= len(containerText) {
		return inputError("storage_container", "The storage container is not one the LIMS knows.")
	}
	if s.Temperature < 0 || int(s.Temperature) >= len(storeText) {
		return inputError("storage_temperature", "The storage temperature is not one the LIMS knows.")
	}
	return nil
}

// storageCodes is the table of the standard: container → temperature → code.
var storageCodes = map[StorageContainer]map[StorageTemperature]string{
	ContainerPolypropyleneTube: {
		StoreMinus80: "A", StoreMinus20: "B",
		// Liquid nitrogen is below −135 °C, whatever route the tube took there.
		StoreBelowMinus135: "V", StoreLiquidNitrogen: "V", StoreLiquidNitrogenAfterMinus80: "V", StoreProgrammableFreezing: "V",
	},
	ContainerCryotube: {
		StoreLiquidNitrogen: "C", StoreMinus80: "D", StoreProgrammableFreezing: "E", StoreLiquidNitrogenAfterMinus80: "N",
	},
	ContainerPolypropyleneLarge: {StoreMinus80: "J", StoreMinus20: "K"},
	ContainerPolypropyleneSmall: {
		StoreMinus80: "S", StoreMinus20: "T",
		StoreBelowMinus135: "W", StoreLiquidNitrogen: "W", StoreLiquidNitrogenAfterMinus80: "W", StoreProgrammableFreezing: "W",
	},
	ContainerParaffinBlock: {StoreRoomOrCold: "P"},
}

// storageCode is the long-term storage element, shared by fluids and solids.
func storageCode(s Storage) string {
	switch {
	case s.Container == ContainerPrimary:
		return "Y"
	case s.Container == ContainerOther:
		return other1
	case s.Container == ContainerUnknown || s.Temperature == StoreUnknown:
		return unknown1
	}
	if code, ok := storageCodes[s.Container][s.Temperature]; ok {
		return code
	}
	// A known container at a known temperature that the table does not list.
	return other1
}
