package runtime

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"cells/runtime/paths"
)

// bootstrapSystem does the NetBSD part of reference 9.1: rc.conf, the
// secmodel_cell module, modules.conf, the verified sets and the base layer.
// The host files (/etc/rc.conf, /etc/modules.conf) are relocated by the
// prefix like every other path.
func bootstrapSystem(p paths.Paths, release, arch string, opts BootstrapOptions) error {
	if err := appendLineOnce(filepath.Join(p.Prefix, "etc/rc.conf"), "cellman=YES"); err != nil {
		return err
	}
	if p.Prefix == "/" {
		if err := ensureModule(); err != nil {
			return err
		}
	}
	if err := appendLineOnce(filepath.Join(p.Prefix, "etc/modules.conf"), "secmodel_cell"); err != nil {
		return err
	}
	mirror := opts.Mirror
	if mirror == "" {
		mirror = DefaultMirror(release, arch)
	}
	setDir := filepath.Join(p.ReleaseDir, release, arch)
	sets := SetNames(opts.XBase)
	if err := FetchSets(context.Background(), nil, mirror, setDir, sets, opts.Log); err != nil {
		return err
	}
	base := BaseDir(p, release, arch)
	for _, s := range sets {
		if s == "etc.tar.xz" {
			continue // etc is extracted per cell into its overlay
		}
		opts.Log("bootstrap extract %s", s)
		if err := ExtractSet(filepath.Join(setDir, s), base); err != nil {
			return err
		}
	}
	return ApplyWritableLinks(base)
}

func ensureModule() error {
	for _, t := range []string{"modstat", "modload"} {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("missing required tool: %s", t)
		}
	}
	out, _ := exec.Command("modstat").Output()
	if strings.Contains(string(out), "secmodel_cell") {
		return nil
	}
	if out, err := exec.Command("modload", "secmodel_cell").CombinedOutput(); err != nil {
		return fmt.Errorf("modload secmodel_cell: %s", strings.TrimSpace(string(out)))
	}
	return nil
}

// appendLineOnce appends line unless a line, leading/trailing space
// ignored, already equals it.
func appendLineOnce(path, line string) error {
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == line {
				f.Close()
				return nil
			}
		}
		f.Close()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("cannot open %s: %w", path, err)
	}
	defer f.Close()
	_, err = fmt.Fprintln(f, line)
	return err
}
