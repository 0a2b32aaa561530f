package sample

import (
	"sort"

	"biobank/internal/apperr"
)

func conflict(code, msg string) error { return apperr.Conflict(code, "", msg) }

func sortStrings(s []string) { sort.Strings(s) }
