package spec

import "testing"

func TestParseMount(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"data:/srv", "data:/srv:rw", ""},
		{"data:/srv:ro", "data:/srv:ro", ""},
		{"/opt/x:/srv/x:rw", "/opt/x:/srv/x:rw", ""},
		{"", "", "empty mount specification"},
		{"data", "", "invalid mount specification 'data' (expected source:/target[:ro|rw])"},
		{"a:/b:rw:x", "", "invalid mount specification 'a:/b:rw:x' (too many ':')"},
		{":/b", "", "mount source cannot be empty"},
		{"/:/b", "", "host mount source is not allowed: /"},
		{"/opt/../etc:/b", "", "host mount source is not a clean path: /opt/../etc"},
		{"da ta:/b", "", "invalid volume mount source: da ta"},
		{"data:b", "", "mount target must be absolute: b"},
		{"data:/", "", "mount target is not allowed: /"},
		{"data:/dev", "", "mount target is not allowed: /dev"},
		{"data:/dev/pts", "", "mount target is not allowed: /dev/pts"},
		{"data:/.overlay", "", "mount target is not allowed: /.overlay"},
		{"data:/.overlay/x", "", "mount target is not allowed: /.overlay/x"},
		{"data:/device", "data:/device:rw", ""},
		{"data://dev", "", "mount target is not a clean path: //dev"},
		{"data:/srv/", "", "mount target is not a clean path: /srv/"},
		{"data:/srv/./x", "", "mount target is not a clean path: /srv/./x"},
		{"data:/s\tv", "", "mount target contains control characters: /s\tv"},
		{"data:/srv:RW", "", "mount mode must be ro or rw: RW"},
	} {
		m, err := ParseMount(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseMount(%q) err = %v, want %s", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || m.String() != tc.want {
			t.Errorf("ParseMount(%q) = %q, %v; want %q", tc.in, m.String(), err, tc.want)
		}
	}
}

func TestValidName(t *testing.T) {
	for s, want := range map[string]bool{"web": true, "a.b_c-9": true, "": false, "a b": false, "a/b": false, "é": false, ".": false, "..": false, "...": true, ".x": true} {
		if ValidName(s) != want {
			t.Errorf("ValidName(%q) = %v", s, !want)
		}
	}
}
