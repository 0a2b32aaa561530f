// Package sprec computes the ISBER Standard PREanalytical Code (SPREC, version 2.0) of a
// sample from the pre-analytical facts recorded about it (STANDARDS.md §1). A code is never
// typed by hand: the service stores the facts, calls FluidCode or SolidCode, and stores the
// result beside Version.
//
// The functions are pure: no clock, no database, no configuration. The same facts always
// give the same code.
//
// # Unknown, not applicable, other
//
// Every input distinguishes "not recorded" from "does not apply". The zero value of each
// field means unknown (a nil pointer, an empty string, a zero enum), and an unknown fact
// gives X (XXX for the three-letter elements) in exactly the element that needs it; the
// other elements are still computed. Nothing is ever guessed: when a fact that an element
// needs is missing, that element is X even if the other facts would narrow it down. Not
// applicable is said explicitly (a Spin with None, a Duration with NotApplicable) and gives
// N. A fact that is known but has no code of its own (a 37 °C centrifugation, a paraffin
// block at −80 °C, a container the standard does not list) gives Z (ZZZ).
//
// # Intervals
//
// Every interval is lower-inclusive and upper-exclusive, as STANDARDS.md requires: a delay
// of exactly 2 h is in "2–4 h", exactly 3000 g is in "3000–6000 g", exactly 10000 g is
// ">10000 g", exactly 60 min of ischaemia is ">60 min", exactly 72 h of fixation is beyond
// "48–72 h" and so Z.
//
// One deliberate exception: the centrifugation codes A–J apply to spins of 10 to 15
// minutes, and both ends are included. There is no neighbouring code that 15 minutes
// would otherwise belong to, and "15 min" is one of the commonest protocols; excluding it
// would turn ordinary spins into Z. Durations are whole minutes; a spin outside 10–15 min
// (or, for M, other than exactly 30 min) is Z.
//
// # Mapping decisions
//
// Fluid type (the LIMS specimen type): whole_blood → BLD, serum → SER, plasma → PL1 or PL2
// by Fluid.PlasmaDoubleSpun, buffy_coat → BUF or BFF by Fluid.BuffyViable (nil → XXX),
// pbmc → CEL (the LIMS's pbmc is defined as viable density-gradient mononuclear cells; a
// dry cell pellet is not a pbmc sample), csf → CSF, stool → STL, urine → URN, URM or U24 by
// Fluid.UrineKind (unknown → XXX), saliva → SAL, empty → XXX, any other fluid (dna, rna, …)
// → ZZZ. A solid type (tissue) given to FluidCode is an error.
//
// Primary container (the LIMS container code): the codes the standard lists (SST, CAT, PED,
// SED, EDG, HEP, LHG, SCI, CPT, PAX, PXD, ORG, PPS, PET) map to themselves; ZZZ stays ZZZ;
// empty is XXX. The LIMS's STL (stool collection tube) and CRY (cryovial) map to ZZZ, not to
// PPS: PPS means a sterile polypropylene tube, and neither the material nor the sterility
// (nor, for stool tubes, the absence of a stabiliser) follows from those container types.
// A site that collects into sterile polypropylene should record the container as PPS. Any
// other container code is a known container without an SPREC code, so ZZZ.
//
// Second centrifugation: nil is unknown (X) like the first, so a sample spun once must
// record its second centrifugation as None to get N. When the first centrifugation is None
// there cannot have been a second one, and nil gives N. Plasma's type and its second
// centrifugation must agree (PL2 needs a second spin, PL1 must not have one); a
// contradiction is an error.
//
// Post-centrifugation delay runs from Fluid.CentrifugationEndedAt, the end of the last
// centrifugation, to Fluid.FrozenAt. It is N when the sample was not centrifuged (stool or
// urine frozen as collected), X when it is unknown whether it was.
//
// Long-term storage is two facts, a StorageContainer and a StorageTemperature, mapped by
// the table in the standard. A polypropylene tube in liquid nitrogen, or in liquid nitrogen
// after a temporary −80 °C, or after programmable freezing, is below −135 °C (V, W). The
// original primary container is Y whatever the temperature. A known combination the table
// does not list is Z; any unknown half (except for Y) is X.
//
// Solid type: tissue → TIS, empty → XXX, other → ZZZ. Collection and fixation type are the
// SPREC codes themselves (BPS, SRG, …; SNP, NBF, …): empty → XXX, an unlisted code → ZZZ.
// Snap freezing has no fixation time, so fixation type SNP gives fixation time N (and a
// recorded fixation time with SNP is an error).
//
// # Errors
//
// FluidCode and SolidCode return an *InputError only for facts that contradict each other
// or cannot be true, naming the field, with a sentence for a person:
//
//   - times out of order: collected ≤ processing started ≤ centrifugation ended ≤ frozen,
//     compared pairwise for whichever of them are recorded;
//   - a centrifugation end time, or a second centrifugation, on a sample recorded as not
//     centrifuged; plasma whose type (PL1, PL2) and second centrifugation disagree;
//   - a spin recorded as None that still has a temperature, g-force, duration or brake; a
//     non-positive g-force or spin duration;
//   - a Duration both NotApplicable and with a Value; a negative ischaemia or fixation time;
//     a fixation time for snap-frozen tissue;
//   - a solid type given to FluidCode, a fluid type given to SolidCode; an enum value outside
//     its constants.
//
// Of two contradicting facts neither is silently preferred. A fact that does not concern
// the sample (a UrineKind on serum) is simply not used.
package sprec
