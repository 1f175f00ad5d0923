package cellman

import (
	"reflect"
	"testing"
)

func TestParseApplyArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want applyArgs
		err  string
	}{
		{nil, applyArgs{all: true}, ""},
		{[]string{"web", "db", "--dry-run"}, applyArgs{targets: []string{"web", "db"}, dryRun: true}, ""},
		{[]string{"-v", "--verbose", "-v"}, applyArgs{all: true, verbose: 2}, ""},
		{[]string{"-vv", "--force", "--restart-changed"}, applyArgs{all: true, verbose: 2, force: true, restartChanged: true}, ""},
		{[]string{"--silent"}, applyArgs{all: true, silent: true}, ""},
		{[]string{"--silent", "-vv"}, applyArgs{}, "--silent and --verbose are mutually exclusive"},
		{[]string{"--all", "x"}, applyArgs{}, "cannot combine --all with explicit apply targets"},
		{[]string{"-x"}, applyArgs{}, "unknown apply option: -x"},
	} {
		got, err := parseApplyArgs(tc.args)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: err = %v, want %s", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
}

func TestParseBackupArgs(t *testing.T) {
	got, err := parseBackupArgs("volume", []string{"restore", "v", "--from", "a.tar.gz", "--yes"})
	if want := (backupArgs{op: "restore", name: "v", archive: "a.tar.gz", yes: true}); err != nil || got != want {
		t.Errorf("restore --from = %+v, %v", got, err)
	}
	got, err = parseBackupArgs("cell", []string{"delete", "web", "web_20260101000000.tar.gz"})
	if want := (backupArgs{op: "delete", name: "web", archive: "web_20260101000000.tar.gz"}); err != nil || got != want {
		t.Errorf("delete positional = %+v, %v", got, err)
	}
	if _, err := parseBackupArgs("cell", []string{"delete", "web", "a", "b"}); err == nil {
		t.Error("two archives accepted")
	}
	if _, err := parseBackupArgs("cell", []string{"restore", "web", "--latest", "a"}); err == nil ||
		err.Error() != "cell backup restore: --latest cannot be combined with explicit archive path" {
		t.Errorf("--latest + archive: %v", err)
	}
}

func TestParseRemoveAndReset(t *testing.T) {
	r, err := parseRemoveArgs("cell", []string{"--yes", "--orphans", "--force"})
	if want := (removeArgs{orphans: true, yes: true, force: true}); err != nil || r != want {
		t.Errorf("cell remove = %+v, %v", r, err)
	}
	if _, err := parseRemoveArgs("volume", []string{"v", "--force"}); err == nil {
		t.Error("volume remove --force accepted")
	}
	s, err := parseResetArgs([]string{"--yes"})
	if want := (resetArgs{cells: true, volumes: true, yes: true}); err != nil || s != want {
		t.Errorf("reset = %+v, %v", s, err)
	}
	s, err = parseResetArgs([]string{"--volumes"})
	if want := (resetArgs{volumes: true}); err != nil || s != want {
		t.Errorf("reset --volumes = %+v, %v", s, err)
	}
	v, err := parseVolumeCreateArgs([]string{"--mode", "0750", "data"})
	if want := (volumeCreateArgs{name: "data", mode: "0750"}); err != nil || v != want {
		t.Errorf("volume create = %+v, %v", v, err)
	}
	p, err := parsePlanArgs([]string{"run", "web", "--ephemeral", "--file", "x.lua"})
	if want := (planArgs{name: "web", file: "x.lua", ephemeral: true}); err != nil || p != want {
		t.Errorf("plan = %+v, %v", p, err)
	}
}
