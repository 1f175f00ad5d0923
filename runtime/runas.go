package runtime

import (
	"fmt"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"cells/kernel"
	"cells/modules/fs"
)

// maxIdentityFile caps the size of a cell's passwd or group file read by
// the host.
const maxIdentityFile = 4 << 20

// ResolveRunAs resolves a supervise.run_as value (reference §3.3) to the
// credentials of the supervised service; "" means root (nil). root is the
// mounted cell root, used by cell:user[:group], whose passwd and group
// files are read inside it (never through a link out of it). Forms:
//
//	uid:<uid>[:<gid>]        numeric; gid defaults to uid; no supplementary groups
//	host:<user>[:<group>]    the host's databases; groups as `id -G <user>` plus gid
//	cell:<user>[:<group>]    the cell's etc/passwd (or etc/master.passwd) and etc/group
func ResolveRunAs(runAs, root string) (*kernel.Cred, error) {
	if runAs == "" {
		return nil, nil
	}
	kind, rest, _ := strings.Cut(runAs, ":")
	switch kind {
	case "uid":
		return runAsUID(runAs, rest)
	case "host":
		return runAsHost(runAs, rest)
	case "cell":
		return runAsCell(rest, root)
	}
	return nil, fmt.Errorf("invalid run_as '%s' (expected host:user[:group], cell:user[:group], or uid:uid[:gid])", runAs)
}

// IsCellRunAs reports whether run_as names a user of the cell's own
// databases (the one form apply tolerates failing to resolve before the
// cell is configured).
func IsCellRunAs(runAs string) bool { return strings.HasPrefix(runAs, "cell:") }

func runAsUID(s, rest string) (*kernel.Cred, error) {
	bad := fmt.Errorf("invalid run_as '%s' (expected uid:uid[:gid])", s)
	parts := strings.Split(rest, ":")
	if len(parts) > 2 {
		return nil, bad
	}
	uid, ok := parseID(parts[0])
	if !ok {
		return nil, bad
	}
	gid := uid
	if len(parts) == 2 {
		if gid, ok = parseID(parts[1]); !ok {
			return nil, bad
		}
	}
	return &kernel.Cred{UID: uid, GID: gid}, nil
}

func runAsHost(s, rest string) (*kernel.Cred, error) {
	parts := strings.Split(rest, ":")
	if len(parts) > 2 {
		return nil, fmt.Errorf("invalid run_as '%s' (host user/group token)", s)
	}
	for _, p := range parts {
		if !identToken(p) {
			return nil, fmt.Errorf("invalid run_as '%s' (host user/group token)", s)
		}
	}
	name := parts[0]
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("unable to resolve host user '%s'", name)
	}
	uid, ok1 := parseID(u.Uid)
	gid, ok2 := parseID(u.Gid)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("unable to resolve host user '%s'", name)
	}
	if len(parts) == 2 {
		g := parts[1]
		if n, ok := parseID(g); ok {
			gid = n
		} else if grp, err := user.LookupGroup(g); err == nil {
			if gid, ok = parseID(grp.Gid); !ok {
				return nil, fmt.Errorf("unable to resolve host group '%s'", g)
			}
		} else {
			return nil, fmt.Errorf("unable to resolve host group '%s'", g)
		}
	}
	var groups []uint32
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if n, ok := parseID(s); ok {
				groups = appendUnique(groups, n)
			}
		}
	}
	groups = appendUnique(groups, gid)
	return &kernel.Cred{UID: uid, GID: gid, Groups: groups}, nil
}

func runAsCell(rest, root string) (*kernel.Cred, error) {
	name, group, hasGroup := strings.Cut(rest, ":")
	if !identToken(name) {
		return nil, fmt.Errorf("invalid cell user in run_as: %s", name)
	}
	if hasGroup && !identToken(group) {
		return nil, fmt.Errorf("invalid cell group in run_as: %s", group)
	}
	r, err := fs.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("unable to open cell passwd database %s: %v", filepath.Join(root, "etc/passwd"), err)
	}
	defer r.Close()
	pwFile := "etc/passwd"
	data, err := r.ReadFile(pwFile, maxIdentityFile)
	if err != nil {
		var err2 error
		if data, err2 = r.ReadFile("etc/master.passwd", maxIdentityFile); err2 == nil {
			pwFile = "etc/master.passwd"
		} else {
			return nil, fmt.Errorf("unable to open cell passwd database %s: %v", r.Join(pwFile), unwrapPath(err))
		}
	}
	uid, gid, ok := lookupPasswd(string(data), name)
	if !ok {
		return nil, fmt.Errorf("unable to resolve cell user '%s' in %s", name, r.Join(pwFile))
	}
	primary := gid
	grData, grErr := r.ReadFile("etc/group", maxIdentityFile)
	if hasGroup {
		g, ok := parseID(group)
		if !ok {
			if grErr == nil {
				g, ok = lookupGroupGID(string(grData), group)
			}
			if !ok {
				return nil, fmt.Errorf("unable to resolve cell group '%s' in %s", group, r.Join("etc/group"))
			}
		}
		gid = g
	}
	groups := []uint32{primary}
	if grErr == nil {
		for _, g := range groupsOfMember(string(grData), name) {
			groups = appendUnique(groups, g)
		}
	}
	groups = appendUnique(groups, gid)
	return &kernel.Cred{UID: uid, GID: gid, Groups: groups}, nil
}

// unwrapPath strips the path an *os.PathError repeats.
func unwrapPath(err error) error {
	type unwrapper interface{ Unwrap() error }
	if u, ok := err.(unwrapper); ok && u.Unwrap() != nil {
		return u.Unwrap()
	}
	return err
}

// lookupPasswd finds name in passwd(5) or master.passwd(5) text; uid and
// gid are the third and fourth fields in both.
func lookupPasswd(text, name string) (uid, gid uint32, ok bool) {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Split(line, ":")
		if len(f) < 4 || f[0] != name {
			continue
		}
		u, ok1 := parseID(f[2])
		g, ok2 := parseID(f[3])
		if ok1 && ok2 {
			return u, g, true
		}
	}
	return 0, 0, false
}

// lookupGroupGID finds the gid of group name in group(5) text.
func lookupGroupGID(text, name string) (uint32, bool) {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] == name {
			if g, ok := parseID(f[2]); ok {
				return g, true
			}
		}
	}
	return 0, false
}

// groupsOfMember returns the gids of the groups listing user as a member,
// in file order.
func groupsOfMember(text, user string) []uint32 {
	var out []uint32
	for _, line := range strings.Split(text, "\n") {
		f := strings.Split(line, ":")
		if len(f) < 4 {
			continue
		}
		g, ok := parseID(f[2])
		if !ok {
			continue
		}
		for _, m := range strings.Split(strings.TrimSpace(f[3]), ",") {
			if m == user {
				out = appendUnique(out, g)
				break
			}
		}
	}
	return out
}

// identToken reports whether s matches [A-Za-z0-9._-]+.
func identToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parseID parses a decimal uid or gid.
func parseID(s string) (uint32, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

func appendUnique(l []uint32, v uint32) []uint32 {
	for _, x := range l {
		if x == v {
			return l
		}
	}
	return append(l, v)
}

// GroupList joins gids with commas, as `cellctl supervise -g` takes them.
func GroupList(gids []uint32) string {
	s := make([]string, len(gids))
	for i, g := range gids {
		s[i] = strconv.FormatUint(uint64(g), 10)
	}
	return strings.Join(s, ",")
}
