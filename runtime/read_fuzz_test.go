package runtime

import (
	"regexp"
	"strings"
	"testing"
)

// parseErrRe are the only messages Catalog.Parse may return.
var parseErrRe = regexp.MustCompile(`^(invalid field token '[^,]*'|(cell|volume): (unknown field '[a-z0-9_]+'|field '[a-z0-9_]+' is not available in view '(merged|desired|runtime|compact)'|field list is empty))$`)

// FuzzCatalogParse checks -o parsing against its definition: the result is
// the non-empty comma-separated tokens in order (duplicates kept), each a
// field of the view, or the view's defaults for ""; anything else fails
// with one of upstream's messages.
func FuzzCatalogParse(f *testing.F) {
	for _, s := range []string{"", ",", "name", "name,,state,name", "Name", "a b", "cid,profile", "used_by,mode", "name,\x00", ",,,"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(5))
	}
	views := []View{ViewMerged, ViewDesired, ViewRuntime, ViewCompact}
	f.Fuzz(func(t *testing.T, list string, sel uint8) {
		cat := CellCatalog
		if sel&4 != 0 {
			cat = VolumeCatalog
		}
		v := views[sel%4]
		if !cat.Supports(v) {
			v = ViewMerged
		}
		got, err := cat.Parse(list, v)
		if err != nil {
			if !parseErrRe.MatchString(err.Error()) {
				t.Fatalf("Parse(%q, %s): unexpected message %q", list, v, err)
			}
			if strings.HasPrefix(err.Error(), "invalid") && list == "" {
				t.Fatalf("Parse(\"\") failed: %v", err)
			}
			return
		}
		want := list
		if want == "" {
			want = cat.defaults[v]
		}
		var toks []string
		for _, tok := range strings.Split(want, ",") {
			if tok != "" {
				toks = append(toks, tok)
			}
		}
		if len(got) != len(toks) {
			t.Fatalf("Parse(%q, %s) = %d fields, want %d", list, v, len(got), len(toks))
		}
		for i, fl := range got {
			if fl.Name != toks[i] || !fl.In(v) {
				t.Fatalf("Parse(%q, %s)[%d] = %s, want %s available in the view", list, v, i, fl.Name, toks[i])
			}
		}
	})
}
