package cellman

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"cells/runtime"
)

// The storage commands (reference §2.4 remove, §2.5, §2.7, §5.2; cellman(8)
// STORAGE): volume create|remove, cell remove, the backups of volumes and
// overlays, system bootstrap and system reset. Deleting anything needs
// --yes and is refused while the data is in use (DESIGN difference 3).

// storageOptions are the runtime options of a storage command: the prefix,
// log lines on stderr and progress on stderr when it is a terminal.
func (c *cli) storageOptions() runtime.StorageOptions {
	return runtime.StorageOptions{
		Paths:    c.paths,
		Logf:     c.lifecycleOptions().Logf,
		Progress: c.stderr,
	}
}

// locked runs f under the apply lock, so a storage change never
// interleaves with an apply, a start or stop, or another storage change
// (two restores of one volume); a held lock names its holder.
func (c *cli) locked(op string, f func() error) error {
	lock, err := runtime.AcquireLock(c.paths, op)
	if err != nil {
		return err
	}
	defer lock.Release()
	return f()
}

func cmdVolumeCreate(c *cli, args []string) error {
	a, err := parseVolumeCreateArgs(args)
	if err != nil {
		return err
	}
	if err := c.locked("volume create", func() error {
		return runtime.CreateVolume(c.storageOptions(), a.name, a.mode)
	}); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "ok volume create name=%s\n", a.name)
	return nil
}

func cmdVolumeRemove(c *cli, args []string) error {
	r, err := parseRemoveArgs("volume", args)
	if err != nil {
		return err
	}
	var n int
	if err := c.locked("volume remove", func() (err error) {
		n, err = runtime.RemoveVolumes(c.storageOptions(), removeRequest(r))
		return err
	}); err != nil {
		return err
	}
	c.printRemoved("volume", r, n)
	return nil
}

func cmdCellRemove(c *cli, args []string) error {
	r, err := parseRemoveArgs("cell", args)
	if err != nil {
		return err
	}
	req := removeRequest(r)
	if r.yes {
		if err := c.mayRunCells(); err != nil {
			return err
		}
	}
	var n int
	if err := c.locked("cell remove", func() (err error) {
		n, err = runtime.RemoveCells(c.storageOptions(), req)
		return err
	}); err != nil {
		return err
	}
	c.printRemoved("cell", r, n)
	return nil
}

func removeRequest(r removeArgs) runtime.RemoveRequest {
	return runtime.RemoveRequest{Name: r.name, All: r.all, Orphans: r.orphans, Yes: r.yes, Force: r.force}
}

func (c *cli) printRemoved(kind string, r removeArgs, n int) {
	switch {
	case r.all:
		fmt.Fprintf(c.stdout, "ok %s remove all removed=%d\n", kind, n)
	case r.orphans:
		fmt.Fprintf(c.stdout, "ok %s remove orphans removed=%d\n", kind, n)
	default:
		fmt.Fprintf(c.stdout, "ok %s remove name=%s\n", kind, r.name)
	}
}

func cmdVolumeBackup(c *cli, args []string) error { return c.backup(runtime.VolumeBackup, args) }
func cmdCellBackup(c *cli, args []string) error   { return c.backup(runtime.OverlayBackup, args) }

// backup runs `<cell|volume> backup <create|list|restore|delete|verify>`;
// the usage line stays upstream's (verify is ours, see cellman(8)).
func (c *cli) backup(k runtime.BackupKind, args []string) error {
	group := k.Group()
	if len(args) > 0 && args[0] == "verify" {
		return c.backupVerify(k, args[1:])
	}
	b, err := parseBackupArgs(group, args)
	if err != nil {
		return err
	}
	switch b.op {
	case "create":
		if err := c.mayRunCells(); err != nil {
			return err
		}
		var path string
		if err := c.locked(group+" backup create", func() (err error) {
			path, _, err = runtime.CreateBackup(c.storageOptions(), k, b.name)
			return err
		}); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Created %s backup %s\n", k.Label(), path)
	case "list":
		list, err := runtime.ListBackups(c.paths, k, b.name)
		if err != nil {
			return err
		}
		return c.renderBackups(group, b, list)
	case "restore":
		if !b.yes {
			return fmt.Errorf("%s backup restore requires --yes in runtime mode", group)
		}
		if err := c.mayRunCells(); err != nil {
			return err
		}
		var path string
		if err := c.locked(group+" backup restore", func() (err error) {
			path, err = runtime.RestoreBackup(c.storageOptions(), k, b.name, b.archive, b.latest)
			return err
		}); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Restored %s %s from %s\n", k.Label(), b.name, path)
	case "delete":
		if !b.yes {
			return fmt.Errorf("%s backup delete requires --yes in runtime mode", group)
		}
		if err := c.mayRunCells(); err != nil {
			return err
		}
		var path string
		if err := c.locked(group+" backup delete", func() (err error) {
			path, err = runtime.DeleteBackup(c.paths, k, b.name, b.archive, b.latest)
			return err
		}); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Deleted %s backup %s\n", k.Label(), path)
	}
	return nil
}

