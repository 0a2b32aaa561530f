package templates

import (
	"strconv"

	"biobank/internal/auth"
)

// userPath is the administration page of u. All user links are built here.
func userPath(u auth.User) string {
	return "/admin/users/" + strconv.FormatInt(u.ID, 10)
}

func int64s(n int64) string { return strconv.FormatInt(n, 10) }
