// Package archive makes and checks the gzip tar archives of volume and
// overlay backups (reference §5.2, DESIGN difference 6).
//
// Create walks a directory without following symbolic links and writes a
// gzip tar of its contents ("./", "./a", ...) keeping modes, numeric owners,
// modification times, symbolic links, empty directories and hard links
// inside the tree. It skips, with a warning, what Extract would refuse:
// sockets, FIFOs, device nodes and symbolic links leaving the tree.
//
// Check validates an archive entry by entry without writing anything;
// Extract validates the same entries as it writes them into an empty
// staging directory with descriptor-relative, no-follow creates. Both
// refuse absolute names, "..", symbolic links whose target leaves the tree,
// hard links to anything but an earlier regular file of the archive,
// entries below a non-directory, device nodes (except overlayfs whiteouts
// when allowed), FIFOs, sockets, duplicate entries, a truncated or corrupt
// stream, and archives expanding past a size limit. Setuid and setgid bits
// are dropped.
package archive

import (
	"errors"
	"fmt"
)

// ErrRefused wraps every refusal of an archive's contents (as opposed to an
// I/O failure).
var ErrRefused = errors.New("refused")

// EntryOverhead is what each entry counts against the size limit besides
// its data, so an archive of millions of empty entries is bounded too.
const EntryOverhead = 512

// Stats counts an archive's entries and the bytes of its regular files.
type Stats struct {
	Entries int64
	Bytes   int64
}

// refusal is a refused entry or archive; errors.Is(err, ErrRefused).
type refusal struct{ msg string }

func (r *refusal) Error() string        { return r.msg }
func (r *refusal) Is(target error) bool { return target == ErrRefused }

// refuse returns a refusal for entry name.
func refuse(name, format string, args ...any) error {
	return &refusal{fmt.Sprintf("entry %q: %s", name, fmt.Sprintf(format, args...))}
}