// backupVerify runs `<cell|volume> backup verify <name> [--from archive|--latest]`.
func (c *cli) backupVerify(k runtime.BackupKind, args []string) error {
	group := k.Group()
	usage := fmt.Errorf("usage: %s backup verify <name> [--from archive|--latest]", group)
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usage
	}
	name, archive, latest := args[0], "", false
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--from":
			if i+1 >= len(args) || archive != "" {
				return usage
			}
			i++
			archive = args[i]
		case a == "--latest":
			latest = true
		case strings.HasPrefix(a, "-") || archive != "":
			return usage
		default:
			archive = a
		}
	}
	if latest && archive != "" {
		return fmt.Errorf("%s backup verify: --latest cannot be combined with explicit archive path", group)
	}
	path, st, err := runtime.VerifyBackup(c.storageOptions(), k, name, archive, latest)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Verified %s backup %s: %d entries, %d bytes\n", k.Label(), path, st.Entries, st.Bytes)
	return nil
}

// renderBackups prints a backup list: a table (%-24s %-14s %-12s %s), TSV
// (-T, header unless -H) or JSON (-J).
func (c *cli) renderBackups(group string, b backupArgs, list []runtime.Backup) error {
	w := bufio.NewWriter(c.stdout)
	switch {
	case b.json:
		w.WriteString(`{"__version":"1","backups":[`)
		for i, e := range list {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(`{"` + group + `":`)
			writeJSONString(w, e.Name)
			w.WriteString(`,"timestamp":`)
			writeJSONString(w, e.Timestamp)
			fmt.Fprintf(w, `,"size":%d,"archive":`, e.Size)
			writeJSONString(w, e.Archive)
			w.WriteByte('}')
		}
		w.WriteString("]}\n")
	case b.tsv:
		if !b.noHeader {
			fmt.Fprintf(w, "%s\ttimestamp\tsize\tarchive\n", group)
		}
		for _, e := range list {
			fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", e.Name, e.Timestamp, e.Size, e.Archive)
		}
	default:
		fmt.Fprintf(w, "%-24s %-14s %-12s %s\n", strings.ToUpper(group), "TIMESTAMP", "SIZE", "ARCHIVE")
		for _, e := range list {
			fmt.Fprintf(w, "%-24s %-14s %-12d %s\n", e.Name, e.Timestamp, e.Size, e.Archive)
		}
	}
	return w.Flush()
}

func cmdSystemBootstrap(c *cli, args []string) error {
	a, err := parseBootstrapArgs(args)
	if err != nil {
		return err
	}
	cfg, err := runtime.LoadConfig(c.paths.ConfFile)
	if err != nil {
		return err
	}
	res, err := runtime.Bootstrap(c.paths, runtime.BootstrapOptions{
		XBase:  a.xbase,
		Mirror: cfg.Get("NETBSD_MIRROR"), // the environment first, then cellman.conf
		Log: func(format string, args ...any) {
			fmt.Fprintf(c.stderr, "%s: info: %s\n", c.argv0, fmt.Sprintf(format, args...))
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, res.String())
	return nil
}

func cmdSystemReset(c *cli, args []string) error {
	a, err := parseResetArgs(args)
	if err != nil {
		return err
	}
	if !a.yes {
		return errors.New("system reset requires --yes in runtime mode")
	}
	if err := c.mayRunCells(); err != nil {
		return err
	}
	if err := c.locked("system reset", func() error {
		return runtime.Reset(c.storageOptions(), runtime.ResetRequest{Cells: a.cells, Volumes: a.volumes, Yes: a.yes})
	}); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "ok reset runtime")
	return nil
}
