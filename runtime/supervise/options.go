package supervise

import (
	"fmt"
	"strconv"
	"strings"

	"cells/kernel"
)

// Usage is what a usage error prints to stderr: the synopsis of `cellctl
// supervise` (cellctl.8). The cellctl CLI may set it to its full synopsis.
var Usage = "usage: cellctl supervise [-f facility] [-o stdout-level] [-e stderr-level] [-t tag] [-U uid -G gid [-g gid[,gid...]]] <cell-id|name> <command [args...]>"

// Syslog facilities by name, with their RFC 3164 codes (syslog.h LOG_* >> 3).
var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5,
	"lpr": 6, "news": 7, "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19,
	"local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// Syslog severities by name (syslog.h LOG_*).
var levels = map[string]int{
	"emerg": 0, "alert": 1, "crit": 2, "err": 3,
	"warning": 4, "notice": 5, "info": 6, "debug": 7,
}

// Severities of the monitor's own messages, as upstream.
const (
	sevErr     = 3
	sevWarning = 4
	sevNotice  = 5
	sevInfo    = 6
)

// Options are the parsed flags and operands of `cellctl supervise`.
type Options struct {
	Facility    int // syslog facility code (daemon = 3)
	StdoutLevel int // severity of stdout lines (notice = 5)
	StderrLevel int // severity of stderr lines (err = 3)
	Tag         string
	Cred        *kernel.Cred // nil: the command runs as root
	Target      string       // cell id or name, unresolved
	Argv        []string     // the supervised command
}

// usageError asks the caller to print the usage text (getopt failures).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parseArgs parses args like getopt(3) with the optstring "f:t:o:e:U:G:g:":
// options stop at the first non-option word or after "--", and every
// option takes an argument, attached ("-fdaemon") or as the next word.
// Values are validated as they are met, in command-line order, as upstream.
func parseArgs(args []string) (*Options, error) {
	o := &Options{Facility: facilities["daemon"], StdoutLevel: levels["notice"], StderrLevel: levels["err"], Tag: "cellctl"}
	var uid, gid *uint32
	var groups []uint32
	var haveGroups bool
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		opt := a[1]
		if !strings.ContainsRune("ftoeUGg", rune(opt)) {
			return nil, &usageError{fmt.Sprintf("unknown option -- %c", opt)}
		}
		val := a[2:]
		if val == "" {
			if i+1 >= len(args) {
				return nil, &usageError{fmt.Sprintf("option requires an argument -- %c", opt)}
			}
			i++
			val = args[i]
		}
		i++
		var err error
		switch opt {
		case 'f':
			o.Facility, err = parseFacility(val)
		case 'o':
			o.StdoutLevel, err = parseLevel(val)
		case 'e':
			o.StderrLevel, err = parseLevel(val)
		case 't':
			o.Tag, err = sanitizeTag(val)
		case 'U':
			var v uint32
			v, err = parseID(val, "uid")
			uid = &v
		case 'G':
			var v uint32
			v, err = parseID(val, "gid")
			gid = &v
		case 'g':
			groups, err = parseGroups(val)
			haveGroups = true
		}
		if err != nil {
			return nil, err
		}
	}
	if (uid == nil) != (gid == nil) {
		return nil, fmt.Errorf("-U and -G must be specified together")
	}
	if haveGroups && uid == nil {
		return nil, fmt.Errorf("-g requires -U and -G")
	}
	if uid != nil {
		o.Cred = &kernel.Cred{UID: *uid, GID: *gid, Groups: groups}
	}
	rest := args[i:]
	if len(rest) == 0 {
		return nil, &usageError{}
	}
	if len(rest) < 2 {
		return nil, fmt.Errorf("supervise requires command [args...]")
	}
	o.Target, o.Argv = rest[0], rest[1:]
	return o, nil
}

func parseFacility(s string) (int, error) {
	if f, ok := facilities[s]; ok {
		return f, nil
	}
	return 0, fmt.Errorf("invalid log facility: %s", s)
}

func parseLevel(s string) (int, error) {
	if l, ok := levels[s]; ok {
		return l, nil
	}
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n > 7 {
			return 0, fmt.Errorf("log level out of range: %s", s)
		}
		return int(n), nil
	}
	return 0, fmt.Errorf("invalid log level: %s", s)
}

// sanitizeTag replaces the bytes that would break an RFC 3164 header
// (controls, space, ':', '[', ']', non-ASCII) with '_'; the result must be
// 1..63 bytes.
func sanitizeTag(s string) (string, error) {
	if s == "" || len(s) > 63 {
		return "", fmt.Errorf("invalid log tag")
	}
	b := []byte(s)
	for i, c := range b {
		if c <= ' ' || c >= 0x7f || c == ':' || c == '[' || c == ']' {
			b[i] = '_'
		}
	}
	return string(b), nil
}

func parseID(s, what string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid %s: %s", what, s)
	}
	return uint32(n), nil
}

func parseGroups(s string) ([]uint32, error) {
	if s == "" {
		return nil, fmt.Errorf("invalid supplementary gid list: %s", s)
	}
	var gids []uint32
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("invalid supplementary gid list: %s", s)
		}
		gids = append(gids, uint32(n))
	}
	return gids, nil
}
