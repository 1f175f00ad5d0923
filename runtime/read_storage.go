package runtime

import (
	"sort"
	"strings"

	"cells/runtime/paths"
)

// StorageRow is one row of cellui's storage view (reference §10): a volume,
// or the writable overlay of a cell.
type StorageRow struct {
	Name           string
	Overlay        bool     // false: a volume
	Path           string   // the volume directory or <cell dir>/overlay
	State          string   // the volume's or the cell's state label
	RuntimePresent bool     // the directory exists (overlay: the cell has a root)
	Mounted        bool     // volume: mounted; overlay: the cell is running
	Refs           int      // volumes only: declared cells mounting it
	Mode           string   // volumes only: the declared mode
	UsedBy         []string // volume users, or the overlay's cell
}

// Type is "volume" or "overlay".
func (r *StorageRow) Type() string {
	if r.Overlay {
		return "overlay"
	}
	return "volume"
}

// ReadStorage returns the volume rows followed by one overlay row per cell
// row, each part sorted by name, as upstream's
// cellman_api_read_storage_merged.
func ReadStorage(p paths.Paths) ([]StorageRow, error) {
	vols, err := ReadVolumes(p)
	if err != nil {
		return nil, err
	}
	cells, err := ReadCells(p)
	if err != nil {
		return nil, err
	}
	return BuildStorageRows(vols, cells), nil
}

// BuildStorageRows merges volume and cell rows into storage rows.
func BuildStorageRows(vols []VolumeRow, cells []CellRow) []StorageRow {
	out := make([]StorageRow, 0, len(vols)+len(cells))
	for _, v := range vols {
		mode := ""
		if v.Spec != nil {
			mode = v.Spec.Mode
		}
		out = append(out, StorageRow{
			Name: v.Name, Path: v.Path, State: v.State, RuntimePresent: v.Present,
			Mounted: v.Mounted, Refs: len(v.UsedBy), Mode: mode, UsedBy: v.UsedBy,
		})
	}
	n := len(out)
	for _, c := range cells {
		path := c.Root
		if strings.HasSuffix(path, "/root") {
			path = strings.TrimSuffix(path, "/root") + "/overlay"
		}
		out = append(out, StorageRow{
			Name: c.Name, Overlay: true, Path: path, State: c.State,
			RuntimePresent: c.Root != "", Mounted: c.Running, UsedBy: []string{c.Name},
		})
	}
	sort.SliceStable(out[:n], func(i, j int) bool { return out[i].Name < out[j].Name })
	sort.SliceStable(out[n:], func(i, j int) bool { return out[n+i].Name < out[n+j].Name })
	return out
}
