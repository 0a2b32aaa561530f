// Package templates holds the templ components: the layout, shared partials and one file
// per page. Components take view-model structs and never touch the database.
package templates

import "time"

// Page is what the layout needs on every page.
type Page struct {
	Title string
	// User is nil when nobody is signed in.
	User    *User
	CSRF    string
	Flashes []Flash
	// Nav names the active navigation item.
	Nav string
	// Bench pages autofocus the header scan box: the next scan must land there.
	Bench bool
	// Scan is the text last scanned, echoed back in the scan box.
	Scan string
	// PrintOffer are the tubes just registered or made whose labels the page offers to
	// print with one click; PrintNext is where that goes back to.
	PrintOffer []string
	PrintNext  string
}

// User is the signed-in user as the layout shows them.
type User struct {
	Username  string
	Role      string
	RoleLabel string
	Site      string
}

// Can reports whether the user has one of roles.
func (u *User) Can(roles ...string) bool {
	if u == nil {
		return false
	}
	for _, r := range roles {
		if u.Role == r {
			return true
		}
	}
	return false
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // success, error, info
	Message string
}

// Form carries what a person typed and the messages for wrong fields, so a refused form
// comes back as it was sent.
type Form struct {
	Values map[string]string
	Errors map[string]string
	// Error is a message not tied to one field.
	Error string
	// Prefix keeps input ids unique when a page holds several forms with the same fields.
	Prefix string
}

// InputID is the HTML id of the input for name.
func (f Form) InputID(name string) string { return "f-" + f.Prefix + name }

// WithPrefix returns f with its input ids prefixed.
func (f Form) WithPrefix(prefix string) Form {
	f.Prefix = prefix
	return f
}

// NewForm returns an empty form.
func NewForm() Form {
	return Form{Values: map[string]string{}, Errors: map[string]string{}}
}

// Value returns the submitted value of name.
func (f Form) Value(name string) string { return f.Values[name] }

// Err returns the message for name, if any.
func (f Form) Err(name string) string { return f.Errors[name] }

// HasErrors reports whether any message is set.
func (f Form) HasErrors() bool { return len(f.Errors) > 0 || f.Error != "" }

// Option is one choice of a select.
type Option struct {
	Value string
	Label string
}

// FormatTime shows a time in UTC, to the minute, the way the audit trail records it.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// FormatTimePtr is FormatTime for an optional time; nil shows as a dash.
func FormatTimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return FormatTime(*t)
}
