package supervise

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"cells/kernel"
)

func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		args  string
		err   string
		usage bool
	}{
		{"", "", true},
		{"-x web cmd", "unknown option -- x", true},
		{"-f", "option requires an argument -- f", true},
		{"web", "supervise requires command [args...]", false},
		{"-f bogus web cmd", "invalid log facility: bogus", false},
		{"-o 8 web cmd", "log level out of range: 8", false},
		{"-e 99999999999 web cmd", "log level out of range: 99999999999", false},
		{"-o loud web cmd", "invalid log level: loud", false},
		{"-e -1 web cmd", "invalid log level: -1", false},
		{"-t " + strings.Repeat("x", 64) + " web cmd", "invalid log tag", false},
		{"-U 1 web cmd", "-U and -G must be specified together", false},
		{"-G 1 web cmd", "-U and -G must be specified together", false},
		{"-g 1 web cmd", "-g requires -U and -G", false},
		{"-U 1 -G 1 -g 1,x web cmd", "invalid supplementary gid list: 1,x", false},
		{"-U 1 -G 1 -g 1,,2 web cmd", "invalid supplementary gid list: 1,,2", false},
		{"-U x -G 1 web cmd", "invalid uid: x", false},
		{"-U 1 -G -5 web cmd", "invalid gid: -5", false},
		// validation follows the command line: the first bad option wins
		{"-o bad -f worse web cmd", "invalid log level: bad", false},
	} {
		_, err := parseArgs(strings.Fields(tc.args))
		if err == nil {
			t.Errorf("%q: no error", tc.args)
			continue
		}
		var ue *usageError
		if errors.As(err, &ue) != tc.usage || err.Error() != tc.err {
			t.Errorf("%q: got %q (usage %v), want %q (usage %v)", tc.args, err, errors.As(err, &ue), tc.err, tc.usage)
		}
	}
	// An empty -t is a separate word.
	if _, err := parseArgs([]string{"-t", "", "web", "cmd"}); err == nil || err.Error() != "invalid log tag" {
		t.Errorf("empty tag: %v", err)
	}
	if _, err := parseArgs([]string{"-U", "1", "-G", "1", "-g", "", "web", "cmd"}); err == nil || err.Error() != "invalid supplementary gid list: " {
		t.Errorf("empty gid list: %v", err)
	}
}

func TestParseArgs(t *testing.T) {
	o, err := parseArgs([]string{"web", "/bin/sh", "-c", "echo -f x"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Options{Facility: 3, StdoutLevel: 5, StderrLevel: 3, Tag: "cellctl", Target: "web", Argv: []string{"/bin/sh", "-c", "echo -f x"}}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("defaults: got %+v want %+v", o, want)
	}
	o, err = parseArgs([]string{"-flocal3", "-o", "info", "-e7", "-t", "my app:x", "-U", "1000", "-G100", "-g", "5,6", "--", "-7", "prog", "-f"})
	if err != nil {
		t.Fatal(err)
	}
	want = &Options{Facility: 19, StdoutLevel: 6, StderrLevel: 7, Tag: "my_app_x",
		Cred: &kernel.Cred{UID: 1000, GID: 100, Groups: []uint32{5, 6}}, Target: "-7", Argv: []string{"prog", "-f"}}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("options: got %+v want %+v", o, want)
	}
	// getopt stops at the first non-option
	o, err = parseArgs([]string{"3", "-f", "bogus"})
	if err != nil || o.Target != "3" || !reflect.DeepEqual(o.Argv, []string{"-f", "bogus"}) {
		t.Errorf("stop at operand: %+v %v", o, err)
	}
	for name, code := range map[string]int{"auth": 4, "authpriv": 10, "cron": 9, "daemon": 3, "ftp": 11, "kern": 0,
		"lpr": 6, "mail": 2, "news": 7, "syslog": 5, "user": 1, "uucp": 8, "local0": 16, "local7": 23} {
		if f, err := parseFacility(name); err != nil || f != code {
			t.Errorf("facility %s: %d %v", name, f, err)
		}
	}
	for i, name := range []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"} {
		if l, err := parseLevel(name); err != nil || l != i {
			t.Errorf("level %s: %d %v", name, l, err)
		}
		if l, err := parseLevel(string(rune('0' + i))); err != nil || l != i {
			t.Errorf("level %d: %d %v", i, l, err)
		}
	}
}

func TestParseCellID(t *testing.T) {
	for _, tc := range []struct {
		s  string
		id uint32
		ok bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"0x1f", 31, true}, {"0X1F", 31, true}, {"010", 8, true},
		{"4294967295", 4294967295, true}, {"4294967296", 0, false}, {"08", 0, false},
		{"0x", 0, false}, {"1_0", 0, false}, {"0b1", 0, false}, {"web", 0, false}, {"", 0, false}, {"+1", 0, false},
	} {
		id, ok := parseCellID(tc.s)
		if id != tc.id || ok != tc.ok {
			t.Errorf("%q: got %d %v want %d %v", tc.s, id, ok, tc.id, tc.ok)
		}
	}
}
