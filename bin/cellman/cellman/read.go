package cellman

import (
	"fmt"
	"strings"

	"cells/runtime"
)

// The read contract (reference §2.3): cell|volume list, show and fields.

// readArgs are the options of list, show and fields.
type readArgs struct {
	name     string // show only
	view     runtime.View
	fields   string // -o, "" means the view's defaults
	tsv      bool   // -T
	noHeader bool   // -H, requires -T
	json     bool   // -J, excludes -T and -H
}

// readSyntax describes one read command for option parsing.
type readSyntax struct {
	cat      *runtime.Catalog
	cmd      string // list|show|fields
	view     runtime.View
	withName bool
	withO    bool
}

func (s readSyntax) usage() error {
	views := "desired|runtime|merged"
	if s.cat == runtime.CellCatalog {
		views = "compact|desired|runtime|merged"
	}
	name, o := "", " [-o fields]"
	if s.withName {
		name = " <name>"
	}
	if !s.withO {
		o = ""
	}
	return fmt.Errorf("usage: %s %s%s [--view %s]%s [-T] [-H]", s.cat.Kind, s.cmd, name, views, o)
}

func (s readSyntax) parse(args []string) (readArgs, error) {
	r := readArgs{view: s.view}
	if s.withName {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return r, s.usage()
		}
		r.name, args = args[0], args[1:]
	}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-T":
			r.tsv = true
		case "-H":
			r.noHeader = true
		case "-J":
			r.json = true
		case "--view":
			if i+1 >= len(args) {
				return r, s.usage()
			}
			i++
			v, err := runtime.ParseView(args[i])
			if err != nil {
				return r, err
			}
			r.view = v
		case "-o":
			if !s.withO || i+1 >= len(args) {
				return r, s.usage()
			}
			i++
			r.fields = args[i]
		default:
			return r, s.usage()
		}
	}
	if r.noHeader && !r.tsv || r.json && (r.tsv || r.noHeader) {
		return r, s.usage()
	}
	return r, s.cat.CheckView(r.view)
}

var (
	cellList     = readSyntax{cat: runtime.CellCatalog, cmd: "list", view: runtime.ViewCompact, withO: true}
	cellShow     = readSyntax{cat: runtime.CellCatalog, cmd: "show", view: runtime.ViewMerged, withName: true, withO: true}
	cellFields   = readSyntax{cat: runtime.CellCatalog, cmd: "fields", view: runtime.ViewMerged}
	volumeList   = readSyntax{cat: runtime.VolumeCatalog, cmd: "list", view: runtime.ViewMerged, withO: true}
	volumeShow   = readSyntax{cat: runtime.VolumeCatalog, cmd: "show", view: runtime.ViewMerged, withName: true, withO: true}
	volumeFields = readSyntax{cat: runtime.VolumeCatalog, cmd: "fields", view: runtime.ViewMerged}
)

func cmdCellList(c *cli, args []string) error   { return c.readCells(cellList, args) }
func cmdCellShow(c *cli, args []string) error   { return c.readCells(cellShow, args) }
func cmdVolumeList(c *cli, args []string) error { return c.readVolumes(volumeList, args) }
func cmdVolumeShow(c *cli, args []string) error { return c.readVolumes(volumeShow, args) }

func cmdCellFields(c *cli, args []string) error   { return c.fields(cellFields, args) }
func cmdVolumeFields(c *cli, args []string) error { return c.fields(volumeFields, args) }

func (c *cli) readCells(s readSyntax, args []string) error {
	return c.read(s, args, "cell", func() ([]runtime.Row, error) {
		cells, err := runtime.ReadCells(c.paths)
		rows := make([]runtime.Row, len(cells))
		for i := range cells {
			rows[i] = &cells[i]
		}
		return rows, err
	})
}

func (c *cli) readVolumes(s readSyntax, args []string) error {
	return c.read(s, args, "volume", func() ([]runtime.Row, error) {
		vols, err := runtime.ReadVolumes(c.paths)
		rows := make([]runtime.Row, len(vols))
		for i := range vols {
			rows[i] = &vols[i]
		}
		return rows, err
	})
}

// read is list and show of one kind ("cell", "volume"): parse the options,
// check the fields against the view, load the rows (show keeps the named
// one) and render them.
func (c *cli) read(s readSyntax, args []string, kind string, load func() ([]runtime.Row, error)) error {
	r, err := s.parse(args)
	if err != nil {
		return err
	}
	fields, err := s.cat.Parse(r.fields, r.view)
	if err != nil {
		return err
	}
	all, err := load()
	if err != nil {
		return err
	}
	rows := all
	if s.withName {
		rows = nil
		for _, row := range all {
			if row.Value("name").Raw() == r.name {
				rows = append(rows, row)
			}
		}
		if len(rows) == 0 {
			return fmt.Errorf("unknown %s: %s", kind, r.name)
		}
	}
	return c.render(r, kind+"s", fields, rows)
}

func (c *cli) fields(s readSyntax, args []string) error {
	r, err := s.parse(args)
	if err != nil {
		return err
	}
	return c.renderFields(r, s.cat.Available(r.view))
}
