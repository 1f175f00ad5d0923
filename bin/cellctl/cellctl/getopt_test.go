package cellctl

import (
	"fmt"
	"strings"
	"testing"
)

func TestGetopt(t *testing.T) {
	tests := []struct {
		args string
		spec string
		want string // options as "x=arg" words, then "|" and the operands
	}{
		{"c -n web root", "n:l:", "n=web | root"},
		{"c -nweb -lhigh root", "n:l:", "n=web l=high | root"},
		{"c -TH", "TH", "T= H= |"},
		{"c -T -- -H", "TH", "T= | -H"},
		{"c root -n web", "n:", "| root -n web"},
		{"c - -T", "T", "| - -T"},
		{"c -Tnx y", "Tn:", "T= n=x | y"},
		{"c -x", "T", "error: unknown option -- x"},
		{"c -Tx", "T", "T= error: unknown option -- x"},
		{"c -n", "n:", "error: option requires an argument -- n"},
		{"c", "T", "|"},
	}
	for _, tc := range tests {
		g := newGetopt(strings.Fields(tc.args), tc.spec)
		var got []string
		for {
			opt, arg, ok, err := g.next()
			if !ok {
				got = append(got, "|")
				got = append(got, g.rest()...)
				break
			}
			if err != nil {
				got = append(got, "error: "+err.Error())
				break
			}
			got = append(got, fmt.Sprintf("%c=%s", opt, arg))
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("getopt(%q, %q) = %q; want %q", tc.args, tc.spec, s, tc.want)
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in   string
		id   uint32
		isID bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"0x10", 16, true}, {"0X1f", 31, true}, {"010", 8, true},
		{"4294967295", 4294967295, true}, {"4294967296", 0, false}, {"08", 0, false},
		{"0x", 0, false}, {"", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"web", 0, false},
		{"1a", 0, false}, {" 1", 0, false},
	}
	for _, tc := range tests {
		id, ok := parseID(tc.in)
		if id != tc.id || ok != tc.isID {
			t.Errorf("parseID(%q) = %d, %v; want %d, %v", tc.in, id, ok, tc.id, tc.isID)
		}
	}
}
